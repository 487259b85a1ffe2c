"""Painting encoder: contract shapes, it learns on real images, export + runtime wrapper agree."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from exporters.__main__ import main as exporters_main
from installation.inference.encoder import PaintingEncoder as OnnxEncoder
from models.checkpoint import load_model, read_checkpoint
from models.data import Bundle, build_bundle
from models.encoder import EncoderExport
from models.registry import create_model
from models.train import encoder as train_encoder


@pytest.fixture(scope="module")
def bundle(painting_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("enc") / "p32.npz"
    build_bundle(painting_folder, out, size=32, heldout_percent=25)
    return out


def test_shapes_at_contract_and_work_size() -> None:
    model = create_model("painting_encoder", classes=("a", "b"), work_size=112).eval()
    emb, probs = EncoderExport(model)(torch.rand(2, 3, 224, 224))
    assert emb.shape == (2, 128) and probs.shape == (2, 2)
    assert torch.allclose(probs.sum(1), torch.ones(2))
    # a 224 input is the 2x2 average of itself at 112: same embedding either way
    x = torch.rand(1, 3, 224, 224)
    small = torch.nn.functional.avg_pool2d(x, 2)
    assert torch.allclose(model.forward_features(x), model.forward_features(small), atol=1e-5)


def test_learns_train_and_export(bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    run = tmp_path / "run"
    args = ["--data", str(bundle), "--out", str(run), "--threads", "1", "--quiet", "--batch-size", "8",
            "--lr", "3e-3"]
    assert train_encoder.main([*args, "--epochs", "6"]) == 0
    ckpt = read_checkpoint(run / "last.ckpt")
    # three very different photographs: a few epochs separate them far above chance (1/3)
    assert ckpt["metrics"]["best_top1"] > 0.5
    assert train_encoder.main([*args, "--eval-only"]) == 0
    assert "held-out top-1" in capsys.readouterr().out

    onnx_path = tmp_path / "encoder.onnx"
    assert exporters_main(["encoder", "--checkpoint", str(run / "last.ckpt"), "--out", str(onnx_path)]) == 0
    enc = OnnxEncoder(onnx_path, threads=1)
    assert enc.classes == ["astronaut", "chelsea", "coffee"]
    images, _ = Bundle.load(bundle).stack("all")
    result = enc.encode(images[:5])
    assert result.embedding.shape == (5, 128) and np.allclose(result.probs.sum(1), 1, atol=1e-5)
    model, _ = load_model(run / "last.ckpt")
    with torch.no_grad():
        expected, _ = EncoderExport(model)(torch.from_numpy(enc.preprocess(images[:5])))
    assert np.abs(result.embedding - expected.numpy()).max() < 1e-4
