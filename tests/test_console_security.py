"""The web console's access rules over plain HTTP (no browser, no GL): the kiosk's real HTTP server and console
in front of a stand-in supervisor. Token and cookie, CSRF, cross-site requests, DNS rebinding, login rate
limits, upload names and sizes, and the preview's rate limit (docs/console.md, "Access")."""

from __future__ import annotations

import http.client
import re
import socket
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

import cv2
import numpy as np
import pytest
from helpers.kiosk import two_cue_show

from installation.kiosk import http as kiosk_http
from installation.kiosk.console.auth import ConsoleAuth, LoginLimiter, same_origin
from installation.kiosk.console.shows import MAX_IMAGE_BYTES, MAX_SHOW_BYTES

TOKEN = "gallery-token-1"
SHOW = two_cue_show("security test") + """  - id: grid
    scene: {type: gradual_change, collection: pictures, rows: 1, cols: 2, order: as_is}
"""


def _png(rgb: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    img = np.zeros((32, 48, 3), np.uint8)
    img[:] = rgb[::-1]
    ok, data = cv2.imencode(".png", img)
    assert ok
    return data.tobytes()


class FakeSupervisor:
    """What the HTTP server and the console use of a Supervisor, without a player."""

    def __init__(self, show: Path) -> None:
        self.config = SimpleNamespace(show=show, state_dir=show.parent / "state", control_timeout=3.0)
        self.versions = SimpleNamespace(show_args=lambda: [str(show)])
        self.commands: list[str] = []
        self.shots = 0

    def status(self) -> dict[str, Any]:
        return {"healthy": True, "safe_mode": False, "state": "playing", "cue": "a"}

    def control(self, cmd: str, **fields: Any) -> dict[str, Any]:
        self.commands.append(cmd)
        return {"ok": True, "error": None}

    def screenshot(self) -> bytes:
        self.shots += 1
        return _png()


@pytest.fixture
def served(tmp_path: Path):  # noqa: ANN201
    show = tmp_path / "show.yaml"
    show.write_text(SHOW)
    (tmp_path / "pictures").mkdir()
    for i in range(2):
        (tmp_path / "pictures" / f"p{i}.png").write_bytes(_png((40 * i, 90, 90)))
    sup = FakeSupervisor(show)
    server = kiosk_http.serve(sup, "127.0.0.1", 0, TOKEN)
    try:
        yield SimpleNamespace(port=server.server_address[1], sup=sup, show=show, folder=tmp_path / "pictures",
                              tmp=tmp_path)
    finally:
        server.shutdown()


def request(port: int, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None,
            ) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body if method == "POST" else None, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def login(port: int) -> tuple[str, str]:
    """(Cookie header value, CSRF token) after logging in with the token through the form."""
    code, headers, _ = request(port, "POST", "/console/login", f"token={TOKEN}".encode(),
                               {"Content-Type": "application/x-www-form-urlencoded",
                                "Origin": f"http://127.0.0.1:{port}"})
    assert code == 303 and headers["location"] == "/console"
    set_cookie = headers["set-cookie"]
    assert "HttpOnly" in set_cookie and "SameSite=Strict" in set_cookie and "Path=/" in set_cookie
    cookie = set_cookie.split(";")[0]
    code, _, body = request(port, "GET", "/console/api/session", headers={"Cookie": cookie})
    assert code == 200
    import json

    return cookie, json.loads(body)["csrf"]


def test_without_the_token_nothing_but_the_login_page(served) -> None:  # noqa: ANN001
    port = served.port
    code, headers, body = request(port, "GET", "/console")
    assert code == 200 and b'action="/console/login"' in body and "set-cookie" not in headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    for path in ("/console/api/session", "/console/api/show", "/console/api/show/file", "/console/api/log",
                 "/console/preview.jpg", "/status", "/screenshot"):
        assert request(port, "GET", path)[0] == 401, path
    for path in ("/control/next", "/console/api/show", "/console/api/media?collection=0&name=x.png"):
        assert request(port, "POST", path, b"x")[0] == 401, path
    assert served.sup.commands == [] and served.sup.shots == 0
    # the assets are public (the login page needs its CSS) and nothing else is served from the folder
    assert request(port, "GET", "/console/static/console.css")[0] == 200
    for path in ("/console/static/index.html", "/console/static/../routes.py", "/console/static/%2e%2e/auth.py"):
        assert request(port, "GET", path)[0] in (401, 404), path


def test_wrong_tokens_are_refused_and_logins_are_rate_limited(served) -> None:  # noqa: ANN001
    port = served.port
    same = {"Origin": f"http://127.0.0.1:{port}", "Content-Type": "application/x-www-form-urlencoded"}
    assert request(port, "GET", "/console/api/session", headers={"Authorization": "Bearer nope"})[0] == 401
    assert request(port, "POST", "/control/next", headers={"X-Token": "nope"})[0] == 401
    codes = [request(port, "POST", "/console/login", b"token=wrong", same)[0] for _ in range(5)]
    assert codes == [401] * 5
    code, headers, body = request(port, "POST", "/console/login", b"token=wrong", same)
    assert code == 429 and int(headers["retry-after"]) > 0 and b"Too many" in body
    # locked out: even the right token waits (and a wrong ?token= in the URL counts the same)
    assert request(port, "POST", "/console/login", f"token={TOKEN}".encode(), same)[0] == 429
    assert request(port, "GET", f"/console?token={TOKEN}")[0] == 429
    # scripts with the token in a header are not affected
    assert request(port, "POST", "/control/next", headers={"Authorization": f"Bearer {TOKEN}"})[0] == 200


def test_login_limiter_counts_per_client_and_in_all() -> None:
    limiter = LoginLimiter(per_client=2, total=3, window=10)
    for _ in range(2):
        limiter.failed("a", now=0)
    assert limiter.retry_after("a", now=1) > 0 and limiter.retry_after("b", now=1) == 0
    limiter.failed("b", now=1)
    assert limiter.retry_after("c", now=2) > 0  # everybody waits once the total is reached
    assert limiter.retry_after("a", now=12) == 0  # the window passed


def test_the_cookie_is_signed_expires_and_follows_the_token(served) -> None:  # noqa: ANN001
    port = served.port
    code, headers, _ = request(port, "GET", f"/console?token={TOKEN}")
    assert code == 303 and headers["location"] == "/console" and "HttpOnly" in headers["set-cookie"]
    cookie, _ = login(port)
    assert request(port, "GET", "/status", headers={"Cookie": cookie})[0] == 200
    assert request(port, "GET", "/console", headers={"Cookie": cookie})[0] == 200
    name, value = cookie.split("=", 1)
    expiry, nonce, sig = value.split(".")
    for forged in (f"{int(expiry) + 99}.{nonce}.{sig}", f"{expiry}.{nonce}.{'0' * 64}", f"{expiry}.{nonce}", "x"):
        assert request(port, "GET", "/status", headers={"Cookie": f"{name}={forged}"})[0] == 401, forged
    other = ConsoleAuth("another-token")
    assert request(port, "GET", "/status", headers={"Cookie": f"{name}={other.new_session()}"})[0] == 401
    now = [time.time()]
    auth = ConsoleAuth(TOKEN, clock=lambda: now[0])
    session = auth.new_session()
    assert auth.session(f"{name}={session}") is not None
    now[0] += 31 * 24 * 3600
    assert auth.session(f"{name}={session}") is None


def test_cookie_requests_need_the_csrf_token(served) -> None:  # noqa: ANN001
    port = served.port
    cookie, csrf = login(port)
    assert request(port, "POST", "/control/next", headers={"Cookie": cookie})[0] == 403
    assert request(port, "POST", "/control/next", headers={"Cookie": cookie, "X-CSRF-Token": "0" * 32})[0] == 403
    assert request(port, "POST", "/console/api/show", SHOW.encode(), {"Cookie": cookie})[0] == 403
    assert served.sup.commands == []
    assert request(port, "POST", "/control/next", headers={"Cookie": cookie, "X-CSRF-Token": csrf})[0] == 200
    assert served.sup.commands == ["next"]


@pytest.mark.parametrize("headers", [
    {"Origin": "http://evil.example"},
    {"Origin": "null"},
    {"Referer": "http://evil.example/page.html"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Origin": "http://127.0.0.1:1"},  # another port on the same machine is another site
])
def test_cross_site_posts_are_refused_even_with_credentials(served, headers: dict[str, str]) -> None:  # noqa: ANN001
    port = served.port
    cookie, csrf = login(port)
    for path in ("/control/blackout", "/console/api/show", "/console/login"):
        code, _, body = request(port, "POST", path, SHOW.encode(),
                                {"Cookie": cookie, "X-CSRF-Token": csrf, "Authorization": f"Bearer {TOKEN}",
                                 **headers})
        assert code == 403 and b"cross-site" in body, (path, headers, body)
    assert served.sup.commands == []
    assert served.show.read_text() == SHOW


def test_a_rebound_host_name_gets_no_console_on_a_loopback_kiosk(served) -> None:  # noqa: ANN001
    port = served.port
    assert request(port, "GET", "/console", headers={"Host": f"evil.example:{port}"})[0] == 403
    assert request(port, "GET", "/console", headers={"Host": f"localhost:{port}"})[0] == 200


def test_same_origin_rules() -> None:
    assert same_origin("k:8080", "http://k:8080", None, "same-origin") is None
    assert same_origin("k:8080", None, "http://k:8080/console", None) is None
    assert same_origin("k:8080", None, None, None) is None  # curl, Companion: no browser, no cross-site risk
    assert same_origin("k:8080", "http://k:8081", None, None) is not None
    assert same_origin("k:8080", None, None, "same-site") is not None


def test_upload_names_cannot_leave_the_collection(served) -> None:  # noqa: ANN001
    port = served.port
    cookie, csrf = login(port)
    auth = {"Cookie": cookie, "X-CSRF-Token": csrf}
    before = sorted(p.name for p in served.tmp.rglob("*"))
    for name in ("../escape.png", "..\\escape.png", "sub/escape.png", "/tmp/escape.png", ".hidden.png",
                 "..", "x.png\x00.txt", "a..png", "escape.svg", "", "x" * 200 + ".png"):
        code, _, body = request(port, "POST", f"/console/api/media?collection=0&name={quote(name)}", _png(), auth)
        assert code == 400, (name, body)
    for index in ("1", "-1", "../../etc", ""):
        assert request(port, "POST", f"/console/api/media?collection={quote(index)}&name=ok.png", _png(), auth)[0] \
            == 404
    assert sorted(p.name for p in served.tmp.rglob("*")) == before
    assert not (served.tmp.parent / "escape.png").exists()


def test_images_are_checked_before_they_are_added(served) -> None:  # noqa: ANN001
    port = served.port
    cookie, csrf = login(port)
    auth = {"Cookie": cookie, "X-CSRF-Token": csrf}
    good = _png((10, 200, 10))
    code, _, body = request(port, "POST", "/console/api/media?collection=0&name=new%20one.png", good, auth)
    assert code == 200, body
    assert (served.folder / "new one.png").read_bytes() == good
    code, _, body = request(port, "POST", "/console/api/media?collection=0&name=new%20one.png", good, auth)
    assert code == 409 and b"already" in body
    code, _, body = request(port, "POST", "/console/api/media?collection=0&name=broken.png", good[:60], auth)
    assert code == 400 and b"broken.png: refused:" in body and b"corrupt" in body
    code, _, body = request(port, "POST", "/console/api/media?collection=0&name=text.jpg", b"hello" * 40, auth)
    assert code == 400 and b"refused" in body
    assert sorted(p.name for p in served.folder.iterdir()) == ["new one.png", "p0.png", "p1.png"]


def _head_only(port: int, path: str, length: int, headers: dict[str, str]) -> tuple[str, float]:
    """Send only the head of a POST announcing ``length`` bytes: the answer must come without the body."""
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        s.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {length}\r\n{extra}\r\n".encode())
        answer = s.recv(4096).decode("latin-1")
    return answer.split("\r\n")[0], time.monotonic() - start


def test_oversized_uploads_are_refused_before_their_body(served) -> None:  # noqa: ANN001
    port = served.port
    cookie, csrf = login(port)
    auth = {"Cookie": cookie, "X-CSRF-Token": csrf}
    line, took = _head_only(port, "/console/api/show", MAX_SHOW_BYTES + 1, auth)
    assert " 413 " in line and took < 3
    line, _ = _head_only(port, "/console/api/media?collection=0&name=big.png", MAX_IMAGE_BYTES + 1, auth)
    assert " 413 " in line
    line, _ = _head_only(port, "/control/next", 10 << 20, auth)
    assert " 413 " in line
    # without credentials an upload's body is never read, whatever its size
    line, _ = _head_only(port, "/console/api/media?collection=0&name=big.png", 1000, {})
    assert " 401 " in line
    assert sorted(p.name for p in served.folder.iterdir()) == ["p0.png", "p1.png"]


def test_an_invalid_show_upload_changes_nothing(served) -> None:  # noqa: ANN001
    port = served.port
    cookie, csrf = login(port)
    broken = SHOW.replace("duration: 600", "duration: -1")
    code, _, body = request(port, "POST", "/console/api/show", broken.encode(), {"Cookie": cookie,
                                                                                  "X-CSRF-Token": csrf})
    assert code == 400
    assert re.search(rf"{re.escape(str(served.show))}:5 cues\[0\]\.duration", body.decode()), body
    assert served.show.read_text() == SHOW and served.sup.commands == []


def test_the_preview_asks_the_player_at_most_once_per_interval(served) -> None:  # noqa: ANN001
    port = served.port
    cookie, _ = login(port)
    for _ in range(5):
        code, headers, body = request(port, "GET", "/console/preview.jpg", headers={"Cookie": cookie})
        assert code == 200 and headers["content-type"] == "image/jpeg" and body[:2] == b"\xff\xd8"
    assert served.sup.shots == 1
