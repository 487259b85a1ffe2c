"""Frame writers for offline renders: .mp4 (mp4v), .avi (MJPG) or a folder of PNGs.

Frames go to a temporary name next to the destination and are moved into place only when everything was
written and (for videos) read back with the right frame count: a full disk or a crash never leaves a file
that looks finished. Problems raise :class:`VideoError` with a one-line message.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from abc import ABC, abstractmethod
from pathlib import Path

import cv2
import numpy as np

from installation.files import disk_full, os_error_text, remove_quietly

log = logging.getLogger(__name__)

FOURCC = {".mp4": "mp4v", ".avi": "MJPG"}  # H.264 is not in the opencv-python wheels


class VideoError(RuntimeError):
    """The frames cannot be written where asked (one line, for the operator)."""


def _reason(exc: OSError) -> str:
    return os_error_text(exc)  # "disk full" for ENOSPC: the operator's words, not errno's


def _failed(out: Path, otherwise: str) -> str:
    """Why OpenCV's writer (which only says yes or no) failed: a full disk when it is, else ``otherwise``."""
    return f"cannot write {out}: disk full" if disk_full(out) else f"cannot write {out}: {otherwise}"


class FrameWriter(ABC):
    """``write(rgb)`` per frame, then ``close()`` (publish) or ``abort()`` (remove everything)."""

    def __init__(self, out: Path, fps: float, size: tuple[int, int]) -> None:
        self.out, self.fps, self.size = Path(out), float(fps), (int(size[0]), int(size[1]))
        self.frames = 0
        try:
            self.out.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise VideoError(f"cannot write {self.out}: {_reason(exc)}") from exc

    def _check(self, rgb: np.ndarray) -> np.ndarray:
        w, h = self.size
        if rgb.shape != (h, w, 3) or rgb.dtype != np.uint8:
            raise ValueError(f"frame {rgb.shape} {rgb.dtype}: expected ({h}, {w}, 3) uint8")
        return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)

    @abstractmethod
    def write(self, rgb: np.ndarray) -> None: ...

    @abstractmethod
    def close(self) -> Path: ...

    @abstractmethod
    def abort(self) -> None: ...

    def __enter__(self) -> FrameWriter:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


class VideoFileWriter(FrameWriter):
    """One video file through cv2.VideoWriter (mp4v in .mp4, MJPG in .avi)."""

    def __init__(self, out: Path, fps: float, size: tuple[int, int]) -> None:
        super().__init__(out, fps, size)
        suffix = self.out.suffix.lower()
        # A hidden sibling (same file system, so the final rename is atomic), created now to fail early.
        self.partial = self.out.parent / f".{self.out.stem}.{os.getpid()}.partial{suffix}"
        try:
            self.partial.open("wb").close()
        except OSError as exc:
            raise VideoError(f"cannot write {self.out}: {_reason(exc)}") from exc
        # cv2's stubs lack VideoWriter_fourcc (they list only VideoWriter.fourcc); it exists at run time
        fourcc = cv2.VideoWriter_fourcc(*FOURCC[suffix])  # type: ignore[attr-defined]
        self._writer: cv2.VideoWriter | None = cv2.VideoWriter(str(self.partial), fourcc, self.fps, self.size)
        if not self._writer.isOpened():
            self.abort()
            raise VideoError(_failed(self.out, f"OpenCV has no {FOURCC[suffix]} encoder for {suffix} here"))

    def write(self, rgb: np.ndarray) -> None:
        assert self._writer is not None, "write after close or abort"
        self._writer.write(self._check(rgb))
        self.frames += 1
        # OpenCV's writer drops frames silently when the disk fills up: look now and then, so a long render
        # stops at once with the reason instead of running to the end for nothing.
        if self.frames % 30 == 0 and disk_full(self.partial):
            self.abort()
            raise VideoError(f"cannot write {self.out}: disk full (after {self.frames} frames)")

    def close(self) -> Path:
        assert self._writer is not None, "close after close or abort"
        self._writer.release()
        self._writer = None

        capture = cv2.VideoCapture(str(self.partial))
        readable = capture.isOpened()
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) if readable else -1
        capture.release()
        if count != self.frames:
            full = disk_full(self.partial)
            self.abort()
            if full:
                raise VideoError(f"cannot write {self.out}: disk full")
            raise VideoError(f"cannot write {self.out}: the video came out incomplete ({count} of {self.frames} "
                             "frames readable)")
        try:
            os.replace(self.partial, self.out)
        except OSError as exc:
            self.abort()
            raise VideoError(f"cannot write {self.out}: {_reason(exc)}") from exc
        return self.out

    def abort(self) -> None:
        writer: cv2.VideoWriter | None = getattr(self, "_writer", None)  # None too before __init__ sets it
        if writer is not None:
            writer.release()
            self._writer = None

        remove_quietly(self.partial)


class PngFolderWriter(FrameWriter):
    """``frame_00000.png``... in a folder (byte-identical for identical frames). Earlier ``frame_*.png`` in
    the folder are replaced; other files are left alone."""

    def __init__(self, out: Path, fps: float, size: tuple[int, int]) -> None:
        super().__init__(out, fps, size)
        if self.out.exists() and not self.out.is_dir():
            raise VideoError(f"cannot write {self.out}: it is a file, not a folder")
        try:
            self.partial = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.", suffix=".partial", dir=self.out.parent))
        except OSError as exc:
            raise VideoError(f"cannot write {self.out}: {_reason(exc)}") from exc

    def write(self, rgb: np.ndarray) -> None:
        ok, data = cv2.imencode(".png", self._check(rgb))
        if not ok:
            self.abort()
            raise VideoError(f"cannot encode frame {self.frames} as PNG")
        try:
            (self.partial / f"frame_{self.frames:05d}.png").write_bytes(data.tobytes())
        except OSError as exc:
            self.abort()
            raise VideoError(f"cannot write {self.out}: {_reason(exc)}") from exc
        self.frames += 1

    def close(self) -> Path:
        try:
            self.out.mkdir(exist_ok=True)
            for old in self.out.glob("frame_*.png"):
                old.unlink()
            for frame in sorted(self.partial.iterdir()):
                os.replace(frame, self.out / frame.name)
            self.partial.rmdir()
        except OSError as exc:
            self.abort()
            raise VideoError(f"cannot write {self.out}: {_reason(exc)}") from exc
        return self.out

    def abort(self) -> None:
        shutil.rmtree(self.partial, ignore_errors=True)


def open_writer(out: str | Path, fps: float, size: tuple[int, int]) -> FrameWriter:
    """A writer chosen by ``out``: ``.mp4``, ``.avi``, or anything without a suffix (or an existing folder)
    as a PNG folder. Raises :class:`VideoError` for other suffixes and unwritable places."""
    path = Path(out)
    suffix = path.suffix.lower()
    if suffix in FOURCC and not path.is_dir():
        return VideoFileWriter(path, fps, size)
    if not suffix or path.is_dir():
        return PngFolderWriter(path, fps, size)
    raise VideoError(f"cannot write {path}: expected a .mp4 or .avi file or a folder for PNG frames, got '{suffix}'")
