"""GL context backends, one module each with the same shape (:class:`RenderContext`), chosen by name.

    with create_context("headless", (1920, 1080)) as rc:
        rc.begin_frame(); ...; pixels = rc.read_pixels(); rc.end_frame()

Backend modules are imported only when chosen: the window backend (GLX) and the headless one (EGL)
must never share a process.
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys

from installation.render.context.base import KEYS, QUIT_KEYS, ContextUnavailable, KeyHandler, RenderContext

# name -> "module:class", relative to this package
BACKENDS = {"headless": "headless:HeadlessContext", "window": "window:WindowContext"}

__all__ = [
    "BACKENDS",
    "KEYS",
    "QUIT_KEYS",
    "ContextUnavailable",
    "KeyHandler",
    "RenderContext",
    "create_context",
    "display_available",
]


def display_available() -> bool:
    """Whether a window could open here (an X11/Wayland display on Linux; assumed elsewhere)."""
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def create_context(backend: str, size: tuple[int, int] = (1920, 1080), **options: object) -> RenderContext:
    """Create the named backend with its own keyword ``options`` (the window backend: ``fullscreen``,
    ``screen``, ``vsync``, ``title``, ``hide_cursor``; headless: none).

    Raises ValueError for an unknown name, TypeError naming any option the backend does not take (a typo
    must not pass silently), and :class:`ContextUnavailable` when this machine cannot give it (no libEGL,
    no display)."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown render backend {backend!r}; expected one of {', '.join(BACKENDS)}")
    module_name, class_name = BACKENDS[backend].split(":")
    module = importlib.import_module(f"{__name__}.{module_name}")
    cls = getattr(module, class_name)
    accepted = set(inspect.signature(cls).parameters) - {"size"}
    unknown = sorted(set(options) - accepted)
    if unknown:
        takes = ", ".join(sorted(accepted)) or "no options"
        raise TypeError(f"{backend} render backend: unknown option(s) {', '.join(unknown)} (it takes {takes})")
    return cls(size, **options)
