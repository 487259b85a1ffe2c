"""What every training entry point shares: seeds, threads, time-boxed resumable loops, checkpoints.

Training runs in chunks: ``--minutes M`` stops cleanly after M minutes with a checkpoint, and running
the same command again resumes from ``OUT/last.ckpt``, so a run can be split into commands of under ten
minutes and moved between machines (the bundle and the checkpoint are all it needs).
"""

from __future__ import annotations

import argparse
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from models.checkpoint import read_checkpoint, save_checkpoint


def add_common_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", type=Path, required=True, help="training bundle (.npz from models.data)")
    p.add_argument("--out", type=Path, required=True, help="run folder: checkpoints, samples, log")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--steps", type=int, default=None, help="total optimiser steps (the run's length)")
    p.add_argument("--minutes", type=float, default=None, help="stop after this long; rerun to resume")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: the machine's cores)")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--every", type=int, default=None, help="checkpoint/validate every N steps")
    p.add_argument("--no-resume", action="store_true", help="start fresh even if OUT/last.ckpt exists")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def setup(args: argparse.Namespace) -> torch.device:
    """Seed everything and set the thread count from the machine (or --threads)."""
    threads = args.threads or int(os.environ.get("INSTALLATION_THREADS", "0")) or os.cpu_count() or 1
    torch.set_num_threads(threads)
    seed_everything(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    return torch.device(args.device)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def rng_state() -> dict[str, Any]:
    return {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}


def set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])


@dataclass
class Clock:
    """Stops a loop once the step budget or the wall-clock budget is spent."""

    total_steps: int
    minutes: float | None
    started: float = field(default_factory=time.monotonic)

    def done(self, step: int) -> bool:
        if step >= self.total_steps:
            return True
        return self.minutes is not None and time.monotonic() - self.started > self.minutes * 60

    def elapsed(self) -> float:
        return time.monotonic() - self.started


def resume(out: Path, no_resume: bool) -> dict[str, Any] | None:
    """The last checkpoint of a run folder, or None for a fresh start."""
    last = out / "last.ckpt"
    if no_resume or not last.is_file():
        return None
    return read_checkpoint(last)


def checkpoint(out: Path, model: torch.nn.Module, **extra: Any) -> Path:
    """Write ``OUT/last.ckpt`` (with the RNG states, for an exact resume)."""
    return save_checkpoint(out / "last.ckpt", model, rng=rng_state(), **extra)


def log_line(out: Path, text: str) -> None:
    """Append a line to ``OUT/log.txt`` (and print it), so a run's metrics survive the terminal."""
    print(text, flush=True)
    with open(out / "log.txt", "a") as fh:
        fh.write(text + "\n")


def progress(total: int, initial: int, quiet: bool, desc: str):
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, disable=quiet, desc=desc, dynamic_ncols=True, smoothing=0.1)
