"""Pixel boxes, shared by face detection (capture/) and emotion classification (inference/), which import
nothing above them: this module sits below both."""

from __future__ import annotations

from typing import NamedTuple


class Box(NamedTuple):
    """An axis-aligned box in source-frame pixels: left ``x``, top ``y``, width ``w``, height ``h``.
    A tuple, so ``x, y, w, h = box`` and comparisons with plain 4-tuples keep working."""

    x: int
    y: int
    w: int
    h: int

    @property
    def area(self) -> int:
        return self.w * self.h


def iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Intersection over union of two (x, y, w, h) boxes; 0 when neither has an area."""
    ax2, ay2, bx2, by2 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    iw = max(0, min(ax2, bx2) - max(a[0], b[0]))
    ih = max(0, min(ay2, by2) - max(a[1], b[1]))
    inter = iw * ih
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0
