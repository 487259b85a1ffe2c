"""Runtime faults the show survives (an image that will not decode, a model that will not load, a camera
that went away), collected in one place so the kiosk can show them.

The part of the player that meets a fault handles it (skips the image, falls back, retries) and logs it
itself, once; then it calls :func:`report` with a one-line message. Reports wait here in a short queue
until the kiosk heartbeat takes them (:meth:`FaultLog.drain`) and sends them to the supervisor, whose
``/status`` lists them under ``last_errors``. Without a kiosk nobody drains the queue: it is bounded, so
a long rehearsal does not grow it. A token bucket keeps a burst (a folder of broken files) from filling
the supervisor's list: past the burst, reports are counted and summarised in one line.

Stdlib only: scenes, the capture thread and the heartbeat all import this.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

KINDS = ("media", "model", "camera", "scene")
MESSAGE_CHARS = 240  # one line in /status, and a datagram stays well under one packet


class FaultLog:
    """Bounded, thread-safe queue of fault reports with per-kind counters."""

    def __init__(self, keep: int = 32, burst: int = 10, refill_seconds: float = 6.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._pending: deque[dict[str, Any]] = deque(maxlen=keep)
        self.counts: dict[str, int] = {}
        self.burst, self.refill_seconds, self.clock = burst, refill_seconds, clock
        self._tokens = float(burst)
        self._refilled = clock()
        self._suppressed = 0

    def report(self, kind: str, message: str, level: str = "error") -> None:
        """One fault (``level`` "error") or its end (``level`` "info": the camera is back, the file reads)."""
        with self._lock:
            if level == "error":
                self.counts[kind] = self.counts.get(kind, 0) + 1
            self._refill()
            if self._tokens < 1.0:
                self._suppressed += 1
                return
            self._tokens -= 1.0
            self._pending.append({"kind": kind, "level": level, "time": time.time(),
                                  "message": " ".join(str(message).split())[:MESSAGE_CHARS]})

    def _refill(self) -> None:
        now = self.clock()
        self._tokens = min(float(self.burst), self._tokens + (now - self._refilled) / self.refill_seconds)
        self._refilled = now
        if self._suppressed and self._tokens >= 1.0:  # say how many were left out, once there is room
            self._tokens -= 1.0
            self._pending.append({"kind": "faults", "level": "error", "time": time.time(),
                                  "message": f"{self._suppressed} more fault report(s) not listed; see the player log"})
            self._suppressed = 0

    def drain(self, limit: int = 4) -> list[dict[str, Any]]:
        """Take up to ``limit`` reports, oldest first (the heartbeat sends them on)."""
        with self._lock:
            self._refill()
            out: list[dict[str, Any]] = []
            while self._pending and len(out) < limit:

                out.append(self._pending.popleft())
            return out

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self.counts)


FAULTS = FaultLog()


def report(kind: str, message: str, level: str = "error") -> None:
    """Report a runtime fault to the process-wide :data:`FAULTS` (log it yourself, once, as well)."""
    FAULTS.report(kind, message, level)
