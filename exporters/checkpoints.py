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

from models.checkpoint import CheckpointError, file_sha256, read_checkpoint

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
    return write_payload(keep, dst)


def write_payload(payload: dict[str, Any], dst: Path) -> Path:
    """Save a checkpoint payload through a temporary file, so a full disk never leaves half a checkpoint."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_suffix(dst.suffix + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(dst)
    return dst


def interpolate_checkpoints(base: Path, other: Path, alpha: float, dst: Path) -> Path:
    """Network interpolation (Wang et al. 2018, ESRGAN): weights ``(1 - alpha) * base + alpha * other``.

    Two models fine-tuned from one another (a PSNR-trained upscaler and its adversarial fine-tune) blend
    smoothly: each ``alpha`` is a point on the trade between fidelity and detail, and blending damps the
    artefacts either end alone carries. Writes a slim checkpoint with ``other``'s name, config and data,
    plus the recipe (both sources' sha256 and ``alpha``), so ``verify`` and the model card can say how.
    """
    if not 0.0 <= alpha <= 1.0:
        raise CheckpointError(f"--alpha {alpha} is outside 0..1")
    a, b = read_checkpoint(base), read_checkpoint(other)
    if a["model_name"] != b["model_name"] or a["config"] != b["config"]:
        raise CheckpointError(f"{base} ({a['model_name']}) and {other} ({b['model_name']}) are not the same "
                              "architecture; only fine-tunes of one model can be interpolated")
    weights_a = a.get("ema_state_dict") or a["state_dict"]
    weights_b = b.get("ema_state_dict") or b["state_dict"]
    if weights_a.keys() != weights_b.keys():
        raise CheckpointError(f"{base} and {other} hold different weights")
    blended = {k: torch.lerp(v, weights_b[k], alpha) if v.is_floating_point() else weights_b[k]
               for k, v in weights_a.items()}
    payload: dict[str, Any] = {k: b[k] for k in ("format", "model_name", "config", "step", "train_seconds")
                               if k in b}
    payload["state_dict"] = blended
    payload["metrics"] = {}  # neither source's metrics describe the blend; measure it
    payload["data"] = {**b.get("data", {}), "interpolation": {
        "alpha": alpha, "base": {"sha256": file_sha256(base), "step": a.get("step")},
        "other": {"sha256": file_sha256(other), "step": b.get("step")}}}
    return write_payload(payload, dst)
