"""Every cell's queue of changes, and the record each cell has at show time ``t``. No GL here.

A cell's history starts with its background; each change transitions from the one before it. Changes
whose successor has finished are retired (their texture layers handed back), and a cell whose last change
has finished stops being evaluated until something new is scheduled on it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import count

import numpy as np

from installation.render.easing import ease
from installation.render.records import new_records
from installation.render.textures import ImageSource
from installation.render.transitions import Transition

Unit3 = tuple[float, float, float]

_BACKGROUND = Transition("crossfade", 0.0, "linear")  # a cell's first entry is never transitioned into


@dataclass(eq=False)  # compared by identity: two changes are never "the same"
class Change:
    """One scheduled change of ``cell``: to an image (``layer`` once baked) or to a colour."""

    cell: int
    serial: int
    start: float | None  # None: starts on the frame its image is ready (live shows)
    transition: Transition
    seed: float
    color: Unit3 | None = None
    layer: int | None = None
    pending: bool = False  # image still decoding or uploading
    source: ImageSource | None = None  # the file (or bytes) it shows, for reporting a failed decode

    def sort_key(self) -> tuple[bool, float, int]:
        return (self.start is None, self.start if self.start is not None else 0.0, self.serial)

    def finished(self, t: float) -> bool:
        seconds = self.transition.duration
        return self.start is not None and (seconds <= 0 or t - self.start >= seconds)

    @property
    def layer_value(self) -> float:
        return -1.0 if self.layer is None else float(self.layer)


class CellSchedule:
    """Changes per cell in start order; :meth:`advance` brings the cell records to ``t``."""

    def __init__(self, rects: np.ndarray, background: Unit3) -> None:
        n = len(rects)
        self._rects = rects.astype(np.float32)
        self._serials = count(1)
        self._history = [[Change(i, 0, -math.inf, _BACKGROUND, 0.0, color=background)] for i in range(n)]
        self._changes_per_cell = [0] * n
        self._live: set[int] = set()  # cells whose record may still change with t
        self._by_serial: dict[int, Change] = {}
        # Every cell's record at the last t given to advance().
        self.records = new_records(n)
        self.records["rect"] = self._rects
        self.records["from_layer"] = self.records["to_layer"] = -1.0
        self.records["progress"] = 1.0
        self.records["to_color"] = background

    # ---- scheduling ---------------------------------------------------------------------------------

    def make(self, cell: int, transition: Transition, start: float | None, seed: int | None) -> Change:
        """A new change of ``cell`` (not scheduled until :meth:`add`)."""
        if start is not None and not math.isfinite(start):
            raise ValueError(f"start_time {start}: must be finite")
        self._changes_per_cell[cell] += 1
        # A seed per cell and per change, derived only from the call order: two renders agree.
        cell_seed = seed if seed is not None else cell * 7919 + self._changes_per_cell[cell] * 104729
        return Change(cell, next(self._serials), start, transition, float(cell_seed % 16_000_000))

    def add(self, change: Change) -> None:
        history = self._history[change.cell]
        history.append(change)
        history.sort(key=Change.sort_key)
        self._by_serial[change.serial] = change
        self._live.add(change.cell)

    def holds(self, change: Change) -> bool:
        """Whether ``change`` is still scheduled (not retired, not dropped)."""
        return self._by_serial.get(change.serial) is change

    def pending(self) -> list[Change]:
        """Scheduled changes whose image is not baked yet, in the order they were scheduled."""
        return [change for change in self._by_serial.values() if change.pending]

    def ready(self, change: Change, layer: int, t: float) -> None:
        """``change``'s image is in ``layer``; a live change (no start time) starts now, at ``t``."""
        change.layer = layer
        change.pending = False
        if change.start is None:
            change.start = t
            self._history[change.cell].sort(key=Change.sort_key)

    def remove(self, change: Change) -> int | None:
        """Forget ``change`` (its image could not be loaded); returns the layer it held, if any."""
        history = self._history[change.cell]
        if change in history:
            history.remove(change)
        self._by_serial.pop(change.serial, None)
        return change.layer

    # ---- evaluation ---------------------------------------------------------------------------------

    def records_at(self, t: float) -> tuple[np.ndarray, list[int]]:
        """Every cell's record at ``t`` and the cells waiting for an image due by then; changes nothing."""
        records, waiting, _ = self._evaluate(t, commit=False)
        return records, waiting

    def advance(self, t: float) -> tuple[np.ndarray, list[int]]:
        """Bring the records to ``t`` and retire what can no longer be seen; returns the records and the
        texture layers that are free again."""
        records, _, freed = self._evaluate(t, commit=True)
        self.records = records
        return records, freed

    def _evaluate(self, t: float, commit: bool) -> tuple[np.ndarray, list[int], list[int]]:
        records = self.records.copy()
        waiting: list[int] = []
        freed: list[int] = []
        for cell in sorted(self._live):
            settled = self._record(cell, t, records[cell : cell + 1])
            if settled is None:
                waiting.append(cell)
            elif commit:
                freed += self._retire(cell, settled, t)
        return records, waiting, freed

    def _record(self, cell: int, t: float, out: np.ndarray) -> int | None:
        """Write ``cell``'s record at ``t`` into ``out`` (a one-record view); returns how many leading
        changes are finished history, or None (``out`` untouched) when the change due is not uploaded."""
        history = self._history[cell]
        active = 0
        for i, change in enumerate(history):
            if change.start is not None and change.start <= t:
                active = i
            else:
                break
        change = history[active]
        if change.pending:
            return None
        out[:] = 0
        out["rect"] = self._rects[cell]
        out["to_layer"] = change.layer_value
        out["to_color"] = change.color or (0.0, 0.0, 0.0)
        assert change.start is not None
        elapsed = t - change.start
        seconds = change.transition.duration
        if seconds <= 0.0 or elapsed >= seconds or active == 0:
            # Settled: the record no longer depends on where it came from, so it compares equal later.
            out["from_layer"] = -1.0
            out["progress"] = 1.0
            return active
        previous = history[active - 1]
        out["from_layer"] = previous.layer_value
        out["progress"] = float(ease(change.transition.easing, elapsed / seconds))
        out["kind"] = change.transition.id
        out["seed"] = change.seed
        out["params"] = change.transition.params
        out["from_color"] = previous.color or (0.0, 0.0, 0.0)
        return active - 1

    def _retire(self, cell: int, settled: int, t: float) -> list[int]:
        """Drop changes older than the one a cell is showing or coming from; returns their layers."""
        history = self._history[cell]
        freed = [change.layer for change in history[:settled] if change.layer is not None]
        for change in history[:settled]:
            self._by_serial.pop(change.serial, None)
        del history[:settled]
        if len(history) == 1 and history[0].finished(t):
            self._live.discard(cell)
        return freed
