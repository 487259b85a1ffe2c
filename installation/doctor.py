"""``installation doctor``: a readable report of what this machine offers the runtime.

GL and display probes run in child processes: EGL (headless) and GLX (pyglet) must not share a process,
and a broken driver should not take the report down with it.
"""

from __future__ import annotations

import glob
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

from installation.inference.contract import ModelContractError
from installation.inference.emotion import EmotionClassifier
from installation.inference.encoder import PaintingEncoder
from installation.inference.generator import Generator, Upscaler
from installation.inference.model import OnnxModel
from installation.inference.stylizer import StylePredictor, StyleTransform
from installation.pack import PACK_DIR, PACK_FILES, pack_path

WRAPPERS: dict[str, type[OnnxModel]] = {
    "generator": Generator, "upscaler": Upscaler, "encoder": PaintingEncoder, "emotion": EmotionClassifier,
    "stylizer": StyleTransform, "style_predictor": StylePredictor,
}
PROBE_TIMEOUT = 60.0


def probe_gl() -> dict[str, str]:
    """Child process: a headless EGL context's vendor, renderer and version."""
    from installation.render import create_context

    with create_context("headless", (16, 16)) as rc:
        return rc.info


def probe_displays() -> list[dict[str, object]]:
    """Child process: every screen pyglet sees, with its size and the modes it offers."""
    import pyglet

    from installation.render.context.window import _pyglet_display

    screens = []
    for i, screen in enumerate(_pyglet_display(pyglet).get_screens()):
        try:
            modes = sorted({(m.width, m.height, getattr(m, "rate", 0) or 0) for m in screen.get_modes()}, reverse=True)
        except Exception:  # some servers (Xvfb) list no modes
            modes = []
        screens.append({"index": i, "x": screen.x, "y": screen.y, "width": screen.width, "height": screen.height,
                        "modes": [f"{w}x{h}" + (f"@{r}" if r else "") for w, h, r in modes]})
    return screens


def _child(name: str) -> tuple[object | None, str]:
    """Run ``probe_<name>`` in a child process; (result, "") or (None, one-line reason)."""
    code = f"import json; from installation.doctor import probe_{name}; print('PROBE ' + json.dumps(probe_{name}()))"
    try:
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=PROBE_TIMEOUT)
    except subprocess.TimeoutExpired:
        return None, f"timed out after {PROBE_TIMEOUT:g} s"
    for line in proc.stdout.splitlines():
        if line.startswith("PROBE "):
            return json.loads(line[6:]), ""
    lines = [line for line in proc.stderr.strip().splitlines() if line.strip()]
    return None, lines[-1] if lines else f"exit code {proc.returncode}"


def find_cameras(indices: range = range(4)) -> list[str]:
    """Cameras that open and give a frame (V4L2 on Linux; only indices with a /dev/videoN are tried)."""
    import cv2

    found = []
    linux = sys.platform.startswith("linux")
    for i in indices:
        if linux and not Path(f"/dev/video{i}").exists():
            continue
        capture = cv2.VideoCapture(i, cv2.CAP_V4L2) if linux else cv2.VideoCapture(i)
        try:
            if capture.isOpened():
                ok, frame = capture.read()
                got = ok and frame is not None
                found.append(f"{i}: {frame.shape[1]}x{frame.shape[0]}" if got else f"{i}: opens, no frame")
        finally:
            capture.release()
    return found


def report_gl() -> None:
    info, reason = _child("gl")
    if isinstance(info, dict):
        gl = " | ".join(str(info.get(k)) for k in ("GL_VENDOR", "GL_RENDERER", "GL_VERSION"))
        print(f"opengl       {gl} (headless EGL)")
    else:
        print(f"opengl       no headless EGL context: {reason}")


def report_displays() -> None:
    from installation.render import display_available

    if not display_available():
        print("displays     no display (DISPLAY and WAYLAND_DISPLAY are not set): `installation run` renders to a file")
        return
    screens, reason = _child("displays")
    if not isinstance(screens, list):
        print(f"displays     no display: {reason}")
        return
    print(f"displays     {len(screens)} screen(s)")
    for s in screens:
        modes = s["modes"]
        more = f", ... ({len(modes)} modes)" if len(modes) > 6 else ""
        shown = ", ".join(modes[:6]) + more if modes else "no modes"
        print(f"  screen {s['index']}: {s['width']}x{s['height']} at ({s['x']}, {s['y']}); modes: {shown}")


def report_kiosk() -> None:
    """What `installation kiosk` relies on around the show: its state folder, display power, OSC."""
    import tempfile
    from importlib import metadata

    from installation.kiosk.display import DisplayPower
    from installation.kiosk.last_good import default_state_dir
    from installation.render import display_available

    state = default_state_dir()
    try:
        state.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=state):
            pass
        writable = "writable"
    except OSError as exc:
        writable = f"NOT writable ({exc.strerror or exc}): restarts cannot fall back to the last good show"
    print(f"kiosk        state folder {state} ({writable})")
    print(f"             display power: {DisplayPower(headless=not display_available()).why}")
    try:
        osc = f"python-osc {metadata.version('python-osc')}"
    except metadata.PackageNotFoundError:
        osc = "python-osc missing (pip install python-osc): no --osc"
    print(f"             control: HTTP (stdlib), OSC: {osc}")


def report_wall() -> None:
    """What a wall player relies on: a synchronised clock, the MQTT client, a broker (docs/wall.md)."""
    import shutil
    from importlib import metadata

    from installation.wall.clock_sync import clock_sync

    print(f"wall         clock: {clock_sync().line()}")
    try:
        paho = f"paho-mqtt {metadata.version('paho-mqtt')}"
    except metadata.PackageNotFoundError:
        paho = "paho-mqtt missing (pip install paho-mqtt): no --broker"
    broker = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None)
    print(f"             MQTT: {paho}; mosquitto broker {'at ' + broker if broker else 'not installed here'}")


def run_doctor(models: str | None = None) -> int:
    import onnxruntime as ort

    print(f"python       {platform.python_version()} on {platform.system()} {platform.machine()}")
    report_gl()
    report_displays()
    cameras = find_cameras()
    video_nodes = sorted(glob.glob("/dev/video*")) if sys.platform.startswith("linux") else []
    print(f"cameras      {'; '.join(cameras) if cameras else 'none'}"
          + (f" ({len(video_nodes)} /dev/video node(s))" if video_nodes and not cameras else ""))
    print(f"onnxruntime  {ort.__version__}, providers: {', '.join(ort.get_available_providers())}")
    report_kiosk()
    report_wall()
    folder = Path(models) if models else PACK_DIR
    print(f"model pack   {folder}")
    failures = 0
    for kind, name in PACK_FILES.items():
        path = pack_path(kind, folder)
        t0 = time.perf_counter()
        try:
            model = WRAPPERS[kind](path)
            ms = (time.perf_counter() - t0) * 1e3
            size = path.stat().st_size / 1e6
            print(f"  ok   {kind:9s} {name:18s} {size:5.1f} MB, loads in {ms:4.0f} ms ({model.providers[0]})")
        except ModelContractError as exc:
            failures += 1
            print(f"  FAIL {kind:9s} {exc}")
    print("all models load" if not failures else f"{failures} model(s) missing or invalid")
    return 0 if not failures else 1
