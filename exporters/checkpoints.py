"""Finding and describing the PyTorch source of an exported model.

Every export records the sha256 of the checkpoint it came from (``source_checkpoint``). The default pack
also ships slim copies of those checkpoints (weights only) in ``assets/models/checkpoints``, so
``python -m exporters verify`` can rebuild the PyTorch model of any pack file from a fresh clone.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from models.checkpoint import file_sha256, read_checkpoint

REPO = Path(__file__).resolve().parents[1]
SEARCH_DIRS = (REPO / "assets" / "models" / "checkpoints", REPO / "runs")


def find_checkpoint(sha256: str, extra: Sequence[Path] = ()) -> Path | None:
    """The checkpoint with this hash: one of ``extra`` if it matches, else one under the search folders."""
    candidates = list(extra)
    for folder in SEARCH_DIRS:
        if folder.is_dir():
            candidates += sorted(folder.rglob("*.ckpt"))
    for path in candidates:
        if path and path.is_file() and file_sha256(path) == sha256:
            return path
    return None


def slim_checkpoint(src: Path, dst: Path) -> Path:
    """Keep what export needs (name, config, weights, metrics, data) and drop optimiser and RNG state.
    Where the checkpoint has EMA weights they become the weights, so the slim file is a third the size.
    Export the pack from the slim copy: the ONNX file then records the hash of the file that ships."""
    payload: dict[str, Any] = read_checkpoint(src)
    keep = {k: payload[k] for k in ("format", "model_name", "config", "state_dict", "step", "metrics", "data",
                                    "train_seconds", "images_per_source", "labels", "license") if k in payload}
    if payload.get("ema_state_dict"):
        keep["state_dict"] = payload["ema_state_dict"]
    keep["slimmed_from"] = {"sha256": file_sha256(src), "step": payload.get("step")}
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_suffix(dst.suffix + ".tmp")
    torch.save(keep, tmp)
    tmp.replace(dst)
    return dst
