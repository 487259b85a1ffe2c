"""A small text overlay (status lines): text rasterised with cv2.putText into a texture, alpha-blended."""

from __future__ import annotations

import cv2
import moderngl
import numpy as np

from installation.render.programs import load_program, set_uniforms


class TextOverlay:
    """Draws a few lines of text in a corner of a framebuffer. Re-rasterises only when the text changes."""

    def __init__(self, ctx: moderngl.Context, scale: float = 0.5, margin: int = 8) -> None:
        self.ctx = ctx
        self.scale = scale
        self.margin = margin
        self._program = load_program(ctx, "overlay")
        self._vao = ctx.vertex_array(self._program, [])
        self._texture: moderngl.Texture | None = None
        self._lines: tuple[str, ...] = ()

    def _rasterise(self, lines: tuple[str, ...]) -> np.ndarray:
        font, thickness = cv2.FONT_HERSHEY_SIMPLEX, 1
        sizes = [cv2.getTextSize(line or " ", font, self.scale, thickness) for line in lines]
        line_h = max(h + base for (_, h), base in sizes) + 4
        width = max(w for (w, _), _ in sizes) + 12
        height = line_h * len(lines) + 8
        image = np.zeros((height, width, 4), np.uint8)
        image[:, :, 3] = 160  # translucent dark panel behind the text
        for i, line in enumerate(lines):
            y = 4 + line_h * (i + 1) - 4
            cv2.putText(image, line, (6, y), font, self.scale, (255, 255, 255, 255), thickness, cv2.LINE_AA)
        return image

    def draw(self, fbo: moderngl.Framebuffer, lines: list[str]) -> None:
        """Draw ``lines`` at the top-left of ``fbo``."""
        lines_t = tuple(lines)
        if not lines_t:
            return
        if lines_t != self._lines or self._texture is None:
            image = self._rasterise(lines_t)
            if self._texture is not None:
                self._texture.release()
            self._texture = self.ctx.texture((image.shape[1], image.shape[0]), 4, image.tobytes())
            self._lines = lines_t
        fw, fh = fbo.size
        tw, th = self._texture.size
        fbo.use()
        self._texture.use(0)
        # Pixel rect, origin top-left; the shader flips to GL's bottom-up.
        set_uniforms(self._program, u_source=0, u_rect=(float(self.margin), float(self.margin), float(tw), float(th)),
                     u_target=(float(fw), float(fh)))
        self.ctx.enable(moderngl.BLEND)
        self.ctx.blend_func = moderngl.SRC_ALPHA, moderngl.ONE_MINUS_SRC_ALPHA
        self._vao.render(moderngl.TRIANGLE_STRIP, vertices=4)
        self.ctx.disable(moderngl.BLEND)

    def release(self) -> None:
        if self._texture is not None:
            self._texture.release()
        self._vao.release()
        self._program.release()
