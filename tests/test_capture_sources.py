"""Capture: sources, newest-frame-only, reconnect with backoff (injected clock), face detection + tracking."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from exporters.synthetic import face_frames, face_video
from installation.capture import (
    CaptureThread,
    Frame,
    FrameSource,
    ImageFolderSource,
    SourceError,
    TimedReader,
    VideoFileSource,
    open_source,
)
from installation.capture.faces import FaceDetector, FaceTracker, iou


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_video_file_every_frame_with_timestamps(tmp_path: Path) -> None:
    path, _ = face_video(tmp_path / "v.avi", count=12, fps=10.0)
    src = VideoFileSource(path)
    src.open()
    frames = []
    while (f := src.read()) is not None:
        frames.append(f)
    src.close()
    assert [f.index for f in frames] == list(range(12))
    assert frames[5].t == pytest.approx(0.5) and frames[0].image.shape == (240, 320, 3)


def test_video_file_loops(tmp_path: Path) -> None:
    path, _ = face_video(tmp_path / "v.avi", count=5, fps=10.0)
    src = VideoFileSource(path, loop=True)
    src.open()
    frames = [src.read() for _ in range(12)]
    assert [f.index for f in frames] == list(range(12))
    assert frames[7].t == pytest.approx(0.7)


def test_image_folder_and_open_source(tmp_path: Path) -> None:
    frames, _ = face_frames(4)
    for i, f in enumerate(frames):
        cv2.imwrite(str(tmp_path / f"{i}.png"), f)
    (tmp_path / "9.png").write_bytes(b"not a png")
    src = open_source(tmp_path, fps=5)
    assert isinstance(src, ImageFolderSource)
    with src:
        got = []
        while (f := src.read()) is not None:
            got.append(f)
    assert len(got) == 4 and got[2].t == pytest.approx(0.4)
    assert type(open_source(0)).__name__ == "CameraSource"
    assert type(open_source("rtsp://cam/1")).__name__ == "StreamSource"


def test_timed_reader_gives_the_frame_for_a_time(tmp_path: Path) -> None:
    """Frame floor(t * fps), decoded in order; looping continues past the end, an earlier time starts the file
    again, a file without loop holds its last frame, a missing one fails once (no retries), a camera is refused."""
    path, _ = face_video(tmp_path / "v.avi", count=5, fps=10.0)
    looped = TimedReader(VideoFileSource(path, loop=True))
    got = [looped.frame_at(t) for t in (0.0, 0.05, 0.1, 0.39, 0.7, 0.2)]
    assert [f.index if f else None for f in got] == [0, 0, 1, 3, 7, 2]
    assert looped.stats.frames == 9 + 4 and looped.state == "connected"  # 0..8 (8: read ahead), then 0..3
    once = TimedReader(VideoFileSource(path))
    assert once.frame_at(3.0).index == 4 and once.ended and once.frame_at(9.0).index == 4  # type: ignore[union-attr]
    missing = TimedReader(VideoFileSource(tmp_path / "none.avi"))
    assert missing.frame_at(0.0) is None and missing.state == "failed" and missing.frame_at(1.0) is None
    assert missing.stats.errors == 1
    with pytest.raises(ValueError, match="live source"):
        TimedReader(open_source(0))


class ListSource(FrameSource):
    """Frames from a list; fails on demand."""

    def __init__(self, n: int) -> None:
        self.n, self.i, self.fail_open, self.fail_read_at = n, 0, 0, None

    def open(self) -> None:
        if self.fail_open > 0:
            self.fail_open -= 1
            raise SourceError("unplugged")

    def read(self) -> Frame | None:
        if self.fail_read_at is not None and self.i == self.fail_read_at:
            self.fail_read_at = None
            raise SourceError("read failed")
        if self.i >= self.n:
            return None
        self.i += 1
        return Frame(np.zeros((4, 4, 3), np.uint8), self.i - 1, None)


def test_newest_frame_only_counts_drops() -> None:
    cap = CaptureThread(ListSource(10), clock=FakeClock())
    for _ in range(5):
        cap.step()
    frame = cap.latest()
    assert frame is not None and frame.index == 4 and cap.stats.dropped == 4
    assert cap.latest() is None
    assert cap.state == "connected"


def test_reconnect_with_exponential_backoff() -> None:
    clock = FakeClock()
    src = ListSource(100)
    src.fail_open = 3
    cap = CaptureThread(src, backoff_initial=1.0, backoff_max=3.0, clock=clock)
    waits = []
    for _ in range(3):
        cap.step()  # fails to open
        assert cap.state == "reconnecting"
        waits.append(cap.step())  # waiting
        clock.now += waits[-1]
    assert waits == [1.0, 2.0, 3.0]
    cap.step()
    assert cap.state == "connected" and cap.latest() is not None and cap.stats.reconnects == 3
    src.fail_read_at = src.i  # fails mid-run: back to the initial delay after success
    cap.step()
    assert cap.state == "reconnecting" and cap.step() == 1.0


def test_end_of_file_states(tmp_path: Path) -> None:
    cap = CaptureThread(ListSource(2), reconnect_on_end=False, clock=FakeClock())
    for _ in range(3):
        cap.step()
    assert cap.state == "ended"
    failing = ListSource(0)
    failing.fail_open = 99
    cap = CaptureThread(failing, max_retries=2, backoff_initial=0, clock=FakeClock())
    for _ in range(5):
        cap.step()
    assert cap.state == "failed"


def test_disappearing_video_recovers(tmp_path: Path) -> None:
    """A video file that disappears mid-run and reappears: the capture reconnects and frames flow again."""
    path, _ = face_video(tmp_path / "v.avi", count=3, fps=10.0)
    clock = FakeClock()
    cap = CaptureThread(VideoFileSource(path), backoff_initial=1.0, clock=clock)
    for _ in range(4):
        cap.step()  # 3 frames then the end: reopen scheduled
    assert cap.latest().index == 2
    hidden = path.rename(tmp_path / "gone.avi")
    clock.now += 1.0
    cap.step()
    assert cap.state == "reconnecting" and cap.stats.errors == 1
    hidden.rename(path)
    clock.now += 5.0
    cap.step()
    assert cap.state == "connected" and cap.latest().index == 0


def test_thread_runs_and_stops(tmp_path: Path) -> None:
    path, _ = face_video(tmp_path / "v.avi", count=5, fps=50.0)
    cap = CaptureThread(VideoFileSource(path, loop=True), pace=True).start()
    import time

    deadline = time.monotonic() + 5
    while cap.stats.frames < 8 and time.monotonic() < deadline:
        time.sleep(0.02)
    cap.stop()
    assert cap.stats.frames >= 8 and cap.stats.fps > 0


def test_detector_finds_the_face_in_source_pixels() -> None:
    frames, present = face_frames(30, size=(640, 480))
    det, full = FaceDetector(max_side=320), FaceDetector(max_side=640)
    for frame, has in zip(frames[::5], present[::5]):
        boxes = det.detect(frame)
        assert bool(boxes) == has
        if boxes:  # full-resolution pixels, not the downscaled ones
            ref = full.detect(frame)[0]
            assert iou(boxes[0], ref) > 0.6 and boxes[0][0] + boxes[0][2] <= 640


def test_tracker_modes() -> None:
    small, big, central = (0, 0, 20, 20), (200, 10, 60, 60), (140, 100, 40, 40)
    t = FaceTracker("largest")
    assert [f.main for f in t.update([small, big], (320, 240))] == [False, True]
    # the tracked face stays main while it moves, even when another face grows larger
    moved = (205, 12, 60, 60)
    assert [f.main for f in t.update([(0, 0, 90, 90), moved], (320, 240))] == [False, True]
    t = FaceTracker("central")
    assert [f.main for f in t.update([big, central], (320, 240))] == [False, True]
    assert all(f.main for f in FaceTracker("aggregate").update([big, central], (320, 240)))
    assert iou(big, big) == 1.0 and iou(small, big) == 0.0
    with pytest.raises(ValueError):
        FaceTracker("loudest")


def test_onnx_face_detector_option_fails_clearly(tmp_path: Path) -> None:
    from installation.capture.faces import FaceDetector as Haar
    from installation.capture.faces import OnnxFaceDetector, make_detector
    from installation.show import check_show

    assert isinstance(make_detector("haar"), Haar)
    with pytest.raises(FileNotFoundError):
        make_detector(tmp_path / "missing.onnx")
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not an onnx file")
    with pytest.raises(ValueError, match="YuNet"):
        OnnxFaceDetector(bad)
    show = tmp_path / "s.yaml"
    show.write_text("version: 1\ncues:\n  - scene: {type: emotion_mirror, detector: bad.onnx}\n    follow: hold\n")
    errors = [str(e) for e in check_show(show).errors]
    assert len(errors) == 1 and "scene.detector" in errors[0] and "YuNet" in errors[0], errors
