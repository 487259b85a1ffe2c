"""A small registry of architectures, like timm's: a name maps to a builder taking a config.

Each architecture file defines a config dataclass and registers one builder per named variant with
``@register_model("name")``. Checkpoints store the name and the config, so any checkpoint can rebuild
its network without the code that trained it.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
from collections.abc import Callable
from typing import Any

from torch import nn

_BUILDERS: dict[str, tuple[Callable[..., nn.Module], type]] = {}
# Architecture modules, imported on first use so the registry fills itself.
_MODULES = ("models.sagan", "models.sasr", "models.emotion", "models.encoder", "models.gnn")


def register_model(name: str, config_cls: type) -> Callable:
    """Register ``builder(config) -> nn.Module`` under ``name`` with its config dataclass."""

    def wrap(builder: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        if name in _BUILDERS:
            raise ValueError(f"model {name!r} registered twice")
        _BUILDERS[name] = (builder, config_cls)
        return builder

    return wrap


def _load_all() -> None:
    for module in _MODULES:
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module)


def list_models() -> list[str]:
    _load_all()
    return sorted(_BUILDERS)


def create_model(name: str, **overrides: Any) -> nn.Module:
    """Build a registered model; keyword arguments override fields of its default config."""
    _load_all()
    if name not in _BUILDERS:
        raise KeyError(f"unknown model {name!r}; known: {', '.join(sorted(_BUILDERS))}")
    builder, config_cls = _BUILDERS[name]
    config = config_cls(**overrides)
    model = builder(config)
    model.model_name = name  # type: ignore[attr-defined]
    model.config = config  # type: ignore[attr-defined]
    return model


def config_dict(model: nn.Module) -> dict[str, Any]:
    """The config a registered model was built with, as a plain dict (JSON friendly)."""
    return dataclasses.asdict(model.config)  # type: ignore[attr-defined]
