"""Window backend: a pyglet window (GLX/WGL/Cocoa) with a moderngl context attached to it.

Import this module only in processes that do not also create an EGL context: two GL platforms in one
process crash on Mesa.
"""

from __future__ import annotations

import importlib
import logging
import time
from typing import Any

import moderngl
import numpy as np

from installation.render.context.base import ContextUnavailable, RenderContext

log = logging.getLogger(__name__)


def _pyglet_display(pyglet: Any) -> Any:
    # pyglet 2.1 renamed pyglet.canvas to pyglet.display; moderngl-window 3.1.1 still uses the old name.
    module: Any = getattr(pyglet, "display", None)
    if module is None or not hasattr(module, "get_display"):
        module = importlib.import_module("pyglet.canvas")
    return module.get_display()


def list_screens() -> list[dict[str, int]]:
    """Screens pyglet sees: index, x, y, width, height (for `--screen N` and `installation doctor`)."""
    import pyglet

    screens = _pyglet_display(pyglet).get_screens()
    return [{"index": i, "x": s.x, "y": s.y, "width": s.width, "height": s.height} for i, s in enumerate(screens)]


def _refresh_rate(screen: Any) -> float:
    """The screen's refresh rate in Hz where the window system says (60 where it does not)."""
    try:
        rate = float(getattr(screen.get_mode(), "rate", 0) or 0)
    except Exception:  # noqa: BLE001 - not every platform or X server reports modes
        rate = 0.0
    return rate if 20.0 <= rate <= 500.0 else 60.0


class WindowContext(RenderContext):
    backend = "window"

    def __init__(
        self,
        size: tuple[int, int],
        *,
        fullscreen: bool = False,
        screen: int = 0,
        vsync: bool = True,
        title: str = "installation",
        hide_cursor: bool | None = None,
    ) -> None:
        super().__init__()
        try:
            import pyglet

            pyglet.options["headless"] = False
            display = _pyglet_display(pyglet)
            screens = display.get_screens()
        except Exception as exc:  # NoSuchDisplayException and friends: say it in one line
            raise ContextUnavailable(f"no display to open a window on: {exc}") from exc
        if not 0 <= screen < len(screens):
            raise ContextUnavailable(f"screen {screen} does not exist; {len(screens)} screen(s) found")
        target = screens[screen]
        config = self._config(pyglet, target)
        kwargs: dict[str, Any] = {"caption": title, "vsync": vsync, "screen": target, "config": config}
        if fullscreen:
            kwargs["fullscreen"] = True  # the screen's current mode; no mode switch
        else:
            kwargs["width"], kwargs["height"] = int(size[0]), int(size[1])
        try:
            self.window = pyglet.window.Window(**kwargs)
        except Exception as exc:
            raise ContextUnavailable(f"cannot open a window: {exc}") from exc
        # vsync asked for: also pace in software a little above the refresh rate, so that a driver or an X
        # server that ignores the swap interval (Xvfb, some compositors) cannot spin at hundreds of frames a
        # second for weeks; with vsync working the flip already waits longer and this never sleeps
        self._interval = 1.0 / (_refresh_rate(target) * 1.05) if vsync else 0.0
        self._next_present = 0.0
        if fullscreen if hide_cursor is None else hide_cursor:  # None: hidden in fullscreen, shown in a window
            self.window.set_mouse_visible(False)
        self.window.switch_to()
        self.ctx = moderngl.create_context(require=330)
        width, height = self.window.get_framebuffer_size()
        self.size = (int(width), int(height))
        self.fbo = self.ctx.detect_framebuffer()
        self._capture: moderngl.Framebuffer | None = None
        self._capture_texture: moderngl.Texture | None = None
        self._install_handlers(pyglet)
        log.info(
            "window %dx%d on screen %d (%s), GL %s",
            *self.size,
            screen,
            "fullscreen" if fullscreen else "windowed",
            self.ctx.info.get("GL_RENDERER"),
        )

    @staticmethod
    def _config(pyglet: Any, screen: Any) -> Any:
        # Without explicit 8-bit channels Xvfb and some drivers hand out a 16-bit (565) framebuffer.
        template = pyglet.gl.Config(
            double_buffer=True,
            red_size=8,
            green_size=8,
            blue_size=8,
            alpha_size=8,
            depth_size=0,
            major_version=3,
            minor_version=3,
            forward_compatible=True,
        )
        try:
            return screen.get_best_config(template)
        except Exception:
            template.alpha_size = 0
            try:
                return screen.get_best_config(template)
            except Exception as exc:
                raise ContextUnavailable(f"no 8-bit RGB OpenGL 3.3 framebuffer config: {exc}") from exc

    def _install_handlers(self, pyglet: Any) -> None:
        key = pyglet.window.key
        names = {
            key.ESCAPE: "escape",
            key.Q: "q",
            key.SPACE: "space",
            key.LEFT: "left",
            key.RIGHT: "right",
            key.UP: "up",
            key.DOWN: "down",
            key.F: "f",
        }
        handled = pyglet.event.EVENT_HANDLED

        def on_key_press(symbol: int, modifiers: int) -> bool | None:
            name = names.get(symbol)
            if name is None:
                return None
            self.emit_key(name)
            return handled  # keeps pyglet's default Esc handler from closing the window under us

        def on_close() -> bool:
            self.should_close = True
            return handled

        self.window.push_handlers(on_key_press=on_key_press, on_close=on_close)

    def read_pixels(self) -> np.ndarray:
        """The back buffer just drawn (call before ``end_frame()``), (H, W, 3) RGB top row first."""
        # Reading the default framebuffer through moderngl selects GL_COLOR_ATTACHMENT0, which is an
        # invalid read buffer there; blit it into an offscreen framebuffer and read that instead.
        if self._capture is None:
            self._capture_texture = self.ctx.texture(self.size, 4)
            self._capture = self.ctx.framebuffer([self._capture_texture])
        self.ctx.copy_framebuffer(self._capture, self.fbo)
        w, h = self.size
        data = self._capture.read(viewport=(0, 0, w, h), components=3, alignment=1)
        return np.frombuffer(data, np.uint8).reshape(h, w, 3)[::-1].copy()

    def begin_frame(self) -> None:
        self.window.switch_to()
        self.window.dispatch_events()
        self.fbo.use()
        self.ctx.viewport = (0, 0, *self.size)

    def end_frame(self) -> None:
        self.window.flip()
        if self._interval:
            now = time.perf_counter()
            if now < self._next_present:
                time.sleep(self._next_present - now)
                now = self._next_present
            self._next_present = now + self._interval

    def close(self) -> None:
        if getattr(self, "window", None) is None:
            return
        if self._capture is not None and self._capture_texture is not None:
            self._capture.release()
            self._capture_texture.release()
        self.ctx.release()
        self.window.close()
        self.window = None
