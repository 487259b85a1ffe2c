"""Export the SAGAN generator (EMA weights) as a `generator` model: (z, style) -> image in [0, 1]."""

from __future__ import annotations

import argparse
import json

import torch
from torch import nn

from exporters.onnx_export import ExportReport, export_onnx, parse_meta, provenance
from exporters.onnx_export import add_checkpoint_arguments as add_arguments  # noqa: F401
from models.checkpoint import file_sha256, load_model
from models.sagan import measure_standing_stats

TRAINING_DATA = ("WikiArt paintings, 7 styles x 1000 (224 px, letterbox bars cut, centre square, resized), "
                 "90% train split; see MODEL_CARD.md")
LICENSE = "weights: project's own (MIT); trained on WikiArt images (CC BY-NC-SA 4.0, non-commercial research)"


def export_module(model: nn.Module) -> nn.Module:
    """The generator with its own batch-norm statistics measured (deterministic, so `verify` rebuilds the
    same module): a checkpoint from models.train carries them already, this makes any checkpoint safe."""
    measure_standing_stats(model.generator)
    return model.generator


def random_inputs(meta: dict[str, str], n: int) -> tuple[torch.Tensor, ...]:
    """Standard-normal latents and random style mixtures (Dirichlet, so weights sum to 1)."""
    k = len(json.loads(meta["classes"]))
    z = torch.randn(n, int(meta["latent_dim"]))
    style = torch.distributions.Dirichlet(torch.ones(k)).sample((n,))
    return z, style


def run(args: argparse.Namespace) -> ExportReport:
    model, payload = load_model(args.checkpoint, use_ema=True)
    cfg = model.config
    meta = {
        "classes": json.dumps(list(cfg.classes)),
        "latent_dim": str(cfg.latent_dim),
        "resolution": str(cfg.resolution),
        "architecture": f"sagan g_channels={cfg.g_channels} attention_at={list(cfg.attention_resolutions())}",
        **provenance(training_data=TRAINING_DATA, license=LICENSE, checkpoint_sha256=file_sha256(args.checkpoint),
                     training_steps=payload.get("step", 0), ema="true"),
        **parse_meta(args.meta),
    }
    return export_onnx(export_module(model), random_inputs(meta, 2), args.out, kind="generator", metadata=meta,
                       make_inputs=lambda n: random_inputs(meta, n))

