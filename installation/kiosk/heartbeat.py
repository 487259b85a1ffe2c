"""The player's half of the kiosk contract: one small JSON datagram to 127.0.0.1 per presented frame.

The supervisor sets ``INSTALLATION_HEARTBEAT=HOST:PORT`` in the child's environment; :func:`from_env`
returns a :class:`Heartbeat` (or None when the variable is absent, i.e. a plain ``installation run``).
A datagram is fire-and-forget: a missing or slow supervisor never blocks the render loop.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import time
from collections.abc import Callable
from typing import Any

from installation.faults import FAULTS

log = logging.getLogger(__name__)

ENV = "INSTALLATION_HEARTBEAT"
PARENT_ENV = "INSTALLATION_KIOSK_PARENT"
STATS_INTERVAL = 0.25  # seconds between datagrams that carry the (numpy) statistics snapshot
ERRORS_PER_BEAT = 4  # fault reports per stats datagram: at most 16 a second, each one short line


def parse_address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host or "127.0.0.1", int(port)


def die_with_parent() -> None:
    """Linux: ask the kernel to SIGTERM this process when the supervisor dies (no orphaned players)."""
    parent = os.environ.get(PARENT_ENV)
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGTERM), 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if parent and parent.isdigit() and os.getppid() != int(parent):  # the parent died before prctl
        raise SystemExit(1)


class Heartbeat:
    """Call :meth:`beat` after each presented frame."""

    def __init__(self, address: tuple[str, int]) -> None:
        self.address = address
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setblocking(False)
        self.pid = os.getpid()
        self._last_stats = 0.0
        self._stats: dict[str, Any] = {}

    def beat(self, frames: int, cue: str | None = None, stats: Any = None,
             health: Callable[[], dict[str, Any]] | None = None) -> None:
        """``frames``: presented so far; ``stats``: a FrameStats and ``health``: the player's fault state
        (:meth:`installation.player.Player.health`), both sent 4 times a second, with up to
        :data:`ERRORS_PER_BEAT` new fault reports (installation/faults.py) taken from the queue each time."""
        now = time.monotonic()
        extra: dict[str, Any] = {}  # only in the datagrams 4 times a second: the rest stay small
        if now - self._last_stats >= STATS_INTERVAL and (stats is not None or health is not None):
            if stats is not None:
                snap = stats.snapshot()
                self._stats = {"fps": round(snap.fps, 3), "p50_ms": round(snap.p50_ms, 3),
                               "p99_ms": round(snap.p99_ms, 3), "dropped": snap.dropped,
                               "dropped_total": snap.dropped_total}
            if health is not None:
                try:
                    extra["health"] = health()
                except Exception:  # reporting must never cost a frame
                    log.debug("health snapshot failed", exc_info=True)
                errors = FAULTS.drain(ERRORS_PER_BEAT)
                if errors:  # sent once; a lost datagram loses them (the player log has them too)
                    extra["errors"] = errors
            self._last_stats = now
        msg = {"pid": self.pid, "t": now, "frames": frames, "cue": cue, **self._stats, **extra}
        with contextlib.suppress(OSError):  # nobody listening, buffer full: the next frame tries again
            self.sock.sendto(json.dumps(msg).encode(), self.address)

    def close(self) -> None:
        self.sock.close()


def from_env() -> Heartbeat | None:
    text = os.environ.get(ENV)
    if not text:
        return None
    try:
        address = parse_address(text)
    except ValueError:
        log.warning("%s=%r: expected HOST:PORT; no heartbeat", ENV, text)
        return None
    die_with_parent()
    signal.signal(signal.SIGTERM, _interrupt)  # the supervisor's SIGTERM: release GL and exit 0
    return Heartbeat(address)


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


class Pacer:
    """Holds an offscreen loop (which has no vsync) to ``fps`` frames per second."""

    def __init__(self, fps: float) -> None:
        self.interval = 1.0 / fps
        self.next = time.perf_counter()

    def wait(self) -> None:
        self.next += self.interval
        delay = self.next - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        elif delay < -self.interval:  # far behind (a stall): do not try to catch up
            self.next = time.perf_counter()
