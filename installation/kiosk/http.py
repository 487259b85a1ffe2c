"""``--http HOST:PORT``: ``/health``, ``/status`` (JSON), ``/metrics`` (Prometheus text), ``/screenshot``
(PNG) and ``POST /control/...`` (go, next, previous, cue/ID, pause, resume, blackout, unblackout,
reload; the answer is the status JSON with a ``control`` member, built by :func:`remote.execute`, the
command path OSC shares), stdlib only.

Served from a daemon thread; every answer is built from :meth:`Supervisor.status` (a snapshot taken
under the supervisor's lock), so a slow client never touches the supervision loop. With a token, every
request but ``GET /health`` needs it (``Authorization: Bearer T``, ``X-Token: T`` or ``?token=T``).
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from installation.kiosk import remote

log = logging.getLogger(__name__)

# the argument-less commands of ``POST /control/CMD``; ``cue`` takes its id from the path
CONTROL_COMMANDS = tuple(c for c in remote.COMMANDS if c != "cue")


def metrics_text(status: dict[str, Any]) -> str:
    """Prometheus text exposition format 0.0.4."""
    rows = [
        ("installation_frames_total", "counter", "Frames presented by the player (all children).",
         status["frames_total"]),
        ("installation_restarts_total", "counter", "Player restarts by the supervisor.", status["restarts"]),
        ("installation_fps", "gauge", "Frames per second over the rolling window.", status["fps"]),
        ("installation_frame_time_p50_seconds", "gauge", "Median frame time.", status["frame_time_p50_ms"] / 1e3),
        ("installation_frame_time_p99_seconds", "gauge", "99th percentile frame time.",
         status["frame_time_p99_ms"] / 1e3),
        ("installation_dropped_frames_total", "counter", "Frames that took over 1.5 target intervals.",
         status["dropped_frames_total"]),
        ("installation_player_up", "gauge", "1 while the player presents frames.", int(status["healthy"])),
        ("installation_safe_mode", "gauge", "1 while the holding screen plays instead of the show.",
         int(status["safe_mode"])),
        ("installation_open", "gauge", "1 inside opening hours (always 1 without a schedule).",
         int(status.get("open", True))),
        ("installation_rss_bytes", "gauge", "Resident memory of the player process.", status["rss_bytes"] or 0),
        ("installation_uptime_seconds", "gauge", "Seconds since the supervisor started.", status["uptime_seconds"]),
    ]
    media = status.get("media") or {}
    rows += [
        ("installation_media_failing", "gauge", "Image files that fail to read now (skipped, being retried).",
         int(media.get("failing", 0))),
        ("installation_media_skipped_total", "counter", "Times an image was wanted and not shown (this player).",
         int(media.get("skipped_total", 0))),
        ("installation_scene_fallbacks", "gauge", "Cues playing a fallback (a model or scene that cannot start).",
         len(status.get("fallbacks") or {})),
    ]
    camera = (status.get("camera") or {}).get("state", "none")
    if camera != "none":  # only while a cue uses a camera: no false alarm during the other cues
        rows.append(("installation_camera_up", "gauge", "1 while the camera delivers frames.", int(camera == "ok")))
    out = []
    for name, kind, help_text, value in rows:
        text = str(value) if isinstance(value, int) else f"{float(value):.6g}"
        out += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}", f"{name} {text}"]
    return "\n".join(out) + "\n"


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        log.debug("http %s " + format, self.client_address[0], *args)

    def _send(self, code: int, body: str, ctype: str = "text/plain; charset=utf-8") -> None:
        self._send_bytes(code, body.encode(), ctype)

    def _authorised(self, query: dict[str, list[str]]) -> bool:
        auth = self.headers.get("Authorization", "")
        given = (auth[7:] if auth.startswith("Bearer ") else None) or self.headers.get("X-Token") \
            or (query.get("token") or [None])[0] or ""
        return remote.token_ok(self.server.token, given)

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        url = urlsplit(self.path)
        path, query = url.path.rstrip("/") or "/", parse_qs(url.query)
        status = self.server.supervisor.status()
        if path == "/health":
            if status["healthy"]:
                self._send(200, "ok\n")
            else:
                self._send(503, f"{'safe mode' if status['safe_mode'] else 'no frames'}: {status['state']}\n")
            return
        if path not in ("/status", "/metrics", "/screenshot"):
            self._send(404, "not found: try /health, /status, /metrics, /screenshot\n")
            return
        if not self._authorised(query):
            self._send(401, "token required\n")
            return
        if path == "/screenshot":
            png = self.server.supervisor.screenshot()
            if png is None:
                self._send(503, "no player frame to show (no player, safe mode, or no answer)\n")
            else:
                self._send_bytes(200, png, "image/png")
            return
        if path == "/status":
            self._send(200, json.dumps(status, indent=1) + "\n", "application/json")
        else:
            self._send(200, metrics_text(status), "text/plain; version=0.0.4; charset=utf-8")

    do_HEAD = do_GET

    def _send_bytes(self, code: int, data: bytes, ctype: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
        url = urlsplit(self.path)
        path, query = url.path.rstrip("/") or "/", parse_qs(url.query)
        length = int(self.headers.get("Content-Length") or 0)
        if 0 < length <= 65536:
            self.rfile.read(length)  # a body is allowed and ignored
        if not self._authorised(query):
            self._send(401, "token required\n")
            return
        parts = path.split("/")[1:]
        cue_id = None
        if len(parts) == 3 and parts[:2] == ["control", "cue"] and parts[2]:
            cmd, cue_id = "cue", unquote(parts[2])
        elif len(parts) == 2 and parts[0] == "control" and parts[1] in CONTROL_COMMANDS:
            cmd = parts[1]
        else:
            self._send(404, "not found: POST /control/{" + ",".join(CONTROL_COMMANDS) + "} or /control/cue/ID\n")
            return
        status, code = remote.execute(self.server.supervisor, cmd, cue_id)
        self._send(code, json.dumps(status, indent=1) + "\n", "application/json")


class _Server(remote.BoundedThreads, ThreadingHTTPServer):
    daemon_threads = True
    supervisor: Any
    token: str | None


def serve(supervisor: Any, host: str, port: int, token: str | None) -> _Server:
    """Start the server on a daemon thread; ``server.server_address`` has the bound port."""
    cls = type("_Server6", (_Server,), {"address_family": socket.AF_INET6}) if ":" in host else _Server
    server = cls((host, port), _Handler)
    server.supervisor, server.token = supervisor, token
    threading.Thread(target=server.serve_forever, name="kiosk-http", daemon=True).start()
    return server
