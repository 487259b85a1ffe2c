"""Exponential backoff: how long to wait before the next try after failures in a row.

One rule for everything that retries (the kiosk restarting a player, an image file that fails to read, a
camera that drops): the delay doubles with each failure in a row, from ``first`` up to ``longest``, and
a success starts over. This module imports nothing from ``installation``: every layer may use it.
"""

from __future__ import annotations


class Backoff:
    """Counts failures in a row; :meth:`fail` returns the seconds to wait before the next try.

    The n-th failure in a row waits ``first * 2**(n - 1 - free)``, at most ``longest``; the first ``free``
    failures wait nothing (the kiosk restarts a lone crash at once: every second of it is black on the
    wall, and only a crash loop should slow down).
    """

    def __init__(self, first: float, longest: float, *, free: int = 0) -> None:
        self.first, self.longest, self.free = float(first), float(longest), int(free)
        self.failures = 0

    def fail(self) -> float:
        """Count one more failure in a row; the delay before the next try."""
        self.failures += 1
        return self.delay(self.failures)

    def delay(self, failures: int) -> float:
        """The delay after ``failures`` failures in a row (without counting one)."""
        doublings = failures - 1 - self.free
        if doublings < 0:
            return 0.0
        # capped exponent: weeks of retries (thousands of failures) must not overflow a float
        return min(self.longest, self.first * 2.0 ** min(doublings, 64))

    def reset(self) -> None:
        """A success: the next failure waits ``first`` again (or nothing, with ``free``)."""
        self.failures = 0
