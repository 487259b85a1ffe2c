"""The painting encoder: images -> :class:`Encoding` (embeddings and style probabilities)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from installation.inference.model import OnnxModel


@dataclass(frozen=True)
class Encoding:
    """What the encoder says about N images, one row per image."""

    embedding: np.ndarray  # (N, D) float32
    probs: np.ndarray  # (N, K) float32, in the order of `classes`
    classes: tuple[str, ...]


def unit_rows(rows: np.ndarray) -> np.ndarray:
    """Embeddings scaled to unit length, float32 (zero rows stay zero): the encoder's space is compared by
    direction (cosine) wherever embeddings meet, since their norms are heavy-tailed."""
    rows = np.asarray(rows, dtype=np.float32)
    return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)


class PaintingEncoder(OnnxModel):
    kind = "encoder"
    size = 224

    def __init__(self, path: str | Path, *, providers: list[str] | None = None, threads: int | None = None) -> None:
        super().__init__(path, providers=providers, threads=threads)
        self.classes = self.meta_list("classes")

    def preprocess(self, images: np.ndarray | list[np.ndarray]) -> np.ndarray:
        """RGB uint8 images of any size -> float32 (N, 3, 224, 224) in [0, 1]."""
        out = np.empty((len(images), 3, self.size, self.size), dtype=np.float32)
        for i, img in enumerate(images):
            h, w = img.shape[:2]
            interp = cv2.INTER_AREA if min(h, w) > self.size else cv2.INTER_CUBIC
            out[i] = cv2.resize(img, (self.size, self.size), interpolation=interp).transpose(2, 0, 1) / 255.0
        return out

    def encode(self, images: np.ndarray | list[np.ndarray], batch: int = 32) -> Encoding:
        embeddings, probs = [], []
        for i in range(0, len(images), batch):
            e, p = self.session.run(["embedding", "probs"], {"image": self.preprocess(images[i : i + batch])})
            embeddings.append(e)
            probs.append(p)
        return Encoding(np.concatenate(embeddings), np.concatenate(probs), tuple(self.classes))

    def embed(self, images: np.ndarray | list[np.ndarray]) -> np.ndarray:
        """Only the embeddings (N, D)."""
        return self.encode(images).embedding
