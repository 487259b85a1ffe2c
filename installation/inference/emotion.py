"""The facial-emotion classifier: face crops -> :class:`Emotions` (probabilities by label).

Preprocessing follows the model's contract (input ``image`` (N, 1, 64, 64) gray in [0, 1], labels from the
``labels`` metadata) and the crop the model was trained on (:data:`MODEL_CROP`): a square a little larger than
the detector's box, in proportion to the face's size (FER-2013's faces fill their image), the gray frame
zero-padded so boxes at the border still crop, shrunk to the input size by area averaging, scaled to [0, 1].
fer's own crop (:data:`FER_CROP`: a fixed 10 px margin, bilinear) is kept for comparison.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from installation.geometry import Box
from installation.inference.model import OnnxModel

# Names other data sets give our labels (CK+'s folders, the portraits' labels.csv): labels match by name.
LABEL_ALIASES = {"anger": "angry", "happiness": "happy", "sadness": "sad", "surprised": "surprise"}


def canonical_label(name: str) -> str:
    """A data set's emotion name as the models' label (``Happiness`` -> ``happy``)."""
    name = name.strip().lower()
    return LABEL_ALIASES.get(name, name)


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


@dataclass(frozen=True)
class FaceCrop:
    """How a detector's box becomes the model's input: a square ``scale`` times the box's longer side, centred on
    the box, plus ``margin`` pixels on each side (``scale=1, margin=10, square=False`` is fer's crop: the box
    grown by 10 px whatever the face's size); zero padding beyond the frame; resized with ``interpolation``
    (``area``: averaging, no aliasing when a large face shrinks to the input; ``linear``: cv2's default)."""

    scale: float = 1.0
    margin: int = 0
    square: bool = True
    interpolation: Literal["area", "linear"] = "area"
    equalize: bool = False  # histogram equalisation of the crop (FER-2013 faces were not equalised)

    def rect(self, box: Box | tuple[float, float, float, float]) -> tuple[int, int, int, int]:
        """(x1, y1, x2, y2) of the crop in frame pixels (may reach outside the frame)."""
        x, y, w, h = (float(v) for v in box)
        if self.square:
            side = self.scale * max(w, h) + 2 * self.margin
            cx, cy = x + w / 2, y + h / 2
            x1, y1 = round(cx - side / 2), round(cy - side / 2)
            return x1, y1, x1 + max(1, round(side)), y1 + max(1, round(side))
        sw, sh = self.scale * w + 2 * self.margin, self.scale * h + 2 * self.margin
        x1, y1 = round(x + w / 2 - sw / 2), round(y + h / 2 - sh / 2)
        return x1, y1, x1 + max(1, round(sw)), y1 + max(1, round(sh))


# fer's crop (what the mirror used before 2025-11): the box + 10 px on each side, bilinear
FER_CROP = FaceCrop(scale=1.0, margin=10, square=False, interpolation="linear")
# The crop of FER-2013's own faces, measured: OpenCV's frontal-face Haar box covers 0.974 of a FER-2013 image's side
# (median of 685 PublicTest faces; centred within 0.3 %), so the model was trained on the box with ~1.3 % margin
# on each side. bench/mirror_agreement.py measures the choice on camera-like videos (docs/emotion-mirror.md).
MODEL_CROP = FaceCrop(scale=1.03, margin=0, square=True, interpolation="area")


class EmotionClassifier(OnnxModel):
    kind = "emotion"

    def __init__(self, path: str | Path, *, providers: list[str] | None = None, threads: int | None = None,
                 crop: FaceCrop | None = None) -> None:
        super().__init__(path, providers=providers, threads=threads)
        self.labels = self.meta_list("labels")
        _, _, height, width = self.contract.inputs[0].shape
        assert isinstance(height, int) and isinstance(width, int), "the emotion contract fixes the input size"
        self.size = height, width
        self.face_crop = crop or MODEL_CROP

    def crop(self, image: np.ndarray, box: Box | tuple[float, float, float, float]) -> np.ndarray:
        """The gray uint8 (H, W) input crop of ``box`` in a BGR (or gray) frame (see :class:`FaceCrop`)."""
        gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        x1, y1, x2, y2 = self.face_crop.rect(box)
        fh, fw = gray.shape
        pad = max(0, -x1, -y1, x2 - fw, y2 - fh)
        if pad:
            gray = cv2.copyMakeBorder(gray, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
            x1, y1, x2, y2 = x1 + pad, y1 + pad, x2 + pad, y2 + pad
        face = gray[y1:y2, x1:x2]
        shrink = face.shape[0] > self.size[0] or face.shape[1] > self.size[1]
        interpolation = cv2.INTER_AREA if self.face_crop.interpolation == "area" and shrink else cv2.INTER_LINEAR
        out = cv2.resize(face, (self.size[1], self.size[0]), interpolation=interpolation)
        return cv2.equalizeHist(out) if self.face_crop.equalize else out

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
