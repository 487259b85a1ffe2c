"""The mirror's face crop: the geometry (in proportion to the face, square, centred; fer's fixed margin kept for
comparison), and, on camera-like videos made from real face photographs, the mirror's per-frame reading agrees
with the model on a well-aligned crop at least as often with the fixed crop as with the old one."""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import PACK, SHARED_DATA

from exporters.synthetic import portrait_frames, portrait_video
from installation.capture.faces import FaceTracker
from installation.emotion.agreement import Clip, Variant, measure, photo_face
from installation.geometry import Box
from installation.inference.emotion import FER_CROP, MODEL_CROP, EmotionClassifier, FaceCrop

PORTRAITS = SHARED_DATA / "faces" / "portraits"


def test_crop_geometry_scales_with_the_face() -> None:
    assert FER_CROP.rect((100, 100, 50, 50)) == (90, 90, 160, 160)  # +10 px: 40 % of a 50 px face
    assert FER_CROP.rect((100, 100, 300, 300)) == (90, 90, 410, 410)  # ...but 6.7 % of a 300 px one
    for side in (50, 300):
        x1, y1, x2, y2 = MODEL_CROP.rect((100, 100, side, side))
        assert x2 - x1 == round(1.03 * side) and abs((x1 + x2) / 2 - (100 + side / 2)) <= 0.5
    x1, y1, x2, y2 = FaceCrop(1.2).rect((0, 0, 40, 60))  # a tall box: square on its longer side
    assert x2 - x1 == y2 - y1 == 72


def test_crop_pads_at_the_border_and_shrinks_by_area() -> None:
    model = EmotionClassifier(PACK / "emotion.onnx", threads=1)
    frame = np.zeros((120, 160, 3), np.uint8)
    frame[::2] = 255  # 1-px stripes: area averaging gives grey, bilinear sampling gives stripes (aliasing)
    crop = model.crop(frame, (40, 0, 120, 120))
    assert crop.shape == (64, 64) and abs(int(crop[10:50, 10:50].mean()) - 127) < 10
    assert crop[10:50, 10:50].std() < 40
    edge = model.crop(frame, (-30, -30, 60, 60))  # beyond the frame: zero padding
    assert edge.shape == (64, 64) and edge[:20, :20].max() == 0


def test_tracker_box_smoothing() -> None:
    tracker = FaceTracker("largest", smoothing=0.5)
    tracker.update([Box(100, 100, 80, 80)], (640, 480))
    main = [f for f in tracker.update([Box(110, 100, 80, 80)], (640, 480)) if f.main][0]
    assert main.box == Box(105, 100, 80, 80)
    with pytest.raises(ValueError):
        FaceTracker(smoothing=1.0)


def test_portrait_frames_place_the_face_where_they_say(tmp_path: Path) -> None:
    from skimage import data as skdata

    photo = cv2.cvtColor(skdata.astronaut(), cv2.COLOR_RGB2BGR)[20:260, 130:350]
    frames, placements = portrait_frames(photo, count=4, seed=3, face_px=(150, 150))
    assert len(frames) == 4 and frames[0].shape == (480, 640, 3)
    s, x, y = placements[0]
    assert abs(s * max(photo.shape[:2]) - 150) < 0.05 * 150
    u, v = photo.shape[1] // 2, photo.shape[0] // 2  # the photo's centre pixel lands at the placement
    got = frames[0][round(y + s * v), round(x + s * u)].astype(int)
    assert np.abs(got - photo[v, u].astype(int)).max() < 40


@pytest.mark.shared_data
@pytest.mark.slow
def test_fixed_crop_agrees_at_least_as_often(tmp_path: Path) -> None:
    if not (PORTRAITS / "labels.csv").is_file():
        pytest.skip(f"{PORTRAITS} has no labels.csv")
    with open(PORTRAITS / "labels.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))[1::8][:12]
    clips = []
    for i, row in enumerate(rows):
        photo = cv2.imread(str(PORTRAITS / row["filename"]))
        face = photo_face(photo) if photo is not None else None
        if face is not None:
            path, placements = portrait_video(tmp_path / f"{i}.avi", photo, count=10, seed=100 + i)
            clips.append(Clip(path, placements, face, row["filename"]))
    assert len(clips) >= 8
    tallies = measure(clips, PACK / "emotion.onnx", {"old": Variant(320, FER_CROP), "fixed": Variant(320, MODEL_CROP)})
    old, fixed = tallies["old"], tallies["fixed"]
    assert old.frames == fixed.frames >= 80 and fixed.found >= 0.9 * fixed.frames
    assert fixed.agreement >= old.agreement, (fixed.agreement, old.agreement)
