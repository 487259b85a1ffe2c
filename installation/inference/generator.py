"""The style-conditioned generator (and the upscaler that follows it).

Each returns one array (a batch of images), so no result type wraps it."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from installation.inference.model import OnnxModel


def to_uint8(images: np.ndarray) -> np.ndarray:
    """(N, 3, H, W) float in [0, 1] -> (N, H, W, 3) uint8 RGB."""
    return (np.clip(images, 0, 1).transpose(0, 2, 3, 1) * 255 + 0.5).astype(np.uint8)


class Generator(OnnxModel):
    kind = "generator"

    def __init__(self, path: str | Path, *, providers: list[str] | None = None, threads: int | None = None) -> None:
        super().__init__(path, providers=providers, threads=threads)
        self.classes = self.meta_list("classes")
        self.latent_dim = self.meta_int("latent_dim")
        self.resolution = self.meta_int("resolution")

    def mixture(self, weights: Mapping[str, float]) -> np.ndarray:
        """A style mixture vector from {class name: weight}; names must be the model's classes."""
        unknown = sorted(set(weights) - set(self.classes))
        if unknown:
            raise ValueError(f"unknown style(s) {', '.join(unknown)}; this model knows {', '.join(self.classes)}")
        vec = np.array([max(float(weights.get(c, 0.0)), 0.0) for c in self.classes], dtype=np.float32)
        if vec.sum() <= 0:
            raise ValueError("a style mixture needs at least one positive weight")
        return vec / vec.sum()

    def latents(self, n: int, seed: int) -> np.ndarray:
        return np.random.default_rng(seed).standard_normal((n, self.latent_dim)).astype(np.float32)

    def generate(self, z: np.ndarray, style: np.ndarray) -> np.ndarray:
        """Latents (N, latent_dim) and mixtures (N, K) -> float32 images (N, 3, R, R) in [0, 1]."""
        style = np.broadcast_to(np.asarray(style, np.float32), (len(z), len(self.classes)))
        return self.session.run(["image"], {"z": z.astype(np.float32), "style": np.ascontiguousarray(style)})[0]


class Upscaler(OnnxModel):
    kind = "upscaler"

    def __init__(self, path: str | Path, *, providers: list[str] | None = None, threads: int | None = None) -> None:
        super().__init__(path, providers=providers, threads=threads)
        self.scale = self.meta_int("scale")

    def upscale(self, images: np.ndarray) -> np.ndarray:
        """Float32 (N, 3, H, W) in [0, 1] -> (N, 3, scale*H, scale*W) in [0, 1]."""
        return self.session.run(["upscaled"], {"image": images.astype(np.float32)})[0]
