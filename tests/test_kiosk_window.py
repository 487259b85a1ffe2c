"""Kiosk fault injection in window mode: the supervisor runs the player in a real pyglet (GLX) window on an
Xvfb display, not ``--headless``. The other kiosk tests (test_kiosk_supervisor.py, test_kiosk_faults.py)
cover the EGL path; this one checks that the window path presents frames, survives a corrupt image without a
restart, and is restarted after ``kill -9`` and ``SIGSTOP``. One kiosk process serves every check in turn.

The Xvfb server is started here (``Xvfb -displayfd``), not through ``xvfb-run`` as test_render_window.py does,
because the test talks to the kiosk over HTTP while it runs and inspects the display itself. Recovery times
are printed and recorded as properties (``record_property``), bounded only loosely.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from helpers.kiosk import COLOURS, Kiosk, player_errors, wait_for

REPO = Path(__file__).resolve().parents[1]
SCREEN = (640, 480)  # the Xvfb screen: larger than the window, so a window of the wrong size would show
SIZE = (320, 180)  # --size: the player's window
TITLE = "window kiosk test"  # the show's name is the window's title
FAST = ["--size", f"{SIZE[0]}x{SIZE[1]}", "--stall-seconds", "1.5", "--kill-grace", "0.3", "--backoff-base", "0.2",
        "--start-seconds", "20"]
RETRY = {"INSTALLATION_MEDIA_RETRY": "0.5,2"}


@pytest.fixture(scope="module")
def xvfb_display() -> Iterator[str]:
    """A fresh Xvfb server (``:N`` chosen by the server itself), stopped after the module's tests."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        pytest.skip("Xvfb is not installed (apt install xvfb)")
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen([xvfb, "-displayfd", str(write_fd), "-screen", "0", f"{SCREEN[0]}x{SCREEN[1]}x24",
                             "-nolisten", "tcp", "-br", "-noreset"], pass_fds=(write_fd,), stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    os.close(write_fd)
    try:
        number = b""
        end = time.monotonic() + 15
        while not number.endswith(b"\n") and time.monotonic() < end:
            if select.select([read_fd], [], [], 0.2)[0]:
                chunk = os.read(read_fd, 16)
                if not chunk:
                    break
                number += chunk
        if not number.strip().isdigit():
            proc.kill()
            err = proc.communicate(timeout=5)[1].decode(errors="replace")[-2000:]
            pytest.skip(f"Xvfb did not start: {err}")
        yield f":{number.decode().strip()}"
    finally:
        os.close(read_fd)
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()


@contextlib.contextmanager
def window_kiosk(tmp_path: Path, show: Path, display: str) -> Iterator[Kiosk]:
    """``installation kiosk SHOW --http`` without --headless on ``display``, in its own process group."""
    env = {k: v for k, v in os.environ.items() if k != "WAYLAND_DISPLAY"}
    env.update(DISPLAY=display, **RETRY)
    log_path = tmp_path / "kiosk.log"
    log = log_path.open("w")
    proc = subprocess.Popen([sys.executable, "-m", "installation.cli", "kiosk", str(show), "--http", "127.0.0.1:0",
                             *FAST], cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log,
                            text=True, env=env, start_new_session=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
    k = None
    try:
        def line() -> str:
            try:
                return lines.get(timeout=20)
            except queue.Empty:
                raise AssertionError(f"the kiosk printed nothing: {log_path.read_text()[-3000:]}") from None

        m = re.search(r"http://[^:/]+:(\d+)/", first := line())
        assert m, f"no http line: {first!r} {log_path.read_text()[-3000:]}"
        k = Kiosk(proc, f"http://127.0.0.1:{m.group(1)}", None)
        second = line()
        assert "(window)" in second, f"the kiosk did not choose the window path: {second!r}"
        yield k
    finally:
        for pid in k.pids if k else ():  # a player left stopped must not outlive the test
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        proc.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(10)
        with contextlib.suppress(ProcessLookupError):  # the kiosk and every player it started
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(5)
        for pid in k.pids if k else ():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        log.close()


def screenshot(k: Kiosk) -> np.ndarray:
    """The player's next frame (GET /screenshot) as (H, W, 3) RGB."""
    with urllib.request.urlopen(k.url + "/screenshot", timeout=5) as resp:
        assert resp.status == 200 and resp.headers["Content-Type"] == "image/png"
        bgr = cv2.imdecode(np.frombuffer(resp.read(), np.uint8), cv2.IMREAD_COLOR)
    assert bgr is not None, "the screenshot is not a PNG OpenCV can decode"
    return bgr[..., ::-1]


def colours_in(rgb: np.ndarray) -> set[int]:
    """Indices of the first four COLOURS covering at least a few pixels of ``rgb``."""
    rgb = rgb.astype(int)
    return {i for i, c in enumerate(COLOURS[:4]) if (np.abs(rgb - c).max(axis=2) <= 4).sum() >= 40}


def grab_screen(display: str) -> np.ndarray | None:
    """What the X server itself shows (the root window, RGB), or None without Pillow built with XCB."""
    try:
        from PIL import ImageGrab, features
    except ImportError:
        return None
    if not features.check("xcb"):
        return None
    return np.asarray(ImageGrab.grab(xdisplay=display).convert("RGB"))


def show_windows(display: str) -> list[str] | None:
    """The geometry (``WxH``) of each top-level window titled TITLE, or None without xwininfo."""
    xwininfo = shutil.which("xwininfo")
    if xwininfo is None:
        return None
    out = subprocess.run([xwininfo, "-display", display, "-root", "-children"], capture_output=True, text=True,
                         timeout=10, check=True).stdout
    return re.findall(rf'"{re.escape(TITLE)}": \(.*\)\s+(\d+x\d+)\+', out)


def frames_rising(k: Kiosk, st: dict) -> dict:
    """The current player keeps presenting: its frame count grows while we watch, with /health 200."""
    pid = st["player_pid"]
    st = k.wait("frames rising", lambda s: s["player_pid"] == pid and s["player_frames"] > st["player_frames"] + 30)
    assert st["state"] == "playing" and st["healthy"] and k.get("/health")[0] == 200
    return st


def _playing(st: dict) -> bool:
    return st["state"] == "playing" and st["healthy"] and st["player_frames"] > 5 and st["fps"] > 0


@pytest.mark.window
def test_window_player_survives_corrupt_image_kill9_and_sigstop(
        tmp_path: Path, xvfb_display: str, record_property: Callable[[str, object], None]) -> None:
    folder = tmp_path / "pics"
    folder.mkdir()
    paths = []
    for i, c in enumerate(COLOURS[:4]):
        paths.append(folder / f"img{i}.png")
        cv2.imwrite(str(paths[-1]), np.full((24, 24, 3), c[::-1], np.uint8))
    good = paths[1].read_bytes()
    show = tmp_path / "window.yaml"
    # 2x2 images, a new pass every ~1 s (each image read from disk again); a window, not fullscreen, so the
    # window is --size (fullscreen would take the whole Xvfb screen)
    show.write_text(f"""version: 1
name: {TITLE}
display: {{size: 160x90, background: [0, 0, 0], fullscreen: false}}
cues:
  - id: grid
    scene: {{type: gradual_change, collection: {folder}, rows: 2, cols: 2, order: as_is, reveal_interval: 0.15,
             cell_transition: cut, after_last: restart, linger: 0.3}}
    follow: hold
""")
    with window_kiosk(tmp_path, show, xvfb_display) as k:
        # 1. frames presented in a window of --size, showing the show's images
        st = k.wait("first frames in the window", _playing, timeout=30)
        st = frames_rising(k, st)
        assert st["restarts"] == 0 and st["cue"] == "grid"
        # Xvfb ignores the swap interval: the window's own pacing keeps it near the refresh rate, not ~700 fps
        assert 0 < k.status()["fps"] < 80

        rgb = screenshot(k)
        assert rgb.shape == (SIZE[1], SIZE[0], 3)
        wait_for("all four images in the screenshot", lambda: colours_in(screenshot(k)) == {0, 1, 2, 3})
        assert show_windows(xvfb_display) in (None, [f"{SIZE[0]}x{SIZE[1]}"])  # one window of --size on the display
        if grab_screen(xvfb_display) is not None:  # the X server shows the frames, not only the back buffer
            wait_for("the images on the X screen", lambda: colours_in(grab_screen(xvfb_display)) == {0, 1, 2, 3})
        else:
            print("\n(no Pillow with XCB: the X screen itself was not read)")

        # 4. a corrupt image during play: skipped and reported, no restart, frames keep coming
        paths[1].write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
        st = k.wait("the corrupt file reported", lambda s: s["media"]["failing"] == 1 and player_errors(s, "media"),
                    timeout=15)
        assert st["media"]["failing_files"] == ["img1.png"]
        assert any("img1.png skipped" in m and "corrupt" in m for m in player_errors(st, "media")), st["last_errors"]
        st = frames_rising(k, st)
        assert st["restarts"] == 0
        wait_for("its cell empty, the others shown",
                 lambda: (seen := colours_in(screenshot(k))) >= {0, 2, 3} and 1 not in seen)
        paths[1].write_bytes(good)
        st = k.wait("the file reads again", lambda s: s["media"]["failing"] == 0, timeout=15)
        assert st["media"]["recovered_total"] == 1 and st["restarts"] == 0
        wait_for("the restored image shown", lambda: colours_in(screenshot(k)) == {0, 1, 2, 3})
        st = frames_rising(k, st)
        assert st["restarts"] == 0 and st["player_pid"] == k.status()["player_pid"]

        # 2. kill -9: the next frame presented by a new player, in a new window
        first = st["player_pid"]
        t0 = time.monotonic()
        os.kill(first, signal.SIGKILL)
        st = k.wait("a new player presenting",
                    lambda s: s["player_pid"] not in (None, first) and s["player_frames"] > 0)
        kill_gap = time.monotonic() - t0
        print(f"\nwindow mode: kill -9 -> next presented frame: {kill_gap:.2f} s")
        record_property("kill9_recovery_seconds", round(kill_gap, 3))
        assert kill_gap < 20 and st["restarts"] == 1
        st = frames_rising(k, k.wait("playing again", _playing))
        wait_for("the images in the new window", lambda: colours_in(screenshot(k)) == {0, 1, 2, 3})
        assert show_windows(xvfb_display) in (None, [f"{SIZE[0]}x{SIZE[1]}"])  # the dead player's window is gone

        # 3. SIGSTOP: no heartbeat -> the watchdog kills and restarts the player
        second = st["player_pid"]
        try:
            t0 = time.monotonic()
            os.kill(second, signal.SIGSTOP)
            stalled = False
            while True:
                st = k.status()
                stalled |= st["state"] != "playing" and not st["healthy"]
                if st["player_pid"] not in (None, second) and st["player_frames"] > 0:
                    break
                assert time.monotonic() - t0 < 20, f"no restart after SIGSTOP: {st}"
                time.sleep(0.05)
            stop_gap = time.monotonic() - t0
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.kill(second, signal.SIGCONT)
        print(f"window mode: SIGSTOP -> next presented frame (stall 1.5 s): {stop_gap:.2f} s")
        record_property("sigstop_recovery_seconds", round(stop_gap, 3))
        assert stalled and stop_gap >= 1.5 and st["restarts"] == 2
        assert any("hung" in e["message"] for e in st["last_errors"]), st["last_errors"]
        st = frames_rising(k, k.wait("playing after the stall", _playing))
        assert st["restarts"] == 2 and not st["safe_mode"]
        wait_for("the images after the restart", lambda: colours_in(screenshot(k)) == {0, 1, 2, 3})
        with contextlib.suppress(ProcessLookupError):
            os.kill(second, 0)
            pytest.fail(f"the stopped player {second} is still alive")
