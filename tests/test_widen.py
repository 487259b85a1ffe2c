"""Widening a trained SAGAN (models.widen, ``models.train sagan --widen-from``): the wider network computes what
the narrow one did, then training gives its new channels a say."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch
from helpers.sagan import TINY

from exporters.__main__ import main as exporters_main
from models.checkpoint import read_checkpoint
from models.registry import create_model
from models.sagan import SAGAN, ConditionalBatchNorm, SelfAttention, one_hot
from models.train import sagan as train_sagan
from models.widen import WidenError, widen_state_dict

SMALL = {"resolution": 64, "g_channels": 4, "d_channels": 4, "latent_dim": 8, "attention_at": (16, 32)}


def trained_looking(model: SAGAN) -> SAGAN:
    """A network whose every part acts (fresh ones have silent attention and style gains at zero), with batch
    norm statistics gathered in training mode."""
    torch.manual_seed(0)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, SelfAttention):
                m.gamma.fill_(0.7)
            if isinstance(m, ConditionalBatchNorm):
                m.gain.weight.normal_(0, 0.3)
                m.bias.weight.normal_(0, 0.3)
        model.train()
        for _ in range(3):
            model.generator(torch.randn(8, 8), one_hot(torch.randint(0, 7, (8,)), 7))
    return model.eval()


def test_widening_keeps_what_both_networks_compute() -> None:
    narrow = trained_looking(create_model("sagan", **SMALL))
    wide = create_model("sagan", **SMALL, g_min_channels=16, d_min_channels=64)  # D: every block, the embedding too
    assert narrow.generator.widths == [32, 16, 8, 4, 4] and wide.generator.widths == [32, 16, 16, 16, 16]
    wide.load_state_dict(widen_state_dict(narrow.state_dict(), wide))
    wide.eval()
    z, style = torch.randn(6, 8), one_hot(torch.arange(6) % 7, 7)
    style[0] = 0.5 * style[0] + 0.5 * style[3]  # a mixture too
    with torch.no_grad():
        picture = narrow.generator(z, style)
        assert (wide.generator(z, style) - picture).abs().max() < 1e-5  # attention at 32 px was widened too
        assert (wide.discriminator(picture, style) - narrow.discriminator(picture, style)).abs().max() < 1e-4
    assert wide.discriminator.embed.parametrizations.weight.original.shape[0] == 64
    # the new channels are really there: the widened layers hold random weights for their new outputs
    conv = wide.generator.blocks[2].conv1.parametrizations.weight.original
    assert conv.shape[0] == 16 and conv[8:].abs().sum() > 0 and conv[:8, :].abs().sum() > 0


def test_widening_refuses_anything_but_a_widening() -> None:
    narrow = create_model("sagan", **SMALL)
    with pytest.raises(WidenError, match="not a widening"):
        widen_state_dict(create_model("sagan", **SMALL, g_min_channels=16).state_dict(), narrow)
    with pytest.raises(WidenError, match="differ in layers"):
        widen_state_dict(narrow.state_dict(), create_model("sagan", **{**SMALL, "attention_at": (16,)}))


def test_a_run_continues_wider_and_its_new_channels_learn(bundle16: Path, tmp_path: Path) -> None:
    narrow_run, wide_run = tmp_path / "narrow", tmp_path / "wide"
    assert train_sagan.main(["--data", str(bundle16), "--out", str(narrow_run), "--steps", "2", "--every", "2",
                             *TINY]) == 0
    assert train_sagan.main(["--data", str(bundle16), "--out", str(wide_run), "--steps", "4", "--every", "2",
                             "--widen-from", str(narrow_run / "last.ckpt"), "--g-min-channels", "16",
                             "--d-min-channels", "8", *TINY]) == 0
    ckpt = read_checkpoint(wide_run / "last.ckpt")
    assert ckpt["step"] == 4  # the step count goes on
    assert (ckpt["config"]["g_min_channels"], ckpt["config"]["d_min_channels"]) == (16, 8)
    assert "widened from" in (wide_run / "log.txt").read_text()
    # the old outputs read the new channels through weights that started at exactly zero; training moved them
    out_conv = ckpt["state_dict"]["generator.out_conv.parametrizations.weight.original"]
    assert out_conv.shape[1] == 16 and out_conv[:, 8:].abs().sum() > 0
    # resuming the wide run is an ordinary resume, and the pack's exporter and verify take the wider network
    assert train_sagan.main(["--data", str(bundle16), "--out", str(wide_run), "--steps", "5", "--every", "5",
                             *TINY]) == 0
    onnx_path = tmp_path / "wide.onnx"
    assert exporters_main(["sagan", "--checkpoint", str(wide_run / "last.ckpt"), "--out", str(onnx_path)]) == 0
    assert exporters_main(["verify", str(onnx_path), "--checkpoint", str(wide_run / "last.ckpt")]) == 0


def test_widening_from_a_missing_checkpoint_is_one_readable_line(bundle16: Path, tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "models.train", "sagan", "--data", str(bundle16), "--out",
                             str(tmp_path / "run"), "--widen-from", str(tmp_path / "nope.ckpt"),
                             "--g-min-channels", "16", *TINY], capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error:") and "nope.ckpt" in result.stderr
    assert "Traceback" not in result.stderr
