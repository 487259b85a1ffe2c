"""Headless backend: an EGL standalone context (no display needed) rendering into an RGBA8 framebuffer."""

from __future__ import annotations

import logging

import moderngl

from installation.render.context.base import ContextUnavailable, RenderContext

log = logging.getLogger(__name__)


class HeadlessContext(RenderContext):
    backend = "headless"

    def __init__(self, size: tuple[int, int]) -> None:
        super().__init__()
        try:
            self.ctx = moderngl.create_standalone_context(require=330, backend="egl")  # type: ignore[arg-type]
        except Exception as exc:  # moderngl raises plain Exception when libEGL or a device is missing
            raise ContextUnavailable(f"cannot create a headless EGL OpenGL 3.3 context: {exc}") from exc
        self.size = (int(size[0]), int(size[1]))
        self.color = self.ctx.texture(self.size, 4)
        self.fbo = self.ctx.framebuffer(color_attachments=[self.color])
        log.debug("headless context %s on %s", self.size, self.ctx.info.get("GL_RENDERER"))

    def begin_frame(self) -> None:
        self.fbo.use()

    def end_frame(self) -> None:
        pass

    def close(self) -> None:
        if getattr(self, "ctx", None) is None:
            return
        self.fbo.release()
        self.color.release()
        self.ctx.release()
        self.ctx = None  # type: ignore[assignment]
