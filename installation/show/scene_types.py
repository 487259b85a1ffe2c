"""Scene types as the show layer sees them: the base class of every scene type's parameters and the one
registry of scene types, keyed by the YAML ``type``.

The show layer validates a cue's ``scene:`` through this registry but knows no scene type itself: each
type's parameters live next to its drawing code in :mod:`installation.scenes` (``scenes/<type>``), which
registers them (dependency inversion: show defines the interface, scenes fill it in). So whoever validates
a show imports :mod:`installation.scenes` first, which registers the built-in types; :func:`scene_types`
refuses to answer while nothing is registered, so forgetting it is a loud bug, never "unknown type".

A scene type's parameters are a pydantic model derived from :class:`SceneParams`. Paths resolve relative to
the show file (the loader passes ``context={"base_dir": ...}``). After validation the loader calls
:meth:`SceneParams.inspect` (cheap disk checks: a collection's images, a model's metadata; never an order
computation or a model run) and :meth:`SceneParams.size_problems`. Work that takes long (an order) is the
scene type's ``prepare``, run by the player off the render thread (installation/scenes/prepare.py).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationInfo, model_validator

from installation.config import Loc, custom_error, describe


@dataclass(frozen=True)
class SceneProblem:
    """A problem found by :meth:`SceneParams.inspect`; ``loc`` is relative to the scene mapping."""

    loc: Loc
    message: str
    warning: bool = False


def resolve_path(value: Any, info: ValidationInfo, want: Literal["folder", "file"]) -> Path:
    """Resolve ``value`` against the show file's folder; it must exist and be a ``want``."""
    if not isinstance(value, str) or not value.strip():
        raise custom_error(f"expected a {want} path, got {describe(value)}")
    base = Path((info.context or {}).get("base_dir") or Path.cwd())
    path = Path(os.path.normpath(base / Path(value).expanduser()))
    if want == "folder" and not path.is_dir():
        if path.exists():
            raise custom_error(f"'{value}' is a file, not a folder ({path})")
        raise custom_error(f"folder '{value}' not found (looked for {path})")
    if want == "file" and not path.is_file():
        if path.is_dir():
            raise custom_error(f"'{value}' is a folder, not a file ({path})")
        if path.exists():  # a FIFO or a device is never opened: reading it could block or never end
            raise custom_error(f"'{value}' is not a regular file ({path})")
        raise custom_error(f"file '{value}' not found (looked for {path})")
    return path


class SceneParams(BaseModel):
    """Base of every scene's parameters. As a plain base it accepts any keys; scene types forbid unknown ones."""

    model_config = ConfigDict(extra="allow", allow_inf_nan=False)

    type: str

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return {"type": value} if isinstance(value, str) else value

    def inspect(self) -> list[SceneProblem]:
        """Checks that need the disk, run once after validation. Default: none."""
        return []

    def size_problems(self, size: tuple[int, int]) -> list[SceneProblem]:
        """Why this scene cannot be drawn at ``size`` pixels (a grid that does not fit). Default: none."""
        return []

    @property
    def needs_preparation(self) -> bool:
        """Whether :meth:`prepare` has work to do. Default: no."""
        return False

    def prepare(self, progress: bool = True) -> None:
        """Work the scene needs before it plays that validation must not do (an order to compute); called by
        the player off the render thread, once or more (idempotent, thread-safe). Default: nothing."""
        return None


_REGISTRY: dict[str, type[SceneParams]] = {}


def register_scene(name: str, params: type[SceneParams]) -> type[SceneParams]:
    """Make ``type: name`` valid in show scripts, validated by ``params``. Scene types that also draw register
    through :func:`installation.scenes.register`, which calls this."""
    _REGISTRY[name] = params
    return params


def scene_types() -> dict[str, type[SceneParams]]:
    """Registered scene types, by name. ``RuntimeError`` when there are none: the caller forgot to
    ``import installation.scenes``, and every show would otherwise fail with "unknown scene type"."""
    if not _REGISTRY:
        raise RuntimeError("no scene types are registered: `import installation.scenes` (it registers the "
                           "built-in ones) before validating a show")
    return dict(_REGISTRY)
