"""Exhibition and installation runtime for generative art.

The runtime never imports torch: models run through ONNX Runtime and describe themselves in their
metadata (see :mod:`installation.inference.contract`).
"""

__version__ = "0.1.0"
