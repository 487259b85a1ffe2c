"""``latent_walk`` parameters: the schema and the validation-time checks (:meth:`LatentWalkParams.inspect`: the
model pack's contract, the style names the generator must know). The drawing is in
:mod:`installation.scenes.latent_walk.scene`, the walk itself in :mod:`installation.scenes.latent_walk.walk`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, ValidationInfo, field_validator, model_validator

from installation.config import Seed, bounded_seconds, clip, custom_error
from installation.easing import EASINGS
from installation.show import SceneParams, SceneProblem, resolve_path

MAX_STYLES = 64
MAX_SHARES = 8
MAX_AHEAD_KEYFRAMES = 64  # keyframes rendered ahead at most (memory: 192 KiB each at 256 px)
MIN_BLEND = 0.05  # at most 20 keyframes a second to render


class LatentWalkParams(SceneParams):
    """A continuous journey through the generator's space: slerp between seeded latent codes and a path through
    style mixtures, keyframes rendered ahead on a worker and blended on the GPU at display rate."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    type: Literal["latent_walk"]
    styles: list[str] | None = Field(None, min_length=1, max_length=MAX_STYLES)  # None: all of the generator's
    seconds_per_step: Annotated[float, bounded_seconds(0.5)] = 8.0  # waypoint to waypoint
    blend_seconds: Annotated[float, bounded_seconds(MIN_BLEND)] = 0.5  # keyframe spacing = display crossfade
    shares: list[float] = Field(default_factory=lambda: [1.0, 0.7, 0.3], min_length=1, max_length=MAX_SHARES)
    easing: str = "ease_in_out"  # of each step (ease_in_out: the walk slows at every waypoint)
    seed: Seed = 0
    upscale: bool = True
    models: Path | None = None  # model folder (default: the bundled pack)
    fit: Literal["cover", "contain"] = "contain"
    batch: int = Field(4, ge=1, le=32)  # keyframes per generator run
    ahead_seconds: float = Field(4.0, ge=0, le=600)  # render this far ahead (at most 64 keyframes)

    @field_validator("styles", mode="after")
    @classmethod
    def _unique(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and len(set(value)) != len(value):
            raise custom_error("each style may be named once (the path loops back to the first)")
        return value

    @field_validator("shares", mode="after")
    @classmethod
    def _shares(cls, value: list[float]) -> list[float]:
        if any(not 0 < s <= 1 for s in value):
            raise custom_error("each share is the current style's weight, in (0, 1]")
        return value

    @field_validator("easing", mode="after")
    @classmethod
    def _easing(cls, value: str) -> str:
        if value not in EASINGS:
            raise custom_error(f"unknown easing '{clip(value, 40)}'; expected one of {', '.join(EASINGS)}")
        return value

    @field_validator("models", mode="before")
    @classmethod
    def _models(cls, value: Any, info: ValidationInfo) -> Path | None:
        return None if value is None else resolve_path(value, info, "folder")

    @model_validator(mode="after")
    def _pace(self) -> LatentWalkParams:
        if self.blend_seconds > self.seconds_per_step:
            raise ValueError(f"blend_seconds ({self.blend_seconds:g}) must be <= seconds_per_step "
                             f"({self.seconds_per_step:g})")
        return self

    @property
    def ahead_keyframes(self) -> int:
        """Keyframes rendered ahead of the one on screen (at least the next two)."""
        return max(2, min(MAX_AHEAD_KEYFRAMES, math.ceil(self.ahead_seconds / self.blend_seconds)))

    def inspect(self) -> list[SceneProblem]:
        """The generator must load and know the styles; a missing upscaler is a warning (64 px pictures)."""
        from installation.inference.contract import ModelContractError
        from installation.inference.generator import Generator
        from installation.pack import pack_path

        path = pack_path("generator", self.models)
        if not path.is_file():
            return [SceneProblem(("models",), f"model {path} is missing; the scene will show the background",
                                 warning=True)]
        try:
            classes = Generator(path, threads=1).classes
        except ModelContractError as exc:
            return [SceneProblem(("models",), f"{clip(str(exc), 160)}; the scene will show the background",
                                 warning=True)]
        problems = []
        for i, style in enumerate(self.styles or []):
            if style not in classes:
                problems.append(SceneProblem(("styles", i), f"unknown style '{clip(style, 40)}'; the generator "
                                             f"knows {', '.join(classes)}"))
        upscaler = pack_path("upscaler", self.models)
        if self.upscale and not upscaler.is_file():
            problems.append(SceneProblem(("upscale",), f"{upscaler} is missing; the walk plays at the "
                                         "generator's resolution", warning=True))
        return problems
