"""Transitions are GLSL files in ``shaders/transitions/<name>.glsl``, each defining

    vec4 transition_<name>(vec4 a, vec4 b, float progress, vec2 uv, float seed, vec4 params)

with ``progress`` already eased and strictly inside (0, 1) (the cell shader handles the endpoints).
This module finds them, gives each an id, generates the dispatch the cell shader includes, and turns
named options (``direction="left"``) into the ``params`` vec4. :class:`Transition` is the one value
that describes how a cell (or a whole scene) changes; :meth:`Transition.from_spec` is the one converter
from a show script's transition (the show layer does not import render, so the converter lives here).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Protocol

from installation.render.easing import check_easing
from installation.render.programs import SHADER_DIR

Params = tuple[float, float, float, float]

# Default duration per transition, in seconds; "cut" is instantaneous.
DEFAULT_SECONDS: dict[str, float] = {"cut": 0.0}

_WIPE_DIRECTIONS = {"right": (1.0, 0.0), "left": (-1.0, 0.0), "down": (0.0, 1.0), "up": (0.0, -1.0)}


def _wipe(direction: str | float = "right", softness: float = 0.05) -> Params:
    """direction: right|left|up|down or an angle in degrees (0 = rightwards, 90 = downwards)."""
    if isinstance(direction, str):
        if direction not in _WIPE_DIRECTIONS:
            raise ValueError(f"wipe direction {direction!r}: expected one of {', '.join(_WIPE_DIRECTIONS)} or degrees")
        dx, dy = _WIPE_DIRECTIONS[direction]
    else:
        angle = math.radians(float(direction))
        dx, dy = math.cos(angle), math.sin(angle)
    if not 0.0 <= softness <= 0.5:
        raise ValueError(f"wipe softness {softness}: expected 0..0.5")
    return dx, dy, float(softness), 0.0


def _dissolve(scale: float = 4.0, softness: float = 0.08, spread: float = 0.45) -> Params:
    """scale: noise features across a cell; softness: width of the diffusing front; spread: 0 pure noise,
    1 a clean circle growing from a seeded spot."""
    if scale <= 0:
        raise ValueError(f"dissolve scale {scale}: must be > 0")
    if not 0.0 <= softness <= 0.5:
        raise ValueError(f"dissolve softness {softness}: expected 0..0.5")
    if not 0.0 <= spread <= 1.0:
        raise ValueError(f"dissolve spread {spread}: expected 0..1")
    return float(scale), float(softness), float(spread), 0.0


def _no_options() -> Params:
    return 0.0, 0.0, 0.0, 0.0


# Transitions with options register an encoder here; one without is called with no options.
PARAM_ENCODERS: dict[str, Callable[..., Params]] = {"wipe": _wipe, "dissolve": _dissolve}


@cache
def transition_names() -> tuple[str, ...]:
    """Every transition shader, sorted: the position is the id the cell shader dispatches on."""
    return tuple(sorted(p.stem for p in (SHADER_DIR / "transitions").glob("*.glsl")))


def transition_id(name: str) -> int:
    names = transition_names()
    if name not in names:
        raise ValueError(f"unknown transition {name!r}; expected one of {', '.join(names)}")
    return names.index(name)


def encode_params(name: str, options: Mapping[str, Any] | None = None) -> Params:
    """Options of one transition -> its vec4; unknown options raise TypeError naming them."""
    transition_id(name)
    encoder = PARAM_ENCODERS.get(name, _no_options)
    try:
        return encoder(**dict(options or {}))
    except TypeError as exc:
        raise TypeError(f"transition {name!r}: {exc}") from None


def dispatch_source() -> str:
    """GLSL injected into cell.glsl: the transition files and ``apply_transition``."""
    parts = [f'#include "transitions/{name}.glsl"' for name in transition_names()]
    parts.append("vec4 apply_transition(int id, vec4 a, vec4 b, float progress, vec2 uv, float seed, vec4 params) {")
    for index, name in enumerate(transition_names()):
        parts.append(f"    if (id == {index}) return transition_{name}(a, b, progress, uv, seed, params);")
    parts.append("    return mix(a, b, progress);")
    parts.append("}")
    return "\n".join(parts)


class TransitionSpec(Protocol):
    """What the show layer's transition offers (``installation.show``'s ``Transition``), without importing it."""

    @property
    def type(self) -> str: ...
    @property
    def duration(self) -> float: ...
    @property
    def easing(self) -> str: ...
    @property
    def direction(self) -> str: ...


@dataclass(frozen=True)
class Transition:
    """How a cell changes: which shader, for how long, with which easing and options.

    Validated once on construction; ``id`` and ``params`` (what the shader receives) are computed then too,
    so evaluating a cell every frame does not re-validate its options.
    """

    name: str = "crossfade"
    seconds: float | None = None  # None: DEFAULT_SECONDS or 1.0
    easing: str = "smoothstep"
    options: Mapping[str, Any] = field(default_factory=dict)
    id: int = field(init=False, repr=False, compare=False)
    params: Params = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", transition_id(self.name))
        check_easing(self.easing)
        if self.seconds is not None and self.seconds < 0:
            raise ValueError(f"transition seconds {self.seconds}: must be >= 0")
        object.__setattr__(self, "options", dict(self.options))  # a copy: the caller's dict may change later
        object.__setattr__(self, "params", encode_params(self.name, self.options))

    @classmethod
    def from_spec(cls, spec: TransitionSpec, *, easing: str | None = None) -> Transition:
        """A show script's transition as the renderer's; ``easing`` overrides the script's (the player
        passes "linear" because the timeline has already eased its progress)."""
        options = {"direction": spec.direction} if spec.type == "wipe" else {}
        return cls(spec.type, spec.duration, spec.easing if easing is None else easing, options)

    @property
    def duration(self) -> float:
        return DEFAULT_SECONDS.get(self.name, 1.0) if self.seconds is None else float(self.seconds)
