"""Easing curves, the one implementation: show cues (timeline) and grid cells (compositor) both use these.

Evaluated on the CPU (float64, vectorised); shaders receive eased progress. A scalar in gives a float out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import overload

import numpy as np

EasingFn = Callable[[np.ndarray], np.ndarray]


def _linear(p: np.ndarray) -> np.ndarray:
    return p


def _ease_in(p: np.ndarray) -> np.ndarray:
    return p * p * p


def _ease_out(p: np.ndarray) -> np.ndarray:
    q = 1.0 - p
    return 1.0 - q * q * q


def _ease_in_out(p: np.ndarray) -> np.ndarray:
    q = -2.0 * p + 2.0
    return np.where(p < 0.5, 4.0 * p * p * p, 1.0 - q * q * q / 2.0)


def _smoothstep(p: np.ndarray) -> np.ndarray:
    return p * p * (3.0 - 2.0 * p)


EASINGS: dict[str, EasingFn] = {
    "linear": _linear,
    "ease_in": _ease_in,
    "ease_out": _ease_out,
    "ease_in_out": _ease_in_out,
    "smoothstep": _smoothstep,
}


def check_easing(name: str) -> str:
    """Return ``name`` if it is an easing, else raise ValueError listing the valid ones."""
    if name not in EASINGS:
        raise ValueError(f"unknown easing {name!r}; expected one of {', '.join(EASINGS)}")
    return name


@overload
def ease(name: str, progress: float) -> float: ...


@overload
def ease(name: str, progress: np.ndarray) -> np.ndarray: ...


def ease(name: str, progress: float | np.ndarray) -> float | np.ndarray:
    """Eased progress: input clipped to [0, 1]; every curve maps 0 -> 0 and 1 -> 1 exactly.
    A scalar gives a float, an array an array. ValueError for an unknown name."""
    p = np.clip(np.asarray(progress, dtype=np.float64), 0.0, 1.0)
    out = EASINGS[check_easing(name)](p)
    return float(out) if out.ndim == 0 else out
