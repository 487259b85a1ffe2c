"""A Mosquitto broker on loopback for tests, benchmarks and trying a wall on one machine.

A real installation runs the distribution's mosquitto service with users and TLS (docs/wall.md); this one
listens on 127.0.0.1 only, on a port the caller chose, anonymous, with no persistence.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path

CANDIDATES = ("mosquitto", "/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto")


def find_mosquitto() -> str | None:
    for name in CANDIDATES:
        found = shutil.which(name) or (name if Path(name).is_file() else None)
        if found:
            return found
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalBroker:
    """``mosquitto -c CONFIG`` on ``127.0.0.1:port``; :meth:`start` waits until it accepts connections."""

    def __init__(self, folder: Path, port: int | None = None, binary: str | None = None) -> None:
        self.folder, self.port = Path(folder), port or free_port()
        self.binary = binary or find_mosquitto()
        self.proc: subprocess.Popen[bytes] | None = None
        self.config = self.folder / "mosquitto.conf"

    def start(self, timeout: float = 10.0) -> LocalBroker:
        if self.binary is None:
            raise RuntimeError("mosquitto is not installed (apt-get install mosquitto)")
        self.folder.mkdir(parents=True, exist_ok=True)
        self.config.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
                               "log_dest stderr\nlog_type error\nlog_type warning\n")
        log = open(self.folder / "mosquitto.log", "ab")  # noqa: SIM115 - the broker owns it until stop()
        self.proc = subprocess.Popen([self.binary, "-c", str(self.config)], stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                text = (self.folder / "mosquitto.log").read_text(errors="replace")[-400:]
                raise RuntimeError(f"mosquitto exited with {self.proc.returncode}: {text}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"mosquitto did not listen on 127.0.0.1:{self.port} within {timeout:g} s")

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


def stop_players(procs: Iterable[subprocess.Popen], grace: float = 5.0) -> None:
    """Stop local player processes as Ctrl-C would (SIGINT to all of them first, so they end together), then
    kill each one still running ``grace`` seconds later."""
    procs = list(procs)
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
    for proc in procs:
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
