"""ONNX Runtime sessions with explicit providers, quiet logs and a bounded thread count.

The GPU build of onnxruntime also runs here on the CPU, with noisy logs; we always choose providers
ourselves (CUDA first where it is really available) and lower ORT's log level.
"""

from __future__ import annotations

import os
from pathlib import Path

import onnxruntime as ort

ort.set_default_logger_severity(3)


def default_providers() -> list[str]:
    wanted = os.environ.get("INSTALLATION_ORT_PROVIDERS")
    available = ort.get_available_providers()
    if wanted:
        return [p for p in wanted.split(",") if p in available] or ["CPUExecutionProvider"]
    order = ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return [p for p in order if p in available]


def create_session(
    model: str | Path | bytes, *, providers: list[str] | None = None, threads: int | None = None
) -> ort.InferenceSession:
    """An inference session; ``threads`` defaults to $INSTALLATION_THREADS or ORT's own choice."""
    options = ort.SessionOptions()
    options.log_severity_level = 3
    threads = threads or int(os.environ.get("INSTALLATION_THREADS", "0"))
    if threads:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    source = model if isinstance(model, bytes) else str(model)
    return ort.InferenceSession(source, sess_options=options, providers=providers or default_providers())


def describe_session(session: ort.InferenceSession) -> dict:
    """Metadata and tensor shapes of a session, as the contract checker wants them."""
    meta = dict(session.get_modelmeta().custom_metadata_map)
    inputs = {i.name: list(i.shape) for i in session.get_inputs()}
    outputs = {o.name: list(o.shape) for o in session.get_outputs()}
    return {"metadata": meta, "inputs": inputs, "outputs": outputs}
