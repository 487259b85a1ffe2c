"""The kiosk supervisor: runs the player as a child process and keeps frames on the screen.

The child is ``python -m installation.cli run SHOW`` (``--headless`` where there is no display) with
``INSTALLATION_HEARTBEAT`` pointing at a UDP socket of ours on 127.0.0.1: it sends one datagram per
presented frame. The supervisor restarts the child when it exits, crashes, or presents no frame for
``stall_seconds`` (SIGTERM, then SIGKILL after ``kill_grace``): the first restart in a row at once, the
n-th after ``backoff_base * 2**(n-2)`` seconds (capped). ``max_failures`` failures within
``failure_window`` seconds put it in *safe mode*: a dark holding show (a single ``solid`` cue) plays
instead, and every ``safe_retry`` seconds the real show is validated and, if valid, tried again; a
failure during that trial goes straight back to safe mode.

Control: each child also gets ``INSTALLATION_CONTROL=127.0.0.1:PORT`` (a free loopback port chosen
here) and takes JSON commands there (see installation/kiosk/control.py); :meth:`Supervisor.control` and
:meth:`Supervisor.screenshot` send one and wait for the answer, which arrives on the heartbeat socket.
Hot reload: every ``watch_interval`` seconds the show file's mtime and size are compared, and on a
change its SHA-256; a changed file is checked with ``check_show`` **in a child process** with a time and
memory limit (installation/kiosk/validation.py), on a worker thread, so no show file can stall this loop
(heartbeats, ``/health``, the systemd watchdog): valid -> ``reload`` goes to the player (it switches at
the next cue boundary); invalid -> the player keeps the last good show and each error (``FILE:LINE:
...``) goes to the log and ``last_errors``. Every valid version is kept aside
(installation/kiosk/last_good.py) and players start from that copy, so a restart never reads a broken
file; a new version is a *candidate* until a player has presented frames from it for
``promote_seconds``, and one that brings its player down first is dropped (the last good one plays).
``daily_restart`` replaces the player once a day at a quiet hour, as a planned restart (not a failure).

Opening hours: each step hands the wall clock's verdict to :class:`installation.kiosk.opening.OpeningHours`
(``clock`` is injectable so tests move through dates without sleeping), which tells the player.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from installation.kiosk import logfile, systemd
from installation.kiosk.control import ENV as CONTROL_ENV
from installation.kiosk.display import DisplayPower
from installation.kiosk.filewatch import FileWatch
from installation.kiosk.heartbeat import ENV as HEARTBEAT_ENV
from installation.kiosk.heartbeat import PARENT_ENV
from installation.kiosk.last_good import LastGood
from installation.kiosk.opening import OpeningHours, utc_now
from installation.kiosk.validation import (
    Background,
    NotAShowFile,
    check_schedule_isolated,
    check_show_isolated,
    read_regular,
)

if TYPE_CHECKING:
    from installation.kiosk.schedule import Schedule

log = logging.getLogger(__name__)

@dataclass
class KioskConfig:
    show: Path
    size: tuple[int, int] | None = None
    headless: bool = False
    fps: float = 30.0
    stall_seconds: float = 10.0
    start_seconds: float = 30.0  # the first frame of a new child may take this long (imports, models)
    kill_grace: float = 2.0
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    max_failures: int = 3
    failure_window: float = 600.0
    safe_retry: float = 300.0
    stable_seconds: float = 60.0  # a child up this long resets the backoff and ends a safe-mode trial
    watch_interval: float = 1.0  # seconds between checks of the show file for hot reload
    control_timeout: float = 3.0  # how long a control request waits for the player's answer
    player_args: list[str] = field(default_factory=list)
    state_dir: Path | None = None  # where the last good copy of the show is kept (None: a temporary folder)
    pipe_output: bool = False  # copy the player's stdout/stderr into our log (--log) rather than share stderr
    daily_restart: dtime | None = None  # wall-clock time of a planned player restart each day (a quiet hour)
    schedule: Schedule | None = None  # opening hours; None: always open
    schedule_path: Path | None = None  # the schedule's file, watched for edits like the show
    promote_seconds: float = 10.0  # a new valid version becomes "last good" after a player presented it this long


@dataclass
class _Checked:
    """A show check's outcome: ``errors`` (none: valid), the bytes that were checked (None when the file
    changed meanwhile: the watcher sees that change next) and the show's cue ids."""

    errors: list[str]
    data: bytes | None = None
    cue_ids: list[str] | None = None
    busy: bool = False  # not checked: another check was running (an operator's reload answers 429)


@dataclass
class _Child:
    proc: subprocess.Popen
    safe: bool
    started: float
    last_beat: float | None = None
    frames: int = 0
    control_port: int = 0
    version: str | None = None  # the candidate version this player plays (or was told to), on trial
    started_on: str | None = None  # the candidate it was started from
    trial_since: float | None = None  # when it began presenting ``version``


class Supervisor:
    def __init__(self, config: KioskConfig, clock: Callable[[], datetime] = utc_now,
                 display: DisplayPower | None = None) -> None:
        self.config = config
        # opening hours on the wall clock (the loop itself runs on time.monotonic)
        self.hours = OpeningHours(config.schedule, clock, display if display is not None else
                                  DisplayPower(config.headless), config.control_timeout)
        self.lock = threading.Lock()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.started = time.monotonic()
        self.child: _Child | None = None
        self.safe_mode = False
        self.trial = False
        self.safe_since: float | None = None
        self.next_retry = 0.0
        self.next_launch = 0.0
        self.consecutive = 0
        self.failures: deque[float] = deque()
        self.restarts = 0
        self.frames_total = 0
        self.cue: str | None = None
        self.stats: dict[str, Any] = {}
        self.health: dict[str, Any] = {}  # the player's camera, media and fallback state (heartbeat "health")
        self.errors: deque[dict[str, Any]] = deque(maxlen=20)
        self.stop_requested = False
        self._tmp = tempfile.TemporaryDirectory(prefix="installation-kiosk-")
        self.last_good = LastGood(config.show, config.state_dir or Path(self._tmp.name))
        self._check_lock = threading.Lock()  # one check at a time (the watcher's worker, an operator's reload)
        self._keep_lock = threading.RLock()  # the last good copy and its candidate
        self._checks: Background[tuple[str, Any]] = Background()  # the watcher's checks, off this loop
        self.planned_restarts = 0
        self.next_daily = self._next_daily(self.hours.wall_utc()) if config.daily_restart else None
        self.show_valid = True
        self._last_watchdog = 0.0
        self.replies: dict[int, dict[str, Any]] = {}
        self.reply_cond = threading.Condition()
        self._seq = 0
        self.reloads = 0
        self.last_reload: dict[str, Any] | None = None
        self._reload_seqs: set[int] = set()
        self._next_watch = 0.0
        self.show_watch = FileWatch(config.show)
        self.schedule_watch = FileWatch(config.schedule_path) if config.schedule_path is not None else None
        self.cue_ids: list[str] | None = None  # of the last good show, to check a schedule edit against
        errors = self._accept(self._verify())  # before the loop runs: waiting here stalls nothing yet
        if errors and self.last_good.exists():
            for issue in errors[:5]:
                self._error(self.started, f"show file invalid, playing its last good version "
                                          f"(saved {self.last_good.saved_at()}): {issue}")

    # ---- children ------------------------------------------------------------------------------------

    def _command(self, safe: bool) -> list[str]:
        # safe mode: the holding screen, a minimal renderer of its own that shares no code with shows
        program = ["installation.kiosk.holding"] if safe else ["installation.cli", "run", *self._show_args()]
        cmd = [sys.executable, "-m", *program]
        if self.config.size:
            cmd += ["--size", f"{self.config.size[0]}x{self.config.size[1]}"]
        if self.config.headless:
            cmd += ["--headless", "--fps", repr(self.config.fps)]
        return cmd + self.config.player_args

    def _show_args(self) -> list[str]:
        """The show a new player plays: the last good copy (the newest valid version, or an older one while
        the file on disk is invalid), else the file itself."""
        kept = self.last_good
        with self._keep_lock:
            if kept.pending is not None:  # a newer valid version on trial
                if kept.candidate_ready():
                    return [str(kept.candidate), "--base-dir", str(kept.base_dir)]
                return [str(self.config.show)]  # its copy could not be written: the file, as without the net
            if kept.exists() and (kept.fresh or not self.show_valid):
                return [str(kept.path), "--base-dir", str(kept.base_dir)]
        return [str(self.config.show)]

    def _verify(self, wait: float = -1) -> _Checked:
        """Check the show file as ``installation validate`` does (plus the schedule's cues), in a child process
        with a time and memory limit; slow (up to that limit): never call it on the main loop once it runs.
        ``wait``: seconds to wait for a check already running (-1: as long as it takes)."""
        show = self.config.show
        if not self._check_lock.acquire(timeout=wait):
            return _Checked([f"{show}:1: a check of the show is already running; try again in a moment"], busy=True)
        try:
            try:
                before = read_regular(show)  # a FIFO, a device or a huge file is refused before any parsing
            except NotAShowFile as exc:
                return _Checked([f"{show}:1: {exc}"])
            verdict = check_show_isolated(show)
            errors = verdict.errors
            if not errors and self.hours.schedule is not None and verdict.cue_ids is not None:
                # the schedule's outside/opening cues must survive an edit, or closing time shows the wrong cue
                errors = [str(e) for e in self.hours.schedule.check_cues(verdict.cue_ids, f"the edited {show}")]
            if errors:
                return _Checked(errors)
            try:
                after = read_regular(show)
            except NotAShowFile:
                after = None
            # unchanged while checked: these bytes are good (else the watcher checks the newer version next)
            return _Checked([], before if after == before else None, verdict.cue_ids)
        except Exception as exc:  # noqa: BLE001 - a checker bug must not stop the kiosk
            log.exception("kiosk: checking %s failed", show)
            return _Checked([f"{show}:1: internal error while checking: {exc!r}"])
        finally:
            self._check_lock.release()

    def _accept(self, checked: _Checked) -> list[str]:
        """Take a check's outcome (fast): a valid version becomes the candidate (or the last good copy when
        there is none yet). Returns the errors (none: valid)."""
        with self._keep_lock:
            self.show_valid = not checked.errors
            if not checked.errors and checked.data is not None:
                self.last_good.propose(checked.data)
                self.cue_ids = checked.cue_ids
        return checked.errors

    def _launch(self, now: float) -> None:
        safe = self.safe_mode and not self.trial
        env = dict(os.environ)
        env[HEARTBEAT_ENV] = f"127.0.0.1:{self.sock.getsockname()[1]}"
        env[PARENT_ENV] = str(os.getpid())
        port = free_udp_port()
        env[CONTROL_ENV] = f"127.0.0.1:{port}"
        output = subprocess.PIPE if self.config.pipe_output else None
        with self._keep_lock:
            command = self._command(safe)
            version = None if safe else self.last_good.pending  # a candidate on trial from this player's start
        proc = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=output,
                                stderr=subprocess.STDOUT if output else None)
        if output:
            logfile.pump(proc.stdout, proc.pid)
        with self.lock:
            self.child = _Child(proc, safe, now, control_port=port, version=version, started_on=version)
        log.info("kiosk: started %s player pid %d", "safe-mode" if safe else "show", proc.pid)

    def _kill(self, child: _Child, hung: bool = False) -> int | None:
        """SIGTERM, then SIGKILL after ``kill_grace``; a hung player (no frames) gets SIGKILL at once: it could
        not act on SIGTERM anyway (a stopped process does not even receive it), and every second is black."""
        proc = child.proc
        if proc.poll() is None and hung:
            proc.kill()
            proc.wait()
        elif proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(self.config.kill_grace)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        return proc.returncode

    def _error(self, now: float, message: str, **extra: Any) -> None:
        log.warning("kiosk: %s", message)
        with self.lock:
            self.errors.append({"time": time.time(), "uptime": round(now - self.started, 3), "message": message,
                                **extra})

    def _player_errors(self, now: float, errors: Any) -> None:
        """Fault reports the player sent (installation/faults.py): it logged them itself, so only listed."""
        if not isinstance(errors, list):
            return
        with self.lock:
            for e in errors[:16]:
                if isinstance(e, dict) and isinstance(e.get("message"), str):
                    self.errors.append({"time": e.get("time", time.time()), "uptime": round(now - self.started, 3),
                                        "message": e["message"][:240], "source": "player",
                                        "kind": str(e.get("kind", "")), "level": str(e.get("level", "error"))})

    def _failed(self, now: float, why: str, hung: bool = False) -> None:
        child = self.child
        assert child is not None
        self._kill(child, hung)
        with self.lock:
            self.child = None
            self.restarts += 1
            self.stats = {}
            self.health = {}
        self._error(now, f"{'safe-mode ' if child.safe else ''}player pid {child.proc.pid} {why}")
        self._reject_trial(now, child)
        if child.safe:  # the holding screen itself failed: just bring it back
            self.next_launch = now + self.config.backoff_base
            return
        self.failures.append(now)
        while self.failures and now - self.failures[0] > self.config.failure_window:
            self.failures.popleft()
        if self.trial or len(self.failures) >= self.config.max_failures:
            self._enter_safe(now)
            return
        self.consecutive += 1
        # a lone crash is restarted at once (every second of it is black on the wall); a crash loop backs off
        delay = 0.0 if self.consecutive == 1 else \
            min(self.config.backoff_max, self.config.backoff_base * 2 ** (self.consecutive - 2))
        self.next_launch = now + delay
        log.info("kiosk: restarting in %.2f s", delay)

    def _reject_trial(self, now: float, child: _Child) -> None:
        """A player on trial with a new version went down before proving it: that version is not good."""
        if child.version is None or child.safe:
            return
        with self._keep_lock:
            if self.last_good.pending != child.version:
                return
            self.last_good.reject()
            saved = self.last_good.saved_at()
        self._error(now, f"the new version of {self.config.show} went down with its player within "
                         f"{self.config.promote_seconds:g} s: it does not become the last good version; players "
                         f"play the last good version (saved {saved}) until the file changes again")

    def _promote(self, now: float, child: _Child) -> None:
        """A player presented the candidate for ``promote_seconds``: it is the last good version now."""
        version, child.version = child.version, None
        with self._keep_lock:
            if version is not None and self.last_good.promote(version):
                log.info("kiosk: the new version of %s played %.0f s: it is the last good version now",
                         self.config.show, now - (child.trial_since or now))

    def _enter_safe(self, now: float) -> None:
        with self.lock:
            self.safe_mode, self.trial = True, False
            self.safe_since = now
        self.next_retry = now + self.config.safe_retry
        self.next_launch = now
        self._error(now, f"safe mode: {len(self.failures)} failures in {self.config.failure_window:g} s; "
                         f"retrying the show every {self.config.safe_retry:g} s")
        systemd.notify("STATUS=safe mode (holding screen)")

    def _retry_show(self, now: float, errors: list[str]) -> None:
        """Safe mode's retry, once the show was checked (off this loop)."""
        if errors and not self.last_good.exists():
            self._error(now, f"show still invalid, staying in safe mode: {errors[0]}")
            return
        if errors:
            self._error(now, f"show file still invalid ({errors[0]}); trying its last good version")
        log.info("kiosk: safe mode: trying the show again")
        if self.child is not None:
            self._kill(self.child)
        with self.lock:
            self.child, self.trial = None, True
        self.next_launch = now

    # ---- heartbeats ----------------------------------------------------------------------------------

    def _drain(self, now: float) -> None:
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:  # BlockingIOError: nothing waiting; anything else: the socket is gone
                return
            try:
                msg = json.loads(data)
            except ValueError:
                continue
            child = self.child
            if child is None or msg.get("pid") != child.proc.pid:
                continue  # a late datagram from a child already replaced
            if "reply" in msg:
                self._got_reply(now, msg)
                continue
            if "switched" in msg:  # the player now draws the show of a reload (installation/kiosk/control.py)
                if child.version is not None and msg["switched"] == child.version and child.trial_since is None:
                    child.trial_since = now
                continue
            frames = int(msg.get("frames", 0))
            if child.last_beat is None and child.version is not None and child.version == child.started_on:
                child.trial_since = now  # started on the candidate: on trial from its first frame
            with self.lock:
                self.frames_total += max(0, frames - child.frames)
                child.frames, child.last_beat = frames, now
                self.cue = msg.get("cue")
                self.stats = {k: msg[k] for k in ("fps", "p50_ms", "p99_ms", "dropped", "dropped_total") if k in msg}
                if isinstance(msg.get("health"), dict):
                    self.health = msg["health"]
            if "errors" in msg:
                self._player_errors(now, msg["errors"])

    # ---- control --------------------------------------------------------------------------------------

    def _got_reply(self, now: float, msg: dict[str, Any]) -> None:
        seq = msg.get("seq")
        self.hours.got_reply(now, msg, self._error)
        if seq in self._reload_seqs:
            self._reload_seqs.discard(seq)
            with self.lock:
                self.last_reload = {"time": time.time(), "ok": bool(msg.get("ok")), "error": msg.get("error")}
                if msg.get("ok"):
                    self.reloads += 1
            if not msg.get("ok"):
                self._error(now, f"reload refused by the player: {msg.get('error')}")
            else:
                log.info("kiosk: the player loaded the new show; it switches at the next cue boundary")
        with self.reply_cond:
            self.replies[seq] = msg
            while len(self.replies) > 64:
                self.replies.pop(next(iter(self.replies)))
            self.reply_cond.notify_all()

    def send(self, cmd: str, **fields: Any) -> int | None:
        """Send a command to the player (no waiting); its sequence number, or None without a player."""
        with self.lock:
            child = self.child
            if child is None or child.safe:
                return None
            self._seq += 1
            seq = self._seq
            if cmd == "reload":
                self._reload_seqs.add(seq)
        data = json.dumps({"cmd": cmd, "seq": seq, **fields}).encode()
        try:
            self.sock.sendto(data, ("127.0.0.1", child.control_port))
        except OSError:
            return None
        return seq

    def _wait_reply(self, seq: int) -> dict[str, Any] | None:
        end = time.monotonic() + self.config.control_timeout
        with self.reply_cond:
            while seq not in self.replies:
                left = end - time.monotonic()
                if left <= 0:
                    return None
                self.reply_cond.wait(left)
            return self.replies.pop(seq)

    def control(self, cmd: str, **fields: Any) -> dict[str, Any] | None:
        """Send a command and wait for the player's answer (None: no player, or no answer in time)."""
        if cmd == "reload":  # an operator's reload: check the file here, and the player reads the good copy
            # in this (HTTP or OSC) thread, never the main loop; a check already running is waited for a while
            checked = self._verify(wait=self.config.control_timeout)
            if checked.busy:  # not a verdict on the file: nothing changes
                return {"ok": False, "error": checked.errors[0], "busy": True}
            errors = self._accept(checked)
            with self.lock:
                self.show_watch.seen()  # the watcher need not reload it again
            if errors:
                return {"ok": False, "error": "; ".join(errors[:5])}
            seq = self._send_reload()
        else:
            seq = self.send(cmd, **fields)
        return None if seq is None else self._wait_reply(seq)

    def screenshot(self) -> bytes | None:
        """PNG of the next frame the player draws (None: no player or no answer in time)."""
        with self.lock:
            path = Path(self._tmp.name) / f"shot-{self._seq + 1}-{time.monotonic_ns()}.png"
        reply = self.control("screenshot", path=str(path))
        try:
            return path.read_bytes() if reply is not None and reply.get("ok") else None
        except OSError:
            return None
        finally:
            path.unlink(missing_ok=True)

    # ---- hot reload ---------------------------------------------------------------------------------

    def _send_reload(self) -> int | None:
        """Tell the player to load the newest valid version; a candidate puts the player on trial with it."""
        with self._keep_lock:
            fields: dict[str, Any] = self._reload_fields()
            version = self.last_good.pending
        if version is not None:
            fields["version"] = version  # the player says when it draws it (its trial starts then)
        with self.lock:
            child = self.child
            if child is not None and not child.safe:
                child.version, child.trial_since = version, None
        return self.send("reload", **fields)

    def _watch(self, now: float) -> None:
        """Start a check of a changed schedule or show file on the worker (one at a time)."""
        if now < self._next_watch or self._checks.busy:
            return
        self._next_watch = now + self.config.watch_interval
        if self.schedule_watch is not None and self.schedule_watch.changed():
            self._checks.submit(lambda: ("schedule", self._verify_schedule()))
        elif self.show_watch.changed():
            self._checks.submit(lambda: ("show", self._verify()))

    def _checked(self, now: float) -> None:
        """Act on a finished check (the worker's result; this is the main loop)."""
        done = self._checks.poll()
        if done is None:
            return
        kind, result = done
        if kind == "schedule":
            self._apply_schedule(now, *result)
            return
        errors = self._accept(result)
        if kind == "retry":
            self._retry_show(now, errors)
        elif errors:
            for issue in errors[:5]:
                self._error(now, f"show edit rejected, the last good show plays on: {issue}")
        elif result.data is not None:
            log.info("kiosk: %s changed and is valid; reloading", self.config.show)
            self._send_reload()

    def _verify_schedule(self) -> tuple[list[str], Schedule | None]:
        """Check the schedule file in a child process (like a show), then parse the very bytes it checked
        (on the worker thread, never the main loop)."""
        from installation.kiosk.schedule import check_schedule_text

        path = self.schedule_watch.path
        try:
            before = read_regular(path)
            verdict = check_schedule_isolated(path, self.cue_ids, f"the show {self.config.show}")
            if verdict.errors:
                return verdict.errors, None
            if read_regular(path) != before:
                return [], None  # changed while checked: the watcher checks the newer version next
            report = check_schedule_text(before.decode("utf-8-sig"), str(path))
            return [str(e) for e in report.errors], report.schedule
        except NotAShowFile as exc:
            return [f"{path}:1: {exc}"], None
        except Exception as exc:  # noqa: BLE001 - a checker bug must not stop the kiosk
            log.exception("kiosk: checking %s failed", path)
            return [f"{path}:1: internal error while checking: {exc!r}"], None

    def _apply_schedule(self, now: float, errors: list[str], schedule: Schedule | None) -> None:
        """A valid schedule edit (whose cues the show has) applies at once; an invalid one is rejected like a
        show edit, and the hours in force stay."""
        path = self.schedule_watch.path if self.schedule_watch is not None else None
        if errors:
            for issue in errors[:5]:
                self._error(now, f"schedule edit rejected, the hours in force stay: {issue}")
            return
        if schedule is None:  # changed while it was checked: the next watch looks again
            return
        self.hours.replace(schedule)
        log.info("kiosk: %s changed; opening hours now %s", path, schedule.describe())

    def _reload_fields(self) -> dict[str, str]:
        """Where the player reads the new version: the fresh copy, or the file itself when it could not be kept."""
        args = self._show_args()
        return {"path": args[0], "base_dir": args[2] if len(args) > 2 else str(self.config.show.absolute().parent)}

    # ---- the daily restart --------------------------------------------------------------------------

    def _next_daily(self, wall: datetime) -> datetime | None:
        at = self.config.daily_restart
        if at is None:
            return None
        tz = self.hours.schedule.tz if self.hours.schedule is not None else wall.astimezone().tzinfo
        local = wall.astimezone(tz)
        when = datetime.combine(local.date(), at, tzinfo=tz)
        if when <= local:
            when = datetime.combine(local.date() + timedelta(days=1), at, tzinfo=tz)
        return when.astimezone(UTC)

    def _daily(self, now: float) -> None:
        """A planned restart of the player at a quiet hour: a fresh process each day (no leak, no fragmented
        GPU memory can build up over weeks). Not a failure: no backoff, not counted towards safe mode."""
        if self.next_daily is None or self.hours.wall_utc() < self.next_daily:
            return
        self.next_daily = self._next_daily(self.hours.wall_utc())
        child = self.child
        if child is None or self.safe_mode:  # safe mode has its own retries; a restart in progress is enough
            return
        log.info("kiosk: daily restart of player pid %d", child.proc.pid)
        self._kill(child)
        with self.lock:
            self.child = None
            self.planned_restarts += 1
            self.stats, self.health = {}, {}
        self.next_launch = now

    # ---- the loop ------------------------------------------------------------------------------------

    def step(self, now: float) -> None:
        self._drain(now)
        child = self.child
        self.hours.step(now, None if child is None else child.proc.pid,
                        child is not None and child.last_beat is not None, self.send, self.safe_mode)
        self._daily(now)
        self._checked(now)
        if not self.safe_mode:
            self._watch(now)
        child = self.child
        if child is None:
            if now >= self.next_launch:
                self._launch(now)
            return
        code = child.proc.poll()
        if code is not None:
            self._failed(now, f"exited with code {code}" if code >= 0 else f"killed by signal {-code}")
            return
        if child.last_beat is None:
            if now - child.started > self.config.start_seconds:
                self._failed(now, f"presented no frame within {self.config.start_seconds:g} s of starting", hung=True)
            return
        if now - child.last_beat > self.config.stall_seconds:
            self._failed(now, f"presented no frame for {now - child.last_beat:.1f} s (hung); killed", hung=True)
            return
        if child.version is not None and child.trial_since is not None and now - child.last_beat <= 1.0 \
                and now - child.trial_since >= self.config.promote_seconds:
            self._promote(now, child)
        if now - child.started > self.config.stable_seconds:
            self.consecutive = 0
            if self.trial and not child.safe:
                log.info("kiosk: the show is back; leaving safe mode")
                with self.lock:
                    self.safe_mode, self.trial, self.safe_since = False, False, None
                systemd.notify("STATUS=playing")
        if self.safe_mode and not self.trial and child.safe and now >= self.next_retry and not self._checks.busy:
            self.next_retry = now + self.config.safe_retry
            self._checks.submit(lambda: ("retry", self._verify()))

    def _watchdog(self, now: float) -> None:
        interval = systemd.watchdog_interval()
        if interval is not None and now - self._last_watchdog >= interval:
            systemd.notify("WATCHDOG=1")
            self._last_watchdog = now

    def run(self, poll: float = 0.05) -> int:
        def stop(signum: int, _frame: object) -> None:
            self.stop_requested = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        systemd.notify("READY=1\nSTATUS=starting the player")
        try:
            while not self.stop_requested:
                now = time.monotonic()
                self.step(now)
                self._watchdog(now)
                time.sleep(poll)
        finally:
            self.close()
        return 0

    def close(self) -> None:
        systemd.notify("STOPPING=1")
        if self.child is not None:
            self._kill(self.child)
            self.child = None
        self.sock.close()
        self._tmp.cleanup()

    # ---- what the HTTP endpoint reports --------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        now = time.monotonic()
        with self.lock:
            child = self.child
            beat_age = None if child is None or child.last_beat is None else now - child.last_beat
            presenting = beat_age is not None and beat_age <= min(self.config.stall_seconds, 1.0)
            healthy = presenting and not child.safe
            if child is None:
                state = "restarting"
            elif beat_age is None:
                state = "starting"
            elif not presenting:
                state = "stalled"
            else:
                state = "safe mode" if child.safe else "playing"
            stats = dict(self.stats)
            health = {} if child is None or child.safe else dict(self.health)
            return {
                "show": str(self.config.show),
                "cue": None if child is None or child.safe else self.cue,
                "state": state,
                "healthy": healthy,
                "presenting": presenting,
                "uptime_seconds": round(now - self.started, 3),
                "restarts": self.restarts,
                "player_pid": None if child is None else child.proc.pid,
                "player_uptime_seconds": None if child is None else round(now - child.started, 3),
                "last_frame_age_seconds": None if beat_age is None else round(beat_age, 3),
                "frames_total": self.frames_total,
                "player_frames": 0 if child is None else child.frames,
                "fps": stats.get("fps", 0.0),
                "frame_time_p50_ms": stats.get("p50_ms", 0.0),
                "frame_time_p99_ms": stats.get("p99_ms", 0.0),
                "dropped_frames": stats.get("dropped", 0),
                "dropped_frames_total": stats.get("dropped_total", 0),
                "rss_bytes": None if child is None else rss_bytes(child.proc.pid),
                "safe_mode": self.safe_mode,
                "safe_mode_since_seconds": None if self.safe_since is None else round(now - self.safe_since, 3),
                "recent_failures": len(self.failures),
                "last_errors": list(self.errors)[-10:],
                "reloads": self.reloads,
                "last_reload": self.last_reload,
                # runtime faults the player lives with (docs/kiosk.md, "Faults the show survives")
                "camera": health.get("camera") or {"state": "none"},
                "media": health.get("media") or {"failing": 0, "failing_files": [], "skipped_total": 0,
                                                 "failed_total": 0, "recovered_total": 0},
                "fallbacks": health.get("fallbacks") or {},
                "player_faults": health.get("faults") or {},
                "daily_restart": None if self.config.daily_restart is None else {
                    "at": self.config.daily_restart.strftime("%H:%M"), "done": self.planned_restarts,
                    "next": None if self.next_daily is None else self.next_daily.isoformat()},
                "last_good": {"saved": self.last_good.saved_at(), "trial": self.last_good.pending,
                              "trial_seconds": self.config.promote_seconds},
                "open": self.hours.open is not False,
                "schedule": self.hours.status(),
            }


def free_udp_port() -> int:
    """A UDP port on 127.0.0.1 that is free now (the child binds it moments later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rss_bytes(pid: int) -> int | None:
    """Resident memory of ``pid`` from /proc (None where there is no /proc)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None
