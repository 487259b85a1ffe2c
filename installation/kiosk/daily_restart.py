"""The daily restart: a fresh player each day at a quiet hour, so weeks of running never accumulate what one
long-lived process might (a slow leak in a driver, fragmented GPU memory). A planned restart, not a
failure: no backoff, not counted towards safe mode.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from typing import Any

from installation.kiosk.opening import OpeningHours


class DailyRestart:
    """``at``: the wall-clock time (the schedule's time zone when there is one, else the machine's); None: never."""

    def __init__(self, at: dtime | None, hours: OpeningHours) -> None:
        self.at, self.hours = at, hours
        self.done = 0
        self.next = self._after(hours.wall_utc()) if at is not None else None

    def _after(self, wall: datetime) -> datetime | None:
        if self.at is None:
            return None
        tz = self.hours.schedule.tz if self.hours.schedule is not None else wall.astimezone().tzinfo
        local = wall.astimezone(tz)
        when = datetime.combine(local.date(), self.at, tzinfo=tz)
        if when <= local:
            when = datetime.combine(local.date() + timedelta(days=1), self.at, tzinfo=tz)
        return when.astimezone(UTC)

    def due(self) -> bool:
        """The time has come (once a day): the next one is scheduled; the caller restarts the player."""
        if self.next is None or self.hours.wall_utc() < self.next:
            return False
        self.next = self._after(self.hours.wall_utc())
        return True

    def status(self) -> dict[str, Any] | None:
        """/status ``daily_restart`` (None without one)."""
        if self.at is None:
            return None
        return {"at": self.at.strftime("%H:%M"), "done": self.done,
                "next": None if self.next is None else self.next.isoformat()}
