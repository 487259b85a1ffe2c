"""The live analysis thread: newest camera frame -> faces -> emotion, off the render thread.

It keeps only the newest :class:`Reading` (and, for the optional mirrored inset, the newest frame, in
memory). Frames are never written anywhere.
"""

from __future__ import annotations

import logging
import threading

import numpy as np

from installation.capture import CaptureThread
from installation.emotion.pipeline import EmotionPipeline, Reading

log = logging.getLogger(__name__)


class Analyzer:
    def __init__(self, capture: CaptureThread, pipeline: EmotionPipeline, keep_frame: bool = False) -> None:
        self.capture = capture
        self.pipeline = pipeline
        self.keep_frame = keep_frame
        self._lock = threading.Lock()
        self._reading: Reading | None = None
        self._frame: np.ndarray | None = None
        self._captured_at = 0.0
        self._stop = threading.Event()
        self.errors = 0
        self.frames = 0
        self._thread = threading.Thread(target=self._run, name="emotion analysis", daemon=True)

    def start(self) -> Analyzer:
        self.capture.start()
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            frame = self.capture.latest()
            if frame is None:
                self._stop.wait(0.005)
                continue
            try:
                reading = self.pipeline.process(frame.image, frame.captured_at)
            except Exception:  # a bad frame must not end the analysis
                self.errors += 1
                log.debug("analysis failed", exc_info=True)
                continue
            reading.timings["captured_at"] = frame.captured_at
            with self._lock:
                self._reading = reading
                self.frames += 1
                if self.keep_frame:
                    self._frame = frame.image
                    self._captured_at = frame.captured_at

    def take(self) -> Reading | None:
        """The newest reading not yet taken."""
        with self._lock:
            reading, self._reading = self._reading, None
            return reading

    def frame(self) -> np.ndarray | None:
        with self._lock:
            return self._frame

    @property
    def source_ok(self) -> bool:
        return self.capture.state == "connected"

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(2.0)
        self.capture.stop()
