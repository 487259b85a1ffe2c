"""Export a SASR-Net checkpoint as an ``upscaler`` ONNX model with dynamic batch, height and width.

``python -m exporters sasr --checkpoint runs/sasr_x4/last.ckpt --out assets/models/sasr_x4.onnx``

The bicubic skip exports as an ONNX ``Resize`` (cubic, a = -0.75, half-pixel), which ONNX Runtime computes
like PyTorch; the parity check runs on inputs of another batch size *and* another height and width than
the traced ones, so the spatial axes are proven dynamic, not just declared.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import torch

from exporters.onnx_export import ExportReport, add_checkpoint_arguments, export_onnx, parse_meta, provenance
from models.checkpoint import file_sha256, load_model

log = logging.getLogger(__name__)

TRAINING_DATA = ("T91 (super-resolution training images) + a WikiArt paintings subset (224 px, 7 styles); "
                 "LR by MATLAB-style antialiased bicubic downscale")
LICENSE = "weights: project's own (MIT); trained on research data (T91, WikiArt CC BY-NC-SA)"
TRACE_SIZE = (32, 32)
# Parity inputs: deliberately not the traced size, and not square, to exercise the dynamic H/W axes.
PARITY_SIZE = (24, 40)


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_checkpoint_arguments(p)
    p.add_argument("--training-data", default=TRAINING_DATA, help="provenance text stored in the metadata")


def export_sasr(checkpoint: Path, out: Path, training_data: str = TRAINING_DATA,
                extra_meta: dict[str, str] | None = None) -> ExportReport:
    """Export one checkpoint; the held-out PSNR stored in it goes into the file's metadata."""
    model, payload = load_model(checkpoint)
    scale = int(model.config.scale)  # type: ignore[attr-defined]
    metrics = payload.get("metrics") or {}
    extra: dict[str, object] = {
        "architecture": payload["model_name"],
        "config": payload["config"],
        "training_steps": int(payload.get("step", 0)),
        "degradation": "MATLAB-style bicubic downscale (antialiased, a=-0.5), uint8",
    }
    if metrics:
        extra["heldout_psnr_y"] = f"{metrics['psnr_y']:.3f}"
        extra["heldout_psnr_y_bicubic"] = f"{metrics['psnr_y_bicubic']:.3f}"
        extra["heldout_metric"] = (f"mean PSNR on Y (BT.601), {scale}-px border, over "
                                   f"{int(metrics['heldout_images'])} held-out images of the training bundle")
        extra["heldout_psnr_y_by_source"] = json.dumps(
            {k: round(v, 3) for k, v in metrics.items() if k.startswith("psnr_y")}
        )
    else:
        log.warning("%s has no held-out metrics; exporting without them", checkpoint)
    data = payload.get("data") or {}
    if training_data == TRAINING_DATA and data.get("sources"):
        counts = ", ".join(f"{name} {n}" for name, n in data["sources"].items())
        training_data = f"{TRAINING_DATA} [bundle images per source: {counts}; 10% held out by path hash]"
    if data.get("loss"):
        extra["loss"] = data["loss"]  # "L1" or "L1 + W x Fourier amplitude L1" (the last run's)
    if data.get("interpolation"):  # a blend of two fine-tunes (exporters interpolate): alpha and both sources
        extra["interpolation"] = json.dumps(data["interpolation"])
    if payload.get("train_seconds"):
        extra["training_minutes"] = f"{payload['train_seconds'] / 60:.1f}"
    extra.update(extra_meta or {})  # --meta: what the checkpoint cannot say (e.g. the losses of earlier runs)
    meta = {"scale": str(scale), **provenance(training_data=training_data, license=LICENSE,
                                              checkpoint_sha256=file_sha256(checkpoint), **extra)}

    dynamic_axes = {"image": {0: "N", 2: "H", 3: "W"}, "upscaled": {0: "N", 2: "H_out", 3: "W_out"}}
    return export_onnx(model, (torch.rand(1, 3, *TRACE_SIZE),), out, kind="upscaler", metadata=meta,
                       make_inputs=lambda n: random_inputs(meta, n), dynamic_axes=dynamic_axes)


def export_module(model: torch.nn.Module) -> torch.nn.Module:
    return model


def random_inputs(meta: dict[str, str], batch: int) -> tuple[torch.Tensor, ...]:
    """Parity inputs of another size than the trace (proves the dynamic H/W axes); mid-range values so
    the output clamp rarely engages and cannot hide a difference."""
    gen = torch.Generator().manual_seed(1234 + batch)
    return (0.2 + 0.6 * torch.rand(batch, 3, *PARITY_SIZE, generator=gen),)


def run(args: argparse.Namespace) -> ExportReport:
    return export_sasr(args.checkpoint, args.out, args.training_data, parse_meta(args.meta))
