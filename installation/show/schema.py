"""The show-script schema (version 1): display, defaults, cues and post-processing steps.

A cue's ``scene`` is validated through the scene-type registry (:mod:`installation.show.scene_types`; each
type's parameters live with its code in :mod:`installation.scenes`); shared value rules (colours, sizes,
seconds) come from :mod:`installation.config`. Every model forbids unknown keys. After loading, each
:class:`Cue` is complete: ``id``, ``transition``, ``post`` and ``duration`` are filled in from ``defaults``
(see :func:`installation.show.load.load_show`).
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, PrivateAttr, SerializeAsAny, field_validator, model_validator

from installation.config import (
    MAX_SCREEN,
    Colour,
    ConfigIssue,
    Duration,
    Seconds,
    Size,
    StrictModel,
    custom_error,
    describe,
)
from installation.show.scene_types import SceneParams
from installation.show.wall import Wall

SHOW_VERSION = 1
FollowKind = Literal["next", "hold", "loop", "goto"]
_CUE_ID = re.compile(r"^[A-Za-z0-9_.-]+$")
MAX_CUE_ID = 64  # characters: ids appear in logs, OSC replies and /status
MAX_CUES = 10_000  # a cue list longer than this is a generated file gone wrong
MAX_POST_STEPS = 8  # the renderer keeps one Kuwahara and one grade; more is a mistake

TransitionType = Literal["cut", "crossfade", "dissolve", "wipe"]
Easing = Literal["linear", "ease_in", "ease_out", "ease_in_out", "smoothstep"]


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


class Kuwahara(StrictModel):
    """Anisotropic Kuwahara painterly filter."""

    type: Literal["kuwahara"]
    # the renderer draws sharpness 1..12 and anisotropy 0.05..10 and clamps beyond, with a warning
    # (installation/scenes/post.py); the upper bounds here only keep absurd numbers out of a show
    radius: int = Field(4, ge=1, le=12)
    sharpness: float = Field(8.0, gt=0, le=100)
    anisotropy: float = Field(1.0, gt=0, le=100)


class Grade(StrictModel):
    """Colour grading: exposure in stops, contrast and saturation as factors (1 = unchanged), a tint."""

    type: Literal["grade"]
    exposure: float = Field(0.0, ge=-10, le=10)  # the renderer clamps to -8..8 and saturation to 0..4
    contrast: float = Field(1.0, ge=0, le=10)
    saturation: float = Field(1.0, ge=0, le=10)
    tint: Colour = (255, 255, 255)
    tint_amount: float = Field(0.0, ge=0, le=1)


PostStep = Annotated[Kuwahara | Grade, Field(discriminator="type")]
POST_STEP_TYPES = ("kuwahara", "grade")


class Display(StrictModel):
    """Where and how the show is drawn. ``size`` ``None`` means the screen's own size."""

    screen: int = Field(default=0, ge=0, le=MAX_SCREEN)  # default= by name: mypy sees no positional default

    size: Size | None = None
    fullscreen: bool = True
    vsync: bool = True
    background: Colour = (0, 0, 0)


class Defaults(StrictModel):
    """Values a cue gets when it does not set them itself."""

    transition: Transition = Field(default_factory=Transition)
    duration: Duration | None = None
    post: list[PostStep] = Field(default_factory=list, max_length=MAX_POST_STEPS)


def parse_follow(value: Any) -> str:
    """``next | hold | loop | goto:<cue id>`` -> the same text, normalised (``goto: x`` -> ``goto:x``)."""
    if not isinstance(value, str):
        raise custom_error(f"expected one of: next, hold, loop, goto:<cue id>; got {describe(value)}")
    text = value.strip()
    if text in ("next", "hold", "loop"):
        return text
    if text.startswith("goto"):
        target = text[4:].lstrip().removeprefix(":").strip()
        if not target:
            raise custom_error("goto needs a cue id, e.g. 'goto:intro'")
        return f"goto:{target}"
    close = difflib.get_close_matches(text, ["next", "hold", "loop", "goto"], n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    raise custom_error(f"expected one of: next, hold, loop, goto:<cue id>; got {describe(value)}{hint}")


def parse_cue_id(value: Any) -> Any:
    """Cue ids are text; a bare number (``id: 3``) is read as the text ``"3"``."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, str) and not _CUE_ID.match(value):
        raise custom_error(f"cue ids use letters, digits, '_', '-' and '.', got {describe(value)}")
    if isinstance(value, str) and len(value) > MAX_CUE_ID:
        raise custom_error(f"cue ids have at most {MAX_CUE_ID} characters, got {describe(value)}")
    return value


class Cue(StrictModel):
    """One entry of the cue list: a scene, how long it plays, how it comes in and what follows it."""

    id: Annotated[str, BeforeValidator(parse_cue_id)] | None = None
    scene: SerializeAsAny[SceneParams]
    duration: Duration | None = None
    until: Literal["done"] | None = None
    transition: Transition | None = None
    follow: Annotated[str, BeforeValidator(parse_follow)] = "next"
    post: list[PostStep] | None = Field(None, max_length=MAX_POST_STEPS)

    @property
    def follow_kind(self) -> FollowKind:
        """``next``, ``hold``, ``loop`` or ``goto``."""
        return "goto" if self.follow.startswith("goto:") else self.follow  # type: ignore[return-value]

    @property
    def follow_target(self) -> str | None:
        """The cue id of a ``goto:<id>`` follow, else ``None``."""
        return self.follow[5:] if self.follow.startswith("goto:") else None

    @property
    def until_done(self) -> bool:
        """True when the cue ends when its scene reports done, not after a duration."""
        return self.until == "done"


class Show(StrictModel):
    """A validated show. Load one with :func:`installation.show.load_show`."""

    version: int
    name: str | None = Field(None, max_length=200)  # a window title, not a text
    display: Display = Field(default_factory=Display)
    defaults: Defaults = Field(default_factory=Defaults)
    cues: list[Cue] = Field(min_length=1, max_length=MAX_CUES)
    wall: Wall | None = None  # several displays, one canvas, a shared epoch (installation/show/wall.py)

    _path: Path | None = PrivateAttr(default=None)
    _base_dir: Path | None = PrivateAttr(default=None)
    _warnings: list[ConfigIssue] = PrivateAttr(default_factory=list)

    @field_validator("version", mode="after")
    @classmethod
    def _supported(cls, value: int) -> int:
        if value != SHOW_VERSION:
            raise custom_error(f"unsupported version {value} (this runtime reads version {SHOW_VERSION})")
        return value

    @property
    def path(self) -> Path | None:
        """The show file, when loaded from one."""
        return self._path

    @property
    def base_dir(self) -> Path | None:
        """The folder its relative paths were resolved against (usually the show file's folder)."""
        return self._base_dir

    @property
    def warnings(self) -> list[ConfigIssue]:
        """Problems that do not stop the show (for example unreadable images that were skipped)."""
        return self._warnings

    @property
    def cue_ids(self) -> list[str]:
        """Cue ids in cue-list order."""
        return [c.id or "" for c in self.cues]

    def index_of(self, cue_id: str) -> int:
        """Position of the cue ``cue_id`` in the cue list (``KeyError`` when there is none)."""
        for i, cue in enumerate(self.cues):
            if cue.id == cue_id:
                return i
        raise KeyError(f"no cue with id '{cue_id}'")
