"""Offline renders for the repeatability tests of the scenes that promise them."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def render_twice(show, tmp_path: Path, *, seconds: float, fps: int,  # noqa: ANN001
                 size: tuple[int, int]) -> list[list[np.ndarray]]:
    """``installation render`` of ``show`` twice into ``tmp_path``; the frames of each run, in order."""
    from installation.offline import render_show

    outs = []
    for run in range(2):
        out = tmp_path / f"run{run}"
        render_show(show, out, seconds=seconds, fps=fps, size=size)
        outs.append([cv2.imread(str(p)) for p in sorted(out.glob("*.png"))])
    return outs
