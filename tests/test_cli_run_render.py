"""`installation render` (mp4, avi, PNG folder; deterministic) and `installation run` (no display -> a video
file; a real pyglet window under Xvfb with a screenshot). User errors: one line, exit 2."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from installation.cli import main

REPO = Path(__file__).resolve().parents[1]
COLOUR = (200, 40, 90)


def make_collection(folder: Path, count: int = 4) -> None:
    from skimage import data as skdata

    folder.mkdir(parents=True, exist_ok=True)
    for i, img in enumerate([skdata.astronaut(), skdata.chelsea(), skdata.coffee(), skdata.astronaut()[::-1]][:count]):
        side = min(img.shape[:2]) // 2
        crop = np.ascontiguousarray(img[:side, :side])
        cv2.imwrite(str(folder / f"p{i}.png"), cv2.cvtColor(crop, cv2.COLOR_RGB2BGR))


@pytest.fixture(scope="module")
def show_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("show")
    make_collection(root / "photos")
    path = root / "small.yaml"
    path.write_text(f"""\
version: 1
name: Small
display: {{background: "#101820", fullscreen: true}}
cues:
  - id: colour
    scene: {{type: solid, colour: {list(COLOUR)}}}
    duration: 0.5
    transition: cut
  - id: grid
    scene: {{type: gradual_change, collection: photos, rows: 2, cols: 2, reveal_interval: 0.05,
             cell_transition: cut, linger: 30}}
    transition: {{type: dissolve, seconds: 0.3}}
    follow: hold
""")
    return path


def read_video(path: Path) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    return frames


@pytest.mark.gl
@pytest.mark.parametrize("suffix", [".mp4", ".avi"])
def test_render_video_reads_back(show_file: Path, tmp_path: Path, suffix: str, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / f"clip{suffix}"
    args = ["render", str(show_file), "--out", str(out), "--seconds", "1", "--fps", "10", "--size", "160x90"]
    assert main(args) == 0
    assert f"wrote {out} (10 frames, 160x90" in capsys.readouterr().out
    frames = read_video(out)
    assert len(frames) == 10 and frames[0].shape == (90, 160, 3)
    assert np.abs(frames[0][45, 80].astype(int) - COLOUR[::-1]).max() < 12  # BGR, lossy codec
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no partial file left behind
    again = tmp_path / f"again{suffix}"
    assert main([*args[:3], str(again), *args[4:]]) == 0
    assert all(np.array_equal(a, b) for a, b in zip(frames, read_video(again), strict=True))


@pytest.mark.gl
def test_render_png_folder_is_byte_identical(show_file: Path, tmp_path: Path) -> None:
    def digests(out: Path) -> list[str]:
        assert main(["render", str(show_file), "--out", str(out), "--seconds", "1.2", "--fps", "5",
                     "--size", "160x90", "--start", "0.2"]) == 0
        return [hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.glob("frame_*.png"))]

    first, second = digests(tmp_path / "a"), digests(tmp_path / "b")
    assert len(first) == 6 and first == second
    last = cv2.imread(str(tmp_path / "a" / "frame_00005.png"))
    assert last.shape == (90, 160, 3)


def test_user_errors_are_one_line_exit_2(show_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\ncues:\n  - scene: {type: sold}\n    duration: 1\n")
    for command in (["render", str(bad), "--out", str(tmp_path / "x.mp4")], ["run", str(bad)]):
        assert main(command) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith(f"{bad}:3 cues[0].scene.type: ") and "did you mean 'solid'" in err[0]
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder")
    for out, fragment in ((blocker / "clip.mp4", "cannot write"), (tmp_path / "clip.mov", "expected a .mp4")):
        assert main(["render", str(show_file), "--out", str(out), "--seconds", "0.1", "--size", "64x36"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error: ") and fragment in err[0]
    assert main(["render", str(show_file), "--out", str(tmp_path / "y.mp4"), "--size", "big"]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml", "file.txt"]


@pytest.mark.gl
def test_run_without_a_display_renders_a_video(show_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(show_file), "--seconds", "1", "--size", "160x90"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[0].startswith("no display") and "renders/small.mp4" in out[0] and "1 s as asked" in out[0]
    assert out[1].startswith("wrote renders/small.mp4")
    assert len(read_video(tmp_path / "renders" / "small.mp4")) == 30


@pytest.mark.window
@pytest.mark.gl
def test_run_opens_a_real_window_under_xvfb(show_file: Path, tmp_path: Path) -> None:
    xvfb = shutil.which("xvfb-run")
    if xvfb is None:
        pytest.skip("xvfb-run is not installed (apt install xvfb)")
    shot = tmp_path / "shot.png"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run(
        [xvfb, "-a", "-s", "-screen 0 640x480x24", sys.executable, "-m", "installation.cli", "run", str(show_file),
         "--windowed", "--size", "320x180", "--seconds", "1", "--screenshot", str(shot)],
        capture_output=True, text=True, timeout=120, env=env,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    pixels = cv2.imread(str(shot))
    assert pixels is not None and pixels.shape == (180, 320, 3)
    # At 1 s the grid cue (from 0.5 s, dissolve 0.3 s) shows its 2x2 cells: square cells, background bars.
    assert np.abs(pixels[90, 5].astype(int) - (0x20, 0x18, 0x10)).max() <= 1
    assert pixels[40:140, 120:200].std() > 10  # photographs, not a flat colour


@pytest.mark.gl
@pytest.mark.slow
def test_the_default_show_plays(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture) -> None:
    """`installation run` with no show plays shows/gradual_change.yaml: a few seconds of it really rendered
    (no display here: the fallback writes the video), paintings on the grid, not only a valid file."""
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--seconds", "8", "--size", "448x252"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert "gradual_change.yaml" in out[0] and out[1].startswith("wrote renders/gradual_change.mp4"), out
    frames = read_video(tmp_path / "renders" / "gradual_change.mp4")
    assert len(frames) == 240
    # share of the canvas painted, each second: any pixel above the pure black background (the video codec
    # keeps the background under 4). Not a brightness line: the demo opens on near-black baroque paintings,
    # which a line at 16 counted as a third of their area (0.0012 at 8 s).
    lit = [float((f.max(axis=2) > 4).mean()) for f in frames[::30]]
    assert lit[0] < 0.001  # the show fades in from its black background
    # paintings seep into their cells one by one (every 3 s, cells of 32x18 px here): the painted share grows
    assert lit[-1] > 0.002 and lit[-1] > lit[len(lit) // 2] > lit[0], lit  # measured: 0.0039 at 7 s (the last sample)
