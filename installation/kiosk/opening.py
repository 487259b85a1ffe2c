"""Opening hours applied to the running player: the kiosk supervisor's schedule half.

Each supervisor step asks the schedule (installation/kiosk/schedule.py) about the wall clock (``clock``,
injectable so tests move through dates without sleeping). On each change the player is told
``blackout``/``unblackout`` (or ``cue ID`` and the opening cue with ``outside: {cue: ID}``), the display
is allowed to sleep or kept awake, and systemd's status line says so. A player that starts while the
kiosk is closed is told after its first frame (a new player starts open: the show's first cue, no
blackout). A command the player does not answer within ``timeout`` is sent again; one it refuses (the
outside cue is gone) is reported, not retried forever.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from installation.kiosk import systemd
from installation.kiosk.display import DisplayPower
from installation.kiosk.schedule import Schedule

log = logging.getLogger(__name__)

Send = Callable[..., "int | None"]  # the supervisor's send(cmd, **fields) -> sequence number or None
Report = Callable[[float, str], None]  # the supervisor's _error(now, message)


def utc_now() -> datetime:
    return datetime.now(UTC)


class OpeningHours:
    def __init__(self, schedule: Schedule | None, clock: Callable[[], datetime], display: DisplayPower,
                 timeout: float) -> None:
        self.schedule, self.clock, self.display, self.timeout = schedule, clock, display, timeout
        self.open: bool | None = None  # the state as last applied; None before the first step
        self.next_change: datetime | None = None
        self._last_wall: datetime | None = None
        self._pending: tuple[int, int, float, str, dict[str, Any]] | None = None  # pid, seq, sent, cmd, fields
        self._told: int | None = None  # pid of the player that has been given the state

    def replace(self, schedule: Schedule) -> None:
        """An edited schedule: the next step applies it (telling the player if open/closed changes)."""
        self.schedule = schedule
        self.next_change = schedule.next_change(self.wall_utc())

    def wall_utc(self) -> datetime:
        """The wall clock in UTC; a naive clock reads as the schedule's local time, else the machine's."""
        wall = self.clock()
        if self.schedule is not None:
            return self.schedule.utc(wall)
        return wall.astimezone(UTC)  # naive: astimezone takes it as the machine's local time

    def _command(self, is_open: bool) -> tuple[str, dict[str, Any]]:
        outside = self.schedule.outside if self.schedule is not None else None
        if outside is None or outside.cue is None:
            return ("unblackout", {}) if is_open else ("blackout", {})
        if not is_open:
            return "cue", {"id": outside.cue}
        # opening: the cue chosen for it (default: the one after the outside cue), else simply the next cue
        return ("cue", {"id": outside.open_cue}) if outside.open_cue else ("next", {})

    def _tell(self, now: float, pid: int, send: Send, is_open: bool) -> None:
        cmd, fields = self._command(is_open)
        seq = send(cmd, **fields)
        self._pending = None if seq is None else (pid, seq, now, cmd, fields)

    def step(self, now: float, player: int | None, presenting: bool, send: Send, safe_mode: bool) -> None:
        """``player``: the current player's pid (None: none running); ``presenting``: it has shown a frame."""
        sched = self.schedule
        wall = self.wall_utc()
        is_open = True if sched is None else sched.is_open(wall)
        if is_open != self.open:
            first = self.open is None
            self.open = is_open
            self.next_change = None if sched is None else sched.next_change(wall)
            if sched is not None:
                when = self.next_change.astimezone(sched.tz).isoformat(timespec="minutes") if self.next_change \
                    else "never"
                log.info("kiosk: %s (next change: %s)", "open" if is_open else "closed: outside opening hours", when)
                if not safe_mode:  # safe mode keeps its own status line
                    systemd.notify("STATUS=playing" if is_open else f"STATUS=closed until {when}")
            if is_open:
                self.display.awake()
            else:
                self.display.asleep()
            # a player that already has its state is told the change; a new one gets it after its first frame
            if not first and player is not None and self._told == player:
                self._tell(now, player, send, is_open)
        elif sched is not None and self._last_wall is not None and \
                (wall < self._last_wall or (self.next_change is not None and wall >= self.next_change)):
            # the clock was set back, or a boundary passed without a change (touching windows)
            self.next_change = sched.next_change(wall)
        self._last_wall = wall
        if player is not None and presenting and self._told != player:
            self._told = player
            if not is_open:  # a new player starts open (the show's first cue, no blackout)
                self._tell(now, player, send, is_open)
        pending = self._pending
        if pending is not None and pending[0] != player:
            self._pending = None  # that player is gone; its successor gets the state after its first frame
        elif pending is not None and now - pending[2] > self.timeout:
            assert player is not None  # pending[0] == player here: a pid
            log.info("kiosk: no answer to the schedule's %s; sending it again", pending[3])
            self._tell(now, player, send, is_open)


    def got_reply(self, now: float, msg: dict[str, Any], report: Report) -> None:
        """A control reply from the player; the schedule's own is settled here."""
        pending = self._pending
        if pending is None or msg.get("seq") != pending[1]:
            return
        self._pending = None
        if not msg.get("ok"):  # e.g. the outside cue is gone after a reload: say so, do not retry forever
            said = " ".join([pending[3], *map(str, pending[4].values())])
            report(now, f"schedule: the player refused '{said}': {msg.get('error')}")

    def status(self) -> dict[str, Any] | None:
        """/status ``schedule`` (None without one)."""
        sched = self.schedule
        if sched is None:
            return None
        return {
            "open": self.open,
            "next_change": None if self.next_change is None else self.next_change.astimezone(sched.tz).isoformat(),
            "outside": sched.outside.describe(),
            "timezone": sched.tz_name,
            "hours": sched.describe(),
            "display_power": self.display.backend or self.display.why,
        }
