"""The one timer every benchmark uses: a warm-up call, then ``repeats`` timed calls."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def measure(fn: Callable[[], object], repeats: int) -> dict[str, float]:
    """Median and 95th-percentile milliseconds of ``fn`` over ``repeats`` calls after one warm-up."""
    fn()
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1e3)
    return stats(samples)


def stats(samples_ms: list[float]) -> dict[str, float]:
    s = sorted(samples_ms)
    return {"median_ms": statistics.median(s), "p95_ms": s[min(len(s) - 1, int(0.95 * len(s)))], "n": len(s)}
