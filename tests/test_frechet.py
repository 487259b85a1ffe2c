"""Frechet distance against closed forms."""

from __future__ import annotations

import numpy as np
import pytest

from models.frechet import frechet_distance, gaussian_stats


def test_same_gaussian_is_zero() -> None:
    mu, sigma = np.zeros(4), np.diag([1.0, 2.0, 3.0, 4.0])
    assert frechet_distance(mu, sigma, mu, sigma) == pytest.approx(0.0, abs=1e-9)


def test_mean_shift_and_scale_match_the_formula() -> None:
    # identical covariances: distance is the squared mean difference
    assert frechet_distance(np.zeros(3), np.eye(3), np.full(3, 2.0), np.eye(3)) == pytest.approx(12.0)
    # 1-D: (m1-m2)^2 + (s1-s2)^2
    d = frechet_distance(np.array([1.0]), np.array([[4.0]]), np.array([0.0]), np.array([[9.0]]))
    assert d == pytest.approx(1.0 + (2.0 - 3.0) ** 2)


def test_sample_estimate_separates_distributions() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2000, 5)), rng.normal(size=(2000, 5))
    c = rng.normal(loc=1.0, size=(2000, 5))
    near = frechet_distance(*gaussian_stats(a), *gaussian_stats(b))
    far = frechet_distance(*gaussian_stats(a), *gaussian_stats(c))
    assert near < 0.1 and far == pytest.approx(5.0, rel=0.15)


def test_embedding_fd_ignores_the_norm_and_keeps_the_direction() -> None:
    from models.frechet import embedding_fd

    rng = np.random.default_rng(0)
    a = rng.normal(size=(200, 8)) + 3.0
    b = rng.normal(size=(200, 8)) + 3.0
    outlier = b.copy()
    outlier[0] *= 50  # one heavy-tailed embedding: same direction, 50x the norm
    assert frechet_distance(*gaussian_stats(a), *gaussian_stats(outlier)) > 100 * frechet_distance(
        *gaussian_stats(a), *gaussian_stats(b))
    assert embedding_fd(a, outlier) == pytest.approx(embedding_fd(a, b))
    assert embedding_fd(a, b * 7) == pytest.approx(embedding_fd(a, b))
    turned = b.copy()
    turned[:, 0] -= 6.0  # another direction: far on the sphere
    assert embedding_fd(a, turned) > 10 * embedding_fd(a, b)
