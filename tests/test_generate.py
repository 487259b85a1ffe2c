"""`installation generate`: ONNX-only synthesis, a manifest that regenerates any painting exactly."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from exporters.__main__ import main as exporters_main
from installation.generate import generate_collection
from installation.inference.generator import Generator, Upscaler, to_uint8
from installation.pack import PACK_FILES
from models.checkpoint import save_checkpoint
from models.registry import create_model

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny pack (random weights): a 16 px generator and an x2 upscaler, exported like the real ones."""
    root = tmp_path_factory.mktemp("pack")
    torch.manual_seed(0)
    g = save_checkpoint(root / "g.ckpt", create_model("sagan", resolution=16, g_channels=4, d_channels=4,
                                                      latent_dim=8, classes=("ink", "oil", "pastel")))
    u = save_checkpoint(root / "u.ckpt", create_model("sasr_x2", channels=8, n_groups=1, n_blocks=1))
    assert exporters_main(["sagan", "--checkpoint", str(g), "--out", str(root / "sagan.onnx")]) == 0
    assert exporters_main(["sasr", "--checkpoint", str(u), "--out", str(root / PACK_FILES["upscaler"])]) == 0
    return root


def test_collection_and_manifest_regenerate_exactly(pack: Path, tmp_path: Path) -> None:
    gen, up = Generator(pack / "sagan.onnx"), Upscaler(pack / PACK_FILES["upscaler"])
    manifest = generate_collection(gen, tmp_path, count=7, seed=3, mix=0.5, upscaler=up, batch=3, progress=False)
    files = sorted(p.name for p in tmp_path.glob("*.png"))
    assert files == [f"{i:04d}.png" for i in range(7)]
    assert manifest["resolution"] == 32 and cv2.imread(str(tmp_path / files[0])).shape == (32, 32, 3)
    on_disk = json.loads((tmp_path / "manifest.json").read_text())
    assert on_disk["models"]["generator"]["sha256"] == manifest["models"]["generator"]["sha256"]
    # styles cycle through the classes, and some paintings blend two of them (weights sum to 1)
    styles = [p["style"] for p in on_disk["paintings"]]
    assert [max(s, key=s.get) for s in styles][:3] == ["ink", "oil", "pastel"]
    assert any(len(s) == 2 for s in styles) and all(abs(sum(s.values()) - 1) < 1e-6 for s in styles)
    # painting 5 again, alone, from its manifest entry: identical pixels
    entry = on_disk["paintings"][5]
    img = up.upscale(gen.generate(gen.latents(1, entry["latent_seed"]), gen.mixture(entry["style"])))
    expected = cv2.cvtColor(to_uint8(img)[0], cv2.COLOR_RGB2BGR)
    assert np.array_equal(cv2.imread(str(tmp_path / entry["file"])), expected)


def test_cli_user_errors_are_one_line(pack: Path, tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "installation.cli", "generate", *args], capture_output=True,
                              text=True, cwd=REPO)

    ok = run("--count", "2", "--out", str(tmp_path / "c"), "--models", str(pack), "--styles", "oil")
    assert ok.returncode == 0, ok.stderr
    assert "wrote 2 paintings (32 px)" in ok.stdout
    for args, message in [
        (("--styles", "cubism"), "unknown style(s) cubism"),
        (("--models", str(tmp_path / "none")), "model file not found"),
        (("--count", "0"), "--count must be > 0"),
    ]:
        base = {"--models": str(pack), "--count": "2"}
        base.update(dict(zip(args[::2], args[1::2])))
        proc = run("--out", str(tmp_path / "d"), *[x for kv in base.items() for x in kv])
        assert proc.returncode == 2 and "Traceback" not in proc.stderr
        assert proc.stderr.strip().splitlines()[-1].startswith("error: ") and message in proc.stderr


@pytest.fixture(scope="module")
def tiny_encoder(pack: Path) -> Path:
    """A small style encoder (random weights) for the tiny pack's three styles, exported like the real one."""
    torch.manual_seed(1)
    enc_ckpt = save_checkpoint(pack / "e.ckpt", create_model("painting_encoder", classes=("ink", "oil", "pastel"),
                                                              widths=(4, 8), embedding_dim=8))
    assert exporters_main(["encoder", "--checkpoint", str(enc_ckpt), "--out", str(pack / "encoder.onnx")]) == 0
    return pack / "encoder.onnx"


def test_candidates_keep_the_best_rated_painting(pack: Path, tiny_encoder: Path, tmp_path: Path) -> None:
    from installation.inference.encoder import PaintingEncoder

    gen, enc = Generator(pack / "sagan.onnx"), PaintingEncoder(tiny_encoder)
    out = tmp_path / "picked"
    manifest = generate_collection(gen, out, count=4, seed=3, mix=0.5, encoder=enc, candidates=5, progress=False)
    assert manifest["selection"]["candidates"] == 5
    for i, entry in enumerate(manifest["paintings"]):
        seeds = [3 + j * 4 + i for j in range(5)]  # candidate j of painting i
        assert entry["latent_seed"] in seeds and entry["candidates"] == 5
        weights = np.array([entry["style"].get(c, 0.0) for c in enc.classes])
        scores = [float(enc.encode(list(to_uint8(gen.generate(gen.latents(1, s), gen.mixture(entry["style"])[None]))))
                        .probs[0] @ weights) for s in seeds]
        # the kept one is the best rated, unless that was a near duplicate of a painting kept before
        assert entry["score"] == pytest.approx(scores[seeds.index(entry["latent_seed"])], abs=1e-3)
        assert i > 0 or entry["score"] == pytest.approx(max(scores), abs=1e-3)


def test_diversity_weighs_likeness_to_the_kept_paintings_against_the_rating(tmp_path: Path) -> None:
    """Maximal marginal relevance, on the shipped pack: each painting keeps the candidate with the best rating -
    diversity x its cosine to the nearest painting kept so far (near duplicates and dark borders still passed
    over), and a strong weight changes what is kept."""
    from installation.dark_border import first_without_dark_border
    from installation.generate import NEAR_DUPLICATE_COSINE
    from installation.inference.encoder import PaintingEncoder, unit_rows

    models = REPO / "assets/models"
    gen, enc = Generator(models / "sagan.onnx"), PaintingEncoder(models / "encoder.onnx")
    count, candidates = 7, 4
    picks = {}
    for diversity in (0.0, 2.0):
        manifest = generate_collection(gen, tmp_path / str(diversity), count=count, seed=5, mix=0.3, encoder=enc,
                                       candidates=candidates, diversity=diversity, progress=False)
        assert manifest["selection"]["diversity"] == diversity
        kept: list[np.ndarray] = []
        for i, entry in enumerate(manifest["paintings"]):
            seeds = [5 + j * count + i for j in range(candidates)]
            images = gen.generate(np.concatenate([gen.latents(1, s) for s in seeds]),
                                  np.repeat(gen.mixture(entry["style"])[None], candidates, 0))
            out = enc.encode(list(to_uint8(images)))
            rating = out.probs @ np.array([entry["style"].get(c, 0.0) for c in enc.classes])
            unit = unit_rows(out.embedding)
            nearest = np.max(np.stack(kept) @ unit.T, axis=0) if kept else np.zeros(candidates)
            ranked = [int(k) for k in np.argsort(-(rating - diversity * np.maximum(nearest, 0)), kind="stable")
                      if nearest[k] < NEAR_DUPLICATE_COSINE]
            shown = list(to_uint8(images))
            expected = first_without_dark_border(ranked, shown.__getitem__)
            assert expected is not None and entry["latent_seed"] == seeds[expected], (diversity, i)
            kept.append(unit[expected])
        picks[diversity] = [p["latent_seed"] for p in manifest["paintings"]]
    assert picks[0.0] != picks[2.0]


def test_candidates_inside_a_dark_border_are_passed_over(tmp_path: Path) -> None:
    """The shipped pack: find a painting whose best-rated candidate sits inside a dark border on the wall (the
    generator learned the data's letterbox bars now and then); the selection keeps another, and nothing it
    writes is framed."""
    from helpers.selection import find_framed_favourite

    from installation.dark_border import has_dark_border
    from installation.inference.encoder import PaintingEncoder

    models = REPO / "assets/models"
    gen, enc = Generator(models / "sagan.onnx"), PaintingEncoder(models / "encoder.onnx")
    up = Upscaler(models / PACK_FILES["upscaler"])
    count, candidates, index = 7, 6, 1  # painting 1 of 7, one style each (mix 0): the generator's second style
    mixture = gen.mixture({gen.classes[index]: 1.0})

    def candidate_seeds(seed: int) -> list[int]:  # the latent seeds `generate --candidates` tries for painting 1
        return [seed + j * count + index for j in range(candidates)]

    case = find_framed_favourite(gen, up, enc, mixture,
                                 lambda seed: np.concatenate([gen.latents(1, s) for s in candidate_seeds(seed)]))

    manifest = generate_collection(gen, tmp_path, count=count, seed=case.seed, mix=0.0, upscaler=up, encoder=enc,
                                   candidates=candidates, progress=False)
    assert "dark border" in manifest["selection"]["dark_border"]
    entry = manifest["paintings"][index]
    assert entry["style"] == {gen.classes[index]: 1.0}
    assert entry["latent_seed"] != candidate_seeds(case.seed)[case.favourite]
    for p in manifest["paintings"]:  # nothing on disk sits inside a dark border
        assert not has_dark_border(cv2.cvtColor(cv2.imread(str(tmp_path / p["file"])), cv2.COLOR_BGR2RGB))
