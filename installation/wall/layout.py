"""The wall's geometry and its shared clock origin, as plain values (no GL, no network).

A wall is a virtual canvas (pixels) split into named viewports, one per display. The grid shorthand cuts
``rows`` x ``cols`` equal tiles out of the canvas, leaving ``bezel`` canvas pixels between neighbours (the
picture hidden behind the screens' frames, so lines run straight across them); a bezel in millimetres is
converted with the screens' visible size (``screen_mm``). Tiles are named ``r<row>c<col>`` from the top-left.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime

MAX_CANVAS_SIDE = 16384  # GL_MAX_VIEWPORT_DIMS on common GPUs and llvmpipe: the projection needs it
MAX_VIEWPORTS = 256
MAX_MARGIN = 256
DEFAULT_MARGIN = 16  # canvas pixels: Kuwahara radius 12 + tensor smoothing (2 sigma) reach this far
MIN_EPOCH, MAX_EPOCH = 946_684_800.0, 4_102_444_800.0  # 2000-01-01 .. 2100-01-01 UTC
_BEZEL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(px|mm)?\s*$")
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


@dataclass(frozen=True)
class Rect:
    """A viewport: left ``x``, top ``y``, ``width``, ``height`` in canvas pixels (origin top-left)."""

    x: int
    y: int
    width: int
    height: int

    @property
    def right(self) -> int:
        return self.x + self.width

    @property
    def bottom(self) -> int:
        return self.y + self.height

    def grown(self, margin: int, canvas: tuple[int, int]) -> Rect:
        """This rectangle with ``margin`` pixels on each side, clipped to the canvas."""
        x0, y0 = max(0, self.x - margin), max(0, self.y - margin)
        x1, y1 = min(canvas[0], self.right + margin), min(canvas[1], self.bottom + margin)
        return Rect(x0, y0, x1 - x0, y1 - y0)

    def inside(self, canvas: tuple[int, int]) -> bool:
        return self.x >= 0 and self.y >= 0 and self.right <= canvas[0] and self.bottom <= canvas[1]


def valid_name(name: str) -> bool:
    """Viewport and wall names: letters, digits, '_', '-', '.', up to 64 characters (they go into topics)."""
    return bool(_NAME.match(name))


def parse_bezel(value: object) -> tuple[float, str]:
    """``12``, ``"12px"``, ``"4.5mm"`` -> (amount, unit); ``ValueError`` otherwise."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        amount, unit = float(value), "px"
    elif isinstance(value, str) and (m := _BEZEL.match(value)):
        amount, unit = float(m.group(1)), m.group(2) or "px"
    else:
        raise ValueError(f"expected pixels (12 or '12px') or millimetres ('4.5mm'), got {value!r}")
    if not 0 <= amount <= 10_000:
        raise ValueError(f"bezel {amount:g}{unit}: expected 0..10000")
    return amount, unit


def grid_viewports(canvas: tuple[int, int], rows: int, cols: int, bezel: object = 0,
                   screen_mm: tuple[float, float] | None = None) -> dict[str, Rect]:
    """``rows`` x ``cols`` tiles named ``r<row>c<col>``; ``ValueError`` when they do not fit the canvas."""
    amount, unit = parse_bezel(bezel)
    w, h = canvas
    if unit == "mm":
        if screen_mm is None:
            raise ValueError("a bezel in mm needs screen_mm: [width, height], the screens' visible size")
        # tile + gap = tile * (1 + bezel/screen): solve the canvas width for the tile
        tile_w = w / (cols + (cols - 1) * amount / screen_mm[0])
        tile_h = h / (rows + (rows - 1) * amount / screen_mm[1])
        gap_x, gap_y = round(amount * tile_w / screen_mm[0]), round(amount * tile_h / screen_mm[1])
    else:
        gap_x = gap_y = round(amount)
    tw, th = (w - (cols - 1) * gap_x) // cols, (h - (rows - 1) * gap_y) // rows
    if tw < 16 or th < 16:
        raise ValueError(f"{rows}x{cols} tiles with a {gap_x}x{gap_y} px bezel leave {tw}x{th} px per tile on a "
                         f"{w}x{h} canvas (at least 16x16)")
    return {f"r{r}c{c}": Rect(c * (tw + gap_x), r * (th + gap_y), tw, th) for r in range(rows) for c in range(cols)}


def parse_epoch(value: object) -> float:
    """A show epoch: unix seconds (int/float or digits) or ISO 8601 with a time zone -> unix seconds."""
    if isinstance(value, bool):
        raise ValueError(f"expected unix seconds or an ISO 8601 time, got {value!r}")
    if isinstance(value, datetime):
        stamp = value
    elif isinstance(value, int | float):
        seconds = float(value)
        stamp = None
    elif isinstance(value, str):
        text = value.strip()
        try:
            seconds, stamp = float(text), None
        except ValueError:
            try:
                stamp = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
            except ValueError:
                raise ValueError(f"expected unix seconds or an ISO 8601 time such as 2025-01-01T00:00:00Z, "
                                 f"got {value!r}") from None
    else:
        raise ValueError(f"expected unix seconds or an ISO 8601 time, got {value!r}")
    if stamp is not None:
        if stamp.tzinfo is None:
            raise ValueError(f"{value!s}: give a time zone (Z or +01:00): players in other zones must agree")
        seconds = stamp.astimezone(UTC).timestamp()
    if not math.isfinite(seconds) or not MIN_EPOCH <= seconds <= MAX_EPOCH:
        raise ValueError(f"epoch {value!s}: expected a time between 2000 and 2100")
    return seconds
