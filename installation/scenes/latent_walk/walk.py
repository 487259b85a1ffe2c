"""The latent walk as a pure function of cue time: no GL, no thread, no clock.

Waypoint ``w`` (w = 0, 1, 2, ...) is a latent code drawn from ``(seed, w)`` and a style mixture from the style
path; step ``w`` goes from waypoint ``w`` to ``w + 1`` in ``seconds_per_step`` seconds, eased, with spherical
interpolation (slerp) of the latent codes (they stay on the Gaussian's typical shell, where a linear blend
would pass through the low-norm middle and wash the picture out) and linear interpolation of the mixtures.

The style path visits the styles in order and loops: with ``shares = (1.0, 0.7, 0.3)`` the waypoints of style
``a`` followed by ``b`` are one-hot ``a``, 70 % ``a`` + 30 % ``b``, 30 % ``a`` + 70 % ``b``, then one-hot ``b``...

Keyframes are rendered at fixed cue times ``t_k = k * keyframe_seconds``; the display at time ``t`` blends the
two keyframes around it. Everything here depends only on the parameters and ``t`` (NumPy's PCG64 streams
are the same on every machine), so two players given the same show time ask for the same pictures.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from installation.easing import ease


def slerp(a: np.ndarray, b: np.ndarray, u: float) -> np.ndarray:
    """Spherical interpolation between two vectors (float64); nearly parallel ones interpolate linearly."""
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 or nb == 0:
        return (1 - u) * a + u * b
    cos = float(np.clip(np.dot(a, b) / (na * nb), -1.0, 1.0))
    theta = math.acos(cos)
    if theta < 1e-4:
        return (1 - u) * a + u * b
    s = math.sin(theta)
    return (math.sin((1 - u) * theta) / s) * a + (math.sin(u * theta) / s) * b


@lru_cache(maxsize=512)
def _anchor(seed: int, index: int, dim: int) -> np.ndarray:
    out = np.random.default_rng([seed, index]).standard_normal(dim)
    out.setflags(write=False)
    return out


@dataclass(frozen=True)
class WalkPlan:
    """Where the walk is at cue time ``t``: :meth:`state` (latent, mixture) and :meth:`locate` (keyframes)."""

    classes: tuple[str, ...]  # the generator's classes: the mixture's columns
    styles: tuple[str, ...]  # the path's styles, in order (names of ``classes``)
    latent_dim: int
    seed: int = 0
    seconds_per_step: float = 8.0
    keyframe_seconds: float = 0.5
    shares: tuple[float, ...] = (1.0, 0.7, 0.3)
    easing: str = "ease_in_out"
    _index: dict[str, int] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        unknown = [s for s in self.styles if s not in self.classes]
        if unknown or not self.styles:
            raise ValueError(f"unknown style(s) {', '.join(unknown) or '(none given)'}; the generator knows "
                             f"{', '.join(self.classes)}")
        if not (self.seconds_per_step > 0 and self.keyframe_seconds > 0 and self.latent_dim > 0):
            raise ValueError("seconds_per_step, keyframe_seconds and latent_dim must be > 0")
        if not self.shares or any(not 0 < s <= 1 for s in self.shares):
            raise ValueError("shares must be in (0, 1]")
        self._index.update({c: i for i, c in enumerate(self.classes)})

    # ---- waypoints -------------------------------------------------------------------------------------

    def anchor(self, w: int) -> np.ndarray:
        """Waypoint ``w``'s latent code (float64, read-only)."""
        return _anchor(self.seed, int(w), self.latent_dim)

    def waypoint_mixture(self, w: int) -> np.ndarray:
        """Waypoint ``w``'s style mixture over ``classes`` (float64, sums to 1)."""
        n, per = len(self.styles), len(self.shares)
        style, j = divmod(int(w), per)
        share = self.shares[j] if n > 1 else 1.0
        out = np.zeros(len(self.classes))
        out[self._index[self.styles[style % n]]] += share
        out[self._index[self.styles[(style + 1) % n]]] += 1.0 - share
        return out

    def waypoint_styles(self, w: int) -> dict[str, float]:
        """Waypoint ``w``'s mixture as {style: share}, only the non-zero ones (for people and logs)."""
        mix = self.waypoint_mixture(w)
        return {c: round(float(v), 6) for c, v in zip(self.classes, mix) if v > 0}

    # ---- time ------------------------------------------------------------------------------------------

    def step_at(self, t: float) -> tuple[int, float]:
        """(step w, eased progress in [0, 1]) at cue time ``t`` (negative times count as 0)."""
        x = max(0.0, float(t)) / self.seconds_per_step
        w = math.floor(x)
        return w, float(ease(self.easing, x - w))

    def state(self, t: float) -> tuple[np.ndarray, np.ndarray]:
        """(latent (latent_dim,), mixture (len(classes),)), float32, at cue time ``t``."""
        w, u = self.step_at(t)
        z = slerp(self.anchor(w), self.anchor(w + 1), u)
        mix = (1 - u) * self.waypoint_mixture(w) + u * self.waypoint_mixture(w + 1)
        return z.astype(np.float32), (mix / mix.sum()).astype(np.float32)

    def keyframe_time(self, k: int) -> float:
        return k * self.keyframe_seconds

    def locate(self, t: float) -> tuple[int, float]:
        """(keyframe k, blend in [0, 1)) at cue time ``t``: the display shows mix(key k, key k + 1, blend)."""
        x = max(0.0, float(t)) / self.keyframe_seconds
        k = math.floor(x)
        return k, x - k

    def keyframe_states(self, ks: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """Latents (N, latent_dim) and mixtures (N, classes) of keyframes ``ks`` (one generator batch)."""
        states = [self.state(self.keyframe_time(k)) for k in ks]
        return np.stack([s[0] for s in states]), np.stack([s[1] for s in states])
