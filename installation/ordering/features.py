"""Per-painting feature vectors: encoder embedding + CIELAB colour histogram + texture Gram matrices, and each
painting's mean lightness (which end of an order the wall opens on: installation/ordering/pipeline.py).

Each block is centred and scaled to unit mean squared norm (so no block dominates by its dimension count),
then weighted. Scaling a block as a whole keeps its geometry: the colour block is the square root of the
normalised histogram, so Euclidean distance inside it is the Hellinger distance. Features are cached per
collection by a content hash (file bytes + feature config + encoder file hash); :func:`load_cached` and
:func:`save_cached` are that cache, which the style lookup (installation/ordering/lookup.py) shares.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from installation.files import os_error_text, remove_quietly
from installation.hashing import file_sha256
from installation.imagefile import read_image

log = logging.getLogger(__name__)

FEATURE_VERSION = 1


@dataclass(frozen=True)
class FeatureConfig:
    work_size: int = 128  # colour and texture are measured on a square resize of this side
    lab_bins: tuple[int, int, int] = (4, 8, 8)  # L, a, b
    texture_filters: int = 8
    texture_kernel: int = 5
    texture_scales: tuple[int, ...] = (128, 64)
    texture_seed: int = 1234
    weights: dict = field(default_factory=lambda: {"embedding": 1.0, "colour": 1.0, "texture": 0.7})

    def key(self) -> str:
        return json.dumps({**asdict(self), "version": FEATURE_VERSION}, sort_keys=True)


@dataclass
class Features:
    names: list[str]
    matrix: np.ndarray  # (N, D) float32, blocks concatenated
    blocks: dict[str, tuple[int, int]]  # block name -> [start, stop) columns
    content_hash: str
    lightness: np.ndarray  # (N,) mean CIELAB L* (0 black - 100 white) of each image


def cache_dir() -> Path:
    """``$INSTALLATION_CACHE`` or ``~/.cache/installation``."""
    return Path(os.environ.get("INSTALLATION_CACHE") or Path.home() / ".cache" / "installation")


def content_hash(images: list[Path], config: FeatureConfig | Any, encoder: Path | None) -> str:
    """Hash of every image's name and bytes, the config (anything with a ``key()`` string) and the encoder file."""
    h = hashlib.sha256()
    for p in images:
        h.update(p.name.encode() + b"\0" + file_sha256(p).encode() + b"\n")
    h.update(config.key().encode())
    h.update(b"encoder:" + (file_sha256(encoder).encode() if encoder is not None and encoder.is_file() else b"none"))
    return h.hexdigest()


def cache_file(kind: str, digest: str) -> Path:
    """Where arrays of ``kind`` (``features``, ``embeddings``) for content hash ``digest`` are cached."""
    return cache_dir() / kind / f"{digest}.npz"


def load_cached(kind: str, digest: str) -> dict[str, np.ndarray] | None:
    """The arrays cached under ``kind``/``digest``, or None (absent; unreadable is logged and treated as absent)."""
    cache = cache_file(kind, digest)
    if not cache.is_file():
        return None
    try:
        with np.load(cache, allow_pickle=False) as z:
            return {name: z[name] for name in z.files}
    except Exception as exc:
        log.warning("%s cache %s unreadable (%s); recomputing", kind, cache, exc)
        return None


def save_cached(kind: str, digest: str, **arrays: Any) -> None:
    """Cache ``arrays`` under ``kind``/``digest``, atomically; a full disk costs the cache (logged), never the
    result, and leaves no half-written file."""
    cache = cache_file(kind, digest)
    tmp = cache.with_suffix(".tmp.npz")
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(tmp, **arrays)
        os.replace(tmp, cache)
    except OSError as exc:
        remove_quietly(tmp)
        log.warning("cannot write the %s cache %s: %s", kind, cache, os_error_text(exc))


def read_rgb(path: Path, max_side: int = 256) -> np.ndarray:
    """RGB uint8, shrunk so its longer side is at most ``max_side``; ValueError (with the reason) when the
    file is not an image within the limits of installation/imagefile.py or does not decode."""
    rgb, error = read_image(path, max_side=max_side)
    if rgb is None:
        raise ValueError(f"cannot read {path.name}: {error}")
    return rgb


def small_lab(rgb: np.ndarray, size: int = 64) -> np.ndarray:
    """An RGB uint8 image reduced to ``size`` x ``size`` in CIELAB (L* 0-100), float32: what the colour
    histogram and the mean lightness are measured on."""
    small = cv2.resize(rgb, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    return cv2.cvtColor(small, cv2.COLOR_RGB2LAB)


def lab_histogram(lab: np.ndarray, bins: tuple[int, int, int]) -> np.ndarray:
    """sqrt of the normalised CIELAB histogram (Euclidean distance between two = Hellinger distance * sqrt 2)."""
    lab = lab.reshape(-1, 3)
    lo, hi = np.array([0.0, -80.0, -80.0]), np.array([100.0, 80.0, 80.0])
    nb = np.array(bins)
    idx = np.clip(((lab - lo) / (hi - lo) * nb).astype(int), 0, nb - 1)
    flat = (idx[:, 0] * nb[1] + idx[:, 1]) * nb[2] + idx[:, 2]
    hist = np.bincount(flat, minlength=int(nb.prod())).astype(np.float64)
    return np.sqrt(hist / hist.sum())


def filter_bank(config: FeatureConfig) -> list[np.ndarray]:
    """A fixed, seeded bank of zero-mean, unit-norm random filters."""
    rng = np.random.default_rng(config.texture_seed)
    bank = []
    for _ in range(config.texture_filters):
        k = rng.standard_normal((config.texture_kernel, config.texture_kernel))
        k -= k.mean()
        bank.append((k / np.linalg.norm(k)).astype(np.float32))
    return bank


def texture_gram(rgb: np.ndarray, bank: list[np.ndarray], scales: tuple[int, ...]) -> np.ndarray:
    """Upper triangles of the Gram matrices of the bank's rectified responses, at each scale (signed sqrt)."""
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    out = []
    iu = np.triu_indices(len(bank))
    for s in scales:
        g = cv2.resize(grey, (s, s), interpolation=cv2.INTER_AREA)
        resp = np.stack([np.maximum(cv2.filter2D(g, -1, k, borderType=cv2.BORDER_REFLECT), 0).ravel() for k in bank])
        gram = resp @ resp.T / resp.shape[1]
        out.append(gram[iu])
    v = np.concatenate(out)
    return np.sign(v) * np.sqrt(np.abs(v))


def standardise_block(block: np.ndarray, per_dim: bool = False) -> np.ndarray:
    """Centre; optionally z-score each column; then scale so the mean squared row norm is 1."""
    b = block.astype(np.float64) - block.mean(0, keepdims=True)
    if per_dim:
        b = b / np.maximum(b.std(0, keepdims=True), 1e-8)
    rms = np.sqrt((b**2).sum(1).mean())
    return b / max(rms, 1e-12)


def load_encoder(path: Path | None):  # -> PaintingEncoder | None
    if path is None or not Path(path).is_file():
        return None
    from installation.inference.encoder import PaintingEncoder

    try:
        return PaintingEncoder(path, providers=["CPUExecutionProvider"],
                               threads=int(os.environ.get("INSTALLATION_THREADS", "1")))
    except Exception as exc:  # a broken encoder must not stop the ordering: colour + texture remain
        log.warning("encoder %s not usable (%s); ordering by colour and texture only", path, exc)
        return None


def compute_features(images: list[Path], config: FeatureConfig | None = None, encoder_path: Path | None = None,
                     use_cache: bool = True) -> Features:
    """Feature matrix for ``images`` (cached in :func:`cache_dir` by content hash)."""
    config = config or FeatureConfig()
    if encoder_path is None:
        from installation.pack import pack_path

        encoder_path = pack_path("encoder")
    encoder_path = Path(encoder_path) if Path(encoder_path).is_file() else None
    digest = content_hash(images, config, encoder_path)
    all_names = [p.name for p in images]
    z = load_cached("features", digest) if use_cache else None
    if z is not None:
        try:
            blocks = json.loads(str(z["blocks"]))
            cached = [str(n) for n in z["names"]]
            # A subset: files that did not read were left out. A cache written before lightness was kept
            # has none: recomputed once.
            if cached and set(cached) <= set(all_names) and "lightness" in z:
                return Features(cached, z["matrix"], {k: tuple(v) for k, v in blocks.items()}, digest,
                                z["lightness"])
        except Exception as exc:
            log.warning("feature cache %s unreadable (%s); recomputing", cache_file("features", digest), exc)
    rgbs, names = [], []
    for p in images:
        # A file that changed since the folder was scanned (or was never checked) is left out with a
        # warning: one bad file must not stop the ordering of the rest.
        try:
            rgbs.append(read_rgb(p))
            names.append(p.name)
        except ValueError as exc:
            log.warning("ordering: skipping %s", exc)
    if not rgbs:
        raise ValueError("no readable images to order")
    parts: dict[str, np.ndarray] = {}
    encoder = load_encoder(encoder_path)
    if encoder is not None:
        parts["embedding"] = standardise_block(encoder.embed(rgbs))
    labs = [small_lab(im) for im in rgbs]
    parts["colour"] = standardise_block(np.stack([lab_histogram(lab, config.lab_bins) for lab in labs]))
    bank = filter_bank(config)
    parts["texture"] = standardise_block(np.stack([texture_gram(im, bank, config.texture_scales) for im in rgbs]),
                                         per_dim=True)
    blocks, cols, start = {}, [], 0
    for name, block in parts.items():
        cols.append(block * config.weights.get(name, 1.0))
        blocks[name] = (start, start + block.shape[1])
        start += block.shape[1]
    matrix = np.concatenate(cols, axis=1).astype(np.float32)
    lightness = np.array([lab[..., 0].mean() for lab in labs], dtype=np.float32)  # mean L*: 0 black, 100 white
    if use_cache:  # a full disk costs the cache, not the order
        save_cached("features", digest, matrix=matrix, names=np.array(names), blocks=json.dumps(blocks),
                    lightness=lightness)
    return Features(names, matrix, blocks, digest, lightness)
