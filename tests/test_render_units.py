"""Render pieces that need no GL: easing, layout, colours, image fitting and decoding, stats, transitions."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import pytest

from installation.render.color import parse_color
from installation.render.easing import EASINGS, ease
from installation.render.layout import GridLayout
from installation.render.post import PostSettings
from installation.render.programs import ShaderSourceError, expand
from installation.render.schedule import CellSchedule
from installation.render.stats import FrameStats
from installation.render.textures import ImageLoader, decode_image, fit_image
from installation.render.transitions import Transition, dispatch_source, encode_params, transition_names


@pytest.mark.parametrize("name", sorted(EASINGS))
def test_easing_endpoints_and_monotonic(name: str) -> None:
    p = np.linspace(0.0, 1.0, 101)
    y = ease(name, p)
    assert y[0] == 0.0 and y[-1] == 1.0
    assert np.all(np.diff(y) >= -1e-12)
    assert ease(name, -1.0) == 0.0 and ease(name, 2.0) == 1.0


def test_easing_values() -> None:
    assert ease("linear", 0.25) == pytest.approx(0.25)
    assert ease("ease_in", 0.5) == pytest.approx(0.125)
    assert ease("ease_out", 0.5) == pytest.approx(0.875)
    assert ease("ease_in_out", 0.5) == pytest.approx(0.5)
    assert ease("ease_in_out", 0.25) == pytest.approx(0.0625)
    assert ease("smoothstep", 0.5) == pytest.approx(0.5)
    assert ease("smoothstep", 0.25) == pytest.approx(0.15625)
    with pytest.raises(ValueError, match="unknown easing 'bounce'"):
        ease("bounce", 0.5)


def test_layout_letterbox_and_gap() -> None:
    layout = GridLayout((256, 144), 4, 4, gap=2)
    rects = layout.rects
    assert rects.shape == (16, 4)
    x, y, w, h = layout.grid_rect
    assert (y, h) == (0, 144)
    assert x == (256 - w) // 2 or x == (256 - w + 1) // 2
    # Columns are separated by exactly the gap and never overlap.
    first_row = rects[:4]
    assert np.all(first_row[1:, 0] - (first_row[:-1, 0] + first_row[:-1, 2]) == 2)
    assert layout.index((1, 2)) == 6
    with pytest.raises(IndexError):
        layout.index((4, 0))


def test_layout_stretch_fills_target() -> None:
    layout = GridLayout((1920, 1080), 14, 14, cell_aspect=None)
    assert layout.grid_rect == (0, 0, 1920, 1080)
    assert GridLayout((1920, 1080), 14, 14).grid_rect[3] == 1080


def test_parse_color() -> None:
    assert parse_color("#102030") == (16, 32, 48)
    assert parse_color((1, 2, 3)) == (1, 2, 3)
    assert parse_color(np.array([1, 2, 3], np.uint8)) == (1, 2, 3)
    for bad in ("#12345", (1, 2), (0, 0, 256), "zzzzzz"):
        with pytest.raises(ValueError):
            parse_color(bad)


def test_fit_cover_and_contain() -> None:
    wide = np.zeros((20, 40, 3), np.uint8)
    wide[:, :10] = (0, 255, 0)  # outer quarters green: cropped away by cover
    wide[:, 30:] = (0, 255, 0)
    wide[:, 10:20] = (255, 0, 0)
    wide[:, 20:30] = (0, 0, 255)
    cover = fit_image(wide, (20, 20), "cover")
    assert cover.shape == (20, 20, 4) and np.all(cover[:, :, 3] == 255)
    assert tuple(cover[10, 2, :3]) == (255, 0, 0) and tuple(cover[10, 17, :3]) == (0, 0, 255)
    assert not np.any(np.all(cover[:, :, :3] == (0, 255, 0), axis=-1))
    contain = fit_image(wide, (20, 20), "contain", background=(9, 9, 9))
    assert tuple(contain[1, 10, :3]) == (9, 9, 9) and tuple(contain[18, 10, :3]) == (9, 9, 9)
    assert tuple(contain[10, 1, :3]) == (0, 255, 0)


def test_fit_gray_and_rgba() -> None:
    assert fit_image(np.full((8, 8), 77, np.uint8), (4, 4))[0, 0, :3].tolist() == [77, 77, 77]
    rgba = np.zeros((8, 8, 4), np.uint8)  # fully transparent -> background
    assert fit_image(rgba, (4, 4), background=(1, 2, 3))[0, 0].tolist() == [1, 2, 3, 255]
    with pytest.raises(ValueError):
        fit_image(np.zeros((8, 8, 3), np.float32), (4, 4))


def test_decode_and_loader_skip_corrupt(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    good = tmp_path / "good.png"
    cv2.imwrite(str(good), np.full((10, 12, 3), (30, 20, 10), np.uint8))  # BGR on disk
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 not a jpeg")
    assert decode_image(good)[0, 0].tolist() == [10, 20, 30]
    with caplog.at_level(logging.WARNING):
        assert decode_image(bad) is None
        assert decode_image(tmp_path / "missing.png") is None
    assert "bad.jpg" in caplog.text
    loader = ImageLoader()
    try:
        tokens = [loader.submit(p, (6, 6)) for p in (good, bad)]
        results = {tokens[0]: loader.wait(tokens[0]), tokens[1]: loader.wait(tokens[1])}
        assert results[tokens[0]].shape == (6, 6, 4) and results[tokens[1]] is None
        assert loader.poll() == []  # already taken by wait()
    finally:
        loader.close()


def test_frame_stats() -> None:
    stats = FrameStats(target_fps=60.0, window=100)
    for _ in range(98):
        stats.add(1 / 60)
    stats.add(0.030)  # > 1.5 x 16.7 ms: dropped
    stats.add(0.024)  # < 25 ms: not dropped
    snap = stats.snapshot()
    assert snap.frames == 100 and snap.dropped == 1 and snap.dropped_total == 1
    assert snap.p50_ms == pytest.approx(1000 / 60, rel=1e-6)
    assert 24.0 < snap.p99_ms <= 30.0
    assert 55 < snap.fps < 60
    ticked = FrameStats(target_fps=50)
    for now in (0.0, 0.02, 0.04, 0.10):
        ticked.tick(now)
    assert ticked.snapshot().frames == 3 and ticked.snapshot().dropped == 1
    assert len(snap.lines()) == 3


def test_transitions_registry() -> None:
    names = transition_names()
    assert {"crossfade", "cut", "dissolve", "wipe"} <= set(names)
    source = dispatch_source()
    for name in names:
        assert f"transition_{name}(" in source
    assert encode_params("wipe", {"direction": "down"})[:2] == (0.0, 1.0)
    assert encode_params("wipe", {"direction": 180})[0] == pytest.approx(-1.0)
    with pytest.raises(TypeError, match="wipe"):
        encode_params("wipe", {"speed": 2})
    with pytest.raises(ValueError, match="unknown transition 'swirl'"):
        Transition("swirl")
    assert Transition("cut").duration == 0.0 and Transition("dissolve").duration == 1.0


def test_post_settings_from_mapping() -> None:
    settings = PostSettings.from_mapping({"kuwahara": {"radius": 3}, "grade": {"tint": "#ff8800", "tint_amount": 0.2}})
    assert settings.kuwahara.radius == 3 and settings.grade.tint == (255, 136, 0)
    assert PostSettings.from_mapping(None).is_identity
    with pytest.raises(ValueError, match="unknown post stage"):
        PostSettings.from_mapping({"blur": {}})
    with pytest.raises(ValueError, match="radius"):
        PostSettings.from_mapping({"kuwahara": {"radius": 100}})


def test_transition_from_show_spec() -> None:
    class Spec:  # the show layer's transition, as the renderer sees it
        type, duration, easing, direction = "wipe", 2.0, "ease_in", "up"

    wipe = Transition.from_spec(Spec())
    assert wipe == Transition("wipe", 2.0, "ease_in", {"direction": "up"})
    assert wipe.params == encode_params("wipe", {"direction": "up"}) and wipe.id == transition_names().index("wipe")
    Spec.type = "crossfade"
    assert Transition.from_spec(Spec(), easing="linear") == Transition("crossfade", 2.0, "linear")


def _shaders(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_shader_includes_once_per_stage_on_a_search_path(tmp_path: Path) -> None:
    shaders = _shaders(tmp_path, {
        "prog.glsl": "#if defined VERTEX_SHADER\n#include \"lib/shared.glsl\"\nvoid vs();\n"
                     "#elif defined FRAGMENT_SHADER\n#include \"a.glsl\"\n#include \"b.glsl\"\nvoid fs();\n#endif\n",
        "a.glsl": "#include \"lib/shared.glsl\"\nfloat a();\n",
        "b.glsl": "#include \"lib/shared.glsl\"\nfloat b();\n",
        "lib/shared.glsl": "float shared_fn();\n",
    })
    vertex, sources = expand("prog.glsl", "VERTEX_SHADER", search_path=(shaders,))
    assert vertex.count("shared_fn") == 1 and "vs()" in vertex and "fs()" not in vertex
    fragment, sources = expand("prog.glsl", "FRAGMENT_SHADER", search_path=(shaders,))
    # Both a.glsl and b.glsl pull the shared file in: it is there once, and the vertex stage's include
    # of it did not count for the fragment stage.
    assert fragment.count("shared_fn") == 1 and "a()" in fragment and "b()" in fragment and "vs()" not in fragment
    assert sources == ["prog.glsl", "a.glsl", "lib/shared.glsl", "b.glsl"]
    # The renderer's own lib/ is on the path after the given folders.
    _shaders(tmp_path, {"uses_noise.glsl": "#include \"lib/noise.glsl\"\n"})
    assert "hash_uint" in expand("uses_noise.glsl", "FRAGMENT_SHADER", search_path=(shaders,))[0]


def test_shader_missing_include_and_cycle_are_clear_errors(tmp_path: Path) -> None:
    shaders = _shaders(tmp_path, {
        "missing.glsl": "// one\n#include \"lib/nope.glsl\"\n",
        "loop.glsl": "#include \"x.glsl\"\n",
        "x.glsl": "#include \"y.glsl\"\n",
        "y.glsl": "#include \"x.glsl\"\n",
    })
    with pytest.raises(ShaderSourceError, match=r"missing.glsl:2: #include 'lib/nope.glsl' not found"):
        expand("missing.glsl", "VERTEX_SHADER", search_path=(shaders,))
    with pytest.raises(ShaderSourceError, match=r"include cycle: loop.glsl -> x.glsl -> y.glsl -> x.glsl"):
        expand("loop.glsl", "VERTEX_SHADER", search_path=(shaders,))


def test_schedule_records_without_gl() -> None:
    rects = np.array([[0, 0, 10, 10], [10, 0, 10, 10]], np.float32)
    schedule = CellSchedule(rects, (0.0, 0.0, 0.5))
    change = schedule.make(1, Transition("crossfade", 2.0, "linear"), 1.0, None)
    change.color = (1.0, 0.0, 0.0)
    schedule.add(change)
    records, waiting = schedule.records_at(2.0)
    assert waiting == [] and records["progress"][1] == pytest.approx(0.5)
    assert tuple(records["from_color"][1]) == (0.0, 0.0, 0.5) and tuple(records["to_color"][1]) == (1.0, 0.0, 0.0)
    assert records["progress"][0] == 1.0 and tuple(records["rect"][1]) == (10, 0, 10, 10)
    records, freed = schedule.advance(5.0)
    assert records["progress"][1] == 1.0 and records["from_layer"][1] == -1.0 and freed == []
