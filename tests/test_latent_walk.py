"""The latent walk: the walk is a pure function of cue time (slerp, the style path), frames are the same on two
runs (fresh workers, real ONNX Runtime sessions of the pack, real GL), they change little from one display
frame to the next, and a slow generator never stalls the render loop (it holds the last keyframe)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from conftest import PACK, gl_context_fixture, render_frame
from helpers.renders import render_twice

from installation.inference.generator import Generator, Upscaler
from installation.pack import PACK_FILES
from installation.render import PostSettings, RenderContext
from installation.scenes import SceneEnv
from installation.scenes.latent_walk import LatentWalkParams, LatentWalkScene, WalkPlan, slerp
from installation.show import load_show_text

W, H = 192, 144
CLASSES = ("a", "b", "c")


def plan(**kw: object) -> WalkPlan:
    args: dict = {"classes": CLASSES, "styles": CLASSES, "latent_dim": 16, "seed": 3, "seconds_per_step": 4.0,
                  "keyframe_seconds": 0.5}
    args.update(kw)
    return WalkPlan(**args)


# ---- the walk (pure) --------------------------------------------------------------------------------------


def test_slerp_ends_and_norm() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(128), rng.standard_normal(128)
    assert np.allclose(slerp(a, b, 0.0), a) and np.allclose(slerp(a, b, 1.0), b)
    mid = slerp(a, b, 0.5)
    # the Gaussian's typical shell: slerp keeps the norm, a linear blend of two near-orthogonal codes loses ~30 %
    assert abs(np.linalg.norm(mid) - np.sqrt(128)) < 0.2 * np.sqrt(128)
    assert np.linalg.norm((a + b) / 2) < 0.8 * np.linalg.norm(mid)


def test_state_is_a_pure_function_of_time() -> None:
    p, q = plan(), plan()
    for t in (0.0, 0.3, 3.99, 4.0, 17.25, 1000.5):
        z1, m1 = p.state(t)
        z2, m2 = q.state(t)
        assert np.array_equal(z1, z2) and np.array_equal(m1, m2)
        assert z1.dtype == np.float32 and abs(float(m1.sum()) - 1) < 1e-6
    assert not np.array_equal(p.state(1.0)[0], plan(seed=4).state(1.0)[0])
    assert np.array_equal(p.state(-5.0)[0], p.state(0.0)[0])


def test_style_path_one_hot_then_70_30() -> None:
    p = plan()
    assert [p.waypoint_styles(w) for w in range(4)] == [{"a": 1.0}, {"a": 0.7, "b": 0.3}, {"a": 0.3, "b": 0.7},
                                                        {"b": 1.0}]
    assert p.waypoint_styles(9) == {"a": 1.0}  # 3 styles x 3 waypoints: the path loops
    z, m = p.state(4.0)  # the waypoint itself at the step boundary
    assert np.allclose(m, [0.7, 0.3, 0.0]) and np.allclose(z, p.anchor(1).astype(np.float32))
    single = plan(styles=("b",))
    assert all(single.waypoint_styles(w) == {"b": 1.0} for w in range(5))
    with pytest.raises(ValueError, match="unknown style"):
        plan(styles=("a", "zz"))


def test_state_moves_continuously() -> None:
    p = plan()
    ts = np.arange(0, 12, 1 / 60)
    zs = np.stack([p.state(t)[0] for t in ts])
    ms = np.stack([p.state(t)[1] for t in ts])
    steps = np.linalg.norm(np.diff(zs, axis=0), axis=1)
    assert steps.max() < 0.05 * np.sqrt(16) and np.abs(np.diff(ms, axis=0)).max() < 0.02


def test_keyframes_and_blend() -> None:
    p = plan(keyframe_seconds=0.25)
    assert p.locate(0.0) == (0, 0.0) and p.locate(1.1)[0] == 4 and abs(p.locate(1.1)[1] - 0.4) < 1e-9
    z, m = p.keyframe_states([0, 8])
    assert np.array_equal(z[1], p.state(2.0)[0]) and m.shape == (2, 3)


# ---- parameters -------------------------------------------------------------------------------------------


def check(scene: str) -> list[str]:
    from installation.show import check_text

    report = check_text(f"version: 1\ncues:\n  - follow: hold\n    scene:\n{scene}", "walk.yaml")
    return [str(i) for i in report.errors]


def test_params_are_bounded(tmp_path: Path) -> None:
    ok = "      type: latent_walk\n      styles: [impressionism, baroque]\n      seconds_per_step: 6\n"
    assert check(ok) == []
    assert any("blend_seconds" in e for e in check(ok + "      blend_seconds: 7\n"))
    assert any("styles[1]" in e and "unknown style" in e
               for e in check("      type: latent_walk\n      styles: [impressionism, cubism]\n"))
    assert any("shares" in e for e in check("      type: latent_walk\n      shares: [1.0, 0]\n"))
    assert any("seconds_per_step" in e for e in check("      type: latent_walk\n      seconds_per_step: 0.01\n"))
    assert any("easing" in e for e in check("      type: latent_walk\n      easing: wobble\n"))
    assert any("batch" in e for e in check("      type: latent_walk\n      batch: 1000\n"))
    assert any("sede" in e and "did you mean" in e for e in check("      type: latent_walk\n      sede: 3\n"))


def test_example_show_validates() -> None:
    from installation.show import check_show

    report = check_show(Path(__file__).resolve().parents[1] / "shows" / "latent_walk.yaml")
    assert report.ok, [str(i) for i in report.errors]


# ---- on GL, with the pack's models ------------------------------------------------------------------------


rc = gl_context_fixture((W, H))


@pytest.fixture(scope="module")
def models() -> tuple[Generator, Upscaler]:
    return Generator(PACK / "sagan.onnx", threads=1), Upscaler(PACK / PACK_FILES["upscaler"], threads=1)


def walk_params(**kw: object) -> LatentWalkParams:
    return LatentWalkParams.model_validate({"type": "latent_walk", "seed": 11, "seconds_per_step": 2.0,
                                            "blend_seconds": 0.25, "batch": 4, "ahead_seconds": 1.0, **kw})


def frames(rc: RenderContext, scene: LatentWalkScene, times: list[float]) -> list[np.ndarray]:
    out = []
    previous = times[0]
    for t in times:
        scene.on_frame(t, t - previous)
        previous = t
        out.append(render_frame(scene, rc).astype(np.int16))
    return out


def test_renders_are_identical_across_runs(rc: RenderContext, models: tuple) -> None:
    times = [0.0, 0.1, 0.37, 0.5, 1.3, 2.05, 3.3]
    runs = []
    for _ in range(2):  # two scenes, two workers: nothing shared but the model sessions
        scene = LatentWalkScene(SceneEnv(rc.ctx, rc.size), walk_params(), models=models, wait=30)
        runs.append(frames(rc, scene, times))
        assert scene.holds == 0 and scene.exact
        scene.release()
    for a, b in zip(*runs):
        assert np.array_equal(a, b)
    assert all(f.std() > 5 for f in runs[0])  # pictures, not the background
    assert np.abs(runs[0][0] - runs[0][-1]).mean() > 3  # and the walk has moved


def test_offline_env_waits_and_post_chain_applies(rc: RenderContext, models: tuple) -> None:
    env = SceneEnv(rc.ctx, rc.size, post=PostSettings.from_mapping({"grade": {"saturation": 0.0}}), offline=True)
    scene = LatentWalkScene(env, walk_params(fit="cover"), models=models)
    frame = frames(rc, scene, [0.6])[0]
    scene.release()
    assert scene.holds == 0 and frame.std() > 5
    assert np.abs(frame[..., 0] - frame[..., 1]).max() <= 2  # grey: the grade (saturation 0) is baked in


def test_frames_change_smoothly_at_display_rate(rc: RenderContext, models: tuple) -> None:
    fps, blend = 30.0, 0.25
    scene = LatentWalkScene(SceneEnv(rc.ctx, rc.size), walk_params(blend_seconds=blend), models=models, wait=30)
    shown = frames(rc, scene, [i / fps for i in range(0, 61)])
    keys = frames(rc, scene, [k * blend for k in range(0, 9)])  # the keyframes themselves
    scene.release()
    step = [np.abs(b - a).mean() for a, b in zip(shown, shown[1:])]
    key_step = [np.abs(b - a).mean() for a, b in zip(keys, keys[1:])]
    # blending spreads each keyframe change over blend * fps frames: each frame moves at most its share
    share = 1.0 / (blend * fps)
    assert max(step) <= share * max(key_step) * 1.05 + 0.5, (max(step), max(key_step))
    assert max(key_step) > 1.0  # the keyframes do differ


class SlowGenerator:
    """The pack's generator, made slow (a big model on a small machine): each batch takes ``delay`` seconds more."""

    def __init__(self, generator: Generator, delay: float) -> None:
        self.inner, self.delay = generator, delay
        self.classes, self.latent_dim = generator.classes, generator.latent_dim
        self.calls: list[float] = []

    def generate(self, z: np.ndarray, style: np.ndarray) -> np.ndarray:
        t0 = time.perf_counter()
        out = self.inner.generate(z, style)
        time.sleep(self.delay)
        self.calls.append(time.perf_counter() - t0)
        return out


def test_slow_generator_never_blocks_the_render_loop(rc: RenderContext, models: tuple) -> None:
    slow = SlowGenerator(models[0], delay=0.6)
    scene = LatentWalkScene(SceneEnv(rc.ctx, rc.size), walk_params(batch=2), models=(slow, models[1]))
    frame_times, exact = [], []
    start = time.perf_counter()
    while time.perf_counter() - start < 2.5:  # live: show time is wall time
        t0 = time.perf_counter()
        scene.on_frame(t0 - start, 1 / 60)
        rc.begin_frame()
        scene.render(rc.fbo)
        rc.end_frame()
        frame_times.append(time.perf_counter() - t0)
        exact.append(scene.exact)
        time.sleep(0.01)
    scene.release()
    assert slow.calls, "the worker ran the generator"
    generator_time = float(np.median(slow.calls))
    # the loop's frames take a fraction of one generator batch: it never waited for one
    assert max(frame_times) < 0.5 * generator_time, (max(frame_times), generator_time)
    assert scene.holds > 0 and not exact[0]  # it held (background, then the newest keyframe) meanwhile
    assert len(frame_times) > 3 * len(slow.calls)


def test_missing_models_fall_back_to_the_background(rc: RenderContext, tmp_path: Path) -> None:
    (tmp_path / "sagan.onnx").write_bytes(b"not a model")
    scene = LatentWalkScene(SceneEnv(rc.ctx, rc.size, background=(10, 20, 30)),
                            walk_params(models=str(tmp_path)))
    frame = frames(rc, scene, [0.0, 1.0])[-1]
    scene.release()
    assert scene.fallback and "sagan.onnx" in scene.fallback
    assert tuple(frame[H // 2, W // 2]) == (10, 20, 30)


def test_show_with_a_walk_loads() -> None:
    show = load_show_text("version: 1\ncues:\n  - {follow: hold, scene: {type: latent_walk, seed: 2}}\n", "w.yaml")
    assert show.cues[0].scene.type == "latent_walk"


def test_offline_render_is_the_same_twice(tmp_path: Path) -> None:
    """``installation render`` (offline: the scene waits for its keyframes) gives the same frames every time."""
    text = ("version: 1\ncues:\n  - follow: hold\n    scene: {type: latent_walk, seed: 5, seconds_per_step: 1, "
            "blend_seconds: 0.25, batch: 2}\n")
    show = load_show_text(text, "w.yaml")
    outs = render_twice(show, tmp_path, seconds=1.0, fps=8, size=(96, 64))
    assert len(outs[0]) == 8 and all(np.array_equal(a, b) for a, b in zip(*outs))
    assert outs[0][-1].std() > 5 and np.abs(outs[0][-1].astype(int) - outs[0][2].astype(int)).mean() > 1
