"""Training bundles: what goes in comes out, the held-out split is stable, bad files are skipped."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from models.data import Bundle, build_bundle, heldout
from models.data import main as data_main


def test_round_trip_is_lossless_with_png(painting_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "b.npz"
    info = build_bundle(painting_folder, out, size=32, fmt=".png", heldout_percent=25)
    bundle = Bundle.load(out)
    assert bundle.classes == ["astronaut", "chelsea", "coffee"]
    assert info["skipped"] == ["broken.jpg"]
    assert len(bundle) == 36
    # image 0 is astronaut/00.png resized exactly as the builder does
    src = cv2.cvtColor(cv2.imread(str(painting_folder / "astronaut" / "00.png")), cv2.COLOR_BGR2RGB)
    expected = cv2.resize(src, (32, 32), interpolation=cv2.INTER_AREA)
    assert np.array_equal(bundle.decode(0), expected)
    images, labels = bundle.stack("all")
    assert images.shape == (36, 32, 32, 3) and sorted(set(labels.tolist())) == [0, 1, 2]


def test_heldout_split_is_deterministic_and_disjoint(painting_folder: Path, tmp_path: Path) -> None:
    build_bundle(painting_folder, tmp_path / "a.npz", size=16, heldout_percent=30)
    build_bundle(painting_folder, tmp_path / "b.npz", size=24, heldout_percent=30)
    a, b = Bundle.load(tmp_path / "a.npz"), Bundle.load(tmp_path / "b.npz")
    assert np.array_equal(a.split, b.split)
    train, held = set(a.indices("train")), set(a.indices("heldout"))
    assert train.isdisjoint(held) and len(train | held) == len(a)
    assert held, "30% of 36 files should hold some out"
    assert heldout("x/y.png", 100) and not heldout("x/y.png", 0)


def test_cli_reports_missing_folder(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert data_main(["--src", str(tmp_path / "nope"), "--out", str(tmp_path / "o.npz")]) == 2
    assert "no such folder" in capsys.readouterr().err


def test_missing_bundle_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such bundle"):
        Bundle.load(tmp_path / "missing.npz")


def test_letterbox_bars_are_cut_and_dark_paintings_kept() -> None:
    from models.data import crop_letterbox, letterbox_box

    rng = np.random.default_rng(0)
    painting = rng.integers(20, 90, (120, 200, 3), dtype=np.uint8)  # dark, like a baroque canvas
    framed = np.zeros((224, 224, 3), np.uint8)
    framed[52:172, 12:212] = painting
    top, bottom, left, right = letterbox_box(framed)
    # the bars go, plus at most one line of the painting's edge (where JPEG blends it with the bar)
    assert 52 <= top <= 53 and 171 <= bottom <= 172 and 12 <= left <= 13 and 211 <= right <= 212
    assert crop_letterbox(painting).shape == painting.shape  # no bars: nothing cut
    black = np.zeros((64, 64, 3), np.uint8)
    assert crop_letterbox(black).shape == black.shape  # an all-dark image is kept whole
