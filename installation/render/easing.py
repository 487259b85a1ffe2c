"""Easing curves for the renderer: the shared implementation lives in :mod:`installation.easing`."""

from installation.easing import EASINGS, EasingFn, check_easing, ease

__all__ = ["EASINGS", "EasingFn", "check_easing", "ease"]
