"""`installation emotions SOURCE [--json] [--frames N]`: every frame, its faces, raw and smoothed emotions."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from exporters.synthetic import face_video
from installation.cli import main

REPO = Path(__file__).resolve().parents[1]


def test_json_lines_one_per_frame(tmp_path: Path, capsys) -> None:
    path, present = face_video(tmp_path / "v.avi", count=24, fps=8.0, absent=((8, 14),))
    assert main(["emotions", str(path), "--json"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 24
    for i, line in enumerate(lines):
        row = json.loads(line)
        assert set(row) == {"frame", "t", "faces"} and row["frame"] == i and abs(row["t"] - i / 8) < 1e-6
        assert bool(row["faces"]) == present[i]
        for face in row["faces"]:
            x, y, w, h = face["box"]
            assert x >= 0 and x + w <= 320 and y >= 0 and y + h <= 240 and isinstance(face["main"], bool)
            assert set(face["probs"]) == {"angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"}
            assert abs(sum(face["probs"].values()) - 1) < 1e-4
            if face["main"]:
                assert abs(sum(face["smoothed"].values()) - 1) < 1e-4


def test_frames_limit_and_text(tmp_path: Path, capsys) -> None:
    path, _ = face_video(tmp_path / "v.avi", count=10)
    assert main(["emotions", str(path), "--frames", "3"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 3 and out[0].startswith("frame     0")


def test_user_errors_are_one_line(tmp_path: Path) -> None:
    for args in (["emotions", str(tmp_path / "missing.avi")], ["emotions", "x.avi", "--frames", "0"],
                 ["emotions", str(tmp_path), "--models", str(tmp_path)]):
        proc = subprocess.run([sys.executable, "-m", "installation.cli", *args], capture_output=True, text=True,
                              cwd=REPO)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.startswith("error:") and len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_image_folder_source_with_fps_and_aggregate(tmp_path: Path, capsys) -> None:
    import cv2

    from exporters.synthetic import face_frames

    frames, present = face_frames(6, absent=((2, 4),))
    for i, frame in enumerate(frames):
        cv2.imwrite(str(tmp_path / f"{i:03d}.png"), frame)
    assert main(["emotions", str(tmp_path), "--json", "--fps", "4", "--face", "aggregate"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["t"] for r in rows] == [0.0, 0.25, 0.5, 0.75, 1.0, 1.25]
    assert [bool(r["faces"]) for r in rows] == present
