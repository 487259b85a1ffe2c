"""Colours as the render API takes them: ``(r, g, b)`` 0-255 integers or ``"#rrggbb"``."""

from __future__ import annotations

from collections.abc import Sequence

from installation.config.values import colour_floats, parse_colour

ColorLike = Sequence[int] | str
RGB8 = tuple[int, int, int]


def parse_color(value: ColorLike) -> RGB8:
    """``"#336699"`` or ``(51, 102, 153)`` (a numpy array too) -> ``(51, 102, 153)``; ValueError otherwise.
    The configuration layer's one colour rule (:func:`installation.config.parse_colour`)."""
    return parse_colour(value)


def to_unit(color: RGB8) -> tuple[float, float, float]:
    """0-255 -> 0-1 floats for uniforms and clear colours."""
    return colour_floats(color)
