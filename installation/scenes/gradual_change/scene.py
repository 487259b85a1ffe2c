"""``gradual_change``: a collection revealed one image at a time on a grid (after *Medium . Permeation*).

:class:`RevealPlan` says, as a pure function of the parameters, which image lands in which cell when (in
seconds since the cue started). :class:`GradualChangeScene` feeds that plan to a :class:`GridCompositor`
a few reveals ahead of time, so images decode on the worker thread before they are due and every frame is
a function of show time only.

Pass ``p`` reveals image ``k`` of its order into cell ``k`` (row major) at ``p * period + k * interval``.
The grid is full when the last cell's transition ends; it stays ``linger`` seconds; then ``after_last``:
``hold`` keeps it, ``fade_out`` clears every cell to the background, ``restart`` begins pass ``p + 1`` over
the current images (:meth:`RevealPlan.order`: the same smooth sequence from a new starting point, so later
passes stay gradual; a new shuffle for ``order: random``). The scene is *done* (for ``until: done`` cues)
when the linger ends (``hold``, ``restart``) or the fade has finished.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import moderngl
import numpy as np

from installation.render import GridCompositor, Transition
from installation.scenes.base import Scene, SceneEnv
from installation.scenes.gradual_change.params import GradualChangeParams
from installation.scenes.media import CellFeed

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reveal:
    """Cell ``cell`` changes at cue time ``start`` to ``image`` (None: to the background, for fade_out)."""

    start: float
    cell: int
    image: Path | None
    pass_index: int


def base_order(params: GradualChangeParams) -> list[Path]:
    """The configured order of the collection's images (``gnn``: prepared before the show plays). Files that
    did not decode when the show loaded come last: their cells stay empty and they are retried while the
    show plays, so a file fixed later still takes its place (see installation/scenes/media.py)."""
    return _readable_order(params) + params.skipped


def _readable_order(params: GradualChangeParams) -> list[Path]:
    images = params.images
    if params.order == "random":
        return [images[i] for i in np.random.default_rng(params.seed).permutation(len(images))]
    if params.order == "file":
        by_name = {p.name: p for p in images}
        listed = [by_name[n] for n in dict.fromkeys(params.order_names or []) if n in by_name]
        rest = [p for p in images if p not in set(listed)]
        if rest:
            log.info("order file lists %d of %d images; the other %d follow in name order",
                     len(listed), len(images), len(rest))
        return listed + rest
    prepared = params.computed_order
    if params.order == "gnn" and prepared is not None:
        by_name = {p.name: p for p in images}
        listed = [by_name[n] for n in prepared.names if n in by_name]
        return listed + [p for p in images if p not in set(listed)]
    return list(images)


def layout_cells(params: GradualChangeParams, order: list[Path]) -> list[int]:
    """Cell of each of the first ``rows * cols`` images of ``order``: row major for ``layout: sequence``, the
    similarity layout's cell otherwise (an image the layout did not place takes the first free cell)."""
    cells = params.rows * params.cols
    shown = order[:cells]
    prepared = params.computed_order
    if params.layout != "similarity" or prepared is None:
        return list(range(len(shown)))
    out: list[int] = []
    used: set[int] = set()
    for p in shown:
        c = prepared.cells.get(p.name, -1)
        out.append(c if 0 <= c < cells and c not in used else -1)
        if out[-1] >= 0:
            used.add(c)
    free = iter(c for c in range(cells) if c not in used)
    return [c if c >= 0 else next(free) for c in out]


class RevealPlan:
    """When each cell changes to which image, in cue seconds. Pure: no GL, no clock."""

    def __init__(self, params: GradualChangeParams) -> None:
        # The order is computed by preparation, never by validation. The player prepares every scene before
        # it plays (installation/scenes/prepare.py), so this is a no-op there; a plan built directly (tests,
        # tools) prepares here.
        params.prepare()
        self.params = params
        self.cells = params.rows * params.cols
        self._order0 = base_order(params)
        self._readable = len(self._order0) - len(params.skipped)  # the skipped files come last, in every pass
        self.count = min(self.cells, len(self._order0))  # reveals per pass
        self.interval = float(params.reveal_interval)
        self.transition = Transition.from_spec(params.cell_transition)
        self.seconds = self.transition.duration
        self.full_time = max(0, self.count - 1) * self.interval + self.seconds  # last cell has arrived
        self.linger_end = self.full_time + float(params.linger)
        self.fade_seconds = self.seconds
        # restart: the next pass begins when the linger ends
        self.period = max(self.linger_end, self.interval) if params.after_last == "restart" else math.inf

    @property
    def done_time(self) -> float:
        """When an ``until: done`` cue ends: after the linger, or after the fade for ``fade_out``."""
        if self.params.after_last == "fade_out":
            return self.linger_end + self.fade_seconds
        return self.linger_end

    def order(self, pass_index: int) -> list[Path]:
        """Images of pass ``pass_index``. Pass 0 is the configured order. A later pass of a sequence meant to
        be smooth (``gnn``, ``file``, ``as_is``) walks the same sequence from a starting point seeded by ``seed``
        and the pass, every other pass backwards, wrapping at the end: each painting still differs little from
        the one before (a ``gnn`` order is a loop where that costs little, so the wrap is one of its own steps;
        other sequences may have one seam where their ends meet), and with more images than cells each pass
        shows another stretch. ``order: random`` draws a new shuffle per pass. A pass never repeats
        the one before it nor the first, and every run repeats."""
        if pass_index == 0:
            return self._order0
        rng = np.random.default_rng([self.params.seed, pass_index])
        readable, skipped = self._order0[: self._readable], self._order0[self._readable :]
        if self.params.order == "random" or not readable:
            return [readable[i] for i in rng.permutation(len(readable))] + skipped
        start = int(rng.integers(1, len(readable))) if len(readable) > 1 else 0  # never pass 0's start again
        walk = readable[start:] + readable[:start]
        return (walk[::-1] if pass_index % 2 else walk) + skipped

    def cells_of(self, pass_index: int) -> list[int]:
        """The cell of each of the first ``count`` images of pass ``pass_index``: row major for ``layout:
        sequence``; with ``similarity`` every painting returns to its own cell of the layout."""
        return layout_cells(self.params, self.order(pass_index))  # a few hundred names: cheap, once per reveal

    def reveals(self) -> Iterator[Reveal]:
        """Every change in time order (endless with ``restart``)."""
        if self.count == 0:
            return
        pass_index = 0
        while True:
            order, cells = self.order(pass_index), self.cells_of(pass_index)
            offset = pass_index * self.period if pass_index else 0.0
            for k in range(self.count):
                yield Reveal(offset + k * self.interval, cells[k], order[k], pass_index)
            if self.params.after_last == "fade_out":
                for k in range(self.count):
                    yield Reveal(self.linger_end, cells[k], None, pass_index)
            if self.params.after_last != "restart":
                return
            pass_index += 1

    def superseded_at(self, reveal: Reveal) -> float:
        """Cue time from which ``reveal`` can no longer be seen (the next change on its cell has finished)."""
        if reveal.image is None:
            return math.inf
        if self.params.after_last == "restart":  # when the next pass reveals this cell
            following = self.cells_of(reveal.pass_index + 1)
            if reveal.cell not in following:  # not this pass (a similarity layout over a larger collection)
                return math.inf
            k = following.index(reveal.cell)
            return (reveal.pass_index + 1) * self.period + k * self.interval + self.seconds
        if self.params.after_last == "fade_out":
            return self.linger_end + self.fade_seconds
        return math.inf


class GradualChangeScene(Scene):
    """The grid, fed from a :class:`RevealPlan` ``lookahead`` seconds ahead of time."""

    def __init__(self, env: SceneEnv, params: GradualChangeParams) -> None:
        super().__init__(env, params)
        self.plan = RevealPlan(params)
        self.grid = GridCompositor(env.ctx, env.size, params.rows, params.cols, gap=params.gap, fit=params.fit,
                                   background=env.background, post=env.post)
        self.lookahead = max(2.0, 3.0 * self.plan.interval)
        self._reveals = self.plan.reveals()
        self._next: Reveal | None = next(self._reveals, None)
        self._fade = Transition("crossfade" if self.plan.seconds > 0 else "cut", self.plan.fade_seconds,
                                self.plan.transition.easing)
        self.scheduled = 0
        self.feed = CellFeed(self.grid, env.media, placeholder=self._fade)
        if self.plan.count == 0:
            log.warning("cue %s: the collection %s has no readable images", env.cue_id, params.collection)

    def on_frame(self, t: float, dt: float) -> None:
        super().on_frame(t, dt)
        horizon = t + self.lookahead
        while self._next is not None and self._next.start <= horizon:
            reveal = self._next
            self._next = next(self._reveals, None)
            if self.plan.superseded_at(reveal) <= t:
                continue  # started late (a seek or --start): never visible, not worth decoding
            self._schedule(reveal)
        self.feed.poll(t)

    def _schedule(self, reveal: Reveal) -> None:
        seed = reveal.pass_index * 104729 + reveal.cell * 7919 + 17  # per cell and pass: renders agree
        if reveal.image is None:
            self.feed.forget(reveal.cell)
            self.grid.clear_cell(reveal.cell, transition=self._fade, start_time=reveal.start, seed=seed)
        else:
            self.feed.show(reveal.cell, reveal.image, transition=self.plan.transition, start_time=reveal.start,
                           seed=seed, now=self.t)
        self.scheduled += 1

    @property
    def done_time(self) -> float | None:
        return self.plan.done_time

    def render(self, fbo: moderngl.Framebuffer) -> None:
        self.grid.draw(self.t, fbo)

    def release(self) -> None:
        self.grid.release()
