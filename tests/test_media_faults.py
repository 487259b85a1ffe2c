"""Runtime media and model faults, in process: the retry backoff (injected clock), the fault queue, why a
file does not read, and real scenes on headless GL whose files break and come back (no mocks: real files,
real decoding threads, real models; only the retry clock is ours to move)."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import PACK, headless_context
from helpers.faults import pack_copy, write_noise_video

from installation.faults import FaultLog
from installation.pack import PACK_FILES
from installation.render import RenderContext
from installation.render.textures import read_image
from installation.scenes import SceneEnv, create_scene
from installation.scenes.media import MediaHealth, retry_settings
from installation.show import load_show_text

W, H = 160, 90
BG = (16, 32, 48)
COLOURS = [(220, 40, 40), (40, 220, 40), (40, 40, 220), (220, 220, 40)]


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


# ---- the backoff and the queue (no GL) --------------------------------------------------------------------


def test_backoff_doubles_to_the_cap_and_logs_once(caplog: pytest.LogCaptureFixture) -> None:
    clock, reports = Clock(), []
    health = MediaHealth(5, 300, clock=clock, report=lambda *a: reports.append(a))
    path = Path("/gallery/a.png")
    assert health.wait(path) is None  # never failed: try now
    delays = []
    with caplog.at_level(logging.DEBUG, logger="installation.scenes.media"):
        for _ in range(9):
            delays.append(health.failed(path, "not a decodable image"))
            assert health.wait(path) == pytest.approx(delays[-1])
            clock.now += delays[-1] - 0.01
            assert health.wait(path) is not None  # not yet
            clock.now += 0.01
            assert health.wait(path) is None  # due
    assert delays == [5, 10, 20, 40, 80, 160, 300, 300, 300]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "a.png" in warnings[0].getMessage()
    assert [(k, lvl) for k, _, lvl in reports] == [("media", "error")]
    assert health.snapshot()["failing"] == 1 and health.snapshot()["failing_files"] == ["a.png"]
    health.loaded(path)
    health.loaded(path)  # a second success says nothing more
    assert health.snapshot() == {"failing": 0, "failing_files": [], "skipped_total": 0, "failed_total": 9,
                                 "recovered_total": 1}
    assert [(k, lvl) for k, _, lvl in reports] == [("media", "error"), ("media", "info")]
    assert health.failed(path, "gone") == 5  # a new episode starts from the first delay again


def test_retry_settings_from_the_environment(caplog: pytest.LogCaptureFixture) -> None:
    assert retry_settings(None) == (5.0, 300.0)
    assert retry_settings("0.5,4") == (0.5, 4.0)
    with caplog.at_level(logging.WARNING):
        assert retry_settings("4,0.5") == (5.0, 300.0) and retry_settings("soon") == (5.0, 300.0)
    assert "INSTALLATION_MEDIA_RETRY" in caplog.text


def test_fault_queue_is_bounded_and_rate_limited() -> None:
    clock = Clock()
    log = FaultLog(keep=8, burst=3, refill_seconds=10, clock=clock)
    for i in range(20):
        log.report("media", f"file {i}\nbroken")
    first = log.drain(10)
    assert [e["message"] for e in first] == ["file 0 broken", "file 1 broken", "file 2 broken"]  # one line each
    assert log.drain() == [] and log.snapshot() == {"media": 20}
    clock.now += 10  # one token back: the summary of what was left out comes first
    assert [e["message"] for e in log.drain()] == ["17 more fault report(s) not listed; see the player log"]
    clock.now += 10
    log.report("camera", "back", "info")
    assert log.drain()[0]["level"] == "info" and log.snapshot() == {"media": 20}


def test_why_a_file_does_not_read(tmp_path: Path) -> None:
    good = tmp_path / "good.png"
    cv2.imwrite(str(good), np.full((8, 8, 3), 128, np.uint8))
    data = good.read_bytes()
    (tmp_path / "half.png").write_bytes(data[: len(data) // 2])
    (tmp_path / "zero.png").write_bytes(b"")
    (tmp_path / "junk.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a jpeg at all")
    (tmp_path / "folder.png").mkdir()
    assert read_image(good)[1] is None and read_image(good)[0].shape == (8, 8, 3)
    reasons = {name: read_image(tmp_path / name)[1] for name in ("half.png", "zero.png", "junk.jpg", "folder.png",
                                                                  "gone.png")}
    assert reasons == {"half.png": "not a decodable image (corrupt or truncated)", "zero.png": "empty file (0 bytes)",
                       "junk.jpg": "not a decodable image (corrupt or truncated)", "folder.png": "a folder, not a file",
                       "gone.png": "file not found"}
    if os.geteuid() != 0:  # root reads anything: permissions cannot be tested as root
        locked = tmp_path / "locked.png"
        locked.write_bytes(data)
        locked.chmod(0)
        assert read_image(locked)[1] == "permission denied"


# ---- scenes on GL -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rc() -> Iterator[RenderContext]:
    context = headless_context((W, H))
    yield context
    context.close()


def solid_png(path: Path, rgb: tuple[int, int, int]) -> Path:
    cv2.imwrite(str(path), np.full((24, 24, 3), rgb[::-1], np.uint8))
    return path


def draw(rc: RenderContext, scene, t: float) -> np.ndarray:  # noqa: ANN001
    scene.on_frame(t, 1 / 30)
    rc.begin_frame()
    scene.render(rc.fbo)
    pixels = rc.read_pixels()
    rc.end_frame()
    return pixels


def cell_colours(pixels: np.ndarray, rows: int = 2, cols: int = 2) -> list[tuple[int, ...]]:
    """The colour at the centre of each cell of a grid that fills the picture (cover, no gap), row major."""
    h, w = pixels.shape[:2]
    side = min(h // rows, w // cols)  # square cells, centred
    x0, y0 = (w - cols * side) // 2, (h - rows * side) // 2
    return [tuple(int(v) for v in pixels[y0 + r * side + side // 2, x0 + c * side + side // 2])
            for r in range(rows) for c in range(cols)]


def play_until(rc: RenderContext, scene, t: float, until, seconds: float = 20.0) -> tuple[float, np.ndarray]:  # noqa: ANN001
    """Frames (cue time +1/30 each) until ``until(pixels, t)``: decodes run on a worker thread, so wall time."""
    deadline = time.monotonic() + seconds
    while True:
        t += 1 / 30
        pixels = draw(rc, scene, t)
        if until(pixels, t) or time.monotonic() > deadline:
            return t, pixels
        time.sleep(0.005)


def test_gradual_change_skips_broken_files_and_shows_them_when_back(
        rc: RenderContext, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = tmp_path / "pics"
    folder.mkdir()
    paths = [solid_png(folder / f"img{i}.png", c) for i, c in enumerate(COLOURS)]
    good = {p: p.read_bytes() for p in paths}
    paths[3].write_bytes(good[paths[3]][:40])  # truncated before the show loads: skipped, still planned
    show = load_show_text(f"""version: 1
display: {{background: {list(BG)}}}
cues:
  - scene: {{type: gradual_change, collection: {folder}, rows: 2, cols: 2, order: as_is, reveal_interval: 0.5,
             cell_transition: cut, linger: 100}}
    follow: hold
""")
    params = show.cues[0].scene
    assert [p.name for p in params.skipped] == ["img3.png"]
    paths[1].unlink()  # vanished after loading, before its reveal
    paths[2].write_bytes(b"")  # emptied: zero bytes
    clock = Clock()
    health = MediaHealth(5, 300, clock=clock, report=lambda *a: None)
    scene = create_scene(params, SceneEnv(rc.ctx, (W, H), BG, media=health))
    try:
        with caplog.at_level(logging.WARNING):
            t, pixels = play_until(rc, scene, 0.0, lambda px, t: health.snapshot()["failing"] == 3 and t > 2, 20)
            for _ in range(60):  # many frames later: still one warning per file
                t, pixels = play_until(rc, scene, t, lambda px, t: True)
        assert cell_colours(pixels) == [COLOURS[0], BG, BG, BG]  # the calm placeholder: the background
        assert scene.feed.failing_cells == [1, 2, 3]
        skipped = [r.getMessage() for r in caplog.records if r.name == "installation.scenes.media"]
        assert len(skipped) == 3 and any("file not found" in m for m in skipped) \
            and any("empty file" in m for m in skipped), skipped
        for p in paths[1:]:
            p.write_bytes(good[p])
        clock.now += 4  # not due yet: nothing is decoded again
        t, pixels = play_until(rc, scene, t, lambda px, t: False, 0.3)
        assert cell_colours(pixels) == [COLOURS[0], BG, BG, BG] and health.snapshot()["failed_total"] == 3
        clock.now += 1.01  # the 5 s backoff is over: retried off the frame path, cut in when decoded
        t, pixels = play_until(rc, scene, t, lambda px, t: cell_colours(px) == COLOURS)
        assert cell_colours(pixels) == COLOURS
        assert health.snapshot()["failing"] == 0 and health.snapshot()["recovered_total"] == 3
        assert scene.feed.failing_cells == []
    finally:
        scene.release()


def test_restart_pass_puts_the_background_where_a_file_broke(rc: RenderContext, tmp_path: Path) -> None:
    """In a later pass a cell whose new file fails must not keep its old image (a duplicate of one shown
    elsewhere in the new pass): it goes to the background until the file reads again."""
    folder = tmp_path / "pics"
    folder.mkdir()
    paths = [solid_png(folder / f"img{i}.png", c) for i, c in enumerate(COLOURS)]
    show = load_show_text(f"""version: 1
display: {{background: {list(BG)}}}
cues:
  - scene: {{type: gradual_change, collection: {folder}, rows: 2, cols: 2, order: as_is, reveal_interval: 0.25,
             cell_transition: cut, linger: 0.25, after_last: restart}}
    follow: hold
""")
    clock = Clock()
    health = MediaHealth(5, 300, clock=clock, report=lambda *a: None)
    scene = create_scene(show.cues[0].scene, SceneEnv(rc.ctx, (W, H), BG, media=health))
    try:
        t, pixels = play_until(rc, scene, 0.0, lambda px, t: sorted(cell_colours(px)) == sorted(COLOURS))
        paths[0].write_bytes(b"\x89PNG\r\n\x1a\n this is not the rest of a PNG")
        t0 = t
        # a pass takes 1 s (reveals at 0, .25, .5, .75, then .25 s of linger): look in the linger of a pass two
        # or more passes on, when every cell shows that pass's image (mid-pass, a cell still holds the last one)
        t, pixels = play_until(rc, scene, t, lambda px, t: t > t0 + 2.5 and 0.85 < t % 1.0 < 0.97)
        colours = cell_colours(pixels)
        assert COLOURS[0] not in colours and BG in colours and len(set(colours) - {BG}) == 3, colours
        assert health.snapshot()["failing_files"] == ["img0.png"]
        assert health.snapshot()["failed_total"] == 1  # later passes skip it without decoding (backoff)
    finally:
        scene.release()


def test_image_still_that_breaks_at_its_cue_is_retried(rc: RenderContext, tmp_path: Path) -> None:
    still = solid_png(tmp_path / "still.png", (200, 100, 50))
    data = still.read_bytes()
    show = load_show_text(f"version: 1\ndisplay: {{background: {list(BG)}}}\n"
                          f"cues:\n  - {{scene: {{type: image, path: {still}, fit: cover}}, follow: hold}}\n")
    still.write_bytes(data[: len(data) // 3])  # truncated after validation, before the cue starts
    clock = Clock()
    health = MediaHealth(5, 300, clock=clock, report=lambda *a: None)
    scene = create_scene(show.cues[0].scene, SceneEnv(rc.ctx, (W, H), BG, media=health))
    try:
        t, pixels = play_until(rc, scene, 0.0, lambda px, t: health.snapshot()["failing"] == 1)
        assert np.all(pixels == BG)
        still.write_bytes(data)
        clock.now += 5
        t, pixels = play_until(rc, scene, t, lambda px, t: np.all(px == (200, 100, 50)))
        assert np.all(pixels == (200, 100, 50)) and health.snapshot()["recovered_total"] == 1
    finally:
        scene.release()


# ---- models -----------------------------------------------------------------------------------------------


def mirror_show(pack: Path, folder: Path, camera: Path) -> str:
    return f"""version: 1
display: {{background: {list(BG)}}}
cues:
  - id: mirror
    scene: {{type: emotion_mirror, camera: '{camera}', models: {pack}, candidates: 1,
             attract: {{type: gradual_change, collection: {folder}, rows: 2, cols: 2, order: as_is,
                        reveal_interval: 0.1, cell_transition: cut}}}}
    follow: hold
"""


def test_damaged_models_fall_back_or_degrade(rc: RenderContext, tmp_path: Path) -> None:
    from installation.show import check_show

    folder = tmp_path / "pics"
    folder.mkdir()
    for i, c in enumerate(COLOURS):
        solid_png(folder / f"img{i}.png", c)
    pack = pack_copy(tmp_path / "pack")
    upscaler = pack / PACK_FILES["upscaler"]
    upscaler.write_bytes(upscaler.read_bytes()[:2000])  # optional model: damaged
    path = tmp_path / "mirror.yaml"
    path.write_text(mirror_show(pack, folder, tmp_path / "no-camera.avi"))
    show = load_show_text(path.read_text(), str(path))
    scene = create_scene(show.cues[0].scene, SceneEnv(rc.ctx, (W, H), BG, cue_id="mirror"))
    try:
        assert scene.state is not None and scene.models.upscaler is None and scene.models.encoder is not None
        assert "paints without upscaling" in scene.health()["fallback"]
        assert scene.health()["camera"]["state"] in ("starting", "absent")
    finally:
        scene.release()

    (pack / "sagan.onnx").write_bytes(b"\x08\x07 not a protobuf model")  # required model: damaged
    report = check_show(path)
    assert report.ok, report.errors  # a damaged model is a runtime fault, a warning at validation
    assert any("sagan.onnx" in str(w) and "attract scene" in str(w) for w in report.warnings)
    scene = create_scene(show.cues[0].scene, SceneEnv(rc.ctx, (W, H), BG, cue_id="mirror"))
    try:
        assert scene.state is None and scene.mode == "attract" and scene.worker is None
        health = scene.health()
        assert "not a loadable ONNX model" in health["fallback"] and health["camera"] == {"state": "none"}
        t, pixels = play_until(rc, scene, 0.0, lambda px, t: sorted(cell_colours(px)) == sorted(COLOURS))
        assert sorted(cell_colours(pixels)) == sorted(COLOURS)  # the attract scene plays
    finally:
        scene.release()


def test_a_scene_that_cannot_start_plays_the_background(rc: RenderContext) -> None:
    """A scene type whose start fails in a way it did not foresee (here: a plug-in scene reading a file that is
    not there): that cue shows the background and the next cue plays, instead of the player exiting."""
    from installation.faults import FAULTS
    from installation.player import Player
    from installation.scenes import SCENES, Scene, register
    from installation.show import SceneParams, register_scene
    from installation.show.scene_types import _REGISTRY

    class ReaderParams(SceneParams):
        type: str = "reader"

    class Reader(Scene):
        def __init__(self, env: SceneEnv, params: ReaderParams) -> None:
            super().__init__(env, params)
            Path("/nonexistent/notes.txt").read_text()

        def render(self, fbo) -> None:  # noqa: ANN001
            raise AssertionError("never started")

    register_scene("reader", ReaderParams)
    register("reader", Reader)
    try:
        show = load_show_text(f"version: 1\ndisplay: {{background: {list(BG)}}}\ncues:\n"
                              "  - {id: r, scene: {type: reader}, duration: 1, transition: cut}\n"
                              "  - {id: s, scene: {type: solid, colour: [1, 2, 3]}, duration: 1, transition: cut}\n")
        before = FAULTS.snapshot().get("scene", 0)  # counted even when the report queue is rate-limited
        player = Player(show, rc.ctx, (W, H))
        try:
            for t, colour in ((0.0, BG), (0.5, BG), (1.2, (1, 2, 3))):
                rc.begin_frame()
                player.frame(t, 0.1, rc.fbo)
                pixels = rc.read_pixels()
                rc.end_frame()
                assert np.all(pixels == colour), t
                if t == 0.5:
                    assert "could not start" in player.health()["fallbacks"]["r"]
            assert FAULTS.snapshot()["scene"] == before + 1
        finally:
            player.release()
    finally:
        SCENES.pop("reader", None)
        _REGISTRY.pop("reader", None)


def test_a_camera_that_stops_delivering_counts_as_stalled(rc: RenderContext, tmp_path: Path) -> None:
    """A driver read that hangs never raises: the capture stays "connected". The mirror must notice the
    silence (no frame for STALL_SECONDS), report it and play its attract scene, and see the frames return.
    The capture is stepped by hand with its own clock, so "hanging" is simply not stepping it."""
    from installation.capture import CaptureThread, VideoFileSource
    from installation.emotion.live import Analyzer
    from installation.faults import FAULTS
    from installation.scenes.emotion_mirror import STALL_SECONDS, EmotionMirrorScene, MirrorModels

    folder = tmp_path / "pics"
    folder.mkdir()
    for i, c in enumerate(COLOURS):
        solid_png(folder / f"img{i}.png", c)
    video = write_noise_video(tmp_path / "camera.avi")
    params = load_show_text(mirror_show(PACK, folder, video)).cues[0].scene
    clock = Clock()
    capture = CaptureThread(VideoFileSource(video, loop=True), clock=clock)
    analyzer = Analyzer(capture, pipeline=None)  # not started: nothing reads but our step() calls
    scene = EmotionMirrorScene(SceneEnv(rc.ctx, (W, H), BG, cue_id="mirror"), params, analyzer=analyzer,
                               models=MirrorModels(PACK, upscale=False, threads=1))
    try:
        before = FAULTS.snapshot().get("camera", 0)
        capture.step()
        scene.on_frame(0.1, 0.1)
        assert scene.health()["camera"]["state"] == "ok" and analyzer.source_ok
        clock.now += STALL_SECONDS + 0.5  # no frame since
        scene.on_frame(0.2, 0.1)
        camera = scene.health()["camera"]
        assert camera["state"] == "stalled" and camera["frames"] == 1
        assert FAULTS.snapshot()["camera"] == before + 1
        scene.on_frame(0.3, 0.1)
        assert FAULTS.snapshot()["camera"] == before + 1  # reported once, not per frame
        capture.step()  # the driver wakes up
        scene.on_frame(0.4, 0.1)
        assert scene.health()["camera"]["state"] == "ok"
    finally:
        scene.release()
