"""Weeks unattended: the log file is capped by size (and a full disk costs lines, not the show), and the
player can be restarted every day at a quiet hour without counting as a failure (real processes)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from datetime import time as dtime
from pathlib import Path

from helpers.kiosk import kiosk, needs_egl, supervised

# short cues: the player logs a line at every cue start, so the log grows quickly
CHATTY = """version: 1
display: {size: 160x90, background: [0, 0, 0]}
cues:
  - {id: a, scene: {type: solid, colour: "#203040"}, duration: 0.1, transition: cut}
  - {id: b, scene: {type: solid, colour: "#402030"}, duration: 0.1, transition: cut, follow: loop}
"""


@needs_egl
def test_the_log_file_rotates_within_its_cap_and_holds_the_players_lines(tmp_path: Path) -> None:
    show, log = tmp_path / "show.yaml", tmp_path / "logs" / "kiosk.log"
    show.write_text(CHATTY)
    with kiosk(tmp_path, show, "--log", str(log), "--log-max-mb", "0.002", "--log-backups", "2") as k:
        pid = k.wait("first frames", lambda st: st["healthy"])["player_pid"]
        end = time.monotonic() + 20
        while not log.with_name("kiosk.log.2").exists() and time.monotonic() < end:
            time.sleep(0.2)
        assert k.status()["healthy"]
    files = sorted(p.name for p in log.parent.iterdir())
    assert files == ["kiosk.log", "kiosk.log.1", "kiosk.log.2"], files  # at most 2 backups, however long it runs
    for p in log.parent.iterdir():
        assert p.stat().st_size <= 2 * 0.002 * 1024 * 1024, (p, p.stat().st_size)
    text = "".join(p.read_text() for p in log.parent.iterdir())
    assert f"installation.player: [{pid}]" in text and "cue b (2/2) starts" in text  # the player's own lines


@needs_egl
def test_a_full_disk_loses_log_lines_not_the_show(tmp_path: Path) -> None:
    show = tmp_path / "show.yaml"
    show.write_text(CHATTY)
    with kiosk(tmp_path, show, "--log", "/dev/full") as k:  # every write fails with ENOSPC
        frames = k.wait("first frames", lambda st: st["healthy"] and st["player_frames"] > 5)["player_frames"]
        time.sleep(1.0)
        st = k.status()
        assert st["healthy"] and st["player_frames"] > frames and st["restarts"] == 0
    stderr = (tmp_path / "kiosk.log").read_text()  # the kiosk's own stderr (the journal under systemd)
    assert stderr.count("cannot write the log file /dev/full") == 1, stderr
    assert "Traceback" not in stderr


@needs_egl
def test_the_daily_restart_is_planned_not_a_failure(tmp_path: Path) -> None:
    # without a schedule the restart time is the machine's local time, as a naive clock is
    now = [datetime(2026, 11, 24, 4, 29, 58)]

    def utc(*args: int) -> str:
        return datetime(*args).astimezone(UTC).isoformat()

    with supervised(tmp_path, None, lambda: now[0], daily_restart=dtime(4, 30)) as (k, sup):
        first = k.wait("first frames", lambda s: s["healthy"] and s["player_frames"] > 3)
        assert first["daily_restart"] == {"at": "04:30", "done": 0, "next": utc(2026, 11, 24, 4, 30)}
        now[0] = datetime(2026, 11, 24, 4, 30, 1)
        st = k.wait("a new player", lambda s: s["healthy"] and s["player_pid"] != first["player_pid"])
        assert st["restarts"] == 0 and st["recent_failures"] == 0 and not st["safe_mode"]
        assert st["daily_restart"] == {"at": "04:30", "done": 1, "next": utc(2026, 11, 25, 4, 30)}
        time.sleep(0.5)  # the same day passes without another restart
        assert k.status()["player_pid"] == st["player_pid"] and sup.planned_restarts == 1


def test_bad_log_and_daily_restart_options_are_one_line_and_exit_2(tmp_path: Path) -> None:
    import subprocess
    import sys

    from helpers.kiosk import REPO

    show = tmp_path / "show.yaml"
    show.write_text(CHATTY)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    for extra, said in ((["--daily-restart", "25:99"], "--daily-restart"), (["--log-backups", "-1"], "--log-backups"),
                        (["--log", str(blocker / "kiosk.log")], "--log")):
        r = subprocess.run([sys.executable, "-m", "installation.cli", "kiosk", str(show), "--headless", *extra],
                           cwd=REPO, capture_output=True, text=True, timeout=60)
        assert r.returncode == 2 and r.stderr.count("\n") == 1 and said in r.stderr, (extra, r.stderr)
