"""The kiosk's settings and their defaults, written once: the command line takes its defaults from here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time as dtime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from installation.kiosk.schedule import Schedule


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
