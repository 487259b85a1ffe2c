"""Post chain on a real OpenGL context: anisotropic Kuwahara and colour grading, checked by pixels."""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import numpy as np
import pytest
from conftest import headless_context

from installation.render import (
    GradeSettings,
    GridCompositor,
    KuwaharaSettings,
    PostChain,
    PostSettings,
    RenderContext,
)

pytestmark = pytest.mark.gl


@pytest.fixture(scope="module")
def rc() -> Iterator[RenderContext]:
    context = headless_context((64, 64))
    yield context
    context.close()


def run_chain(rc: RenderContext, image: np.ndarray, settings: PostSettings) -> np.ndarray:
    """RGB uint8 in -> RGB uint8 out through the chain (rows kept in order)."""
    h, w = image.shape[:2]
    rgba = np.dstack([image, np.full((h, w), 255, np.uint8)])
    source = rc.ctx.texture((w, h), 4, np.ascontiguousarray(rgba).tobytes())
    target_tex = rc.ctx.texture((w, h), 4)
    target = rc.ctx.framebuffer([target_tex])
    chain = PostChain(rc.ctx, settings)
    chain.apply(source, target)
    out = np.frombuffer(target.read(components=3, alignment=1), np.uint8).reshape(h, w, 3).copy()
    for obj in (chain, target, target_tex, source):
        obj.release()
    return out


def srgb_to_linear(c: np.ndarray) -> np.ndarray:
    c = np.asarray(c, np.float64) / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    from skimage import data as skdata

    return np.ascontiguousarray(cv2.resize(skdata.astronaut()[0:300, 100:400], (96, 96), interpolation=cv2.INTER_AREA))


def test_identity_chain_copies(rc: RenderContext, astronaut: np.ndarray) -> None:
    assert np.array_equal(run_chain(rc, astronaut, PostSettings()), astronaut)


def test_kuwahara_keeps_flat_colour_flat(rc: RenderContext) -> None:
    flat = np.full((40, 48, 3), (37, 140, 211), np.uint8)
    out = run_chain(rc, flat, PostSettings(kuwahara=KuwaharaSettings(radius=4)))
    assert np.all(np.abs(out.astype(int) - flat) <= 1)


def test_kuwahara_denoises_a_real_image_and_keeps_edges(rc: RenderContext, astronaut: np.ndarray) -> None:
    rng = np.random.default_rng(0)
    noisy = np.clip(astronaut + rng.normal(0, 20, astronaut.shape), 0, 255).astype(np.uint8)
    out = run_chain(rc, noisy, PostSettings(kuwahara=KuwaharaSettings(radius=4, q=8)))

    def roughness(img: np.ndarray) -> float:
        return float(np.std(cv2.Laplacian(img.astype(np.float32), cv2.CV_32F)))

    assert roughness(out) < 0.7 * roughness(noisy)
    error_in = np.mean((noisy.astype(float) - astronaut) ** 2)
    error_out = np.mean((out.astype(float) - astronaut) ** 2)
    assert error_out < 0.5 * error_in
    # A hard vertical edge stays hard: two pixels away from it the colours are untouched.
    step = np.zeros((32, 32, 3), np.uint8)
    step[:, 16:] = 220
    edge = run_chain(rc, step, PostSettings(kuwahara=KuwaharaSettings(radius=4)))
    assert np.all(edge[:, :14] <= 2) and np.all(edge[:, 18:] >= 218)


def test_grade_exposure_doubles_linear_light(rc: RenderContext) -> None:
    levels = np.array([40, 70, 100, 120], np.uint8)
    image = np.repeat(np.repeat(levels[None, :, None], 8, axis=0), 3, axis=2)
    out = run_chain(rc, image, PostSettings(grade=GradeSettings(exposure=1.0)))
    ratio = srgb_to_linear(out[0, :, 0]) / srgb_to_linear(levels)
    assert np.allclose(ratio, 2.0, rtol=0.04)
    darker = run_chain(rc, image, PostSettings(grade=GradeSettings(exposure=-1.0)))
    assert np.allclose(srgb_to_linear(darker[0, :, 0]) / srgb_to_linear(levels), 0.5, rtol=0.06)


def test_grade_saturation_and_tint(rc: RenderContext, astronaut: np.ndarray) -> None:
    gray = run_chain(rc, astronaut, PostSettings(grade=GradeSettings(saturation=0.0)))
    assert np.all(np.abs(gray[:, :, 0].astype(int) - gray[:, :, 1]) <= 1)
    assert np.all(np.abs(gray[:, :, 1].astype(int) - gray[:, :, 2]) <= 1)
    mid = np.full((8, 8, 3), 128, np.uint8)
    warm = run_chain(rc, mid, PostSettings(grade=GradeSettings(tint=(255, 120, 40), tint_amount=1.0)))
    r, g, b = warm[4, 4].astype(int)
    assert r > g > b
    assert run_chain(rc, mid, PostSettings(grade=GradeSettings(tint="#ff7828", tint_amount=0.0)))[4, 4].tolist() == [
        128,
        128,
        128,
    ]


def test_post_is_baked_into_cells(rc: RenderContext, astronaut: np.ndarray) -> None:
    settings = PostSettings(kuwahara=KuwaharaSettings(radius=2), grade=GradeSettings(saturation=0.0))
    grid = GridCompositor(rc.ctx, rc.size, 1, 1, post=settings, layer_size=(64, 64))
    grid.set_image(0, astronaut, transition="cut", start_time=0.0)
    rc.begin_frame()
    grid.draw(0.0, rc.fbo)
    pixels = rc.read_pixels()
    assert np.all(np.abs(pixels[:, :, 0].astype(int) - pixels[:, :, 2]) <= 1)  # gray: the grade ran
    assert pixels.std() > 10  # and the picture is still there
    assert grid.stats["bakes"] == 1
    grid.release()
