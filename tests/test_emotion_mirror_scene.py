"""The emotion mirror: attract timing (pure, injected time), paintings that follow the mapping, the scene on
headless GL with a real video through the real threads, and privacy (the pipeline writes no files)."""

from __future__ import annotations

import builtins
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import gl_context_fixture, render_frame

from exporters.synthetic import STYLES, face_video, tiny_pack, write_video
from installation.emotion import DEFAULT_MAPPING, PaintWorker, blend, mapping_matrix
from installation.emotion.mirror import MirrorSettings, MirrorState
from installation.emotion.pipeline import FaceReading, Reading
from installation.render import RenderContext
from installation.scenes import SceneEnv
from installation.scenes.emotion_mirror import EmotionMirrorScene, MirrorModels
from installation.show import load_show_text

W, H = 160, 96
LABELS = list(DEFAULT_MAPPING)
MATRIX = mapping_matrix(DEFAULT_MAPPING, LABELS, STYLES)
HAPPY = {k: (0.94 if k == "happy" else 0.01) for k in LABELS}
SAD = {k: (0.94 if k == "sad" else 0.01) for k in LABELS}


def test_attract_starts_and_ends_on_time() -> None:
    state = MirrorState(MirrorSettings(absent_after=2.0, interval=100), MATRIX, LABELS)
    modes = {}
    for i in range(120):  # 10 fps: a face for 3 s, nobody until 8 s, a face again
        t = i / 10
        face = t < 3 or t >= 8
        state.update(t, HAPPY if face else None, face)
        modes[round(t, 1)] = state.mode
    assert modes[0.0] == "mirror" and modes[4.8] == "mirror" and modes[4.9] == "attract"  # last face 2.9 + 2
    assert modes[7.9] == "attract" and modes[8.0] == "mirror" and state.mode_since == 8.0


def test_failing_source_sends_to_attract_and_back() -> None:
    state = MirrorState(MirrorSettings(absent_after=1.0), MATRIX, LABELS)
    state.update(0.0, HAPPY, True)
    state.update(0.5, None, None, source_ok=False)
    assert state.mode == "mirror"
    state.update(1.0, None, None, source_ok=False)
    assert state.mode == "attract"
    state.update(1.5, None, None, source_ok=True)  # reconnected, no reading yet
    assert state.mode == "attract"
    state.update(1.6, HAPPY, True)
    assert state.mode == "mirror"


def test_paint_orders_follow_the_mapping_and_the_cadence() -> None:
    state = MirrorState(MirrorSettings(half_life=0.2, switch_seconds=0.5, interval=5, min_interval=1),
                        MATRIX, LABELS)
    orders = []
    for i in range(100):
        t = i / 10
        order = state.update(t, HAPPY if t < 6 else SAD, True)
        if order:
            orders.append(order)
    assert [(o.t, o.reason) for o in orders][:2] == [(0.0, "first"), (5.0, "interval")]
    assert np.allclose(orders[0].mixture, blend(HAPPY, MATRIX, LABELS), atol=1e-6)
    assert np.argmax(orders[0].mixture) == STYLES.index("impressionism")
    emotion = [o for o in orders if o.reason == "emotion"]
    assert len(emotion) == 1 and emotion[0].label == "sad" and 6.5 <= emotion[0].t <= 7.5
    last = orders[-1]
    assert np.allclose(last.mixture, blend(last.probs, MATRIX, LABELS))
    assert last.mixture[STYLES.index("symbolism")] > 0.5


# ---- the scene on GL ----------------------------------------------------------------------------------------


rc = gl_context_fixture((W, H))


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_pack(tmp_path_factory.mktemp("pack"))


@pytest.fixture(scope="module")
def collection(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("collection")
    for i, colour in enumerate([(200, 40, 40), (40, 200, 40), (40, 40, 200), (200, 200, 40)]):
        cv2.imwrite(str(folder / f"{i}.png"), np.full((32, 32, 3), colour, np.uint8))
    return folder


class FakeAnalyzer:
    """Readings on demand (what the capture + analysis threads would deliver)."""

    def __init__(self) -> None:
        self.next: Reading | None = None
        self.source_ok = True

    def take(self) -> Reading | None:
        reading, self.next = self.next, None
        return reading

    def frame(self) -> None:
        return None

    def stop(self) -> None:
        pass


def mirror_params(pack: Path, collection: Path, camera: str = "0", more: str = ""):
    text = (f"version: 1\ncues:\n  - scene:\n      type: emotion_mirror\n      camera: {camera}\n"
            f"      models: {pack}\n      absent_after: 1\n      interval: 100\n      candidates: 2\n"
            f"      transition: {{type: crossfade, seconds: 0.5, easing: linear}}\n"
            f"      attract_transition: {{type: cut}}\n{more}"
            f"      attract: {{type: gradual_change, collection: {collection}, rows: 2, cols: 2, order: as_is, "
            f"reveal_interval: 0.1, cell_transition: cut}}\n    follow: hold\n")
    return load_show_text(text, "mirror.yaml").cues[0].scene


def test_scene_paints_the_mapped_style_and_attracts(rc: RenderContext, pack: Path, collection: Path) -> None:
    params = mirror_params(pack, collection)
    models = MirrorModels(pack, upscale=True, threads=1)
    analyzer = FakeAnalyzer()
    worker = PaintWorker(models.generator, models.upscaler, models.encoder, candidates=2)
    scene = EmotionMirrorScene(SceneEnv(rc.ctx, (W, H)), params, analyzer=analyzer, models=models, worker=worker)
    try:
        t = 0.0
        analyzer.next = Reading(0.0, [FaceReading((10, 10, 40, 40), True, HAPPY)], HAPPY, None)
        scene.on_frame(t, 0.0)
        assert scene.mode == "mirror"
        painting = worker.results.get(timeout=60)
        worker.results.put(painting)
        assert np.allclose(painting.mixture, blend(HAPPY, MATRIX, LABELS), atol=1e-6)
        for _ in range(8):  # the crossfade (0.5 s) completes
            t += 0.1
            analyzer.next = Reading(t, [FaceReading((10, 10, 40, 40), True, HAPPY)], HAPPY, None)
            scene.on_frame(t, 0.1)
            pixels = render_frame(scene, rc)
        assert scene.paintings == 1
        expected = cv2.resize(painting.image, (H, H))  # contain: a square painting, letterboxed
        x0 = (W - H) // 2
        centre = pixels[H // 4 : 3 * H // 4, x0 + H // 4 : x0 + 3 * H // 4].astype(int)
        assert np.abs(centre - expected[H // 4 : 3 * H // 4, H // 4 : 3 * H // 4]).mean() < 30
        # nobody for absent_after (1 s): the attract scene (the gradual change's coloured cells)
        for _ in range(15):
            t += 0.1
            analyzer.next = Reading(t, [], None, None)
            scene.on_frame(t, 0.1)
        assert scene.mode == "attract"
        attract = render_frame(scene, rc)
        assert attract[H // 4, W // 4].tolist() != pixels[H // 4, W // 4].tolist()
    finally:
        scene.release()


def test_live_video_through_the_threads_writes_no_files(rc: RenderContext, pack: Path, collection: Path,
                                                        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real capture and analysis threads on a video with a face: the mirror leaves attract mode and paints;
    meanwhile no file is opened for writing, no image or video written, and no new file appears."""
    video, _ = face_video(tmp_path / "visitor.avi", count=20, fps=20.0, absent=())
    work, home = tmp_path / "cwd", tmp_path / "home"
    work.mkdir()
    home.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("HOME", str(home))
    params = mirror_params(pack, collection, camera=str(video), more="      inset: true\n")
    before = sorted(p for p in tmp_path.rglob("*"))
    real_open = builtins.open
    writes = []

    def guarded_open(file, mode="r", *args, **kwargs):
        if any(c in mode for c in "wax+"):
            writes.append(str(file))
            raise PermissionError(f"the mirror must not write {file}")
        return real_open(file, mode, *args, **kwargs)

    def no_write(*args, **kwargs):
        writes.append(repr(args[:1]))
        raise PermissionError("the mirror must not write images or video")

    monkeypatch.setattr(builtins, "open", guarded_open)
    monkeypatch.setattr(cv2, "imwrite", no_write)
    monkeypatch.setattr(cv2, "VideoWriter", no_write)
    monkeypatch.setattr(np, "save", no_write)
    scene = EmotionMirrorScene(SceneEnv(rc.ctx, (W, H)), params)
    try:
        assert scene.state is not None and scene.analyzer is not None
        t, deadline = 0.0, time.monotonic() + 60
        while (scene.paintings == 0 or scene.mode != "mirror") and time.monotonic() < deadline:
            time.sleep(0.05)
            t += 0.05
            scene.on_frame(t, 0.05)
            render_frame(scene, rc)
        assert scene.mode == "mirror" and scene.paintings >= 1 and scene.latency
        assert scene.analyzer.capture.stats.frames > 0 and scene.analyzer.frames > 0
    finally:
        scene.release()
        monkeypatch.undo()
    assert writes == []
    assert sorted(p for p in tmp_path.rglob("*")) == before
    assert not any(work.iterdir()) and not any(home.iterdir())


def test_write_video_helper_is_only_used_by_tests(tmp_path: Path) -> None:
    assert write_video(tmp_path / "a.avi", [np.zeros((8, 8, 3), np.uint8)] * 2).is_file()


def test_example_show_validates_with_its_assets(tmp_path: Path, collection: Path, pack: Path) -> None:
    """shows/emotion_mirror.yaml, pointed at a small collection and a pack: valid, camera not opened."""
    from installation.show import check_show

    repo = Path(__file__).resolve().parents[1]
    text = (repo / "shows" / "emotion_mirror.yaml").read_text()
    text = text.replace("../assets/collections/demo", str(collection)).replace("order: gnn", "order: as_is")
    text = text.replace("      face: largest", f"      models: {pack}\n      face: largest")
    show = tmp_path / "mirror.yaml"
    show.write_text(text)
    report = check_show(show)
    assert [str(e) for e in report.errors] == []
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("sad: {symbolism: 0.6", "sad: {cubism: 0.6"))
    errors = [str(e) for e in check_show(bad).errors]
    assert len(errors) == 1 and "scene.mapping" in errors[0] and "cubism" in errors[0], errors


def test_runtime_modules_do_not_import_torch() -> None:
    import subprocess
    import sys

    code = ("import sys, installation.capture, installation.capture.faces, installation.emotion, "
            "installation.emotion.live, installation.scenes.emotion_mirror, installation.inference.emotion; "
            "sys.exit('torch' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_camera_missing_at_start_then_plugged_in(rc: RenderContext, pack: Path, collection: Path,
                                                 tmp_path: Path) -> None:
    """A source that is not there: the attract scene plays and the capture keeps retrying; when the video
    appears, the mirror comes alive without a restart."""
    video = tmp_path / "late.avi"
    params = mirror_params(pack, collection, camera=str(video))
    scene = EmotionMirrorScene(SceneEnv(rc.ctx, (W, H)), params)
    try:
        t = 0.0
        for _ in range(5):
            time.sleep(0.05)
            t += 0.05
            scene.on_frame(t, 0.05)
            render_frame(scene, rc)
        assert scene.mode == "attract" and scene.analyzer.capture.state == "reconnecting"
        face_video(tmp_path / "tmp.avi", count=20, fps=20.0, absent=())[0].rename(video)
        deadline = time.monotonic() + 30
        while scene.paintings == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
            t += 0.05
            scene.on_frame(t, 0.05)
            render_frame(scene, rc)
        assert scene.mode == "mirror" and scene.paintings >= 1
        assert scene.analyzer.capture.stats.reconnects >= 1
        stats = scene.stats
        assert stats["camera"] == "connected" and stats["capture_frames"] > 0 and "capture_dropped" in stats
    finally:
        scene.release()


def test_post_chain_applies_to_the_paintings(rc: RenderContext, pack: Path, collection: Path) -> None:
    from installation.render import PostSettings

    params = mirror_params(pack, collection)
    models = MirrorModels(pack, upscale=True, threads=1)
    analyzer = FakeAnalyzer()
    env = SceneEnv(rc.ctx, (W, H), post=PostSettings.from_mapping({"grade": {"saturation": 0.0}}))
    scene = EmotionMirrorScene(env, params, analyzer=analyzer, models=models)
    try:
        t = 0.0
        analyzer.next = Reading(0.0, [FaceReading((10, 10, 40, 40), True, HAPPY)], HAPPY, None)
        scene.on_frame(0.0, 0.0)
        deadline = time.monotonic() + 30
        while scene.paintings == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
            scene.on_frame(t, 0.0)
        for _ in range(8):
            t += 0.1
            analyzer.next = Reading(t, [FaceReading((10, 10, 40, 40), True, HAPPY)], HAPPY, None)
            scene.on_frame(t, 0.1)
            pixels = render_frame(scene, rc).astype(int)
        centre = pixels[H // 4 : 3 * H // 4, W // 2 - H // 4 : W // 2 + H // 4]
        colour = np.abs(centre[..., 0] - centre[..., 1]).mean() + np.abs(centre[..., 1] - centre[..., 2]).mean()
        original = scene.last_painting.image.astype(int)
        assert colour < 3 and np.abs(original[..., 0] - original[..., 1]).mean() > 3  # grey after the grade
    finally:
        scene.release()
