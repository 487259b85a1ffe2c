"""Image files that fail while the show plays: skipped, logged once, retried with backoff, shown when back.

A file can be corrupt, truncated, empty, unreadable or gone when a scene wants it (at the cue's start or
in the middle of a long show: someone is copying new files in, a disk is failing, a share dropped).

- :class:`MediaHealth` (one per player process: :func:`default_media`) remembers, per path, that it
  failed, why, and when it may be tried again: 5 s after the first failure, then 10, 20, ... at most
  300 s (``INSTALLATION_MEDIA_RETRY=FIRST,LONGEST`` changes that, e.g. for tests). It logs a file's
  failure once (a warning, and a report to :mod:`installation.faults`, which the kiosk shows), its
  further failures at debug level, and its recovery once.
- :class:`CellFeed` puts files into the cells of a :class:`~installation.render.GridCompositor` for a
  scene. A file that fails is not shown: its cell goes to the background (the calm placeholder; see
  docs/show-scripts.md for why not the next image), and while the cell still wants that file it is
  decoded again when its backoff allows, on the compositor's worker thread like any image, and cuts or
  fades in when it reads. A file already known bad is not decoded again before its time.

Everything here runs on the GL thread, once per frame, and costs a dict lookup when nothing failed.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from installation import faults
from installation.backoff import Backoff

log = logging.getLogger(__name__)

RETRY_ENV = "INSTALLATION_MEDIA_RETRY"
FIRST_RETRY = 5.0
LONGEST_RETRY = 300.0


def retry_settings(text: str | None) -> tuple[float, float]:
    """``"FIRST,LONGEST"`` seconds (from $INSTALLATION_MEDIA_RETRY) -> the backoff; defaults when unset or bad."""
    if text:
        try:
            first, longest = (float(x) for x in text.split(","))
            if 0 < first <= longest:
                return first, longest
        except ValueError:
            pass
        log.warning("%s=%r: expected FIRST,LONGEST seconds (e.g. 5,300); using %g,%g", RETRY_ENV, text,
                    FIRST_RETRY, LONGEST_RETRY)
    return FIRST_RETRY, LONGEST_RETRY


@dataclass
class _Failing:
    backoff: Backoff  # this file's failures in a row
    reason: str
    retry_at: float


class MediaHealth:
    """Per-path failure state with exponential backoff. ``clock`` is injectable (tests)."""

    def __init__(self, first: float = FIRST_RETRY, longest: float = LONGEST_RETRY,
                 clock: Callable[[], float] = time.monotonic,
                 report: Callable[[str, str, str], None] = faults.report) -> None:
        self.first, self.longest, self.clock, self._report = first, longest, clock, report
        self._failing: dict[str, _Failing] = {}
        self.failed_total = 0  # decodes that failed (first failures and retries)
        self.skipped_total = 0  # times a scene wanted a file and did not show it
        self.recovered_total = 0  # files that read again after failing

    def wait(self, path: Path | str) -> float | None:
        """Seconds until ``path`` may be tried again; None when it may be tried now (never failed, or due)."""
        state = self._failing.get(str(path))
        if state is None:
            return None
        left = state.retry_at - self.clock()
        return left if left > 0 else None

    def is_failing(self, path: Path | str) -> bool:
        return str(path) in self._failing

    def failed(self, path: Path | str, reason: str) -> float:
        """``path`` could not be read (``reason``: one line); returns the seconds until its next try."""
        key = str(path)
        state = self._failing.get(key)
        backoff = Backoff(self.first, self.longest) if state is None else state.backoff
        delay = backoff.fail()
        failures = backoff.failures
        self._failing[key] = _Failing(backoff, reason, self.clock() + delay)
        self.failed_total += 1
        if state is None:  # the first failure of this file: once in the log and on /status
            log.warning("image %s skipped: %s; retrying in %g s, then less often (up to every %g s)",
                        key, reason, delay, self.longest)
            self._report("media", f"image {Path(key).name} skipped: {reason} (retrying; {key})", "error")
        else:
            log.debug("image %s still unreadable (%s, try %d); next try in %g s", key, reason, failures, delay)
        return delay

    def skipped(self, path: Path | str) -> None:
        """A scene wanted ``path`` and did not show it (failed now or known bad)."""
        self.skipped_total += 1

    def loaded(self, path: Path | str) -> None:
        """``path`` decoded; if it had failed, say once that it is back."""
        key = str(path)
        state = self._failing.pop(key, None)
        if state is not None:
            self.recovered_total += 1
            log.info("image %s reads again after %d failed tries; showing it", key, state.backoff.failures)
            self._report("media", f"image {Path(key).name} reads again; showing it", "info")

    def snapshot(self, names: int = 5) -> dict[str, Any]:
        """For the kiosk's /status: how many files fail now (and the first few names), running totals."""
        failing = sorted(self._failing)
        return {"failing": len(failing), "failing_files": [Path(p).name for p in failing[:names]],
                "skipped_total": self.skipped_total, "failed_total": self.failed_total,
                "recovered_total": self.recovered_total}


_DEFAULT: MediaHealth | None = None


def default_media() -> MediaHealth:
    """The player process's :class:`MediaHealth` (scenes share it: a bad file is logged once per show)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = MediaHealth(*retry_settings(os.environ.get(RETRY_ENV)))
    return _DEFAULT


@dataclass
class _Want:
    """What a cell should show: ``path`` from ``start`` (None: as soon as it is ready)."""

    path: Path
    transition: Any
    start: float | None
    seed: int | None
    failed: bool = False  # waiting for its retry
    placeholder: bool = False  # the cell has been sent to the background for it


class CellFeed:
    """Files into a compositor's cells, with the failures handled (see the module docstring)."""

    def __init__(self, grid: Any, health: MediaHealth | None = None, *, placeholder: Any = "crossfade") -> None:
        self.grid = grid
        self.health = health or default_media()
        self.placeholder = placeholder  # the transition to the background when a wanted file fails
        grid.results = []  # the compositor hands us decode results instead of logging them
        self._want: dict[int, _Want] = {}
        self._retry: set[int] = set()  # cells whose file failed and is still wanted

    def show(self, cell: int, path: Path, *, transition: Any, start_time: float | None,
             seed: int | None = None, now: float = 0.0) -> bool:
        """``cell`` changes to ``path`` at ``start_time``; False when the file is known bad and not due yet
        (the cell goes to the background and the file is retried when its backoff allows)."""
        want = self._want[cell] = _Want(Path(path), transition, start_time, seed)
        self._retry.discard(cell)
        if self.health.wait(want.path) is not None:
            self.health.skipped(want.path)
            self._fail(cell, want, now)
            return False
        self.grid.set_image(cell, want.path, transition=transition, start_time=start_time, seed=seed)
        return True

    def forget(self, cell: int) -> None:
        """``cell`` no longer wants a file (it is cleared, or the scene moved on): no more retries for it."""
        self._want.pop(cell, None)
        self._retry.discard(cell)

    def poll(self, t: float) -> None:
        """Once per frame before drawing (``t``: the time the compositor is drawn at): note decode results
        and resubmit failed files whose backoff is over."""
        results, self.grid.results = self.grid.results, []
        for cell, source, error in results:
            if not isinstance(source, str | Path):
                continue
            want = self._want.get(cell)
            current = want is not None and want.path == Path(source)
            if error is None:
                self.health.loaded(source)
                if current:
                    assert want is not None  # current implies a want
                    want.failed = want.placeholder = False
                continue
            self.health.failed(source, error)
            self.health.skipped(source)
            if current:
                assert want is not None  # current implies a want
                self._fail(cell, want, t)

        for cell in list(self._retry):
            want = self._want[cell]
            if self.health.wait(want.path) is not None:
                continue
            self._retry.discard(cell)
            want.failed = False
            # A reveal still ahead keeps its time; one whose time has passed comes in when it is ready.
            start = want.start if want.start is not None and want.start > t else None
            self.grid.set_image(cell, want.path, transition=want.transition, start_time=start, seed=want.seed)

    def _fail(self, cell: int, want: _Want, t: float) -> None:
        want.failed = True
        self._retry.add(cell)
        if not want.placeholder:
            # The cell must not go on showing what it had (in a new pass of a grid that would be a
            # duplicate of an image shown elsewhere): the background, when the file was due.
            want.placeholder = True
            start = max(t, want.start) if want.start is not None else t
            self.grid.clear_cell(cell, transition=self.placeholder, start_time=start)

    @property
    def failing_cells(self) -> list[int]:
        return sorted(self._retry)
