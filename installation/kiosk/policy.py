"""The failure policy: when a player that went down comes back, and when the kiosk gives up on the show.

- A lone failure is restarted at once (each second of it is black on the wall); the n-th in a row waits
  ``backoff_base * 2**(n-2)`` seconds, at most ``backoff_max`` (installation/backoff.py), so a crash loop
  cannot spin. A player up for ``stable_seconds`` starts the count over.
- ``max_failures`` failures within ``failure_window`` seconds: *safe mode*, the holding screen instead of
  the show. Every ``safe_retry`` seconds the show is tried again (a *trial*); a failure during the trial
  goes straight back to the holding screen, a trial player up for ``stable_seconds`` ends safe mode.

Pure state and arithmetic on the monotonic clock: the supervisor acts on the answers.
"""

from __future__ import annotations

from collections import deque

from installation.backoff import Backoff
from installation.kiosk.config import KioskConfig


class FailurePolicy:
    def __init__(self, config: KioskConfig) -> None:
        self.config = config
        self.backoff = Backoff(config.backoff_base, config.backoff_max, free=1)
        self.failures: deque[float] = deque()  # times of recent failures, within failure_window
        self.safe_mode = False
        self.trial = False  # in safe mode, the show is being tried again
        self.safe_since: float | None = None
        self.next_retry = 0.0

    @property
    def holding(self) -> bool:
        """The next player is the holding screen (safe mode, and the show is not on trial)."""
        return self.safe_mode and not self.trial

    def failed(self, now: float, safe_player: bool) -> float | None:
        """A player went down: the seconds until the next one starts, or None: enter safe mode now."""
        if safe_player:  # the holding screen itself failed: just bring it back
            return self.config.backoff_base
        self.failures.append(now)
        while self.failures and now - self.failures[0] > self.config.failure_window:
            self.failures.popleft()
        if self.trial or len(self.failures) >= self.config.max_failures:
            return None
        return self.backoff.fail()

    def enter_safe_mode(self, now: float) -> str:
        """The holding screen from now on; returns the line that says why."""
        self.safe_mode, self.trial, self.safe_since = True, False, now
        self.next_retry = now + self.config.safe_retry
        return (f"safe mode: {len(self.failures)} failures in {self.config.failure_window:g} s; "
                f"retrying the show every {self.config.safe_retry:g} s")

    def stable(self, safe_player: bool) -> bool:
        """A player has been up ``stable_seconds``: the backoff starts over. True when this ends safe mode
        (the show's trial player made it)."""
        self.backoff.reset()
        if self.trial and not safe_player:
            self.safe_mode, self.trial, self.safe_since = False, False, None
            return True
        return False

    def retry_due(self, now: float, safe_player: bool) -> bool:
        """Time to check the show again for a trial (the holding screen plays); the next one is scheduled."""
        if not (self.holding and safe_player and now >= self.next_retry):
            return False
        self.next_retry = now + self.config.safe_retry
        return True

    def start_trial(self) -> None:
        self.trial = True
