"""Super-resolution metrics and the bicubic degradation/baseline, in numpy only.

Numpy-only on purpose: the runtime and the benchmarks reuse these without importing torch.

Conventions (the ones published super-resolution numbers use, so ours compare with them):

- PSNR is measured on the Y channel of ITU-R BT.601 YCbCr (``Y = 16 + (65.481 R + 128.553 G + 24.966 B)``
  for RGB in [0, 1]), on the 0..255 scale, after cropping ``border`` pixels on every side.
- Low-resolution images are made with MATLAB-style ``imresize`` bicubic (cubic kernel a = -0.5,
  antialiased when downscaling, symmetric edges), rounded to uint8. The bicubic baseline upscales with
  the same function. Training (models/train/sasr.py) makes its LR inputs the same way.
"""

from __future__ import annotations

import math

import numpy as np

_Y_WEIGHTS = np.array([65.481, 128.553, 24.966])


def _as_float01(img: np.ndarray) -> np.ndarray:
    """uint8 images are divided by 255; float images are taken to be in [0, 1] already."""
    if img.dtype == np.uint8:
        return img.astype(np.float64) / 255.0
    return img.astype(np.float64)


def rgb_to_y(img: np.ndarray) -> np.ndarray:
    """BT.601 luma of an RGB (H, W, 3) image, on the 16..235 scale, float64."""
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"expected an RGB image (H, W, 3), got shape {img.shape}")
    return 16.0 + _as_float01(img) @ _Y_WEIGHTS


def psnr_y(a: np.ndarray, b: np.ndarray, border: int = 0) -> float:
    """PSNR in dB between two RGB images on the Y channel, ``border`` pixels cropped on each side.

    Accepts uint8 (0..255) or float (0..1) images. Identical images give ``inf``.
    """
    if a.shape != b.shape:
        raise ValueError(f"images differ in shape: {a.shape} vs {b.shape}")
    ya, yb = rgb_to_y(a), rgb_to_y(b)
    if border:
        if 2 * border >= min(ya.shape):
            raise ValueError(f"border {border} leaves nothing of a {ya.shape} image")
        ya, yb = ya[border:-border, border:-border], yb[border:-border, border:-border]
    mse = float(np.mean((ya - yb) ** 2))
    return math.inf if mse == 0 else 10.0 * math.log10(255.0**2 / mse)


def _cubic(x: np.ndarray, a: float = -0.5) -> np.ndarray:
    """Keys' cubic convolution kernel; a = -0.5 is MATLAB's choice (PyTorch/OpenCV use -0.75)."""
    ax = np.abs(x)
    ax2, ax3 = ax**2, ax**3
    near = (a + 2) * ax3 - (a + 3) * ax2 + 1
    far = a * ax3 - 5 * a * ax2 + 8 * a * ax - 4 * a
    return np.where(ax <= 1, near, np.where(ax < 2, far, 0.0))


def _resize_matrix(n_in: int, n_out: int, scale: float) -> np.ndarray:
    """Dense (n_out, n_in) interpolation matrix of MATLAB's imresize along one axis."""
    antialias = scale < 1
    width = 4.0 / scale if antialias else 4.0
    x = np.arange(1, n_out + 1, dtype=np.float64)
    u = x / scale + 0.5 * (1 - 1 / scale)  # output pixel centre in 1-based input coordinates
    left = np.floor(u - width / 2)
    taps = int(math.ceil(width)) + 2
    idx = left[:, None] + np.arange(taps)[None, :]  # 1-based input indices
    dist = u[:, None] - idx
    weights = scale * _cubic(scale * dist) if antialias else _cubic(dist)
    weights /= weights.sum(axis=1, keepdims=True)
    # Symmetric (mirror) edges, as MATLAB does: index -1 -> 0, n -> n-1.
    i0 = (idx - 1).astype(np.int64) % (2 * n_in)
    i0 = np.where(i0 >= n_in, 2 * n_in - 1 - i0, i0)
    mat = np.zeros((n_out, n_in))
    rows = np.repeat(np.arange(n_out), taps)
    np.add.at(mat, (rows, i0.ravel()), weights.ravel())
    return mat


def imresize(img: np.ndarray, scale: float) -> np.ndarray:
    """Bicubic resize by ``scale`` like MATLAB's ``imresize`` (output size ``ceil(size * scale)``).

    uint8 in gives uint8 out (rounded); float in gives float64 out (not clipped).
    """
    h, w = img.shape[:2]
    out_h, out_w = int(math.ceil(h * scale)), int(math.ceil(w * scale))
    rows, cols = _resize_matrix(h, out_h, scale), _resize_matrix(w, out_w, scale)
    x = img.astype(np.float64)
    if x.ndim == 2:
        out = rows @ x @ cols.T
    else:
        out = np.einsum("oh,hwc->owc", rows, x)
        out = np.einsum("pw,owc->opc", cols, out)
    if img.dtype == np.uint8:
        return np.clip(np.round(out), 0, 255).astype(np.uint8)
    return out


def modcrop(img: np.ndarray, scale: int) -> np.ndarray:
    """Crop the bottom/right so both sides are multiples of ``scale``."""
    h, w = img.shape[:2]
    return img[: h - h % scale, : w - w % scale]


def degrade(hr: np.ndarray, scale: int) -> np.ndarray:
    """The low-resolution input for ``hr`` (uint8 RGB, already modcropped): bicubic downscale, uint8."""
    return imresize(hr, 1.0 / scale)


def bicubic_baseline(hr: np.ndarray, scale: int) -> tuple[np.ndarray, np.ndarray]:
    """``(lr, upscaled)`` for a uint8 RGB image: its degraded input and that input upscaled by bicubic.

    ``hr`` is modcropped first; compare ``upscaled`` with ``modcrop(hr, scale)``.
    """
    lr = degrade(modcrop(hr, scale), scale)
    return lr, imresize(lr, float(scale))
