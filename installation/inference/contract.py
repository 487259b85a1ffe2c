"""The ONNX model contracts: what every exported model promises about its inputs, outputs and metadata.

Both sides use this module: the exporters check a file against it before they write it, and the runtime
checks a file against it when it loads one, so a model whose metadata is missing or contradicts its
shapes is rejected with a readable message instead of failing deep inside a scene.

Shapes are given as tuples whose entries are ints (a fixed size), ``None`` (a dynamic axis) or a string
naming a metadata key whose integer value the axis must equal (``"latent_dim"``), or the length of a JSON
list in the metadata (``"#labels"``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

CONTRACT_VERSION = "1"

# Metadata every model carries, whatever its kind.
COMMON_KEYS = ("kind", "contract_version", "inputs", "outputs", "training_data", "license", "source_checkpoint")


@dataclass(frozen=True)
class TensorSpec:
    name: str
    shape: tuple[int | str | None, ...]
    meaning: str


@dataclass(frozen=True)
class Contract:
    kind: str
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    required_keys: tuple[str, ...]
    json_list_keys: tuple[str, ...] = ()
    int_keys: tuple[str, ...] = ()


CONTRACTS: dict[str, Contract] = {
    "emotion": Contract(
        kind="emotion",
        inputs=(TensorSpec("image", (None, 1, 64, 64), "grayscale face crop, float32 in [0, 1]"),),
        outputs=(TensorSpec("probs", (None, "#labels"), "softmax probabilities, in the order of `labels`"),),
        required_keys=("labels",),
        json_list_keys=("labels",),
    ),
    "generator": Contract(
        kind="generator",
        inputs=(
            TensorSpec("z", (None, "latent_dim"), "latent code, standard normal"),
            TensorSpec("style", (None, "#classes"), "style mixture: non-negative weights summing to 1"),
        ),
        outputs=(TensorSpec("image", (None, 3, "resolution", "resolution"), "RGB image in [0, 1]"),),
        required_keys=("classes", "latent_dim", "resolution"),
        json_list_keys=("classes",),
        int_keys=("latent_dim", "resolution"),
    ),
    "upscaler": Contract(
        kind="upscaler",
        inputs=(TensorSpec("image", (None, 3, None, None), "RGB image in [0, 1], any height and width"),),
        outputs=(TensorSpec("upscaled", (None, 3, None, None), "RGB image in [0, 1], `scale` times larger"),),
        required_keys=("scale",),
        int_keys=("scale",),
    ),
    "encoder": Contract(
        kind="encoder",
        inputs=(TensorSpec("image", (None, 3, 224, 224), "RGB painting in [0, 1]"),),
        outputs=(
            TensorSpec("embedding", (None, "embedding_dim"), "image embedding (penultimate layer)"),
            TensorSpec("probs", (None, "#classes"), "softmax probabilities over `classes`"),
        ),
        required_keys=("classes", "embedding_dim"),
        json_list_keys=("classes",),
        int_keys=("embedding_dim",),
    ),
    # Arbitrary style transfer in two files (Ghiasi et al. 2017): a style predictor turns a painting into a
    # style vector once per style, the stylizer repaints every content frame with a vector. Vectors are only
    # meaningful between files of the same `style_space`, which the runtime checks.
    "style_predictor": Contract(
        kind="style_predictor",
        inputs=(TensorSpec("style", (None, 3, "style_size", "style_size"), "RGB style image (a painting) in [0, 1]"),),
        outputs=(TensorSpec("style_vector", (None, "style_dim"), "style embedding, in `style_space`"),),
        required_keys=("style_dim", "style_size", "style_space"),
        int_keys=("style_dim", "style_size"),
    ),
    "stylizer": Contract(
        kind="stylizer",
        inputs=(
            TensorSpec("content", (None, 3, "content_size", "content_size"), "RGB content image in [0, 1]"),
            TensorSpec("style_vector", (None, "style_dim"), "style embedding from a style_predictor of the "
                       "same `style_space` (or a mix of such vectors)"),
        ),
        outputs=(TensorSpec("stylized", (None, 3, "content_size", "content_size"),
                            "the content repainted in the style, RGB in [0, 1]"),),
        required_keys=("style_dim", "content_size", "style_space"),
        int_keys=("style_dim", "content_size"),
    ),
}


class ModelContractError(ValueError):
    """A model file does not satisfy its contract; the message says what and where."""


def io_metadata(contract: Contract) -> dict[str, str]:
    """The `inputs`/`outputs` metadata entries that document a contract inside the file."""
    def describe(specs: Sequence[TensorSpec]) -> str:
        return json.dumps(
            {s.name: {"shape": [d if d is not None else "N" if i == 0 else "*" for i, d in enumerate(s.shape)],
                      "meaning": s.meaning} for s in specs}
        )

    return {"inputs": describe(contract.inputs), "outputs": describe(contract.outputs)}


def _expected_dim(dim: int | str | None, meta: Mapping[str, str]) -> int | None:
    if dim is None or isinstance(dim, int):
        return dim
    if dim.startswith("#"):
        return len(json.loads(meta[dim[1:]]))
    return int(meta[dim])


def check(
    meta: Mapping[str, str],
    inputs: Mapping[str, Sequence[int | str | None]],
    outputs: Mapping[str, Sequence[int | str | None]],
    *,
    expected_kind: str | None = None,
    source: str = "model",
) -> Contract:
    """Check a model's metadata and tensor shapes against its contract; return the contract.

    ``inputs``/``outputs`` map tensor names to shapes as ONNX Runtime reports them (ints for fixed axes,
    strings or None for dynamic ones). Raises :class:`ModelContractError` naming every problem found.
    """
    problems: list[str] = []
    kind = meta.get("kind")
    if kind is None:
        raise ModelContractError(f"{source}: metadata has no 'kind'; not an exported model of this project?")
    if kind not in CONTRACTS:
        raise ModelContractError(f"{source}: unknown kind {kind!r} (expected one of {', '.join(CONTRACTS)})")
    if expected_kind is not None and kind != expected_kind:
        raise ModelContractError(f"{source}: is a {kind} model, but a {expected_kind} model is needed here")
    contract = CONTRACTS[kind]

    for key in (*COMMON_KEYS, *contract.required_keys):
        if key not in meta:
            problems.append(f"metadata key '{key}' is missing")
    for key in contract.json_list_keys:
        if key in meta:
            try:
                value = json.loads(meta[key])
                if not (isinstance(value, list) and value and all(isinstance(v, str) for v in value)):
                    problems.append(f"metadata '{key}' must be a non-empty JSON list of names")
            except json.JSONDecodeError:
                problems.append(f"metadata '{key}' is not valid JSON")
    for key in contract.int_keys:
        if key in meta:
            try:
                if int(meta[key]) <= 0:
                    problems.append(f"metadata '{key}' must be a positive integer")
            except ValueError:
                problems.append(f"metadata '{key}' must be an integer, got {meta[key]!r}")
    if problems:
        raise ModelContractError(f"{source}: " + "; ".join(problems))

    for role, specs, actual in (("input", contract.inputs, inputs), ("output", contract.outputs, outputs)):
        names = [s.name for s in specs]
        if sorted(actual) != sorted(names):
            problems.append(f"{role}s are {sorted(actual)}, the {kind} contract wants {names}")
            continue
        for spec in specs:
            shape = list(actual[spec.name])
            if len(shape) != len(spec.shape):
                problems.append(f"{role} '{spec.name}' has rank {len(shape)}, expected {len(spec.shape)}")
                continue
            for axis, (want, got) in enumerate(zip(spec.shape, shape)):
                want_n = _expected_dim(want, meta)
                if want_n is not None and isinstance(got, int) and got != want_n:
                    where = f" (from metadata '{want.lstrip('#')}')" if isinstance(want, str) else ""
                    problems.append(
                        f"{role} '{spec.name}' axis {axis} is {got}, expected {want_n}{where}"
                    )
    if problems:
        raise ModelContractError(f"{source}: " + "; ".join(problems))
    return contract
