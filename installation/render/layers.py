"""Every cell image in one TEXTURE_2D_ARRAY: layers handed out and back, grown when full, baked into.

One array lets the whole grid draw in one instanced call. A layer is baked once, when its image arrives:
the staging texture goes through the post chain and is copied into the layer on the GPU.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import moderngl

from installation.render.post import PostChain

log = logging.getLogger(__name__)


def layer_dims(cell_size: tuple[int, int], layer_size: int | tuple[int, int] | None) -> tuple[int, int]:
    """Layer (width, height): None matches the cell (sharpest, least memory); an int is the longer side,
    keeping the cell's aspect; a tuple is taken as is."""
    cw, ch = cell_size
    if layer_size is None:
        return max(4, cw), max(4, ch)
    if isinstance(layer_size, tuple):
        return int(layer_size[0]), int(layer_size[1])
    side = int(layer_size)
    aspect = cw / ch
    return (side, max(4, round(side / aspect))) if aspect >= 1 else (max(4, round(side * aspect)), side)


class LayerArray:
    """A texture array of ``count`` RGBA8 layers of ``size`` (GL thread only)."""

    def __init__(self, ctx: moderngl.Context, size: tuple[int, int], count: int) -> None:
        self.ctx = ctx
        self.size = size
        self.count = count
        self.texture = self._new_array(count)
        self._free = list(range(count - 1, -1, -1))  # popped from the end: layer 0 first
        w, h = size
        self._bake_texture = ctx.texture((w, h), 4)
        self._bake_fbo = ctx.framebuffer([self._bake_texture])
        self._pbo = ctx.buffer(reserve=w * h * 4)

    def bake(self, staging: moderngl.Texture, post: PostChain) -> int:
        """Render ``staging`` through ``post`` into a free layer; returns the layer."""
        layer = self._alloc()
        post.apply(staging, self._bake_fbo)
        # GPU to GPU through a pixel buffer: moderngl 5 cannot attach an array layer to a framebuffer.
        self._bake_fbo.read_into(self._pbo, components=4, alignment=1)
        w, h = self.size
        self.texture.write(self._pbo, viewport=(0, 0, layer, w, h, 1), alignment=1)
        return layer

    def free(self, layers: Iterable[int]) -> None:
        self._free.extend(layers)

    def _alloc(self) -> int:
        if not self._free:
            self._grow()
        return self._free.pop()

    def _grow(self) -> None:
        old, old_count = self.texture, self.count
        new_count = old_count * 2
        log.info("texture array full: growing from %d to %d layers", old_count, new_count)
        w, h = self.size
        staging = self.ctx.buffer(reserve=w * h * 4 * old_count)
        old.read_into(staging, alignment=1)
        self.texture = self._new_array(new_count)
        self.texture.write(staging, viewport=(0, 0, 0, w, h, old_count), alignment=1)
        staging.release()
        old.release()
        self._free = list(range(new_count - 1, old_count - 1, -1)) + self._free
        self.count = new_count

    def _new_array(self, layers: int) -> moderngl.TextureArray:
        w, h = self.size
        array = self.ctx.texture_array((w, h, layers), 4)
        array.filter = (moderngl.LINEAR, moderngl.LINEAR)
        array.repeat_x = array.repeat_y = False
        return array

    def release(self) -> None:
        for obj in (self._bake_fbo, self._bake_texture, self._pbo, self.texture):
            obj.release()
