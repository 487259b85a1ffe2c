"""The kiosk's log file: size-capped rotation, and a full disk costs log lines, never the show.

``installation kiosk --log FILE`` writes the supervisor's lines and every line the player prints (its
stdout and stderr, piped through the supervisor) to FILE, rotated at ``--log-max-mb`` into at most
``--log-backups`` old files, so weeks of running take a bounded amount of disk. Under systemd the same
lines still reach the journal through stderr, which has its own limits.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import IO

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
player_log = logging.getLogger("installation.player")


class CappedLogFile(RotatingFileHandler):
    """A rotating file whose write errors (disk full, folder gone, permissions changed) are counted and said
    once per ``quiet_seconds`` on stderr in one line, instead of the traceback logging prints by default."""

    def __init__(self, path: Path, max_bytes: int, backups: int, quiet_seconds: float = 600.0) -> None:
        super().__init__(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8", delay=False)
        self.setFormatter(logging.Formatter(FORMAT))
        self.failures = 0
        self._quiet = quiet_seconds
        self._last_told = -float("inf")

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        self.failures += 1
        now = time.monotonic()
        if now - self._last_told >= self._quiet:
            self._last_told = now
            exc = sys.exc_info()[1]
            print(f"kiosk: cannot write the log file {self.baseFilename} ({exc}); "
                  f"{self.failures} line(s) lost so far, the show goes on", file=sys.stderr, flush=True)


def open_log_file(path: Path, max_mb: float, backups: int) -> CappedLogFile:
    """Attach the capped log file to the root logger; OSError if it cannot be created (a user error)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = CappedLogFile(path, max_bytes=max(1, int(max_mb * 1024 * 1024)), backups=backups)
    logging.getLogger().addHandler(handler)
    return handler


def pump(stream: IO[bytes], pid: int) -> threading.Thread:
    """Copy a child's output into the log, line by line, until it closes (the child exited)."""

    def run() -> None:
        for raw in iter(stream.readline, b""):
            player_log.info("[%d] %s", pid, raw.decode("utf-8", errors="replace").rstrip())
        stream.close()

    thread = threading.Thread(target=run, name=f"player-{pid}-output", daemon=True)
    thread.start()
    return thread
