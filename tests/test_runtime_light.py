"""The runtime stays light (no torch at import) and rejects bad model files with one readable message."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from installation.inference.contract import ModelContractError
from installation.inference.generator import Generator
from installation.inference.model import OnnxModel

REPO = Path(__file__).resolve().parents[1]


def test_runtime_import_does_not_pull_torch() -> None:
    code = ("import sys, installation.cli, installation.doctor, installation.inference.generator, "
            "installation.inference.encoder; print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip() == "False"


def test_validating_the_default_show_does_not_pull_torch() -> None:
    # the kiosk supervisor validates the show at start and at every edit: it must stay a small process
    code = ("import sys, installation.scenes; from installation.show import check_show; "
            "r = check_show('shows/gradual_change.yaml'); "
            "print(r.ok, 'torch' in sys.modules, 'onnxruntime' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.split() == ["True", "False", "False"], out


def test_missing_and_damaged_model_files(tmp_path: Path) -> None:
    with pytest.raises(ModelContractError, match="model file not found"):
        OnnxModel(tmp_path / "nope.onnx")
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x00" * 64)
    with pytest.raises(ModelContractError, match="not a loadable ONNX model"):
        OnnxModel(bad)


def test_wrong_kind_is_rejected(tmp_path: Path) -> None:
    pack_encoder = REPO / "assets" / "models" / "encoder.onnx"
    if not pack_encoder.is_file():
        pytest.skip("the default pack has no encoder yet")
    with pytest.raises(ModelContractError, match="is a encoder model, but a generator model is needed"):
        Generator(pack_encoder)


def test_doctor_reports_a_missing_pack(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "installation.cli", "doctor", "--models", str(tmp_path)],
                          capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 1
    assert "FAIL generator" in proc.stdout and "model file not found" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_doctor_reports_what_the_kiosk_relies_on(tmp_path: Path) -> None:
    import os

    blocked = tmp_path / "a-file"
    blocked.write_text("")
    for state, said in ((tmp_path / "state", "(writable)"), (blocked / "state", "NOT writable")):
        env = {**os.environ, "INSTALLATION_STATE": str(state)}
        proc = subprocess.run([sys.executable, "-m", "installation.cli", "doctor"], capture_output=True, text=True,
                              cwd=REPO, env=env)
        kiosk = next(line for line in proc.stdout.splitlines() if line.startswith("kiosk"))
        assert str(state) in kiosk and said in kiosk, proc.stdout
        assert "OSC: python-osc" in proc.stdout and "Traceback" not in proc.stderr


def test_doctor_succeeds_on_a_complete_pack() -> None:
    # the success path: every model of the bundled pack loads -> "all models load", exit 0 (failure is exit 1)
    from installation.pack import PACK_FILES

    if not all((REPO / "assets" / "models" / PACK_FILES[kind]).is_file() for kind in ("emotion", "generator",
                                                                                       "upscaler", "encoder")):
        pytest.skip("the default pack is incomplete here")
    proc = subprocess.run([sys.executable, "-m", "installation.cli", "doctor"], capture_output=True, text=True,
                          cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    from installation.pack import PACK_FILES  # one line per file of the pack

    assert proc.stdout.count("  ok   ") == len(PACK_FILES) and "all models load" in proc.stdout \
        and "FAIL" not in proc.stdout
    assert "Traceback" not in proc.stderr
