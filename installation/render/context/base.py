"""The shape every GL-context backend has (one backend per module, chosen by name)."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable

import moderngl
import numpy as np

log = logging.getLogger(__name__)

KeyHandler = Callable[[str], None]
# Keys that end the show whatever the handlers do.
QUIT_KEYS = frozenset({"escape", "q"})
# Keys the runtime reacts to (names are the ones handlers receive).
KEYS = ("escape", "q", "space", "left", "right", "up", "down", "f")


class ContextUnavailable(RuntimeError):
    """No OpenGL context of the requested kind can be created here (no libEGL, no display, ...)."""


class RenderContext(ABC):
    """A moderngl context and the framebuffer frames end up in.

    ``ctx``: the moderngl.Context; ``size``: (width, height) of ``fbo`` in pixels; ``fbo``: the target
    framebuffer (the window's back buffer or an offscreen RGBA8 one). Per frame: ``begin_frame()``, draw
    into ``fbo``, optionally ``read_pixels()``, ``end_frame()``.
    """

    backend: str = ""
    ctx: moderngl.Context
    size: tuple[int, int]
    fbo: moderngl.Framebuffer

    def __init__(self) -> None:
        self.should_close = False
        self._key_handlers: list[KeyHandler] = []

    @abstractmethod
    def begin_frame(self) -> None:
        """Process window events and bind ``fbo`` with a full viewport."""

    @abstractmethod
    def end_frame(self) -> None:
        """Present the frame (swap buffers; nothing offscreen)."""

    def read_pixels(self) -> np.ndarray:
        """The target's pixels as (H, W, 3) uint8 RGB, top row first. On a window call it before
        ``end_frame()``: it reads the back buffer just drawn."""
        w, h = self.size
        data = self.fbo.read(viewport=(0, 0, w, h), components=3, alignment=1)
        # GL rows start at the bottom.
        return np.frombuffer(data, np.uint8).reshape(h, w, 3)[::-1].copy()

    def on_key(self, handler: KeyHandler) -> KeyHandler:
        """Register ``handler(key_name)`` for :data:`KEYS`; usable as a decorator."""
        self._key_handlers.append(handler)
        return handler

    def emit_key(self, name: str) -> None:
        """Deliver a key press (the window backend calls this; tests and remote controls may too)."""
        if name in QUIT_KEYS:
            self.should_close = True
        for handler in list(self._key_handlers):
            try:
                handler(name)
            except Exception:  # a handler bug must not end the show
                log.exception("key handler failed for %r", name)

    @property
    def info(self) -> dict[str, str]:
        """GL vendor, renderer and version, for `installation doctor` and logs."""
        return {k: str(self.ctx.info.get(k, "")) for k in ("GL_VENDOR", "GL_RENDERER", "GL_VERSION")}

    @abstractmethod
    def close(self) -> None:
        """Release the context (and window)."""

    def __enter__(self) -> RenderContext:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
