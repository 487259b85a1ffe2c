"""Steadiness of the read emotion: EMA smoothing with a half-life in seconds, hysteresis on the displayed
emotion, presence detection. Pure: every update takes the time ``t`` (seconds) from the caller."""

from __future__ import annotations

import math
from collections.abc import Mapping


class EmaSmoother:
    """Exponential moving average of probability dicts; the weight of the past halves every ``half_life``
    seconds of time between updates (dt-aware, so the frame rate does not change the smoothing)."""

    def __init__(self, half_life: float = 1.0) -> None:
        if half_life < 0:
            raise ValueError("half_life must be >= 0")
        self.half_life = half_life
        self.value: dict[str, float] | None = None
        self.t: float | None = None

    def update(self, probs: Mapping[str, float], t: float) -> dict[str, float]:
        if self.value is None or self.t is None or self.half_life == 0:
            self.value = dict(probs)
        else:
            dt = max(0.0, t - self.t)
            keep = 0.5 ** (dt / self.half_life)
            self.value = {k: keep * self.value.get(k, 0.0) + (1 - keep) * float(v) for k, v in probs.items()}
        self.t = t
        return dict(self.value)

    def reset(self) -> None:
        self.value, self.t = None, None


class Hysteresis:
    """The displayed emotion: changes only when another label leads the displayed one by ``margin`` for at
    least ``min_seconds`` without interruption."""

    def __init__(self, margin: float = 0.1, min_seconds: float = 1.0) -> None:
        self.margin = margin
        self.min_seconds = min_seconds
        self.label: str | None = None
        self._challenger: str | None = None
        self._since = 0.0
        self.changed_at: float | None = None

    def update(self, probs: Mapping[str, float], t: float) -> str:
        best = max(probs, key=probs.__getitem__)
        if self.label is None:
            self.label, self.changed_at = best, t
            return best
        current = probs.get(self.label, 0.0)
        if best != self.label and probs[best] - current >= self.margin:
            if self._challenger != best:
                self._challenger, self._since = best, t
            if t - self._since >= self.min_seconds:
                self.label, self.changed_at = best, t
                self._challenger = None
        else:
            self._challenger = None
        return self.label

    def reset(self) -> None:
        self.label, self._challenger, self.changed_at = None, None, None


class Presence:
    """``present`` turns False once no face has been seen for ``absent_after`` seconds, and True again as soon
    as a face is seen (``present_after`` seconds of continuous faces, 0 by default)."""

    def __init__(self, absent_after: float = 5.0, present_after: float = 0.0, present: bool = False) -> None:
        self.absent_after = absent_after
        self.present_after = present_after
        self.present = present
        self.last_seen = -math.inf
        self._streak_since: float | None = None
        self.changed_at = 0.0

    def update(self, face: bool, t: float) -> bool:
        if face:
            self.last_seen = t
            if self._streak_since is None:
                self._streak_since = t
            if not self.present and t - self._streak_since >= self.present_after:
                self.present, self.changed_at = True, t
        else:
            self._streak_since = None
            if self.present and t - self.last_seen >= self.absent_after:
                self.present, self.changed_at = False, t
        return self.present
