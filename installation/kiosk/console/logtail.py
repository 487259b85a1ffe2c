"""The last lines of the kiosk's log, kept in memory for the console (``GET /console/api/log``).

One :class:`LogTail` handler on the root logger of the kiosk process keeps the newest :data:`KEEP_LINES`
records (the supervisor's lines; the player's own output too when the kiosk pipes it, i.e. with ``--log``).
Each line gets a sequence number so the page asks only for what is new. ``FILE:LINE`` references in a line
are found by :data:`FILE_LINE` so the page can show them apart.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import deque
from typing import Any

KEEP_LINES = 300
MAX_CHARS = 600  # of one line
FILE_LINE = re.compile(r"(?P<file>[^\s:'\"]+\.ya?ml):(?P<line>\d+)")


class LogTail(logging.Handler):
    def __init__(self, keep: int = KEEP_LINES) -> None:
        super().__init__(logging.INFO)
        self._lines: deque[dict[str, Any]] = deque(maxlen=keep)
        self._seq = 0
        self._lock2 = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = " ".join(record.getMessage().split())[:MAX_CHARS]
        except Exception:  # noqa: BLE001 - a bad format string must not break logging
            message = str(record.msg)[:MAX_CHARS]
        with self._lock2:
            self._seq += 1
            self._lines.append({"seq": self._seq, "time": record.created, "level": record.levelname,
                                "name": record.name, "message": message,
                                "where": [m.group(0) for m in FILE_LINE.finditer(message)][:5]})

    def since(self, seq: int = 0, limit: int = KEEP_LINES) -> dict[str, Any]:
        with self._lock2:
            lines = [line for line in self._lines if line["seq"] > seq][-limit:]
            return {"seq": self._seq, "now": time.time(), "lines": lines}


_TAIL: LogTail | None = None
_TAIL_LOCK = threading.Lock()


def log_tail() -> LogTail:
    """The process's one tail, attached to the root logger on first use."""
    global _TAIL
    with _TAIL_LOCK:
        if _TAIL is None:
            _TAIL = LogTail()
            logging.getLogger().addHandler(_TAIL)
        return _TAIL
