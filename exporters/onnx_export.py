"""The one export routine every model kind goes through.

``export_onnx`` traces a network in eval mode (spectral norm baked into plain weights), writes a single
file with no external data, stamps the metadata, runs ``onnx.checker`` with ``full_check``, checks the
file against its kind's contract, and compares ONNX Runtime with PyTorch on fresh random inputs of a
batch size other than the traced one (so the dynamic axes are really dynamic).
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
import torch
from torch import nn

from installation.inference import contract
from installation.inference.session import create_session

log = logging.getLogger(__name__)

# fp32 parity tolerance between ONNX Runtime and PyTorch eager (max absolute error on the outputs).
PARITY_TOLERANCE = 1e-4
OPSET = 17
PRODUCER = "installation.exporters 0.1.0"


class ExportError(RuntimeError):
    """An export failed a check; nothing was written."""


@dataclass
class ExportReport:
    path: Path
    max_abs_error: dict[str, float]
    tolerance: float
    metadata: dict[str, str] = field(default_factory=dict)
    size_bytes: int = 0

    def summary(self) -> str:
        errs = ", ".join(f"{k} {v:.2e}" for k, v in self.max_abs_error.items())
        return (f"wrote {self.path} ({self.size_bytes / 1e6:.2f} MB); parity vs PyTorch max|err|: {errs} "
                f"(tolerance {self.tolerance:g})")


def bake_spectral_norm(model: nn.Module) -> nn.Module:
    """Replace every spectral-norm parametrisation by the normalised weight it currently computes."""
    from torch.nn.utils import parametrize

    for module in model.modules():
        if parametrize.is_parametrized(module):
            for name in list(module.parametrizations.keys()):
                parametrize.remove_parametrizations(module, name, leave_parametrized=True)
    return model


def _onnx_shapes(values: Sequence[onnx.ValueInfoProto]) -> dict[str, list[int | str | None]]:
    shapes = {}
    for v in values:
        dims = v.type.tensor_type.shape.dim
        shapes[v.name] = [d.dim_value if d.HasField("dim_value") else (d.dim_param or None) for d in dims]
    return shapes


def export_onnx(
    model: nn.Module,
    example_inputs: tuple[torch.Tensor, ...],
    out: str | Path,
    *,
    kind: str,
    metadata: dict[str, str],
    make_inputs: Callable[[int], tuple[torch.Tensor, ...]],
    dynamic_axes: dict[str, dict[int, str]] | None = None,
    tolerance: float = PARITY_TOLERANCE,
) -> ExportReport:
    """Export ``model`` as an ONNX file satisfying the ``kind`` contract.

    ``make_inputs(batch)`` draws fresh inputs for the parity check. ``metadata`` holds the kind-specific
    keys and provenance; ``kind``, ``contract_version``, ``inputs``/``outputs`` and ``producer`` are added.
    """
    spec = contract.CONTRACTS[kind]
    input_names = [s.name for s in spec.inputs]
    output_names = [s.name for s in spec.outputs]
    if dynamic_axes is None:
        dynamic_axes = {name: {0: "N"} for name in (*input_names, *output_names)}

    model = bake_spectral_norm(model.eval())
    buf = io.BytesIO()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(
            model, example_inputs, buf, input_names=input_names, output_names=output_names,
            dynamic_axes=dynamic_axes, opset_version=OPSET, do_constant_folding=True, dynamo=False,
        )
    proto = onnx.load_from_string(buf.getvalue())

    meta = {"kind": kind, "contract_version": contract.CONTRACT_VERSION, "producer": PRODUCER,
            **contract.io_metadata(spec), **{k: str(v) for k, v in metadata.items()}}
    del proto.metadata_props[:]
    for key in sorted(meta):
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, meta[key]
    proto.producer_name = PRODUCER

    try:
        onnx.checker.check_model(proto, full_check=True)
        contract.check(meta, _onnx_shapes(proto.graph.input), _onnx_shapes(proto.graph.output),
                       expected_kind=kind, source=str(out))
    except (onnx.checker.ValidationError, contract.ModelContractError) as exc:
        raise ExportError(f"{out}: export failed its checks: {exc}") from None

    data = proto.SerializeToString()
    errors = parity(model, data, make_inputs, input_names, output_names)
    worst = max(errors.values())
    if not worst <= tolerance:
        raise ExportError(f"{out}: ONNX Runtime differs from PyTorch by {worst:.3g} > {tolerance:g}")

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(out)
    return ExportReport(out, errors, tolerance, meta, len(data))


def parity(
    model: nn.Module,
    onnx_bytes: bytes,
    make_inputs: Callable[[int], tuple[torch.Tensor, ...]],
    input_names: Sequence[str],
    output_names: Sequence[str],
    batch: int = 3,
) -> dict[str, float]:
    """Max absolute error per output between PyTorch eager and ONNX Runtime on the same fresh inputs."""
    inputs = make_inputs(batch)
    with torch.no_grad():
        expected = model(*inputs)
    if isinstance(expected, torch.Tensor):
        expected = (expected,)
    session = create_session(onnx_bytes)
    got = session.run(list(output_names), {n: t.numpy() for n, t in zip(input_names, inputs)})
    return {name: float(np.max(np.abs(g - e.numpy()))) for name, g, e in zip(output_names, got, expected)}


def provenance(*, training_data: str, license: str, checkpoint_sha256: str, **extra: object) -> dict[str, str]:
    """The provenance keys every model carries; extra values are stored as JSON when not strings."""
    meta = {"training_data": training_data, "license": license, "source_checkpoint": checkpoint_sha256}
    for key, value in extra.items():
        meta[key] = value if isinstance(value, str) else json.dumps(value)
    return meta


def add_checkpoint_arguments(p: argparse.ArgumentParser) -> None:
    """The arguments of every checkpoint -> ONNX exporter."""
    p.add_argument("--checkpoint", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--meta", action="append", default=[], metavar="KEY=VALUE", help="extra metadata (repeatable)")


def parse_meta(items: list[str]) -> dict[str, str]:
    """``--meta KEY=VALUE`` arguments as a dict (extra metadata any exporter can stamp)."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ExportError(f"--meta wants KEY=VALUE, got {item!r}")
        out[key] = value
    return out


__all__ = ["PARITY_TOLERANCE", "ExportError", "ExportReport", "add_checkpoint_arguments", "bake_spectral_norm",
           "export_onnx", "parity", "parse_meta", "provenance"]
