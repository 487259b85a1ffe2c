"""A cue's ``post`` steps (show schema) -> the renderer's :class:`PostSettings`."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from installation.render import GradeSettings, KuwaharaSettings, PostSettings
from installation.show import Grade, Kuwahara

log = logging.getLogger(__name__)


def _clamp(value: float, low: float, high: float, what: str) -> float:
    if not low <= value <= high:
        log.warning("post %s %s is outside what the renderer supports; using %s", what, value,
                    min(high, max(low, value)))
    return min(high, max(low, value))


def post_settings(steps: Sequence[Kuwahara | Grade] | None) -> PostSettings:
    """The renderer bakes Kuwahara then grade into each image; a later step of one type replaces an earlier one."""
    kuwahara = grade = None
    for step in steps or []:
        if isinstance(step, Kuwahara):
            kuwahara = KuwaharaSettings(
                radius=float(step.radius),
                q=_clamp(float(step.sharpness), 1.0, 12.0, "kuwahara.sharpness"),
                alpha=_clamp(float(step.anisotropy), 0.05, 10.0, "kuwahara.anisotropy"),
            )
        elif isinstance(step, Grade):
            if step.contrast != 1.0:
                log.warning("post grade.contrast is not implemented by the renderer yet; ignored")
            grade = GradeSettings(
                exposure=_clamp(float(step.exposure), -8.0, 8.0, "grade.exposure"),
                saturation=_clamp(float(step.saturation), 0.0, 4.0, "grade.saturation"),
                tint=tuple(step.tint),
                tint_amount=float(step.tint_amount),
            )
    return PostSettings(kuwahara=kuwahara, grade=grade)
