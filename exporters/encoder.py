"""Export the painting encoder as an `encoder` model: image -> (embedding, probs)."""

from __future__ import annotations

import argparse
import json

import torch
from torch import nn

from exporters.onnx_export import ExportReport, export_onnx, parse_meta, provenance
from exporters.onnx_export import add_checkpoint_arguments as add_arguments  # noqa: F401
from models.checkpoint import file_sha256, load_model
from models.encoder import EncoderExport

TRAINING_DATA = "WikiArt paintings, 7 styles x 1000 (224 px, at 112 px), 90% train split; see MODEL_CARD.md"
LICENSE = "weights: project's own (MIT); trained on WikiArt images (CC BY-NC-SA 4.0, non-commercial research)"


def export_module(model: nn.Module) -> nn.Module:
    return EncoderExport(model)


def random_inputs(meta: dict[str, str], n: int) -> tuple[torch.Tensor, ...]:
    return (torch.rand(n, 3, 224, 224),)


def run(args: argparse.Namespace) -> ExportReport:
    model, payload = load_model(args.checkpoint)
    cfg = model.config
    metrics = payload.get("metrics", {})
    meta = {
        "classes": json.dumps(list(cfg.classes)),
        "embedding_dim": str(cfg.embedding_dim),
        "architecture": f"residual CNN widths={list(cfg.widths)} at {cfg.work_size}px",
        **provenance(training_data=TRAINING_DATA, license=LICENSE, checkpoint_sha256=file_sha256(args.checkpoint),
                     heldout_top1=f"{metrics.get('heldout_top1', float('nan')):.4f}"),
        **parse_meta(args.meta),
    }
    return export_onnx(export_module(model), random_inputs(meta, 2), args.out, kind="encoder", metadata=meta,
                       make_inputs=lambda n: random_inputs(meta, n))
