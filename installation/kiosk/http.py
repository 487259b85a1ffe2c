"""``--http HOST:PORT``: ``/health``, ``/status`` (JSON), ``/metrics`` (Prometheus text), ``/screenshot``
(PNG) and ``POST /control/...`` (go, next, previous, cue/ID, pause, resume, blackout, unblackout,
reload; the answer is the status JSON with a ``control`` member, built by :func:`remote.execute`, the
command path OSC shares), stdlib only.

Served from a daemon thread; every answer is built from :meth:`Supervisor.status` (a snapshot taken
under the supervisor's lock), so a slow client never touches the supervision loop. With a token, every
request but ``GET /health`` needs it (``Authorization: Bearer T``, ``X-Token: T`` or ``?token=T``).

Hostile clients (docs/kiosk.md, "Limits of the control servers"): a connection silent for
:data:`IDLE_SECONDS` is closed, and one whose request (line, headers, body) has not arrived within
:data:`REQUEST_SECONDS` is cut (a client sending a byte a second); at most 4 connections per client
address and 16 in all (:class:`remote.BoundedThreads`); headers over :data:`MAX_HEAD_BYTES` get 431, a
body over :data:`MAX_BODY_BYTES` 413, a malformed request or Content-Length 400; refusals and errors are
logged as one short line at most every 10 s (never a traceback per request); ``/screenshot`` (it costs
the player a PNG encoding on its render thread) is taken one at a time: a second one meanwhile gets 429.

The web console (installation/kiosk/console/, docs/console.md) lives under ``/console``. It adds a second way
in: a signed session cookie (``HttpOnly; SameSite=Strict``) handed out for the token, accepted wherever the
token is; a request authenticated by that cookie must carry its CSRF token (``X-CSRF-Token``) to change
anything. Every POST (control included) whose ``Origin``/``Referer``/``Sec-Fetch-Site`` says another site is
refused with 403 before it runs. Uploads (a show file, an image) may have larger bodies
(:data:`installation.kiosk.console.routes.UPLOAD_LIMITS`) and :data:`UPLOAD_SECONDS` to arrive, but only for a
client that is authenticated before its body is read.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from installation.kiosk import remote
from installation.kiosk.console import Console
from installation.kiosk.console.auth import same_origin
from installation.kiosk.console.routes import Access

log = logging.getLogger(__name__)

# the argument-less commands of ``POST /control/CMD``; ``cue`` takes its id from the path
CONTROL_COMMANDS = tuple(c for c in remote.COMMANDS if c != "cue")
IDLE_SECONDS = 5.0  # a client that sends nothing for this long is dropped (the socket's read timeout)
REQUEST_SECONDS = 10.0  # the whole request must have arrived by then (a slow sender holds no slot longer)
MAX_HEAD_BYTES = 16 << 10  # request line and headers together
MAX_BODY_BYTES = 64 << 10  # a POST body (it is read and ignored)
UPLOAD_SECONDS = 120.0  # an authenticated upload's body may take this long (a phone on slow Wi-Fi)


class _TooLarge(Exception):
    """The request's head is over :data:`MAX_HEAD_BYTES`."""


class _HeadLimit:
    """The handler's ``rfile``, counting what the request line and header lines take (``readline``) so a
    client cannot make us buffer 100 header lines of 64 KiB each; ``read`` (the body) is capped elsewhere."""

    def __init__(self, raw: Any, limit: int) -> None:
        self.raw, self.left = raw, limit

    def readline(self, size: int = -1) -> bytes:
        want = self.left + 1 if size is None or size < 0 else min(size, self.left + 1)
        line = self.raw.readline(want)
        self.left -= len(line)
        if self.left < 0:
            raise _TooLarge
        return line

    def __getattr__(self, name: str) -> Any:  # read, close, ...: the raw file's
        return getattr(self.raw, name)


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
    timeout = IDLE_SECONDS  # StreamRequestHandler sets it on the socket: a silent client's read times out

    def setup(self) -> None:
        super().setup()
        self.rfile = _HeadLimit(self.rfile, MAX_HEAD_BYTES)  # type: ignore[assignment]
        # a client that sends a byte every few seconds never trips the read timeout: cut it at the deadline
        self._deadline = threading.Timer(REQUEST_SECONDS, self._expire)
        self._deadline.daemon = True
        self._deadline.start()

    def _expire(self) -> None:
        self.server.refused(self.client_address[0], f"request not complete within {REQUEST_SECONDS:g} s; closed")
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)  # the blocked read returns, the handler ends

    def _extend_deadline(self, seconds: float) -> None:
        """An authenticated upload: its body may take longer than an ordinary request."""
        self._deadline.cancel()
        self._deadline = threading.Timer(seconds, self._expire)
        self._deadline.daemon = True
        self._deadline.start()

    def _arrived(self) -> None:
        """The request is in: the rest (a control waiting for the player) is not the client's doing."""
        self._deadline.cancel()

    def finish(self) -> None:
        self._deadline.cancel()
        with contextlib.suppress(OSError):  # the client is gone or was cut: nothing to flush to
            super().finish()

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except _TooLarge:
            self.close_connection = True
            self.server.refused(self.client_address[0], "431: request head too large")
            self._raw_reply(431, "Request Header Fields Too Large")
        except (OSError, ValueError):  # reset, cut at the deadline (a closed file): the connection is over
            self.close_connection = True

    def _raw_reply(self, code: int, reason: str) -> None:
        """An answer without anything the half-parsed request may lack (its version, its command)."""
        body = f"{code} {reason}\n".encode()
        with contextlib.suppress(OSError, ValueError):
            self.wfile.write(f"HTTP/1.0 {code} {reason}\r\nContent-Type: text/plain\r\nContent-Length: "
                             f"{len(body)}\r\nConnection: close\r\n\r\n".encode() + body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        log.debug("http %s " + format, self.client_address[0], *args)

    def log_error(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        # the stdlib's refusals (400 bad request line, 414, 431, timeouts): one short line now and then
        self.server.refused(self.client_address[0], format % args)

    def _send(self, code: int, body: str, ctype: str = "text/plain; charset=utf-8",
              retry_after: int | None = None) -> None:
        self._send_bytes(code, body.encode(), ctype, retry_after)

    def _access(self, query: dict[str, list[str]]) -> Access:
        """How this request is authenticated: the token given (right or wrong) decides; else a valid console
        session cookie; else ``open`` when the kiosk has no token."""
        auth = self.headers.get("Authorization", "")
        given = (auth[7:] if auth.startswith("Bearer ") else None) or self.headers.get("X-Token") \
            or (query.get("token") or [""])[0] or ""
        token = self.server.token
        if token and given:
            return Access("token" if remote.token_ok(token, given) else None)
        nonce = self.server.console.session(self.headers.get("Cookie"))
        if nonce is not None:
            return Access("cookie", nonce)
        return Access("open" if not token else None)

    def _authorised(self, query: dict[str, list[str]]) -> bool:
        return self._access(query).kind is not None

    def _reply(self, code: int, data: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
        self._send_bytes(code, data, ctype, headers=headers)

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        self._arrived()
        url = urlsplit(self.path)
        path, query = url.path.rstrip("/") or "/", parse_qs(url.query)
        status = self.server.supervisor.status()
        if path == "/health":
            if status["healthy"]:
                self._send(200, "ok\n")
            else:
                self._send(503, f"{'safe mode' if status['safe_mode'] else 'no frames'}: {status['state']}\n")
            return
        if path == "/console" or path.startswith("/console/"):
            self.server.console.get(self._reply, path, query, self._access(query), self.client_address[0],
                                    self.headers.get("Host"))
            return
        if path not in ("/status", "/metrics", "/screenshot"):
            self._send(404, "not found: try /console, /health, /status, /metrics, /screenshot\n")
            return
        if not self._authorised(query):
            self._send(401, "token required\n")
            return
        if path == "/screenshot":
            if not self.server.shot_slot():
                self.server.refused(self.client_address[0], "429: a screenshot is already being taken")
                self._send(429, "one screenshot at a time: one is being taken\n", retry_after=1)
                return
            try:
                png = self.server.supervisor.screenshot()
            finally:
                self.server.shot_done()
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

    def _send_bytes(self, code: int, data: bytes, ctype: str, retry_after: int | None = None,
                    headers: dict[str, str] | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        if retry_after is not None:
            self.send_header("Retry-After", str(retry_after))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
        url = urlsplit(self.path)
        path, query = url.path.rstrip("/") or "/", parse_qs(url.query)
        text = (self.headers.get("Content-Length") or "0").strip()
        if not text.isdigit() or not text.isascii():
            self.close_connection = True
            self.server.refused(self.client_address[0], f"400: malformed Content-Length {text[:40]!r}")
            self._send(400, "malformed Content-Length\n")
            return
        length = int(text)
        console, client = self.server.console, self.client_address[0]
        access = self._access(query)
        upload = console.upload_limit(path)
        limit = MAX_BODY_BYTES if upload is None else upload
        if upload is not None and access.kind not in ("token", "cookie"):
            self.close_connection = True  # an upload's body is never read for someone who may not upload
            self._send(401, "log in at /console first\n")
            return
        if length > limit:
            self.close_connection = True
            self.server.refused(client, f"413: body of {length} bytes")
            self._send(413, f"request body too large (at most {limit} bytes)\n")
            return
        cross = same_origin(self.headers.get("Host"), self.headers.get("Origin"), self.headers.get("Referer"),
                            self.headers.get("Sec-Fetch-Site"))
        if cross is not None:
            self.close_connection = True  # its body is left unread
            self.server.refused(client, f"403: cross-site POST ({cross})")
            self._send(403, f"cross-site request refused ({cross})\n")
            return
        if upload is not None and length:
            self._extend_deadline(UPLOAD_SECONDS)
        body = self.rfile.read(length) if length else b""  # read (still under the request deadline)
        self._arrived()
        if path == "/console" or path.startswith("/console/"):
            console.post(self._reply, path, query, body, access, client, self.headers.get("Host"),
                         self.headers.get("X-CSRF-Token"))
            return
        if access.kind is None:
            self._send(401, "token required\n")
            return
        if access.kind == "cookie" and not console.csrf_passed(access, self.headers.get("X-CSRF-Token")):
            self._send(403, "the console's CSRF token is missing or wrong: reload the page\n")
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
    console: Console

    def server_activate(self) -> None:
        self._refusals = remote.Throttle()
        self._shot_lock = threading.Lock()
        super().server_activate()

    def refused(self, host: str, what: str) -> None:
        """A refused or broken request: one short line at most every 10 s, with the count (no flood)."""
        count = self._refusals()
        if count:
            log.warning("http: %d request(s) refused or cut since the last such line (latest from %s: %s)", count,
                        host, " ".join(str(what).split())[:160])

    def handle_error(self, request: Any, client_address: Any) -> None:
        # socketserver would print a traceback per broken request: anyone could fill the log with them
        exc = sys.exc_info()[1]
        log.debug("http: request from %s failed", client_address[0], exc_info=True)
        self.refused(str(client_address[0]), f"{type(exc).__name__}: {exc}")

    def shot_slot(self) -> bool:
        """May a screenshot be taken now? (one at a time: each costs the player an encoding)"""
        return self._shot_lock.acquire(blocking=False)

    def shot_done(self) -> None:
        self._shot_lock.release()


def serve(supervisor: Any, host: str, port: int, token: str | None) -> _Server:
    """Start the server on a daemon thread; ``server.server_address`` has the bound port."""
    cls = type("_Server6", (_Server,), {"address_family": socket.AF_INET6}) if ":" in host else _Server
    server = cls((host, port), _Handler)
    server.supervisor, server.token = supervisor, token
    server.console = Console(supervisor, token, remote.is_loopback(host), server.shot_slot, server.shot_done)
    threading.Thread(target=server.serve_forever, name="kiosk-http", daemon=True).start()
    return server
