"""``image``: one still, fitted (contain / cover) with the show background behind, the cue's post chain baked in:
its parameters (the file must read as an image when the show is validated) and its drawing."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import moderngl
from pydantic import ConfigDict, ValidationInfo, field_validator

from installation.collection import IMAGE_SUFFIXES, image_readable
from installation.render import GridCompositor
from installation.scenes.base import Scene, SceneEnv
from installation.scenes.media import CellFeed
from installation.show import SceneParams, SceneProblem, resolve_path


class ImageParams(SceneParams):
    """One still image."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    type: Literal["image"]
    path: Path
    fit: Literal["cover", "contain"] = "contain"

    @field_validator("path", mode="before")
    @classmethod
    def _resolve(cls, value: Any, info: ValidationInfo) -> Path:
        return resolve_path(value, info, "file")

    def inspect(self) -> list[SceneProblem]:
        if self.path.suffix.lower() not in IMAGE_SUFFIXES or not image_readable(self.path):
            return [SceneProblem(("path",), f"not a readable image: {self.path}")]
        return []


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
