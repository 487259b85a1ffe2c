"""Conditional SAGAN: architecture rules, style-mixture conditioning, training/resume, export."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from helpers.sagan import TINY
from torch import nn
from torch.nn.utils import parametrize

from exporters.__main__ import main as exporters_main
from installation.inference.generator import Generator as OnnxGenerator
from models.augment import cutout, diff_augment, translation
from models.checkpoint import load_model, read_checkpoint
from models.data import build_bundle
from models.evaluate import grid_peak, spectral_peak, texture_lock
from models.registry import create_model
from models.sagan import (
    CheckerboardFilter,
    ConditionalBatchNorm,
    FixedPatternFilter,
    LatticeFilter,
    SelfAttention,
    measure_fixed_pattern,
    normalise_mixture,
    one_hot,
)
from models.train import sagan as train_sagan


@pytest.mark.parametrize(("resolution", "attention"), [(64, [32]), (128, [32, 64])])
def test_generator_and_discriminator_shapes(resolution: int, attention: list[int]) -> None:
    model = create_model("sagan", resolution=resolution, g_channels=4, d_channels=4, latent_dim=8)
    z, style = torch.randn(2, 8), one_hot(torch.tensor([0, 3]), 7)
    img = model.generator(z, style)
    assert img.shape == (2, 3, resolution, resolution)
    assert img.min() >= 0 and img.max() <= 1
    assert model.discriminator(img, style).shape == (2,)
    # self-attention sits where the generator's feature map has the configured sizes
    sizes = []
    h = model.generator.fc(z).reshape(2, -1, 4, 4)
    for i, block in enumerate(model.generator.blocks):
        h = block(h, style)
        if str(i) in model.generator.attention:
            sizes.append(h.shape[-1])
    assert sizes == attention


def test_every_conv_and_linear_is_spectrally_normalised() -> None:
    model = create_model("sagan", g_channels=4, d_channels=4, latent_dim=8)
    for net in (model.generator, model.discriminator):
        # conditional-BN embeddings are gains of a norm layer, not layers of the network
        cbn = {id(m) for c in net.modules() if isinstance(c, ConditionalBatchNorm) for m in (c.gain, c.bias)}
        layers = [m for m in net.modules() if isinstance(m, nn.Conv2d | nn.Linear) and id(m) not in cbn]
        assert len(layers) > 10
        for layer in layers:
            assert parametrize.is_parametrized(layer, "weight"), f"{layer} lacks spectral norm"


def test_style_mixture_blends_the_class_embeddings_linearly() -> None:
    torch.manual_seed(0)
    cbn = ConditionalBatchNorm(6, 3).eval()
    nn.init.normal_(cbn.gain.weight)
    nn.init.normal_(cbn.bias.weight)
    x = torch.randn(1, 6, 4, 4)
    a, b = one_hot(torch.tensor([0]), 3), one_hot(torch.tensor([2]), 3)
    mix = 0.7 * a + 0.3 * b
    # the output is affine in the style: f(mix) = 0.7 f(a) + 0.3 f(b)
    assert torch.allclose(cbn(x, mix), 0.7 * cbn(x, a) + 0.3 * cbn(x, b), atol=1e-5)
    assert not torch.allclose(cbn(x, a), cbn(x, b))


def test_mixture_normalisation() -> None:
    w = normalise_mixture(torch.tensor([[2.0, -1.0, 2.0]]))
    assert torch.allclose(w, torch.tensor([[0.5, 0.0, 0.5]]))


def test_self_attention_starts_as_identity() -> None:
    attn = SelfAttention(16)
    x = torch.randn(2, 16, 8, 8)
    assert torch.equal(attn(x), x)
    attn.gamma.data.fill_(1.0)
    assert not torch.allclose(attn(x), x)


def test_lattice_filter_removes_a_grid_pattern_and_keeps_the_picture() -> None:
    f = LatticeFilter(4)
    torch.manual_seed(0)
    picture = nn.functional.avg_pool2d(torch.rand(2, 3, 72, 72), 9, stride=1)  # a smooth 64 px picture
    checker = torch.tensor([[1.0, -1.0], [-1.0, 1.0]]).repeat(2, 2)  # the Nyquist checkerboard
    diagonal = torch.cos(torch.pi / 2 * (torch.arange(4.0)[:, None] + torch.arange(4.0)[None]))  # period-4 diagonal
    pattern = (0.05 * checker + 0.03 * diagonal).repeat(16, 16)
    assert (f(picture + pattern) - f(picture)).abs().max() < 1e-5  # the pattern is gone, whatever the picture
    assert (f(picture) - picture).abs().max() < 0.005  # a picture without one changes by under 1.3/255
    # a gradient (a sky) does not leak into the estimate: a linear ramp comes back unchanged
    yy, xx = torch.meshgrid(torch.arange(32.0), torch.arange(32.0), indexing="ij")
    ramp = (0.2 + 0.6 * (xx + 0.5 * yy) / 48).expand(1, 3, 32, 32)
    assert (f(ramp) - ramp).abs().max() < 1e-5


def test_grid_peak_measures_the_pattern_and_the_filter_removes_it() -> None:
    torch.manual_seed(1)
    real = nn.functional.avg_pool2d(torch.rand(16, 3, 68, 68), 5, stride=1)  # smooth 64 px pictures
    hatch = 0.04 * torch.tensor([[1.0, -1.0], [-1.0, 1.0]]).repeat(32, 32)  # the Nyquist checkerboard
    assert grid_peak(as_uint8(real), as_uint8(real)) == pytest.approx(1.0)
    assert grid_peak(as_uint8(real + hatch), as_uint8(real)) > 3  # the hatch stands out
    assert grid_peak(as_uint8(LatticeFilter(4)(real + hatch)), as_uint8(real)) < 1.5  # and is gone


def test_lattice_period_is_validated_and_can_be_added_to_a_trained_generator() -> None:
    with pytest.raises(ValueError, match="lattice_period"):
        create_model("sagan", resolution=16, g_channels=2, d_channels=2, latent_dim=4, lattice_period=3)
    with pytest.raises(ValueError, match="lattice_period"):
        create_model("sagan", resolution=16, g_channels=2, d_channels=2, latent_dim=4, lattice_period=8)
    model = create_model("sagan", resolution=16, g_channels=2, d_channels=2, latent_dim=4).eval()
    before = set(model.generator.state_dict())
    model.generator.set_lattice_period(4)
    assert set(model.generator.state_dict()) == before  # no weights: old checkpoints still load
    out = model.generator(torch.randn(3, 4), one_hot(torch.tensor([0, 1, 2]), 7))
    assert out.shape == (3, 3, 16, 16) and out.min() >= 0 and out.max() <= 1


def as_uint8(x: torch.Tensor) -> np.ndarray:
    return (x.clamp(0, 1) * 255).round().byte().permute(0, 2, 3, 1).numpy()


def test_checkerboard_filter_damps_diagonal_detail_and_keeps_axis_strokes() -> None:
    f = CheckerboardFilter(0.5)
    yy, xx = torch.meshgrid(torch.arange(16.0), torch.arange(16.0), indexing="ij")
    checker = (-1.0) ** (yy + xx)
    inner = (slice(None), slice(None), slice(1, -1), slice(1, -1))  # the border pixel sees the reflected edge
    assert torch.allclose(f(0.5 + 0.1 * checker.expand(1, 3, 16, 16))[inner],
                          (0.5 + 0.05 * checker.expand(1, 3, 16, 16))[inner], atol=1e-6)  # halved
    stripes = 0.5 + 0.1 * ((-1.0) ** xx).expand(1, 3, 16, 16)  # vertical strokes at the finest scale
    assert torch.allclose(f(stripes), stripes, atol=1e-6)
    flat = torch.full((1, 3, 16, 16), 0.3)
    assert torch.allclose(f(flat), flat)
    with pytest.raises(ValueError, match="checkerboard_damping"):
        create_model("sagan", resolution=16, g_channels=2, d_channels=2, latent_dim=4, checkerboard_damping=1.5)


def test_fixed_pattern_filter_removes_a_texture_stuck_to_pixel_positions() -> None:
    torch.manual_seed(2)
    patterns = 0.03 * torch.randn(2, 3, 32, 32)
    patterns -= nn.functional.avg_pool2d(patterns, 5, stride=1, padding=2, count_include_pad=False)  # fine detail
    f = FixedPatternFilter(patterns)
    pictures = nn.functional.avg_pool2d(torch.rand(24, 3, 40, 40), 9, stride=1)  # smooth 32 px pictures
    style = one_hot(torch.arange(24) % 2, 2)
    strength = 0.5 + torch.rand(24, 1, 1, 1)  # the texture's strength varies from picture to picture
    stuck = pictures + strength * (style @ patterns.flatten(1)).view(24, 3, 32, 32)
    assert texture_lock(as_uint8(stuck)) > 2 * texture_lock(as_uint8(pictures))  # the lock measures it
    left = f(stuck, style) - pictures
    assert left.pow(2).mean() < 0.1 * (stuck - pictures).pow(2).mean()  # 90% of it is gone
    assert (f(pictures, style) - pictures).abs().mean() < 0.5 / 255  # a picture without it barely changes
    assert spectral_peak(as_uint8(pictures), as_uint8(pictures)) == pytest.approx(1.0)


def test_fixed_pattern_is_measured_from_the_generator_and_mixed_by_style() -> None:
    model = create_model("sagan", resolution=16, g_channels=2, d_channels=2, latent_dim=4).eval()
    z, style = torch.randn(64, 4), one_hot(torch.arange(64) % 7, 7)
    with torch.no_grad():
        before = model.generator(z, style)
        f = measure_fixed_pattern(model.generator, samples_per_style=32, seed=0)
        after = model.generator(z, style)
    assert f.patterns.shape == (7, 3 * 16 * 16) and model.generator.fixed_pattern is f
    # an untrained generator paints nearly the same texture whatever z: the filter takes most of it out
    assert texture_lock(as_uint8(after)) < texture_lock(as_uint8(before))
    assert set(model.generator.state_dict()) == set(create_model(
        "sagan", resolution=16, g_channels=2, d_channels=2, latent_dim=4).generator.state_dict())  # not weights


def test_augmentations_keep_shape_and_pass_gradients() -> None:
    x = torch.rand(4, 3, 16, 16, requires_grad=True)
    y = diff_augment(x)
    assert y.shape == x.shape
    y.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    # translation moves content, repeating the edge pixels
    torch.manual_seed(1)
    t = translation(torch.arange(16.0).view(1, 1, 4, 4).repeat(8, 1, 1, 1), ratio=0.25)
    assert any(not torch.equal(t[i, 0], torch.arange(16.0).view(4, 4)) for i in range(8))
    c = cutout(torch.ones(8, 3, 16, 16))
    assert (c == 0.5).any() and (c == 1).any()  # cut out to mid grey: black would mimic letterbox bars


def test_a_rate_given_on_resume_wins_and_otherwise_the_run_keeps_its_own(bundle16: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    common = ["--data", str(bundle16), "--out", str(run), "--every", "10", *TINY]

    def rates() -> tuple[list[float], list[float]]:
        optim = read_checkpoint(run / "last.ckpt")["optim"]
        return [g["lr"] for g in optim["g"]["param_groups"]], [g["lr"] for g in optim["d"]["param_groups"]]

    assert train_sagan.main([*common, "--steps", "1"]) == 0
    assert rates() == ([1e-4, 1e-3], [4e-4])  # the defaults, conditional parameters at 10x
    assert train_sagan.main([*common, "--steps", "2", "--g-lr", "2e-5", "--d-lr", "1e-4"]) == 0
    assert rates() == ([2e-5, 2e-4], [1e-4])  # the last phase at a lower rate
    assert train_sagan.main([*common, "--steps", "3"]) == 0
    assert rates() == ([2e-5, 2e-4], [1e-4])  # resuming without a rate keeps the run's


def test_mode_seeking_penalises_codes_that_collapse_onto_one_picture(bundle16: Path, tmp_path: Path) -> None:
    torch.manual_seed(0)
    za, zb = torch.randn(4, 8), torch.randn(4, 8)
    picture = torch.rand(4, 3, 16, 16, requires_grad=True)
    collapsed = train_sagan.mode_seeking_penalty(picture, picture.detach() + 1e-3, za, zb)
    varied = train_sagan.mode_seeking_penalty(picture, torch.rand(4, 3, 16, 16), za, zb)
    assert collapsed > 100 * varied
    collapsed.backward()
    assert picture.grad is not None and picture.grad.abs().sum() > 0  # G is pushed apart
    run = tmp_path / "run"
    assert train_sagan.main(["--data", str(bundle16), "--out", str(run), "--every", "10", *TINY, "--steps", "2",
                             "--mode-seeking", "0.1"]) == 0
    assert read_checkpoint(run / "last.ckpt")["step"] == 2


def test_output_filters_given_on_resume_join_training_and_otherwise_the_run_keeps_its_own(
        bundle16: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    common = ["--data", str(bundle16), "--out", str(run), "--every", "10", *TINY]

    def filters() -> tuple[int, float]:
        config = read_checkpoint(run / "last.ckpt")["config"]
        return config["lattice_period"], config["checkerboard_damping"]

    assert train_sagan.main([*common, "--steps", "1"]) == 0
    assert filters() == (0, 0.0)
    assert train_sagan.main([*common, "--steps", "2", "--lattice-period", "4", "--checkerboard-damping", "0.3"]) == 0
    assert filters() == (4, 0.3)  # D now judges filtered pictures
    assert train_sagan.main([*common, "--steps", "3"]) == 0
    assert filters() == (4, 0.3)
    model, _ = load_model(run / "last.ckpt")
    assert model.generator.lattice is not None and model.generator.checkerboard is not None


def test_training_runs_resumes_and_exports(bundle16: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert train_sagan.main(["--data", str(bundle16), "--out", str(run), "--steps", "2", "--every", "2",
                             "--snapshot-every", "2", *TINY]) == 0
    ckpt = read_checkpoint(run / "last.ckpt")
    assert read_checkpoint(run / "snapshots" / "step_000002.ckpt")["step"] == 2  # kept to pick the best later
    assert ckpt["step"] == 2 and ckpt["config"]["classes"] == ("astronaut", "chelsea", "coffee")
    assert (run / "samples_000002.png").is_file() and "val_fd" in (run / "log.txt").read_text()
    # resuming continues from step 2 to 3 with the saved optimiser and EMA
    assert train_sagan.main(["--data", str(bundle16), "--out", str(run), "--steps", "3", "--every", "10", *TINY]) == 0
    ckpt3 = read_checkpoint(run / "last.ckpt")
    assert ckpt3["step"] == 3
    assert not torch.equal(ckpt3["ema_state_dict"]["generator.fc.parametrizations.weight.original"],
                           ckpt["ema_state_dict"]["generator.fc.parametrizations.weight.original"])

    onnx_path = tmp_path / "g.onnx"
    assert exporters_main(["sagan", "--checkpoint", str(run / "last.ckpt"), "--out", str(onnx_path)]) == 0
    gen = OnnxGenerator(onnx_path, threads=1)
    assert gen.classes == ["astronaut", "chelsea", "coffee"] and gen.latent_dim == 8 and gen.resolution == 16
    # the ONNX generator reproduces the EMA generator for a style mixture
    model, _ = load_model(run / "last.ckpt")
    z = gen.latents(3, seed=5)
    style = gen.mixture({"astronaut": 0.7, "coffee": 0.3})
    with torch.no_grad():
        expected = model.generator(torch.from_numpy(z), torch.from_numpy(np.tile(style, (3, 1)))).numpy()
    assert np.abs(gen.generate(z, style) - expected).max() < 1e-4
    with pytest.raises(ValueError, match="unknown style"):
        gen.mixture({"cubism": 1.0})
    # exported with the lattice filter, the file says so and verify rebuilds the same graph from the checkpoint
    filtered = tmp_path / "g_lattice.onnx"
    assert exporters_main(["sagan", "--checkpoint", str(run / "last.ckpt"), "--out", str(filtered),
                           "--lattice-period", "4"]) == 0
    assert OnnxGenerator(filtered, threads=1).metadata["lattice_period"] == "4"
    assert exporters_main(["verify", str(filtered), "--checkpoint", str(run / "last.ckpt")]) == 0
    # all three output filters, as the pack exports them: verify measures the fixed pattern again, identically
    all_filters = tmp_path / "g_filters.onnx"
    assert exporters_main(["sagan", "--checkpoint", str(run / "last.ckpt"), "--out", str(all_filters),
                           "--lattice-period", "4", "--checkerboard-damping", "0.5", "--fixed-pattern", "16"]) == 0
    meta = OnnxGenerator(all_filters, threads=1).metadata
    assert (meta["checkerboard_damping"], meta["fixed_pattern_samples"]) == ("0.5", "16")
    assert exporters_main(["verify", str(all_filters), "--checkpoint", str(run / "last.ckpt")]) == 0
    for bad in (["--lattice-period", "3"], ["--checkerboard-damping", "2"], ["--fixed-pattern", "-1"]):
        assert exporters_main(["sagan", "--checkpoint", str(run / "last.ckpt"), "--out", str(tmp_path / "bad.onnx"),
                               *bad]) == 2, bad  # one readable line, nothing written
        assert not (tmp_path / "bad.onnx").exists()

    # a slim copy drops optimiser/RNG state, keeps the EMA generator as its weights, and verifies by hash
    slim = tmp_path / "pack" / "sagan.ckpt"
    assert exporters_main(["slim", str(run / "last.ckpt"), "--out", str(slim)]) == 0
    assert slim.stat().st_size < (run / "last.ckpt").stat().st_size
    slim_model, payload = load_model(slim)
    assert "optim" not in payload and "rng" not in payload
    for name, value in model.generator.state_dict().items():
        assert torch.equal(slim_model.generator.state_dict()[name], value), name


def test_wrong_classes_on_resume_are_refused(bundle16: Path, tmp_path: Path, painting_folder: Path) -> None:
    run = tmp_path / "run"
    train_sagan.main(["--data", str(bundle16), "--out", str(run), "--steps", "1", "--every", "5", *TINY])
    other = tmp_path / "other"
    (other / "x").mkdir(parents=True)
    for f in sorted((painting_folder / "chelsea").glob("*.png"))[:4]:
        (other / "x" / f.name).write_bytes(f.read_bytes())
    build_bundle(other, tmp_path / "o.npz", size=16)
    with pytest.raises(ValueError, match="differ from the checkpoint"):
        train_sagan.main(["--data", str(tmp_path / "o.npz"), "--out", str(run), "--steps", "2", *TINY])
