"""Train an emotion classifier on FER-2013, and evaluate any emotion model on a folder of labelled faces.

Train (resumable, in chunks)::

    python -m models.data --src ../shared/data/faces/fer2013_train --size 64 --gray --out data/fer64.npz
    python -m models.train emotion --data data/fer64.npz --out runs/emotion_vgg --steps 6000 --minutes 9

Evaluate (a checkpoint, an exported ONNX file, or fer's converted model) on FER-2013 PublicTest::

    python -m models.train emotion --eval-only --onnx assets/models/emotion.onnx \\
        --data ../shared/data/faces/fer2013_publictest

Faces are 48x48 in FER-2013; evaluation resizes them to 64x64 with cv2's default bilinear interpolation,
as the ``fer`` package does before its model. Labels are matched by folder name, never by index.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from installation.inference.emotion import canonical_label
from models.emotion import EMOTION_LABELS, INPUT_SIZE
from models.train import common

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp"}


# ----------------------------------------------------------------------------------------------------
# Evaluation


@dataclass
class EvalResult:
    accuracy: float
    per_class: dict[str, float]
    counts: dict[str, int]
    confusion: list[list[int]] = field(default_factory=list)  # rows: true label, columns: predicted
    labels: list[str] = field(default_factory=list)
    skipped_classes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        per = ", ".join(f"{k} {v:.3f} (n={self.counts[k]})" for k, v in self.per_class.items())
        return f"accuracy {self.accuracy:.4f} on {sum(self.counts.values())} faces; per class: {per}"

    def to_json(self) -> dict[str, Any]:
        return {"accuracy": self.accuracy, "per_class": self.per_class, "counts": self.counts,
                "labels": self.labels, "confusion": self.confusion, "skipped_classes": self.skipped_classes}


def load_face_folder(folder: str | Path, labels: Sequence[str] = EMOTION_LABELS,
                     interpolation: int = cv2.INTER_LINEAR) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Faces of a ``<class>/*.jpg`` folder as uint8 (N, 64, 64) with label indices into ``labels``.

    Class folders are mapped by name (with a few aliases); folders naming no label are skipped and returned.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder")
    faces, targets, skipped = [], [], []
    for class_dir in sorted(d for d in folder.iterdir() if d.is_dir()):
        name = canonical_label(class_dir.name)
        if name not in labels:
            skipped.append(class_dir.name)
            continue
        for path in sorted(p for p in class_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
            img = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
            if img is None:
                log.warning("skipping unreadable image %s", path)
                continue
            if img.shape != (INPUT_SIZE, INPUT_SIZE):
                img = cv2.resize(img, (INPUT_SIZE, INPUT_SIZE), interpolation=interpolation)
            faces.append(img)
            targets.append(labels.index(name))
    if not faces:
        raise ValueError(f"{folder}: no faces in class folders named like {', '.join(labels)}")
    if skipped:
        log.warning("%s: no label for class folders %s (skipped)", folder, ", ".join(skipped))
    return np.stack(faces), np.asarray(targets, dtype=np.int64), skipped


def predict(model_or_session: Any, faces: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Probabilities (N, K) for uint8 faces (N, 64, 64) from an nn.Module (logits), an ORT session or an
    ONNX file path (both giving ``probs``)."""
    if isinstance(model_or_session, (str, Path)):
        from installation.inference.session import create_session

        model_or_session = create_session(model_or_session, threads=1, providers=["CPUExecutionProvider"])
    out = []
    for i in range(0, len(faces), batch_size):
        x = (faces[i : i + batch_size].astype(np.float32) / 255.0)[:, None]
        if isinstance(model_or_session, nn.Module):
            model_or_session.eval()
            with torch.no_grad():
                out.append(torch.softmax(model_or_session(torch.from_numpy(x)), dim=1).numpy())
        else:
            out.append(model_or_session.run(["probs"], {"image": x})[0])
    return np.concatenate(out)


def score(probs: np.ndarray, targets: np.ndarray, labels: Sequence[str], skipped: Sequence[str] = ()) -> EvalResult:
    pred = probs.argmax(axis=1)
    k = len(labels)
    confusion = np.zeros((k, k), dtype=np.int64)
    np.add.at(confusion, (targets, pred), 1)
    per_class, counts = {}, {}
    for i, name in enumerate(labels):
        n = int(confusion[i].sum())
        if n:
            per_class[name] = float(confusion[i, i] / n)
            counts[name] = n
    return EvalResult(float((pred == targets).mean()), per_class, counts, confusion.tolist(), list(labels),
                      list(skipped))


def evaluate(model_or_session: Any, folder: str | Path, labels: Sequence[str] = EMOTION_LABELS,
             interpolation: int = cv2.INTER_LINEAR) -> EvalResult:
    """Accuracy (overall and per class) of an emotion model on a ``<class>/*.jpg`` folder such as
    FER-2013 PublicTest. ``labels`` is the model's output order."""
    faces, targets, skipped = load_face_folder(folder, labels, interpolation)
    return score(predict(model_or_session, faces), targets, labels, skipped)


def eval_main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m models.train emotion --eval-only",
                                description="Evaluate an emotion model on a folder of class folders.")
    p.add_argument("--eval-only", action="store_true", required=True)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--checkpoint", type=Path, help="checkpoint from models.train emotion")
    src.add_argument("--onnx", type=Path, help="an exported emotion ONNX file")
    src.add_argument("--from-fer", action="store_true", help="fer's mini-Xception, converted in memory")
    p.add_argument("--data", type=Path, required=True, help="folder of <class>/*.jpg, e.g. fer2013_publictest")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--json", type=Path, default=None, help="also write the result (with confusion) here")
    args = p.parse_args(argv)
    torch.set_num_threads(max(1, args.threads))
    labels: list[str] = list(EMOTION_LABELS)
    if args.checkpoint:
        from models.checkpoint import load_model

        model, payload = load_model(args.checkpoint)
        labels = list(payload.get("labels") or labels)
    elif args.onnx:
        from installation.inference.session import create_session, describe_session

        model = create_session(args.onnx, threads=args.threads, providers=["CPUExecutionProvider"])
        labels = json.loads(describe_session(model)["metadata"]["labels"])
    else:
        from models.fer_import import fetch_fer_hdf5, load_fer_mini_xception

        model = load_fer_mini_xception(fetch_fer_hdf5())
    result = evaluate(model, args.data, labels=labels)
    print(result.summary())
    if args.json:
        args.json.write_text(json.dumps(result.to_json(), indent=1) + "\n")
    return 0


# ----------------------------------------------------------------------------------------------------
# Training


def augment(x: torch.Tensor, max_shift: float = 0.1, max_rotate: float = 10.0, max_zoom: float = 0.1,
            erase: float = 0.0) -> torch.Tensor:
    """Random flip, shift, rotation and zoom (one affine warp, border pixels repeated), mild
    brightness/contrast jitter and, with probability ``erase``, one random rectangle blanked to grey
    (random erasing: the network must read the expression from more than one feature), for a batch
    (N, 1, H, W) in [0, 1]."""
    n = x.shape[0]
    angle = (torch.rand(n) * 2 - 1) * math.radians(max_rotate)
    scale = 1 + (torch.rand(n) * 2 - 1) * max_zoom
    flip = torch.where(torch.rand(n) < 0.5, -1.0, 1.0)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0], theta[:, 0, 1] = cos * flip, -sin
    theta[:, 1, 0], theta[:, 1, 1] = sin * flip, cos
    theta[:, :, 2] = (torch.rand(n, 2) * 2 - 1) * max_shift * 2  # grid units: the image spans [-1, 1]
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    contrast = 1 + (torch.rand(n, 1, 1, 1) * 2 - 1) * 0.2
    brightness = (torch.rand(n, 1, 1, 1) * 2 - 1) * 0.1
    x = ((x - mean) * contrast + mean + brightness).clamp(0, 1)
    return random_erase(x, erase) if erase > 0 else x


def random_erase(x: torch.Tensor, p: float, area: tuple[float, float] = (0.02, 0.2)) -> torch.Tensor:
    """Blank one rectangle (2-20% of the image, aspect 1:3 to 3:1) to mid-grey in a share ``p`` of a batch."""
    n, _, h, w = x.shape
    frac = torch.empty(n).uniform_(*area)
    aspect = torch.exp(torch.empty(n).uniform_(math.log(1 / 3), math.log(3)))
    eh = (torch.sqrt(frac * aspect) * h).clamp(1, h)
    ew = (torch.sqrt(frac / aspect) * w).clamp(1, w)
    top = torch.rand(n) * (h - eh)
    left = torch.rand(n) * (w - ew)
    rows = torch.arange(h).view(1, h, 1)
    cols = torch.arange(w).view(1, 1, w)
    box = ((rows >= top.view(n, 1, 1)) & (rows < (top + eh).view(n, 1, 1))
           & (cols >= left.view(n, 1, 1)) & (cols < (left + ew).view(n, 1, 1)))
    box &= (torch.rand(n) < p).view(n, 1, 1)
    return torch.where(box.unsqueeze(1), torch.full_like(x, 0.5), x)


def _accuracy(model: nn.Module, images: torch.Tensor, targets: torch.Tensor, device: torch.device) -> float:
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(images), 512):
            x = images[i : i + 512].to(device).float().div_(255).unsqueeze(1)
            correct += int((model(x).argmax(1).cpu() == targets[i : i + 512]).sum())
    model.train()
    return correct / max(1, len(images))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m models.train emotion", description=__doc__.split("\n\n")[0])
    common.add_common_args(p)
    p.add_argument("--model", default="emotion_cnn", choices=["emotion_cnn", "emotion_vgg", "mini_xception"])
    p.add_argument("--erase", type=float, default=0.5, help="share of faces with one rectangle blanked")
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--weight-decay", type=float, default=0.05)
    p.add_argument("--label-smoothing", type=float, default=0.1)
    p.add_argument("--warmup", type=int, default=200, help="linear warm-up steps before the cosine decay")
    p.add_argument("--publictest", type=Path, default=None,
                   help="FER-2013 PublicTest folder: evaluated once the run reaches --steps")
    p.add_argument("--eval-only", action="store_true", help="evaluate a model instead (see the module doc)")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(argv or [])
    if "--eval-only" in argv:
        return eval_main(argv)
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    device = common.setup(args)
    from models.checkpoint import save_checkpoint
    from models.data import Bundle
    from models.registry import create_model

    bundle = Bundle.load(args.data)
    try:
        remap = np.asarray([EMOTION_LABELS.index(canonical_label(c)) for c in bundle.classes])
    except ValueError:
        raise ValueError(f"{args.data}: classes {bundle.classes} do not all name one of {EMOTION_LABELS}") from None
    if bundle.info.get("size") != INPUT_SIZE or not bundle.info.get("gray"):
        raise ValueError(f"{args.data}: need a gray {INPUT_SIZE}px bundle (models.data --size 64 --gray)")
    if len(bundle.indices("heldout")) == 0 or len(bundle.indices("train")) == 0:
        raise ValueError(f"{args.data}: needs both training and held-out images (see --heldout-percent)")
    train_x, train_y = bundle.stack("train")
    held_x, held_y = bundle.stack("heldout")
    train_x, held_x = torch.from_numpy(train_x), torch.from_numpy(held_x)
    train_y, held_y = torch.from_numpy(remap[train_y]), torch.from_numpy(remap[held_y])

    batch = args.batch_size or 64
    per_epoch = max(1, len(train_x) // batch)
    total = args.steps or 30 * per_epoch
    every = args.every or per_epoch

    model = create_model(args.model).to(device)
    decay = [p for n, p in model.named_parameters() if p.ndim > 1]
    no_decay = [p for n, p in model.named_parameters() if p.ndim <= 1]  # BN and biases: no weight decay
    optim = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                               {"params": no_decay, "weight_decay": 0.0}], lr=args.lr)

    def lr_at(step: int) -> float:
        if step < args.warmup:
            return (step + 1) / args.warmup
        return 0.5 * (1 + math.cos(math.pi * min(1.0, (step - args.warmup) / max(1, total - args.warmup))))

    sched = torch.optim.lr_scheduler.LambdaLR(optim, lr_at)
    step, best, metrics = 0, 0.0, {}
    state = common.resume(args.out, args.no_resume)
    if state is not None:
        if state["model_name"] != args.model:
            raise ValueError(f"{args.out}/last.ckpt is a {state['model_name']} run, not {args.model}")
        model.load_state_dict(state["state_dict"])
        optim.load_state_dict(state["optim"]["optimizer"])
        sched.load_state_dict(state["optim"]["scheduler"])
        step, metrics = state["step"], state.get("metrics", {})
        best = metrics.get("best_heldout_accuracy", 0.0)
        common.set_rng_state(state["rng"])
        log.info("resumed %s at step %d", args.out / "last.ckpt", step)

    data_info = {"source": bundle.info.get("source"), "bundle": str(args.data), "train": len(train_x),
                 "heldout": len(held_x), "classes": bundle.classes,
                 "description": f"FER-2013 Training split ({len(train_x)} faces; {len(held_x)} held out)"}
    extra = {"labels": list(EMOTION_LABELS), "data": data_info}

    def save(path_name: str | None = None) -> None:
        payload = {"step": step, "epoch": step // per_epoch, "metrics": metrics,
                   "optim": {"optimizer": optim.state_dict(), "scheduler": sched.state_dict()}, **extra}
        if path_name is None:
            common.checkpoint(args.out, model, **payload)
        else:
            save_checkpoint(args.out / path_name, model, **payload)

    clock = common.Clock(total, args.minutes)
    criterion = nn.CrossEntropyLoss(label_smoothing=args.label_smoothing)
    bar = common.progress(total, step, args.quiet, f"emotion {args.model}")
    model.train()
    running = 0.0
    while not clock.done(step):
        epoch, pos = divmod(step, per_epoch)
        # The order of an epoch depends only on (seed, epoch): a resumed run continues mid-epoch exactly.
        order = torch.randperm(len(train_x), generator=torch.Generator().manual_seed(args.seed * 100003 + epoch))
        idx = order[pos * batch : (pos + 1) * batch]
        x = augment(train_x[idx].float().div_(255).unsqueeze(1), erase=args.erase).to(device)
        loss = criterion(model(x), train_y[idx].to(device))
        optim.zero_grad(set_to_none=True)
        loss.backward()
        optim.step()
        sched.step()
        step += 1
        running = 0.98 * running + 0.02 * loss.item() if step > 1 else loss.item()
        bar.update(1)
        bar.set_postfix(loss=f"{running:.3f}", lr=f"{sched.get_last_lr()[0]:.2e}")
        if step % every == 0 or step == total:
            acc = _accuracy(model, held_x, held_y, device)
            metrics.update(heldout_accuracy=acc, loss=running, step=step)
            common.log_line(args.out, f"step {step} epoch {step / per_epoch:.2f} loss {running:.4f} "
                                      f"heldout_acc {acc:.4f} elapsed {clock.elapsed():.0f}s")
            if acc > best:
                best = metrics["best_heldout_accuracy"] = acc
                save("best.ckpt")
            save()
    bar.close()
    save()
    if step >= total and args.publictest is not None:
        model.eval()
        result = evaluate(model, args.publictest)
        metrics["publictest"] = result.to_json()
        save()
        common.log_line(args.out, f"PublicTest {result.summary()}")
    log.info("stopped at step %d of %d; checkpoint %s", step, total, args.out / "last.ckpt")
    return 0
