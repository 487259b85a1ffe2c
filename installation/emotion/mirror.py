"""The emotion mirror's state as a pure function of show time and inputs (no clock, no GL, no threads).

Each frame the scene calls :meth:`MirrorState.update` with the cue time, the newest face reading (or None
when nothing new arrived) and whether the camera is delivering; the state says whether the mirror or the
attract scene shows, which emotion is displayed, and when a new painting is due (its style mixture).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from installation.emotion.art import blend
from installation.emotion.smoothing import EmaSmoother, Hysteresis, Presence


@dataclass
class MirrorSettings:
    half_life: float = 1.0
    switch_margin: float = 0.1
    switch_seconds: float = 1.0
    absent_after: float = 5.0
    interval: float = 8.0
    min_interval: float = 2.0


@dataclass
class PaintOrder:
    """Paint a new painting with ``mixture`` (the blend of ``probs``), at cue time ``t``, number ``serial``."""

    t: float
    serial: int
    mixture: np.ndarray
    probs: dict[str, float]
    label: str
    reason: str  # "first" | "interval" | "emotion"


class MirrorState:
    def __init__(self, settings: MirrorSettings, matrix: np.ndarray, labels: Sequence[str]) -> None:
        self.settings = settings
        self.matrix = matrix
        self.labels = list(labels)
        self.smoother = EmaSmoother(settings.half_life)
        self.display = Hysteresis(settings.switch_margin, settings.switch_seconds)
        self.presence = Presence(settings.absent_after)
        self.mode = "attract"
        self.mode_since = 0.0
        self.smoothed: dict[str, float] | None = None
        self.label: str | None = None
        self._face = False
        self._last_order: float | None = None
        self._ordered_label: str | None = None
        self.serial = 0

    def update(self, t: float, reading_probs: Mapping[str, float] | None, has_face: bool | None,
               source_ok: bool = True) -> PaintOrder | None:
        """``has_face``: whether the newest reading saw a face (None: no new reading since the last call; the
        last answer holds while the source is fine). Returns a paint order when a painting is due."""
        if not source_ok:
            self._face = False
        elif has_face is not None:
            self._face = has_face
        present = self.presence.update(self._face, t)
        if has_face and reading_probs is not None:
            self.smoothed = self.smoother.update(reading_probs, t)
            self.label = self.display.update(self.smoothed, t)
        mode = "mirror" if present else "attract"
        if mode != self.mode:
            self.mode, self.mode_since = mode, t
            if mode == "attract":  # the next visitor starts fresh
                self.smoother.reset()
                self.display.reset()
                self.smoothed, self.label, self._last_order, self._ordered_label = None, None, None, None
        if self.mode != "mirror" or self.smoothed is None or self.label is None:
            return None
        s = self.settings
        reason = None
        if self._last_order is None:
            reason = "first"
        elif t - self._last_order >= s.interval:
            reason = "interval"
        elif self.label != self._ordered_label and t - self._last_order >= s.min_interval:
            reason = "emotion"
        if reason is None:
            return None
        self._last_order, self._ordered_label = t, self.label
        self.serial += 1
        return PaintOrder(t, self.serial, blend(self.smoothed, self.matrix, self.labels), dict(self.smoothed),
                          self.label, reason)
