"""Frames by time: a file-like source (video file, image folder) read for the times a consumer asks for,
instead of as the wall clock goes. An offline render asks for show times, so its frames are the same on every
run; the live path keeps :class:`~installation.capture.thread.CaptureThread` (newest frame, paced).

:meth:`TimedReader.frame_at` is the source's frame for ``t``: the last frame whose timestamp is at most ``t``,
i.e. frame ``floor(t * fps)`` of a video file or of an image folder at its configured ``fps``. Frames are
decoded in order on the calling thread, as far as ``t`` needs and no further (one frame is read ahead to know
where the next one starts); nothing is paced, dropped by the clock or run on a thread. A looping source
continues its timestamps past its end (:class:`~installation.capture.sources.VideoFileSource`), so later times
land in its next pass; a source without ``loop`` holds its last frame once it has ended. Asking for an earlier
time than the last one reopens the source and decodes from its start.

Live sources (cameras, streams) have no frame for a time and are refused.
"""

from __future__ import annotations

import logging

from installation.capture.sources import Frame, FrameSource, SourceError
from installation.capture.thread import CaptureStats

log = logging.getLogger(__name__)

EPSILON = 1e-6  # seconds: a frame stamped t (up to the rounding of looped timestamps) is the frame for t


class TimedReader:
    """One file-like source read by time. ``state`` and ``stats`` mean what they mean on a
    :class:`~installation.capture.thread.CaptureThread` (``connecting`` until the first open, ``connected``,
    ``failed``: the source could not be opened or read, and is not retried: a render must not depend on when a
    retry happens), so a scene reports its health the same way for both."""

    def __init__(self, source: FrameSource) -> None:
        if source.live:
            raise ValueError(f"{source.name}: a live source has no frame for a time (use CaptureThread)")
        self.source = source
        self.state = "connecting"
        self.stats = CaptureStats()
        self.ended = False  # the source (without loop) has been read to its end; its last frame holds
        self._open = False
        self._current: Frame | None = None  # the frame for the time asked last
        self._next: Frame | None = None  # read ahead: the frame after it, whose time has not come yet

    def frame_at(self, t: float) -> Frame | None:
        """The source's frame for time ``t`` (seconds on the source's clock: 0 is its first frame); None when
        it has none (it failed, or ``t`` is before its first frame)."""
        if self.state == "failed":
            return None
        if self._current is not None and _time(self._current) > t + EPSILON:
            self._close()  # time went back: decode again from the start
        if not self._open and not self._start():
            return None
        while not self.ended:
            if self._next is None:
                self._next = self._read()
                if self._next is None:
                    break
            if _time(self._next) > t + EPSILON:
                break
            self._current, self._next = self._next, None
            self.stats.taken += 1
        return None if self.state == "failed" else self._current

    def _start(self) -> bool:
        try:
            self.source.open()
        except Exception as exc:  # SourceError, or a source's own bug: either way this source plays no frame
            self._failed(f"cannot open: {exc}")
            return False
        self._open, self.ended = True, False
        self._current = self._next = None
        if self.state != "connected":
            log.info("%s: reading by time (offline render)", self.source.name)
        self.state = "connected"
        return True

    def _read(self) -> Frame | None:
        try:
            frame = self.source.read()
        except Exception as exc:  # SourceError (e.g. no image of the folder reads) or a source's bug
            self._failed(f"{exc}" if isinstance(exc, SourceError) else f"{type(exc).__name__}: {exc}")
            return None
        if frame is None:
            self.ended = True
            log.info("%s: ended after %d frame(s); its last frame holds", self.source.name, self.stats.frames)
            return None
        self.stats.frames += 1
        return frame

    def _failed(self, message: str) -> None:
        self.state = "failed"
        self.stats.errors += 1
        self.stats.last_error = message
        log.warning("%s: %s; no frames from it for this cue (an offline render does not retry)", self.source.name,
                    message)
        self._close()

    def _close(self) -> None:
        self.source.close()
        self._open = False
        self._current = self._next = None

    def stop(self) -> None:
        """Close the source (the same call as CaptureThread's)."""
        self._close()


def _time(frame: Frame) -> float:
    return frame.t if frame.t is not None else 0.0


__all__ = ["EPSILON", "TimedReader"]
