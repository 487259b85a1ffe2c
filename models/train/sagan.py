"""Train the conditional SAGAN: hinge loss, TTUR (G 1e-4, D 4e-4, Adam betas (0, 0.9)), EMA of G,
differentiable augmentation. ``python -m models.train sagan --data data/paintings64.npz --out runs/sagan``.

Every ``--every`` steps it writes ``OUT/last.ckpt`` and a sample grid (one row per style, fixed latent
codes, EMA generator) and prints the validation metric: the Frechet distance between generated and
held-out real paintings in the encoder's embedding space when ``--encoder`` names one, else in a space
of colour statistics.
"""

from __future__ import annotations

import argparse
import copy
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from models.augment import diff_augment
from models.data import Bundle
from models.frechet import frechet_distance, gaussian_stats
from models.registry import create_model
from models.sagan import SAGAN, one_hot
from models.train import common


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m models.train sagan", description=__doc__.split("\n\n")[0])
    common.add_common_args(p)
    p.add_argument("--g-channels", type=int, default=32)
    p.add_argument("--d-channels", type=int, default=32)
    p.add_argument("--latent-dim", type=int, default=128)
    p.add_argument("--g-lr", type=float, default=1e-4)
    p.add_argument("--d-lr", type=float, default=4e-4)
    p.add_argument("--ema-decay", type=float, default=0.999)
    p.add_argument("--ema-start", type=int, default=1000, help="copy G into the EMA until this step")
    p.add_argument("--augment", default="colour,translation,cutout", help="DiffAugment policy ('' for none)")
    p.add_argument("--encoder", type=Path, default=None, help="encoder ONNX for the validation FD")
    args = p.parse_args(argv)
    args.batch_size = args.batch_size or 32
    args.steps = args.steps or 100_000
    args.every = args.every or 500
    return args


class RealImages:
    """The training split held as uint8 on the training device (6k paintings at 64 px are 77 MB), sampled
    with horizontal flips there: no host-to-device copy per step, which starved a GPU at ~8 steps/s."""

    def __init__(self, bundle: Bundle, device: torch.device):
        images, labels = bundle.stack("train")
        self.images = torch.from_numpy(images).permute(0, 3, 1, 2).contiguous().to(device)  # N, 3, H, W uint8
        self.labels = torch.from_numpy(labels).to(device)
        self.device = device

    def sample(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        idx = torch.randint(0, len(self.labels), (n,), device=self.device)
        x = self.images[idx].float().div_(255)
        flip = (torch.rand(n, device=self.device) < 0.5)[:, None, None, None]
        return torch.where(flip, x.flip(3), x), self.labels[idx]


@torch.no_grad()
def update_ema(ema: torch.nn.Module, model: torch.nn.Module, decay: float) -> None:
    for e, p in zip(ema.parameters(), model.parameters()):
        e.lerp_(p, 1 - decay)
    for e, b in zip(ema.buffers(), model.buffers()):
        e.copy_(b)


@torch.no_grad()
def sample_grid(generator: torch.nn.Module, z: torch.Tensor, num_classes: int) -> np.ndarray:
    """One row per class, the same latent codes in every row; RGB uint8."""
    per_row = z.shape[0]
    rows = []
    for c in range(num_classes):
        style = one_hot(torch.full((per_row,), c, dtype=torch.long, device=z.device), num_classes)
        imgs = generator(z, style).clamp(0, 1).mul(255).byte().permute(0, 2, 3, 1).cpu().numpy()
        rows.append(np.concatenate(list(imgs), axis=1))
    return np.concatenate(rows, axis=0)


def colour_features(images: np.ndarray) -> np.ndarray:
    """A cheap embedding when no encoder is given: per-channel mean/std in 4x4 regions of Lab."""
    feats = []
    for img in images:
        lab = cv2.cvtColor(img, cv2.COLOR_RGB2LAB).astype(np.float32)
        cells = cv2.resize(lab, (4, 4), interpolation=cv2.INTER_AREA).ravel()
        feats.append(np.concatenate([cells, lab.reshape(-1, 3).std(0)]))
    return np.asarray(feats)


def embed(images: np.ndarray, encoder: Path | None) -> np.ndarray:
    if encoder is None:
        return colour_features(images)
    from installation.inference.encoder import PaintingEncoder

    return PaintingEncoder(encoder).embed(images)


@torch.no_grad()
def validation_fd(generator: torch.nn.Module, bundle: Bundle, encoder: Path | None, device: torch.device,
                  per_class: int = 64) -> float:
    """Mean over styles of the Frechet distance between generated and held-out real paintings."""
    real, labels = bundle.stack("heldout")
    g = torch.Generator().manual_seed(1234)  # the same latent codes at every validation
    fds = []
    k = len(bundle.classes)
    for c in range(k):
        real_c = real[labels == c]
        if len(real_c) < 2:  # a covariance needs two samples
            continue
        z = torch.randn(per_class, generator.config.latent_dim, generator=g).to(device)
        style = one_hot(torch.full((per_class,), c, dtype=torch.long, device=device), k)
        fake = generator(z, style).clamp(0, 1).mul(255).byte().permute(0, 2, 3, 1).cpu().numpy()
        fds.append(frechet_distance(*gaussian_stats(embed(real_c, encoder)),
                                    *gaussian_stats(embed(fake, encoder))))
    return float(np.mean(fds)) if fds else float("nan")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    device = common.setup(args)
    bundle = Bundle.load(args.data)
    resolution = bundle.info["size"]
    state = common.resume(args.out, args.no_resume)
    if state is not None:
        model: SAGAN = create_model("sagan", **state["config"])
        model.load_state_dict(state["state_dict"])
    else:
        model = create_model(
            "sagan", resolution=resolution, latent_dim=args.latent_dim, classes=tuple(bundle.classes),
            g_channels=args.g_channels, d_channels=args.d_channels,
        )
    if list(model.config.classes) != bundle.classes:
        raise ValueError(f"{args.data}: classes {bundle.classes} differ from the checkpoint's")
    model.to(device).train()
    G, D = model.generator, model.discriminator
    ema = copy.deepcopy(G).eval()
    opt_g = torch.optim.Adam(G.parameters(), lr=args.g_lr, betas=(0.0, 0.9))
    opt_d = torch.optim.Adam(D.parameters(), lr=args.d_lr, betas=(0.0, 0.9))
    step = 0
    if state is not None:
        ema_sd = {k.removeprefix("generator."): v for k, v in state["ema_state_dict"].items()
                  if k.startswith("generator.")}
        ema.load_state_dict(ema_sd)
        opt_g.load_state_dict(state["optim"]["g"])
        opt_d.load_state_dict(state["optim"]["d"])
        step = state["step"]
        common.set_rng_state(state["rng"])
    fixed_z = torch.randn(8, model.config.latent_dim, generator=torch.Generator().manual_seed(0)).to(device)
    reals = RealImages(bundle, device)
    k = model.config.num_classes
    clock = common.Clock(args.steps, args.minutes)
    bar = common.progress(args.steps, step, args.quiet, "sagan")
    common.log_line(args.out, f"# sagan res={resolution} params G={sum(p.numel() for p in G.parameters())} "
                              f"D={sum(p.numel() for p in D.parameters())} from step {step}")

    def save() -> None:
        ema_full = {**model.state_dict(), **{f"generator.{n}": v for n, v in ema.state_dict().items()}}
        common.checkpoint(args.out, model, ema_state_dict=ema_full, step=step,
                          optim={"g": opt_g.state_dict(), "d": opt_d.state_dict()},
                          data={"bundle": str(args.data), "info": bundle.info, "classes": bundle.classes})

    while not clock.done(step):
        # discriminator step
        real, labels = reals.sample(args.batch_size)
        fake_labels = torch.randint(0, k, (args.batch_size,), device=device)
        with torch.no_grad():
            fake = G(torch.randn(args.batch_size, model.config.latent_dim, device=device),
                     one_hot(fake_labels, k))
        d_real = D(diff_augment(real, args.augment), one_hot(labels, k))
        d_fake = D(diff_augment(fake, args.augment), one_hot(fake_labels, k))
        loss_d = F.relu(1 - d_real).mean() + F.relu(1 + d_fake).mean()
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        # generator step
        fake_labels = torch.randint(0, k, (args.batch_size,), device=device)
        fake = G(torch.randn(args.batch_size, model.config.latent_dim, device=device), one_hot(fake_labels, k))
        loss_g = -D(diff_augment(fake, args.augment), one_hot(fake_labels, k)).mean()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        update_ema(ema, G, 0.0 if step < args.ema_start else args.ema_decay)
        step += 1
        bar.update(1)
        if step % 50 == 0:  # .item() waits for the GPU: not every step
            bar.set_postfix(d=f"{loss_d.item():.3f}", g=f"{loss_g.item():.3f}")
        if step % args.every == 0 or clock.done(step):
            save()
            grid = sample_grid(ema, fixed_z, k)
            cv2.imwrite(str(args.out / f"samples_{step:06d}.png"), cv2.cvtColor(grid, cv2.COLOR_RGB2BGR))
            fd = validation_fd(ema, bundle, args.encoder, device)
            common.log_line(args.out, f"step {step} loss_d {loss_d.item():.4f} loss_g {loss_g.item():.4f} "
                                      f"val_fd {fd:.3f} ({'encoder' if args.encoder else 'colour'}) "
                                      f"elapsed {clock.elapsed():.0f}s")
    bar.close()
    save()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
