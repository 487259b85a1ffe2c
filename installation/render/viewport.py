"""Drawing one viewport of a larger virtual canvas (a video wall: one display per viewport).

Scenes keep drawing the whole canvas's coordinate system (their size is the canvas size); the target they
draw into only covers the viewport plus a margin, because its GL viewport is the canvas projected so that
the region lands on the framebuffer:

    fbo.viewport = (-region.x, -(canvas_h - region.bottom), canvas_w, canvas_h)

Geometry outside the framebuffer is clipped by the rasteriser, so the fragment work is that of the region,
and each pixel gets exactly the values it gets in a single-canvas render (same positions, same
interpolation). Full-screen passes whose texture is region-sized (the player's transition slots) sample
region coordinates and receive the canvas position of the pixel from :meth:`ViewTarget.uv_rect`.

The margin: ``margin`` canvas pixels are rendered around the viewport and cropped when it is presented, so
an effect that samples neighbours in the region (a screen-space blur or Kuwahara pass of a scene drawing at
region size, the bilinear scale to the display's resolution) reads real picture at the viewport's edge,
never the framebuffer's border: no seam. The default (16 px) covers the widest kernel the renderer has
(Kuwahara radius 12 plus the tensor smoothing). The image post chain (Kuwahara, grade) itself is baked per
image at canvas resolution before projection, so it never sees the viewport's edge at all.
"""

from __future__ import annotations

import moderngl

from installation.render.programs import load_program, set_uniforms


class ViewTarget:
    """The region (viewport + margin) of a ``canvas``-sized picture, presented at ``out_size`` (GL thread only).

    ``view`` and the region are (x, y, width, height) in canvas pixels, origin top-left.
    """

    def __init__(self, ctx: moderngl.Context, canvas: tuple[int, int], view: tuple[int, int, int, int],
                 margin: int, out_size: tuple[int, int]) -> None:
        self.ctx, self.canvas, self.view, self.margin = ctx, (int(canvas[0]), int(canvas[1])), view, int(margin)
        self.out_size = (int(out_size[0]), int(out_size[1]))
        cw, ch = self.canvas
        vx, vy, vw, vh = view
        x0, y0 = max(0, vx - margin), max(0, vy - margin)
        x1, y1 = min(cw, vx + vw + margin), min(ch, vy + vh + margin)
        self.region = (x0, y0, x1 - x0, y1 - y0)
        self.size = (x1 - x0, y1 - y0)
        self.texture = ctx.texture(self.size, 4)
        self.texture.repeat_x = self.texture.repeat_y = False
        same = (vw, vh) == self.out_size
        self.texture.filter = (moderngl.NEAREST, moderngl.NEAREST) if same else (moderngl.LINEAR, moderngl.LINEAR)
        self.fbo = ctx.framebuffer([self.texture])  # projected: scenes draw canvas coordinates into it
        self.project(self.fbo)
        self.plain = ctx.framebuffer([self.texture])  # region coordinates: passes over region-sized textures
        self._program = load_program(ctx, "view_crop")
        self._vao = ctx.vertex_array(self._program, [])

    def project(self, fbo: moderngl.Framebuffer) -> None:
        """Make ``fbo`` (region-sized) show the region when something draws the whole canvas into it."""
        x, y, w, h = self.region
        fbo.viewport = (-x, -(self.canvas[1] - (y + h)), self.canvas[0], self.canvas[1])

    def uv_rect(self) -> tuple[float, float, float, float]:
        """The region in canvas texture coordinates, top-left origin: (u, v, width, height)."""
        x, y, w, h = self.region
        cw, ch = self.canvas
        return x / cw, y / ch, w / cw, h / ch

    def present(self, fbo: moderngl.Framebuffer) -> None:
        """Crop the margin and draw the viewport over the whole of ``fbo`` (scaled when sizes differ)."""
        x, y, w, h = self.region
        vx, vy, vw, vh = self.view
        # texture rows run bottom-up: the viewport's bottom edge sits (region bottom - view bottom) rows up
        rect = ((vx - x) / w, ((y + h) - (vy + vh)) / h, vw / w, vh / h)
        self.ctx.disable(moderngl.BLEND)
        fbo.use()
        self.texture.use(0)
        set_uniforms(self._program, u_source=0, u_rect=rect)
        self._vao.render(moderngl.TRIANGLES, vertices=3)

    def release(self) -> None:
        for obj in (self._vao, self._program, self.fbo, self.plain, self.texture):
            obj.release()
