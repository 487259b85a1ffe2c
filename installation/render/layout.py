"""Where each cell of a rows x cols grid lands in a target: integer pixel rectangles, letterboxed."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class GridLayout:
    """Cells of ``cell_aspect`` (width / height; None = stretch to fill the target) separated by ``gap``
    pixels, the whole grid centred in ``target_size`` with background bars where the aspects differ."""

    target_size: tuple[int, int]
    rows: int = 14
    cols: int = 14
    gap: int = 0
    cell_aspect: float | None = 1.0

    def __post_init__(self) -> None:
        w, h = self.target_size
        if w <= 0 or h <= 0:
            raise ValueError(f"target size {self.target_size}: must be positive")
        if self.rows < 1 or self.cols < 1:
            raise ValueError(f"grid {self.rows}x{self.cols}: needs at least one row and one column")
        if self.gap < 0:
            raise ValueError(f"gap {self.gap}: must be >= 0")
        if self.cell_aspect is not None and self.cell_aspect <= 0:
            raise ValueError(f"cell aspect {self.cell_aspect}: must be > 0")
        cw, ch = self.cell_size_f
        if cw < 1 or ch < 1:
            raise ValueError(f"grid {self.rows}x{self.cols} with gap {self.gap} does not fit in {w}x{h}")

    @property
    def cell_size_f(self) -> tuple[float, float]:
        """Cell size in (fractional) pixels."""
        w, h = self.target_size
        free_w = w - (self.cols - 1) * self.gap
        free_h = h - (self.rows - 1) * self.gap
        cw, ch = free_w / self.cols, free_h / self.rows
        if self.cell_aspect is not None:
            # Letterbox: the tighter dimension decides, the other gets bars.
            cw, ch = min(cw, ch * self.cell_aspect), min(ch, cw / self.cell_aspect)
        return cw, ch

    @property
    def grid_rect(self) -> tuple[int, int, int, int]:
        """x, y, width, height of the grid (cells and gaps) in the target, origin top-left."""
        r = self.rects
        x0, y0 = int(r[:, 0].min()), int(r[:, 1].min())
        return x0, y0, int((r[:, 0] + r[:, 2]).max()) - x0, int((r[:, 1] + r[:, 3]).max()) - y0

    @property
    def rects(self) -> np.ndarray:
        """(rows*cols, 4) int32 x, y, width, height per cell, row-major, origin top-left. Edges are
        rounded from exact positions, so neighbouring cells never overlap and gaps stay exact."""
        w, h = self.target_size
        cw, ch = self.cell_size_f
        grid_w = self.cols * cw + (self.cols - 1) * self.gap
        grid_h = self.rows * ch + (self.rows - 1) * self.gap
        ox, oy = (w - grid_w) / 2.0, (h - grid_h) / 2.0
        col = np.arange(self.cols)
        row = np.arange(self.rows)
        x0 = np.round(ox + col * (cw + self.gap)).astype(np.int32)
        x1 = np.round(ox + col * (cw + self.gap) + cw).astype(np.int32)
        y0 = np.round(oy + row * (ch + self.gap)).astype(np.int32)
        y1 = np.round(oy + row * (ch + self.gap) + ch).astype(np.int32)
        xx0, yy0 = np.meshgrid(x0, y0)
        xx1, yy1 = np.meshgrid(x1, y1)
        return np.stack([xx0, yy0, xx1 - xx0, yy1 - yy0], axis=-1).reshape(-1, 4)

    @property
    def max_cell_size(self) -> tuple[int, int]:
        r = self.rects
        return int(r[:, 2].max()), int(r[:, 3].max())

    def index(self, cell: int | tuple[int, int]) -> int:
        """Row-major index of ``cell`` given as an index or ``(row, col)``; IndexError when outside."""
        if isinstance(cell, tuple):
            row, col = cell
            if not (0 <= row < self.rows and 0 <= col < self.cols):
                raise IndexError(f"cell {cell} outside a {self.rows}x{self.cols} grid")
            return row * self.cols + col
        if not 0 <= int(cell) < self.rows * self.cols:
            raise IndexError(f"cell {cell} outside a {self.rows}x{self.cols} grid")
        return int(cell)
