"""``image``: one still, fitted (contain / cover) with the show background behind, the cue's post chain baked in."""

from __future__ import annotations

import moderngl

from installation.render import GridCompositor
from installation.scenes.base import Scene, SceneEnv
from installation.scenes.media import CellFeed
from installation.show import ImageParams


class ImageScene(Scene):
    def __init__(self, env: SceneEnv, params: ImageParams) -> None:
        super().__init__(env, params)
        # A 1x1 grid stretched to the picture: decode off-thread, fit, post bake and letterboxing for free.
        self.grid = GridCompositor(env.ctx, env.size, 1, 1, fit=params.fit, background=env.background,
                                   cell_aspect=None, post=env.post, spare_layers=1)
        # A still that fails to read leaves the background and is retried; it cuts in when it reads again.
        self.feed = CellFeed(self.grid, env.media, placeholder="cut")
        self.feed.show(0, params.path, transition="cut", start_time=0.0)

    def on_frame(self, t: float, dt: float) -> None:
        super().on_frame(t, dt)
        self.feed.poll(t)

    def render(self, fbo: moderngl.Framebuffer) -> None:
        self.grid.draw(self.t, fbo)

    def release(self) -> None:
        self.grid.release()
