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
