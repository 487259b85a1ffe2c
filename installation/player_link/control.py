"""The player's control channel: small JSON commands from the kiosk supervisor on a loopback UDP port.

The supervisor sets ``INSTALLATION_CONTROL=127.0.0.1:PORT`` (next to ``INSTALLATION_HEARTBEAT``); the
player binds that port and, at the start of every frame (:meth:`Control.pre_frame`, on the render
thread), drains the non-blocking socket and applies what came: ``{"cmd": "next", "seq": 7}``. Each
command is answered with ``{"pid", "reply": CMD, "seq", "ok", "error"?}`` to the address it came from.

Commands: ``go`` (= next), ``next``, ``previous``, ``cue`` (``"id"``), ``pause``, ``resume``,
``blackout``, ``unblackout``, ``reload`` (load the show file again, on a worker thread: it is answered
once loaded, and takes over at the next cue boundary, see :meth:`installation.player.Player.request_reload`;
with a ``"version"`` the player also sends ``{"pid", "switched": VERSION}`` on the first frame it draws
from that show, which starts the supervisor's trial of a new version) and ``screenshot`` (``"path"``: a PNG
of the frame drawn right after the command is written there; the supervisor owns the directory).
Nothing here can stop the render loop: a bad datagram or a failing command is logged and answered.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
from pathlib import Path
from typing import Any, Literal

from installation.address import parse_address
from installation.player_link import CONTROL_ENV

log = logging.getLogger(__name__)

COMMANDS = ("go", "next", "previous", "cue", "pause", "resume", "blackout", "unblackout", "reload", "screenshot")
MAX_PER_FRAME = 32


class Control:
    def __init__(self, address: tuple[str, int]) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(address)
        self.sock.setblocking(False)
        self.pid = os.getpid()
        # a reload being loaded: (worker, its message, who asked, the worker's result)
        self._loading: tuple[threading.Thread, dict[str, Any], Any, list[Any]] | None = None
        self._announce: tuple[Any, str, Any] | None = None  # (show, version, to whom): say when it is drawn

    def _reply(self, to: Any, msg: dict[str, Any], ok: bool, error: str | None = None, **extra: Any) -> None:
        out = {"pid": self.pid, "reply": msg.get("cmd"), "seq": msg.get("seq"), "ok": ok, **extra}
        if error:
            out["error"] = error
        with contextlib.suppress(OSError):
            self.sock.sendto(json.dumps(out).encode(), to)

    def pre_frame(self, player: Any) -> None:
        """Apply every command that arrived since the last frame (never blocks)."""
        self._loaded(player)
        if self._announce is not None and player.show is self._announce[0]:
            _, version, to = self._announce
            self._announce = None
            with contextlib.suppress(OSError):
                self.sock.sendto(json.dumps({"pid": self.pid, "switched": version}).encode(), to)
        for _ in range(MAX_PER_FRAME):
            try:
                data, sender = self.sock.recvfrom(65536)
            except OSError:  # BlockingIOError: nothing waiting; anything else: the socket is gone
                return
            try:
                msg = json.loads(data)
                if not isinstance(msg, dict):
                    raise ValueError("not an object")
            except ValueError:
                log.warning("control: ignored a malformed datagram")
                continue
            try:
                error = self.apply(player, msg, sender)
            except Exception as exc:  # noqa: BLE001 - a command must never stop the show
                log.exception("control: %s failed", msg.get("cmd"))
                error = f"{type(exc).__name__}: {exc}"
            if error is not False:
                self._reply(sender, msg, error is None, error)

    def apply(self, player: Any, msg: dict[str, Any], sender: Any) -> str | Literal[False] | None:

        """None: done; a string: the error; False: answered later (screenshot)."""
        cmd = msg.get("cmd")
        if cmd not in COMMANDS:
            return f"unknown command {cmd!r}"
        if cmd == "screenshot":
            path = Path(str(msg.get("path", "")))

            def encode(pixels: Any) -> None:
                import cv2

                ok, png = cv2.imencode(".png", cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR))
                if ok:
                    path.write_bytes(png.tobytes())
                self._reply(sender, msg, bool(ok), None if ok else "PNG encoding failed", path=str(path))

            def capture(pixels: Any) -> None:
                # the render thread only reads the pixels back; encoding a frame (30-40 ms at 1080p) and
                # writing it happen on a short worker, so a console preview never costs the wall a frame
                threading.Thread(target=encode, args=(pixels,), name="screenshot-encode", daemon=True).start()

            player.capture = capture
            return False
        if cmd == "reload":
            # the supervisor names the file (its last good copy of the show); by hand, the player's own file
            path = msg.get("path") or player.show.path
            if path is None:
                return "the show has no file to reload"
            if self._loading is not None:
                return "a reload is already being loaded"
            base_dir = msg.get("base_dir") or (None if msg.get("path") else player.show.base_dir)
            result: list[Any] = []
            # loading a show reads files (images, models): on a worker, never the render thread (a frame late)
            worker = threading.Thread(target=_load, args=(path, base_dir, result), name="control-reload", daemon=True)
            self._loading = (worker, msg, sender, result)
            worker.start()
            return False  # answered by _loaded when the worker is done
        return player.command(cmd, msg.get("id"))

    def _loaded(self, player: Any) -> None:
        """A reload's worker is done: hand its show to the player (on the render thread) and answer."""
        if self._loading is None or self._loading[0].is_alive():
            return
        _, msg, sender, result = self._loading
        self._loading = None
        report = result[0] if result else RuntimeError("the loader stopped without a result")
        if isinstance(report, BaseException):
            error: str | None = f"{type(report).__name__}: {report}"
        elif not report.ok or report.show is None:
            error = "; ".join(str(e) for e in report.errors[:5]) or "invalid show"
        else:
            error = None
            player.request_reload(report.show)
            if msg.get("version"):
                self._announce = (report.show, str(msg["version"]), sender)
        self._reply(sender, msg, error is None, error)

    def close(self) -> None:
        self.sock.close()


def _load(path: Any, base_dir: Any, result: list[Any]) -> None:
    """The reload worker: check (load) the show; the report, or the exception, goes into ``result``."""
    try:
        from installation.show import check_show

        result.append(check_show(path, base_dir))
    except BaseException as exc:  # noqa: BLE001 - answered to the supervisor, never raised on a thread
        result.append(exc)


def from_env() -> Control | None:
    text = os.environ.get(CONTROL_ENV)
    if not text:
        return None
    try:
        return Control(parse_address(text, CONTROL_ENV))
    except (ValueError, OSError) as exc:
        log.warning("%s=%r: %s; no control channel", CONTROL_ENV, text, exc)
        return None
