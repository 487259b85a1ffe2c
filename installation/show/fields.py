"""Shared field types of the show schema: colours, sizes, seconds, transitions, and exact error texts."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

TransitionType = Literal["cut", "crossfade", "dissolve", "wipe"]
Easing = Literal["linear", "ease_in", "ease_out", "ease_in_out", "smoothstep"]
Rgb = tuple[int, int, int]

_SIZE = re.compile(r"^\s*(\d+)\s*[xX×]\s*(\d+)\s*$")
_HEX = re.compile(r"^#([0-9a-fA-F]{6})$")


def custom_error(message: str) -> PydanticCustomError:
    """A validation error whose text is exactly ``message``."""
    return PydanticCustomError("show", "{message}", {"message": message})


def describe(value: Any) -> str:
    """A short, human description of a YAML value for error messages."""
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(str(value))
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return str(value)


def parse_colour(value: Any) -> Rgb:
    """``"#rrggbb"`` or ``[r, g, b]`` (integers 0..255) -> ``(r, g, b)``."""
    if value is None:
        raise custom_error("empty colour: write it in quotes, e.g. '#ff8800' (an unquoted # starts a YAML comment)")
    if isinstance(value, str):
        m = _HEX.match(value.strip())
        if not m:
            raise custom_error(f"expected a colour '#rrggbb' or [r, g, b], got {describe(value)}")
        h = m.group(1)
        return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)
    if isinstance(value, list | tuple) and len(value) == 3:
        if all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255 for c in value):
            return int(value[0]), int(value[1]), int(value[2])
        raise custom_error("colour components must be whole numbers 0..255")
    raise custom_error(f"expected a colour '#rrggbb' or [r, g, b], got {describe(value)}")


def colour_floats(rgb: Rgb) -> tuple[float, float, float]:
    """``(r, g, b)`` in 0..255 -> floats in 0..1 (for shaders)."""
    return rgb[0] / 255.0, rgb[1] / 255.0, rgb[2] / 255.0


def parse_size(value: Any) -> tuple[int, int]:
    """``[W, H]`` or ``"WxH"`` -> ``(W, H)``, both > 0."""
    if isinstance(value, str) and (m := _SIZE.match(value)):
        w, h = int(m.group(1)), int(m.group(2))
    elif (
        isinstance(value, list | tuple)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        w, h = int(value[0]), int(value[1])
    else:
        raise custom_error(f"expected [width, height] or 'WIDTHxHEIGHT', got {describe(value)}")
    if w <= 0 or h <= 0:
        raise custom_error("width and height must be > 0")
    return w, h


Colour = Annotated[Rgb, BeforeValidator(parse_colour)]
Size = Annotated[tuple[int, int], BeforeValidator(parse_size)]
Seconds = Annotated[float, Field(gt=0)]


class StrictModel(BaseModel):
    """Base of every show model: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Transition(StrictModel):
    """How something appears: ``{type, seconds, easing}``; a bare ``crossfade`` means ``{type: crossfade}``."""

    type: TransitionType = "crossfade"
    seconds: Seconds = 1.0
    easing: Easing = "ease_in_out"
    direction: Literal["left", "right", "up", "down"] = "right"  # where a wipe travels to

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return {"type": value} if isinstance(value, str) else value

    @property
    def duration(self) -> float:
        """Seconds the transition lasts: 0 for a cut."""
        return 0.0 if self.type == "cut" else float(self.seconds)
