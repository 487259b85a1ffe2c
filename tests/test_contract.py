"""The ONNX contracts: accepted when metadata and shapes agree, rejected with a precise message when not."""
# ruff: noqa: E501  (one parametrised case per line reads best)

from __future__ import annotations

import json

import pytest

from installation.inference.contract import COMMON_KEYS, ModelContractError, check

CLASSES = ["a", "b", "c"]


def generator_meta(**overrides: str) -> dict[str, str]:
    meta = {key: "x" for key in COMMON_KEYS}
    meta.update(kind="generator", classes=json.dumps(CLASSES), latent_dim="16", resolution="64")
    meta.update(overrides)
    return meta


GEN_IN = {"z": ["N", 16], "style": ["N", 3]}
GEN_OUT = {"image": ["N", 3, 64, 64]}


def test_valid_generator_passes() -> None:
    assert check(generator_meta(), GEN_IN, GEN_OUT).kind == "generator"


@pytest.mark.parametrize(
    ("meta", "inputs", "outputs", "message"),
    [
        (generator_meta(latent_dim="32"), GEN_IN, GEN_OUT, "input 'z' axis 1 is 16, expected 32 (from metadata 'latent_dim')"),
        (generator_meta(classes='["a", "b"]'), GEN_IN, GEN_OUT, "input 'style' axis 1 is 3, expected 2 (from metadata 'classes')"),
        (generator_meta(), GEN_IN, {"image": ["N", 3, 32, 32]}, "output 'image' axis 2 is 32, expected 64"),
        (generator_meta(), {"z": ["N", 16]}, GEN_OUT, "inputs are ['z'], the generator contract wants ['z', 'style']"),
        (generator_meta(classes="not json"), GEN_IN, GEN_OUT, "metadata 'classes' is not valid JSON"),
        (generator_meta(classes="[]"), GEN_IN, GEN_OUT, "metadata 'classes' must be a non-empty JSON list of names"),
        (generator_meta(resolution="big"), GEN_IN, GEN_OUT, "metadata 'resolution' must be an integer, got 'big'"),
        ({k: v for k, v in generator_meta().items() if k != "license"}, GEN_IN, GEN_OUT, "metadata key 'license' is missing"),
        (generator_meta(), {"z": ["N", 16, 1], "style": ["N", 3]}, GEN_OUT, "input 'z' has rank 3, expected 2"),
    ],
)
def test_contradictions_are_named(meta, inputs, outputs, message) -> None:
    with pytest.raises(ModelContractError) as err:
        check(meta, inputs, outputs, source="m.onnx")
    assert str(err.value).startswith("m.onnx: ")
    assert message in str(err.value)


def test_kind_problems() -> None:
    with pytest.raises(ModelContractError, match="metadata has no 'kind'"):
        check({}, {}, {}, source="m.onnx")
    with pytest.raises(ModelContractError, match="unknown kind 'painter'"):
        check({"kind": "painter"}, {}, {}, source="m.onnx")
    with pytest.raises(ModelContractError, match="is a generator model, but a upscaler model is needed"):
        check(generator_meta(), GEN_IN, GEN_OUT, expected_kind="upscaler")


def test_dynamic_axes_accept_any_size() -> None:
    meta = {key: "x" for key in COMMON_KEYS} | {"kind": "upscaler", "scale": "4"}
    check(meta, {"image": ["N", 3, "H", "W"]}, {"upscaled": ["N", 3, "H4", "W4"]})
    with pytest.raises(ModelContractError, match="input 'image' axis 1 is 1, expected 3"):
        check(meta, {"image": ["N", 1, "H", "W"]}, {"upscaled": ["N", 3, "H4", "W4"]})
