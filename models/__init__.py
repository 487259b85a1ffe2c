"""PyTorch networks (one architecture per file) and their training entry points.

``models.create_model`` and the registry import torch (on first use: importing this package itself does not, so
torch-free tools such as ``exporters/tools/keras_reference.py`` can use :mod:`models.fer_import`); the runtime
(``installation``) never imports ``models``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["create_model", "list_models", "register_model"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from models import registry

        return getattr(registry, name)
    raise AttributeError(f"module 'models' has no attribute {name!r}")
