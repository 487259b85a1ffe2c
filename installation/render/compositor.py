"""The grid compositor: rows x cols cells from one texture array, drawn with one instanced call.

A persistent framebuffer holds the composed grid. Each frame only the cells whose state changed since
they were last drawn (a transition in progress, a new image, a cleared cell) are redrawn into it, then
it is copied to the target. Everything the cells show is a function of the show time ``t`` passed to
:meth:`GridCompositor.draw`; nothing here reads a clock.

Images go through decode (worker thread) -> sliced upload (a few rows a frame) -> post chain bake into
an array layer. A change whose start time has come is finished on that frame, however far the slices
got, so frames stay a pure function of ``t`` even when uploads lag.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import count
from typing import Any

import moderngl
import numpy as np

from installation.render.color import RGB8, ColorLike, parse_color, to_unit
from installation.render.easing import ease
from installation.render.layout import GridLayout
from installation.render.post import PostChain, PostSettings
from installation.render.programs import load_program
from installation.render.textures import ImageLoader, ImageSource, SlicedUploader, check_fit, fit_image, source_name
from installation.render.transitions import Transition, dispatch_source

log = logging.getLogger(__name__)

Cell = int | tuple[int, int]

# Per-instance record, float32: rect(4) layers(2) state(4: progress, id, seed, -) params(4) from(3) to(3).
ROW_FLOATS = 20
_INSTANCE_FORMAT = "4f 2f 4f 4f 3f 3f/i"
_INSTANCE_ATTRS = ("in_rect", "in_layers", "in_state", "in_params", "in_from_color", "in_to_color")


@dataclass
class _Change:
    """One scheduled change of a cell: to an image (``layer`` once baked) or to a colour."""

    serial: int
    start: float | None  # None: starts on the frame its image is ready (live shows)
    seconds: float
    easing: str
    kind: int
    params: tuple[float, float, float, float]
    seed: float
    color: tuple[float, float, float] | None = None
    layer: int | None = None
    pending: bool = False  # image still decoding or uploading
    token: int | None = None  # decode token while decoding
    source: ImageSource | None = None  # the file (or bytes) it shows, for reporting a failed decode

    def sort_key(self) -> tuple[bool, float, int]:
        return (self.start is None, self.start if self.start is not None else 0.0, self.serial)


class GridCompositor:
    """Draws a rows x cols grid of images with per-cell transitions into any framebuffer.

    GL thread only. ``layer_size`` None matches the layers to the cell size in pixels (sharpest, least
    memory); an int gives the longer layer side, keeping the cell's aspect.
    """

    def __init__(
        self,
        ctx: moderngl.Context,
        target_size: tuple[int, int],
        rows: int = 14,
        cols: int = 14,
        *,
        gap: int = 0,
        fit: str = "cover",
        background: ColorLike = (0, 0, 0),
        cell_aspect: float | None = 1.0,
        layer_size: int | tuple[int, int] | None = None,
        post: PostSettings | PostChain | None = None,
        upload_rows_per_frame: int | None = None,
        decode_workers: int = 1,
        spare_layers: int | None = None,
    ) -> None:
        self.ctx = ctx
        self.layout = GridLayout(tuple(target_size), rows, cols, gap, cell_aspect)
        self.fit = check_fit(fit)
        self.background: RGB8 = parse_color(background)
        self.layer_size = self._layer_dims(layer_size)
        self.full_redraw = False
        self.stats = {"cells_drawn": 0, "draw_calls": 0, "bakes": 0}

        self._post_owned = not isinstance(post, PostChain)
        self._post = post if isinstance(post, PostChain) else PostChain(ctx, post)
        self._rects = self.layout.rects.astype(np.float32)
        n = rows * cols
        self._serials = count(1)
        self._history: list[list[_Change]] = [[self._base_change()] for _ in range(n)]
        self._changes_per_cell = [0] * n
        self._live: set[int] = set()  # cells whose state may still change with t
        # _state: every cell's record at the last evaluated t; _drawn: what the grid framebuffer shows.
        self._state = np.zeros((n, ROW_FLOATS), np.float32)
        self._state[:, 0:4] = self._rects
        self._state[:, 4:7] = (-1.0, -1.0, 1.0)
        self._state[:, 17:20] = to_unit(self.background)
        self._drawn = np.full((n, ROW_FLOATS), np.nan, np.float32)
        self._needs_full = True
        self._by_token: dict[int, tuple[int, _Change]] = {}
        self._by_serial: dict[int, tuple[int, _Change]] = {}
        # None: a file that cannot be decoded is logged here and skipped. A list: the owner (a scene that
        # retries files, see installation/scenes/media.py) collects (cell, source, error or None) and logs.
        self.results: list[tuple[int, ImageSource, str | None]] | None = None

        w, h = self.layer_size
        self._layer_count = 2 * n + (max(8, n // 4) if spare_layers is None else spare_layers)
        self._layers = self._new_array(self._layer_count)
        self._free_layers = list(range(self._layer_count - 1, -1, -1))
        self._bake_texture = ctx.texture((w, h), 4)
        self._bake_fbo = ctx.framebuffer([self._bake_texture])
        self._pbo = ctx.buffer(reserve=w * h * 4)
        self._loader = ImageLoader(decode_workers)
        self._uploader = SlicedUploader(ctx, (w, h), upload_rows_per_frame or max(16, h // 4))

        tw, th = self.layout.target_size
        self._grid_texture = ctx.texture((tw, th), 4)
        self._grid_texture.filter = (moderngl.NEAREST, moderngl.NEAREST)
        self._grid_fbo = ctx.framebuffer([self._grid_texture])
        self._program = load_program(ctx, "cell", {"transitions": dispatch_source()})
        self._program["u_target"].value = (float(tw), float(th))
        self._program["u_layers"].value = 0
        corners = np.array([0, 0, 1, 0, 0, 1, 1, 1], np.float32)
        self._quad = ctx.buffer(corners.tobytes())
        self._instances = ctx.buffer(reserve=n * ROW_FLOATS * 4, dynamic=True)
        self._vao = ctx.vertex_array(
            self._program,
            [(self._quad, "2f", "in_corner"), (self._instances, _INSTANCE_FORMAT, *_INSTANCE_ATTRS)],
            # A cell shader that ignores an attribute (the compiler drops it) must still bind the rest.
            skip_errors=True,
        )
        self._blit_program = load_program(ctx, "blit")
        self._blit_vao = ctx.vertex_array(self._blit_program, [])

    # ---- configuration -------------------------------------------------------------------------------

    @property
    def rows(self) -> int:
        return self.layout.rows

    @property
    def cols(self) -> int:
        return self.layout.cols

    @property
    def cell_count(self) -> int:
        return self.layout.rows * self.layout.cols

    @property
    def post(self) -> PostSettings:
        return self._post.settings

    def set_post(self, settings: PostSettings | None) -> None:
        """Post chain for images uploaded from now on (already baked cells keep theirs)."""
        self._post.settings = settings or PostSettings()

    def invalidate(self) -> None:
        """Redraw every cell on the next frame (e.g. after something else drew into the grid)."""
        self._needs_full = True

    def _layer_dims(self, layer_size: int | tuple[int, int] | None) -> tuple[int, int]:
        cw, ch = self.layout.max_cell_size
        if layer_size is None:
            return max(4, cw), max(4, ch)
        if isinstance(layer_size, tuple):
            return int(layer_size[0]), int(layer_size[1])
        side = int(layer_size)
        aspect = cw / ch
        return (side, max(4, round(side / aspect))) if aspect >= 1 else (max(4, round(side * aspect)), side)

    def _new_array(self, layers: int) -> moderngl.TextureArray:
        w, h = self.layer_size
        array = self.ctx.texture_array((w, h, layers), 4)
        array.filter = (moderngl.LINEAR, moderngl.LINEAR)
        array.repeat_x = array.repeat_y = False
        return array

    def _base_change(self) -> _Change:
        return _Change(0, -math.inf, 0.0, "linear", 0, (0.0, 0.0, 0.0, 0.0), 0.0, color=to_unit(self.background))

    # ---- scheduling ------------------------------------------------------------------------------------

    def set_image(
        self,
        cell: Cell,
        image: np.ndarray | ImageSource,
        *,
        transition: str | Transition = "crossfade",
        seconds: float | None = None,
        easing: str | None = None,
        start_time: float | None = None,
        options: Mapping[str, Any] | None = None,
        fit: str | None = None,
        seed: int | None = None,
    ) -> None:
        """Schedule ``cell`` to change to ``image`` from ``start_time`` (show seconds).

        ``image``: RGB/RGBA/gray uint8 array (fitted now, on this thread) or a path / encoded bytes
        (decoded on the worker; an unreadable file is logged and the cell keeps its image). With
        ``start_time`` None the transition starts on the frame its upload completes (live shows only;
        offline renders pass a time to stay deterministic). ``seconds``/``easing``/``options`` override
        those of a :class:`Transition`.
        """
        index = self.layout.index(cell)
        change = self._make_change(index, transition, seconds, easing, start_time, options, seed)
        cell_fit = check_fit(fit or self.fit)
        change.pending = True
        if isinstance(image, np.ndarray):
            self._uploader.push(change.serial, fit_image(image, self.layer_size, cell_fit, self.background))
        else:
            change.token = self._loader.submit(image, self.layer_size, cell_fit, self.background)
            change.source = image
            self._by_token[change.token] = (index, change)
        self._add(index, change)

    def clear_cell(
        self,
        cell: Cell,
        color: ColorLike | None = None,
        *,
        transition: str | Transition = "crossfade",
        seconds: float | None = None,
        easing: str | None = None,
        start_time: float | None = None,
        options: Mapping[str, Any] | None = None,
        seed: int | None = None,
    ) -> None:
        """Schedule ``cell`` to change to a flat ``color`` (default: the background)."""
        index = self.layout.index(cell)
        if start_time is None:
            raise ValueError("clear_cell needs a start_time (nothing to wait for)")
        change = self._make_change(index, transition, seconds, easing, start_time, options, seed)
        change.color = to_unit(parse_color(self.background if color is None else color))
        self._add(index, change)

    def clear(self, color: ColorLike | None = None, *, start_time: float, **kwargs: Any) -> None:
        """:meth:`clear_cell` for every cell (same transition and start)."""
        for index in range(self.cell_count):
            self.clear_cell(index, color, start_time=start_time, **kwargs)

    def _make_change(
        self,
        index: int,
        transition: str | Transition,
        seconds: float | None,
        easing: str | None,
        start_time: float | None,
        options: Mapping[str, Any] | None,
        seed: int | None,
    ) -> _Change:
        spec = transition if isinstance(transition, Transition) else Transition(transition)
        if seconds is not None or easing is not None or options is not None:
            spec = Transition(
                spec.name,
                spec.seconds if seconds is None else seconds,
                spec.easing if easing is None else easing,
                spec.options if options is None else options,
            )
        if start_time is not None and not math.isfinite(start_time):
            raise ValueError(f"start_time {start_time}: must be finite")
        serial = next(self._serials)
        self._changes_per_cell[index] += 1
        # A seed per cell and per change, derived only from the call order: two renders agree.
        cell_seed = seed if seed is not None else index * 7919 + self._changes_per_cell[index] * 104729
        return _Change(
            serial, start_time, spec.duration, spec.easing, spec.id, spec.params, float(cell_seed % 16_000_000)
        )

    def _add(self, index: int, change: _Change) -> None:
        history = self._history[index]
        history.append(change)
        history.sort(key=_Change.sort_key)
        self._by_serial[change.serial] = (index, change)
        self._live.add(index)

    # ---- uploads --------------------------------------------------------------------------------------

    @property
    def uploads_pending(self) -> int:
        """Images still decoding or uploading."""
        return sum(1 for _, change in self._by_serial.values() if change.pending)

    def flush_uploads(self, t: float = 0.0) -> None:
        """Decode, upload and bake everything scheduled so far, now (offline renders, benchmarks).
        Changes scheduled with ``start_time=None`` start at ``t``."""
        for index, change in list(self._by_serial.values()):
            if change.pending:
                self._complete(index, change, t)

    def _advance_uploads(self, t: float) -> None:
        for token, pixels in self._loader.poll():
            entry = self._by_token.pop(token, None)
            if entry is None:
                continue
            index, change = entry
            change.token = None
            if self._decoded(index, change, token, pixels):
                self._uploader.push(change.serial, pixels)
        # Changes due by t are finished now, whatever the slices did: frames depend on t only.
        for index, change in list(self._by_serial.values()):
            if change.pending and change.start is not None and change.start <= t:
                self._complete(index, change, t)
        for serial, texture in self._uploader.pump():
            entry = self._by_serial.get(serial)
            if entry is None:
                self._uploader.release(texture)
                continue
            self._bake(entry[0], entry[1], texture, t)

    def _complete(self, index: int, change: _Change, t: float) -> None:
        if change.token is not None:
            self._by_token.pop(change.token, None)
            token, change.token = change.token, None
            pixels = self._loader.wait(token)
            if not self._decoded(index, change, token, pixels):
                return
            self._uploader.push(change.serial, pixels)
        texture = self._uploader.finish(change.serial)
        if texture is not None:
            self._bake(index, change, texture, t)

    def _decoded(self, index: int, change: _Change, token: int, pixels: object) -> bool:
        """Note a finished decode; a failed one is dropped (the cell keeps what it had) and reported."""
        error = self._loader.take_error(token) if pixels is None else None
        if self.results is not None and change.source is not None:
            self.results.append((index, change.source, None if pixels is not None else error or "unreadable"))
        if pixels is not None:
            return True
        if self.results is None:
            log.warning("skipping image %s: %s", source_name(change.source or b""), error or "unreadable")
        self._drop(index, change)
        return False

    def _bake(self, index: int, change: _Change, staging: moderngl.Texture, t: float) -> None:
        layer = self._alloc_layer()
        self._post.apply(staging, self._bake_fbo)
        # GPU to GPU through a pixel buffer: moderngl 5 cannot attach an array layer to a framebuffer.
        self._bake_fbo.read_into(self._pbo, components=4, alignment=1)
        w, h = self.layer_size
        self._layers.write(self._pbo, viewport=(0, 0, layer, w, h, 1), alignment=1)
        self._uploader.release(staging)
        change.layer = layer
        change.pending = False
        self.stats["bakes"] += 1
        if change.start is None:
            change.start = t
            self._history[index].sort(key=_Change.sort_key)

    def _drop(self, index: int, change: _Change) -> None:
        """Forget a change whose image could not be loaded: the cell keeps what it had."""
        history = self._history[index]
        if change in history:
            history.remove(change)
        self._by_serial.pop(change.serial, None)
        self._uploader.discard(change.serial)
        if change.layer is not None:
            self._free_layers.append(change.layer)

    def _alloc_layer(self) -> int:
        if not self._free_layers:
            self._grow_layers()
        return self._free_layers.pop()

    def _grow_layers(self) -> None:
        old, old_count = self._layers, self._layer_count
        new_count = old_count * 2
        log.info("texture array full: growing from %d to %d layers", old_count, new_count)
        w, h = self.layer_size
        staging = self.ctx.buffer(reserve=w * h * 4 * old_count)
        old.read_into(staging, alignment=1)
        self._layers = self._new_array(new_count)
        self._layers.write(staging, viewport=(0, 0, 0, w, h, old_count), alignment=1)
        staging.release()
        old.release()
        self._free_layers = list(range(new_count - 1, old_count - 1, -1)) + self._free_layers
        self._layer_count = new_count

    # ---- evaluation -----------------------------------------------------------------------------------

    def _row(self, index: int, t: float) -> tuple[np.ndarray | None, int]:
        """Instance record of ``index`` at ``t`` and how many leading changes are finished history.
        None when the change due at ``t`` is not uploaded yet."""
        history = self._history[index]
        active = 0
        for i, change in enumerate(history):
            if change.start is not None and change.start <= t:
                active = i
            else:
                break
        change = history[active]
        if change.pending:
            return None, 0
        row = np.zeros(ROW_FLOATS, np.float32)
        row[0:4] = self._rects[index]
        elapsed = t - change.start
        if change.seconds <= 0.0 or elapsed >= change.seconds or active == 0:
            # Settled: the record no longer depends on where it came from, so it compares equal later.
            row[4:6] = (-1.0, _layer_value(change))
            row[6] = 1.0
            row[17:20] = change.color or (0.0, 0.0, 0.0)
            return row, active
        previous = history[active - 1]
        row[4:6] = (_layer_value(previous), _layer_value(change))
        row[6:10] = (float(ease(change.easing, elapsed / change.seconds)), change.kind, change.seed, 0.0)
        row[10:14] = change.params
        row[14:17] = previous.color or (0.0, 0.0, 0.0)
        row[17:20] = change.color or (0.0, 0.0, 0.0)
        return row, active - 1

    def _evaluate(self, t: float, commit: bool) -> tuple[np.ndarray, list[int]]:
        rows = self._state.copy()
        waiting = []
        for index in sorted(self._live):
            row, settled = self._row(index, t)
            if row is None:
                waiting.append(index)
                continue
            rows[index] = row
            if commit:
                self._retire(index, settled, t)
        if commit:
            self._state = rows
        return rows, waiting

    def _retire(self, index: int, settled: int, t: float) -> None:
        """Drop changes older than the one a cell is showing or coming from, freeing their layers."""
        history = self._history[index]
        for change in history[:settled]:
            if change.layer is not None:
                self._free_layers.append(change.layer)
            self._by_serial.pop(change.serial, None)
        del history[:settled]
        head = history[0]
        if len(history) == 1 and head.start is not None and (head.seconds <= 0 or t - head.start >= head.seconds):
            self._live.discard(index)

    def cells_dirty(self, t: float) -> list[int]:
        """Cells that :meth:`draw` at ``t`` would redraw (all of them when a full redraw is due)."""
        if self._needs_full or self.full_redraw:
            return list(range(self.cell_count))
        rows, waiting = self._evaluate(t, commit=False)
        changed = np.flatnonzero(np.any(rows != self._drawn, axis=1))
        return sorted(set(changed.tolist()) | set(waiting))

    # ---- drawing ----------------------------------------------------------------------------------------

    def draw(self, t: float, fbo: moderngl.Framebuffer | None = None) -> int:
        """Bring the grid to show time ``t`` and copy it to ``fbo`` (None: leave it in :attr:`texture`).
        Returns how many cells were redrawn."""
        self._advance_uploads(t)
        rows, _ = self._evaluate(t, commit=True)
        full = self._needs_full or self.full_redraw
        self.ctx.disable(moderngl.BLEND | moderngl.DEPTH_TEST | moderngl.CULL_FACE)
        self._grid_fbo.use()
        if full:
            self._grid_fbo.clear(*to_unit(self.background), 1.0)
            todo = np.arange(self.cell_count)
        else:
            todo = np.flatnonzero(np.any(rows != self._drawn, axis=1))
        if todo.size:
            data = np.ascontiguousarray(rows[todo])
            self._instances.orphan()
            self._instances.write(data.tobytes())
            self._layers.use(0)
            self._vao.render(moderngl.TRIANGLE_STRIP, vertices=4, instances=int(todo.size))
            self._drawn[todo] = rows[todo]
            self.stats["draw_calls"] += 1
            self.stats["cells_drawn"] += int(todo.size)
        self._needs_full = False
        if fbo is not None:
            self.present(fbo)
        return int(todo.size)

    @property
    def texture(self) -> moderngl.Texture:
        """The persistent grid (texel row 0 = bottom of the picture, as any GL framebuffer)."""
        return self._grid_texture

    def present(self, fbo: moderngl.Framebuffer) -> None:
        """Copy the composed grid to ``fbo``: a blit when sizes match, else a scaled textured pass."""
        if tuple(fbo.size) == tuple(self._grid_fbo.size):
            self.ctx.copy_framebuffer(fbo, self._grid_fbo)
            return
        fbo.use()
        self._grid_texture.use(0)
        self._blit_program["u_source"].value = 0
        self._blit_vao.render(moderngl.TRIANGLES, vertices=3)

    def release(self) -> None:
        self._loader.close()
        self._uploader.release_all()
        for obj in (
            self._vao,
            self._blit_vao,
            self._instances,
            self._quad,
            self._program,
            self._blit_program,
            self._grid_fbo,
            self._grid_texture,
            self._bake_fbo,
            self._bake_texture,
            self._pbo,
            self._layers,
        ):
            obj.release()
        if self._post_owned:
            self._post.release()


def _layer_value(change: _Change) -> float:
    return -1.0 if change.layer is None else float(change.layer)
