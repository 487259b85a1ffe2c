"""The console's live preview: a small JPEG of the player's current frame, shared by every viewer.

Each refresh costs the *player* one ``read_pixels`` and one PNG encoding on its render thread (the existing
``/screenshot`` path), so the preview asks for a new frame at most every :data:`PREVIEW_SECONDS`, however
many browsers watch, and only while someone does (the page stops polling when its tab is hidden). The
shrinking to :data:`PREVIEW_WIDTH` px and the JPEG encoding happen here, in the kiosk's HTTP thread, not in
the player. A screenshot already being taken (``/screenshot`` or another viewer) is never waited for: the
viewer gets the cached frame.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

PREVIEW_SECONDS = 2.0  # at most one new frame from the player per this many seconds
PREVIEW_WIDTH = 480  # px: enough for a phone, small over Wi-Fi (a few KiB to a few tens of KiB)
JPEG_QUALITY = 70


@dataclass(frozen=True)
class Frame:
    jpeg: bytes
    taken: float  # time.monotonic() when the player drew it
    cue: str | None


def to_jpeg(png: bytes, width: int = PREVIEW_WIDTH, quality: int = JPEG_QUALITY) -> bytes | None:
    """PNG bytes (a screenshot) -> a JPEG at most ``width`` px wide; None when it does not decode."""
    import cv2
    import numpy as np

    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    if image is None or image.size == 0:
        return None
    h, w = image.shape[:2]
    if w > width:
        image = cv2.resize(image, (width, max(1, round(h * width / w))), interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return data.tobytes() if ok else None


class Preview:
    """``shoot()``: PNG of the player's next frame (None: no player); ``slot``/``done``: the server's
    one-screenshot-at-a-time lock (shared with ``/screenshot``)."""

    def __init__(self, shoot: Callable[[], bytes | None], slot: Callable[[], bool], done: Callable[[], None],
                 cue: Callable[[], str | None], seconds: float = PREVIEW_SECONDS) -> None:
        self._shoot, self._slot, self._done, self._cue = shoot, slot, done, cue
        self.seconds = seconds
        self._frame: Frame | None = None
        self._lock = threading.Lock()
        self.taken = 0  # screenshots asked of the player (for tests and the report)

    def frame(self, now: float | None = None) -> Frame | None:
        """The newest preview; a new one is taken when the cached one is older than ``seconds``."""
        now = time.monotonic() if now is None else now
        with self._lock:
            cached = self._frame
        if cached is not None and now - cached.taken < self.seconds:
            return cached
        if not self._slot():  # one being taken (by /screenshot or another viewer): what we have
            return cached
        try:
            cue = self._cue()
            png = self._shoot()
            self.taken += 1
            jpeg = None if png is None else to_jpeg(png)
        finally:
            self._done()
        if jpeg is None:
            return None  # no player (restarting, safe mode): say so rather than show an old frame
        frame = Frame(jpeg, time.monotonic(), cue)
        with self._lock:
            self._frame = frame
        return frame
