"""Capture: frame sources (camera, video file, stream URL, image folder), the newest-frame capture thread,
the by-time reader of files (offline renders), and face detection/tracking. Frames stay in memory: nothing
here writes pixels to disk or network."""

from installation.capture.sources import (
    CameraSource,
    Frame,
    FrameSource,
    ImageFolderSource,
    SourceError,
    StreamSource,
    VideoFileSource,
    open_source,
)
from installation.capture.thread import CaptureStats, CaptureThread
from installation.capture.timed import TimedReader

__all__ = ["CameraSource", "CaptureStats", "CaptureThread", "Frame", "FrameSource", "ImageFolderSource",
           "SourceError", "StreamSource", "TimedReader", "VideoFileSource", "open_source"]
