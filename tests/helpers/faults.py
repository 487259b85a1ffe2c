"""Files the fault tests break: a copy of the bundled models, a real video file for a camera."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np

PACK = Path(__file__).resolve().parents[2] / "assets" / "models"


def pack_copy(root: Path) -> Path:
    """The bundled models (real ONNX files) in a folder the test may damage."""
    root.mkdir(parents=True, exist_ok=True)
    for p in PACK.glob("*.onnx"):
        shutil.copy(p, root / p.name)
    return root


def write_noise_video(path: Path, frames: int = 30, fps: float = 20.0) -> Path:
    """A real MJPG file (no face: the mirror only has to keep its camera state)."""
    tmp = path.with_suffix(".part.avi")
    writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"MJPG"), fps, (160, 120))
    assert writer.isOpened()
    rng = np.random.default_rng(0)
    for _ in range(frames):
        writer.write(rng.integers(0, 255, (120, 160, 3), dtype=np.uint8))
    writer.release()
    tmp.rename(path)  # appears whole, as a camera does when it is plugged in
    return path
