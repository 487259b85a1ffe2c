"""``installation generate``: synthesize a collection with the generator and upscaler (ONNX Runtime only).

Painting ``i`` of a collection is fully determined by the manifest: its latent code is drawn from
``seed + i`` and its style mixture is recorded by name, so any painting can be regenerated bit for bit
with the same model files (whose sha256 the manifest also records).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from installation.hashing import file_sha256
from installation.inference.generator import Generator, Upscaler, to_uint8

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"


@dataclass
class Painting:
    file: str
    latent_seed: int
    style: dict[str, float]


def plan(count: int, seed: int, styles: list[str], mix: float) -> list[Painting]:
    """Which style each painting gets: styles in turn, and with probability ``mix`` a blend of the
    painting's style with a random other one (weight 0.5-0.8 on its own style)."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        own = styles[i % len(styles)]
        style = {own: 1.0}
        if len(styles) > 1 and rng.random() < mix:
            other = styles[(i % len(styles) + 1 + int(rng.integers(len(styles) - 1))) % len(styles)]
            w = round(float(rng.uniform(0.5, 0.8)), 3)
            style = {own: w, other: round(1 - w, 3)}
        out.append(Painting(f"{i:04d}.png", seed + i, style))
    return out


def generate_collection(
    generator: Generator,
    out: Path,
    *,
    count: int,
    seed: int = 0,
    styles: list[str] | None = None,
    mix: float = 0.3,
    upscaler: Upscaler | None = None,
    batch: int = 8,
    progress: bool = True,
) -> dict:
    """Write ``count`` PNGs and ``manifest.json`` into ``out``; return the manifest."""
    styles = styles or generator.classes
    unknown = sorted(set(styles) - set(generator.classes))
    if unknown:
        raise ValueError(f"unknown style(s) {', '.join(unknown)}; the generator knows {', '.join(generator.classes)}")
    out.mkdir(parents=True, exist_ok=True)
    paintings = plan(count, seed, styles, mix)
    from tqdm import tqdm

    bar = tqdm(total=count, disable=not progress, desc="generate", unit="img")
    for start in range(0, count, batch):
        chunk = paintings[start : start + batch]
        z = np.concatenate([generator.latents(1, p.latent_seed) for p in chunk])
        style = np.stack([generator.mixture(p.style) for p in chunk])
        images = generator.generate(z, style)
        if upscaler is not None:
            images = upscaler.upscale(images)
        for p, img in zip(chunk, to_uint8(images)):
            path = out / p.file
            if not cv2.imwrite(str(path), cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 9]):
                raise OSError(f"{path}: could not write (disk full or read-only?)")
        bar.update(len(chunk))
    bar.close()
    manifest = {
        "format": 1,
        "seed": seed,
        "count": count,
        "resolution": generator.resolution * (upscaler.scale if upscaler else 1),
        "models": {
            "generator": {"file": generator.path.name, "sha256": file_sha256(generator.path)},
            **({"upscaler": {"file": upscaler.path.name, "sha256": file_sha256(upscaler.path)}} if upscaler else {}),
        },
        "latent": "numpy default_rng(latent_seed).standard_normal(latent_dim), float32",
        "paintings": [p.__dict__ for p in paintings],
    }
    tmp = out / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=1))
    tmp.replace(out / MANIFEST)
    return manifest
