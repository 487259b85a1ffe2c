"""solid, image and the emotion_mirror placeholder on EGL; the registry; post steps -> PostSettings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import headless_context

from installation.render import PostSettings, RenderContext
from installation.scenes import SCENES, SceneEnv, create_scene, post_settings
from installation.show import load_show_text, scene_types

W, H = 160, 90
BG = (9, 18, 27)


def test_every_show_scene_type_has_a_scene() -> None:
    assert set(scene_types()) <= set(SCENES)


def test_post_steps_map_to_the_renderer() -> None:
    show = load_show_text("""\
version: 1
cues:
  - scene: solid
    duration: 1
    post: [{type: kuwahara, radius: 5, sharpness: 20}, {type: grade, exposure: 0.5, saturation: 0.2,
           tint: "#ff0000", tint_amount: 0.3}]
""")
    settings = post_settings(show.cues[0].post)
    assert settings.kuwahara.radius == 5 and settings.kuwahara.q == 12.0  # clamped to what the shader supports
    assert settings.grade.exposure == 0.5 and settings.grade.tint == (255, 0, 0) and settings.grade.tint_amount == 0.3
    assert post_settings([]) == PostSettings()


@pytest.fixture(scope="module")
def rc() -> Iterator[RenderContext]:
    context = headless_context((W, H))
    yield context
    context.close()


def draw(rc: RenderContext, scene_yaml: str, base: Path | None = None, t: float = 0.0) -> np.ndarray:
    show = load_show_text(f"version: 1\ncues:\n  - scene: {scene_yaml}\n    duration: 5\n", base_dir=base)
    scene = create_scene(show.cues[0].scene, SceneEnv(rc.ctx, rc.size, BG))
    scene.on_frame(t, 0.0)
    rc.begin_frame()
    scene.render(rc.fbo)
    pixels = rc.read_pixels()
    rc.end_frame()
    scene.release()
    return pixels


@pytest.mark.gl
def test_solid_fills_the_picture(rc: RenderContext) -> None:
    assert np.all(draw(rc, "{type: solid, colour: [250, 128, 3]}") == (250, 128, 3))


@pytest.mark.gl
def test_image_contain_letterboxes_and_cover_fills(rc: RenderContext, tmp_path: Path) -> None:
    square = np.zeros((40, 40, 3), np.uint8)
    square[:] = (30, 200, 90)
    cv2.imwrite(str(tmp_path / "still.png"), cv2.cvtColor(square, cv2.COLOR_RGB2BGR))
    contain = draw(rc, "{type: image, path: still.png}", tmp_path)
    assert np.all(contain[:, :30] == BG) and np.all(contain[:, -30:] == BG)  # 90 px square centred in 160
    assert np.all(contain[:, 40:120] == (30, 200, 90))
    cover = draw(rc, "{type: image, path: still.png, fit: cover}", tmp_path)
    assert np.all(cover == (30, 200, 90))


@pytest.mark.gl
def test_emotion_mirror_without_camera_shows_its_background(rc: RenderContext, tmp_path: Path) -> None:
    """No camera (a missing video) and no attract scene: the background, no crash (tests/test_emotion_mirror_scene.py
    covers the mirror itself)."""
    first = draw(rc, f"{{type: emotion_mirror, camera: '{tmp_path / 'missing.avi'}'}}")
    assert np.all(first == BG)
