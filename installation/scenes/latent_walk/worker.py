"""Keyframes of the latent walk, rendered ahead of the display on a worker thread (ONNX Runtime releases the
GIL): generator -> upscaler, in batches aligned on the keyframe index (block ``b`` is always keyframes
``b*batch .. b*batch + batch - 1``, whatever the timing), so the same keyframe comes out of the same
computation on every run. The display never waits for it: it asks for a window and takes what is ready.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import numpy as np

from installation.scenes.latent_walk.walk import WalkPlan

log = logging.getLogger(__name__)

MAX_KEPT = 256  # keyframes held in memory at most (256 px RGB: 192 KiB each)


class KeyframeWorker:
    """Renders the keyframes the display asks for (:meth:`want`), newest window first, into :meth:`take`."""

    def __init__(self, plan: WalkPlan, generator: Any, upscaler: Any = None, batch: int = 4) -> None:
        self.plan, self.generator, self.upscaler = plan, generator, upscaler
        self.batch = max(1, int(batch))
        self._ready: dict[int, np.ndarray] = {}
        self._window = (0, -1)  # keyframes [first, last] wanted now
        self._failed: set[int] = set()  # blocks that raised (not retried until the window moves past them)
        self._cond = threading.Condition()
        self._stop = False
        self.errors = 0
        self.batches = 0
        self.seconds = 0.0  # spent generating and upscaling
        self._thread = threading.Thread(target=self._run, name="latent walk keyframes", daemon=True)
        self._thread.start()

    # ---- the display's side (never blocks, except wait()) -------------------------------------------------

    def want(self, first: int, last: int) -> None:
        """Keyframes ``first..last`` are needed (earlier ones are dropped, except ``first - 1``, the held one)."""
        with self._cond:
            if (first, last) == self._window:
                return
            self._window = (first, last)
            for k in [k for k in self._ready if k < first - 1 or k > last]:
                del self._ready[k]
            self._failed = {b for b in self._failed if (b + 1) * self.batch > first}
            self._cond.notify()

    def take(self, k: int) -> np.ndarray | None:
        """Keyframe ``k`` (RGB uint8 (H, W, 3)) when rendered, else None."""
        with self._cond:
            return self._ready.get(k)

    def ready(self, k: int) -> bool:
        with self._cond:
            return k in self._ready

    def wait(self, ks: list[int], timeout: float) -> bool:
        """Block until every keyframe of ``ks`` is ready (offline renders, tests); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not all(k in self._ready for k in ks):
                left = deadline - time.monotonic()
                if left <= 0 or self._stop:
                    return False
                self._cond.wait(left)
            return True

    # ---- the worker ------------------------------------------------------------------------------------

    def _next_block(self) -> int | None:
        first, last = self._window
        if last < first:
            return None
        for b in range(max(0, first) // self.batch, last // self.batch + 1):
            ks = range(b * self.batch, (b + 1) * self.batch)
            if b not in self._failed and any(first <= k <= last and k not in self._ready for k in ks):
                return b
        return None

    def render_block(self, b: int) -> list[np.ndarray]:
        """Keyframes ``b*batch ..`` of block ``b``: one generator batch, one upscaler batch, uint8 RGB."""
        from installation.inference.generator import to_uint8

        ks = list(range(b * self.batch, (b + 1) * self.batch))
        z, mix = self.plan.keyframe_states(ks)
        images = self.generator.generate(z, mix)
        if self.upscaler is not None:
            images = self.upscaler.upscale(images)
        return list(to_uint8(images))

    def _run(self) -> None:
        while True:
            with self._cond:
                block = None
                while not self._stop and (block := self._next_block()) is None:
                    self._cond.wait()
                if self._stop or block is None:
                    return
                b: int = block
            t0 = time.perf_counter()
            try:
                images = self.render_block(b)
            except Exception:  # a model failure must not end the show: the display holds its last keyframe
                self.errors += 1
                log.exception("latent walk: keyframes %d..%d failed", b * self.batch, (b + 1) * self.batch - 1)
                with self._cond:
                    self._failed.add(b)
                continue
            with self._cond:
                self.seconds += time.perf_counter() - t0
                self.batches += 1
                first, last = self._window
                for i, image in enumerate(images):
                    k = b * self.batch + i
                    if first - 1 <= k <= last and len(self._ready) < MAX_KEPT:
                        self._ready[k] = image
                self._cond.notify_all()

    def stop(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        self._thread.join(timeout)
