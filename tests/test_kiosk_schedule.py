"""Opening hours: the schedule's rules (overnight, week wrap, exceptions, DST), its YAML errors with lines,
the CLI check, display power through a real ``xset`` process, and a real supervisor + headless player whose
injected wall clock moves through closing and opening time."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from helpers.kiosk import SCHEDULE_SHOW as SHOW
from helpers.kiosk import Kiosk, needs_egl, supervised
from helpers.kiosk import colour as _colour
from helpers.kiosk import near as _near

from installation.kiosk.display import DisplayPower
from installation.kiosk.schedule import Schedule, check_schedule, check_schedule_text, instant, parse_window

REPO = Path(__file__).resolve().parents[1]
BERLIN = ZoneInfo("Europe/Berlin")

HOURS = """timezone: Europe/Berlin
hours:
  mon: closed
  tue-fri: ["10:00-18:00"]
  sat: ["10:00-22:00", "23:00-02:00"]
  sun: ["12:00-17:00"]
exceptions:
  2026-12-24: ["10:00-14:00"]
  2026-12-25: closed
  2026-12-19: closed
outside: blackout
"""


def _schedule(text: str) -> Schedule:
    report = check_schedule_text(text, "hours.yaml")
    assert report.ok, [str(e) for e in report.errors]
    assert report.schedule is not None
    return report.schedule


def at(text: str) -> datetime:
    """Wall time in Berlin (an aware datetime, so tests never depend on the machine's zone)."""
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN)


def test_weekdays_overnight_and_week_wrap() -> None:
    s = _schedule(HOURS)
    # 2026-11-24 is a Tuesday
    assert not s.is_open(at("2026-11-24T09:59")) and s.is_open(at("2026-11-24T10:00"))
    assert s.is_open(at("2026-11-24T17:59")) and not s.is_open(at("2026-11-24T18:00"))
    assert s.next_change(at("2026-11-24T09:00")) == at("2026-11-24T10:00")
    assert s.next_change(at("2026-11-24T12:00")) == at("2026-11-24T18:00")
    # Saturday's 23:00-02:00 belongs to Saturday: open on Sunday night at 01:00 though Sunday opens at 12:00
    assert s.is_open(at("2026-11-28T23:30")) and s.is_open(at("2026-11-29T01:59"))
    assert not s.is_open(at("2026-11-29T02:00")) and not s.is_open(at("2026-11-28T22:30"))
    assert s.next_change(at("2026-11-28T23:30")) == at("2026-11-29T02:00")
    assert s.next_change(at("2026-11-28T22:00")) == at("2026-11-28T23:00")
    # the week wraps: Sunday 17:00 closes until Tuesday 10:00 (Monday closed)
    assert s.next_change(at("2026-11-29T17:00")) == at("2026-12-01T10:00")
    # any zone in, the same instant: 09:30 UTC is 10:30 in Berlin
    assert s.is_open(datetime(2026, 11, 24, 9, 30, tzinfo=UTC))
    # naive times are wall time in the schedule's zone
    assert s.is_open(datetime(2026, 11, 24, 10, 30)) and not s.is_open(datetime(2026, 11, 24, 9, 30))


def test_sunday_overnight_wraps_into_monday() -> None:
    s = _schedule("timezone: UTC\nhours:\n  sun: ['22:00-01:00']\n")
    monday = datetime(2026, 11, 30, 0, 30, tzinfo=UTC)
    assert s.is_open(monday) and s.next_change(monday) == datetime(2026, 11, 30, 1, tzinfo=UTC)
    assert s.next_change(datetime(2026, 11, 30, 2, tzinfo=UTC)) == datetime(2026, 12, 6, 22, tzinfo=UTC)


def test_exceptions_replace_only_windows_starting_that_day() -> None:
    s = _schedule(HOURS)
    # 2026-12-19 (Saturday) is closed: its 23:00 window is gone, so Sunday 01:00 is closed too
    assert not s.is_open(at("2026-12-19T12:00")) and not s.is_open(at("2026-12-20T01:00"))
    assert s.next_change(at("2026-12-19T08:00")) == at("2026-12-20T12:00")
    # a closed Sunday would not cancel Saturday's overnight window: that window started on Saturday
    s2 = _schedule(HOURS.replace("2026-12-19: closed", "2026-12-27: closed"))
    assert s2.is_open(at("2026-12-27T01:00")) and not s2.is_open(at("2026-12-27T13:00"))
    assert s2.next_change(at("2026-12-27T01:00")) == at("2026-12-27T02:00")
    # Christmas Eve (a Thursday) closes at 14:00, Christmas Day is closed, Saturday opens at 10:00
    assert s.is_open(at("2026-12-24T13:59")) and not s.is_open(at("2026-12-24T14:00"))
    assert s.next_change(at("2026-12-24T15:00")) == at("2026-12-26T10:00")


def test_dst_boundaries_in_berlin() -> None:
    s = _schedule("timezone: Europe/Berlin\nhours:\n  sat: ['23:00-02:05']\n  sun: ['02:10-02:40', '10:00-18:00']\n")
    # 2026-03-29 02:00 CET the clocks jump to 03:00 CEST: 02:05 is reached at the jump (01:00 UTC);
    # the 02:10-02:40 window lies wholly in the skipped hour and never opens
    assert s.next_change(at("2026-03-28T23:30")) == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert not s.is_open(datetime(2026, 3, 29, 1, 5, tzinfo=UTC))
    assert s.next_change(datetime(2026, 3, 29, 1, 5, tzinfo=UTC)) == datetime(2026, 3, 29, 8, tzinfo=UTC)
    assert instant(date(2026, 3, 29), 150, BERLIN) == datetime(2026, 3, 29, 1, tzinfo=UTC)
    # 2026-10-25 03:00 CEST the clocks go back to 02:00 CET: 02:30 comes twice; the first one closes
    s = _schedule("timezone: Europe/Berlin\nhours:\n  sat: ['22:00-02:30']\n  sun: ['10:00-18:00']\n")
    assert s.next_change(at("2026-10-24T23:00")) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert not s.is_open(datetime(2026, 10, 25, 1, 30, tzinfo=UTC))  # the second 02:30 (CET)
    assert s.next_change(datetime(2026, 10, 25, 1, 30, tzinfo=UTC)) == datetime(2026, 10, 25, 9, tzinfo=UTC)
    assert s.is_open(datetime(2026, 10, 25, 16, 59, tzinfo=UTC)) and not s.is_open(datetime(2026, 10, 25, 17,
                                                                                              tzinfo=UTC))


def test_touching_windows_merge_and_far_changes_are_found() -> None:
    s = _schedule("timezone: UTC\nhours:\n  sat: ['10:00-24:00']\n  sun: ['00:00-02:00']\n")
    assert s.next_change(datetime(2026, 11, 28, 12, tzinfo=UTC)) == datetime(2026, 11, 29, 2, tzinfo=UTC)
    always = _schedule("timezone: UTC\nhours:\n  daily: ['00:00-24:00']\n")
    assert always.is_open(datetime(2026, 1, 1, tzinfo=UTC)) and always.next_change(datetime(2026, 1, 1)) is None
    holiday = _schedule("timezone: UTC\nhours:\n  mon-sun: '00:00-24:00'\nexceptions:\n  2027-06-01: closed\n")
    assert holiday.next_change(datetime(2026, 11, 22, tzinfo=UTC)) == datetime(2027, 6, 1, tzinfo=UTC)
    assert holiday.next_change(datetime(2027, 6, 1, 5, tzinfo=UTC)) == datetime(2027, 6, 2, tzinfo=UTC)
    assert parse_window("23:00-02:00") == (1380, 1560) and parse_window("00:00-24:00") == (0, 1440)
    assert _schedule(HOURS).describe() == ("tue-fri 10:00-18:00; sat 10:00-22:00, 23:00-02:00; sun 12:00-17:00; "
                                           "mon closed; 3 date exceptions")


BAD = """timezone: Europe/Berlinn
hours:
  mon: closed
  tue-fryday: ["10:00-18:00"]
  sat: ["10:00-22:00", "25:00-26:00"]
  sun: ["12:00-12:00"]
  wed: 5
exceptions:
  2026-13-24: closed
outside: {cue: a, opn: b}
"""

OVERLAPS = """hours:
  mon-fri: ["10:00-18:00", "17:00-19:00"]
  sat: ["22:00-03:00"]
  sun: ["02:00-05:00"]

  wed: closed
exceptions:
  2026-12-24: ["23:00-11:00"]
"""


def test_yaml_errors_carry_file_line_and_key_path(tmp_path: Path) -> None:
    path = tmp_path / "hours.yaml"
    path.write_text(BAD)
    got = [str(e) for e in check_schedule(path).errors]
    f = str(path)
    assert got == [
        f"{f}:1 timezone: unknown time zone 'Europe/Berlinn' (did you mean 'Europe/Berlin'?) "
        "(an IANA name such as Europe/Berlin)",
        f"{f}:4 hours.tue-fryday: unknown weekday 'fryday' (use mon tue wed thu fri sat sun)",
        f"{f}:5 hours.sat[1]: '25:00' is not a time (HH:MM, 00:00 to 23:59)",
        f"{f}:6 hours.sun[0]: '12:00-12:00' starts and ends at the same time; for a whole day write \"00:00-24:00\"",
        f"{f}:7 hours.wed: expected 'closed' or a list of windows such as [\"10:00-18:00\"], got 5",
        f"{f}:9 exceptions.2026-13-24: '2026-13-24' is not a date (YYYY-MM-DD, e.g. 2026-12-24)",
        f"{f}:10 outside.opn: unknown key 'opn' (did you mean 'open'?)",
    ]
    got = [str(e) for e in check_schedule_text(OVERLAPS, "o.yaml").errors]
    assert got == [
        "o.yaml:2 hours.mon-fri[1]: '17:00-19:00' overlaps '10:00-18:00' (line 2)",
        "o.yaml:3 hours.sat[0]: '22:00-03:00' runs past midnight into sun's '02:00-05:00' (line 4)",
        "o.yaml:6 hours.wed: wed is already given by 'mon-fri' (line 2)",
        "o.yaml:8 exceptions.2026-12-24[0]: '23:00-11:00' runs past midnight into fri's '10:00-18:00' (line 2)",
    ]
    assert [str(e) for e in check_schedule_text("hours: {mon: closed}\n", "c.yaml").errors] == \
        ["c.yaml:1 hours: never open: every day is closed"]
    assert [str(e) for e in check_schedule_text("hours:\n  mon: ['9:00-17:00']\n  mon: closed\n", "d.yaml").errors] \
        == ["d.yaml:3 hours.mon: duplicate key 'mon' (first defined at line 2)"]
    twice = "hours: {mon: closed, tue: '10:00-12:00'}\nexceptions:\n  2026-12-24: closed\n  20261224: closed\n"
    assert [str(e) for e in check_schedule_text(twice, "e.yaml").errors] == \
        ["e.yaml:4 exceptions.20261224: 2026-12-24 is already given at line 3"]


def test_outside_cue_is_checked_against_the_show() -> None:
    s = _schedule("hours: {daily: '10:00-18:00'}\noutside:\n  cue: closed\n")
    assert [str(e) for e in s.check_cues(["intro", "main", "clsoed"], "show.yaml")] == \
        ["hours.yaml:3 outside.cue: no cue 'closed' in show.yaml (did you mean 'clsoed'?)"]
    s = _schedule("hours: {daily: '10:00-18:00'}\noutside: {cue: closed}\n")
    assert s.check_cues(["intro", "main", "closed"]) == [] and s.outside.open_cue == "intro"  # wraps to the first
    assert s.outside.describe() == "cue closed (opening: cue intro)"


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "installation.cli", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=60, env={**os.environ, "PYTHONPATH": str(REPO)})


def test_cli_check_schedule(tmp_path: Path) -> None:
    path = tmp_path / "hours.yaml"
    path.write_text(HOURS)
    r = _cli("kiosk", "--check-schedule", str(path), "--check-from", "2026-12-21T09:00")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        f"ok: {path} (time zone Europe/Berlin; outside hours: blackout)",
        "  Mon 2026-12-21  closed",
        "  Tue 2026-12-22  10:00-18:00",
        "  Wed 2026-12-23  10:00-18:00",
        "  Thu 2026-12-24  10:00-14:00  (exception)",
        "  Fri 2026-12-25  closed  (exception)",
        "  Sat 2026-12-26  10:00-22:00, 23:00-02:00 (until sun)",
        "  Sun 2026-12-27  12:00-17:00",
        "at Mon 2026-12-21 09:00 CET: closed; opens Tue 2026-12-22 10:00 CET",
    ]
    path.write_text(HOURS.replace('tue-fri: ["10:00-18:00"]', 'tue-fri: ["10:00-18:60"]'))
    show = tmp_path / "show.yaml"
    show.write_text("version: 1\ncues:\n  - {id: a, scene: {type: solid, colour: '#102030'}, duration: 5}\n")
    for args in (("kiosk", "--check-schedule", str(path)), ("kiosk", str(show), "--schedule", str(path))):
        r = _cli(*args)
        assert r.returncode == 2 and "Traceback" not in r.stderr, r
        assert r.stderr == f"{path}:4 hours.tue-fri[0]: '18:60' is not a time (HH:MM, 00:00 to 24:00)\n"
    path.write_text(HOURS.replace("outside: blackout", "outside: {cue: b}"))
    r = _cli("kiosk", str(show), "--check-schedule", str(path))
    assert r.returncode == 2 and r.stderr == f"{path}:11 outside.cue: no cue 'b' in the show {show}\n", r.stderr
    r = _cli("kiosk", "--print-systemd-unit", str(show), "--schedule", path.name, "--log=logs/k.log",
             "--state-dir", "st")
    assert r.returncode == 0, r  # relative paths become absolute: the unit runs in another folder
    # built from the parsed options (not sys.argv): each option once, as `--name value`, in the parser's order
    assert f"--schedule {REPO / path.name} --log {REPO / 'logs/k.log'} --state-dir {REPO / 'st'}" in r.stdout


FAKE_XSET = """#!/bin/sh
echo "$DISPLAY $*" >> "{log}"
[ "$1" = dpms ] && [ "$3" = off ] && [ -e "{fail}" ] && {{ echo "cannot force" >&2; exit 1; }}
exit 0
"""


def _fake_xset(tmp_path: Path) -> tuple[dict[str, str], Path, Path]:
    """A stand-in ``xset`` executable (the real one needs an X server with DPMS) that records its arguments."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log, fail = tmp_path / "xset.log", tmp_path / "fail"
    (bin_dir / "xset").write_text(FAKE_XSET.format(log=log, fail=fail))
    (bin_dir / "xset").chmod(0o755)
    return {"PATH": f"{bin_dir}:/usr/bin:/bin", "DISPLAY": ":42"}, log, fail


def test_display_power_runs_xset_and_never_fails(tmp_path: Path) -> None:
    env, log, fail = _fake_xset(tmp_path)
    power = DisplayPower(headless=False, env=env)
    assert power.backend == "xset"
    assert power.awake() and power.asleep()
    assert log.read_text().splitlines() == [":42 s reset", ":42 dpms force on", ":42 s off", ":42 -dpms",
                                            ":42 s on", ":42 +dpms", ":42 dpms force off"]
    fail.touch()
    assert power.asleep() is False  # logged, not raised
    for kind, e in (("headless", env), ("no display", {"PATH": env["PATH"]}),
                    ("no xset", {"PATH": str(tmp_path), "DISPLAY": ":42"})):
        other = DisplayPower(headless=kind == "headless", env=e)
        assert other.backend is None and other.awake() is False and other.asleep() is False, kind


@pytest.mark.skipif(not (shutil.which("Xvfb") and shutil.which("xset")), reason="needs Xvfb and xset")
@pytest.mark.window
def test_display_power_with_real_xset_on_xvfb() -> None:
    read, write = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "160x90x24", "-nolisten", "tcp"],
                            pass_fds=(write,), stderr=subprocess.DEVNULL)
    os.close(write)
    try:
        with os.fdopen(read) as f:
            number = f.readline().strip()
        env = {**os.environ, "DISPLAY": f":{number}"}
        power = DisplayPower(headless=False, env=env)
        assert power.backend == "xset"
        query = subprocess.run(["xset", "q"], env=env, capture_output=True, text=True, timeout=10).stdout
        has_dpms = "does not have the DPMS" not in query
        # Xvfb usually has no DPMS: xset then exits 0 but complains on stderr, which must count as a failure
        assert power.asleep() is has_dpms and power.awake() is has_dpms
    finally:
        xvfb.terminate()
        xvfb.wait(5)



def _metric(k: Kiosk, name: str) -> float:
    code, text = k.get("/metrics")
    assert code == 200
    return float(next(line.split()[1] for line in text.splitlines() if line.startswith(name + " ")))


@needs_egl
def test_supervisor_blacks_out_when_closed_and_a_restarted_player_stays_dark(tmp_path: Path) -> None:
    now = [at("2026-11-24T17:59:50")]  # a Tuesday, ten seconds before closing
    env, log, _ = _fake_xset(tmp_path)
    with supervised(tmp_path, HOURS, lambda: now[0], DisplayPower(headless=False, env=env)) as (k, sup):
        st = k.wait("first frames", lambda s: s["healthy"] and s["player_frames"] > 3)
        assert st["open"] and st["schedule"]["open"] is True
        assert st["schedule"]["next_change"] == "2026-11-24T18:00:00+01:00"
        assert _metric(k, "installation_open") == 1
        assert _near(_colour(k), "#c03020")

        now[0] = at("2026-11-24T18:00:01")  # closing time
        st = k.wait("closed", lambda s: s["schedule"]["open"] is False)
        assert st["schedule"]["next_change"] == "2026-11-25T10:00:00+01:00" and st["schedule"]["outside"] == "blackout"
        _until_colour(k, "#000000")
        assert k.get("/health")[0] == 200  # closed and dark, but the player presents frames: healthy
        assert _metric(k, "installation_open") == 0
        assert log.read_text().splitlines()[-3:] == [":42 s on", ":42 +dpms", ":42 dpms force off"]

        # a player that dies while closed comes back closed (told after its first heartbeat)
        first = st["player_pid"]
        os.kill(first, 9)
        k.wait("a new player", lambda s: s["player_pid"] not in (None, first) and s["player_frames"] > 3)
        _until_colour(k, "#000000")

        now[0] = at("2026-11-25T10:00:00")  # Wednesday opening
        k.wait("open", lambda s: s["schedule"]["open"] is True)
        _until_colour(k, "#c03020")
        assert _metric(k, "installation_open") == 1
        assert log.read_text().splitlines()[-2:] == [":42 s off", ":42 -dpms"]
        assert not any("schedule" in e["message"] for e in k.status()["last_errors"])


@needs_egl
def test_supervisor_plays_a_cue_outside_hours(tmp_path: Path) -> None:
    now = [at("2026-11-23T09:00")]  # a closed Monday: the player must come up on the outside cue
    text = HOURS.replace("outside: blackout", "outside: {cue: closed, open: a}")
    with supervised(tmp_path, text, lambda: now[0]) as (k, sup):
        st = k.wait("closed cue", lambda s: s["healthy"] and s["cue"] == "closed")
        assert st["schedule"] == {**st["schedule"], "open": False, "outside": "cue closed (opening: cue a)"}
        _until_colour(k, "#2040c0")
        now[0] = at("2026-11-24T10:00")
        k.wait("opening cue", lambda s: s["cue"] == "a")
        _until_colour(k, "#c03020")
        # a show edit that drops the outside cue is not reloaded: closing time would have nothing to show
        (tmp_path / "show.yaml").write_text(SHOW.split("  - {id: closed")[0])
        st = k.wait("the edit rejected", lambda s: any("rejected" in e["message"] for e in s["last_errors"]))
        assert "outside.cue: no cue 'closed' in the edited" in st["last_errors"][-1]["message"], st["last_errors"]
        assert st["reloads"] == 0
        # ...and a player restarted while closed plays the last good version, which still has the outside cue
        now[0] = at("2026-11-24T18:00")
        k.wait("closed again", lambda s: s["cue"] == "closed")
        pid = k.status()["player_pid"]
        os.kill(pid, 9)
        st = k.wait("a new player", lambda s: s["healthy"] and s["player_pid"] != pid and s["cue"] == "closed")
        assert not any("refused" in e["message"] for e in st["last_errors"]), st["last_errors"]
        _until_colour(k, "#2040c0")


def _until_colour(k: Kiosk, want: str, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = _colour(k)
        if _near(got, want):
            return
        time.sleep(0.1)
    raise AssertionError(f"the screen never became {want} (last {got})")


def test_status_without_a_schedule_is_open() -> None:
    from installation.kiosk.http import metrics_text
    from installation.kiosk.supervisor import KioskConfig, Supervisor

    sup = Supervisor(KioskConfig(show=REPO / "shows" / "gradual_change.yaml", headless=True))
    try:
        sup.hours.step(time.monotonic(), None, False, sup.send, False)  # one evaluation, no player started
        st = sup.status()
        assert st["open"] is True and st["schedule"] is None
        assert "installation_open 1" in metrics_text(st).splitlines()
    finally:
        sup.close()


@pytest.mark.parametrize("text", ["10:00-18:00", "23:00-02:00", "00:00-24:00"])
def test_windows_round_trip(text: str) -> None:
    from installation.kiosk.schedule import format_window

    assert format_window(parse_window(text)) == text


@needs_egl
def test_a_schedule_edit_applies_while_playing_and_a_bad_one_is_rejected(tmp_path: Path) -> None:
    from helpers.kiosk import kiosk

    show, hours = tmp_path / "show.yaml", tmp_path / "hours.yaml"
    show.write_text(SHOW)
    hours.write_text("timezone: UTC\nhours:\n  daily: '00:00-24:00'\n")
    today = datetime.now(UTC).date()
    with kiosk(tmp_path, show, "--schedule", str(hours)) as k:
        k.wait("open and playing", lambda s: s["healthy"] and s["open"] and s["player_frames"] > 3)
        assert _near(_colour(k), "#c03020")
        # closed today (and tomorrow, in case the test runs across midnight): blacked out, no restart
        hours.write_text("timezone: UTC\nhours:\n  daily: '00:00-24:00'\nexceptions:\n"
                         f"  {today}: closed\n  {date.fromordinal(today.toordinal() + 1)}: closed\n")
        st = k.wait("closed by the edit", lambda s: not s["open"])
        assert st["restarts"] == 0 and "2 date exceptions" in st["schedule"]["hours"], st["schedule"]
        k.wait("blacked out", lambda s: _near(_colour(k), "#000000"))
        hours.write_text("timezone: UTC\nhours:\n  someday: '10:00-12:00'\n")  # invalid: kept closed
        st = k.wait("the edit rejected", lambda s: any("schedule edit rejected" in e["message"]
                                                      for e in s["last_errors"]))
        assert "hours.yaml:3" in st["last_errors"][-1]["message"] and not st["open"]
        hours.write_text("timezone: UTC\nhours:\n  daily: '00:00-24:00'\n")
        k.wait("open again", lambda s: s["open"] and _near(_colour(k), "#c03020"))
