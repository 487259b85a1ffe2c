"""Frame sources behind one interface: a camera by index, a video file, a stream URL, a folder of images.

A source is opened, read frame by frame, and closed. ``read`` returns a :class:`Frame` (BGR uint8 pixels,
the frame's index and its time in seconds on the source's own clock: the file's timestamps or fps for files,
``None`` for live sources) or ``None`` when the source has ended; it raises :class:`SourceError` when the
source failed. Nothing here writes a frame anywhere: pixels only live in memory.
"""

from __future__ import annotations

import logging
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from installation.imagefile import read_image

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
VIDEO_SUFFIXES = {".avi", ".mp4", ".mkv", ".mov", ".webm", ".m4v", ".mpg", ".mpeg"}


class SourceError(RuntimeError):
    """The source cannot be opened or stopped delivering frames (a camera unplugged, a file gone)."""


@dataclass
class Frame:
    """One captured picture: ``image`` BGR uint8 (H, W, 3), ``index`` in the source (counting from 0 at each
    open), ``t`` seconds on the source's clock (None for live sources), ``captured_at`` the capture clock."""

    image: np.ndarray
    index: int
    t: float | None
    captured_at: float = 0.0


class FrameSource(ABC):
    """One source of frames; ``live`` sources (cameras, streams) have no timestamps of their own."""

    live: bool = False
    fps: float | None = None

    @abstractmethod
    def open(self) -> None:
        """Open (or reopen from the start); raise :class:`SourceError` on failure."""

    @abstractmethod
    def read(self) -> Frame | None:
        """The next frame, None at the end; raise :class:`SourceError` on failure."""

    def close(self) -> None:
        """Release the device or file (idempotent)."""
        return None

    @property
    def name(self) -> str:
        return type(self).__name__

    def __enter__(self) -> FrameSource:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _CvSource(FrameSource):
    """Shared by camera, file and stream: a ``cv2.VideoCapture``."""

    def __init__(self, target: int | str) -> None:
        self.target = target
        self._cap: cv2.VideoCapture | None = None
        self._index = 0

    @property
    def name(self) -> str:
        return str(self.target)

    def _capture(self) -> cv2.VideoCapture:
        return cv2.VideoCapture(self.target)

    def open(self) -> None:
        self.close()
        cap = self._capture()
        if not cap.isOpened():
            cap.release()
            raise SourceError(f"{self.name}: cannot open")
        self._cap = cap
        self._index = 0
        fps = cap.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if fps and math.isfinite(fps) and fps > 0 else None

    def read(self) -> Frame | None:
        if self._cap is None:
            raise SourceError(f"{self.name}: not open")
        ok, image = self._cap.read()
        if not ok or image is None:
            return self._no_frame()
        t = None if self.live else self._timestamp()
        frame = Frame(image, self._index, t)
        self._index += 1
        return frame

    def _timestamp(self) -> float:
        if self.fps:
            return self._index / self.fps
        msec = self._cap.get(cv2.CAP_PROP_POS_MSEC) if self._cap is not None else 0.0
        return float(msec) / 1000.0

    def _no_frame(self) -> Frame | None:
        return None

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


class CameraSource(_CvSource):
    """A camera by index; a failed read means the camera went away."""

    live = True

    def __init__(self, index: int = 0) -> None:
        super().__init__(int(index))

    @property
    def name(self) -> str:
        return f"camera {self.target}"

    def _no_frame(self) -> Frame | None:
        raise SourceError(f"{self.name}: no frame (unplugged?)")


class StreamSource(_CvSource):
    """A stream URL (rtsp://, http://...); a failed read means the stream dropped."""

    live = True

    def _no_frame(self) -> Frame | None:
        raise SourceError(f"{self.name}: stream dropped")


class VideoFileSource(_CvSource):
    """A video file; with ``loop`` it starts again at its end (timestamps keep increasing)."""

    def __init__(self, path: str | Path, loop: bool = False) -> None:
        super().__init__(str(path))
        self.path = Path(path)
        self.loop = loop
        self._offset = 0.0
        self._total = 0

    def open(self) -> None:
        if not self.path.is_file():
            raise SourceError(f"{self.path}: no such video file")
        super().open()
        self._offset, self._total = 0.0, 0  # timestamps and indices count from the start again

    def read(self) -> Frame | None:
        frame = super().read()
        if frame is None and self.loop and self._index > 0:
            self._offset += self._index / self.fps if self.fps else self._last_t + 1 / 30
            self._total += self._index
            super().open()
            frame = super().read()
        if frame is not None:
            self._last_t = frame.t or 0.0
            frame.t = (frame.t or 0.0) + self._offset
            frame.index += self._total
        return frame

    _last_t = 0.0


FOLDER_MAX_SIDE = 2048  # frames from an image folder stand in for a camera: no bigger than a 2K camera's


class ImageFolderSource(FrameSource):
    """Images of a folder in name order at ``fps``; unreadable images are skipped and logged once each (see
    installation/imagefile.py for what is not read). A whole round of the folder without one readable
    image raises :class:`SourceError`, so the capture thread backs off instead of spinning."""

    def __init__(self, folder: str | Path, fps: float = 10.0, loop: bool = False) -> None:
        self.folder = Path(folder)
        self.fps: float = float(fps)  # always a rate here, unlike a camera's or stream's

        self.loop = loop
        self._files: list[Path] = []
        self._pos = 0
        self._index = 0
        self._bad: dict[str, str] = {}  # path -> why, so each bad file is logged once (until it reads)

    @property
    def name(self) -> str:
        return str(self.folder)

    def open(self) -> None:
        if not self.folder.is_dir():
            raise SourceError(f"{self.folder}: no such folder")
        self._files = sorted(p for p in self.folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not self._files:
            raise SourceError(f"{self.folder}: no images")
        self._pos = 0
        self._index = 0

    def read(self) -> Frame | None:
        misses = 0
        while True:
            if self._pos >= len(self._files):
                if not self.loop:
                    return None
                self._pos = 0
            path = self._files[self._pos]
            self._pos += 1
            image, why = read_image(path, max_side=FOLDER_MAX_SIDE, bgr=True)
            if image is None:
                misses += 1
                if self._bad.get(str(path)) is None:
                    log.warning("skipping unreadable image %s: %s", path, why)
                self._bad[str(path)] = why or "unreadable"
                if misses >= len(self._files):
                    raise SourceError(f"{self.folder}: none of its {len(self._files)} image(s) can be read")
                if self._pos >= len(self._files) and not self.loop:
                    return None
                continue
            if self._bad.pop(str(path), None) is not None:
                log.info("image %s reads again", path)
            frame = Frame(image, self._index, self._index / self.fps)
            self._index += 1
            return frame


def open_source(spec: int | str | Path, *, loop: bool = False, fps: float = 10.0) -> FrameSource:
    """The source a show or command names: an int (or digits) is a camera index, ``scheme://`` a stream URL,
    a folder a folder of images, anything else a video file. The source is not opened yet."""
    if isinstance(spec, int) or (isinstance(spec, str) and spec.strip().isdigit()):
        return CameraSource(int(spec))
    text = str(spec)
    if "://" in text:
        return StreamSource(text)
    path = Path(text).expanduser()
    if path.is_dir():
        return ImageFolderSource(path, fps=fps, loop=loop)
    return VideoFileSource(path, loop=loop)
