"""The player as a child process: start it on its link to us, tell when it is down or hung, stop it.

A player is ``python -m installation.cli run SHOW`` (``--headless`` where there is no display), or in safe
mode the holding screen (``python -m installation.kiosk.holding``), started with the environment of
installation/player_link (where to send heartbeats, which port to take commands on, our pid). What it
sends back is applied here (:meth:`PlayerProcess.beat`); whether it has gone down is
:meth:`PlayerProcess.fault`.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from installation.kiosk import logfile
from installation.kiosk.config import KioskConfig
from installation.player_link import CONTROL_ENV, HEARTBEAT_ENV, PARENT_ENV

log = logging.getLogger(__name__)


@dataclass
class PlayerProcess:
    proc: subprocess.Popen
    safe: bool  # the holding screen of safe mode, not the show
    started: float
    control_port: int = 0
    last_beat: float | None = None
    frames: int = 0
    # the trial of a new version of the show (installation/kiosk/reload.py): the candidate this player plays
    # (or was told to load), the one it was started from, and since when it presents it
    version: str | None = None
    started_on: str | None = None
    trial_since: float | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def beat(self, frames: int, now: float) -> int:
        """A heartbeat: ``frames`` presented so far. Returns how many are new since the last one."""
        new = max(0, frames - self.frames)
        self.frames, self.last_beat = frames, now
        return new

    def presenting(self, now: float, within: float) -> bool:
        """A frame was presented within the last ``within`` seconds."""
        return self.last_beat is not None and now - self.last_beat <= within

    def fault(self, now: float, config: KioskConfig) -> tuple[str, bool] | None:
        """Why this player must be replaced now and whether it hung (no frames: it gets SIGKILL at once), or
        None while it is fine (or still starting within ``start_seconds``)."""
        code = self.proc.poll()
        if code is not None:
            return (f"exited with code {code}" if code >= 0 else f"killed by signal {-code}"), False
        if self.last_beat is None:
            if now - self.started > config.start_seconds:
                return f"presented no frame within {config.start_seconds:g} s of starting", True
            return None
        if now - self.last_beat > config.stall_seconds:
            return f"presented no frame for {now - self.last_beat:.1f} s (hung); killed", True
        return None

    def stop(self, grace: float, hung: bool = False) -> int | None:
        """SIGTERM, then SIGKILL after ``grace`` seconds; a hung player (no frames) gets SIGKILL at once: it could
        not act on SIGTERM anyway (a stopped process does not even receive it), and every second is black."""
        proc = self.proc
        if proc.poll() is None and hung:
            proc.kill()
            proc.wait()
        elif proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(grace)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        return proc.returncode


def player_command(config: KioskConfig, show_args: list[str], safe: bool) -> list[str]:
    """The command line of a new player: the show (``show_args``: the file, or its last good copy with
    ``--base-dir``), or in safe mode the holding screen, a minimal renderer that shares no code with shows."""
    program = ["installation.kiosk.holding"] if safe else ["installation.cli", "run", *show_args]
    cmd = [sys.executable, "-m", *program]
    if config.size:
        cmd += ["--size", f"{config.size[0]}x{config.size[1]}"]
    if config.headless:
        cmd += ["--headless", "--fps", repr(config.fps)]
    return cmd + config.player_args


def spawn(command: list[str], heartbeat_port: int, now: float, *, safe: bool, pipe_output: bool,
          version: str | None) -> PlayerProcess:
    """Start a player that sends its heartbeats to ``heartbeat_port`` and takes commands on a free port."""
    port = free_udp_port()
    env = dict(os.environ)
    env[HEARTBEAT_ENV] = f"127.0.0.1:{heartbeat_port}"
    env[PARENT_ENV] = str(os.getpid())
    env[CONTROL_ENV] = f"127.0.0.1:{port}"
    output: int | None = subprocess.PIPE if pipe_output else None
    proc = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=output,
                            stderr=subprocess.STDOUT if output else None)
    if output:
        assert proc.stdout is not None  # stdout=PIPE gives a pipe
        logfile.pump(proc.stdout, proc.pid)

    log.info("kiosk: started %s player pid %d", "safe-mode" if safe else "show", proc.pid)
    return PlayerProcess(proc, safe, now, control_port=port, version=version, started_on=version)


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
