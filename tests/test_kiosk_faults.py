"""Fault injection on real processes: a supervisor and a headless (EGL) player playing shows whose files the
test breaks while they play: images (corrupt, deleted, truncated, emptied), models (a damaged generator) and
the camera (a video file that is not there yet, then deleted). The player must keep presenting frames
without a restart, /status must say what is wrong, and what comes back must be shown again."""

from __future__ import annotations

import time
import urllib.request
from pathlib import Path

import cv2
import numpy as np
import pytest
from helpers.faults import pack_copy, write_noise_video
from helpers.kiosk import COLOURS, Kiosk, kiosk, needs_egl, player_errors, wait_for

BG = (0, 0, 0)
RETRY = {"INSTALLATION_MEDIA_RETRY": "0.5,2"}  # the gallery default is 5 s doubling to 300 s


def colours_seen(k: Kiosk) -> set[int]:
    """Indices of COLOURS that cover at least a few pixels of the player's next frame (GET /screenshot)."""
    with urllib.request.urlopen(k.url + "/screenshot", timeout=5) as resp:
        assert resp.status == 200
        bgr = cv2.imdecode(np.frombuffer(resp.read(), np.uint8), cv2.IMREAD_COLOR)
    rgb = bgr[..., ::-1].astype(int)
    return {i for i, c in enumerate(COLOURS) if (np.abs(rgb - c).max(axis=2) <= 4).sum() >= 40}



def steady(k: Kiosk, frames_before: int) -> dict:
    """The player presents frames, has not been restarted, and /health says so."""
    st = k.wait("frames still rising", lambda s: s["frames_total"] > frames_before + 10 and s["healthy"])
    assert st["restarts"] == 0 and st["state"] == "playing" and k.get("/health")[0] == 200
    return st



def metrics(k: Kiosk) -> dict[str, float]:
    code, text = k.get("/metrics")
    assert code == 200
    return {line.split(" ")[0]: float(line.split(" ")[1]) for line in text.splitlines() if not line.startswith("#")}


@needs_egl
def test_broken_images_are_skipped_reported_once_and_shown_again(tmp_path: Path) -> None:
    folder = tmp_path / "pics"
    folder.mkdir()
    paths = []
    for i, c in enumerate(COLOURS):
        paths.append(folder / f"img{i}.png")
        cv2.imwrite(str(paths[-1]), np.full((24, 24, 3), c[::-1], np.uint8))
    good = {p: p.read_bytes() for p in paths}
    show = tmp_path / "grid.yaml"
    # 3x3, a new shuffled pass every 1.5 s: every image is read from disk again on each pass
    show.write_text(f"""version: 1
display: {{size: 160x90, background: {list(BG)}}}
cues:
  - id: grid
    scene: {{type: gradual_change, collection: {folder}, rows: 3, cols: 3, order: as_is, reveal_interval: 0.15,
             cell_transition: cut, after_last: restart, linger: 0.3}}
    follow: hold
""")
    with kiosk(tmp_path, show, env=RETRY) as k:
        st = k.wait("first frames", lambda s: s["healthy"] and s["player_frames"] > 5)
        wait_for("all nine images", lambda: colours_seen(k) == set(range(9)))
        assert st["camera"] == {"state": "none"} and st["media"]["failing"] == 0
        assert "installation_camera_up" not in metrics(k)  # no camera in this show: no false alarm

        paths[1].write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)  # corrupt
        paths[2].unlink()  # vanished
        paths[3].write_bytes(good[paths[3]][: len(good[paths[3]]) // 2])  # truncated
        paths[4].write_bytes(b"")  # emptied
        frames = st["frames_total"]
        st = k.wait("four files failing", lambda s: s["media"]["failing"] == 4, timeout=15)
        assert sorted(st["media"]["failing_files"]) == ["img1.png", "img2.png", "img3.png", "img4.png"]
        steady(k, frames)
        time.sleep(3.5)  # two more passes: each retried, still broken, and not reported again
        st = steady(k, st["frames_total"])
        media = player_errors(st, "media")
        for i, why in ((1, "corrupt"), (2, "file not found"), (3, "truncated"), (4, "empty file")):
            mine = [m for m in media if f"img{i}.png skipped" in m]
            assert len(mine) == 1 and why in mine[0], media
        assert st["media"]["failed_total"] > 4  # ...though they were tried again
        assert metrics(k)["installation_media_failing"] == 4
        seen = colours_seen(k)
        assert not seen & {1, 2, 3, 4} and len(seen) >= 3, seen  # the placeholder (background) in their cells

        for p in paths[1:5]:
            p.write_bytes(good[p])
        st = k.wait("the files read again", lambda s: s["media"]["failing"] == 0, timeout=15)
        assert st["media"]["recovered_total"] == 4
        wait_for("the restored images on screen", lambda: {1, 2, 3, 4} <= colours_seen(k), timeout=15)
        st = steady(k, st["frames_total"])
        assert len([m for m in player_errors(st, "media") if "reads again" in m]) == 4


@needs_egl
def test_damaged_model_plays_the_fallback(tmp_path: Path) -> None:
    folder = four_pictures(tmp_path / "pics")
    pack = pack_copy(tmp_path / "pack")
    (pack / "sagan.onnx").write_bytes((pack / "sagan.onnx").read_bytes()[:5000])  # a copy cut short
    video = write_noise_video(tmp_path / "camera.avi")
    show = tmp_path / "mirror.yaml"
    show.write_text(mirror_show(pack, folder, video))
    with kiosk(tmp_path, show) as k:
        st = k.wait("the fallback reported", lambda s: s["healthy"] and s["fallbacks"], timeout=30)
        assert "sagan.onnx" in st["fallbacks"]["mirror"] and "not a loadable ONNX model" in st["fallbacks"]["mirror"]
        assert st["camera"] == {"state": "none"}  # the fallback needs no camera
        st = k.wait("the error listed", lambda s: player_errors(s, "model"))
        assert "attract scene" in player_errors(st, "model")[0]
        wait_for("the attract scene", lambda: colours_seen(k) == {0, 1, 2, 3})
        steady(k, st["frames_total"])
        assert metrics(k)["installation_scene_fallbacks"] == 1


def four_pictures(folder: Path) -> Path:
    """The mirror's attract collection: four flat images of the first four test colours."""
    folder.mkdir()
    for i, c in enumerate(COLOURS[:4]):
        cv2.imwrite(str(folder / f"img{i}.png"), np.full((24, 24, 3), c[::-1], np.uint8))
    return folder


def mirror_show(pack: Path, folder: Path, camera: Path) -> str:
    return f"""version: 1
display: {{size: 160x90, background: {list(BG)}}}
cues:
  - id: mirror
    scene: {{type: emotion_mirror, camera: '{camera}', models: {pack}, upscale: false, candidates: 1,
             interval: 100, attract: {{type: gradual_change, collection: {folder}, rows: 2, cols: 2,
             order: as_is, reveal_interval: 0.1, cell_transition: cut}}}}
    follow: hold
"""


@needs_egl
def test_camera_absent_plugged_in_lost_and_back(tmp_path: Path) -> None:
    folder = four_pictures(tmp_path / "pics")
    pack = pack_copy(tmp_path / "pack")
    video = tmp_path / "camera.avi"
    show = tmp_path / "mirror.yaml"
    show.write_text(mirror_show(pack, folder, video))
    with kiosk(tmp_path, show) as k:
        st = k.wait("camera absent", lambda s: s["healthy"] and s["camera"]["state"] == "absent", timeout=30)
        assert "no such video file" in st["camera"]["last_error"] and st["camera"]["frames"] == 0
        assert metrics(k)["installation_camera_up"] == 0
        st = k.wait("reported", lambda s: player_errors(s, "camera"))
        assert "absent" in player_errors(st, "camera")[0]
        wait_for("the attract scene", lambda: colours_seen(k) == {0, 1, 2, 3})

        write_noise_video(video)  # plugged in
        st = k.wait("camera ok", lambda s: s["camera"]["state"] == "ok" and s["camera"]["frames"] > 0, timeout=20)
        assert metrics(k)["installation_camera_up"] == 1
        frames = st["frames_total"]

        video.unlink()  # unplugged: the open file plays out, then it cannot be reopened
        st = k.wait("camera retrying", lambda s: s["camera"]["state"] == "retrying", timeout=15)
        assert st["camera"]["last_error"] and metrics(k)["installation_camera_up"] == 0
        st = steady(k, frames)
        assert any("lost" in m for m in player_errors(st, "camera"))

        write_noise_video(video)  # back
        st = k.wait("camera ok again", lambda s: s["camera"]["state"] == "ok", timeout=20)
        assert st["camera"]["reconnects"] >= 2
        st = steady(k, st["frames_total"])
        assert sum("is back" in m for m in player_errors(st, "camera")) == 2


@pytest.mark.parametrize("state,up", [("ok", 1), ("retrying", 0)])
def test_camera_metric_follows_the_state(state: str, up: int) -> None:
    from installation.kiosk.http import metrics_text

    status = {"frames_total": 1, "restarts": 0, "fps": 30.0, "frame_time_p50_ms": 1.0, "frame_time_p99_ms": 2.0,
              "dropped_frames_total": 0, "healthy": True, "safe_mode": False, "rss_bytes": 1, "uptime_seconds": 1.0,
              "camera": {"state": state}, "media": {"failing": 2, "skipped_total": 5}, "fallbacks": {"m": "x"}}
    text = metrics_text(status)
    assert f"installation_camera_up {up}\n" in text and "installation_media_failing 2\n" in text
    assert "installation_scene_fallbacks 1\n" in text
