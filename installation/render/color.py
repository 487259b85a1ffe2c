"""Colours as the render API takes them: ``(r, g, b)`` 0-255 integers or ``"#rrggbb"``."""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral

ColorLike = Sequence[int] | str
RGB8 = tuple[int, int, int]


def parse_color(value: ColorLike) -> RGB8:
    """``"#336699"``, ``"336699"`` or ``(51, 102, 153)`` -> ``(51, 102, 153)``; ValueError otherwise."""
    if isinstance(value, str):
        text = value.strip().lstrip("#")
        if len(text) != 6:
            raise ValueError(f"colour {value!r}: expected '#rrggbb'")
        try:
            return int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16)
        except ValueError:
            raise ValueError(f"colour {value!r}: expected '#rrggbb'") from None
    channels = tuple(value)
    if len(channels) != 3 or not all(isinstance(c, Integral) and 0 <= c <= 255 for c in channels):
        raise ValueError(f"colour {value!r}: expected three integers 0-255")
    return int(channels[0]), int(channels[1]), int(channels[2])


def to_unit(color: RGB8) -> tuple[float, float, float]:
    """0-255 -> 0-1 floats for uniforms and clear colours."""
    return color[0] / 255.0, color[1] / 255.0, color[2] / 255.0
