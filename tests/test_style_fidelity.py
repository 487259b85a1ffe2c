"""models.style_fidelity: a judge the pack never saw names each collection painting's style."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import PACK, SHARED_DATA, write_image

from models import style_fidelity
from models.two_sample import read_rgb


def collection(real: Path, out: Path, asked: dict[str, dict[str, float]]) -> Path:
    """Every real crop of the styles in ``asked`` written as a collection whose manifest asks for ``asked[style]``."""
    paintings = []
    for style, weights in asked.items():
        for path in sorted((real / style).glob("*.png"))[:20]:
            name = f"{len(paintings):04d}.png"
            write_image(out / name, read_rgb(path))
            paintings.append({"file": name, "style": weights})
    (out / "manifest.json").write_text(json.dumps({"paintings": paintings}))
    return out


def test_the_judge_names_the_asked_for_style_and_not_a_wrong_one(photo_styles: Path, tmp_path: Path) -> None:
    right = style_fidelity.run(photo_styles, collection(photo_styles, tmp_path / "right", {
        "astronaut": {"astronaut": 1.0}, "coffee": {"coffee": 1.0}}), per_style=100)
    wrong = style_fidelity.run(photo_styles, collection(photo_styles, tmp_path / "wrong", {
        "astronaut": {"coffee": 1.0}, "coffee": {"astronaut": 1.0}}), per_style=100)
    assert right.heldout > 0.8 and right.n_single == 40 and right.n_mixtures == 0
    assert right.collection_single > 0.8 and wrong.collection_single < 0.2
    assert right.per_style["coffee"]["n_single"] == 20
    assert right.per_style["coffee"]["spread_collection"] > 0.5 * right.per_style["coffee"]["spread_heldout"] > 0


def test_a_collection_of_one_picture_repeated_has_no_spread(photo_styles: Path, tmp_path: Path) -> None:
    same = tmp_path / "same"
    one = read_rgb(sorted((photo_styles / "coffee").glob("*.png"))[0])
    for k in range(10):
        write_image(same / f"{k:04d}.png", one)
    (same / "manifest.json").write_text(json.dumps({"paintings": [
        {"file": f"{k:04d}.png", "style": {"coffee": 1.0}} for k in range(10)]}))
    row = style_fidelity.run(photo_styles, same, per_style=100).per_style["coffee"]
    assert row["spread_collection"] < 1e-6 < row["spread_heldout"]
    assert np.isnan(style_fidelity.spread(np.zeros((1, 3))))


def test_a_mixture_counts_when_either_of_its_styles_is_named(photo_styles: Path, tmp_path: Path) -> None:
    mixed = style_fidelity.run(photo_styles, collection(photo_styles, tmp_path / "mixed", {
        "astronaut": {"astronaut": 0.5, "coffee": 0.5}}), per_style=100, upscaler=PACK / "sasr_x4.onnx")
    assert mixed.n_mixtures == 20 and mixed.n_single == 0 and mixed.collection_mixtures == 1.0
    assert mixed.heldout_upscaled is not None and 0.0 <= mixed.heldout_upscaled <= 1.0


def test_a_share_comes_with_an_interval_that_narrows_with_more_paintings() -> None:
    small, large = style_fidelity.share_interval(0.5, 20), style_fidelity.share_interval(0.5, 2000)
    assert small[0] < large[0] < 0.5 < large[1] < small[1]
    assert large[1] - large[0] == pytest.approx(2 * 1.96 * np.sqrt(0.25 / 2000), rel=0.01)  # the normal limit
    low, high = style_fidelity.share_interval(0.0, 10)  # none named: the interval still allows a few
    assert low == 0.0 and 0.2 < high < 0.4
    assert style_fidelity.share_interval(float("nan"), 0) == (0.0, 1.0)


def test_command_line_prints_the_table_and_refuses_bad_input_in_one_line(
        photo_styles: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    good = collection(photo_styles, tmp_path / "good", {"coffee": {"coffee": 1.0}})
    out = tmp_path / "result.json"
    assert style_fidelity.main(["--real", str(photo_styles), "--collection", str(good), "--per-style", "50",
                                "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "named in their style" in printed and "(20, 95% " in printed
    assert json.loads(out.read_text())["n_single"] == 20
    unknown = collection(photo_styles, tmp_path / "unknown", {"coffee": {"cubism": 1.0}})
    no_manifest = tmp_path / "bare"
    write_image(no_manifest / "0000.png", np.zeros((64, 64, 3), np.uint8))
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "manifest.json").write_text('{"paintings": [{"file": 3}]}')
    for folder, message in ((unknown, "not among the real folders"), (no_manifest, "no manifest.json"),
                            (broken, "not a collection manifest"), (tmp_path / "absent", "no such folder")):
        with pytest.raises(SystemExit) as exc:
            style_fidelity.main(["--real", str(photo_styles), "--collection", str(folder)])
        assert exc.value.code == 2
        assert message in capsys.readouterr().err


@pytest.mark.skipif(not (SHARED_DATA / "paintings").is_dir(), reason="needs ../shared/data/paintings")
def test_the_demo_collection_is_in_its_asked_for_style_well_above_chance() -> None:
    # The judge the tool uses by default (400 train paintings per style). Measured on the 37,000-step demo:
    # held-out real 0.38, one-style 0.65, mixtures 0.69 (chance 0.14 / 0.29); the 33,000-step demo scored
    # 0.49 / 0.60. A judge of 100 per style is too noisy to test against: it reads real paintings at 0.33
    # and the 33,000-step demo's one-style paintings at 0.35.
    result = style_fidelity.run(SHARED_DATA / "paintings", PACK.parent / "collections" / "demo", per_style=400)
    chance = 1 / len(result.per_style)
    assert result.heldout > 1.7 * chance  # the judge reads the styles at all
    assert result.collection_single > 2.5 * chance and result.collection_mixtures > 1.4 * (2 * chance)
    assert result.collection_single > result.heldout - 0.05  # as recognisable as real paintings, or more
