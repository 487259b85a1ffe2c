"""Frame -> faces -> emotion: detection, main-face tracking, classification and smoothing in one call.

Frames and crops only live in memory here (privacy): nothing is written to disk or sent anywhere.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from installation.capture.faces import FaceDetector, FaceTracker, OnnxFaceDetector
from installation.emotion.smoothing import EmaSmoother
from installation.geometry import Box
from installation.inference.emotion import EmotionClassifier


@dataclass
class FaceReading:
    box: Box
    main: bool
    probs: dict[str, float]


@dataclass
class Reading:
    """One analysed frame: every face, the main (or, in aggregate mode, the group's mean) raw probabilities,
    and the smoothed ones (None until a face was seen)."""

    t: float
    faces: list[FaceReading]
    probs: dict[str, float] | None
    smoothed: dict[str, float] | None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def has_face(self) -> bool:
        return bool(self.faces)


def mean_probs(readings: list[dict[str, float]]) -> dict[str, float]:
    keys = list(readings[0])
    return {k: float(np.mean([r[k] for r in readings])) for k in keys}


class EmotionPipeline:
    """Detector + tracker + classifier + EMA smoother. ``process(image, t)`` with ``t`` the frame's time."""

    def __init__(self, classifier: EmotionClassifier, detector: FaceDetector | OnnxFaceDetector | None = None,

                 tracker: FaceTracker | None = None, half_life: float = 1.0, classify_all: bool = True) -> None:
        self.classifier = classifier
        self.detector = detector or FaceDetector()
        self.tracker = tracker or FaceTracker()
        self.smoother = EmaSmoother(half_life)
        self.classify_all = classify_all

    @property
    def labels(self) -> list[str]:
        return self.classifier.labels

    def process(self, image: np.ndarray, t: float) -> Reading:
        t0 = time.perf_counter()
        boxes = self.detector.detect(image)
        t1 = time.perf_counter()
        tracked = self.tracker.update(boxes, (image.shape[1], image.shape[0]))
        chosen = tracked if self.classify_all else [f for f in tracked if f.main]
        emotions = self.classifier.classify_faces(image, [f.box for f in chosen])
        t2 = time.perf_counter()
        faces = [FaceReading(f.box, f.main, p) for f, p in zip(chosen, emotions.as_dicts())]
        main = [f.probs for f in faces if f.main]
        raw = mean_probs(main) if main else None
        smoothed = self.smoother.update(raw, t) if raw is not None else self.smoother.value
        return Reading(t, faces, raw, None if smoothed is None else dict(smoothed),
                       {"detect": t1 - t0, "classify": t2 - t1})
