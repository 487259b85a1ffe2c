"""A real pyglet window under Xvfb: draw a known colour grid, read the back buffer, check it.

The window (GLX) runs in its own process: GLX and the EGL context the other render tests use must never
share one. Run directly, this file is that child process (``--probe``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SIZE = (160, 96)
# Colours 565 would round: they prove an 8-bit-per-channel framebuffer.
COLORS = [(13, 77, 201), (250, 3, 129), (99, 181, 7), (41, 41, 41)]
BACKGROUND = (5, 6, 7)


def probe(fullscreen: bool, hide_cursor: bool | None = None) -> int:
    import numpy as np

    from installation.render import GridCompositor, create_context

    rc = create_context("window", SIZE, title="render probe", vsync=False, fullscreen=fullscreen, screen=0,
                        hide_cursor=hide_cursor)
    grid = GridCompositor(rc.ctx, rc.size, 2, 2, gap=2, background=BACKGROUND)
    for cell, color in enumerate(COLORS):
        grid.set_image(cell, np.full((8, 8, 3), color, np.uint8), transition="cut", start_time=0.0)
    result: dict[str, object] = {"size": list(rc.size), "renderer": rc.info["GL_RENDERER"],
                                 "mouse_visible": rc.window._mouse_visible}  # pyglet keeps no public getter
    for t in (0.0, 1 / 60):  # two frames: the second is incremental (nothing redrawn) and must still show
        rc.begin_frame()
        result["redrawn"] = grid.draw(t, rc.fbo)
        pixels = rc.read_pixels()
        rc.end_frame()
    samples = []
    for x, y, w, h in grid.layout.rects:
        samples.append(pixels[y + h // 2, x + w // 2].tolist())
    gx, gy, gw, gh = grid.layout.grid_rect
    result["cells"] = samples
    result["bar"] = pixels[SIZE[1] // 2, 1].tolist() if gx > 1 else None
    result["uniform"] = all(
        bool(np.all(pixels[y : y + h, x : x + w] == c)) for (x, y, w, h), c in zip(grid.layout.rects, COLORS)
    )
    import pyglet

    seen: list[str] = []
    rc.on_key(seen.append)
    # Events go through pyglet's per-window queue, which begin_frame() drains as a real key press would.
    rc.window.dispatch_event("on_key_press", pyglet.window.key.SPACE, 0)
    rc.begin_frame()
    before = rc.should_close
    rc.window.dispatch_event("on_key_press", pyglet.window.key.ESCAPE, 0)
    rc.begin_frame()
    result["keys"] = [before, rc.should_close, *seen]
    grid.release()
    rc.close()
    print("PROBE " + json.dumps(result))
    return 0


@pytest.mark.window
@pytest.mark.gl
@pytest.mark.parametrize(("fullscreen", "kiosk"), [(False, False), (True, False), (False, True)],
                         ids=["windowed", "fullscreen", "kiosk-window"])
def test_pyglet_window_under_xvfb(fullscreen: bool, kiosk: bool) -> None:
    xvfb = shutil.which("xvfb-run")
    if xvfb is None:
        pytest.skip("xvfb-run is not installed (apt install xvfb)")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run(
        [
            xvfb,
            "-a",
            "-s",
            "-screen 0 640x480x24",
            sys.executable,
            __file__,
            "--probe",
            *(["--fullscreen"] if fullscreen else []),
            *(["--hide-cursor"] if kiosk else []),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        cwd=REPO,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("PROBE ")]
    assert proc.returncode == 0 and lines, f"probe failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr[-3000:]}"
    result = json.loads(lines[-1][len("PROBE ") :])
    assert tuple(result["size"]) == ((640, 480) if fullscreen else SIZE)  # fullscreen: the Xvfb screen
    assert [tuple(c) for c in result["cells"]] == COLORS
    assert result["uniform"] is True
    assert result["bar"] in (None, list(BACKGROUND))
    assert result["redrawn"] == 0  # the second frame redrew nothing and the grid was still presented
    assert result["keys"] == [False, True, "space", "escape"]  # space passes through, Esc asks to close
    assert result["mouse_visible"] is not (fullscreen or kiosk)  # hidden in fullscreen and under the kiosk


if __name__ == "__main__":
    if "--probe" in sys.argv:
        hide = True if "--hide-cursor" in sys.argv else None  # None: the default (hidden only in fullscreen)
        sys.exit(probe(fullscreen="--fullscreen" in sys.argv, hide_cursor=hide))
