"""Argument parsing shared by every command: the one-line parser, bounded numbers, sizes, user errors."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn

from installation import exit_codes

# Bounds of every number on the command line (docs/show-scripts.md, "Limits"); the show schema's come from
# installation/show/fields.py, so `--size` and `display.size`, `--seconds` and a cue's duration agree.
MAX_FPS = 240.0
MAX_COUNT = 100_000  # paintings per `generate`
MAX_FRAMES = 10**9


class UserError(Exception):
    """A mistake the operator can fix: printed as one line, exit 2 (``exit_codes.USAGE``)."""


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line (``error: --fps: ...``) and exit 2, like every other user error."""

    def error(self, message: str) -> NoReturn:
        from installation.config.issues import MAX_MESSAGE_CHARS, clip

        self.exit(exit_codes.USAGE, f"error: {clip(message.removeprefix('argument '), MAX_MESSAGE_CHARS)}\n")


def common_options() -> argparse.ArgumentParser:
    """Options every subcommand accepts too, so ``-v`` works before or after the command name."""
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: a subcommand that is not given -v leaves the top-level value alone
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="debug logging")
    return common


def _plain(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def bounded(kind: type[int] | type[float], low: float, high: float, unit: str = "") -> Callable[[str], float]:
    """An argparse ``type``: a finite ``kind`` within ``low``..``high``, else one readable line."""
    from installation.config.issues import clip

    def parse(text: str) -> float:
        try:
            value = kind(text)  # int() refuses "1e3" and digit runs past 4300; float() takes "nan"
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected {'a whole number' if kind is int else 'a number'}, got {clip(text)!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"expected a finite number, got {clip(text)!r}")
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be {_plain(low)}..{_plain(high)}{unit}, got {clip(text)}")
        return value

    parse.__name__ = kind.__name__  # what argparse calls the type in its own messages
    return parse


def size_type(text: str) -> tuple[int, int]:
    """``--size WxH``: the show schema's size parser and bounds (16..16384 per side, at most 32 Mpx)."""
    from installation.config.values import size_from_text

    try:
        return size_from_text(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def grid_type(text: str) -> str:
    """``--grid ROWSxCOLS``, each 1..100 like a show's rows and cols."""
    from installation.config.issues import clip

    parts = text.lower().split("x")
    if len(parts) != 2 or not all(p.strip().isdigit() and len(p.strip()) <= 3 and 1 <= int(p) <= 100 for p in parts):
        raise argparse.ArgumentTypeError(f"expected ROWSxCOLS, each 1..100, e.g. 14x14, got {clip(text)!r}")
    return text


@dataclass(frozen=True)
class ArgTypes:
    """The argument types every command shares, so ``--fps``, ``--seconds``, ``--size`` mean one thing."""

    fps: Callable[[str], float]
    seconds: Callable[[str], float]
    screen: Callable[[str], float]
    seed: Callable[[str], float]
    size: Callable[[str], tuple[int, int]] = size_type

    @classmethod
    def create(cls) -> ArgTypes:
        from installation.config import values as f  # the show schema's bounds

        return cls(fps=bounded(float, 1, MAX_FPS, " frames per second"),
                   seconds=bounded(float, f.MIN_SECONDS, f.MAX_SECONDS, " seconds"),
                   screen=bounded(int, 0, f.MAX_SCREEN), seed=bounded(int, 0, f.MAX_SEED))


def parse_size_arg(text: str | tuple[int, int] | None) -> tuple[int, int] | None:
    """``"1280x720"`` -> ``(1280, 720)`` within the show schema's size bounds; a parsed size and None pass."""
    if text is None or isinstance(text, tuple):
        return text
    try:
        return size_type(text)
    except argparse.ArgumentTypeError as exc:
        raise UserError(f"--size {text!r}: {exc}") from None


def positive(name: str, value: float | None, allow_zero: bool = False) -> None:
    """Raise :class:`UserError` unless ``value`` is None or a finite number > 0 (>= 0 with ``allow_zero``)."""
    if value is not None and (not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero)):
        raise UserError(f"{name} {value}: must be {'>= 0' if allow_zero else '> 0'}")
