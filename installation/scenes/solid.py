"""``solid``: one colour over the whole picture (blackouts, pauses, tests)."""

from __future__ import annotations

import moderngl

from installation.render.color import to_unit
from installation.scenes.base import Scene, SceneEnv
from installation.show import SolidParams


class SolidScene(Scene):
    def __init__(self, env: SceneEnv, params: SolidParams) -> None:
        super().__init__(env, params)
        self.colour = to_unit(tuple(params.colour))

    def render(self, fbo: moderngl.Framebuffer) -> None:
        fbo.use()
        fbo.clear(*self.colour, 1.0)
