"""The heartbeat: one small JSON datagram to the supervisor per presented frame (protocol: the package doc).

:func:`from_env` returns a :class:`Heartbeat` (or None when ``INSTALLATION_HEARTBEAT`` is absent, i.e. a
plain ``installation run``). A datagram is fire-and-forget: a missing or slow supervisor never blocks the
render loop.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import time
from collections.abc import Callable
from typing import Any

from installation.address import parse_address
from installation.faults import FAULTS
from installation.player_link import HEARTBEAT_ENV

log = logging.getLogger(__name__)

STATS_INTERVAL = 0.25  # seconds between datagrams that carry the (numpy) statistics snapshot
ERRORS_PER_BEAT = 4  # fault reports per stats datagram: at most 16 a second, each one short line


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
    text = os.environ.get(HEARTBEAT_ENV)
    if not text:
        return None
    try:
        return Heartbeat(parse_address(text, HEARTBEAT_ENV))
    except ValueError:
        log.warning("%s=%r: expected HOST:PORT; no heartbeat", HEARTBEAT_ENV, text)
        return None
