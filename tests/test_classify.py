"""``installation classify``: the pack's encoder (real ONNX Runtime session) on real images: a painting's own
near-duplicate (smaller, JPEG-recompressed) ranks first among a collection; the collection's embeddings are
cached by content hash in the ordering features' cache; JSON output; bad input is one line and exit 2."""

from __future__ import annotations

import json
import os
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import PACK, SHARED_DATA

from installation import exit_codes
from installation.cli import main
from installation.inference.encoder import PaintingEncoder
from installation.ordering.features import cache_file
from installation.ordering.lookup import embed_collection, embed_images, lookup


def near_duplicate(src: Path, out: Path, scale: float = 0.7, quality: int = 55) -> Path:
    img = cv2.imread(str(src))
    h, w = img.shape[:2]
    small = cv2.resize(img, (max(8, round(w * scale)), max(8, round(h * scale))), interpolation=cv2.INTER_AREA)
    cv2.imwrite(str(out), small, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return out


@pytest.fixture(scope="module")
def collection(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Real photographs (scikit-image's samples), several crops of each: near neighbours that are not duplicates."""
    from skimage import data as skdata

    folder = tmp_path_factory.mktemp("collection")
    rng = np.random.default_rng(1)
    for name in ("astronaut", "chelsea", "coffee", "rocket", "immunohistochemistry", "hubble_deep_field"):
        img = getattr(skdata, name)()
        h, w = img.shape[:2]
        for i in range(4):
            side = int(min(h, w) * rng.uniform(0.55, 0.9))
            y, x = rng.integers(0, h - side + 1), rng.integers(0, w - side + 1)
            crop = np.ascontiguousarray(img[y : y + side, x : x + side])
            cv2.imwrite(str(folder / f"{name}_{i}.png"), cv2.cvtColor(crop, cv2.COLOR_RGB2BGR))
    return folder


def classify(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["classify", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_near_duplicate_ranks_first(collection: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    queries = [near_duplicate(collection / f"{n}_1.png", tmp_path / f"q_{n}.jpg")
               for n in ("chelsea", "rocket", "coffee")]
    code, out, err = classify(capsys, *map(str, queries), "--collection", str(collection), "--top", "3", "--json")
    assert code == exit_codes.OK, err
    data = json.loads(out)
    assert data["collection_size"] == 24 and len(data["results"]) == 3
    for query, result in zip(queries, data["results"]):
        assert result["image"] == str(query)
        name = query.stem.removeprefix("q_")
        assert Path(result["nearest"][0]["painting"]).name == f"{name}_1.png", result["nearest"]
        assert len(result["nearest"]) == 3 and result["nearest"][0]["similarity"] > result["nearest"][1]["similarity"]
        probs = list(result["styles"].values())
        assert probs == sorted(probs, reverse=True) and abs(sum(probs) - 1) < 1e-3
        assert result["style"] == next(iter(result["styles"]))
        assert set(result["styles"]) == set(PaintingEncoder(PACK / "encoder.onnx", threads=1).classes)


def test_collection_embeddings_are_cached_by_content(collection: Path, tmp_path: Path) -> None:
    import shutil

    folder = tmp_path / "c"
    shutil.copytree(collection, folder)
    noise = np.random.default_rng(int.from_bytes(os.urandom(8), "little")).integers(0, 255, (40, 40, 3), np.uint8)
    cv2.imwrite(str(folder / "unique.png"), noise)  # content never seen before: the cache (kept across runs) misses
    images = sorted(folder.glob("*.png"))
    encoder = PaintingEncoder(PACK / "encoder.onnx", threads=1)
    first = embed_collection(images, encoder, PACK / "encoder.onnx")
    assert not first.cached and cache_file("embeddings", first.content_hash).is_file()
    again = embed_collection(images, encoder, PACK / "encoder.onnx")
    assert again.cached and again.content_hash == first.content_hash
    assert np.array_equal(again.embedding, first.embedding) and [p.name for p in again.paths] == \
        [p.name for p in first.paths]
    near_duplicate(images[0], images[0].with_suffix(".png"), scale=0.5)  # the same name, other bytes
    changed = embed_collection(images, encoder, PACK / "encoder.onnx")
    assert not changed.cached and changed.content_hash != first.content_hash


def test_embeddings_are_unit_length_and_batched(collection: Path) -> None:
    encoder = PaintingEncoder(PACK / "encoder.onnx", threads=1)
    images = sorted(collection.glob("*.png"))[:7]
    small = embed_images(images, encoder, batch=2)
    whole = embed_images(images, encoder, batch=32)
    assert np.allclose(np.linalg.norm(small.embedding, axis=1), 1, atol=1e-5)
    assert np.allclose(small.embedding, whole.embedding, atol=1e-4)
    results = lookup(small, whole, top=500)  # bounded
    assert len(results[0].nearest) == 7 and results[3].nearest[0].path == images[3]


def test_bad_input_is_one_line_and_exit_2(collection: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 not a jpeg at all")
    huge = tmp_path / "huge.png"  # a header claiming 100000 x 100000 px: refused before decoding
    huge.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + (100000).to_bytes(4, "big") * 2
                     + b"\x08\x02\x00\x00\x00" + b"\x00" * 4)
    good = collection / "coffee_0.png"
    code, out, err = classify(capsys, str(good), str(bad), str(huge), str(tmp_path / "missing.png"))
    assert code == exit_codes.USAGE
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 3 and "Traceback" not in err
    assert any("missing.png" in line and "no such file" in line for line in lines)
    assert any("broken.jpg" in line for line in lines) and any("huge.png" in line for line in lines)
    assert "coffee_0.png" in out  # the good image is still answered
    for args in (["--top", "0"], ["--collection", str(tmp_path / "nowhere")], ["--models", str(tmp_path)]):
        code, out, err = classify(capsys, str(good), *args)
        assert code == exit_codes.USAGE and err.count("\n") == 1 and err.startswith("error: "), err


@pytest.mark.shared_data
def test_real_paintings_near_duplicates_rank_first(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    paintings = sorted((SHARED_DATA / "paintings").glob("*/*.jpg"))
    if not paintings:
        pytest.skip("no paintings in the shared data")
    folder = tmp_path / "collection"
    folder.mkdir()
    chosen = [paintings[i] for i in np.random.default_rng(0).choice(len(paintings), 60, replace=False)]
    for i, src in enumerate(chosen):
        shutil.copy(src, folder / f"{i:02d}_{src.parent.name}.jpg")
    queries = [near_duplicate(p, tmp_path / f"q{p.stem}.jpg", 0.6, 50) for p in sorted(folder.iterdir())[::6]]
    code, out, err = classify(capsys, *map(str, queries), "--collection", str(folder), "--top", "1", "--json")
    assert code == exit_codes.OK, err
    for query, result in zip(queries, json.loads(out)["results"]):
        assert Path(result["nearest"][0]["painting"]).stem == query.stem[1:]
