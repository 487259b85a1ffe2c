"""Check an exported model: onnx.checker, its contract, parity and latency against PyTorch, metadata.

``python -m exporters verify FILE.onnx [--checkpoint CKPT...]``. The PyTorch reference is rebuilt from the
checkpoint whose sha256 the file records (found under assets/models/checkpoints or runs/, or given with
--checkpoint), or for a converted Keras model from its original weights.
"""

from __future__ import annotations

import argparse
import importlib
import json
import statistics
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnx
import torch

from exporters.checkpoints import find_checkpoint
from exporters.onnx_export import PARITY_TOLERANCE
from installation.inference.contract import ModelContractError, check
from installation.inference.session import create_session, describe_session
from models.checkpoint import load_model

# ONNX kind -> the exporter module that knows how to rebuild and feed it.
EXPORTER_OF_KIND = {"emotion": "exporters.emotion", "generator": "exporters.sagan",
                    "upscaler": "exporters.sasr", "encoder": "exporters.encoder",
                    "stylizer": "exporters.stylizer", "style_predictor": "exporters.stylizer"}
# A file of a kind that another exporter built names it in its `exporter` metadata (only these are honoured).
ALTERNATIVE_EXPORTERS = {"exporters.style_encoder"}


def exporter_of(meta: dict[str, str]):  # noqa: ANN201 - a module
    name = meta.get("exporter")
    return importlib.import_module(name if name in ALTERNATIVE_EXPORTERS else EXPORTER_OF_KIND[meta["kind"]])


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", type=Path, help="ONNX file to verify")
    p.add_argument("--checkpoint", type=Path, nargs="*", default=[],
                   help="PyTorch source checkpoints (default: found by hash under assets/models/checkpoints, runs/)")
    p.add_argument("--batch", type=int, default=4, help="batch size of the parity/latency inputs")
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--threads", type=int, default=1)


def reference_module(meta: dict[str, str], checkpoints: Sequence[Path] = ()) -> tuple[torch.nn.Module | None, str]:
    """The PyTorch module the file was exported from, and where it came from (or why there is none)."""
    exporter = exporter_of(meta)
    if hasattr(exporter, "reference_from_metadata"):  # models converted from another framework
        module = exporter.reference_from_metadata(meta)
        if module is not None:
            return module, "original weights"
    # an ensemble records its members' hashes, comma-separated, in order
    hashes = [h for h in meta.get("source_checkpoint", "").split(",") if h] or [""]
    paths = [p for p in (find_checkpoint(h, checkpoints) for h in hashes) if p is not None]
    if len(paths) < len(hashes):
        return None, "no checkpoint with the recorded sha256 found (pass --checkpoint)"
    if hasattr(exporter, "reference_from_checkpoints"):  # a graph built from several checkpoints
        return exporter.reference_from_checkpoints(paths, meta).eval(), ", ".join(map(str, paths))
    if len(paths) > 1:
        return None, f"{len(paths)} source checkpoints, and the {meta.get('kind')} exporter cannot combine them"
    path = paths[0]
    if hasattr(exporter, "reference_from_checkpoint"):  # not a models/ registry checkpoint
        return exporter.reference_from_checkpoint(path).eval(), str(path)
    model, _ = load_model(path)
    return exporter.export_module(model).eval(), str(path)


def _median_ms(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def run(args: argparse.Namespace) -> int:
    torch.set_num_threads(args.threads)
    if not args.model.is_file():
        raise FileNotFoundError(f"{args.model}: no such model file")
    try:
        proto = onnx.load(str(args.model))
        onnx.checker.check_model(proto, full_check=True)
    except Exception as exc:  # protobuf DecodeError, checker ValidationError: a damaged or foreign file
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ModelContractError(f"{args.model}: not a valid ONNX model ({first})") from None
    session = create_session(args.model, threads=args.threads)
    info = describe_session(session)
    meta = info["metadata"]
    contract = check(meta, info["inputs"], info["outputs"], source=str(args.model))
    print(f"{args.model}: onnx.checker OK, {contract.kind} contract OK ({args.model.stat().st_size / 1e6:.2f} MB, "
          f"opset {proto.opset_import[0].version}, providers {session.get_providers()})")
    print("metadata:")
    for key in sorted(meta):
        value = meta[key]
        if value.startswith(("[", "{")):
            value = json.dumps(json.loads(value))
        print(f"  {key}: {value if len(value) < 160 else value[:157] + '...'}")

    exporter = exporter_of(meta)
    inputs = exporter.random_inputs(meta, args.batch)
    names_in = [s.name for s in contract.inputs]
    names_out = [s.name for s in contract.outputs]
    feed = {n: t.numpy() for n, t in zip(names_in, inputs)}
    ort_ms = _median_ms(lambda: session.run(names_out, feed), args.repeats)
    module, source = reference_module(meta, args.checkpoint)
    if module is None:
        print(f"parity: skipped, {source}")
        print(f"latency (batch {args.batch}, {args.threads} thread): onnxruntime {ort_ms:.2f} ms")
        return 0
    with torch.no_grad():
        expected = module(*inputs)
        torch_ms = _median_ms(lambda: module(*inputs), args.repeats)
    expected = (expected,) if isinstance(expected, torch.Tensor) else expected
    # int8 graphs: parity at the exporter's ORT optimization level (full fusion picks kernels by graph layout)
    level = getattr(exporter, "PARITY_LEVEL", None)
    parity_session = exporter.session(str(args.model), level) if level else session
    got = parity_session.run(names_out, feed)
    errors = {n: float(np.max(np.abs(g - e.numpy()))) for n, g, e in zip(names_out, got, expected)}
    ok = max(errors.values()) <= PARITY_TOLERANCE
    print(f"parity vs PyTorch ({source}): " + ", ".join(f"{n} max|err| {e:.2e}" for n, e in errors.items())
          + f" -> {'OK' if ok else 'FAIL'} (tolerance {PARITY_TOLERANCE:g})"
          + (f" [onnxruntime at the {level!r} optimization level]" if level else ""))
    print(f"latency (batch {args.batch}, {args.threads} thread, median of {args.repeats}): "
          f"onnxruntime {ort_ms:.2f} ms, pytorch eager {torch_ms:.2f} ms ({torch_ms / ort_ms:.2f}x)")
    return 0 if ok else 1
