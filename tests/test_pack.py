"""The committed default pack: every file satisfies its contract, and the trained ones reproduce their
shipped source checkpoints (the same check `python -m exporters verify` prints)."""

from __future__ import annotations

from pathlib import Path

import pytest

from exporters.__main__ import main as exporters_main
from installation.doctor import WRAPPERS
from installation.pack import PACK_DIR, PACK_FILES

TRAINED = ["generator", "upscaler", "encoder", "emotion"]


@pytest.mark.parametrize("kind", list(PACK_FILES))
def test_pack_file_loads_against_its_contract(kind: str) -> None:
    path = PACK_DIR / PACK_FILES[kind]
    assert path.is_file(), f"{path} is missing from the default pack"
    model = WRAPPERS[kind](path)
    assert model.metadata["kind"] == kind
    assert model.metadata["source_checkpoint"] and model.metadata["license"] and model.metadata["training_data"]
    assert path.stat().st_size < 10e6, "pack files stay a few MB at most"


@pytest.mark.parametrize("kind", TRAINED)
def test_trained_pack_file_matches_its_shipped_checkpoint(kind: str, capsys: pytest.CaptureFixture) -> None:
    path: Path = PACK_DIR / PACK_FILES[kind]
    assert exporters_main(["verify", str(path), "--repeats", "1", "--batch", "2"]) == 0
    out = capsys.readouterr().out
    assert "assets/models/checkpoints" in out, "the source checkpoint ships with the pack"
    assert "-> OK (tolerance 0.0001)" in out
