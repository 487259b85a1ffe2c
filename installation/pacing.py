"""Frame pacing for loops that have no vsync (offscreen rendering): hold them to a frame rate."""

from __future__ import annotations

import time


class Pacer:
    """Call :meth:`wait` once per frame to hold the loop to ``fps`` frames per second."""

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
