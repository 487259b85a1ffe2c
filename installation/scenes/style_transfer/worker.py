"""The stylize worker: newest captured frame -> stylized frame, on its own thread (ONNX Runtime releases the GIL).

The render thread only ever calls non-blocking methods: :meth:`StyleWorker.set_style` (the style the show
wants now), :meth:`StyleWorker.take` (the newest finished frame, if any) and :meth:`StyleWorker.painting`
(a style painting for the attract picture, if loaded; else it is queued). The worker drops every frame but
the newest (the capture thread keeps only that one), computes each painting's style vector once (cached), and
stylizes at most ``max_fps`` frames per second. Frames stay in memory; nothing is written anywhere.

An offline render of a file does not start the thread: the scene calls :meth:`StyleWorker.stylize` and
:meth:`StyleWorker.painting` (``now=True``) itself, with the same code and caches (see the scene).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from installation.scenes.style_transfer.schedule import StyleMix

log = logging.getLogger(__name__)

PREVIEW_SIDE = 1024  # style paintings shown as the attract picture: longer side at most this
PLAIN_SIDE = 384  # frames shown unstylized (no models) are resized like the default model's output
STYLE_READ_SIDE = 1024  # paintings are read at most this large before the predictor's 256 px centre square


@dataclass(frozen=True)
class StylizedFrame:
    """One finished frame: ``image`` RGB uint8 at the model's resolution (``strength`` applied, not mirrored),
    ``index`` and ``captured_at`` of the camera frame, ``seconds`` the stylization took, ``style`` used
    (None: shown unstylized, the models are missing)."""

    image: np.ndarray
    index: int
    captured_at: float
    seconds: float
    style: StyleMix | None


class StyleWorker:
    """``stylizer`` None: frames pass through unstylized (resized like stylized ones), so the scene still shows
    the camera when the models are missing. ``capture``: anything with ``latest() -> Frame | None``."""

    def __init__(self, stylizer: Any, capture: Any, styles: Sequence[Path], *, strength: float = 1.0,
                 max_fps: float = 30.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.stylizer = stylizer
        self.capture = capture
        self.styles = list(styles)
        self.strength = float(strength)
        self.min_period = 1.0 / max_fps
        self.clock = clock
        self.frames = 0  # frames stylized
        self.errors = 0
        self.busy_seconds = 0.0  # exponential average of one stylization, seconds
        self.bad: dict[int, str] = {}  # style index -> why it cannot be read
        self._lock = threading.Lock()
        self._mix = StyleMix(0, 0)
        self._result: StylizedFrame | None = None
        self._vectors: dict[int, Any] = {}
        self._previews: dict[int, np.ndarray] = {}
        self._wanted: list[int] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_start = -1e9

    # ---- render-thread side (never blocks on a model) ------------------------------------------------------

    def set_style(self, mix: StyleMix) -> None:
        with self._lock:
            self._mix = mix

    def take(self) -> StylizedFrame | None:
        """The newest finished frame not yet taken."""
        with self._lock:
            result, self._result = self._result, None
            return result

    def painting(self, index: int, *, now: bool = False) -> np.ndarray | None:
        """Painting ``index`` (RGB uint8, longer side <= PREVIEW_SIDE) when loaded; else queue it, None.
        ``now``: read it on the calling thread instead (an offline render, where the worker does not run)."""
        with self._lock:
            image = self._previews.get(index)
            if image is not None or index in self.bad:
                return image
            if not now:
                if index not in self._wanted:
                    self._wanted.append(index)
                return None
        image = self._read(index) if 0 <= index < len(self.styles) else None
        if image is not None:
            with self._lock:
                image = self._previews.setdefault(index, image)
        return image

    # ---- worker side ---------------------------------------------------------------------------------------

    def _read(self, index: int) -> np.ndarray | None:
        from installation.imagefile import read_image

        path = self.styles[index]
        image, why = read_image(path, max_side=max(PREVIEW_SIDE, STYLE_READ_SIDE))
        if image is None:
            if index not in self.bad:
                log.warning("style painting %s cannot be read (%s); the next readable one is used", path, why)
            self.bad[index] = why or "unreadable"
            return None
        return image

    def _vector(self, index: int) -> Any:
        """The style vector of painting ``index``, or of the nearest readable one after it (None: none reads)."""
        n = len(self.styles)
        for step in range(n):
            k = (index + step) % n
            if k in self._vectors:
                return self._vectors[k]
            if k in self.bad:
                continue
            image = self._read(k)
            if image is None:
                continue
            self._vectors[k] = self.stylizer.style_vector(image)
            with self._lock:
                self._previews.setdefault(k, image)
            return self._vectors[k]
        return None

    def _load_previews(self) -> None:
        with self._lock:
            wanted, self._wanted = self._wanted, []
        for k in wanted:
            if 0 <= k < len(self.styles) and k not in self._previews and k not in self.bad:
                image = self._read(k)
                if image is not None:
                    with self._lock:
                        self._previews[k] = image

    def process(self, rgb: np.ndarray, mix: StyleMix) -> np.ndarray:
        """One frame (RGB uint8) -> the picture to show, at the model's resolution, ``strength`` applied."""
        if self.stylizer is None:
            h, w = rgb.shape[:2]
            scale = PLAIN_SIDE / max(h, w)
            return cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
        a = self._vector(mix.a)
        if a is None:  # no painting reads: show the picture as it is
            return self.process_plain(rgb)
        vector = a if mix.settled else a.mix(self._vector(mix.b), mix.weight)
        stylized = self.stylizer.stylize(rgb, vector, size="model")
        if self.strength >= 1.0:
            return stylized
        h, w = stylized.shape[:2]
        original = cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA)
        return cv2.addWeighted(stylized, self.strength, original, 1.0 - self.strength, 0.0)

    def process_plain(self, rgb: np.ndarray) -> np.ndarray:
        stylizer, self.stylizer = self.stylizer, None
        try:
            return self.process(rgb, StyleMix(0, 0))
        finally:
            self.stylizer = stylizer

    def stylize(self, frame: Any, mix: StyleMix) -> StylizedFrame | None:
        """One captured frame (``image`` BGR, ``index``, ``captured_at``) in style ``mix``, on the calling thread
        (the worker's thread, or the scene's in an offline render); None when it failed (logged, counted)."""
        t0 = self.clock()
        try:
            rgb = cv2.cvtColor(frame.image, cv2.COLOR_BGR2RGB)
            image = self.process(rgb, mix)
        except Exception:  # a bad frame or a model failure must not end the worker
            self.errors += 1
            log.warning("stylizing a frame failed", exc_info=self.errors <= 3)
            return None
        seconds = self.clock() - t0
        self.busy_seconds = seconds if self.frames == 0 else 0.8 * self.busy_seconds + 0.2 * seconds
        self.frames += 1
        return StylizedFrame(image, frame.index, frame.captured_at, seconds, mix if self.stylizer is not None else None)

    def step(self) -> bool:
        """One iteration: queued paintings, then the newest frame if there is one and the rate allows.
        Returns True when a frame was stylized (tests drive the worker with this, without a thread)."""
        self._load_previews()
        wait = self._last_start + self.min_period - self.clock()
        if wait > 0:
            return False
        frame = self.capture.latest() if self.capture is not None else None
        if frame is None:
            return False
        with self._lock:
            mix = self._mix
        self._last_start = self.clock()
        result = self.stylize(frame, mix)
        if result is None:
            return False
        with self._lock:
            self._result = result
        return True

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self.step():
                wait = self._last_start + self.min_period - self.clock()
                self._stop.wait(min(max(wait, 0.003), 0.05))

    def start(self) -> StyleWorker:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="stylize", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
