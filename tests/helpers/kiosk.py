"""A kiosk under test: ``installation kiosk`` in a process of its own (or a Supervisor stepped on a thread),
driven over HTTP. Shared by the kiosk test modules (supervisor, control, faults, schedule, OSC, logs, window)."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]

FAST = ["--headless", "--size", "160x90", "--fps", "30", "--stall-seconds", "1.5", "--kill-grace", "0.3",
        "--backoff-base", "0.2", "--start-seconds", "20"]

# nine colours far apart (and from the background), one per image
COLOURS = [(230, 30, 30), (30, 230, 30), (30, 30, 230), (230, 230, 30), (230, 30, 230), (30, 230, 230),
           (240, 140, 20), (120, 60, 200), (200, 200, 200)]


@functools.cache
def egl_available() -> bool:
    from installation.render import ContextUnavailable, create_context

    try:
        create_context("headless", (16, 16)).close()
    except ContextUnavailable:
        return False
    return True


def needs_egl(test: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a test ``gl`` (it opens an EGL context, in the player child) and skip it where there is none."""
    return pytest.mark.gl(pytest.mark.skipif(not egl_available(), reason="no headless EGL context here")(test))


class Kiosk:
    def __init__(self, proc: subprocess.Popen | None, url: str, token: str | None, log: Path | None = None) -> None:
        self.proc, self.url, self.token, self.log = proc, url, token, log
        self.pids: set[int] = set()

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def get(self, path: str, token: str | None = "default", timeout: float = 2.0) -> tuple[int, str]:
        req = urllib.request.Request(self.url + path)
        token = self.token if token == "default" else token
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def status(self) -> dict:
        code, body = self.get("/status")
        assert code == 200, body
        st = json.loads(body)
        if st["player_pid"]:
            self.pids.add(st["player_pid"])
        return st

    def wait(self, what: str, cond: Callable[[dict], Any], timeout: float = 20.0) -> dict:
        end = time.monotonic() + timeout
        st: dict = {}
        while time.monotonic() < end:
            st = self.status()
            if cond(st):
                return st
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}: {st}")

    def raw(self, data: bytes, source: str = "127.0.0.1") -> bytes:
        """Send ``data`` on a fresh connection (from address ``source``) and read the answer until the server
        closes."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5, source_address=(source, 0)) as s:
            s.sendall(data)
            out = b""
            with contextlib.suppress(OSError):
                while chunk := s.recv(65536):
                    out += chunk
            return out


@contextlib.contextmanager
def kiosk(tmp_path: Path, show: Path, *extra: str, bind: str = "127.0.0.1:0", token: str | None = None,
          env: dict[str, str] | None = None, fast: Sequence[str] = FAST) -> Iterator[Kiosk]:
    """``installation kiosk SHOW --http BIND`` with the ``fast`` timings, its stderr in ``tmp_path/kiosk.log``
    (:attr:`Kiosk.log`); stopped (SIGTERM, then SIGKILL) with every player it started."""
    args = [sys.executable, "-m", "installation.cli", "kiosk", str(show), "--http", bind, *fast, *extra]
    if token:
        args += ["--token", token]
    log_path = tmp_path / "kiosk.log"
    log = log_path.open("w")
    proc = subprocess.Popen(args, cwd=REPO, stdout=subprocess.PIPE, stderr=log, text=True,
                            env={**os.environ, **(env or {})})
    k = None
    try:
        line = proc.stdout.readline()
        m = re.search(r"http://([^:/]+):(\d+)/", line)
        assert m, f"no http line: {line!r} {log_path.read_text()}"
        k = Kiosk(proc, f"http://127.0.0.1:{m.group(2)}", token, log_path)
        yield k
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for pid in k.pids if k else ():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        log.close()


def post(k: Kiosk, path: str, token: str | None = "default") -> tuple[int, dict | str]:
    req = urllib.request.Request(k.url + path, data=b"", method="POST")
    token = k.token if token == "default" else token
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        body = exc.read().decode()
        return exc.code, (json.loads(body) if body.startswith("{") else body)


def colour(k: Kiosk, size: tuple[int, int] = (160, 90)) -> tuple[int, int, int]:
    """The colour at the centre of the player's next frame (GET /screenshot of a show of ``size``)."""
    req = urllib.request.Request(k.url + "/screenshot")
    if k.token:
        req.add_header("Authorization", f"Bearer {k.token}")
    with urllib.request.urlopen(req, timeout=5) as resp:
        assert resp.headers["Content-Type"] == "image/png"
        img = cv2.imdecode(np.frombuffer(resp.read(), np.uint8), cv2.IMREAD_COLOR)
    w, h = size
    assert img.shape == (h, w, 3)
    b, g, r = (int(v) for v in img[h // 2, w // 2])
    return r, g, b


def near(got: tuple[int, int, int], want: str) -> bool:
    rgb = tuple(int(want[i:i + 2], 16) for i in (1, 3, 5))
    return max(abs(a - b) for a, b in zip(got, rgb, strict=True)) <= 3


def until(what: str, cond, timeout: float = 10.0) -> None:  # noqa: ANN001
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def wait_for(what: str, cond, timeout: float = 20.0):  # noqa: ANN001, ANN201
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = cond()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def player_errors(st: dict, kind: str) -> list[str]:
    return [e["message"] for e in st["last_errors"] if e.get("source") == "player" and e.get("kind") == kind]


def two_cue_show(name: str, second: str = "b", colour: str = "#2040c0") -> str:
    """A 160x90 show: cue ``a`` (solid #c03020 for 600 s), then cue ``second`` (solid ``colour``, held)."""
    return f"""version: 1
name: {name}
display: {{size: 160x90, background: [0, 0, 0]}}
cues:
  - {{id: a, scene: {{type: solid, colour: "#c03020"}}, duration: 600, transition: cut}}
  - {{id: {second}, scene: {{type: solid, colour: "{colour}"}}, transition: cut, follow: hold}}
"""


SCHEDULE_SHOW = two_cue_show("schedule test", "closed")


def schedule_from_text(text: str) -> Any:
    """A valid :class:`installation.kiosk.schedule.Schedule` from YAML text (the test fails on any error)."""
    from installation.kiosk.schedule import check_schedule_text

    report = check_schedule_text(text, "hours.yaml")
    assert report.ok, [str(e) for e in report.errors]
    assert report.schedule is not None
    return report.schedule


@contextlib.contextmanager
def supervised(tmp_path: Path, schedule_text: str | None, clock, display: Any = None,  # noqa: ANN001, ANN201
               **config_extra):  # noqa: ANN003
    """A real Supervisor (stepped on a thread, as ``run`` would) with a real headless player and HTTP server,
    playing :data:`SCHEDULE_SHOW`; ``clock`` is its wall clock, so a test moves through days without waiting."""
    from installation.kiosk import http
    from installation.kiosk.supervisor import KioskConfig, Supervisor
    from installation.show import load_show

    show_path = tmp_path / "show.yaml"
    show_path.write_text(SCHEDULE_SHOW)
    schedule = None if schedule_text is None else schedule_from_text(schedule_text)
    assert schedule is None or schedule.check_cues([c.id for c in load_show(show_path).cues]) == []
    config = KioskConfig(show=show_path, size=(160, 90), headless=True, fps=30, stall_seconds=2, kill_grace=0.3,
                         backoff_base=0.2, start_seconds=20, schedule=schedule, **config_extra)
    sup = Supervisor(config, clock=clock, display=display)
    server = http.serve(sup, "127.0.0.1", 0, None)
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            sup.step(time.monotonic())
            time.sleep(0.02)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    k = Kiosk(None, f"http://127.0.0.1:{server.server_address[1]}", None)
    try:
        yield k, sup
    finally:
        stop.set()
        thread.join(5)
        server.shutdown()
        sup.close()
