"""Easing curves: map linear progress 0..1 to eased progress 0..1 (the same names as show scripts use)."""

from __future__ import annotations

from collections.abc import Callable


def _ease_in_out(x: float) -> float:
    return 2.0 * x * x if x < 0.5 else 1.0 - 2.0 * (1.0 - x) * (1.0 - x)


EASINGS: dict[str, Callable[[float], float]] = {
    "linear": lambda x: x,
    "ease_in": lambda x: x * x,
    "ease_out": lambda x: 1.0 - (1.0 - x) * (1.0 - x),
    "ease_in_out": _ease_in_out,
    "smoothstep": lambda x: x * x * (3.0 - 2.0 * x),
}


def ease(name: str, x: float) -> float:
    """Eased progress for linear progress ``x`` (clamped to 0..1). ``KeyError`` for an unknown name."""
    return EASINGS[name](min(1.0, max(0.0, x)))
