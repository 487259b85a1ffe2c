"""The player: cue transitions mixed by the transition shaders, keys, the overlay, both clocks."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import numpy as np
import pytest
from conftest import headless_context

from installation.player import FixedClock, Player, RealClock, render_frames
from installation.render import RenderContext
from installation.show import load_show_text

W, H = 160, 90
A, B = (200, 40, 0), (0, 100, 250)
SHOW = f"""\
version: 1
name: Player test
display: {{background: [0, 0, 0]}}
cues:
  - {{id: a, scene: {{type: solid, colour: {list(A)}}}, duration: 2, transition: cut}}
  - id: b
    scene: {{type: solid, colour: {list(B)}}}
    duration: 2
    transition: {{type: crossfade, seconds: 1, easing: linear}}
  - id: c
    scene: {{type: solid, colour: [255, 255, 255]}}
    duration: 2
    transition: {{type: wipe, seconds: 1, easing: linear, direction: right}}
"""


def test_fixed_clock_steps_and_real_clock_pauses() -> None:
    clock = FixedClock(4, start=1.0)
    assert [clock.tick() for _ in range(3)] == [(1.0, 0.0), (1.25, 0.25), (1.5, 0.25)]
    now = iter([10.0, 10.5, 11.0, 12.0, 12.25])
    real = RealClock(now=lambda: next(now))
    assert real.tick() == (0.0, 0.0) and real.tick() == (0.5, 0.5)
    real.paused = True
    assert real.tick() == (0.5, 0.0)
    real.paused = False
    assert real.tick() == (1.0, 0.5)  # the 1 s step counts as max_step (0.5)
    assert real.tick() == (1.25, 0.25)


@pytest.fixture(scope="module")
def rc() -> Iterator[RenderContext]:
    context = headless_context((W, H))
    yield context
    context.close()


def frame(rc: RenderContext, player: Player, t: float) -> np.ndarray:
    rc.begin_frame()
    player.frame(t, 0.0, rc.fbo)
    pixels = rc.read_pixels()
    rc.end_frame()
    return pixels


@pytest.mark.gl
def test_cue_transitions_mix_the_two_scenes(rc: RenderContext) -> None:
    player = Player(load_show_text(SHOW), rc.ctx, rc.size)
    assert np.all(frame(rc, player, 1.0) == A)
    mid = frame(rc, player, 2.5).astype(int)  # crossfade a -> b, linear, half way
    assert np.abs(mid - (np.array(A) + np.array(B)) / 2).max() <= 1
    wipe = frame(rc, player, 4.5)  # wipe b -> c to the right, half way: left half white, right half b
    assert np.all(wipe[:, :60] == 255) and np.all(wipe[:, 100:] == B)
    assert np.all(frame(rc, player, 6.2) == A)  # after the last cue the show starts again (cut into a)
    player.release()


@pytest.mark.gl
def test_keys_step_cues_pause_and_toggle_the_overlay(rc: RenderContext) -> None:
    player = Player(load_show_text(SHOW), rc.ctx, rc.size)
    frame(rc, player, 0.5)
    player.on_key("right")  # b comes in at 0.5 with its crossfade
    assert player.timeline.at(1.0).cue_id == "b" and np.all(frame(rc, player, 1.6) == B)
    player.on_key("left")
    assert player.timeline.at(1.7).cue_id == "a"
    player.on_key("space")
    assert player.paused and "[paused]" in player.status_lines()[0]
    plain = frame(rc, player, 3.0)
    player.on_key("f")
    with_overlay = frame(rc, player, 3.0)
    assert player.overlay_visible and np.any(with_overlay[:20, :40] != plain[:20, :40])
    player.on_key("f")
    assert np.array_equal(frame(rc, player, 3.0), plain)
    assert any(line.startswith("cue a") for line in player.status_lines())
    player.release()


@pytest.mark.gl
def test_fixed_dt_gives_identical_frames(rc: RenderContext) -> None:
    def digest() -> str:
        player = Player(load_show_text(SHOW), rc.ctx, rc.size)
        h = hashlib.sha256()
        render_frames(rc, player, FixedClock(5), 35, lambda f: h.update(f.tobytes()))
        player.release()
        return h.hexdigest()

    assert digest() == digest()
