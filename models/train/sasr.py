"""Train SASR-Net: ``python -m models.train sasr --data data/sasr.npz --out runs/sasr_x4 [--minutes 9]``.

Data is a bundle of high-resolution RGB images of any size (``--build-from ../shared/data`` makes one from
T91 plus a subset of the WikiArt paintings when ``--data`` does not exist yet). Low-resolution inputs are
made exactly as evaluation makes them (models.metrics.degrade: MATLAB-style antialiased bicubic, rounded
to uint8), once per image; training pairs are aligned random crops with flips/rot90, L1 loss (plus
``--detail-weight`` x a Fourier amplitude loss, for detail at wall size), Adam with a cosine learning rate.
Every ``--every`` steps and at the end of each chunk it prints the held-out PSNR (Y channel, ``scale``-pixel
border) of the model and of bicubic, and writes ``OUT/last.ckpt``.

``--eval-only [--checkpoint CKPT]`` prints that comparison for a checkpoint (default OUT/last.ckpt).
"""

from __future__ import annotations

import argparse
import logging
import math
import tempfile
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from models.checkpoint import load_model
from models.data import Bundle, build_bundle
from models.metrics import bicubic_baseline, degrade, modcrop, psnr_y
from models.registry import create_model
from models.train.common import (
    Clock,
    add_common_args,
    checkpoint,
    log_line,
    progress,
    resume,
    set_rng_state,
    setup,
)

log = logging.getLogger(__name__)

PAINTING_STYLES_DIR = "paintings"
T91_DIR = "sr/T91"
# Crops flatter than this (the black bars WikiArt images are padded with) teach nothing; resample them.
FLAT_STD = 0.02
# Wider than this a 3-sigma kernel outgrows the 24-px LR crop, and the picture is more blur than content.
MAX_INPUT_BLUR = 3.0


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m models.train sasr", description=__doc__.split("\n\n")[0])
    add_common_args(p)
    p.add_argument("--scale", type=int, default=4, choices=(2, 4))
    p.add_argument("--channels", type=int, default=48)
    p.add_argument("--groups", type=int, default=3)
    p.add_argument("--blocks", type=int, default=4, help="blocks per residual group")
    p.add_argument("--crop", type=int, default=96, help="high-resolution crop size (a multiple of --scale)")
    p.add_argument("--lr", type=float, default=5e-4)
    p.add_argument("--detail-weight", type=float, default=0.0,
                   help="weight of the Fourier amplitude loss (amplitude_loss) beside L1: above 0 the model draws "
                        "fine detail at the real images' strength where L1 alone averages it away (PSNR costs)")
    p.add_argument("--adversarial-weight", type=float, default=0.0,
                   help="weight of a patch critic's hinge loss beside L1 (SRGAN/ESRGAN): above 0 the model draws "
                        "crisp edges and flat areas the critic cannot tell from real crops, at a cost in PSNR")
    p.add_argument("--critic-lr", type=float, default=1e-4, help="the patch critic's learning rate")
    p.add_argument("--input-blur", type=float, default=0.0, metavar="SIGMA",
                   help="blur each low-resolution crop by a Gaussian of random width in [0, SIGMA] LR pixels, so the "
                        "model learns to restore inputs softer than a bicubic reduction (a generator's pictures)")
    p.add_argument("--lr-steps", type=int, default=None, help="cosine schedule length (default: --steps)")
    p.add_argument("--val-limit", type=int, default=None, help="validate on at most N held-out images")
    p.add_argument("--eval-only", action="store_true", help="print held-out PSNR of --checkpoint and exit")
    p.add_argument("--checkpoint", type=Path, default=None, help="for --eval-only (default OUT/last.ckpt)")
    p.add_argument("--build-from", type=Path, default=None,
                   help="shared data root (with sr/T91 and paintings/); builds --data first if it is missing")
    p.add_argument("--paintings-per-style", type=int, default=150)
    args = p.parse_args(argv)
    args.batch_size = args.batch_size or 16
    args.steps = args.steps or 3000
    args.every = args.every or 250
    args.lr_steps = args.lr_steps or args.steps
    if not 0.0 <= args.adversarial_weight <= 1.0:
        p.error(f"--adversarial-weight {args.adversarial_weight} is outside 0..1")
    if not 0.0 <= args.input_blur <= MAX_INPUT_BLUR:
        p.error(f"--input-blur {args.input_blur} is outside 0..{MAX_INPUT_BLUR} pixels")
    if args.crop % args.scale:
        p.error(f"--crop {args.crop} is not a multiple of --scale {args.scale}")
    return args


def build_sr_bundle(root: Path, out: Path, paintings_per_style: int) -> dict:
    """A lossless bundle of T91 plus the first ``paintings_per_style`` paintings of each style.

    The two sources become the bundle's two classes (``T91``, ``paintings``) through a temporary tree of
    symbolic links, so nothing is copied and the held-out split is the bundle's usual path hash.
    """
    t91, paintings = root / T91_DIR, root / PAINTING_STYLES_DIR
    if not t91.is_dir() or not paintings.is_dir():
        raise FileNotFoundError(f"{root}: expected {T91_DIR}/ and {PAINTING_STYLES_DIR}/ inside")
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp)
        (src / "T91").symlink_to(t91.resolve(), target_is_directory=True)
        flat = src / "paintings"
        flat.mkdir()
        for style in sorted(d for d in paintings.iterdir() if d.is_dir()):
            for path in sorted(style.glob("*.jpg"))[:paintings_per_style]:
                (flat / f"{style.name}__{path.name}").symlink_to(path.resolve())
        return build_bundle(src, out, size=None, fmt=".png", crop_bars=True)


class PairSampler:
    """Aligned (LR, HR) training crops from a bundle's training split, LR degraded once per image."""

    def __init__(self, bundle: Bundle, scale: int, crop: int) -> None:
        self.scale, self.crop = scale, crop
        self.hr: list[np.ndarray] = []
        self.lr: list[np.ndarray] = []
        for i in bundle.indices("train"):
            hr = modcrop(bundle.decode(int(i)), scale)
            if min(hr.shape[:2]) < crop:
                continue
            self.hr.append(hr)
            self.lr.append(degrade(hr, scale))
        if not self.hr:
            raise ValueError(f"{bundle.path}: no training image is at least {crop} px on its short side")

    def _crop(self) -> tuple[np.ndarray, np.ndarray]:
        s, lc = self.scale, self.crop // self.scale
        for _ in range(10):
            k = np.random.randint(len(self.hr))
            lr_img = self.lr[k]
            y = np.random.randint(lr_img.shape[0] - lc + 1)
            x = np.random.randint(lr_img.shape[1] - lc + 1)
            hr = self.hr[k][y * s : (y + lc) * s, x * s : (x + lc) * s]
            if hr.std() / 255.0 >= FLAT_STD:
                break
        return lr_img[y : y + lc, x : x + lc], hr

    def batch(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` pairs as float tensors in [0, 1]: LR (n, 3, c/s, c/s) and HR (n, 3, c, c)."""
        lrs, hrs = [], []
        for _ in range(n):
            lr, hr = self._crop()
            # One of the 8 symmetries of the square, applied to both images.
            k, flip = np.random.randint(4), np.random.randint(2)
            lr, hr = np.rot90(lr, k), np.rot90(hr, k)
            if flip:
                lr, hr = lr[:, ::-1], hr[:, ::-1]
            lrs.append(lr)
            hrs.append(hr)

        def to_tensor(imgs: list[np.ndarray]) -> torch.Tensor:
            return torch.from_numpy(np.ascontiguousarray(np.stack(imgs))).permute(0, 3, 1, 2).float() / 255.0

        return to_tensor(lrs), to_tensor(hrs)


class PatchCritic(nn.Module):
    """A small fully convolutional critic that scores each 25-px patch of an image as real or upscaled.

    Spectral norm on every layer keeps it Lipschitz so the hinge game stays stable at a small batch; it
    exists only in training (the exported model is the upscaler alone) and is saved beside it to resume.
    """

    def __init__(self, width: int = 32) -> None:
        super().__init__()
        sn = nn.utils.parametrizations.spectral_norm
        layers: list[nn.Module] = []
        cin = 3
        for cout, stride in ((width, 1), (width * 2, 2), (width * 4, 2), (width * 4, 1)):
            layers += [sn(nn.Conv2d(cin, cout, 3, stride, 1)), nn.LeakyReLU(0.2)]
            cin = cout
        layers.append(sn(nn.Conv2d(cin, 1, 3, 1, 1)))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x * 2 - 1)


def random_blur(images: torch.Tensor, max_sigma: float) -> torch.Tensor:
    """Each image blurred by a separable Gaussian of its own width, uniform in [0, ``max_sigma``] pixels.

    SR data made by bicubic reduction is sharper than what the upscaler is given on the wall: a 64-px
    generator's top octave has about three quarters of a real painting's power. Trained on a spread of
    softer inputs, the model learns to restore that detail instead of enlarging its absence (the blind-SR
    degradations of Zhang et al. 2021 and Wang et al. 2021, blur only: generated pictures have no JPEG
    or sensor noise).
    """
    if max_sigma <= 0:
        return images
    n, c, h, w = images.shape
    radius = max(1, math.ceil(3 * max_sigma))
    taps = torch.arange(-radius, radius + 1, dtype=images.dtype, device=images.device)
    sigma = torch.rand(n, 1, dtype=images.dtype, device=images.device) * max_sigma
    kernel = torch.exp(-0.5 * (taps[None] / sigma.clamp_min(1e-3)) ** 2)  # sigma ~0: a unit impulse
    kernel = (kernel / kernel.sum(1, keepdim=True)).repeat_interleave(c, 0)  # (n*c, taps), one per channel
    x = F.pad(images.reshape(1, n * c, h, w), (radius, radius, radius, radius), mode="replicate")
    x = F.conv2d(x, kernel[:, None, None, :], groups=n * c)
    x = F.conv2d(x, kernel[:, None, :, None], groups=n * c)
    return x.reshape(n, c, h, w)


def upscale(model: nn.Module, lr: np.ndarray) -> np.ndarray:
    """Run the model on one uint8 RGB image; uint8 RGB out (rounded like a saved image)."""
    device = next(model.parameters()).device  # the trainer may run on a GPU; evaluation follows it
    x = torch.from_numpy(np.ascontiguousarray(lr)).permute(2, 0, 1)[None].float().to(device) / 255.0
    with torch.no_grad():
        y = model(x)[0].clamp(0, 1).cpu()
    return (y.permute(1, 2, 0).numpy() * 255.0 + 0.5).astype(np.uint8)


def evaluate(model: nn.Module, bundle: Bundle, scale: int, limit: int | None = None) -> dict[str, float]:
    """Mean held-out PSNR (Y, ``scale``-px border) of the model and of bicubic, overall and per class."""
    was_training = model.training
    model.eval()
    rows: list[tuple[str, float, float]] = []
    idx = bundle.indices("heldout")
    for i in idx[:limit] if limit else idx:
        hr = bundle.decode(int(i))
        lr, bicubic = bicubic_baseline(hr, scale)
        hr = modcrop(hr, scale)
        group = bundle.classes[bundle.labels[i]] if bundle.labels[i] >= 0 else "all"
        rows.append((group, psnr_y(upscale(model, lr), hr, scale), psnr_y(bicubic, hr, scale)))
    model.train(was_training)
    if not rows:
        return {}
    metrics = {"heldout_images": float(len(rows)),
               "psnr_y": float(np.mean([r[1] for r in rows])),
               "psnr_y_bicubic": float(np.mean([r[2] for r in rows]))}
    for group in sorted({r[0] for r in rows}):
        sel = [r for r in rows if r[0] == group]
        metrics[f"psnr_y/{group}"] = float(np.mean([r[1] for r in sel]))
        metrics[f"psnr_y_bicubic/{group}"] = float(np.mean([r[2] for r in sel]))
    return metrics


def format_metrics(m: dict[str, float]) -> str:
    if not m:
        return "no held-out images"
    groups = sorted(k.split("/", 1)[1] for k in m if k.startswith("psnr_y/"))
    per = ", ".join(f"{g} {m[f'psnr_y/{g}']:.2f} vs {m[f'psnr_y_bicubic/{g}']:.2f}" for g in groups)
    gain = m["psnr_y"] - m["psnr_y_bicubic"]
    return (f"held-out PSNR-Y model {m['psnr_y']:.3f} dB vs bicubic {m['psnr_y_bicubic']:.3f} dB "
            f"({gain:+.3f}) on {int(m['heldout_images'])} images [{per}]")


def amplitude_loss(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """L1 between the Fourier amplitude spectra of output and target, per channel, scaled per pixel.

    Where the low-resolution input cannot say where fine detail goes, an L1-trained upscaler paints the
    average of the possibilities, which is smooth: its pictures have a fraction of the fine detail of real
    ones (measured on generated paintings at 256 px: 0.4x the power at 32-64 cycles). The amplitude spectrum
    ignores where the detail is and asks only how strong it is, so beside L1 it restores the detail's
    strength and leaves its placement to L1 (Fuoli et al. 2021, Fourier-space losses for SR).
    """
    pixels = output.shape[-1] * output.shape[-2]
    return F.l1_loss(torch.fft.rfft2(output).abs(), torch.fft.rfft2(target).abs()) / math.sqrt(pixels)


def loss_name(args: argparse.Namespace) -> str:
    """The training loss in words, for the checkpoint and the exported model's metadata."""
    terms = ["L1"]
    if args.detail_weight:
        terms.append(f"{args.detail_weight} x Fourier amplitude L1")
    if args.adversarial_weight:
        terms.append(f"{args.adversarial_weight} x patch-critic hinge")
    return " + ".join(terms)


def cosine_lr(base: float, step: int, total: int) -> float:
    """Cosine decay from ``base`` to 1% of it over ``total`` steps (constant afterwards)."""
    t = min(step, total) / max(total, 1)
    return base * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * t)))


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    device = setup(args)
    if not args.data.is_file() and args.build_from is not None:
        info = build_sr_bundle(args.build_from, args.data, args.paintings_per_style)
        log_line(args.out, f"built {args.data}: {info['count']} images, {info['heldout']} held out")
    bundle = Bundle.load(args.data)

    if args.eval_only:
        model, payload = load_model(args.checkpoint or args.out / "last.ckpt")
        m = evaluate(model, bundle, model.config.scale, args.val_limit)
        log_line(args.out, f"eval step {payload.get('step', 0)}: {format_metrics(m)}")
        return 0

    name = f"sasr_x{args.scale}"
    model = create_model(name, scale=args.scale, channels=args.channels, n_groups=args.groups,
                         n_blocks=args.blocks).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    critic = PatchCritic().to(device) if args.adversarial_weight else None
    critic_opt = torch.optim.Adam(critic.parameters(), lr=args.critic_lr, betas=(0.0, 0.9)) if critic else None
    step, seconds_before = 0, 0.0
    state = resume(args.out, args.no_resume)
    if state is not None:
        if state["model_name"] != name:
            raise ValueError(f"{args.out}/last.ckpt holds {state['model_name']}, not {name}; use --no-resume")
        model.load_state_dict(state["state_dict"])
        step = state["step"]
        seconds_before = float(state.get("train_seconds", 0.0))
        if critic is not None and critic_opt is not None and "critic" in state:
            critic.load_state_dict(state["critic"])
            critic_opt.load_state_dict(state["critic_optim"])
        if "optim" in state:
            opt.load_state_dict(state["optim"])
            set_rng_state(state["rng"])
            log_line(args.out, f"resumed at step {step}")
        else:  # a slimmed checkpoint (the pack's): its weights go on with a fresh optimiser
            log_line(args.out, f"continued from slim weights at step {step} (fresh optimiser)")

    sampler = PairSampler(bundle, args.scale, args.crop)
    # Images per source (bundle class), so the exporter's provenance says what was really used.
    sources = {c: int((bundle.labels == k).sum()) for k, c in enumerate(bundle.classes)} or {"all": len(bundle)}
    clock = Clock(args.steps, args.minutes)
    metrics: dict[str, float] = state.get("metrics", {}) if state else {}
    n_params = sum(p.numel() for p in model.parameters())
    log_line(args.out, f"{name}: {n_params} parameters, {len(sampler.hr)} training images, "
                       f"batch {args.batch_size} x {args.crop} px, {torch.get_num_threads()} threads")

    def save() -> None:
        adversarial = {"critic": critic.state_dict(), "critic_optim": critic_opt.state_dict()} \
            if critic is not None and critic_opt is not None else {}
        checkpoint(args.out, model, step=step, epoch=0, optim=opt.state_dict(), metrics=metrics, **adversarial,
                   train_seconds=seconds_before + clock.elapsed(),
                   data={"bundle": str(args.data), "count": len(bundle), "scale": args.scale, "sources": sources,
                         "degradation": "MATLAB-style antialiased bicubic, uint8 (models.metrics.degrade)"
                                        + (f", then Gaussian blur sigma U(0, {args.input_blur}) LR px"
                                           if args.input_blur else ""),
                         "loss": loss_name(args)})

    model.train()
    bar = progress(args.steps, step, args.quiet, name)
    running = None
    margin = None  # the critic's mean score on real crops minus on upscaled ones (0: it cannot tell them apart)

    def critic_note() -> str:
        return f" critic margin {margin:.3f}" if margin is not None else ""

    while not clock.done(step):
        lr_t, hr_t = sampler.batch(args.batch_size)
        lr_t, hr_t = random_blur(lr_t.to(device), args.input_blur), hr_t.to(device)
        for group in opt.param_groups:
            group["lr"] = cosine_lr(args.lr, step, args.lr_steps)
        out = model(lr_t)
        loss = F.l1_loss(out, hr_t)
        if args.detail_weight:
            loss = loss + args.detail_weight * amplitude_loss(out, hr_t)
        if critic is not None and critic_opt is not None:
            # hinge loss: the critic learns real crops from upscaled ones, then the upscaler learns to pass
            real_score, fake_score = critic(hr_t), critic(out.detach())
            critic_loss = F.relu(1 - real_score).mean() + F.relu(1 + fake_score).mean()
            gap = (real_score.mean() - fake_score.mean()).item()
            margin = gap if margin is None else 0.98 * margin + 0.02 * gap
            critic_opt.zero_grad(set_to_none=True)
            critic_loss.backward()
            critic_opt.step()
            critic.requires_grad_(False)  # the upscaler's step must not train the critic
            loss = loss - args.adversarial_weight * critic(out).mean()
            critic.requires_grad_(True)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
        bar.update(1)
        bar.set_postfix(loss=f"{running:.4f}")
        if step % args.every == 0 and not clock.done(step):
            metrics = evaluate(model, bundle, args.scale, args.val_limit)
            log_line(args.out, f"step {step} loss {running:.4f}{critic_note()} {format_metrics(metrics)}")
            save()
    bar.close()
    # Every chunk ends validated and saved, so the checkpoint's metrics describe its own weights.
    metrics = evaluate(model, bundle, args.scale, args.val_limit)
    log_line(args.out, f"step {step} loss {running if running is not None else float('nan'):.4f}{critic_note()} "
                       f"({clock.elapsed() / 60:.1f} min this run, "
                       f"{(seconds_before + clock.elapsed()) / 60:.1f} in all) {format_metrics(metrics)}")
    save()
    return 0
