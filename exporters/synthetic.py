"""Synthetic material for tests and benchmarks: camera-like videos of a real face (scikit-image's astronaut,
composited into plain frames) and a tiny random-weight model pack exported like the real one.

Library code (not under tests/) because ``bench/`` needs it too and must not import the tests. Needs the dev
extra (scikit-image) for the face and the train extra (torch) for :func:`tiny_pack`."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def astronaut_face(width: int = 110) -> np.ndarray:
    """Eileen Collins' head and shoulders from scikit-image's astronaut, BGR, ``width`` px wide."""
    from skimage import data as skdata

    img = cv2.cvtColor(skdata.astronaut(), cv2.COLOR_RGB2BGR)
    crop = img[20:260, 130:350]
    h = round(crop.shape[0] * width / crop.shape[1])
    return cv2.resize(crop, (width, h), interpolation=cv2.INTER_AREA)


def face_frames(count: int = 40, size: tuple[int, int] = (320, 240), absent: tuple[tuple[int, int], ...] = ((15, 25),),
                seed: int = 0) -> tuple[list[np.ndarray], list[bool]]:
    """Frames with the face drifting across a plain wall; frames in the ``absent`` [start, end) ranges have
    no face. Returns the frames (BGR) and whether each has the face."""
    w, h = size
    face = astronaut_face(round(110 * w / 320))
    fh, fw = face.shape[:2]
    rng = np.random.default_rng(seed)
    wall = np.full((h, w, 3), (150, 160, 170), np.uint8)
    frames, present = [], []
    for i in range(count):
        img = wall.copy()
        img += rng.integers(0, 6, img.shape, dtype=np.uint8)
        has = not any(a <= i < b for a, b in absent)
        if has:
            x = int(20 + (w - fw - 40) * (0.5 + 0.5 * np.sin(i / 7.0)))
            y = min(max(0, h - fh), int(10 + 5 * np.cos(i / 5.0)))
            img[y : y + fh, x : x + fw] = face[: h - y, : w - x]
        frames.append(img)
        present.append(has)
    return frames, present


def write_video(path: Path, frames: list[np.ndarray], fps: float = 10.0) -> Path:
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, (w, h))
    assert writer.isOpened(), "OpenCV cannot write MJPG here"
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def face_video(path: Path, count: int = 40, fps: float = 10.0, **kwargs) -> tuple[Path, list[bool]]:
    frames, present = face_frames(count, **kwargs)
    return write_video(path, frames, fps), present


STYLES = ("art_nouveau_modern", "baroque", "expressionism", "impressionism", "post_impressionism", "romanticism",
          "symbolism")


def tiny_pack(root: Path) -> Path:
    """A pack folder with the real emotion model and tiny random-weight generator (16 px, the default pack's
    7 style names), x2 upscaler and encoder, exported like the real ones (needs torch)."""
    import shutil

    import torch

    from exporters.__main__ import main as exporters_main
    from models.checkpoint import save_checkpoint
    from models.registry import create_model

    repo = Path(__file__).resolve().parents[1]  # the checkout: assets/models/emotion.onnx
    root.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    g = save_checkpoint(root / "g.ckpt", create_model("sagan", resolution=16, g_channels=4, d_channels=4,
                                                      latent_dim=8, classes=STYLES))
    u = save_checkpoint(root / "u.ckpt", create_model("sasr_x2", channels=8, n_groups=1, n_blocks=1))
    e = save_checkpoint(root / "e.ckpt", create_model("painting_encoder", classes=STYLES, work_size=112))
    assert exporters_main(["sagan", "--checkpoint", str(g), "--out", str(root / "sagan.onnx")]) == 0
    assert exporters_main(["sasr", "--checkpoint", str(u), "--out", str(root / "sasr_x4.onnx")]) == 0
    assert exporters_main(["encoder", "--checkpoint", str(e), "--out", str(root / "encoder.onnx")]) == 0
    shutil.copy(repo / "assets" / "models" / "emotion.onnx", root / "emotion.onnx")
    return root
