"""Exporter CLI behaviour: verify reports parity and metadata; bad input is one line and exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import onnx
import pytest
import torch

from exporters.__main__ import main as exporters_main
from exporters.onnx_export import ExportError, export_onnx
from models.checkpoint import save_checkpoint
from models.registry import create_model

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def generator_ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    model = create_model("sagan", resolution=16, g_channels=4, d_channels=4, latent_dim=8)
    return save_checkpoint(tmp_path_factory.mktemp("ckpt") / "g.ckpt", model, step=0)


def test_export_then_verify_reports_parity_latency_and_metadata(generator_ckpt: Path, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "g.onnx"
    assert exporters_main(["sagan", "--checkpoint", str(generator_ckpt), "--out", str(out), "--meta", "note=hi"]) == 0
    assert "parity vs PyTorch max|err|" in capsys.readouterr().out
    proto = onnx.load(str(out))
    meta = {p.key: p.value for p in proto.metadata_props}
    assert meta["kind"] == "generator" and meta["note"] == "hi" and meta["latent_dim"] == "8"
    assert not list(tmp_path.glob("*.data")), "single-file model: no external data"
    assert all(i.type.tensor_type.shape.dim[0].dim_param == "N" for i in proto.graph.input)

    assert exporters_main(["verify", str(out), "--checkpoint", str(generator_ckpt), "--repeats", "2"]) == 0
    text = capsys.readouterr().out
    assert "generator contract OK" in text
    assert "-> OK (tolerance 0.0001)" in text
    assert "onnxruntime" in text and "pytorch eager" in text
    assert "latent_dim: 8" in text


def test_verify_without_a_checkpoint_says_why(tmp_path: Path, generator_ckpt: Path,
                                              capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "g.onnx"
    exporters_main(["sagan", "--checkpoint", str(generator_ckpt), "--out", str(out)])
    moved = tmp_path / "elsewhere.ckpt"
    # a checkpoint with other weights has another hash: verify must not use it
    save_checkpoint(moved, create_model("sagan", resolution=16, g_channels=4, d_channels=4, latent_dim=8))
    assert exporters_main(["verify", str(out), "--checkpoint", str(moved), "--repeats", "1"]) == 0
    assert "parity: skipped, no checkpoint with the recorded sha256" in capsys.readouterr().out


@pytest.mark.parametrize("case", ["missing", "garbage"])
def test_bad_checkpoint_is_one_line_and_exit_2(case: str, tmp_path: Path) -> None:
    ckpt = tmp_path / "x.ckpt"
    if case == "garbage":
        ckpt.write_bytes(b"not a checkpoint")
    proc = subprocess.run([sys.executable, "-m", "exporters", "sagan", "--checkpoint", str(ckpt), "--out",
                           str(tmp_path / "o.onnx")], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and str(ckpt) in lines[0]
    assert not (tmp_path / "o.onnx").exists()


def test_verify_of_a_corrupt_file_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07garbage")
    proc = subprocess.run([sys.executable, "-m", "exporters", "verify", str(bad)], capture_output=True, text=True,
                          cwd=REPO)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: ") and len(proc.stderr.strip().splitlines()) == 1


def test_export_refuses_metadata_that_contradicts_shapes(tmp_path: Path) -> None:
    model = create_model("sagan", resolution=16, g_channels=4, d_channels=4, latent_dim=8).generator

    def inputs(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.randn(n, 8), torch.full((n, 7), 1 / 7)

    meta = {"classes": '["a","b","c","d","e","f","g"]', "latent_dim": "16", "resolution": "16",
            "training_data": "x", "license": "x", "source_checkpoint": "x"}
    with pytest.raises(ExportError, match="input 'z' axis 1 is 8, expected 16"):
        export_onnx(model, inputs(2), tmp_path / "g.onnx", kind="generator", metadata=meta, make_inputs=inputs)
    assert not (tmp_path / "g.onnx").exists()


def test_interpolate_blends_two_fine_tunes_and_the_export_says_how(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture) -> None:
    from models.checkpoint import read_checkpoint

    torch.manual_seed(0)
    base = save_checkpoint(tmp_path / "base.ckpt", create_model("sasr_x4", channels=8, n_groups=1, n_blocks=1),
                           step=10, data={"loss": "L1"})
    tuned = create_model("sasr_x4", channels=8, n_groups=1, n_blocks=1)
    for p in tuned.parameters():
        torch.nn.init.normal_(p, std=0.1)
    other = save_checkpoint(tmp_path / "other.ckpt", tuned, step=12, data={"loss": "L1 + 0.02 x patch-critic hinge"})
    w_base, w_other = read_checkpoint(base)["state_dict"], read_checkpoint(other)["state_dict"]

    for alpha, expect in ((0.0, w_base), (1.0, w_other)):
        out = tmp_path / f"blend{alpha}.ckpt"
        assert exporters_main(["interpolate", str(base), str(other), "--alpha", str(alpha), "--out", str(out)]) == 0
        blended = read_checkpoint(out)["state_dict"]
        assert all(torch.allclose(blended[k], expect[k]) for k in expect)
    half = tmp_path / "half.ckpt"
    assert exporters_main(["interpolate", str(base), str(other), "--alpha", "0.5", "--out", str(half)]) == 0
    blended = read_checkpoint(half)["state_dict"]
    key = next(k for k, v in w_base.items() if v.is_floating_point() and not torch.equal(v, w_other[k]))
    assert torch.allclose(blended[key], (w_base[key] + w_other[key]) / 2)
    capsys.readouterr()

    assert exporters_main(["sasr", "--checkpoint", str(half), "--out", str(tmp_path / "half.onnx"),
                           "--meta", "loss_history=10 steps L1, then 2 adversarial"]) == 0
    meta = {p.key: p.value for p in onnx.load(str(tmp_path / "half.onnx")).metadata_props}
    assert '"alpha": 0.5' in meta["interpolation"] and meta["loss"] == "L1 + 0.02 x patch-critic hinge"
    assert meta["loss_history"] == "10 steps L1, then 2 adversarial"  # --meta, as every exporter takes it

    # a different architecture, or alpha out of range: one line, exit 2
    wide = save_checkpoint(tmp_path / "wide.ckpt", create_model("sasr_x4", channels=16, n_groups=1, n_blocks=1))
    for args in ([str(base), str(wide), "--alpha", "0.5"], [str(base), str(other), "--alpha", "1.5"]):
        proc = subprocess.run([sys.executable, "-m", "exporters", "interpolate", *args, "--out",
                               str(tmp_path / "bad.ckpt")], capture_output=True, text=True, cwd=REPO)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1
        assert not (tmp_path / "bad.ckpt").exists()
