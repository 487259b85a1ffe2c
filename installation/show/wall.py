"""The ``wall:`` section of a show: one virtual canvas split into named viewports (one per display), the
shared show epoch, and how far ahead fleet commands are scheduled.

    wall:
      canvas: 3840x1080
      grid: {rows: 1, cols: 2, bezel: 12mm, screen_mm: [1210, 680]}   # viewports r0c0, r0c1
      viewports: {overview: [0, 0, 3840, 1080]}                        # and/or explicit rectangles
      epoch: 2025-01-01T00:00:00Z        # show time = system clock - epoch (players agree on frames)
      margin: 16                         # canvas pixels rendered around a viewport, then cropped
      lead: 0.5                          # seconds ahead a fleet command takes effect

Field rules live in the model; the checks across keys (viewports inside the canvas, names unique) in
:func:`wall_problems`, which the loader turns into ``FILE:LINE wall.viewports.NAME: ...`` issues.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field, field_validator, model_validator

from installation.config import StrictModel, custom_error, describe
from installation.wall.layout import (
    DEFAULT_MARGIN,
    MAX_CANVAS_SIDE,
    MAX_MARGIN,
    MAX_VIEWPORTS,
    Rect,
    grid_viewports,
    parse_bezel,
    parse_epoch,
    valid_name,
)


def _epoch(value: Any) -> float:
    try:
        return parse_epoch(value)
    except ValueError as exc:
        raise custom_error(str(exc)) from None


def _canvas(value: Any) -> tuple[int, int]:
    """Like a display size, but a wall canvas may be larger: up to 16384 per side (GL viewport limit)."""
    if isinstance(value, str):
        parts = value.lower().replace("×", "x").split("x")
        if len(parts) == 2 and all(p.strip().isdigit() and len(p.strip()) < 7 for p in parts):
            value = [int(p) for p in parts]
    if not (isinstance(value, list | tuple) and len(value) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in value)):
        raise custom_error(f"expected [width, height] or 'WIDTHxHEIGHT', got {describe(value)}")
    w, h = int(value[0]), int(value[1])
    if not (16 <= w <= MAX_CANVAS_SIDE and 16 <= h <= MAX_CANVAS_SIDE):
        raise custom_error(f"each side of the canvas must be 16..{MAX_CANVAS_SIDE} pixels, got {w}x{h}")
    return w, h


class ViewportRect(StrictModel):
    """One display's part of the canvas, in canvas pixels: ``[x, y, width, height]`` or the mapping."""

    x: int = Field(ge=0, le=MAX_CANVAS_SIDE)
    y: int = Field(ge=0, le=MAX_CANVAS_SIDE)
    width: int = Field(ge=16, le=MAX_CANVAS_SIDE)
    height: int = Field(ge=16, le=MAX_CANVAS_SIDE)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, list):
            if len(value) != 4:
                raise custom_error(f"expected [x, y, width, height], got {describe(value)}")
            return dict(zip(("x", "y", "width", "height"), value, strict=True))
        return value

    def rect(self) -> Rect:
        return Rect(self.x, self.y, self.width, self.height)


class WallGrid(StrictModel):
    """``rows`` x ``cols`` equal tiles named ``r<row>c<col>``, ``bezel`` canvas pixels (or mm) apart."""

    rows: int = Field(ge=1, le=16)
    cols: int = Field(ge=1, le=16)
    bezel: float | str = 0
    screen_mm: tuple[float, float] | None = None  # visible width, height of one screen (a bezel in mm needs it)

    @field_validator("bezel", mode="after")
    @classmethod
    def _bezel(cls, value: float | str) -> float | str:
        try:
            parse_bezel(value)
        except ValueError as exc:
            raise custom_error(str(exc)) from None
        return value

    @field_validator("screen_mm", mode="after")
    @classmethod
    def _screen(cls, value: tuple[float, float] | None) -> tuple[float, float] | None:
        if value is not None and not all(10 <= v <= 100_000 for v in value):
            raise custom_error(f"screen_mm: each side 10..100000 mm, got {list(value)}")
        return value


class Wall(StrictModel):
    """A show played by several displays at once (see the module docstring)."""

    name: str | None = Field(None, max_length=64)  # the fleet's name in MQTT topics (default: 'default')
    canvas: Annotated[tuple[int, int], BeforeValidator(_canvas)] | None = None
    grid: WallGrid | None = None
    viewports: dict[str, ViewportRect] = Field(default_factory=dict)
    epoch: Annotated[float, BeforeValidator(_epoch)] | None = None
    margin: int = Field(DEFAULT_MARGIN, ge=0, le=MAX_MARGIN)
    lead: float = Field(0.5, ge=0.05, le=60.0)

    @field_validator("name", mode="after")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is not None and not valid_name(value):
            raise custom_error(f"wall names use letters, digits, '_', '-' and '.', got {describe(value)}")
        return value

    def layout(self) -> dict[str, Rect]:
        """Every viewport by name: the grid's tiles, then the explicit ones (a valid wall; see wall_problems)."""
        out: dict[str, Rect] = {}
        if self.grid is not None and self.canvas is not None:
            out.update(grid_viewports(self.canvas, self.grid.rows, self.grid.cols, self.grid.bezel,
                                      self.grid.screen_mm))
        out.update({name: v.rect() for name, v in self.viewports.items()})
        return out

    def viewport(self, name: str) -> Rect:
        """The viewport called ``name`` (``KeyError`` listing the known ones)."""
        layout = self.layout()
        if name not in layout:
            raise KeyError(f"no viewport '{name}' in the show's wall (known: {', '.join(layout) or 'none'})")
        return layout[name]


def wall_problems(wall: Any) -> list[tuple[tuple[str | int, ...], str]]:
    """Checks across the wall's keys on the raw (already model-valid) mapping: (location under ``wall``, message)."""
    if not isinstance(wall, dict):
        return []
    try:
        model = Wall.model_validate(wall)
    except Exception:
        return []  # the show model reports field errors
    out: list[tuple[tuple[str | int, ...], str]] = []
    has_views = model.grid is not None or bool(model.viewports)
    if has_views and model.canvas is None:
        out.append(((), "viewports need a canvas: WIDTHxHEIGHT (the whole wall in pixels)"))
        return out
    if model.canvas is None:
        return out
    names: dict[str, str] = {}
    if model.grid is not None:
        try:
            tiles = grid_viewports(model.canvas, model.grid.rows, model.grid.cols, model.grid.bezel,
                                   model.grid.screen_mm)
        except ValueError as exc:
            out.append((("grid",), str(exc)))
            tiles = {}
        names.update({name: "the grid" for name in tiles})
    if len(names) + len(model.viewports) > MAX_VIEWPORTS:
        out.append(((), f"at most {MAX_VIEWPORTS} viewports"))
    cw, ch = model.canvas
    for name, view in model.viewports.items():
        if not valid_name(name):
            out.append((("viewports", name), f"viewport names use letters, digits, '_', '-' and '.', got '{name}'"))
        if name in names:
            out.append((("viewports", name), f"viewport '{name}' is already named by {names[name]}"))
        names[name] = "an explicit viewport"
        r = view.rect()
        if not r.inside(model.canvas):
            out.append((("viewports", name), f"[{r.x}, {r.y}, {r.width}, {r.height}] reaches outside the "
                                             f"{cw}x{ch} canvas"))
    return out
