"""The console's requests: which path does what, and who may (rules in :mod:`.auth`).

installation/kiosk/http.py hands every ``/console`` request here (:meth:`Console.get`, :meth:`Console.post`)
together with how the request was authenticated (:class:`Access`), after its own limits (sizes, deadlines,
threads) and the same-origin check of every POST. Answers go back through the :class:`Responder` the
handler passes in.

| request | does |
|---|---|
| ``GET /console`` | the console (a valid session cookie; ``?token=T`` once sets it; else the login page) |
| ``POST /console/login`` / ``logout`` | token form -> session cookie (rate-limited) / cookie cleared |
| ``GET /console/static/NAME`` | the page's CSS and JavaScript (public: nothing secret in them) |
| ``GET /console/api/session`` | the CSRF token and the page's settings |
| ``GET /console/api/show`` | the show's name, cues and collections (from the version that plays) |
| ``GET /console/api/show/file`` | the show file as it is on disk (to download and edit) |
| ``POST /console/api/show`` | a new version of the show file (the body), checked, then reloaded |
| ``POST /console/api/media?collection=I&name=N`` | one image (the body) into the show's collection I |
| ``GET /console/api/log?after=SEQ`` | the log lines after SEQ |
| ``GET /console/preview.jpg`` | the current frame, small (at most one new frame per 2 s for all viewers) |
| ``GET /console/api/fleet``, ``POST /console/api/fleet/CMD`` | the players on the broker, commands to one or all |
"""

from __future__ import annotations

import html
import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs

from installation.kiosk import remote
from installation.kiosk.console import shows
from installation.kiosk.console.auth import ConsoleAuth, loopback_host
from installation.kiosk.console.fleet import load_fleet
from installation.kiosk.console.logtail import log_tail
from installation.kiosk.console.preview import Preview

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
STATIC_FILES = {  # the only files served, by name (never a path from the request)
    "console.css": "text/css; charset=utf-8",
    "console.js": "text/javascript; charset=utf-8",
    "fleet.js": "text/javascript; charset=utf-8",
}
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; "
                               "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; "
                               "base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
LOGIN_BODY_BYTES = 4096
UPLOAD_LIMITS = {"/console/api/show": shows.MAX_SHOW_BYTES, "/console/api/media": shows.MAX_IMAGE_BYTES}


@dataclass(frozen=True)
class Access:
    """How a request is authenticated: ``token`` (the kiosk's token in a header or ``?token=``), ``cookie`` (a
    valid session; ``nonce`` names it), ``open`` (no token configured, no cookie) or None (refused)."""

    kind: str | None
    nonce: str | None = None


class Responder(Protocol):
    def __call__(self, code: int, data: bytes, ctype: str, headers: dict[str, str] | None = None) -> None: ...


def _json(reply: Responder, code: int, value: Any, headers: dict[str, str] | None = None) -> None:
    reply(code, (json.dumps(value, indent=1) + "\n").encode(), "application/json", headers)


class Console:
    def __init__(self, supervisor: Any, token: str | None, loopback: bool, slot: Any, done: Any) -> None:
        self.supervisor = supervisor
        self.auth = ConsoleAuth(token)
        self.loopback = loopback  # bound to loopback only: the Host must be a loopback name (DNS rebinding)
        self.preview = Preview(supervisor.screenshot, slot, done, lambda: supervisor.status().get("cue"))
        self.tail = log_tail()
        self.fleet = load_fleet(supervisor, lambda: self.show_info().wall)
        self._info_lock = threading.Lock()
        self._info: tuple[Any, shows.ShowInfo] | None = None

    # ---- who ------------------------------------------------------------------------------------------

    def host_ok(self, host: str | None) -> bool:
        return not self.loopback or loopback_host(host)

    def session(self, cookie: str | None) -> str | None:
        return self.auth.session(cookie)

    @staticmethod
    def upload_limit(path: str) -> int | None:
        """The body limit of an upload path (None: not an upload)."""
        return UPLOAD_LIMITS.get(path)

    # ---- pages ----------------------------------------------------------------------------------------

    def _page(self, reply: Responder, name: str, code: int = 200, extra: dict[str, str] | None = None,
              message: str = "") -> None:
        text = (STATIC / name).read_text(encoding="utf-8").replace("{{message}}", html.escape(message))
        reply(code, text.encode(), "text/html; charset=utf-8", {**PAGE_HEADERS, **(extra or {})})

    def _login_page(self, reply: Responder, code: int = 200, message: str = "",
                    extra: dict[str, str] | None = None) -> None:
        self._page(reply, "login.html", code, extra, message)

    def _too_many(self, reply: Responder, wait: int) -> None:
        self._login_page(reply, 429, f"Too many wrong tokens: try again in {wait} s.", {"Retry-After": str(wait)})

    def get(self, reply: Responder, path: str, query: dict[str, list[str]], access: Access, client: str,
            host: str | None) -> None:
        if not self.host_ok(host):
            reply(403, b"the console on a loopback kiosk answers only to localhost / 127.0.0.1\n",
                  "text/plain; charset=utf-8")
            return
        if path.startswith("/console/static/"):
            name = path.rsplit("/", 1)[-1]
            if name not in STATIC_FILES or path != f"/console/static/{name}":
                reply(404, b"not found\n", "text/plain; charset=utf-8")
                return
            reply(200, (STATIC / name).read_bytes(), STATIC_FILES[name], {"X-Content-Type-Options": "nosniff"})
            return
        if path in ("/console", "/console/fleet"):
            page = "index.html" if path == "/console" else "fleet.html"
            if access.kind == "cookie":
                self._page(reply, page)
            elif access.kind in ("token", "open"):  # ?token=T (or no token at all): hand out the cookie
                if access.kind == "token":
                    wait = self.auth.limiter.retry_after(client)
                    if wait:
                        self._too_many(reply, wait)
                        return
                reply(303, b"", "text/plain", {"Set-Cookie": self.auth.set_cookie_header(self.auth.new_session()),
                                               "Location": path, **PAGE_HEADERS})
            else:
                if (query.get("token") or [""])[0]:  # a wrong ?token=: counted like a wrong login
                    self.auth.limiter.failed(client)
                    wait = self.auth.limiter.retry_after(client)
                    if wait:
                        self._too_many(reply, wait)
                        return
                    self._login_page(reply, 401, "That token is not right.")
                    return
                self._login_page(reply, 200 if not query else 401)
            return
        if access.kind not in ("cookie", "token"):
            reply(401, b"log in at /console first\n", "text/plain; charset=utf-8")
            return
        if path == "/console/api/session":
            nonce = access.nonce
            _json(reply, 200, {"csrf": self.auth.csrf_token(nonce) if nonce else None,
                               "token_required": self.auth.token is not None,
                               "preview_seconds": self.preview.seconds, "fleet": self.fleet is not None,
                               "show": str(self.supervisor.config.show)})
        elif path == "/console/api/show":
            _json(reply, 200, self.show_info().as_json())
        elif path == "/console/api/show/file":
            from installation.kiosk.validation import NotAShowFile, read_regular

            show = self.supervisor.config.show
            try:
                data = read_regular(show)
            except NotAShowFile as exc:
                reply(404, f"{show}: {exc}\n".encode(), "text/plain; charset=utf-8")
                return
            reply(200, data, "application/x-yaml; charset=utf-8",
                  {"Content-Disposition": f'attachment; filename="{_header_name(show.name)}"'})
        elif path == "/console/api/log":
            after = (query.get("after") or ["0"])[0]
            _json(reply, 200, self.tail.since(int(after) if after.isdigit() else 0))
        elif path == "/console/preview.jpg":
            frame = self.preview.frame()
            if frame is None:
                reply(503, b"no frame to show (no player, safe mode, or no answer)\n", "text/plain; charset=utf-8",
                      {"Retry-After": "2"})
            else:
                reply(200, frame.jpeg, "image/jpeg", {"X-Preview-Cue": _header_name(frame.cue or "")})
        elif path == "/console/api/fleet":
            if self.fleet is None:
                _json(reply, 404, {"error": "no fleet: this kiosk is not on a wall's MQTT broker"})
            else:
                _json(reply, 200, self.fleet.overview())
        elif path.startswith("/console/api/fleet/") and path.endswith("/preview.jpg") and self.fleet is not None:
            jpeg = self.fleet.preview(path.split("/")[4])
            if jpeg is None:
                reply(404, b"no preview from that player\n", "text/plain; charset=utf-8")
            else:
                reply(200, jpeg, "image/jpeg")
        else:
            reply(404, b"not found\n", "text/plain; charset=utf-8")

    def show_info(self) -> shows.ShowInfo:
        """The show that plays (the copy new players get), cached while that file is unchanged."""
        versions = self.supervisor.versions
        args = versions.show_args()
        path = Path(args[0])
        base = Path(args[2]) if len(args) > 2 else self.supervisor.config.show.absolute().parent
        try:
            st = path.stat()
            key: Any = (str(path), st.st_mtime_ns, st.st_size)
        except OSError:
            key = None
        with self._info_lock:
            if key is not None and self._info is not None and self._info[0] == key:
                return self._info[1]
        info = shows.show_info(path, base)
        with self._info_lock:
            self._info = (key, info)
        return info

    # ---- changes --------------------------------------------------------------------------------------

    def post(self, reply: Responder, path: str, query: dict[str, list[str]], body: bytes, access: Access,
             client: str, host: str | None, csrf: str | None) -> None:
        """A state-changing request, already checked as same-origin by the server."""
        if not self.host_ok(host):
            reply(403, b"the console on a loopback kiosk answers only to localhost / 127.0.0.1\n",
                  "text/plain; charset=utf-8")
            return
        if path == "/console/login":
            self._login(reply, body, client)
            return
        if path == "/console/logout":
            reply(303, b"", "text/plain", {"Set-Cookie": self.auth.clear_cookie_header(), "Location": "/console"})
            return
        if not self.csrf_passed(access, csrf):
            _json(reply, 403 if access.kind == "cookie" else 401,
                  {"ok": False, "errors": ["log in again (session or CSRF token missing or wrong)"]})
            return
        if path == "/console/api/show":
            self._upload_show(reply, body)
        elif path == "/console/api/media":
            self._upload_image(reply, query, body)
        elif path.startswith("/console/api/fleet/") and self.fleet is not None:
            cmd = path.split("/")[4]
            target = (query.get("player") or ["all"])[0]
            cue = (query.get("id") or [""])[0] or None
            result = self.fleet.command(cmd, None if target == "all" else target, cue)
            _json(reply, 200 if result.get("ok") else 400, result)
        else:
            reply(404, b"not found\n", "text/plain; charset=utf-8")

    def csrf_passed(self, access: Access, given: str | None) -> bool:
        """A cookie needs its CSRF token; the kiosk's token itself (a script, curl) needs none."""
        if access.kind == "token":
            return True
        return access.kind == "cookie" and access.nonce is not None and self.auth.csrf_ok(access.nonce, given)

    def _login(self, reply: Responder, body: bytes, client: str) -> None:
        wait = self.auth.limiter.retry_after(client)
        if wait:
            self._too_many(reply, wait)
            return
        given = (parse_qs(body.decode("utf-8", "replace")).get("token") or [""])[0]
        if self.auth.token is not None and not remote.token_ok(self.auth.token, given):
            self.auth.limiter.failed(client)
            log.warning("console: a wrong token from %s", client)
            self._login_page(reply, 401, "That token is not right.")
            return
        reply(303, b"", "text/plain", {"Set-Cookie": self.auth.set_cookie_header(self.auth.new_session()),
                                       "Location": "/console", **PAGE_HEADERS})

    def _upload_show(self, reply: Responder, body: bytes) -> None:
        show = self.supervisor.config.show
        log.info("console: a new version of %s uploaded (%d bytes); checking it", show, len(body))
        result = shows.upload_show(show, body, self.supervisor.config.state_dir)
        if not result.ok:
            for error in result.errors[:5]:
                log.warning("console: show upload rejected, the show that plays goes on: %s", error)
            _json(reply, result.code, result.as_json())
            return
        status, code = remote.execute(self.supervisor, "reload")
        control = status.get("control") or {}
        answer = result.as_json()
        if code == 200:
            answer["note"] = "saved and loaded: the new version starts at the next cue boundary"
        elif code == 429:
            answer["note"] = "saved; the kiosk is checking it and loads it in a moment"
        else:
            answer["note"] = f"saved, but the player did not load it: {control.get('error')}"
        answer["status"] = status
        log.info("console: %s", answer["note"])
        _json(reply, 200, answer)

    def _upload_image(self, reply: Responder, query: dict[str, list[str]], body: bytes) -> None:
        index = (query.get("collection") or [""])[0]
        name = (query.get("name") or [""])[0]
        folders = self.show_info().collections
        if not index.isdigit() or int(index) >= len(folders):
            _json(reply, 404, {"ok": False, "errors": [f"no collection {index[:20]!r} in the show"]})
            return
        result = shows.add_image(folders[int(index)], name, body)
        if result.ok:
            log.info("console: %s", result.note)
        else:
            log.warning("console: image upload refused: %s", result.errors[0])
        _json(reply, result.code, result.as_json())


def _header_name(text: str) -> str:
    """Text safe inside a header value (ASCII, no quotes or line breaks)."""
    return "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in text)[:120]
