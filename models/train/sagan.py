"""Train the conditional SAGAN: hinge loss, TTUR (G 1e-4, D 4e-4, Adam betas (0, 0.9)), two D steps per
G step, EMA of G, differentiable augmentation.
``python -m models.train sagan --data data/paintings64.npz --out runs/sagan``.

Every ``--every`` steps it measures the EMA generator's standing batch-norm statistics, writes
``OUT/last.ckpt`` and a sample grid (one row per style, the same latent code in each column) and logs:
the Frechet distance between generated and held-out real paintings (in the encoder's embedding space, on
the unit sphere, when ``--encoder`` names one, else in a space of colour statistics), the encoder's style
accuracy on samples
next to its accuracy on real held-out paintings, and the discriminator's held-out health: the AUC with
which it ranks real paintings above generated ones, and how often its class projection picks the true
style of a real painting.

What made the recipe work (each measured on the CPU): the data cropped of its letterbox bars
(``models.data --crop-bars``), standing statistics for the EMA weights, two D steps per G step (one left
D at AUC 0.6-0.8), and a larger learning rate for the style-conditional parameters (``--cond-lr-mult``;
they start at zero and hardly move at 1e-4 per step).
"""

from __future__ import annotations

import argparse
import copy
import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from models.augment import diff_augment
from models.checkpoint import read_checkpoint
from models.data import Bundle
from models.frechet import embedding_fd, frechet_distance, gaussian_stats
from models.registry import create_model
from models.sagan import SAGAN, ConditionalBatchNorm, add_output_filter_arguments, measure_standing_stats, one_hot
from models.train import common
from models.widen import widen_state_dict

DEFAULT_G_LR, DEFAULT_D_LR = 1e-4, 4e-4  # TTUR (Heusel et al. 2017; SAGAN's rates)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m models.train sagan", description=__doc__.split("\n\n")[0])
    common.add_common_args(p)
    p.add_argument("--g-channels", type=int, default=32)
    p.add_argument("--d-channels", type=int, default=32)
    p.add_argument("--g-min-channels", type=int, default=0,
                   help="the fewest channels a generator block may have (0: none; 32 doubles the width-16 "
                        "network's 32x32 and 64x64 blocks)")
    p.add_argument("--d-min-channels", type=int, default=0, help="the same for the discriminator")
    p.add_argument("--widen-from", type=Path, default=None, metavar="CKPT",
                   help="start OUT from this checkpoint, widened to the --g/--d-min-channels floors without "
                        "changing its output (models.widen); the step count goes on, the widened networks' "
                        "optimisers start afresh")
    p.add_argument("--latent-dim", type=int, default=128)
    p.add_argument("--g-lr", type=float, default=None,
                   help=f"generator rate (default {DEFAULT_G_LR}; on resume, the run's own unless given)")
    p.add_argument("--d-lr", type=float, default=None,
                   help=f"discriminator rate (default {DEFAULT_D_LR}; on resume, the run's own unless given)")
    p.add_argument("--ema-decay", type=float, default=0.999)
    p.add_argument("--ema-start", type=int, default=1000, help="copy G into the EMA until this step")
    p.add_argument("--augment", default="colour,translation,cutout", help="DiffAugment policy ('' for none)")
    p.add_argument("--d-steps", type=int, default=2, help="discriminator updates per generator update")
    p.add_argument("--cond-lr-mult", type=float, default=10.0,
                   help="learning-rate multiplier for the generator's style-conditional batch-norm parameters")
    # The output filters have no weights, so a resumed run can take them up: D then judges filtered pictures,
    # and G learns to paint detail that survives them (rather than the filters being added at export only).
    add_output_filter_arguments(p, "default: off for a new run, the run's own on resume")
    p.add_argument("--attention-at", type=int, nargs="*", default=None,
                   help="feature-map sizes with self-attention (default 32, and 64 from 128 px); 16 is "
                        "1.5-2.7x faster per step on a CPU")
    p.add_argument("--encoder", type=Path, default=None,
                   help="encoder ONNX for the validation FD and style accuracy")
    p.add_argument("--mode-seeking", type=float, default=0.0,
                   help="weight of the mode-seeking term (Mao et al. 2019): G's batch is drawn in pairs of one "
                        "style, and G is penalised when two latent codes give near-identical pictures (0: off)")
    p.add_argument("--snapshot-every", type=int, default=0,
                   help="also keep OUT/snapshots/step_NNNNNN.ckpt every this many steps (0: only last.ckpt), "
                        "so the best validation can be picked after the run")
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


def mode_seeking_penalty(a: torch.Tensor, b: torch.Tensor, za: torch.Tensor, zb: torch.Tensor) -> torch.Tensor:
    """MSGAN's term: small when pictures ``a`` and ``b`` differ as much as their latent codes do, large
    when two codes collapse onto one picture (the mean absolute gap ratio, inverted, per pair)."""
    ratio = (a - b).abs().mean((1, 2, 3)) / (za - zb).abs().mean(1)
    return (1 / (ratio + 1e-5)).mean()


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


class StyleProbe:
    """Embeds images and names their style: the encoder's when there is one, else the nearest class
    centroid of the training split in colour-statistics space (a weaker judge, but one every bundle has)."""

    def __init__(self, bundle: Bundle, encoder: Path | None):
        self.encoder = None
        if encoder is not None:
            from installation.inference.encoder import PaintingEncoder

            self.encoder = PaintingEncoder(encoder)
            return
        images, labels = bundle.stack("train")
        feats = colour_features(images)
        self.centroids = np.stack([feats[labels == c].mean(0) for c in range(len(bundle.classes))])

    def __call__(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(embeddings, predicted class per image)."""
        if self.encoder is not None:
            out = self.encoder.encode(images)
            return out.embedding, out.probs.argmax(1)
        feats = colour_features(images)
        return feats, ((feats[:, None] - self.centroids[None]) ** 2).sum(-1).argmin(1)


def auc(pos: np.ndarray, neg: np.ndarray) -> float:
    """The probability that a random positive scores above a random negative (ties count half)."""
    pos, neg = pos[:, None], neg[None, :]
    return float((pos > neg).mean() + 0.5 * (pos == neg).mean())


@torch.no_grad()
def validate(generator: torch.nn.Module, discriminator: torch.nn.Module, bundle: Bundle, encoder: Path | None,
             device: torch.device, per_class: int = 64) -> dict[str, float]:
    """Held-out metrics of a generator in eval mode (standing statistics already measured)."""
    real, labels = bundle.stack("heldout")
    g = torch.Generator().manual_seed(1234)  # the same latent codes at every validation
    k = len(bundle.classes)
    probe = StyleProbe(bundle, encoder)
    fds, fake_hits, real_hits, fakes = [], [], [], []
    for c in range(k):
        real_c = real[labels == c]
        z = torch.randn(per_class, generator.config.latent_dim, generator=g).to(device)
        style = one_hot(torch.full((per_class,), c, dtype=torch.long, device=device), k)
        fake = generator(z, style).clamp(0, 1)
        fakes.append(fake)
        fake_np = fake.mul(255).byte().permute(0, 2, 3, 1).cpu().numpy()
        emb_fake, pred_fake = probe(fake_np)
        fake_hits.append(pred_fake == c)
        if len(real_c) >= 2:  # a covariance needs two samples
            emb_real, pred_real = probe(real_c)
            fds.append(embedding_fd(emb_real, emb_fake) if probe.encoder is not None
                       else frechet_distance(*gaussian_stats(emb_real), *gaussian_stats(emb_fake)))
            real_hits.append(pred_real == c)
    # the discriminator, without augmentation, on held-out paintings it never trained on
    was_training = discriminator.training
    discriminator.eval()
    real_t = torch.from_numpy(real).permute(0, 3, 1, 2).float().div(255).to(device)
    real_y = torch.from_numpy(labels).to(device)
    d_real = torch.cat([discriminator(real_t[i : i + 256], one_hot(real_y[i : i + 256], k))
                        for i in range(0, len(real_t), 256)])
    fake_t, fake_y = torch.cat(fakes), torch.arange(k, device=device).repeat_interleave(per_class)
    d_fake = discriminator(fake_t, one_hot(fake_y, k))
    per_class_scores = torch.stack([
        torch.cat([discriminator(real_t[i : i + 256], one_hot(torch.full_like(real_y[i : i + 256], c), k))
                   for i in range(0, len(real_t), 256)]) for c in range(k)], dim=1)
    discriminator.train(was_training)
    metrics = {
        "fd": float(np.mean(fds)) if fds else float("nan"),
        "d_auc": auc(d_real.cpu().numpy(), d_fake.cpu().numpy()),
        "d_class_acc": float((per_class_scores.argmax(1) == real_y).float().mean()),
    }
    metrics["style_acc"] = float(np.concatenate(fake_hits).mean())
    metrics["real_style_acc"] = float(np.concatenate(real_hits).mean()) if real_hits else float("nan")
    return metrics


def widened_checkpoint(path: Path, g_min_channels: int, d_min_channels: int) -> dict:
    """The checkpoint at ``path`` as a resume state for a network with these width floors: weights and EMA
    weights widened by :func:`models.widen.widen_state_dict`, the optimiser state dropped for each network whose
    shapes changed. Checks that the widened EMA generator paints what the old one painted, and that the widened
    discriminator scores those pictures as the old one did."""
    state = read_checkpoint(path)
    if state["model_name"] != "sagan":
        raise ValueError(f"{path}: a {state['model_name']} checkpoint, not a sagan one")
    old_config = state["config"]
    config = {**old_config, "g_min_channels": g_min_channels, "d_min_channels": d_min_channels}
    old: SAGAN = create_model("sagan", **old_config)
    wider: SAGAN = create_model("sagan", **config)
    ema = widen_state_dict(state["ema_state_dict"], wider)
    raw = widen_state_dict(state["state_dict"], wider)  # same seed: the EMA's new weights are G's
    old.load_state_dict(state["ema_state_dict"])
    wider.load_state_dict(ema)
    z = torch.randn(8, old.config.latent_dim, generator=torch.Generator().manual_seed(0))
    style = one_hot(torch.arange(8) % old.config.num_classes, old.config.num_classes)
    old.eval()
    wider.eval()
    with torch.no_grad():
        picture = old.generator(z, style)
        change = float((picture - wider.generator(z, style)).abs().max())
        score_change = float((old.discriminator(picture, style) - wider.discriminator(picture, style)).abs().max())
    if change > 1e-4 or score_change > 1e-3:
        raise ValueError(f"{path}: widening changed the generator's output by {change:.2g} and the "
                         f"discriminator's scores by {score_change:.2g}")
    optim = dict(state["optim"])
    for name, before, after in (("g", old.generator, wider.generator), ("d", old.discriminator, wider.discriminator)):
        if [p.shape for p in before.parameters()] != [p.shape for p in after.parameters()]:
            optim[name] = None
    return {**state, "config": config, "state_dict": raw, "ema_state_dict": ema, "optim": optim,
            "widened": {"from": str(path), "output_change": change}}


def optimiser_groups(generator: torch.nn.Module, lr: float, cond_lr_mult: float) -> list[dict]:
    """The generator's parameters with the style-conditional ones (gain and bias of each conditional batch
    norm) at ``cond_lr_mult`` times the rate."""
    cond = {id(p) for m in generator.modules() if isinstance(m, ConditionalBatchNorm)
            for p in (*m.gain.parameters(), *m.bias.parameters())}
    params = list(generator.parameters())
    return [{"params": [p for p in params if id(p) not in cond], "lr": lr},
            {"params": [p for p in params if id(p) in cond], "lr": lr * cond_lr_mult}]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    device = common.setup(args)
    bundle = Bundle.load(args.data)
    resolution = bundle.info["size"]
    state = common.resume(args.out, args.no_resume)
    if state is None and args.widen_from is not None:
        state = widened_checkpoint(args.widen_from, args.g_min_channels, args.d_min_channels)
    filters = {name: value for name, value in (("lattice_period", args.lattice_period),
                                               ("checkerboard_damping", args.checkerboard_damping))
               if value is not None}
    if state is not None:
        model: SAGAN = create_model("sagan", **{**state["config"], **filters})
        model.load_state_dict(state["state_dict"])
    else:
        model = create_model(
            "sagan", resolution=resolution, latent_dim=args.latent_dim, classes=tuple(bundle.classes),
            g_channels=args.g_channels, d_channels=args.d_channels,
            g_min_channels=args.g_min_channels, d_min_channels=args.d_min_channels,
            attention_at=tuple(args.attention_at or ()), **filters,
        )
    if list(model.config.classes) != bundle.classes:
        raise ValueError(f"{args.data}: classes {bundle.classes} differ from the checkpoint's")
    model.to(device).train()
    G, D = model.generator, model.discriminator
    ema = copy.deepcopy(G).eval()
    g_lr = DEFAULT_G_LR if args.g_lr is None else args.g_lr
    d_lr = DEFAULT_D_LR if args.d_lr is None else args.d_lr
    opt_g = torch.optim.Adam(optimiser_groups(G, g_lr, args.cond_lr_mult), betas=(0.0, 0.9))
    opt_d = torch.optim.Adam(D.parameters(), lr=d_lr, betas=(0.0, 0.9))
    step = 0
    if state is not None:
        ema_sd = {k.removeprefix("generator."): v for k, v in state["ema_state_dict"].items()
                  if k.startswith("generator.")}
        ema.load_state_dict(ema_sd)
        for opt, name in ((opt_g, "g"), (opt_d, "d")):
            if state["optim"][name] is not None:  # None: widened, so its moments start afresh
                opt.load_state_dict(state["optim"][name])
        # Loading an optimiser brings back its saved rates; a rate given on the command line wins, so a run
        # can be resumed at a lower rate (the usual last phase of GAN training).
        if args.g_lr is not None:
            for group, lr in zip(opt_g.param_groups, (args.g_lr, args.g_lr * args.cond_lr_mult)):
                group["lr"] = lr
        if args.d_lr is not None:
            for group in opt_d.param_groups:
                group["lr"] = args.d_lr
        step = state["step"]
        common.set_rng_state(state["rng"])
    fixed_z = torch.randn(8, model.config.latent_dim, generator=torch.Generator().manual_seed(0)).to(device)
    reals = RealImages(bundle, device)
    k = model.config.num_classes
    clock = common.Clock(args.steps, args.minutes)
    bar = common.progress(args.steps, step, args.quiet, "sagan")
    common.log_line(args.out, f"# sagan res={resolution} params G={sum(p.numel() for p in G.parameters())} "
                              f"D={sum(p.numel() for p in D.parameters())} from step {step}")
    if state is not None and "widened" in state:
        common.log_line(args.out, f"# widened from {state['widened']['from']}: G widths {G.widths}, "
                                  f"output change {state['widened']['output_change']:.2g}")

    def save() -> None:
        ema_full = {**model.state_dict(), **{f"generator.{n}": v for n, v in ema.state_dict().items()}}
        common.checkpoint(args.out, model, ema_state_dict=ema_full, step=step,
                          optim={"g": opt_g.state_dict(), "d": opt_d.state_dict()},
                          data={"bundle": str(args.data), "info": bundle.info, "classes": bundle.classes})
        if args.snapshot_every and step % args.snapshot_every == 0:
            (args.out / "snapshots").mkdir(exist_ok=True)
            shutil.copyfile(args.out / "last.ckpt", args.out / "snapshots" / f"step_{step:06d}.ckpt")

    while not clock.done(step):
        for _ in range(args.d_steps):
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
        if args.mode_seeking:
            half = args.batch_size // 2  # pairs of the same style: only the latent codes differ
            fake_labels = torch.cat([fake_labels[:half], fake_labels[:half], fake_labels[2 * half :]])
        z = torch.randn(args.batch_size, model.config.latent_dim, device=device)
        fake = G(z, one_hot(fake_labels, k))
        loss_g = -D(diff_augment(fake, args.augment), one_hot(fake_labels, k)).mean()
        if args.mode_seeking:
            loss_g = loss_g + args.mode_seeking * mode_seeking_penalty(fake[:half], fake[half : 2 * half],
                                                                       z[:half], z[half : 2 * half])
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        update_ema(ema, G, 0.0 if step < args.ema_start else args.ema_decay)
        step += 1
        bar.update(1)
        if step % 50 == 0:  # .item() waits for the GPU: not every step
            bar.set_postfix(d=f"{loss_d.item():.3f}", g=f"{loss_g.item():.3f}")
        if step % args.every == 0 or clock.done(step):
            measure_standing_stats(ema)  # before saving, sampling and validating: see the function
            save()
            grid = sample_grid(ema, fixed_z, k)
            cv2.imwrite(str(args.out / f"samples_{step:06d}.png"), cv2.cvtColor(grid, cv2.COLOR_RGB2BGR))
            m = validate(ema, D, bundle, args.encoder, device)
            with open(args.out / "metrics.jsonl", "a") as fh:  # one JSON line per validation, for scripts
                fh.write(json.dumps({"step": step, "images_seen": step * args.batch_size,
                                     "seconds": round(clock.elapsed(), 1), **m}) + "\n")
            space = "encoder" if args.encoder else "colour"
            style = f" style_acc {m['style_acc']:.3f} (real {m['real_style_acc']:.3f})"
            common.log_line(args.out, f"step {step} loss_d {loss_d.item():.4f} loss_g {loss_g.item():.4f} "
                                      f"val_fd {m['fd']:.3f} ({space}){style} d_auc {m['d_auc']:.3f} "
                                      f"d_class_acc {m['d_class_acc']:.3f} images_seen {step * args.batch_size} "
                                      f"elapsed {clock.elapsed():.0f}s")
    bar.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
