"""Rolling frame-time statistics: fps, p50/p99 and dropped frames, for the status overlay and the kiosk."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FrameStatsSnapshot:
    frames: int  # frames in the rolling window
    fps: float
    p50_ms: float
    p99_ms: float
    dropped: int  # in the rolling window
    dropped_total: int  # since start

    def lines(self) -> list[str]:
        return [
            f"{self.fps:5.1f} fps",
            f"p50 {self.p50_ms:5.1f} ms  p99 {self.p99_ms:5.1f} ms",
            f"dropped {self.dropped} ({self.dropped_total} total)",
        ]


class FrameStats:
    """Keeps the last ``window`` frame times. A frame counts as dropped when it took more than
    ``drop_factor`` x the target interval (at vsync, the display showed the previous frame twice)."""

    def __init__(self, target_fps: float = 60.0, window: int = 600, drop_factor: float = 1.5) -> None:
        if target_fps <= 0:
            raise ValueError(f"target fps {target_fps}: must be > 0")
        self.target_interval = 1.0 / target_fps
        self.drop_threshold = drop_factor * self.target_interval
        self._times: deque[float] = deque(maxlen=max(2, window))
        self._last: float | None = None
        self.dropped_total = 0
        self.frames_total = 0

    def add(self, frame_seconds: float) -> None:
        """Record one frame's duration."""
        self._times.append(float(frame_seconds))
        self.frames_total += 1
        if frame_seconds > self.drop_threshold:
            self.dropped_total += 1

    def tick(self, now: float) -> None:
        """Record the frame that ends at wall-clock ``now`` (e.g. ``time.perf_counter()`` after the swap)."""
        if self._last is not None:
            self.add(now - self._last)
        self._last = now

    def reset(self) -> None:
        """Forget history, e.g. after a pause (the pause is not a dropped frame)."""
        self._times.clear()
        self._last = None

    def snapshot(self) -> FrameStatsSnapshot:
        if not self._times:
            return FrameStatsSnapshot(0, 0.0, 0.0, 0.0, 0, self.dropped_total)
        t = np.fromiter(self._times, np.float64)
        mean = float(t.mean())
        return FrameStatsSnapshot(
            frames=len(t),
            fps=1.0 / mean if mean > 0 else 0.0,
            p50_ms=float(np.percentile(t, 50)) * 1e3,
            p99_ms=float(np.percentile(t, 99)) * 1e3,
            dropped=int(np.count_nonzero(t > self.drop_threshold)),
            dropped_total=self.dropped_total,
        )
