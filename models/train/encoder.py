"""Train the painting encoder as a style classifier.
``python -m models.train encoder --data data/paintings112.npz --out runs/encoder``.

AdamW with a cosine schedule, label smoothing, random resized crops and flips; held-out top-1 accuracy
printed after every epoch; ``--eval-only --checkpoint CKPT`` prints the held-out accuracy and the
confusion per class.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from models.checkpoint import load_model
from models.data import Bundle
from models.registry import create_model
from models.train import common


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m models.train encoder", description=__doc__.split("\n\n")[0])
    common.add_common_args(p)
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--weight-decay", type=float, default=0.05)
    p.add_argument("--widths", type=int, nargs="+", default=None,
                   help="channels of the stem and each stage (default: the model's 24 48 96 192)")
    p.add_argument("--eval-only", action="store_true")
    p.add_argument("--checkpoint", type=Path, default=None, help="with --eval-only: the checkpoint to score")
    args = p.parse_args(argv)
    args.batch_size = args.batch_size or 64
    return args


def to_tensor(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(images).permute(0, 3, 1, 2).contiguous()  # uint8 N, 3, H, W


def augment(x: torch.Tensor) -> torch.Tensor:
    """Random resized crop (70-100% of the side, back to full size) and horizontal flip, per batch."""
    n, _, h, w = x.shape
    side = int(h * np.random.uniform(0.7, 1.0))
    y0, x0 = np.random.randint(0, h - side + 1), np.random.randint(0, w - side + 1)
    x = x[:, :, y0 : y0 + side, x0 : x0 + side]
    x = F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False, antialias=True)
    flip = torch.rand(n) < 0.5
    x[flip] = x[flip].flip(3)
    return x


@torch.no_grad()
def evaluate(model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor, k: int,
             batch: int = 256) -> tuple[float, np.ndarray]:
    """Top-1 accuracy and the confusion matrix (rows: true class)."""
    model.eval()
    preds = torch.cat([model(images[i : i + batch].float() / 255).argmax(1) for i in range(0, len(images), batch)])
    confusion = np.zeros((k, k), dtype=np.int64)
    np.add.at(confusion, (labels.numpy(), preds.numpy()), 1)
    return float((preds == labels).float().mean()), confusion


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    device = common.setup(args)
    bundle = Bundle.load(args.data)
    k = len(bundle.classes)
    val_x, val_y = bundle.stack("heldout")
    val_x, val_y = to_tensor(val_x), torch.from_numpy(val_y)

    if args.eval_only:
        model, _ = load_model(args.checkpoint or args.out / "last.ckpt")
        acc, confusion = evaluate(model, val_x, val_y, k)
        print(f"held-out top-1 {acc:.4f} on {len(val_y)} paintings")
        for name, row in zip(bundle.classes, confusion):
            print(f"  {name:20s} {row[bundle.classes.index(name)] / max(row.sum(), 1):.3f}  {row.tolist()}")
        return 0

    train_x, train_y = bundle.stack("train")
    train_x, train_y = to_tensor(train_x), torch.from_numpy(train_y)
    state = common.resume(args.out, args.no_resume)
    fresh = {"classes": tuple(bundle.classes), "work_size": bundle.info["size"]}
    if args.widths:
        fresh["widths"] = tuple(args.widths)
    model = create_model("painting_encoder", **(state["config"] if state else fresh))
    if state:
        model.load_state_dict(state["state_dict"])
    model.to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    steps_per_epoch = math.ceil(len(train_y) / args.batch_size)
    total = args.steps or args.epochs * steps_per_epoch
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s / total, 1))))
    step, best = 0, 0.0
    if state:
        opt.load_state_dict(state["optim"]["opt"])
        sched.load_state_dict(state["optim"]["sched"])
        step, best = state["step"], state["metrics"].get("best_top1", 0.0)
        common.set_rng_state(state["rng"])
    clock = common.Clock(total, args.minutes)
    bar = common.progress(total, step, args.quiet, "encoder")
    acc = best
    while not clock.done(step):
        model.train()
        perm = torch.randperm(len(train_y))
        for i in range(0, len(perm), args.batch_size):
            idx = perm[i : i + args.batch_size]
            x = augment(train_x[idx].float().div_(255)).to(device)
            loss = F.cross_entropy(model(x), train_y[idx].to(device), label_smoothing=0.1)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.3f}")
            if clock.done(step):
                break
        acc, _ = evaluate(model, val_x, val_y, k)
        best = max(best, acc)
        common.log_line(args.out, f"epoch {step / steps_per_epoch:.2f} step {step} loss {loss.item():.4f} "
                                  f"heldout_top1 {acc:.4f} elapsed {clock.elapsed():.0f}s")
        common.checkpoint(args.out, model, step=step, metrics={"heldout_top1": acc, "best_top1": best},
                          optim={"opt": opt.state_dict(), "sched": sched.state_dict()},
                          data={"bundle": str(args.data), "info": bundle.info, "classes": bundle.classes})
    bar.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
