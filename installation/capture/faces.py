"""Faces: OpenCV's Haar cascade on a downscaled gray frame (boxes in source pixels), and tracking of the
main face across frames by IoU association.

``FaceTracker(mode=...)``: ``largest`` or ``central`` picks the main face when none is tracked yet and keeps
following it while it overlaps its last box (IoU >= ``iou_threshold``), for up to ``max_missed`` frames
without a detection; ``aggregate`` marks every face as main (the group's emotions are averaged downstream).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from installation.geometry import Box, iou

log = logging.getLogger(__name__)


def default_cascade() -> Path:
    """The frontal-face Haar cascade opencv-python 4.x ships in ``cv2.data.haarcascades``."""
    return Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"  # type: ignore[attr-defined]


class FaceDetector:
    """Haar cascade face detector. ``max_side``: the frame's longer side is scaled down to this first."""

    def __init__(self, cascade: str | Path | None = None, *, max_side: int = 320, scale_factor: float = 1.1,
                 min_neighbors: int = 5, min_size: int = 24) -> None:
        path = Path(cascade) if cascade else default_cascade()
        self.classifier = cv2.CascadeClassifier(str(path))
        if self.classifier.empty():
            raise FileNotFoundError(f"{path}: not a readable Haar cascade")
        self.max_side = max_side
        self.scale_factor = scale_factor
        self.min_neighbors = min_neighbors
        self.min_size = min_size

    def detect(self, image: np.ndarray) -> list[Box]:
        """Face boxes in ``image`` (BGR or gray) pixels, largest first."""
        gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        h, w = gray.shape[:2]
        scale = min(1.0, self.max_side / max(h, w))
        small = gray if scale == 1.0 else cv2.resize(gray, (round(w * scale), round(h * scale)),
                                                     interpolation=cv2.INTER_AREA)
        found = self.classifier.detectMultiScale(small, scaleFactor=self.scale_factor, minNeighbors=self.min_neighbors,
                                                 minSize=(self.min_size, self.min_size))
        boxes: list[Box] = []
        for x, y, bw, bh in (found if len(found) else []):
            bx, by = round(x / scale), round(y / scale)
            bw, bh = round(bw / scale), round(bh / scale)
            boxes.append(Box(bx, by, min(bw, w - bx), min(bh, h - by)))
        boxes.sort(key=lambda b: b[2] * b[3], reverse=True)
        return boxes


@dataclass(frozen=True)
class TrackedFace:
    box: Box
    main: bool
    track_id: int


class FaceTracker:
    """Which detected face is the main one, frame after frame."""

    MODES = ("largest", "central", "aggregate")

    def __init__(self, mode: str = "largest", *, iou_threshold: float = 0.2, max_missed: int = 5,
                 smoothing: float = 0.0) -> None:
        if mode not in self.MODES:
            raise ValueError(f"face mode {mode!r}: expected one of {', '.join(self.MODES)}")
        if not 0.0 <= smoothing < 1.0:
            raise ValueError(f"smoothing {smoothing}: expected 0 <= smoothing < 1")
        self.mode = mode
        # the main face's box, followed: new = smoothing * previous + (1 - smoothing) * detected (detector jitter)
        self.smoothing = smoothing
        self.iou_threshold = iou_threshold
        self.max_missed = max_missed
        self._main: Box | None = None
        self._main_id = 0
        self._missed = 0
        self._next_id = 1

    def _pick(self, boxes: list[Box], size: tuple[int, int]) -> int:
        if self.mode == "central":
            cx, cy = size[0] / 2, size[1] / 2
            return min(range(len(boxes)), key=lambda i: (boxes[i][0] + boxes[i][2] / 2 - cx) ** 2
                       + (boxes[i][1] + boxes[i][3] / 2 - cy) ** 2)
        return max(range(len(boxes)), key=lambda i: boxes[i][2] * boxes[i][3])

    def update(self, boxes: list[Box], frame_size: tuple[int, int]) -> list[TrackedFace]:
        """Tracked faces for this frame's detections (``frame_size`` = (width, height))."""
        if not boxes:
            self._missed += 1
            if self._missed > self.max_missed:
                self._main = None
            return []
        if self.mode == "aggregate":
            return [TrackedFace(b, True, i) for i, b in enumerate(boxes)]
        main = -1
        if self._main is not None:
            overlaps = [iou(self._main, b) for b in boxes]
            best = int(np.argmax(overlaps))
            if overlaps[best] >= self.iou_threshold:
                main = best
        if main < 0:
            main = self._pick(boxes, frame_size)
            self._main_id = self._next_id
            self._next_id += 1
        elif self.smoothing > 0 and self._main is not None:
            a = self.smoothing
            boxes = list(boxes)
            boxes[main] = Box(*(round(a * p + (1 - a) * d) for p, d in zip(self._main, boxes[main])))
        self._main = boxes[main]
        self._missed = 0
        return [TrackedFace(b, i == main, self._main_id if i == main else 0) for i, b in enumerate(boxes)]


class OnnxFaceDetector:
    """An ONNX face detector in OpenCV's YuNet format (``cv2.FaceDetectorYN``, e.g. opencv_zoo's
    face_detection_yunet_2023mar.onnx), on the frame scaled to ``max_side``; same ``detect`` as the Haar one."""

    def __init__(self, path: str | Path, *, max_side: int = 320, score_threshold: float = 0.7) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"{self.path}: face detector model not found")
        try:
            self.net = cv2.FaceDetectorYN.create(str(self.path), "", (max_side, max_side), score_threshold)
        except cv2.error as exc:
            raise ValueError(f"{self.path}: not a face detector OpenCV can load (YuNet format): "
                             f"{str(exc).strip().splitlines()[-1]}") from None
        self.max_side = max_side

    def detect(self, image: np.ndarray) -> list[Box]:
        bgr = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image
        h, w = bgr.shape[:2]
        scale = min(1.0, self.max_side / max(h, w))
        small = bgr if scale == 1.0 else cv2.resize(bgr, (round(w * scale), round(h * scale)),
                                                    interpolation=cv2.INTER_AREA)
        self.net.setInputSize((small.shape[1], small.shape[0]))
        _, found = self.net.detect(small)
        boxes: list[Box] = []
        for row in found if found is not None else []:
            x, y = max(0, round(row[0] / scale)), max(0, round(row[1] / scale))
            bw, bh = round(row[2] / scale), round(row[3] / scale)
            if bw > 0 and bh > 0:
                boxes.append(Box(x, y, min(bw, w - x), min(bh, h - y)))
        boxes.sort(key=lambda b: b[2] * b[3], reverse=True)
        return boxes


def make_detector(spec: str | Path | None = None, max_side: int = 320) -> FaceDetector | OnnxFaceDetector:
    """``None``/``"haar"``: the Haar cascade; a ``.onnx`` path: :class:`OnnxFaceDetector`; an ``.xml``: a cascade."""
    if spec is None or str(spec) == "haar":
        return FaceDetector(max_side=max_side)
    if str(spec).lower().endswith(".onnx"):
        return OnnxFaceDetector(spec, max_side=max_side)
    return FaceDetector(spec, max_side=max_side)
