"""Emotion -> art: each emotion maps to a style mixture over the generator's classes (by name); smoothed
emotion probabilities blend those mixtures; a worker thread paints candidates (generator -> upscaler, ONNX
Runtime, off the render thread) and keeps the one the encoder finds most in the intended style.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from installation.dark_border import first_without_dark_border

log = logging.getLogger(__name__)

# The shipped mapping, over the default pack's styles (the encoder's and generator's `classes`).
DEFAULT_MAPPING: dict[str, dict[str, float]] = {
    "angry": {"expressionism": 0.7, "baroque": 0.3},
    "disgust": {"symbolism": 0.6, "expressionism": 0.4},
    "fear": {"romanticism": 0.7, "baroque": 0.3},
    "happy": {"impressionism": 0.7, "post_impressionism": 0.3},
    "sad": {"symbolism": 0.6, "romanticism": 0.4},
    "surprise": {"post_impressionism": 0.6, "art_nouveau_modern": 0.4},
    "neutral": {"art_nouveau_modern": 0.6, "impressionism": 0.4},
}


class MappingError(ValueError):
    """An emotion -> style mapping names an emotion or a style the models do not know."""


def mapping_matrix(mapping: Mapping[str, Mapping[str, float]], labels: Sequence[str],
                   classes: Sequence[str]) -> np.ndarray:
    """(len(labels), len(classes)) rows = each emotion's normalised style mixture. Every emotion label must be
    mapped and every style must be one of ``classes``; otherwise :class:`MappingError` says which."""
    unknown_e = sorted(set(mapping) - set(labels))
    if unknown_e:
        raise MappingError(f"unknown emotion(s) {', '.join(unknown_e)}; the emotion model knows {', '.join(labels)}")
    missing = [e for e in labels if e not in mapping]
    if missing:
        raise MappingError(f"no style mixture for emotion(s) {', '.join(missing)}")
    rows = []
    for emotion in labels:
        weights = mapping[emotion]
        unknown = sorted(set(weights) - set(classes))
        if unknown:
            raise MappingError(f"{emotion}: unknown style(s) {', '.join(unknown)}; the generator knows "
                               f"{', '.join(classes)}")
        row = np.array([max(0.0, float(weights.get(c, 0.0))) for c in classes], np.float64)
        if row.sum() <= 0:
            raise MappingError(f"{emotion}: a style mixture needs at least one positive weight")
        rows.append(row / row.sum())
    return np.stack(rows)


def blend(probs: Mapping[str, float], matrix: np.ndarray, labels: Sequence[str]) -> np.ndarray:
    """The style mixture for emotion probabilities: sum_e p(e) * mixture(e), normalised (float32)."""
    p = np.array([max(0.0, float(probs.get(e, 0.0))) for e in labels], np.float64)
    if p.sum() <= 0:
        p = np.ones(len(labels))
    mix = (p / p.sum()) @ matrix
    return (mix / mix.sum()).astype(np.float32)


@dataclass
class PaintRequest:
    mixture: np.ndarray
    seed: int
    requested_at: float = 0.0  # perf_counter when asked (latency accounting)
    tag: object = None


@dataclass
class Painting:
    image: np.ndarray  # RGB uint8 (H, W, 3)
    mixture: np.ndarray  # intended style mixture
    style_probs: np.ndarray | None  # the encoder's style probabilities for the kept candidate
    score: float  # dot(style_probs, mixture), or 0 without an encoder
    seed: int
    request: PaintRequest
    timings: dict[str, float] = field(default_factory=dict)


def paint(request: PaintRequest, generator, upscaler=None, encoder=None, candidates: int = 4,
          select_on: str = "generated") -> Painting:
    """Generate ``candidates`` paintings of the request's mixture and keep the encoder's favourite (highest dot
    product of its style probabilities with the mixture), upscaled, passing over any that sits inside a dark
    border (:mod:`installation.dark_border`) while another does not. ``select_on="generated"`` rates the
    generator's images and upscales only the kept one (fast); ``"upscaled"`` upscales every candidate first."""
    from installation.inference.generator import to_uint8

    t0 = time.perf_counter()
    z = generator.latents(max(1, candidates), request.seed)
    images = generator.generate(z, request.mixture)
    t1 = time.perf_counter()
    upscale_all = upscaler is not None and select_on == "upscaled"
    if upscale_all:
        images = np.concatenate([upscaler.upscale(images[i : i + 1]) for i in range(len(images))])
    t2 = time.perf_counter()
    rated = to_uint8(images)
    scores = np.zeros(len(rated))
    probs = None
    if encoder is not None and len(rated) > 1:
        probs = encoder.encode(list(rated)).probs
        index = {c: i for i, c in enumerate(encoder.classes)}
        probs = probs[:, [index[c] for c in generator.classes]]  # in the generator's class order
        scores = probs @ request.mixture
    t3 = time.perf_counter()
    shown: dict[int, np.ndarray] = {}  # candidate -> its picture as the wall shows it, upscaled once

    def picture(k: int) -> np.ndarray:
        if k not in shown:
            shown[k] = rated[k] if upscaler is None or upscale_all else to_uint8(upscaler.upscale(images[k : k + 1]))[0]
        return shown[k]

    # the favourite, unless it sits inside a dark border (the data's letterbox bars) and another does not
    order = [int(k) for k in np.argsort(-scores, kind="stable")]
    best = first_without_dark_border(order, picture)
    best = order[0] if best is None else best
    image = picture(best)
    t4 = time.perf_counter()
    return Painting(image, request.mixture, None if probs is None else probs[best], float(scores[best]),
                    request.seed, request, {"generate": t1 - t0, "upscale": (t2 - t1) + (t4 - t3),
                                            "select": t3 - t2})


class PaintWorker:
    """A daemon thread that paints requests; only the newest pending request is kept (older ones are stale)."""

    def __init__(self, generator, upscaler=None, encoder=None, candidates: int = 4,
                 select_on: str = "generated") -> None:
        self.generator, self.upscaler, self.encoder = generator, upscaler, encoder
        self.candidates = candidates
        self.select_on = select_on
        self.results: queue.Queue[Painting] = queue.Queue()
        self._pending: PaintRequest | None = None
        self._cond = threading.Condition()
        self._stop = False
        self.busy = False
        self.errors = 0
        self._thread = threading.Thread(target=self._run, name="paint worker", daemon=True)
        self._thread.start()

    def submit(self, request: PaintRequest) -> None:
        with self._cond:
            self._pending = request
            self._cond.notify()

    @property
    def idle(self) -> bool:
        with self._cond:
            return self._pending is None and not self.busy

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._pending is None and not self._stop:
                    self._cond.wait()
                if self._stop:
                    return
                request, self._pending = self._pending, None
                assert request is not None  # the wait above ends with a request, or returns when stopping
                self.busy = True

            try:
                self.results.put(paint(request, self.generator, self.upscaler, self.encoder, self.candidates,
                                       self.select_on))
            except Exception:  # a model failure must not end the show: log, keep the last painting
                self.errors += 1
                log.exception("painting failed")
            finally:
                with self._cond:
                    self.busy = False

    def stop(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify()
        self._thread.join(timeout)
