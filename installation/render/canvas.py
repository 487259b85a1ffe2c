"""The composed grid: a persistent framebuffer the cells are drawn into, then copied to the target.

Only cells whose record differs from what the framebuffer shows are redrawn, in one instanced draw of
``shaders/cell.glsl``; a frame with one transitioning cell redraws one cell.
"""

from __future__ import annotations

import moderngl
import numpy as np

from installation.render.programs import load_program, set_uniforms
from installation.render.records import FLOATS, GL_ATTRIBUTES, GL_FORMAT, as_floats
from installation.render.transitions import dispatch_source


class GridCanvas:
    """Draws cell records into the grid framebuffer and presents it (GL thread only)."""

    def __init__(self, ctx: moderngl.Context, target_size: tuple[int, int], cells: int,
                 background: tuple[float, float, float]) -> None:
        self.ctx = ctx
        self.background = background
        tw, th = target_size
        self.texture = ctx.texture((tw, th), 4)
        self.texture.filter = (moderngl.NEAREST, moderngl.NEAREST)
        self.fbo = ctx.framebuffer([self.texture])
        # What the framebuffer shows per cell; NaN never compares equal, so every cell starts "changed".
        self._drawn = np.full((cells, FLOATS), np.nan, np.float32)
        self._program = load_program(ctx, "cell", {"transitions": dispatch_source()})
        set_uniforms(self._program, u_target=(float(tw), float(th)), u_layers=0)
        corners = np.array([0, 0, 1, 0, 0, 1, 1, 1], np.float32)
        self._quad = ctx.buffer(corners.tobytes())
        self._instances = ctx.buffer(reserve=cells * FLOATS * 4, dynamic=True)
        self._vao = ctx.vertex_array(
            self._program,
            [(self._quad, "2f", "in_corner"), (self._instances, GL_FORMAT, *GL_ATTRIBUTES)],
            # A cell shader that ignores an attribute (the compiler drops it) must still bind the rest.
            skip_errors=True,
        )
        self._blit_program = load_program(ctx, "blit")
        self._blit_vao = ctx.vertex_array(self._blit_program, [])

    def changed(self, records: np.ndarray) -> np.ndarray:
        """Indices of the cells whose record differs from what is drawn."""
        return np.flatnonzero(np.any(as_floats(records) != self._drawn, axis=1))

    def draw(self, records: np.ndarray, layers: moderngl.TextureArray, *, full: bool) -> int:
        """Redraw the changed cells (every cell over the background when ``full``); returns how many."""
        self.ctx.disable(moderngl.BLEND | moderngl.DEPTH_TEST | moderngl.CULL_FACE)
        self.fbo.use()
        if full:
            self.fbo.clear(*self.background, 1.0)
            todo = np.arange(len(records))
        else:
            todo = self.changed(records)
        if todo.size:
            rows = as_floats(records)[todo]
            self._instances.orphan()
            self._instances.write(np.ascontiguousarray(rows).tobytes())
            layers.use(0)
            self._vao.render(moderngl.TRIANGLE_STRIP, vertices=4, instances=int(todo.size))
            self._drawn[todo] = rows
        return int(todo.size)

    def present(self, fbo: moderngl.Framebuffer) -> None:
        """Copy the grid to ``fbo``: a blit when sizes match, else a scaled textured pass."""
        if tuple(fbo.size) == tuple(self.fbo.size):
            self.ctx.copy_framebuffer(fbo, self.fbo)
            return
        fbo.use()
        self.texture.use(0)
        set_uniforms(self._blit_program, u_source=0)
        self._blit_vao.render(moderngl.TRIANGLES, vertices=3)

    def release(self) -> None:
        for obj in (self._vao, self._blit_vao, self._instances, self._quad, self._program, self._blit_program,
                    self.fbo, self.texture):
            obj.release()
