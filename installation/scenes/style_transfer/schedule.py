"""Which painting styles the picture at show time ``t``: a pure function of ``t`` and the show's parameters, so
renders, restarts and machines agree. No GL, no models, no clock."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from installation.easing import ease


@dataclass(frozen=True)
class StyleMix:
    """The style at one moment: painting ``a`` morphing into painting ``b`` by ``weight`` (0: all ``a``).
    Indices are positions in the play order (:func:`style_files`)."""

    a: int
    b: int
    weight: float = 0.0

    @property
    def settled(self) -> bool:
        return self.a == self.b or self.weight <= 0.0


def style_files(style: Path | None, styles: Path | None, order: str = "name", seed: int = 0) -> list[Path]:
    """The paintings in play order: the one ``style``, or the images of the ``styles`` folder by natural name
    order, or shuffled by ``seed`` (the same permutation everywhere)."""
    from installation.collection import IMAGE_SUFFIXES, natural_key

    if style is not None:
        return [style]
    if styles is None:
        return []
    try:
        files = sorted((p for p in styles.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()),
                       key=lambda p: natural_key(p.name))
    except OSError:
        return []
    if order == "shuffle":
        files = [files[i] for i in np.random.default_rng(seed).permutation(len(files))]
    return files


def style_at(t: float, count: int, seconds: float, transition: float, easing: str = "ease_in_out") -> StyleMix:
    """Painting ``k = floor(t / seconds) mod count`` plays from ``k * seconds``; for its first ``transition``
    seconds it morphs in from the painting before (not at the very start: the show opens on painting 0)."""
    if count <= 1 or t < 0:
        return StyleMix(0, 0)
    k = math.floor(t / seconds)
    into = t - k * seconds
    current = k % count
    if k > 0 and transition > 0 and into < transition:
        return StyleMix((k - 1) % count, current, ease(easing, into / transition))
    return StyleMix(current, current)
