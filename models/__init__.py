"""PyTorch networks (one architecture per file) and their training entry points.

Importing this package imports torch; the runtime (`installation`) never does.
"""

from models.registry import create_model, list_models, register_model

__all__ = ["create_model", "list_models", "register_model"]
