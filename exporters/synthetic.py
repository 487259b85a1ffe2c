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
    from installation.pack import PACK_FILES
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
    assert exporters_main(["sasr", "--checkpoint", str(u), "--out", str(root / PACK_FILES["upscaler"])]) == 0
    assert exporters_main(["encoder", "--checkpoint", str(e), "--out", str(root / "encoder.onnx")]) == 0
    shutil.copy(repo / "assets" / "models" / "emotion.onnx", root / "emotion.onnx")
    return root


# ---- camera-like videos of real face photographs ---------------------------------------------------------


def _wall(size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A room-like background: a smooth colour gradient with some blurred clutter, BGR."""
    w, h = size
    c0, c1 = rng.integers(40, 200, 3), rng.integers(40, 200, 3)
    ramp = np.linspace(0, 1, w)[None, :, None]
    img = (c0 * (1 - ramp) + c1 * ramp).repeat(h, 0).astype(np.float32)
    for _ in range(6):  # shelves, door frames: a few soft rectangles
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        cv2.rectangle(img, (x, y), (x + int(rng.integers(20, w // 3)), y + int(rng.integers(20, h // 3))),
                      rng.integers(20, 230, 3).tolist(), -1)
    return cv2.GaussianBlur(img, (0, 0), 6)


def portrait_frames(portrait: np.ndarray, count: int = 30, size: tuple[int, int] = (640, 480), seed: int = 0,
                    face_px: tuple[float, float] = (90, 260), noise: float = 4.0, blur: float = 0.8,
                    jpeg_quality: int = 70) -> tuple[list[np.ndarray], list[tuple[float, float, float]]]:
    """A camera-like clip of one face photograph (BGR or grey): the photograph, soft-edged, on a room-like
    background at a seeded scale (its side ``face_px`` pixels) and position, drifting and breathing a little
    from frame to frame, with sensor noise, lens blur and JPEG compression. Returns the frames (BGR) and,
    per frame, ``(scale, x, y)``: a point ``(u, v)`` of the photograph is at ``(x + scale*u, y + scale*v)``."""
    rng = np.random.default_rng(seed)
    photo = portrait if portrait.ndim == 3 else cv2.cvtColor(portrait, cv2.COLOR_GRAY2BGR)
    ph, pw = photo.shape[:2]
    w, h = size
    wall = _wall(size, rng)
    side = float(rng.uniform(*face_px))
    cx, cy = rng.uniform(0.3, 0.7) * w, rng.uniform(0.35, 0.6) * h
    phase = rng.uniform(0, 2 * np.pi, 3)
    yy, xx = np.mgrid[0:ph, 0:pw]
    ellipse = ((xx - pw / 2) / (0.5 * pw)) ** 2 + ((yy - ph / 2) / (0.52 * ph)) ** 2
    alpha = np.clip((1.0 - ellipse) / 0.12, 0, 1).astype(np.float32)  # soft oval edge, no square outline
    frames, placements = [], []
    for i in range(count):
        scale = side * (1 + 0.04 * np.sin(i / 9 + phase[0])) / max(pw, ph)
        x = cx + 12 * np.sin(i / 7 + phase[1]) - scale * pw / 2
        y = cy + 6 * np.sin(i / 5 + phase[2]) - scale * ph / 2
        m = np.float32([[scale, 0, x], [0, scale, y]])
        flags = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        face = cv2.warpAffine(photo.astype(np.float32), m, size, flags=flags)
        a = cv2.warpAffine(alpha, m, size, flags=cv2.INTER_LINEAR)[..., None]
        img = wall * (1 - a) + face * a
        if blur > 0:
            img = cv2.GaussianBlur(img, (0, 0), blur)
        img = img + rng.normal(0, noise, img.shape)
        img = np.clip(img, 0, 255).astype(np.uint8)
        ok, enc = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality])
        frames.append(cv2.imdecode(enc, cv2.IMREAD_COLOR) if ok else img)
        placements.append((float(scale), float(x), float(y)))
    return frames, placements


def portrait_video(path: Path, portrait: np.ndarray, count: int = 30, fps: float = 10.0,
                   **kwargs) -> tuple[Path, list[tuple[float, float, float]]]:
    """:func:`portrait_frames` written as an MJPG .avi (a camera's usual format); returns the placements."""
    frames, placements = portrait_frames(portrait, count, **kwargs)
    return write_video(path, frames, fps), placements
