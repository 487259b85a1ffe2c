"""Grid compositor and transitions on a real OpenGL context (EGL, Mesa llvmpipe here), checked by pixels."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import headless_context

from installation.render import GridCompositor, RenderContext
from installation.render.programs import load_program, program_names
from installation.render.transitions import Transition, dispatch_source

pytestmark = pytest.mark.gl

W, H = 256, 144
BG = (10, 20, 30)


@pytest.fixture(scope="module")
def rc() -> Iterator[RenderContext]:
    context = headless_context((W, H))
    yield context
    context.close()


def solid(color: tuple[int, int, int], size: int = 16) -> np.ndarray:
    return np.full((size, size, 3), color, np.uint8)


def frame(rc: RenderContext, grid: GridCompositor, t: float) -> np.ndarray:
    rc.begin_frame()
    grid.draw(t, rc.fbo)
    pixels = rc.read_pixels()
    rc.end_frame()
    return pixels


def palette(n: int) -> list[tuple[int, int, int]]:
    return [(20 + 15 * i, 240 - 13 * i, (70 * i) % 256) for i in range(n)]


def cell_pixels(pixels: np.ndarray, grid: GridCompositor, cell: int) -> np.ndarray:
    x, y, w, h = grid.layout.rects[cell]
    return pixels[y : y + h, x : x + w]


def test_every_program_compiles(rc: RenderContext) -> None:
    names = program_names()
    assert {"cell", "blit", "grade", "kuwahara", "structure_tensor", "tensor_smooth", "overlay"} <= set(names)
    for name in names:
        injections = {"transitions": dispatch_source()} if name == "cell" else None
        load_program(rc.ctx, name, injections).release()


def test_scene_shaders_compile_from_their_search_path(rc: RenderContext) -> None:
    from installation.scenes.mix import SHADER_DIR, mix_program

    names = program_names(SHADER_DIR)
    assert "scene_mix" in names
    mix_program(rc.ctx).release()
    for name in names:  # each scene type's own programs (latent_walk, ...) compile too
        if name != "scene_mix":
            load_program(rc.ctx, name, search_path=(SHADER_DIR,)).release()


def test_unknown_context_option_is_named(rc: RenderContext) -> None:
    from installation.render import create_context

    with pytest.raises(TypeError, match="headless render backend: unknown option.s. fullscreen"):
        create_context("headless", (16, 16), fullscreen=True)


def test_cell_placement_letterbox_and_gap(rc: RenderContext) -> None:
    grid = GridCompositor(rc.ctx, rc.size, 3, 4, gap=2, background=BG)
    colors = palette(12)
    for i, color in enumerate(colors):
        grid.set_image(i, solid(color), transition="cut", start_time=0.0)
    pixels = frame(rc, grid, 0.0)
    rects = grid.layout.rects
    for i, color in enumerate(colors):
        x, y, w, h = rects[i]
        # Whole cell uniform: placement exact to the pixel, row 0 at the top.
        assert np.all(pixels[y : y + h, x : x + w] == color), f"cell {i}"
    gx, gy, gw, gh = grid.layout.grid_rect
    assert gx > 0  # 3x4 square cells in 16:9 -> bars left and right
    assert np.all(pixels[:, :gx] == BG) and np.all(pixels[:, gx + gw :] == BG)
    x0, y0, w0, h0 = rects[0]
    assert np.all(pixels[y0 : y0 + h0, x0 + w0 : x0 + w0 + 2] == BG)  # vertical gap
    assert np.all(pixels[y0 + h0 : y0 + h0 + 2, x0 : x0 + w0] == BG)  # horizontal gap
    grid.release()


def test_cover_versus_contain(rc: RenderContext) -> None:
    wide = np.zeros((40, 80, 3), np.uint8)
    wide[:, :20] = (0, 255, 0)
    wide[:, 60:] = (0, 255, 0)
    wide[:, 20:40] = (255, 0, 0)
    wide[:, 40:60] = (0, 0, 255)
    cover = GridCompositor(rc.ctx, rc.size, 1, 2, background=BG, fit="cover")
    cover.set_image(0, wide, transition="cut", start_time=0.0)
    cover.set_image(1, wide, transition="cut", start_time=0.0, fit="contain")
    pixels = frame(rc, cover, 0.0)
    a = cell_pixels(pixels, cover, 0)
    h, w = a.shape[:2]
    assert not np.any(np.all(a == (0, 255, 0), axis=-1))  # outer quarters cropped away
    assert tuple(a[h // 2, w // 4]) == (255, 0, 0) and tuple(a[h // 2, 3 * w // 4]) == (0, 0, 255)
    b = cell_pixels(pixels, cover, 1)
    assert np.all(b[: h // 5] == BG) and np.all(b[-(h // 5) :] == BG)  # bars above and below
    assert tuple(b[h // 2, 2]) == (0, 255, 0)
    cover.release()


def test_crossfade_midpoint_and_easing(rc: RenderContext) -> None:
    grid = GridCompositor(rc.ctx, rc.size, 1, 2, background=BG)
    for cell, easing in ((0, "linear"), (1, "ease_in")):
        grid.set_image(cell, solid((200, 0, 40)), transition="cut", start_time=0.0)
        grid.set_image(cell, solid((0, 200, 240)), transition=Transition(seconds=2.0, easing=easing), start_time=1.0)
    pixels = frame(rc, grid, 2.0)  # halfway
    mid = cell_pixels(pixels, grid, 0).reshape(-1, 3).astype(int)
    assert np.all(np.abs(mid - (100, 100, 140)) <= 1)
    eased = cell_pixels(pixels, grid, 1).reshape(-1, 3).astype(int)  # ease_in(0.5) = 0.125
    assert np.all(np.abs(eased - (175, 25, 65)) <= 1)
    end = frame(rc, grid, 3.0)
    assert np.all(cell_pixels(end, grid, 0) == (0, 200, 240))
    grid.release()


def test_wipe_midpoint_splits_the_cell(rc: RenderContext) -> None:
    grid = GridCompositor(rc.ctx, rc.size, 1, 2, background=BG)
    a, b = (250, 0, 0), (0, 0, 250)
    for cell, direction in ((0, "right"), (1, "down")):
        grid.set_image(cell, solid(a), transition="cut", start_time=0.0)
        grid.set_image(
            cell,
            solid(b),
            transition=Transition("wipe", seconds=1.0, easing="linear", options={"direction": direction}),
            start_time=1.0,
        )
    pixels = frame(rc, grid, 1.5)
    right = cell_pixels(pixels, grid, 0)
    h, w = right.shape[:2]
    assert np.all(right[:, : int(w * 0.4)] == b) and np.all(right[:, int(w * 0.6) :] == a)
    down = cell_pixels(pixels, grid, 1)
    assert np.all(down[: int(h * 0.4)] == b) and np.all(down[int(h * 0.6) :] == a)
    grid.release()


def test_dissolve_endpoints_and_mix(rc: RenderContext) -> None:
    grid = GridCompositor(rc.ctx, rc.size, 1, 1, background=BG)
    a, b = np.array((240, 200, 0)), np.array((0, 40, 240))
    grid.set_image(0, solid(tuple(a)), transition="cut", start_time=0.0)
    grid.set_image(0, solid(tuple(b)), transition=Transition("dissolve", 1.0, "linear"), start_time=1.0)
    start = cell_pixels(frame(rc, grid, 1.0), grid, 0)
    assert np.all(start == a)
    mid = cell_pixels(frame(rc, grid, 1.5), grid, 0).reshape(-1, 3).astype(float)
    # Every pixel is a mix of the two colours; a good share is each, and some lie on the soft front.
    share = (mid - a) @ (b - a) / float((b - a) @ (b - a))
    assert np.allclose(a + share[:, None] * (b - a), mid, atol=2.0)
    assert 0.2 < np.mean(share > 0.5) < 0.8
    assert np.any((share > 0.1) & (share < 0.9))
    end = cell_pixels(frame(rc, grid, 2.0), grid, 0)
    assert np.all(end == b)
    grid.release()


def _scripted(grid: GridCompositor) -> list[float]:
    """A little show: a tiled image appears, then cells change at staggered times with every transition."""
    from skimage import data as skdata

    image = skdata.astronaut()
    names = ("crossfade", "dissolve", "wipe", "cut")
    for cell in range(grid.cell_count):
        grid.set_image(cell, image[(cell * 37) % 200 :][:300, :300], transition="cut", start_time=0.0)
    for k, cell in enumerate(range(0, grid.cell_count, 2)):
        grid.set_image(cell, solid(palette(16)[cell]), transition=Transition(names[k % 4], 0.5),
                       start_time=0.25 + 0.2 * k)
    grid.clear_cell(1, (255, 255, 255), transition=Transition("dissolve", 0.4), start_time=0.3)
    return [0.0, 0.1, 0.3, 0.45, 0.6, 0.8, 1.0, 1.2, 1.5, 2.0, 2.5]


def test_incremental_equals_full_redraw_and_is_smaller(rc: RenderContext) -> None:
    incremental = GridCompositor(rc.ctx, rc.size, 3, 4, gap=1, background=BG)
    full = GridCompositor(rc.ctx, rc.size, 3, 4, gap=1, background=BG)
    full.full_redraw = True
    times = _scripted(incremental)
    _scripted(full)
    drawn = []
    for t in times:
        rc.begin_frame()
        drawn.append(incremental.draw(t, rc.fbo))
        a = rc.read_pixels()
        full.draw(t, rc.fbo)
        b = rc.read_pixels()
        assert np.array_equal(a, b), f"t={t}"
    assert drawn[0] == 12 and max(drawn[1:]) < 12 and drawn[-1] == 0
    assert incremental.cells_dirty(10.0) == []
    incremental.release()
    full.release()


def test_cells_dirty_names_the_transitioning_cell(rc: RenderContext) -> None:
    grid = GridCompositor(rc.ctx, rc.size, 2, 2, background=BG)
    for cell in range(4):
        grid.set_image(cell, solid((100, 100, 100)), transition="cut", start_time=0.0)
    frame(rc, grid, 0.0)
    grid.set_image(3, solid((0, 0, 0)), transition=Transition(seconds=1.0), start_time=1.0)
    assert grid.cells_dirty(0.5) == []
    assert grid.cells_dirty(1.5) == [3]
    assert grid.draw(1.5) == 1
    grid.release()


def test_render_twice_identical(rc: RenderContext) -> None:
    digests = []
    for _ in range(2):
        grid = GridCompositor(rc.ctx, rc.size, 3, 4, background=BG)
        h = hashlib.sha256()
        for t in _scripted(grid):
            h.update(frame(rc, grid, t).tobytes())
        digests.append(h.hexdigest())
        grid.release()
    assert digests[0] == digests[1]


def test_files_decode_async_and_corrupt_is_skipped(
    rc: RenderContext, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    good = tmp_path / "good.png"
    cv2.imwrite(str(good), np.full((30, 30, 3), (60, 90, 120), np.uint8))
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 this is not a jpeg")
    grid = GridCompositor(rc.ctx, rc.size, 1, 2, background=BG, upload_rows_per_frame=4)
    with caplog.at_level(logging.WARNING):
        grid.set_image(0, bad, transition="cut", start_time=0.0)
        grid.set_image(1, good, transition="cut", start_time=None)  # live: starts when uploaded
        first = frame(rc, grid, 0.0)  # must not raise
        assert np.all(cell_pixels(first, grid, 0) == BG)
        # the decode runs on a worker thread: wait in wall time (a loaded CI machine is slow), not frames
        deadline, k = time.monotonic() + 20, 0
        while grid.uploads_pending and time.monotonic() < deadline:
            k += 1
            last = frame(rc, grid, k / 60)
            time.sleep(0.002)
        assert grid.uploads_pending == 0 and k > 2  # several frames: the upload went in slices
        last = frame(rc, grid, k / 60)
    assert np.all(cell_pixels(last, grid, 1) == (120, 90, 60))
    assert np.all(cell_pixels(last, grid, 0) == BG)
    assert "broken.jpg" in caplog.text
    grid.release()


def test_due_upload_is_finished_on_its_frame(rc: RenderContext) -> None:
    grid = GridCompositor(rc.ctx, rc.size, 1, 1, background=BG, upload_rows_per_frame=1)
    grid.set_image(0, solid((5, 150, 250)), transition="cut", start_time=1.0)
    assert np.all(frame(rc, grid, 0.0) != (5, 150, 250))
    assert grid.uploads_pending == 1
    assert np.all(cell_pixels(frame(rc, grid, 1.0), grid, 0) == (5, 150, 250))
    grid.release()


def test_layers_grow_when_full(rc: RenderContext) -> None:
    grid = GridCompositor(rc.ctx, rc.size, 1, 2, background=BG, spare_layers=0)
    colors = palette(9)
    for k, color in enumerate(colors):  # nine future changes on two cells: more than the 4 layers
        grid.set_image(k % 2, solid(color), transition="cut", start_time=float(k))
    grid.flush_uploads()
    assert np.all(cell_pixels(frame(rc, grid, 8.0), grid, 0) == colors[8])
    assert np.all(cell_pixels(frame(rc, grid, 8.0), grid, 1) == colors[7])
    grid.release()


def test_present_scales_to_another_size_and_keys(rc: RenderContext) -> None:
    grid = GridCompositor(rc.ctx, (128, 72), 1, 1, background=BG, cell_aspect=None)
    grid.set_image(0, solid((200, 100, 50)), transition="cut", start_time=0.0)
    pixels = frame(rc, grid, 0.0)  # 128x72 grid presented into the 256x144 target
    assert np.all(pixels == (200, 100, 50))
    grid.release()
    seen = []
    rc.on_key(seen.append)
    rc.emit_key("space")
    assert not rc.should_close
    rc.emit_key("q")
    assert rc.should_close and seen == ["space", "q"]
    rc.should_close = False
