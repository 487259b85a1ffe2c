"""The default model pack shipped in assets/models: which file plays which role."""

from __future__ import annotations

import os
from pathlib import Path

# The pack lives in the repository beside the package (an editable install); INSTALLATION_MODELS overrides.
PACK_DIR = Path(os.environ.get("INSTALLATION_MODELS", Path(__file__).resolve().parents[1] / "assets" / "models"))

PACK_FILES = {
    "emotion": "emotion.onnx",
    "generator": "sagan.onnx",
    # SASR x4 blended with its adversarial fine-tune: crisper edges on the wall. sasr_x4.onnx, the
    # PSNR-trained model it starts from, ships beside it for faithful enlargement and the Set5/Set14 benchmark.
    "upscaler": "sasr_x4_wall.onnx",
    "encoder": "encoder.onnx",
    "stylizer": "stylizer_transform.onnx",  # converted from Magenta's arbitrary style transfer (exporters/stylizer.py)
    "style_predictor": "stylizer_predict.onnx",
}


def pack_path(kind: str, folder: str | Path | None = None) -> Path:
    return Path(folder or PACK_DIR) / PACK_FILES[kind]
