"""Frechet distance between two Gaussians fitted to feature sets (the FID formula, in any space).

No torch, so the runtime's benchmarks and the model card's evaluation can use it without it.
"""

from __future__ import annotations

import numpy as np

from installation.inference.encoder import unit_rows


def gaussian_stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    features = np.asarray(features, dtype=np.float64)
    return features.mean(axis=0), np.cov(features, rowvar=False)


def _sqrtm_psd(a: np.ndarray) -> np.ndarray:
    vals, vecs = np.linalg.eigh((a + a.T) / 2)
    return (vecs * np.sqrt(np.clip(vals, 0, None))) @ vecs.T


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1^1/2 S2 S1^1/2)^1/2), computed with symmetric square roots
    so it stays real and non-negative."""
    root1 = _sqrtm_psd(sigma1)
    cross = _sqrtm_psd(root1 @ sigma2 @ root1)
    diff = mu1 - mu2
    return float(max(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(cross), 0.0))


def embedding_fd(a: np.ndarray, b: np.ndarray) -> float:
    """Frechet distance between two sets of encoder embeddings, on the unit sphere.

    The style encoder's embeddings are heavy-tailed: a few images with norms many times the median dominate
    the raw covariance, so a raw FD swings by orders of magnitude with one outlier. Their direction carries
    the style (the classifier head and the collection's nearest-neighbour search use cosine), so both sets
    are scaled to unit length first (:func:`~installation.inference.encoder.unit_rows`, as everywhere the
    embeddings meet). Distances are then small numbers (0 for identical sets; at most 6, since unit vectors'
    means differ by at most 2 and each covariance's trace is at most 1); compare them only with the
    real-vs-real floor measured the same way.
    """
    return frechet_distance(*gaussian_stats(unit_rows(a)), *gaussian_stats(unit_rows(b)))
