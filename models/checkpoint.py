"""Checkpoint files: one format for every network, so training can resume anywhere and export can
rebuild the network from the file alone.

A checkpoint is a dict saved with ``torch.save``::

    {"format": 1, "model_name": str, "config": dict, "state_dict": ..., "ema_state_dict": ... | None,
     "step": int, "epoch": int, "metrics": dict, "data": dict, "optim": {...}, "rng": {...}}
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from installation.hashing import file_sha256  # noqa: F401  (re-exported for exporters)
from models.registry import config_dict, create_model

FORMAT = 1


class CheckpointError(ValueError):
    """A checkpoint file is missing, unreadable or not one of ours."""


def save_checkpoint(path: str | Path, model: nn.Module, **extra: Any) -> Path:
    """Write atomically (temp file + rename) so a full disk or a kill never leaves half a checkpoint."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": FORMAT,
        "model_name": model.model_name,  # type: ignore[attr-defined]
        "config": config_dict(model),
        "state_dict": model.state_dict(),
        **extra,
    }
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)
    return path


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # torch raises many kinds for a damaged file
        raise CheckpointError(f"{path}: not a readable checkpoint ({type(exc).__name__}: {exc})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT or "model_name" not in payload:
        raise CheckpointError(f"{path}: not a checkpoint written by models.train")
    return payload


def load_model(path: str | Path, *, use_ema: bool = True) -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild the network stored in a checkpoint (its EMA weights when it has them) in eval mode."""
    payload = read_checkpoint(path)
    model = create_model(payload["model_name"], **payload["config"])
    state = payload.get("ema_state_dict") if use_ema and payload.get("ema_state_dict") else payload["state_dict"]
    model.load_state_dict(state)
    model.eval()
    return model, payload
