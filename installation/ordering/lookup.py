"""Style lookup: which style an image is closest to (the encoder's style probabilities) and which paintings of
a collection it is most like (cosine similarity of the encoder's embeddings), for ``installation classify``.

Images are read through the bounded reader (installation/imagefile.py, via :func:`features.read_rgb`) and
encoded in batches; a collection's embeddings are cached by content hash in the ordering features' cache
(:func:`features.load_cached` / :func:`features.save_cached`, kind ``embeddings``), so a second lookup against
the same folder reads no painting again. An image that does not read is reported with its reason and left out.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from installation.inference.encoder import unit_rows
from installation.ordering.features import content_hash, load_cached, read_rgb, save_cached

log = logging.getLogger(__name__)

EMBEDDING_VERSION = 1
MAX_TOP = 100


@dataclass(frozen=True)
class EmbeddingConfig:
    """How images are read before the encoder sees them (part of the cache key)."""

    read_side: int = 256  # decoded at most this long a side; the encoder resizes to its 224

    def key(self) -> str:
        return json.dumps({"kind": "encoder-embedding", "read_side": self.read_side, "version": EMBEDDING_VERSION},
                          sort_keys=True)


@dataclass
class Embedded:
    """Encoded images: unit-length embeddings (N, D), style probabilities (N, K), and the files that failed."""

    paths: list[Path]
    embedding: np.ndarray
    probs: np.ndarray
    classes: tuple[str, ...]
    failed: dict[Path, str] = field(default_factory=dict)
    content_hash: str = ""
    cached: bool = False


@dataclass(frozen=True)
class Match:
    path: Path
    similarity: float  # cosine, -1..1


@dataclass(frozen=True)
class Lookup:
    """One image's answer: its style probabilities (most likely first) and its nearest paintings."""

    path: Path
    styles: dict[str, float]
    nearest: list[Match]

    @property
    def style(self) -> str:
        return next(iter(self.styles))

    def to_json(self) -> dict[str, Any]:
        return {"image": str(self.path), "style": self.style, "styles": self.styles,
                "nearest": [{"painting": str(m.path), "similarity": round(m.similarity, 6)} for m in self.nearest]}


def _chunks(items: Sequence[Path], size: int) -> Iterator[Sequence[Path]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def embed_images(paths: Sequence[Path], encoder: Any, *, batch: int = 32, config: EmbeddingConfig | None = None,
                 progress: Callable[[int, int], None] | None = None) -> Embedded:
    """Read and encode ``paths`` ``batch`` at a time (memory: one batch of decoded images)."""
    config = config or EmbeddingConfig()
    kept: list[Path] = []
    embeddings, probs = [], []
    failed: dict[Path, str] = {}
    for chunk in _chunks(list(paths), max(1, batch)):
        rgbs = []
        for path in chunk:
            try:
                rgbs.append(read_rgb(path, config.read_side))
                kept.append(path)
            except (ValueError, OSError) as exc:
                failed[path] = str(exc)
        if rgbs:
            encoded = encoder.encode(rgbs, batch=batch)
            embeddings.append(encoded.embedding)
            probs.append(encoded.probs)
        if progress is not None:
            progress(len(kept) + len(failed), len(paths))
    classes = tuple(encoder.classes)
    if not kept:
        return Embedded([], np.zeros((0, 0), np.float32), np.zeros((0, len(classes)), np.float32), classes, failed)
    return Embedded(kept, unit_rows(np.concatenate(embeddings)), np.concatenate(probs).astype(np.float32), classes,
                    failed)


def embed_collection(images: Sequence[Path], encoder: Any, encoder_path: Path | None, *, batch: int = 32,
                     use_cache: bool = True, config: EmbeddingConfig | None = None) -> Embedded:
    """:func:`embed_images` of a collection, cached by content hash (names and bytes of the images, the
    embedding config, the encoder file) in the ordering features' cache."""
    config = config or EmbeddingConfig()
    digest = content_hash(list(images), config, encoder_path)
    by_name = {p.name: p for p in images}
    z = load_cached("embeddings", digest) if use_cache else None
    if z is not None:
        try:
            names = [str(n) for n in z["names"]]
            classes = tuple(str(c) for c in z["classes"])
            if set(names) <= set(by_name) and classes == tuple(encoder.classes):
                failed = {by_name[str(n)]: str(r) for n, r in zip(z["failed_names"], z["failed_reasons"])
                          if str(n) in by_name}
                return Embedded([by_name[n] for n in names], z["embedding"], z["probs"], classes, failed, digest,
                                cached=True)
        except (KeyError, ValueError) as exc:
            log.warning("embedding cache for %s unreadable (%s); recomputing", digest[:12], exc)
    out = embed_images(images, encoder, batch=batch, config=config)
    out.content_hash = digest
    if use_cache and out.paths:
        save_cached("embeddings", digest, names=np.array([p.name for p in out.paths]), embedding=out.embedding,
                    probs=out.probs, classes=np.array(out.classes),
                    failed_names=np.array([p.name for p in out.failed], dtype=str),
                    failed_reasons=np.array(list(out.failed.values()), dtype=str))
    return out


def lookup(queries: Embedded, collection: Embedded | None, top: int = 5) -> list[Lookup]:
    """Each query's styles (most likely first) and its ``top`` nearest paintings of ``collection`` (cosine)."""
    top = max(1, min(int(top), MAX_TOP))
    sims = queries.embedding @ collection.embedding.T if collection is not None and collection.paths else None
    out = []
    for i, path in enumerate(queries.paths):
        order = np.argsort(-queries.probs[i], kind="stable")
        styles = {queries.classes[j]: round(float(queries.probs[i, j]), 6) for j in order}
        nearest: list[Match] = []
        if sims is not None and collection is not None:
            row = sims[i]
            best = np.argsort(-row, kind="stable")[:top]
            nearest = [Match(collection.paths[j], float(row[j])) for j in best]
        out.append(Lookup(path, styles, nearest))
    return out
