"""The kiosk supervisor: runs the player as a child process and keeps frames on the screen (docs/kiosk.md).

A thin coordinator over parts with one job each:

- child.py: the player process (its command and environment, down or hung?, SIGTERM/SIGKILL);
- policy.py: the failure policy (a lone failure at once, a crash loop with backoff, safe mode's retries);
- reload.py: hot reload and the last good version (file checks off this loop, trial, promotion);
- control.py: the link to the player (heartbeats in, commands out, answers to the waiting caller);
- opening.py, daily_restart.py: the wall clock (opening hours, the planned daily restart);
- status.py: what the kiosk reports (``/status``).

Each :meth:`Supervisor.step` reads what the player sent, applies the wall clock, acts on finished file
checks and replaces a player that went down. HTTP and OSC threads call :meth:`~Supervisor.control`,
:meth:`~Supervisor.screenshot` and :meth:`~Supervisor.status`; ``lock`` guards what those read.
The constructor starts nothing and checks nothing: the first check of the show is :meth:`~Supervisor.start`
(run by :meth:`~Supervisor.run`, or by the first step).
"""

from __future__ import annotations

import logging
import signal
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from installation.kiosk import systemd
from installation.kiosk.child import PlayerProcess, player_command, spawn
from installation.kiosk.config import KioskConfig
from installation.kiosk.control import ControlDispatch
from installation.kiosk.daily_restart import DailyRestart
from installation.kiosk.display import DisplayPower
from installation.kiosk.opening import OpeningHours, utc_now
from installation.kiosk.policy import FailurePolicy
from installation.kiosk.reload import ShowVersions
from installation.kiosk.status import PlayerReport, status_document

if TYPE_CHECKING:
    from installation.kiosk.schedule import Schedule

__all__ = ["KioskConfig", "Supervisor"]

log = logging.getLogger(__name__)


class Supervisor:
    def __init__(self, config: KioskConfig, clock: Callable[[], datetime] = utc_now,
                 display: DisplayPower | None = None) -> None:
        self.config = config
        self.lock = threading.Lock()
        self.started = time.monotonic()
        self.child: PlayerProcess | None = None
        self.restarts = 0
        self.next_launch = 0.0
        self.stop_requested = False
        self._checked_show = False
        self._tmp = tempfile.TemporaryDirectory(prefix="installation-kiosk-")
        # opening hours on the wall clock (``clock``, injectable: tests move through dates without sleeping);
        # the loop itself runs on time.monotonic
        self.hours = OpeningHours(config.schedule, clock, display if display is not None else
                                  DisplayPower(config.headless), config.control_timeout)
        self.daily = DailyRestart(config.daily_restart, self.hours)
        self.link = ControlDispatch(config.control_timeout)
        self.policy = FailurePolicy(config)
        self.versions = ShowVersions(config, config.state_dir or Path(self._tmp.name), lambda: self.hours.schedule)
        self.report = PlayerReport(self.started)
        self.watchdog = systemd.Watchdog()

    @property
    def planned_restarts(self) -> int:
        return self.daily.done

    def start(self) -> None:
        """The first check of the show file (validation.py: a child process with limits): a valid file is kept
        as the last good version; an invalid one is reported and its last good version plays. Slow, and done
        once, before the loop runs (waiting here stalls nothing yet)."""
        if self._checked_show:
            return
        self._checked_show = True
        errors = self.versions.check_at_start()
        if errors and self.versions.last_good.exists():
            for issue in errors[:5]:
                self.report.error(self.started, f"show file invalid, playing its last good version "
                                                f"(saved {self.versions.last_good.saved_at()}): {issue}")

    # ---- the loop ------------------------------------------------------------------------------------

    def step(self, now: float) -> None:
        self.start()  # once: the first step checks the show when run() has not
        self._receive(now)
        child = self.child
        self.hours.step(now, None if child is None else child.pid,
                        child is not None and child.last_beat is not None, self.send, self.policy.safe_mode)
        self._daily_restart(now)
        self._finished_checks(now)
        if not self.policy.safe_mode:
            self.versions.watch(now)
        child = self.child
        if child is None:
            if now >= self.next_launch:
                self._launch(now)
            return
        fault = child.fault(now, self.config)
        if fault is not None:
            self._failed(now, *fault)
            return
        if child.last_beat is None:  # still starting
            return
        self.versions.promote_if_proven(child, now)
        if now - child.started > self.config.stable_seconds:
            with self.lock:
                back = self.policy.stable(child.safe)
            if back:
                log.info("kiosk: the show is back; leaving safe mode")
                systemd.notify("STATUS=playing")
        if not self.versions.busy and self.policy.retry_due(now, child.safe):
            self.versions.check_for_retry()

    def run(self, poll: float = 0.05) -> int:
        def stop(signum: int, _frame: object) -> None:
            self.stop_requested = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            self.start()
            systemd.notify("READY=1\nSTATUS=starting the player")
            while not self.stop_requested:
                now = time.monotonic()
                self.step(now)
                self.watchdog.step(now)
                time.sleep(poll)
        finally:
            self.close()
        return 0

    def close(self) -> None:
        systemd.notify("STOPPING=1")
        if self.child is not None:
            self.child.stop(self.config.kill_grace)
            self.child = None
        self.link.close()
        self._tmp.cleanup()

    # ---- players -------------------------------------------------------------------------------------

    def _launch(self, now: float) -> None:
        safe = self.policy.holding
        show_args, version = self.versions.new_player(safe)
        child = spawn(player_command(self.config, show_args, safe), self.link.port, now, safe=safe,
                      pipe_output=self.config.pipe_output, version=version)
        with self.lock:
            self.child = child

    def _stop_player(self, child: PlayerProcess, hung: bool = False, failed: bool = False) -> None:
        """Stop ``child``; the next step starts another when ``next_launch`` comes."""
        child.stop(self.config.kill_grace, hung)
        with self.lock:
            self.child = None
            if failed:
                self.restarts += 1
            self.report.player_gone()

    def _failed(self, now: float, why: str, hung: bool) -> None:
        child = self.child
        assert child is not None
        self._stop_player(child, hung, failed=True)
        self.report.error(now, f"{'safe-mode ' if child.safe else ''}player pid {child.pid} {why}")
        rejected = self.versions.went_down(child)
        if rejected:
            self.report.error(now, rejected)
        with self.lock:
            delay = self.policy.failed(now, child.safe)
            why_safe = self.policy.enter_safe_mode(now) if delay is None else None
        if why_safe is not None:
            self.next_launch = now
            self.report.error(now, why_safe)
            systemd.notify("STATUS=safe mode (holding screen)")
            return
        assert delay is not None
        self.next_launch = now + delay
        if not child.safe:
            log.info("kiosk: restarting in %.2f s", delay)

    def _daily_restart(self, now: float) -> None:
        if not self.daily.due():
            return
        child = self.child
        if child is None or self.policy.safe_mode:  # safe mode has its own retries; a restart in progress is enough
            return
        log.info("kiosk: daily restart of player pid %d", child.pid)
        self._stop_player(child)
        with self.lock:
            self.daily.done += 1
        self.next_launch = now

    # ---- what the player sends -------------------------------------------------------------------------

    def _receive(self, now: float) -> None:
        for msg in self.link.receive():
            child = self.child
            if child is None or msg.get("pid") != child.pid:
                continue  # a late datagram from a player already replaced
            if "reply" in msg:
                self._answered(now, msg)
            elif "switched" in msg:  # it now draws the show of a reload (installation/player_link/control.py)
                self.versions.switched(child, msg["switched"], now)
            else:
                if child.last_beat is None:
                    self.versions.first_frame(child, now)
                with self.lock:
                    self.report.beat(msg, child.beat(int(msg.get("frames", 0)), now))
                if "errors" in msg:
                    self.report.player_errors(now, msg["errors"])

    def _answered(self, now: float, msg: dict[str, Any]) -> None:
        cmd = self.link.command_of(msg)
        self.hours.got_reply(now, msg, self.report.error)
        if cmd == "reload":
            error = self.versions.reload_answered(msg, time.time())
            if error:
                self.report.error(now, error)
        self.link.deliver(msg)  # last: whoever waits for it sees the reload counted

    # ---- file checks (finished on the worker) ------------------------------------------------------------

    def _finished_checks(self, now: float) -> None:
        done = self.versions.finished()
        if done is None:
            return
        kind, result = done
        if kind == "schedule":
            self._apply_schedule(now, *result)
            return
        errors, checked = result
        if kind == "retry":
            self._retry_show(now, errors)
        elif errors:
            for issue in errors[:5]:
                self.report.error(now, f"show edit rejected, the last good show plays on: {issue}")
        elif checked.data is not None:
            log.info("kiosk: %s changed and is valid; reloading", self.config.show)
            self._send_reload()

    def _apply_schedule(self, now: float, errors: list[str], schedule: Schedule | None) -> None:
        """A valid schedule edit (whose cues the show has) applies at once; an invalid one is rejected like a
        show edit, and the hours in force stay."""
        if errors:
            for issue in errors[:5]:
                self.report.error(now, f"schedule edit rejected, the hours in force stay: {issue}")
            return
        if schedule is None:  # changed while it was checked: the next watch looks again
            return
        self.hours.replace(schedule)
        log.info("kiosk: %s changed; opening hours now %s", self.config.schedule_path, schedule.describe())

    def _retry_show(self, now: float, errors: list[str]) -> None:
        """Safe mode's retry, once the show was checked (off this loop)."""
        if errors and not self.versions.last_good.exists():
            self.report.error(now, f"show still invalid, staying in safe mode: {errors[0]}")
            return
        if errors:
            self.report.error(now, f"show file still invalid ({errors[0]}); trying its last good version")
        log.info("kiosk: safe mode: trying the show again")
        if self.child is not None:
            self.child.stop(self.config.kill_grace)
        with self.lock:
            self.child = None
            self.policy.start_trial()
        self.next_launch = now

    # ---- commands (the opening hours, the file watcher, operators over HTTP and OSC) -------------------------

    def send(self, cmd: str, **fields: Any) -> int | None:
        """Send a command to the player (no waiting); its sequence number, or None without a player."""
        with self.lock:
            child = self.child
        if child is None or child.safe:
            return None
        return self.link.send(child.control_port, cmd, **fields)

    def _send_reload(self) -> int | None:
        """Tell the player to load the newest valid version; a candidate puts the player on trial with it."""
        fields, version = self.versions.reload_fields()
        with self.lock:
            child = self.child
            if child is not None and not child.safe:
                child.version, child.trial_since = version, None
        return self.send("reload", **fields)

    def control(self, cmd: str, **fields: Any) -> dict[str, Any] | None:
        """Send a command and wait for the player's answer (None: no player, or no answer in time). An
        operator's ``reload`` is checked first, in the caller's thread, and the player reads the good copy."""
        if cmd == "reload":
            checked = self.versions.operator_reload(self.config.control_timeout)
            if checked.busy:  # not a verdict on the file: nothing changes
                return {"ok": False, "error": checked.errors[0], "busy": True}
            if checked.errors:
                return {"ok": False, "error": "; ".join(checked.errors[:5])}
            seq = self._send_reload()
        else:
            seq = self.send(cmd, **fields)
        return None if seq is None else self.link.wait(seq)

    def screenshot(self) -> bytes | None:
        """PNG of the next frame the player draws (None: no player or no answer in time)."""
        path = Path(self._tmp.name) / f"shot-{self.link.next_seq()}-{time.monotonic_ns()}.png"
        reply = self.control("screenshot", path=str(path))
        try:
            return path.read_bytes() if reply is not None and reply.get("ok") else None
        except OSError:
            return None
        finally:
            path.unlink(missing_ok=True)

    def status(self) -> dict[str, Any]:
        with self.lock:
            return status_document(self, time.monotonic())
