"""Export the SAGAN generator (EMA weights) as a `generator` model: (z, style) -> image in [0, 1]."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from torch import nn

from exporters.onnx_export import (
    ExportError,
    ExportReport,
    add_checkpoint_arguments,
    export_onnx,
    parse_meta,
    provenance,
)
from models.checkpoint import file_sha256, load_model
from models.sagan import add_output_filter_arguments, measure_fixed_pattern, measure_standing_stats

TRAINING_DATA = ("WikiArt paintings, 7 styles x 1000 (224 px, letterbox bars cut, centre square, resized), "
                 "90% train split; see MODEL_CARD.md")
LICENSE = "weights: project's own (MIT); trained on WikiArt images (CC BY-NC-SA 4.0, non-commercial research)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_checkpoint_arguments(p)
    add_output_filter_arguments(p, "default: as the checkpoint was trained")
    p.add_argument("--fixed-pattern", type=int, default=0, metavar="N",
                   help="remove the texture the generator paints at the same place in every picture, measured "
                        "on N samples per style (models.sagan.FixedPatternFilter; 0: off; 1024 for the pack)")


FIXED_PATTERN_SEED = 0
MAX_FIXED_PATTERN_SAMPLES = 65536


def export_module(model: nn.Module, fixed_pattern_samples: int = 0) -> nn.Module:
    """The generator with its own batch-norm statistics measured, then its fixed pattern if asked for (both
    deterministic, so `verify` rebuilds the same module): a checkpoint from models.train carries the
    statistics already, this makes any checkpoint safe."""
    measure_standing_stats(model.generator)
    if fixed_pattern_samples:
        measure_fixed_pattern(model.generator, fixed_pattern_samples, seed=FIXED_PATTERN_SEED)
    return model.generator


def random_inputs(meta: dict[str, str], n: int) -> tuple[torch.Tensor, ...]:
    """Standard-normal latents and random style mixtures (Dirichlet, so weights sum to 1)."""
    k = len(json.loads(meta["classes"]))
    z = torch.randn(n, int(meta["latent_dim"]))
    style = torch.distributions.Dirichlet(torch.ones(k)).sample((n,))
    return z, style


def reference_from_checkpoints(paths: list[Path], meta: dict[str, str]) -> nn.Module:
    """For ``verify``: the module a file exported from this checkpoint reproduces, filters included."""
    model, _ = load_model(paths[0], use_ema=True)
    model.generator.set_lattice_period(int(meta.get("lattice_period", "0")))
    model.generator.set_checkerboard_damping(float(meta.get("checkerboard_damping", "0")))
    return export_module(model, int(meta.get("fixed_pattern_samples", "0")))


def run(args: argparse.Namespace) -> ExportReport:
    model, payload = load_model(args.checkpoint, use_ema=True)
    filters = (("--lattice-period", args.lattice_period, model.generator.set_lattice_period),
               ("--checkerboard-damping", args.checkerboard_damping, model.generator.set_checkerboard_damping))
    for flag, value, apply in filters:
        if value is not None:
            try:
                apply(value)
            except ValueError as exc:
                raise ExportError(f"{flag}: {exc}") from None
    if not 0 <= args.fixed_pattern <= MAX_FIXED_PATTERN_SAMPLES:
        raise ExportError(f"--fixed-pattern: samples per style must be 0 to {MAX_FIXED_PATTERN_SAMPLES}, "
                          f"got {args.fixed_pattern}")
    cfg = model.generator.config
    meta = {
        "classes": json.dumps(list(cfg.classes)),
        "latent_dim": str(cfg.latent_dim),
        "resolution": str(cfg.resolution),
        "architecture": f"sagan g_channels={cfg.g_channels} attention_at={list(cfg.attention_resolutions())}",
        # how verify rebuilds the same graph
        "lattice_period": str(cfg.lattice_period),
        "checkerboard_damping": repr(cfg.checkerboard_damping),
        "fixed_pattern_samples": str(args.fixed_pattern),
        **provenance(training_data=TRAINING_DATA, license=LICENSE, checkpoint_sha256=file_sha256(args.checkpoint),
                     training_steps=payload.get("step", 0), ema="true"),
        **parse_meta(args.meta),
    }
    return export_onnx(export_module(model, args.fixed_pattern), random_inputs(meta, 2), args.out, kind="generator",
                       metadata=meta, make_inputs=lambda n: random_inputs(meta, n))

