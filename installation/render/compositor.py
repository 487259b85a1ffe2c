"""The grid compositor: rows x cols cells from one texture array, drawn with one instanced call.

It ties four parts together, each with one job:

- :class:`~installation.render.schedule.CellSchedule`: the changes queued on each cell and every cell's
  record at show time ``t`` (no GL);
- :class:`~installation.render.uploads.ImageUploads`: decode (worker thread) and sliced upload;
- :class:`~installation.render.layers.LayerArray`: the texture array the images are baked into;
- :class:`~installation.render.canvas.GridCanvas`: the persistent framebuffer, redrawn where records changed.

Everything the cells show is a function of the ``t`` passed to :meth:`GridCompositor.draw`; nothing here
reads a clock. A change whose start time has come is finished on that frame, however far its upload got.
"""

from __future__ import annotations

import logging

import moderngl
import numpy as np

from installation.render.canvas import GridCanvas
from installation.render.color import RGB8, ColorLike, parse_color, to_unit
from installation.render.layers import LayerArray, layer_dims
from installation.render.layout import GridLayout
from installation.render.post import PostChain, PostSettings
from installation.render.schedule import CellSchedule, Change
from installation.render.textures import ImageSource, check_fit, fit_image, source_name
from installation.render.transitions import Transition
from installation.render.uploads import ImageUploads

log = logging.getLogger(__name__)

Cell = int | tuple[int, int]


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
        self.layout = GridLayout((int(target_size[0]), int(target_size[1])), rows, cols, gap, cell_aspect)
        self.fit = check_fit(fit)
        self.background: RGB8 = parse_color(background)
        self.layer_size = layer_dims(self.layout.max_cell_size, layer_size)
        self.full_redraw = False
        self.stats = {"cells_drawn": 0, "draw_calls": 0, "bakes": 0}
        # None: a file that cannot be decoded is logged here and skipped. A list: the owner (a scene that
        # retries files, see installation/scenes/media.py) collects (cell, source, error or None) and logs.
        self.results: list[tuple[int, ImageSource, str | None]] | None = None

        n = rows * cols
        self._post_owned = not isinstance(post, PostChain)
        self._post = post if isinstance(post, PostChain) else PostChain(ctx, post)
        self._schedule = CellSchedule(self.layout.rects, to_unit(self.background))
        # Two layers a cell (the image and the one it comes from) and some spare for queued changes.
        spare = max(8, n // 4) if spare_layers is None else spare_layers
        self._layers = LayerArray(ctx, self.layer_size, 2 * n + spare)
        self._uploads: ImageUploads[Change] = ImageUploads(
            ctx, self.layer_size, rows_per_frame=upload_rows_per_frame or max(16, self.layer_size[1] // 4),
            decode_workers=decode_workers, on_decoded=self._decoded)
        self._canvas = GridCanvas(ctx, self.layout.target_size, n, to_unit(self.background))
        self._needs_full = True

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

    # ---- scheduling ------------------------------------------------------------------------------------

    def set_image(
        self,
        cell: Cell,
        image: np.ndarray | ImageSource,
        *,
        transition: Transition | str = "crossfade",
        start_time: float | None = None,
        fit: str | None = None,
        seed: int | None = None,
    ) -> None:
        """Schedule ``cell`` to change to ``image`` from ``start_time`` (show seconds).

        ``image``: RGB/RGBA/gray uint8 array (fitted now, on this thread) or a path / encoded bytes
        (decoded on the worker; an unreadable file is logged and the cell keeps its image). With
        ``start_time`` None the transition starts on the frame its upload completes (live shows only;
        offline renders pass a time to stay deterministic). A bare name is ``Transition(name)``.
        """
        index = self.layout.index(cell)
        change = self._schedule.make(index, _transition(transition), start_time, seed)
        cell_fit = check_fit(fit or self.fit)
        change.pending = True
        if isinstance(image, np.ndarray):
            self._uploads.add_pixels(change, fit_image(image, self.layer_size, cell_fit, self.background))
        else:
            change.source = image
            self._uploads.add_source(change, image, cell_fit, self.background)
        self._schedule.add(change)

    def clear_cell(
        self,
        cell: Cell,
        color: ColorLike | None = None,
        *,
        transition: Transition | str = "crossfade",
        start_time: float | None = None,
        seed: int | None = None,
    ) -> None:
        """Schedule ``cell`` to change to a flat ``color`` (default: the background)."""
        index = self.layout.index(cell)
        if start_time is None:
            raise ValueError("clear_cell needs a start_time (nothing to wait for)")
        change = self._schedule.make(index, _transition(transition), start_time, seed)
        change.color = to_unit(parse_color(self.background if color is None else color))
        self._schedule.add(change)

    def clear(
        self,
        color: ColorLike | None = None,
        *,
        start_time: float,
        transition: Transition | str = "crossfade",
        seed: int | None = None,
    ) -> None:
        """:meth:`clear_cell` for every cell (same transition and start)."""
        for index in range(self.cell_count):
            self.clear_cell(index, color, transition=transition, start_time=start_time, seed=seed)

    # ---- uploads --------------------------------------------------------------------------------------

    @property
    def uploads_pending(self) -> int:
        """Images still decoding or uploading."""
        return len(self._schedule.pending())

    def flush_uploads(self, t: float = 0.0) -> None:
        """Decode, upload and bake everything scheduled so far, now (offline renders, benchmarks).
        Changes scheduled with ``start_time=None`` start at ``t``."""
        for change in self._schedule.pending():
            self._finish_upload(change, t)

    def _advance_uploads(self, t: float) -> None:
        self._uploads.take_decoded()
        # Changes due by t are finished now, whatever the slices did: frames depend on t only.
        for change in self._schedule.pending():
            if change.start is not None and change.start <= t:
                self._finish_upload(change, t)
        for change, staging in self._uploads.pump():
            if self._schedule.holds(change):
                self._bake(change, staging, t)
            else:  # retired or dropped meanwhile
                self._uploads.release(staging)

    def _finish_upload(self, change: Change, t: float) -> None:
        staging = self._uploads.finish(change)
        if staging is not None:
            self._bake(change, staging, t)

    def _decoded(self, change: Change, error: str | None) -> None:
        """Note a finished decode; a failed one is dropped (the cell keeps what it had) and reported."""
        if self.results is not None and change.source is not None:
            self.results.append((change.cell, change.source, error))
        if error is None:
            return
        if self.results is None:
            log.warning("skipping image %s: %s", source_name(change.source or b""), error)
        layer = self._schedule.remove(change)
        self._uploads.discard(change)
        if layer is not None:
            self._layers.free([layer])

    def _bake(self, change: Change, staging: moderngl.Texture, t: float) -> None:
        layer = self._layers.bake(staging, self._post)
        self._uploads.release(staging)
        self._schedule.ready(change, layer, t)
        self.stats["bakes"] += 1

    # ---- drawing ----------------------------------------------------------------------------------------

    def cells_dirty(self, t: float) -> list[int]:
        """Cells that :meth:`draw` at ``t`` would redraw (all of them when a full redraw is due)."""
        if self._needs_full or self.full_redraw:
            return list(range(self.cell_count))
        records, waiting = self._schedule.records_at(t)
        return sorted(set(self._canvas.changed(records).tolist()) | set(waiting))

    def draw(self, t: float, fbo: moderngl.Framebuffer | None = None) -> int:
        """Bring the grid to show time ``t`` and copy it to ``fbo`` (None: leave it in :attr:`texture`).
        Returns how many cells were redrawn."""
        self._advance_uploads(t)
        records, freed = self._schedule.advance(t)
        self._layers.free(freed)
        drawn = self._canvas.draw(records, self._layers.texture, full=self._needs_full or self.full_redraw)
        if drawn:
            self.stats["draw_calls"] += 1
            self.stats["cells_drawn"] += drawn
        self._needs_full = False
        if fbo is not None:
            self.present(fbo)
        return drawn

    @property
    def texture(self) -> moderngl.Texture:
        """The persistent grid (texel row 0 = bottom of the picture, as any GL framebuffer)."""
        return self._canvas.texture

    def present(self, fbo: moderngl.Framebuffer) -> None:
        """Copy the composed grid to ``fbo``: a blit when sizes match, else a scaled textured pass."""
        self._canvas.present(fbo)

    def release(self) -> None:
        self._uploads.close()
        self._canvas.release()
        self._layers.release()
        if self._post_owned:
            self._post.release()


def _transition(value: Transition | str) -> Transition:
    return value if isinstance(value, Transition) else Transition(value)
