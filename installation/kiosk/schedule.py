"""Opening hours for kiosk mode: when the show plays, and what the screen does outside those hours.

A schedule file (``installation kiosk SHOW --schedule hours.yaml``)::

    timezone: Europe/Berlin        # optional IANA name; default: the machine's time zone
    hours:                         # weekday(s) -> "closed" or a list of "HH:MM-HH:MM" windows
      mon: closed
      tue-fri: ["10:00-18:00"]
      sat: ["10:00-22:00", "23:00-02:00"]     # end <= start: runs past midnight into the next day
      sun: ["12:00-17:00"]
    exceptions:                    # a date replaces the weekday rule for the windows that START that day
      2026-12-24: ["10:00-14:00"]
      2026-12-25: closed
    outside: blackout              # or {cue: ID, open: ID2}: play cue ID outside hours, ID2 when opening

Rules: a window belongs to the day it starts on (``sat 23:00-02:00`` is open on Sunday at 01:00 even if
Sunday is closed). Days not named are closed. ``24:00`` is allowed as an end time. A time the clock skips
(the spring-forward hour) is reached at the jump; a time it shows twice (autumn) counts at its first
occurrence. Errors are :class:`~installation.config.ConfigIssue` (``FILE:LINE key.path: message``), found
with the configuration layer's line-keeping YAML reader and its pydantic message helpers.

Pure: no GL, no torch, no processes; the supervisor (installation/kiosk/supervisor.py) asks
:meth:`Schedule.is_open` and :meth:`Schedule.next_change` with its (injectable) wall clock.
"""

from __future__ import annotations

import os
import re
import zoneinfo
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, ValidationError

from installation.config import (
    ConfigError,
    ConfigIssue,
    StrictModel,
    custom_error,
    describe,
    did_you_mean,
    format_path,
    load_yaml,
    locate,
    read_text_file,  # bounded: regular files up to 1 MiB, UTF-8 text
    sort_issues,
    to_plain,
    validation_issues,
)

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DAY_MINUTES = 1440
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")

# (start, end) in minutes after the midnight of the day the window starts on: 0 <= start < 1440 and
# start < end <= start + 1440 (end > 1440: the window runs past midnight).
Window = tuple[int, int]


class ScheduleError(ConfigError):
    """An invalid schedule file; ``issues`` lists every problem (``FILE:LINE key.path: message``)."""


# ---- parsing the pieces --------------------------------------------------------------------------------


def _day(text: str) -> int:
    word = text.strip().lower()
    if word in DAYS:
        return DAYS.index(word)
    if word in _FULL:
        return _FULL.index(word)
    raise ValueError(f"unknown weekday '{text.strip()}'{did_you_mean(word, DAYS)} (use mon tue wed thu fri sat sun)")


def parse_days(text: str) -> tuple[int, ...]:
    """``"mon"``, ``"tue-fri"``, ``"sat,sun"``, ``"fri-mon"`` (wraps) or ``"daily"`` -> weekday numbers (mon = 0)."""
    if text.strip().lower() in ("daily", "every day"):
        return tuple(range(7))
    days: list[int] = []
    for part in text.split(","):
        if "-" in part:
            first, _, last = part.partition("-")
            a, b = _day(first), _day(last)
            days.extend((a + i) % 7 for i in range((b - a) % 7 + 1))
        else:
            days.append(_day(part))
    if len(set(days)) != len(days):
        raise ValueError(f"'{text}' names a day twice")
    return tuple(days)


def _minutes(text: str, end: bool) -> int:
    m = _TIME.match(text.strip())
    if not m or int(m.group(2)) > 59 or int(m.group(1)) > 24 or (int(m.group(1)) == 24 and (m.group(2) != "00" or
                                                                                               not end)):
        allowed = "HH:MM, 00:00 to 24:00" if end else "HH:MM, 00:00 to 23:59"
        raise ValueError(f"'{text.strip()}' is not a time ({allowed})")
    return int(m.group(1)) * 60 + int(m.group(2))


def parse_window(text: str) -> Window:
    """``"10:00-18:00"`` -> ``(600, 1080)``; ``"23:00-02:00"`` -> ``(1380, 1560)`` (past midnight)."""
    start, sep, end = text.partition("-")
    if not sep:
        raise ValueError(f"'{text}' is not a window: expected \"HH:MM-HH:MM\", e.g. \"10:00-18:00\"")
    a, b = _minutes(start, end=False), _minutes(end, end=True)
    if a == b:  # an empty window or 24 hours? Ask, instead of guessing.
        raise ValueError(f"'{text}' starts and ends at the same time; for a whole day write \"00:00-24:00\"")
    return a, b if b > a else b + DAY_MINUTES


def format_minutes(minutes: int) -> str:
    minutes %= DAY_MINUTES
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def format_window(window: Window) -> str:
    start, end = window
    return f"{format_minutes(start)}-{'24:00' if end == DAY_MINUTES else format_minutes(end)}"


def _checked(parse: Any) -> Any:
    """A pydantic AfterValidator that runs ``parse`` for its errors and keeps the text as written."""

    def check(value: str) -> str:
        try:
            parse(value)
        except ValueError as exc:
            raise custom_error(str(exc)) from None
        return value

    return AfterValidator(check)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"'{text}' is not a date (YYYY-MM-DD, e.g. 2026-12-24)") from None


def _day_spec(value: Any) -> Any:
    """``closed`` -> ``[]``; one window as text -> a list of one; anything else but a list is an error."""
    if isinstance(value, str) and value.strip().lower() == "closed":
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list):
        raise custom_error(f"expected 'closed' or a list of windows such as [\"10:00-18:00\"], got {describe(value)}")
    return value


def _outside(value: Any) -> Any:
    if isinstance(value, str) and value.strip() == "blackout":
        return None
    if isinstance(value, dict) or value is None:
        return value
    raise custom_error(f"expected 'blackout' or {{cue: ID}}, got {describe(value)}")


def _timezone(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        hint = did_you_mean(value, sorted(zoneinfo.available_timezones()))
        raise custom_error(f"unknown time zone '{value}'{hint} (an IANA name such as Europe/Berlin)") from None
    return value


WindowText = Annotated[str, _checked(parse_window)]
DaySpec = Annotated[list[WindowText], BeforeValidator(_day_spec)]


class _OutsideModel(StrictModel):
    cue: str = Field(min_length=1)
    open: str | None = Field(None, min_length=1)


class _ScheduleModel(StrictModel):
    timezone: Annotated[str | None, AfterValidator(_timezone)] = None
    hours: dict[Annotated[str, _checked(parse_days)], DaySpec]
    exceptions: dict[Annotated[str, _checked(_date)], DaySpec] = Field(default_factory=dict)
    outside: Annotated[_OutsideModel | None, BeforeValidator(_outside)] = None


# ---- time zones ----------------------------------------------------------------------------------------


def local_zone() -> tuple[tzinfo, str]:
    """The machine's time zone with its DST rules ($TZ, else /etc/localtime), and its name."""
    name = os.environ.get("TZ", "").lstrip(":")
    if name:
        try:
            return zoneinfo.ZoneInfo(name), name
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
    link = Path("/etc/localtime")
    try:
        with link.open("rb") as f:
            zone = zoneinfo.ZoneInfo.from_file(f)
        target = str(link.resolve())
        return zone, target.split("zoneinfo/", 1)[1] if "zoneinfo/" in target else "local time"
    except (OSError, ValueError):
        # no tz database: a fixed offset is right until the next DST change (logged by the caller via the name)
        now = datetime.now().astimezone()
        return now.tzinfo or UTC, f"{now.tzname()} (fixed offset: no time zone database)"


def instant(day: date, minutes: int, tz: tzinfo) -> datetime:
    """The UTC moment at which the wall clock of ``tz`` first shows ``minutes`` after ``day``'s midnight.

    Arithmetic and comparisons are done in UTC: aware datetimes sharing a tzinfo compare as wall times."""
    day += timedelta(days=minutes // DAY_MINUTES)
    naive = datetime.combine(day, time(minutes % DAY_MINUTES // 60, minutes % 60))
    first = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    second = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    if first <= second:  # the usual case (equal), or a time shown twice: take its first occurrence
        return first
    # A time the clock skips (spring forward): it is reached at the jump. Find the jump to the second.
    lo, hi = int(second.timestamp()), int(first.timestamp())
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, tz).replace(tzinfo=None) >= naive:
            hi = mid
        else:
            lo = mid
    return datetime.fromtimestamp(hi, UTC)


# ---- the schedule --------------------------------------------------------------------------------------


@dataclass
class Outside:
    """What plays outside opening hours: a blackout (``cue`` None) or cue ``cue``; ``open_cue`` on opening."""

    cue: str | None = None
    open_cue: str | None = None
    line: int = 0  # of outside.cue, for errors found against the show
    open_line: int = 0
    file: str = ""

    def describe(self) -> str:
        if self.cue is None:
            return "blackout"
        return f"cue {self.cue}" + (f" (opening: cue {self.open_cue})" if self.open_cue else "")


class Schedule:
    """Weekly windows plus date exceptions in one time zone. Times passed in may be aware (any zone) or
    naive (read as wall time in the schedule's zone)."""

    def __init__(self, weekly: dict[int, list[Window]], exceptions: dict[date, list[Window]] | None = None,
                 tz: tzinfo | None = None, tz_name: str | None = None, outside: Outside | None = None) -> None:
        if tz is None:
            tz, tz_name = local_zone()
        self.weekly = {d: sorted(weekly.get(d, [])) for d in range(7)}
        self.exceptions = {d: sorted(w) for d, w in (exceptions or {}).items()}
        self.tz = tz
        self.tz_name = tz_name or str(tz)
        self.outside = outside or Outside()

    def windows_on(self, day: date) -> list[Window]:
        """The windows that start on ``day`` (its exception, else its weekday's)."""
        found = self.exceptions.get(day)
        return found if found is not None else self.weekly[day.weekday()]

    def utc(self, dt: datetime) -> datetime:
        """``dt`` in UTC; a naive ``dt`` is wall time in the schedule's zone."""
        return dt.replace(tzinfo=self.tz).astimezone(UTC) if dt.tzinfo is None else dt.astimezone(UTC)

    def _intervals(self, first: date, last: date) -> list[tuple[datetime, datetime]]:
        """Open periods (UTC) of the windows starting on ``first``..``last``, sorted; touching ones merged."""
        spans = []
        day = first
        while day <= last:
            for start, end in self.windows_on(day):
                a, b = instant(day, start, self.tz), instant(day, end, self.tz)
                if a < b:  # a window inside the skipped hour vanishes
                    spans.append((a, b))
            day += timedelta(days=1)
        spans.sort()
        merged: list[tuple[datetime, datetime]] = []
        for a, b in spans:
            if merged and a <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
            else:
                merged.append((a, b))
        return merged

    def is_open(self, dt: datetime) -> bool:
        u = self.utc(dt)
        today = u.astimezone(self.tz).date()
        # windows are shorter than 24 h, so only those starting yesterday or today can cover ``dt``
        return any(a <= u < b for a, b in self._intervals(today - timedelta(days=1), today))

    def next_change(self, dt: datetime) -> datetime | None:
        """The next moment after ``dt`` at which the schedule opens or closes, or None when it never changes again
        (open around the clock). In UTC: an aware time in a zone never equals one in another zone during the
        repeated autumn hour (PEP 495), so local times are only for display (``.astimezone(schedule.tz)``)."""
        u = self.utc(dt)
        today = u.astimezone(self.tz).date()
        last_exception = max(self.exceptions, default=today)
        # after the last exception the week repeats, so one more week settles it
        limit = max(8, (last_exception - today).days + 9)
        horizon = 8
        while True:
            spans = self._intervals(today - timedelta(days=1), today + timedelta(days=horizon))
            edge = instant(today + timedelta(days=horizon + 1), 0, self.tz)  # later windows start after this
            for a, b in spans:
                if a <= u < b and b < edge:
                    return b
                if a > u:
                    return a
            if horizon >= limit:
                return None
            horizon = min(limit, horizon * 4)

    def status(self, dt: datetime) -> dict[str, Any]:
        change = self.next_change(dt)
        return {"open": self.is_open(dt),
                "next_change": None if change is None else change.astimezone(self.tz).isoformat(),
                "outside": self.outside.describe(), "timezone": self.tz_name, "hours": self.describe()}

    def describe(self) -> str:
        """``"tue-fri 10:00-18:00; sat 10:00-22:00, 23:00-02:00; sun 12:00-17:00; mon closed; 2 exceptions"``."""
        groups: list[tuple[list[int], list[Window]]] = []
        for d in range(7):
            if groups and groups[-1][1] == self.weekly[d] and groups[-1][0][-1] == d - 1:
                groups[-1][0].append(d)
            else:
                groups.append(([d], self.weekly[d]))
        parts, closed = [], []
        for days, windows in groups:
            name = DAYS[days[0]] if len(days) == 1 else f"{DAYS[days[0]]}-{DAYS[days[-1]]}"
            name = "daily" if len(days) == 7 else name
            if windows:
                parts.append(f"{name} {', '.join(format_window(w) for w in windows)}")
            else:
                closed.append(name)
        if closed:
            parts.append(f"{', '.join(closed)} closed")
        if self.exceptions:
            parts.append(f"{len(self.exceptions)} date exception{'s' if len(self.exceptions) != 1 else ''}")
        return "; ".join(parts)

    def day_lines(self, start: date, days: int = 7) -> list[str]:
        """One line per day for operators: the windows starting that day, exceptions marked."""
        out = []
        for i in range(days):
            day = start + timedelta(days=i)
            windows = self.windows_on(day)
            text = ", ".join(format_window(w) + (f" (until {DAYS[(day.weekday() + 1) % 7]})"
                                                  if w[1] > DAY_MINUTES else "") for w in windows) or "closed"
            note = "  (exception)" if day in self.exceptions else ""
            out.append(f"{DAYS[day.weekday()].capitalize()} {day.isoformat()}  {text}{note}")
        return out

    def preview(self, at: datetime, days: int = 7) -> list[str]:
        """What ``installation kiosk --check-schedule`` prints after its "ok" line: ``days`` days of hours from
        ``at`` (indented), then whether it is open at ``at`` and when that changes next."""
        at = at.replace(tzinfo=self.tz) if at.tzinfo is None else at.astimezone(self.tz)
        lines = ["  " + line for line in self.day_lines(at.date(), days)]
        change = self.next_change(at)
        state = "open" if self.is_open(at) else "closed"
        verb = "closes" if state == "open" else "opens"
        then = f"{verb} {change.astimezone(self.tz):%a %Y-%m-%d %H:%M %Z}" if change else "never changes"
        lines.append(f"at {at:%a %Y-%m-%d %H:%M %Z}: {state}; {then}")
        return lines

    def check_cues(self, cue_ids: list[str], show: str = "the show") -> list[ConfigIssue]:
        """Check ``outside: {cue, open}`` against the show's cue ids; fills in the opening cue (the one after
        the outside cue, wrapping to the first) when the file gives none."""
        o = self.outside
        if o.cue is None:
            return []
        issues = []
        for cue, line, key in ((o.cue, o.line, "cue"), (o.open_cue, o.open_line, "open")):
            if cue is not None and cue not in cue_ids:
                issues.append(ConfigIssue(o.file, line, f"outside.{key}",
                                        f"no cue '{cue}' in {show}{did_you_mean(cue, cue_ids)}"))
        if not issues and o.open_cue is None and cue_ids:
            o.open_cue = cue_ids[(cue_ids.index(o.cue) + 1) % len(cue_ids)]
        return issues


# ---- loading -------------------------------------------------------------------------------------------


def _window_issues(file: str, tree: Any, loc: tuple[str | int, ...], texts: list[str]) -> list[ConfigIssue]:
    """Windows of one entry that overlap each other (reported at the later one)."""
    issues = []
    order = sorted(range(len(texts)), key=lambda i: parse_window(texts[i]))
    for prev, cur in zip(order, order[1:], strict=False):
        if parse_window(texts[prev])[1] > parse_window(texts[cur])[0]:
            line, path = locate(tree, (*loc, cur))
            other, _ = locate(tree, (*loc, prev))
            issues.append(ConfigIssue(file, line, format_path(path),
                                    f"'{texts[cur]}' overlaps '{texts[prev]}' (line {other})"))
    return issues


def _build(model: _ScheduleModel, tree: Any, file: str) -> tuple[Schedule | None, list[ConfigIssue]]:
    issues: list[ConfigIssue] = []
    weekly: dict[int, list[Window]] = {}
    owner: dict[int, str] = {}
    for key, texts in model.hours.items():
        line, path = locate(tree, ("hours", key))
        for d in parse_days(key):
            if d in owner:
                first, _ = locate(tree, ("hours", owner[d]))
                issues.append(ConfigIssue(file, line, format_path(path),
                                        f"{DAYS[d]} is already given by '{owner[d]}' (line {first})"))
                continue
            owner[d] = key
            weekly[d] = [parse_window(t) for t in texts]
        issues += _window_issues(file, tree, ("hours", key), texts)
    exceptions: dict[date, list[Window]] = {}
    exception_keys: dict[date, str] = {}
    for key, texts in model.exceptions.items():
        day = _date(key)
        if day in exceptions:  # the same date written two ways (2026-12-24 and 20261224): YAML sees two keys
            line, path = locate(tree, ("exceptions", key))
            first, _ = locate(tree, ("exceptions", exception_keys[day]))
            issues.append(ConfigIssue(file, line, format_path(path), f"{day} is already given at line {first}"))
            continue
        exceptions[day], exception_keys[day] = [parse_window(t) for t in texts], key
        issues += _window_issues(file, tree, ("exceptions", key), texts)

    # a window past midnight must end before the next day's first window starts
    pairs: list[tuple[date | int, list[Window], date | int, list[Window]]] = []
    for d in range(7):
        pairs.append((d, weekly.get(d, []), (d + 1) % 7, weekly.get((d + 1) % 7, [])))
    for day, windows in exceptions.items():
        before, after = day - timedelta(days=1), day + timedelta(days=1)
        pairs.append((before if before in exceptions else before.weekday(),
                      exceptions.get(before, weekly.get(before.weekday(), [])), day, windows))
        pairs.append((day, windows, after if after in exceptions else after.weekday(),
                      exceptions.get(after, weekly.get(after.weekday(), []))))
    seen: set[tuple[int, str]] = set()
    # names of their own: ``day``, ``first`` and ``path`` above hold a date, a line and a YAML location
    for start_day, windows, nxt, following in pairs:
        if not windows or not following:
            continue
        last = max(windows, key=lambda w: w[1])
        first_window = min(following)
        if last[1] - DAY_MINUTES > first_window[0]:
            line, key_path = _locate_window(tree, model, start_day, last, owner, exception_keys)
            other_line, _ = _locate_window(tree, model, nxt, first_window, owner, exception_keys)
            name = nxt.isoformat() if isinstance(nxt, date) else DAYS[nxt]
            if (line, key_path) not in seen:
                seen.add((line, key_path))
                issues.append(ConfigIssue(file, line, key_path, f"'{format_window(last)}' runs past midnight "
                                        f"into {name}'s '{format_window(first_window)}' (line {other_line})"))

    if not any(weekly.values()) and not any(exceptions.values()):
        line, path = locate(tree, ("hours",))
        issues.append(ConfigIssue(file, line, format_path(path), "never open: every day is closed"))
    if issues:
        return None, issues
    if model.timezone:
        tz: tzinfo = zoneinfo.ZoneInfo(model.timezone)
        tz_name = model.timezone
    else:
        tz, tz_name = local_zone()
    outside = Outside(file=file)
    if model.outside is not None:
        outside.cue, outside.open_cue = model.outside.cue, model.outside.open
        outside.line = locate(tree, ("outside", "cue"))[0]
        outside.open_line = locate(tree, ("outside", "open"))[0]
    return Schedule(weekly, exceptions, tz, tz_name, outside), []


def _locate_window(tree: Any, model: _ScheduleModel, day: date | int, window: Window, owner: dict[int, str],
                   exception_keys: dict[date, str]) -> tuple[int, str]:
    """Line and key path of ``window`` in the entry that gives ``day`` (a date: its exception; else a weekday)."""
    if isinstance(day, date):
        key: tuple[str, str] = ("exceptions", exception_keys[day])
        texts = model.exceptions[exception_keys[day]]
    else:
        key = ("hours", owner[day])
        texts = model.hours[owner[day]]
    index = [parse_window(t) for t in texts].index(window)
    line, path = locate(tree, (*key, index))
    return line, format_path(path)


@dataclass
class ScheduleReport:
    """What checking a schedule file found: the schedule (when valid) and every error."""

    file: str
    schedule: Schedule | None = None
    errors: list[ConfigIssue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.schedule is not None and not self.errors


def check_schedule_text(text: str, file: str = "<string>") -> ScheduleReport:
    """Check schedule ``text``; never raises for a bad file."""
    tree, issues = load_yaml(text, file)
    if tree is None and not issues:
        issues = [ConfigIssue(file, 1, "", "empty schedule file (it needs at least 'hours:')")]
    if tree is not None and not isinstance(tree, dict):
        issues.append(ConfigIssue(file, getattr(tree, "line", 1) or 1, "",
                                "a schedule file is a mapping of keys (timezone:, hours:, exceptions:, outside:)"))
    schedule = None
    if isinstance(tree, dict):
        try:
            model = _ScheduleModel.model_validate(to_plain(tree))
        except ValidationError as exc:
            issues.extend(validation_issues(exc, _ScheduleModel, tree, file))
        else:
            if not issues:
                schedule, more = _build(model, tree, file)
                issues.extend(more)
    return ScheduleReport(file, schedule if not issues else None, sort_issues(issues))


def check_schedule(path: str | Path) -> ScheduleReport:
    """Check one schedule file (missing, folder, FIFO, device, over 1 MiB, binary, non-UTF-8 and invalid files
    are reported, not raised; the YAML is read with the show loader's depth and alias limits)."""
    file = str(path)
    text, problem = read_text_file(Path(path), file, "schedule file")
    if problem is not None or text is None:
        return ScheduleReport(file, errors=[problem] if problem else [])
    return check_schedule_text(text, file)


def load_schedule(path: str | Path) -> Schedule:
    """A valid :class:`Schedule`, or :class:`ScheduleError` listing every problem."""
    report = check_schedule(path)
    if not report.ok or report.schedule is None:
        raise ScheduleError(report.errors)
    return report.schedule
