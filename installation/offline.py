"""Offline renders: a show at a fixed frame rate on a headless (EGL) context into a video file or PNGs.

The same show and arguments give the same frames: time comes only from the frame index.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

from installation.player import FixedClock, Player, render_frames
from installation.render import create_context
from installation.show import Show, Timeline
from installation.video import open_writer

log = logging.getLogger(__name__)

DEFAULT_SIZE = (1280, 720)
FALLBACK_SECONDS = 60.0


@dataclass(frozen=True)
class RenderResult:
    out: Path
    frames: int
    size: tuple[int, int]
    fps: float


def frame_count(seconds: float, fps: float) -> int:
    """Frames in ``seconds`` at ``fps`` (at least one)."""
    return max(1, round(seconds * fps))


def render_show(show: Show, out: str | Path, *, seconds: float, fps: float, size: tuple[int, int],
                start: float = 0.0, viewport: str | None = None) -> RenderResult:
    """Render ``seconds`` of ``show`` from show time ``start``; raises ContextUnavailable / VideoError."""
    count = frame_count(seconds, fps)
    rc = create_context("headless", size)
    player = Player(show, rc.ctx, rc.size, offline=True, viewport=viewport)
    try:
        with open_writer(out, fps, rc.size) as writer:
            render_frames(rc, player, FixedClock(fps, start), count, writer.write)
    finally:
        player.release()
        rc.close()
    return RenderResult(Path(out), count, rc.size, fps)


def pass_length(show: Show, limit: int = 1000) -> float | None:
    """Seconds until the cue list comes back to a cue it already played, following cues' own ends; None
    when a cue holds or waits for its scene (``until: done``) before that."""
    timeline = Timeline(show)
    t, seen = 0.0, set()
    for _ in range(limit):
        ph = timeline.at(t)
        if ph.index in seen:
            return t
        seen.add(ph.index)
        if ph.end is None or not math.isfinite(ph.end):
            return None
        t = ph.end
    return None
