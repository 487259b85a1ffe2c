"""Getting images onto the GPU without stalling a frame.

Decoding and resizing run on a worker thread (:class:`ImageLoader`); finished arrays come back through
a queue; the GL thread then uploads them a few rows per frame into staging textures
(:class:`SlicedUploader`). Bad files are logged and skipped, never raised into the render loop.
"""

from __future__ import annotations

import itertools
import logging
import math
import queue
from collections import deque
from collections.abc import Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import moderngl
import numpy as np

from installation import imagefile
from installation.render.color import RGB8

log = logging.getLogger(__name__)

FITS = ("cover", "contain")
ImageSource = str | Path | bytes


def check_fit(fit: str) -> str:
    if fit not in FITS:
        raise ValueError(f"unknown fit {fit!r}; expected one of {', '.join(FITS)}")
    return fit


def read_image(source: ImageSource, max_side: int | None = None,
               background: RGB8 = (0, 0, 0)) -> tuple[np.ndarray | None, str | None]:
    """File path or encoded bytes -> (RGB uint8 (H, W, 3), None), or (None, why it cannot be read). The
    header is checked before decoding (installation/imagefile.py: size, pixel budget, aspect ratio), so an
    odd file costs nothing; ``max_side`` bounds the decoded size. Logs nothing: a caller that retries a
    file decides how often to say so."""
    return imagefile.read_image(source, max_side=max_side, background=background)


def source_name(source: ImageSource) -> str:
    return f"<{len(source)} bytes>" if isinstance(source, bytes) else str(source)


def decode_image(source: ImageSource) -> np.ndarray | None:
    """File path or encoded bytes -> RGB uint8 (H, W, 3), or None (logged) when it cannot be decoded."""
    rgb, error = read_image(source)
    if rgb is None:
        log.warning("skipping image %s: %s", source_name(source), error)
    return rgb


def fit_image(image: np.ndarray, size: tuple[int, int], fit: str = "cover", background: RGB8 = (0, 0, 0)) -> np.ndarray:
    """Resize ``image`` (gray, RGB or RGBA uint8) into ``size`` = (width, height) -> RGBA uint8, top row first.

    cover: scale to fill and crop the overflow centrally; contain: scale to fit and pad with ``background``.
    """
    check_fit(fit)
    img = np.asarray(image)
    if img.dtype != np.uint8:
        raise ValueError(f"image dtype {img.dtype}: expected uint8")
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    if img.ndim != 3 or img.shape[2] not in (3, 4) or img.shape[0] == 0 or img.shape[1] == 0:
        raise ValueError(f"image shape {img.shape}: expected (H, W), (H, W, 3) or (H, W, 4)")
    if img.shape[2] == 4:
        # Composite over the background: cells are opaque.
        alpha = img[:, :, 3:4].astype(np.float32) / 255.0
        bg = np.array(background, np.float32)
        img = np.round(img[:, :, :3] * alpha + bg * (1.0 - alpha)).astype(np.uint8)
    w, h = size
    ih, iw = img.shape[:2]
    scale = max(w / iw, h / ih) if fit == "cover" else min(w / iw, h / ih)
    out = np.empty((h, w, 4), np.uint8)
    out[:, :, :3] = background
    out[:, :, 3] = 255
    if fit == "cover":
        # Crop the source to the cell's aspect first, then scale only what is shown: scaling a long thin
        # image to cover a cell first would allocate the whole overflow (gigabytes for a sliver).
        cw, ch = min(iw, max(1, round(w / scale))), min(ih, max(1, round(h / scale)))
        x0, y0 = (iw - cw) // 2, (ih - ch) // 2
        crop = img[y0 : y0 + ch, x0 : x0 + cw]
        interp = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_CUBIC
        out[:, :, :3] = cv2.resize(crop, (w, h), interpolation=interp) if (cw, ch) != (w, h) else crop
    else:
        sw, sh = max(1, round(iw * scale)), max(1, round(ih * scale))
        interp = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_CUBIC
        scaled = cv2.resize(img, (sw, sh), interpolation=interp) if (sw, sh) != (iw, ih) else img
        x0, y0 = (w - sw) // 2, (h - sh) // 2
        out[y0 : y0 + sh, x0 : x0 + sw, :3] = scaled
    return out


@dataclass(frozen=True)
class _Request:
    source: ImageSource
    size: tuple[int, int]
    fit: str
    background: RGB8


def decode_side(header: imagefile.ImageHeader, size: tuple[int, int], fit: str) -> int | None:
    """The longest side an image needs to be decoded at to fill ``size`` with ``fit`` (None: full size):
    a big photograph in a small cell is decoded small (libjpeg's reduced decode) instead of in full."""
    w, h = size
    iw, ih = header.width, header.height
    scale = max(w / iw, h / ih) if fit == "cover" else min(w / iw, h / ih)
    return None if scale >= 1.0 else max(1, math.ceil(max(iw, ih) * scale))


def _load(request: _Request) -> np.ndarray | str:
    """The fitted RGBA pixels, or why the image cannot be used (a str; logged by whoever takes it)."""
    header, problem = imagefile.probe_image(request.source)
    if header is None or problem:
        return problem or imagefile.CORRUPT
    max_side = decode_side(header, request.size, request.fit)
    rgb, error = read_image(request.source, max_side, request.background)
    if rgb is None:
        return error or "unreadable"
    try:
        return fit_image(rgb, request.size, request.fit, request.background)
    except (ValueError, cv2.error) as exc:
        return str(exc)


class ImageLoader:
    """Decodes and fits images on worker threads; results come back through a queue to the GL thread."""

    def __init__(self, workers: int = 1) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="image-decode")
        self._done: queue.SimpleQueue[int] = queue.SimpleQueue()
        self._futures: dict[int, Future[np.ndarray | str]] = {}
        self._tokens = itertools.count(1)
        self.errors: dict[int, str] = {}  # token -> why it failed, until taken with take_error()

    def submit(
        self, source: ImageSource, size: tuple[int, int], fit: str = "cover", background: RGB8 = (0, 0, 0)
    ) -> int:
        """Queue one image; returns a token that :meth:`poll` or :meth:`wait` later hands back."""
        token = next(self._tokens)
        future = self._pool.submit(_load, _Request(source, (int(size[0]), int(size[1])), check_fit(fit), background))
        self._futures[token] = future
        future.add_done_callback(lambda _f: self._done.put(token))
        return token

    def poll(self) -> list[tuple[int, np.ndarray | None]]:
        """Finished images since the last call, without blocking: (token, RGBA or None when skipped)."""
        ready: list[tuple[int, np.ndarray | None]] = []
        while True:
            try:
                token = self._done.get_nowait()
            except queue.Empty:
                return ready
            future = self._futures.pop(token, None)
            if future is not None:  # None: already taken by wait()
                ready.append((token, self._result(token, future)))

    def wait(self, token: int) -> np.ndarray | None:
        """Block until ``token`` is decoded (used only when its image is needed on this very frame)."""
        future = self._futures.pop(token, None)
        return None if future is None else self._result(token, future)

    def cancel(self, token: int) -> None:
        future = self._futures.pop(token, None)
        if future is not None:
            future.cancel()

    @property
    def pending(self) -> int:
        return len(self._futures)

    def take_error(self, token: int) -> str | None:
        """Why ``token``'s image came back None (once; None if it did not fail)."""
        return self.errors.pop(token, None)

    def _result(self, token: int, future: Future[np.ndarray | str]) -> np.ndarray | None:
        try:
            result = future.result()
        except Exception as exc:  # a bug in decoding must not reach the render loop
            log.exception("image decode failed")
            result = f"decode failed: {type(exc).__name__}: {exc}"
        if isinstance(result, str):
            self.errors[token] = result
            while len(self.errors) > 256:  # a caller that never asks must not grow this
                self.errors.pop(next(iter(self.errors)))
            return None
        return result

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._futures.clear()


@dataclass
class _Job:
    key: Hashable
    pixels: np.ndarray  # RGBA (h, w, 4), top row first
    texture: moderngl.Texture
    row: int = 0


class SlicedUploader:
    """Uploads RGBA images into 2D staging textures ``rows_per_frame`` rows at a time (GL thread only).

    Texel row 0 holds the image's top row. Staging textures are pooled and handed back with
    :meth:`release` once their content has been baked elsewhere.
    """

    def __init__(self, ctx: moderngl.Context, size: tuple[int, int], rows_per_frame: int) -> None:
        self.ctx = ctx
        self.size = size
        self.rows_per_frame = max(1, int(rows_per_frame))
        self._jobs: deque[_Job] = deque()
        self._free: list[moderngl.Texture] = []

    def push(self, key: Hashable, pixels: np.ndarray) -> None:
        w, h = self.size
        if pixels.shape != (h, w, 4) or pixels.dtype != np.uint8:
            raise ValueError(f"staging upload {pixels.shape} {pixels.dtype}: expected ({h}, {w}, 4) uint8")
        texture = self._free.pop() if self._free else self.ctx.texture(self.size, 4)
        self._jobs.append(_Job(key, np.ascontiguousarray(pixels), texture))

    def pump(self, rows: int | None = None) -> list[tuple[Hashable, moderngl.Texture]]:
        """Spend one frame's budget of rows, oldest image first; returns the images now complete."""
        budget = self.rows_per_frame if rows is None else rows
        done = []
        while self._jobs and budget > 0:
            job = self._jobs[0]
            budget -= self._write(job, budget)
            if job.row >= self.size[1]:
                done.append((self._jobs.popleft().key, job.texture))
        return done

    def finish(self, key: Hashable) -> moderngl.Texture | None:
        """Upload what is left of ``key`` now (its image is needed on this frame)."""
        for job in self._jobs:
            if job.key == key:
                self._write(job, self.size[1])
                self._jobs.remove(job)
                return job.texture
        return None

    def discard(self, key: Hashable) -> None:
        for job in list(self._jobs):
            if job.key == key:
                self._jobs.remove(job)
                self._free.append(job.texture)

    def release(self, texture: moderngl.Texture) -> None:
        self._free.append(texture)

    def __contains__(self, key: Hashable) -> bool:
        return any(job.key == key for job in self._jobs)

    @property
    def pending(self) -> int:
        return len(self._jobs)

    def _write(self, job: _Job, budget: int) -> int:
        w, h = self.size
        n = min(budget, h - job.row)
        if n > 0:
            job.texture.write(job.pixels[job.row : job.row + n].tobytes(), viewport=(0, job.row, w, n))
            job.row += n
        return n

    def release_all(self) -> None:
        for job in self._jobs:
            job.texture.release()
        for texture in self._free:
            texture.release()
        self._jobs.clear()
        self._free.clear()
