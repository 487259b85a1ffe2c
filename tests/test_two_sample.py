"""models.two_sample: the classifier two-sample test that scores the demo collection against real paintings."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import PACK, write_image

from models import two_sample
from models.two_sample import cv_accuracy, image_features


def copies(real: Path, out: Path, blur: float) -> Path:
    """Every real crop written again, Gaussian-blurred by ``blur`` px at 256 px (0: unchanged)."""
    out.mkdir()
    for n, path in enumerate(sorted(real.rglob("*.png"))):
        img = two_sample.to_size(cv2.imread(str(path)))
        if blur:
            img = cv2.GaussianBlur(img, (0, 0), blur)
        cv2.imwrite(str(out / f"{n:04d}.png"), img)
    return out


def test_cross_validated_accuracy_is_chance_for_one_distribution_and_high_for_two() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((200, 6)), rng.standard_normal((200, 6))
    assert 0.35 < cv_accuracy(a, b) < 0.65
    shifted = b.copy()
    shifted[:, 2] += 4.0  # two standard deviations apart: the best rule scores 0.98
    assert cv_accuracy(a, shifted) > 0.9


def test_features_see_the_detail_a_blur_takes_away() -> None:
    from skimage import data as skdata

    img = two_sample.to_size(skdata.astronaut())  # 512 px reduced to 256: full detail up to the top band
    sharp, soft = image_features(img), image_features(cv2.GaussianBlur(img, (0, 0), 2.0))
    assert sharp.shape == soft.shape and np.isfinite(sharp).all()
    bands = slice(63, 70)  # log power in the octave bands 1-2 ... 64-128 cycles per picture
    drop = sharp[bands] - soft[bands]
    assert drop[-1] > 1.5 and drop[-2] > 1.5 and drop[-3] > 0.5  # fine detail gone, the finest most
    assert abs(drop[0]) < 0.5  # the coarse layout stays


def test_blurred_copies_are_told_apart_and_faithful_ones_are_not(photo_styles: Path, tmp_path: Path) -> None:
    faithful = two_sample.run(photo_styles, copies(photo_styles, tmp_path / "same", 0), limit=200)
    blurred = two_sample.run(photo_styles, copies(photo_styles, tmp_path / "blur", 2.0), limit=200)
    assert faithful["n_heldout"] >= 10 and faithful["n_generated"] == 200
    assert blurred["real_vs_generated"] > 0.85
    assert faithful["real_vs_generated"] < blurred["real_vs_generated"] - 0.2
    assert faithful["real_vs_real_at_64px_bicubic"] > faithful["real_vs_real"]
    assert "real_vs_real_at_64px_upscaled" not in faithful


def test_the_upscaler_anchor_runs_a_real_onnx_upscaler(photo_styles: Path, tmp_path: Path) -> None:
    result = two_sample.run(photo_styles, copies(photo_styles, tmp_path / "same", 0), limit=200,
                            upscaler=PACK / "sasr_x4.onnx")
    assert 0.0 <= result["real_vs_real_at_64px_upscaled"] <= 1.0
    upscaled = two_sample.at_64_upscaled([np.full((300, 300, 3), 128, np.uint8)], PACK / "sasr_x4.onnx")
    assert upscaled[0].shape == (two_sample.SIZE, two_sample.SIZE, 3)
    assert abs(int(upscaled[0].mean()) - 128) <= 2  # a flat grey stays grey


def test_command_line_prints_the_scores_and_refuses_bad_input_in_one_line(
        photo_styles: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    generated = copies(photo_styles, tmp_path / "same", 0)
    out = tmp_path / "result.json"
    assert two_sample.main(["--real", str(photo_styles), "--generated", str(generated), "--limit", "200",
                            "--json", str(out)]) == 0
    assert "real_vs_generated" in capsys.readouterr().out and out.is_file()
    few = tmp_path / "few"
    few.mkdir()
    write_image(few / "0.png", np.zeros((64, 64, 3), np.uint8))
    for argv, message in (([str(tmp_path / "absent"), str(generated)], "no such folder"),
                          ([str(photo_styles), str(few)], "too few images")):
        with pytest.raises(SystemExit) as exc:
            two_sample.main(["--real", argv[0], "--generated", argv[1]])
        assert exc.value.code == 2
        assert message in capsys.readouterr().err
