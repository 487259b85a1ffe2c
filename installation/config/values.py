"""The value rules every configuration file and the command line share: ONE colour rule, ONE size rule, ONE
seconds rule, with their bounds and exact error texts.

Each rule is a plain parser that raises ``ValueError`` with a one-line message (usable anywhere: the
renderer, the CLI, the holding screen) and, for pydantic models, an ``Annotated`` field type (:data:`Colour`,
:data:`Size`, :data:`Seconds`, :data:`Duration`, :data:`Wait`, :data:`Seed`) that reports the same text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from numbers import Integral
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict
from pydantic_core import PydanticCustomError

from installation.config.issues import clip

# Bounds that make "a show that validates plays" true (docs/show-scripts.md, "Limits"). The CLI uses the same.
MIN_SECONDS = 0.01  # transitions, intervals: below this a value means nothing at any frame rate
MIN_DURATION = 0.05  # a cue: ~1.5 frames at 30 fps; shorter ones are never seen and make seeks slow
MAX_SECONDS = 7 * 24 * 3600.0  # a week: longer waits are a `follow: hold`; keeps show times float32-friendly
MIN_SIDE, MAX_SIDE = 16, 16384  # pixels per side of a display or render (GL's usual maximum texture size)
MAX_PIXELS = 8192 * 4096  # 32 Mpx, 8K UHD fits: a frame buffer of ~128 MiB, with room for the post chain
MAX_SEED = 2**32 - 1  # numpy and torch accept these; negative seeds crash numpy at the second pass
MAX_SCREEN = 31  # monitor index

Rgb = tuple[int, int, int]

_SIZE = re.compile(r"^\s*(\d{1,12})\s*[xX×]\s*(\d{1,12})\s*$")  # longer digit runs are no size
_HEX = re.compile(r"^#([0-9a-fA-F]{6})$")


def custom_error(message: str) -> PydanticCustomError:
    """A validation error whose text is exactly ``message``."""
    return PydanticCustomError("config", "{message}", {"message": message})


def describe(value: Any) -> str:
    """A short, human description of a YAML value for error messages."""
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(clip(str(value)))
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, int) and value.bit_length() > 64:
        return "a number too large to use"  # str() of a huge int is slow, or refused past 4300 digits
    return clip(str(value))


def parse_colour(value: Any) -> Rgb:
    """``"#rrggbb"`` or three whole numbers 0..255 (a list, a tuple, a numpy array) -> ``(r, g, b)``;
    ``ValueError`` otherwise. The one colour rule: the ``#`` is required (in YAML an unquoted ``#`` starts a
    comment, so a colour without it was never what the author meant)."""
    if value is None:
        raise ValueError("empty colour: write it in quotes, e.g. '#ff8800' (an unquoted # starts a YAML comment)")
    if isinstance(value, str):
        m = _HEX.match(value.strip())
        if not m:
            raise ValueError(f"expected a colour '#rrggbb' or [r, g, b], got {describe(value)}")
        h = m.group(1)
        return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)
    if hasattr(value, "tolist") and not isinstance(value, list | tuple):
        value = value.tolist()  # a numpy array (the renderer's callers): plain numbers
    if not isinstance(value, list | tuple) or len(value) != 3:
        raise ValueError(f"expected a colour '#rrggbb' or [r, g, b], got {describe(value)}")
    if all(isinstance(c, Integral) and not isinstance(c, bool) and 0 <= int(c) <= 255 for c in value):

        r, g, b = (int(c) for c in value)
        return r, g, b
    raise ValueError("colour components must be whole numbers 0..255")


def colour_floats(rgb: Rgb) -> tuple[float, float, float]:
    """``(r, g, b)`` in 0..255 -> floats in 0..1 (for shaders and clear colours)."""
    return rgb[0] / 255.0, rgb[1] / 255.0, rgb[2] / 255.0


def size_problem(w: int, h: int) -> str | None:
    """Why ``w`` x ``h`` pixels cannot be drawn (too small, too large a side, too many pixels), or None."""
    if w <= 0 or h <= 0:
        return "width and height must be > 0"
    if w < MIN_SIDE or h < MIN_SIDE:
        return f"width and height must be at least {MIN_SIDE} pixels"
    if w > MAX_SIDE or h > MAX_SIDE:
        return f"width and height must be at most {MAX_SIDE} pixels"
    if w * h > MAX_PIXELS:
        return f"{w}x{h} is {w * h:,} pixels; at most {MAX_PIXELS:,} (8192x4096, 8K UHD fits)"
    return None


def size_from_text(text: str) -> tuple[int, int]:
    """``"WxH"`` -> ``(W, H)`` within the size bounds; ``ValueError`` with a readable message otherwise
    (the command line's ``--size``; :func:`parse_size` is the same rule for a file's value)."""
    m = _SIZE.match(text)
    if not m:
        raise ValueError(f"expected WIDTHxHEIGHT, e.g. 1280x720, got {describe(text)}")
    w, h = int(m.group(1)), int(m.group(2))
    if (problem := size_problem(w, h)) is not None:
        raise ValueError(problem)
    return w, h


def parse_size(value: Any) -> tuple[int, int]:
    """``[W, H]`` or ``"WxH"`` -> ``(W, H)``, each side 16..16384 and at most :data:`MAX_PIXELS` in all;
    ``ValueError`` otherwise."""
    if isinstance(value, str):
        try:
            return size_from_text(value)
        except ValueError as exc:
            raise ValueError(str(exc).replace("WIDTHxHEIGHT", "[width, height] or 'WIDTHxHEIGHT'")) from None
    if (
        isinstance(value, list | tuple)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        w, h = int(value[0]), int(value[1])
    else:
        raise ValueError(f"expected [width, height] or 'WIDTHxHEIGHT', got {describe(value)}")
    if (problem := size_problem(w, h)) is not None:
        raise ValueError(problem)
    return w, h


def check_seed(value: int) -> int:
    """Seeds are fixed numbers 0..2**32-1: the same seed gives the same show in every render."""
    if value < 0:
        raise ValueError("must be >= 0: a seed is a fixed number (the same seed gives the same show); "
                         "-1 for 'random' is not supported, pick any number such as 7")
    if value > MAX_SEED:
        raise ValueError(f"must be <= {MAX_SEED}")
    return value


def seconds_problem(value: float, low: float, zero_ok: bool = False) -> str | None:
    """Why ``value`` seconds is out of bounds (``low``..a week; 0 too when ``zero_ok``), or None.
    The one seconds rule; the CLI states the same bounds as a range (``--seconds: must be 0.01..604800``)."""
    if zero_ok and value == 0:
        return None
    if value <= 0:
        return "must be >= 0" if zero_ok else "must be > 0"
    if value < low:
        return f"must be 0 or at least {low:g} seconds" if zero_ok else f"must be at least {low:g} seconds"
    if value > MAX_SECONDS:
        return f"must be at most {MAX_SECONDS:g} seconds (a week; for longer, `follow: hold`)"
    return None


def field_rule(parse: Callable[[Any], Any], *, before: bool = True) -> BeforeValidator | AfterValidator:
    """A pydantic validator running ``parse``, whose ``ValueError`` text becomes the field's error text exactly."""

    def check(value: Any) -> Any:
        try:
            return parse(value)
        except ValueError as exc:
            raise custom_error(str(exc)) from None

    return BeforeValidator(check) if before else AfterValidator(check)


def bounded_seconds(low: float, zero_ok: bool = False) -> AfterValidator:
    """A field rule: seconds within ``low``..a week (see :func:`seconds_problem`)."""

    def check(value: float) -> float:
        if (problem := seconds_problem(value, low, zero_ok)) is not None:
            raise ValueError(problem)
        return value

    return field_rule(check, before=False)  # type: ignore[return-value]


Colour = Annotated[Rgb, field_rule(parse_colour)]
Size = Annotated[tuple[int, int], field_rule(parse_size)]
Seconds = Annotated[float, bounded_seconds(MIN_SECONDS)]  # transitions, intervals: 0.01 s .. a week
Duration = Annotated[float, bounded_seconds(MIN_DURATION)]  # how long a cue plays: 0.05 s .. a week
Wait = Annotated[float, bounded_seconds(0.0, zero_ok=True)]  # 0 .. a week (linger, min_interval, smoothing)
Seed = Annotated[int, field_rule(check_seed, before=False)]


class StrictModel(BaseModel):
    """Base of every configuration model: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
