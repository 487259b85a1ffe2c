"""``solid``: one colour over the whole picture (blackouts, pauses, tests): its parameters and its drawing."""

from __future__ import annotations

from typing import Literal

import moderngl
from pydantic import ConfigDict

from installation.config import Colour
from installation.render.color import to_unit
from installation.scenes.base import Scene, SceneEnv
from installation.show import SceneParams


class SolidParams(SceneParams):
    """One colour, full screen (blackouts, tests)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    type: Literal["solid"]
    colour: Colour = (0, 0, 0)


class SolidScene(Scene):
    def __init__(self, env: SceneEnv, params: SolidParams) -> None:
        super().__init__(env, params)
        self.colour = to_unit(params.colour)


    def render(self, fbo: moderngl.Framebuffer) -> None:
        fbo.use()
        fbo.clear(*self.colour, 1.0)
