"""``installation generate``: synthesize a collection with the generator and upscaler (ONNX Runtime only).

Painting ``i`` of a collection is fully determined by the manifest: its latent code is drawn from its
``latent_seed`` and its style mixture is recorded by name, so any painting can be regenerated bit for bit
with the same model files (whose sha256 the manifest also records).

With ``candidates > 1`` and an encoder, each painting is the best of several latent codes: the one the
encoder rates most in the asked-for mixture (probabilities weighted by the mixture), skipping any whose
embedding is a near duplicate of a painting already kept, and any whose picture, upscaled as the wall will
show it, sits inside a dark border (:mod:`installation.dark_border`) while another candidate is left.
``diversity`` D > 0 ranks candidates by rating - D x cosine to the nearest painting kept so far (maximal
marginal relevance): more varied collections for less style (measured in assets/models/MODEL_CARD.md).
Candidate ``j`` of painting ``i`` draws its code from ``seed + j * count + i``, so ``candidates=1`` is the
plain collection; the manifest records each kept painting's score and how many candidates it was chosen from.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from installation.dark_border import first_without_dark_border
from installation.files import atomic_write_bytes, atomic_write_text
from installation.hashing import file_sha256
from installation.inference.encoder import PaintingEncoder, unit_rows
from installation.inference.generator import Generator, Upscaler, to_uint8

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"


# Two paintings whose encoder embeddings are closer than this (cosine) read as the same picture.
NEAR_DUPLICATE_COSINE = 0.90


@dataclass
class Painting:
    file: str
    latent_seed: int
    style: dict[str, float]
    score: float | None = None  # the encoder's rating of the asked-for mixture, when selected
    candidates: int = 1


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
    encoder: PaintingEncoder | None = None,
    candidates: int = 1,
    diversity: float = 0.0,
    batch: int = 8,
    progress: bool = True,
) -> dict:
    """Write ``count`` PNGs and ``manifest.json`` into ``out``; return the manifest."""
    if candidates > 1 and encoder is None:
        raise ValueError("choosing among candidates needs an encoder")
    styles = styles or generator.classes
    unknown = sorted(set(styles) - set(generator.classes))
    if unknown:
        raise ValueError(f"unknown style(s) {', '.join(unknown)}; the generator knows {', '.join(generator.classes)}")
    out.mkdir(parents=True, exist_ok=True)
    paintings = plan(count, seed, styles, mix)
    if candidates > 1 and encoder is not None:
        paintings = select(generator, encoder, paintings, seed=seed, candidates=candidates, upscaler=upscaler,
                           diversity=diversity, batch=batch, progress=progress)
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
            ok, data = cv2.imencode(".png", cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 9])
            if not ok:
                raise ValueError(f"{path}: the painting could not be encoded as PNG")
            # through a temporary file: a full disk says so and leaves no half-written painting in the folder
            atomic_write_bytes(path, data.tobytes())
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
        **({"selection": {"candidates": candidates, "encoder": {"file": encoder.path.name,
                                                               "sha256": file_sha256(encoder.path)},
                          "score": "encoder probabilities . asked-for mixture, at the generator's resolution",
                          "near_duplicate_cosine": NEAR_DUPLICATE_COSINE,
                          "diversity": diversity,
                          "dark_border": "passed over when the picture as shown sits inside a dark border "
                                         "(installation/dark_border.py)"}}
           if candidates > 1 and encoder is not None else {}),
        "paintings": [p.__dict__ for p in paintings],
    }
    atomic_write_text(out / MANIFEST, json.dumps(manifest, indent=1))
    return manifest


def select(generator: Generator, encoder: PaintingEncoder, paintings: list[Painting], *, seed: int,
           candidates: int, upscaler: Upscaler | None = None, diversity: float = 0.0, batch: int = 8,
           progress: bool = True) -> list[Painting]:
    """Each painting's latent seed chosen among ``candidates`` (see the module docstring)."""
    from tqdm import tqdm

    count = len(paintings)
    kept: list[np.ndarray] = []  # unit embeddings of the paintings chosen so far
    out = []
    bar = tqdm(total=count, disable=not progress, desc="select", unit="img")
    for i, p in enumerate(paintings):
        seeds = [seed + j * count + i for j in range(candidates)]
        z = np.concatenate([generator.latents(1, s) for s in seeds])
        mix = generator.mixture(p.style)
        images = np.concatenate([generator.generate(z[k : k + batch], np.repeat(mix[None], len(z[k : k + batch]), 0))
                                 for k in range(0, len(z), batch)])
        enc = encoder.encode(list(to_uint8(images)))
        weights = np.array([p.style.get(c, 0.0) for c in enc.classes], dtype=np.float32)
        scores = enc.probs @ weights
        unit = unit_rows(enc.embedding)
        nearest = np.max(np.stack(kept) @ unit.T, axis=0) if kept else np.zeros(len(unit))  # cosine to the kept
        ranking = scores - diversity * np.maximum(nearest, 0.0)  # maximal marginal relevance
        fresh = [k for k in map(int, np.argsort(-ranking, kind="stable"))  # near duplicates of kept ones out
                 if nearest[k] < NEAR_DUPLICATE_COSINE]
        # judged as the wall will show it: the upscaler can darken a line the generator left just light enough
        best = first_without_dark_border(fresh, as_shown(images, upscaler))
        if best is None:
            best = fresh[0] if fresh else int(np.argmax(scores))
            log.warning("%s: no candidate left without a near duplicate or a dark border; keeping the best-rated",
                        p.file)
        kept.append(unit[best])
        out.append(Painting(p.file, seeds[best], p.style, round(float(scores[best]), 4), candidates))
        bar.update(1)
    bar.close()
    return out


def as_shown(images: np.ndarray, upscaler: Upscaler | None) -> Callable[[int], np.ndarray]:
    """Candidate ``k`` of the generator's ``images`` as the wall will show it: upscaled, uint8 RGB."""
    def shown(k: int) -> np.ndarray:
        return to_uint8(images[k : k + 1] if upscaler is None else upscaler.upscale(images[k : k + 1]))[0]
    return shown
