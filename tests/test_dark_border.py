"""The dark-border rule (installation/dark_border.py) on real pictures, and the demo collection against it."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data as skdata

from installation.dark_border import dark_sides, has_dark_border

REPO = Path(__file__).resolve().parents[1]


def bars(img: np.ndarray, sides: str, width: int, level: int = 0) -> np.ndarray:
    """``img`` with bars of ``level`` painted over the named sides ('t', 'b', 'l', 'r')."""
    out = img.copy()
    if "t" in sides:
        out[:width] = level
    if "b" in sides:
        out[-width:] = level
    if "l" in sides:
        out[:, :width] = level
    if "r" in sides:
        out[:, -width:] = level
    return out


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return cv2.resize(skdata.astronaut(), (256, 256), interpolation=cv2.INTER_AREA)  # RGB uint8


def test_letterbox_bars_make_a_dark_border_and_one_dark_side_does_not(photo: np.ndarray) -> None:
    assert dark_sides(photo) == 0 and not has_dark_border(photo)
    assert has_dark_border(bars(photo, "tb", 12))  # letterbox
    assert has_dark_border(bars(photo, "lr", 6))  # pillarbox, thin
    assert has_dark_border(bars(photo, "tblr", 4, level=25))  # a dark, not black, frame all round
    assert not has_dark_border(bars(photo, "t", 12))  # a dark sky is one side, not a frame
    assert dark_sides(bars(photo, "tbl", 12)) == 3


def test_a_dark_picture_is_not_framed(photo: np.ndarray) -> None:
    # a dark painting (tenebrism) is dark at its edges *and* inside: relative to its inside, no border
    dark = (photo.astype(np.float32) * 0.12).astype(np.uint8)
    assert not has_dark_border(dark)
    # ... until its edges are darker still
    assert has_dark_border(bars(dark, "tb", 10))


def test_same_answer_at_any_size_and_range(photo: np.ndarray) -> None:
    framed = bars(photo, "tb", 12)
    small = cv2.resize(framed, (64, 64), interpolation=cv2.INTER_AREA)
    assert has_dark_border(small) and has_dark_border(framed.astype(np.float32) / 255)
    assert not has_dark_border(cv2.resize(photo, (64, 64), interpolation=cv2.INTER_AREA))
    assert dark_sides(np.zeros((64, 64, 3), np.uint8)) == 0  # all black: no edge darker than the inside
    assert dark_sides(bars(np.full((3, 3, 3), 200, np.uint8), "tb", 1)) == 0  # too small to have an inside
    with pytest.raises(ValueError, match="RGB"):
        dark_sides(np.zeros((64, 64), np.uint8))


def test_the_demo_collection_has_no_painting_inside_a_dark_border() -> None:
    files = sorted((REPO / "assets/collections/demo").glob("*.png"))
    assert len(files) == 196
    framed = [f.name for f in files if has_dark_border(cv2.cvtColor(cv2.imread(str(f)), cv2.COLOR_BGR2RGB))]
    assert framed == []
