"""How often the mirror's per-frame reading agrees with its own emotion model on a well-aligned crop of the same
face: on videos where the face's true place is known (a photograph composited into camera-like frames,
exporters/synthetic.py), per frame, the argmax of the mirror's raw reading (detector -> tracker -> crop ->
model, :class:`EmotionPipeline`) against the argmax of the model on the *reference crop*: the face box found on
the pristine photograph, carried into the frame by the known placement, cut as a square ``reference_scale``
times that box. A frame where the mirror finds no face counts as a disagreement.

The reference's scale: FER-2013's 48 px faces were cut around a face detector's box on the *original* web
images; OpenCV's Haar box on a FER-2013 face (upscaled) covers 0.974 of its side (MODEL_CROP: 1.03 x a box found
on a camera-quality face), and on camera-like frames the Haar box is ~1.15 x the box Haar finds on the crisp
photograph of the same face (bench/mirror_agreement.py prints it). So the model's own crop of a crisp photo's
box is about 1.03 x 1.15 = 1.18 (:data:`REFERENCE_SCALE`); ``tight`` (1.03) is reported beside it.

Used by bench/mirror_agreement.py (the table) and the tests; nothing here runs in a show.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from installation.capture.faces import FaceDetector, FaceTracker
from installation.emotion.pipeline import EmotionPipeline
from installation.geometry import Box
from installation.inference.emotion import EmotionClassifier, FaceCrop

log = logging.getLogger(__name__)

REFERENCE_SCALE = 1.18


@dataclass(frozen=True)
class Clip:
    """A video of one photograph: per frame, where the photograph is (``(scale, x, y)``: photo point (u, v)
    is at (x + scale*u, y + scale*v)), and the face box on the photograph itself."""

    path: Path
    placements: Sequence[tuple[float, float, float]]
    face: tuple[int, int, int, int]  # (x, y, w, h) on the photograph
    name: str = ""

    def true_box(self, i: int) -> tuple[float, float, float, float]:
        s, x, y = self.placements[i]
        fx, fy, fw, fh = self.face
        return x + s * fx, y + s * fy, s * fw, s * fh


@dataclass(frozen=True)
class Variant:
    """One way of reading faces: the detector's working size (the frame's longer side is scaled to it) and the
    crop geometry fed to the model."""

    detect_size: int
    crop: FaceCrop
    smoothing: float = 0.0  # FaceTracker's box smoothing


@dataclass
class Tally:
    frames: int = 0
    agree: int = 0
    found: int = 0
    per_clip: dict[str, float] = field(default_factory=dict)

    @property
    def agreement(self) -> float:
        return self.agree / max(1, self.frames)

    @property
    def agreement_found(self) -> float:
        """Agreement over the frames where a face was found."""
        return self.agree / max(1, self.found)

    def to_json(self) -> dict[str, float | int]:
        return {"frames": self.frames, "agree": self.agree, "found": self.found, "agreement": self.agreement,
                "agreement_when_found": self.agreement_found}


def photo_face(photo: np.ndarray, detector: FaceDetector | None = None) -> tuple[int, int, int, int] | None:
    """The face box on a pristine photograph (Haar at full resolution, the largest face), or None."""
    detector = detector or FaceDetector(max_side=max(photo.shape[:2]))
    boxes = detector.detect(photo)
    return tuple(int(v) for v in boxes[0]) if boxes else None  # type: ignore[return-value]


def read_frames(path: Path) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    return frames


class _Replay:
    """A detector that answers with boxes found before (one detection pass serves every crop variant)."""

    def __init__(self, boxes: list[list[Box]]) -> None:
        self.boxes, self.i = boxes, 0

    def detect(self, image: np.ndarray) -> list[Box]:
        out = self.boxes[self.i]
        self.i += 1
        return out


def measure(clips: Sequence[Clip], model: str | Path, variants: dict[str, Variant], *,
            threads: int = 1, fps: float = 10.0, reference_scale: float = REFERENCE_SCALE,
            box_ratios: list[float] | None = None) -> dict[str, Tally]:
    """Agreement of each variant's reading with the reference on every frame of ``clips``; ``box_ratios``, when
    given, collects the side of the first variant's detected main box over the true box, per frame."""
    reference = EmotionClassifier(model, threads=threads, crop=FaceCrop(reference_scale, 0, True, "area"))
    classifiers = {name: EmotionClassifier(model, threads=threads, crop=v.crop) for name, v in variants.items()}
    detectors = {size: FaceDetector(max_side=size) for size in {v.detect_size for v in variants.values()}}
    tallies = {name: Tally() for name in variants}
    first = next(iter(variants.values()))
    for clip in clips:
        frames = read_frames(clip.path)
        truth = reference.predict([reference.crop(f, clip.true_box(i)) for i, f in enumerate(frames)]).argmax(1)
        found = {size: [d.detect(f) for f in frames] for size, d in detectors.items()}
        if box_ratios is not None:
            box_ratios += [boxes[0][2] / clip.true_box(i)[2] for i, boxes in enumerate(found[first.detect_size])
                           if boxes]
        for name, variant in variants.items():
            pipeline = EmotionPipeline(classifiers[name], _Replay(found[variant.detect_size]),  # type: ignore[arg-type]
                                       FaceTracker("largest", smoothing=variant.smoothing))
            tally, agree = tallies[name], 0
            for i, frame in enumerate(frames):
                reading = pipeline.process(frame, i / fps)
                tally.frames += 1
                if reading.probs is None:
                    continue
                tally.found += 1
                label = max(reading.probs, key=reading.probs.__getitem__)
                hit = int(reference.labels.index(label) == int(truth[i]))
                tally.agree += hit
                agree += hit
            tally.per_clip[clip.name or clip.path.stem] = agree / max(1, len(frames))
    return tallies
