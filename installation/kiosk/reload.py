"""Hot reload and the last good version: which version of the show a player plays, and when it changes.

Every ``watch_interval`` seconds the show file (and the schedule file) is compared (installation/kiosk/
filewatch.py); a changed file is checked **in a child process** with a time and memory limit
(installation/kiosk/validation.py), on a worker thread (:class:`~installation.kiosk.validation.Background`),
so no file can stall the supervisor's loop. A valid show is kept aside (installation/kiosk/last_good.py)
and players start from that copy, so a restart never reads a broken file. A new version is a *candidate*
on trial until a player has presented frames from it for ``promote_seconds`` (counted from the frame it
switched on, which the player reports), and one that brings its player down first is dropped.

:class:`ShowVersions` holds that state; the supervisor tells it what players do and asks it what to play.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from installation.kiosk.child import PlayerProcess
from installation.kiosk.config import KioskConfig
from installation.kiosk.filewatch import FileWatch
from installation.kiosk.last_good import LastGood
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
class Checked:
    """A show check's outcome: ``errors`` (none: valid), the bytes that were checked (None when the file
    changed meanwhile: the watcher sees that change next) and the show's cue ids."""

    errors: list[str]
    data: bytes | None = None
    cue_ids: list[str] | None = None
    busy: bool = False  # not checked: another check was running (an operator's reload answers 429)


class ShowVersions:
    """``schedule()``: the opening hours in force (None: always open), whose cues an edit must keep."""

    def __init__(self, config: KioskConfig, state_dir: Path, schedule: Callable[[], Schedule | None]) -> None:
        self.config, self.show, self._schedule = config, config.show, schedule
        self.last_good = LastGood(config.show, state_dir)
        self.show_valid = True  # the file on disk, as last checked
        self.cue_ids: list[str] | None = None  # of the last good show, to check a schedule edit against
        self._check_lock = threading.Lock()  # one check at a time (the watcher's worker, an operator's reload)
        self._keep_lock = threading.RLock()  # the last good copy and its candidate
        self._checks: Background[tuple[str, Any]] = Background()  # the watcher's checks, off the main loop
        self._next_watch = 0.0
        self.show_watch = FileWatch(config.show)
        self.schedule_watch = FileWatch(config.schedule_path) if config.schedule_path is not None else None
        self.reloads = 0
        self.last_reload: dict[str, Any] | None = None

    # ---- checking the file ---------------------------------------------------------------------------

    def check_at_start(self) -> list[str]:
        """The first check, before the supervisor's loop runs (waiting here stalls nothing yet): returns the
        file's errors (none: valid), each a reason to play the last good version."""
        return self.accept(self.verify())

    def verify(self, wait: float = -1) -> Checked:
        """Check the show file as ``installation validate`` does (plus the schedule's cues), in a child process
        with a time and memory limit; slow (up to that limit): never call it on the main loop once it runs.
        ``wait``: seconds to wait for a check already running (-1: as long as it takes)."""
        show = self.show
        if not self._check_lock.acquire(timeout=wait):
            return Checked([f"{show}:1: a check of the show is already running; try again in a moment"], busy=True)
        try:
            try:
                before = read_regular(show)  # a FIFO, a device or a huge file is refused before any parsing
            except NotAShowFile as exc:
                return Checked([f"{show}:1: {exc}"])
            verdict = check_show_isolated(show)
            errors = verdict.errors
            schedule = self._schedule()
            if not errors and schedule is not None and verdict.cue_ids is not None:
                # the schedule's outside/opening cues must survive an edit, or closing time shows the wrong cue
                errors = [str(e) for e in schedule.check_cues(verdict.cue_ids, f"the edited {show}")]
            if errors:
                return Checked(errors)
            try:
                after = read_regular(show)
            except NotAShowFile:
                after = None
            # unchanged while checked: these bytes are good (else the watcher checks the newer version next)
            return Checked([], before if after == before else None, verdict.cue_ids)
        except Exception as exc:  # noqa: BLE001 - a checker bug must not stop the kiosk
            log.exception("kiosk: checking %s failed", show)
            return Checked([f"{show}:1: internal error while checking: {exc!r}"])
        finally:
            self._check_lock.release()

    def accept(self, checked: Checked) -> list[str]:
        """Take a check's outcome (fast): a valid version becomes the candidate (or the last good copy when
        there is none yet). Returns the errors (none: valid)."""
        with self._keep_lock:
            self.show_valid = not checked.errors
            if not checked.errors and checked.data is not None:
                self.last_good.propose(checked.data)
                self.cue_ids = checked.cue_ids
        return checked.errors

    def verify_schedule(self) -> tuple[list[str], Schedule | None]:
        """Check the schedule file in a child process (like a show), then parse the very bytes it checked
        (on the worker thread, never the main loop)."""
        from installation.kiosk.schedule import check_schedule_text

        assert self.schedule_watch is not None
        path = self.schedule_watch.path
        try:
            before = read_regular(path)
            verdict = check_schedule_isolated(path, self.cue_ids, f"the show {self.show}")
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

    # ---- watching, off the main loop ------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """A check runs on the worker."""
        return self._checks.busy

    def watch(self, now: float) -> None:
        """Start a check of a changed schedule or show file on the worker (one at a time)."""
        if now < self._next_watch or self._checks.busy:
            return
        self._next_watch = now + self.config.watch_interval
        if self.schedule_watch is not None and self.schedule_watch.changed():
            self._checks.submit(lambda: ("schedule", self.verify_schedule()))
        elif self.show_watch.changed():
            self._checks.submit(lambda: ("show", self.verify()))

    def check_for_retry(self) -> None:
        """Safe mode's retry: check the show on the worker; :meth:`finished` then says ``retry``."""
        self._checks.submit(lambda: ("retry", self.verify()))

    def finished(self) -> tuple[str, Any] | None:
        """A check the worker finished: ``("schedule", (errors, schedule))``, or ``("show" | "retry", errors,
        checked)`` with a show check's outcome already accepted."""
        done = self._checks.poll()
        if done is None or done[0] == "schedule":
            return done
        kind, checked = done
        return kind, (self.accept(checked), checked)

    def operator_reload(self, timeout: float) -> Checked:
        """An operator's ``reload``: checked here, in the (HTTP or OSC) caller's thread, never the main loop;
        a check already running is waited for up to ``timeout``."""
        checked = self.verify(wait=timeout)
        if not checked.busy:
            self.accept(checked)
            self.show_watch.seen()  # the watcher need not reload it again
        return checked

    # ---- what players play ------------------------------------------------------------------------------

    def show_args(self) -> list[str]:
        """The show a new player plays: the last good copy (the newest valid version, or an older one while
        the file on disk is invalid), else the file itself."""
        kept = self.last_good
        with self._keep_lock:
            if kept.pending is not None:  # a newer valid version on trial
                if kept.candidate_ready():
                    return [str(kept.candidate), "--base-dir", str(kept.base_dir)]
                return [str(self.show)]  # its copy could not be written: the file, as without the net
            if kept.exists() and (kept.fresh or not self.show_valid):
                return [str(kept.path), "--base-dir", str(kept.base_dir)]
        return [str(self.show)]

    def new_player(self, safe: bool) -> tuple[list[str], str | None]:
        """For a new player: its show arguments and the candidate version it starts on trial with (if any)."""
        with self._keep_lock:
            return self.show_args(), None if safe else self.last_good.pending

    def reload_fields(self) -> tuple[dict[str, str], str | None]:
        """The ``reload`` command's fields (where the player reads the newest valid version: the fresh copy, or
        the file itself when it could not be kept) and the candidate version it puts on trial (if any)."""
        with self._keep_lock:
            args = self.show_args()
            base_dir = args[2] if len(args) > 2 else str(self.show.absolute().parent)
            fields = {"path": args[0], "base_dir": base_dir}
            version = self.last_good.pending
        if version is not None:
            fields["version"] = version  # the player says when it draws it (its trial starts then)
        return fields, version

    # ---- the reload's answer -------------------------------------------------------------------------------

    def reload_answered(self, msg: dict[str, Any], wall_time: float) -> str | None:
        """The player answered one of our reloads: counted for /status; returns the error to report when it
        refused."""
        self.last_reload = {"time": wall_time, "ok": bool(msg.get("ok")), "error": msg.get("error")}
        if msg.get("ok"):
            self.reloads += 1
            log.info("kiosk: the player loaded the new show; it switches at the next cue boundary")
            return None
        return f"reload refused by the player: {msg.get('error')}"

    # ---- the trial of a new version ---------------------------------------------------------------------

    def first_frame(self, player: PlayerProcess, now: float) -> None:
        """A player's first frame: one started on the candidate is on trial from now."""
        if player.version is not None and player.version == player.started_on:
            player.trial_since = now

    def switched(self, player: PlayerProcess, version: object, now: float) -> None:
        """The player now draws the show of a reload (``switched``): a candidate's trial starts now."""
        if player.version is not None and version == player.version and player.trial_since is None:
            player.trial_since = now

    def promote_if_proven(self, player: PlayerProcess, now: float) -> None:
        """A player that has presented the candidate for ``promote_seconds`` (and still does) proves it: it is
        the last good version now."""
        if player.version is None or player.trial_since is None or player.last_beat is None \
                or now - player.last_beat > 1.0 or now - player.trial_since < self.config.promote_seconds:
            return
        version, player.version = player.version, None
        with self._keep_lock:
            if self.last_good.promote(version):
                log.info("kiosk: the new version of %s played %.0f s: it is the last good version now",
                         self.show, now - player.trial_since)

    def went_down(self, player: PlayerProcess) -> str | None:
        """A player on trial with a new version went down before proving it: that version is not good. Returns
        the line to report (None: the player was not on trial)."""
        if player.version is None or player.safe:
            return None
        with self._keep_lock:
            if self.last_good.pending != player.version:
                return None
            self.last_good.reject()
            saved = self.last_good.saved_at()
        return (f"the new version of {self.show} went down with its player within {self.config.promote_seconds:g} "
                f"s: it does not become the last good version; players play the last good version (saved {saved}) "
                "until the file changes again")
