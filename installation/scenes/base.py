"""The shape every scene has: show time in (``on_frame``), pixels out (``render``), keys, ``done``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import moderngl

from installation.render import PostSettings
from installation.scenes.media import MediaHealth


@dataclass
class SceneEnv:
    """What a scene gets from the player: the GL context (main thread only), the picture size, the show's
    background, the cue's post chain, which cue start this is (``occurrence``) and the cue's id; ``media``:
    where image files that fail are tracked (None: the process-wide one, installation/scenes/media.py)."""

    ctx: moderngl.Context
    size: tuple[int, int]
    background: tuple[int, int, int] = (0, 0, 0)
    post: PostSettings = field(default_factory=PostSettings)
    occurrence: int = 0
    cue_id: str = ""
    media: MediaHealth | None = None
    # an offline render (``installation render``): a scene may wait for the work that makes its frame exact
    # (keyframes, stylized frames) instead of holding what it has, so the same show gives the same video
    offline: bool = False


class Scene(ABC):
    """One playing cue. Time is injected: ``on_frame(t, dt)`` gets the seconds since the cue started
    (derived from show time, never from a clock), so the same calls give the same pictures."""

    def __init__(self, env: SceneEnv, params: Any) -> None:
        self.env = env
        self.params = params
        self.t = 0.0

    def on_frame(self, t: float, dt: float) -> None:
        """Advance to cue time ``t`` (``dt``: seconds since the previous frame; 0 while paused)."""
        self.t = t

    @abstractmethod
    def render(self, fbo: moderngl.Framebuffer) -> None:
        """Draw the picture at the last ``on_frame`` time into ``fbo`` (the whole framebuffer)."""

    def on_key(self, key: str) -> bool:
        """A key the player did not use; return True when the scene handled it."""
        return False

    @property
    def done_time(self) -> float | None:
        """Cue time at which the scene has finished (for ``until: done`` cues); None: never by itself."""
        return None

    @property
    def done(self) -> bool:
        """True once the scene has finished (its ``done_time`` has come)."""
        end = self.done_time
        return end is not None and self.t >= end

    def health(self) -> dict[str, Any]:
        """Runtime faults this scene is living with, for the kiosk's /status (e.g. ``fallback``, ``camera``)."""
        return {}

    def release(self) -> None:
        """Free GL objects and threads."""
        return None
