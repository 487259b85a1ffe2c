"""``installation doctor``: a readable report of what this machine offers the runtime."""

from __future__ import annotations

import platform
import time
from pathlib import Path

from installation.inference.contract import ModelContractError
from installation.inference.encoder import PaintingEncoder
from installation.inference.generator import Generator, Upscaler
from installation.inference.model import OnnxModel
from installation.pack import PACK_DIR, PACK_FILES, pack_path

WRAPPERS: dict[str, type[OnnxModel]] = {
    "generator": Generator, "upscaler": Upscaler, "encoder": PaintingEncoder, "emotion": OnnxModel,
}


def run_doctor(models: str | None = None) -> int:
    import onnxruntime as ort

    print(f"python       {platform.python_version()} on {platform.system()} {platform.machine()}")
    print(f"onnxruntime  {ort.__version__}, providers: {', '.join(ort.get_available_providers())}")
    folder = Path(models) if models else PACK_DIR
    print(f"model pack   {folder}")
    failures = 0
    for kind, name in PACK_FILES.items():
        path = pack_path(kind, folder)
        t0 = time.perf_counter()
        try:
            model = WRAPPERS[kind](path)
            if kind == "emotion" and model.metadata.get("kind") != "emotion":
                raise ModelContractError(f"{path}: is a {model.metadata.get('kind')} model, not an emotion model")
            ms = (time.perf_counter() - t0) * 1e3
            size = path.stat().st_size / 1e6
            print(f"  ok   {kind:9s} {name:14s} {size:5.1f} MB, loads in {ms:4.0f} ms ({model.providers[0]})")
        except ModelContractError as exc:
            failures += 1
            print(f"  FAIL {kind:9s} {exc}")
    print("all models load" if not failures else f"{failures} model(s) missing or invalid")
    return 0 if not failures else 1
