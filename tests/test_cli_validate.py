"""``installation validate``: exit 0 / 2, one line per error as FILE:LINE key.path: message, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from installation.cli import main

REPO = Path(__file__).resolve().parents[1]

VALID = """\
version: 1
cues:
  - {id: black, scene: solid, duration: 2}
  - {scene: {type: solid, colour: "#ffffff"}, follow: goto:black, duration: 1}
"""

INVALID = """\
version: 1
cues:
  - id: black
    scene: {type: solid, colour: "#fff"}
    durration: 2
  - scene: solid
    duration: -1
    follow: goto:blak
"""


@pytest.fixture()
def shows(tmp_path: Path) -> dict[str, Path]:
    files = {"valid": tmp_path / "valid.yaml", "invalid": tmp_path / "invalid.yaml", "binary": tmp_path / "bin.yaml",
             "latin": tmp_path / "latin.yaml", "missing": tmp_path / "missing.yaml", "folder": tmp_path}
    files["valid"].write_text(VALID)
    files["invalid"].write_text(INVALID)
    files["binary"].write_bytes(bytes(range(256)) * 4)
    files["latin"].write_bytes(b"version: 1\nname: \xe9t\xe9\n")
    return files


def test_valid_show_exits_0(shows: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(shows["valid"])]) == 0
    out, err = capsys.readouterr()
    assert out == f"ok: {shows['valid']} (2 cues)\n" and err == ""


def test_invalid_show_exits_2_with_one_line_per_error(shows: dict[str, Path],
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    path = shows["invalid"]
    assert main(["validate", str(path), str(shows["valid"])]) == 2
    out, err = capsys.readouterr()
    assert out == f"ok: {shows['valid']} (2 cues)\n"
    assert err.splitlines() == [
        f"{path}:3 cues[0]: needs 'duration: SECONDS' or 'until: done' (or a defaults.duration)",
        f"{path}:4 cues[0].scene.colour: expected a colour '#rrggbb' or [r, g, b], got '#fff'",
        f"{path}:5 cues[0].durration: unknown key 'durration' (did you mean 'duration'?)",
        f"{path}:7 cues[1].duration: must be > 0",
        f"{path}:8 cues[1].follow: no cue with id 'blak' (did you mean 'black'?)",
    ]


def test_unreadable_files_in_a_subprocess(shows: dict[str, Path]) -> None:
    names = ["missing", "folder", "binary", "latin", "invalid", "valid"]
    result = subprocess.run([sys.executable, "-m", "installation.cli", "validate", *(str(shows[n]) for n in names)],
                            capture_output=True, text=True, cwd=REPO, timeout=60)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.splitlines()
    assert lines[:4] == [
        f"{shows['missing']}:1: file not found",
        f"{shows['folder']}:1: is a folder, not a show file",
        f"{shows['binary']}:1: not a text file (it contains NUL bytes)",
        f"{shows['latin']}:2: not UTF-8 text (byte 0xe9)",
    ]
    assert len(lines) == 4 + 5 and all(line.startswith(f"{shows['invalid']}:") for line in lines[4:])
    assert result.stdout == f"ok: {shows['valid']} (2 cues)\n"


def test_validate_needs_a_file_and_stays_light() -> None:
    code = ("import sys\nfrom installation.cli import main\nimport installation.show\n"
            "print('torch' in sys.modules, 'cv2' in sys.modules)\nsys.exit(main(['validate']))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert result.stdout.strip() == "False False"
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "the following arguments are required: SHOW" in result.stderr
