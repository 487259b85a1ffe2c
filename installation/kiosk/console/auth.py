"""Who may use the console: the kiosk's token, a signed session cookie, a CSRF token, same-origin checks and a
limit on login attempts. Stdlib only (``hmac``, ``secrets``).

- **Session cookie** (``installation_console``): ``EXPIRY.NONCE.SIGNATURE``, HMAC-SHA256 with a key derived
  from the kiosk's ``--token``, so a bookmark keeps working across kiosk restarts and changing the token
  logs everybody out. Without a token (a loopback-only kiosk) the key is random per process and the cookie is
  given on the first visit: the console then needs no login, but it still needs the cookie's CSRF token.
  ``HttpOnly; SameSite=Strict; Path=/`` (not ``Secure``: the kiosk speaks plain HTTP on the gallery network).
- **CSRF token**: derived from the cookie's nonce; the page reads it from ``GET /console/api/session`` (a
  cross-site page cannot read that answer) and sends it as ``X-CSRF-Token`` with every POST.
- **Same origin**: a POST whose ``Origin`` (or, without one, ``Referer``) is another site, or whose
  ``Sec-Fetch-Site`` says ``cross-site``/``same-site``, is refused before anything runs. On a loopback bind the
  console also wants a loopback ``Host`` (a DNS-rebinding page would send its own name).
- **Login attempts**: at most :data:`LOGIN_FAILURES` wrong tokens per client address in
  :data:`LOGIN_WINDOW` seconds, and :data:`LOGIN_FAILURES_ALL` from everybody, then 429 until the window
  has passed.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from http.cookies import CookieError, SimpleCookie
from urllib.parse import urlsplit

COOKIE = "installation_console"
SESSION_SECONDS = 30 * 24 * 3600  # a bookmark works for a month, then the token is asked again
LOGIN_FAILURES = 5  # wrong tokens per client address ...
LOGIN_FAILURES_ALL = 30  # ... and from all addresses together ...
LOGIN_WINDOW = 60.0  # ... within this many seconds, then 429
CROSS_SITE = ("cross-site", "same-site")  # Sec-Fetch-Site values refused for state-changing requests
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]", "::1")


class ConsoleAuth:
    def __init__(self, token: str | None, clock: object = time.time) -> None:
        self.token = token or None
        self._clock = clock
        material = self.token.encode() if self.token else secrets.token_bytes(32)
        self._key = hmac.new(material, b"installation console session v1", hashlib.sha256).digest()
        self.limiter = LoginLimiter()

    def _now(self) -> float:
        return float(self._clock())  # type: ignore[operator]

    def _sign(self, text: str) -> str:
        return hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()

    # ---- the session cookie ----------------------------------------------------------------------------

    def new_session(self) -> str:
        """A fresh cookie value."""
        body = f"{int(self._now()) + SESSION_SECONDS}.{secrets.token_hex(16)}"
        return f"{body}.{self._sign(body)}"

    def set_cookie_header(self, value: str) -> str:
        return f"{COOKIE}={value}; Max-Age={SESSION_SECONDS}; Path=/; HttpOnly; SameSite=Strict"

    @staticmethod
    def clear_cookie_header() -> str:
        return f"{COOKIE}=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict"

    def session(self, cookie_header: str | None) -> str | None:
        """The nonce of a valid, unexpired session cookie in the ``Cookie`` header, else None."""
        if not cookie_header or len(cookie_header) > 4096:
            return None
        try:
            jar: SimpleCookie = SimpleCookie(cookie_header)
        except CookieError:
            return None
        morsel = jar.get(COOKIE)
        if morsel is None:
            return None
        parts = morsel.value.split(".")
        if len(parts) != 3 or not parts[0].isdigit():
            return None
        expiry, nonce, signature = parts
        if not hmac.compare_digest(signature.encode(), self._sign(f"{expiry}.{nonce}").encode()):
            return None
        return nonce if int(expiry) > self._now() else None

    def csrf_token(self, nonce: str) -> str:
        return self._sign("csrf." + nonce)[:32]

    def csrf_ok(self, nonce: str, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(str(given).encode(), self.csrf_token(nonce).encode())


def same_origin(host: str | None, origin: str | None, referer: str | None, fetch_site: str | None) -> str | None:
    """Why a state-changing request looks cross-site (None: it does not). ``host`` is the request's ``Host``."""
    if fetch_site and fetch_site.strip().lower() in CROSS_SITE:
        return f"Sec-Fetch-Site: {fetch_site.strip()[:20]}"
    if not host:
        return None if origin is None and referer is None else "no Host header"
    for name, value in (("Origin", origin), ("Referer", referer)):
        if value is None:
            continue
        if value.strip() == "null":
            return f"{name}: null"
        try:
            netloc = urlsplit(value.strip()).netloc
        except ValueError:
            return f"{name}: malformed"
        if netloc.lower() != host.strip().lower():
            return f"{name} {netloc[:60]!r} is not this kiosk ({host[:60]})"
        return None  # Origin decides when present; Referer only without one
    return None


def loopback_host(host: str | None) -> bool:
    """Is the ``Host`` header a loopback name (with or without a port)?"""
    if not host:
        return False
    name = host.strip().lower()
    if name.startswith("["):
        name = name[: name.find("]") + 1]
    elif name.count(":") == 1:
        name = name.split(":")[0]
    return name in LOOPBACK_NAMES or name.startswith("127.")


class LoginLimiter:
    """Wrong tokens counted per client address and in all over a sliding window."""

    def __init__(self, per_client: int = LOGIN_FAILURES, total: int = LOGIN_FAILURES_ALL,
                 window: float = LOGIN_WINDOW) -> None:
        self.per_client, self.total, self.window = per_client, total, window
        self._lock = threading.Lock()
        self._failures: dict[str, deque[float]] = {}
        self._all: deque[float] = deque()

    def _trim(self, now: float) -> None:
        while self._all and now - self._all[0] > self.window:
            self._all.popleft()
        for host in list(self._failures):
            times = self._failures[host]
            while times and now - times[0] > self.window:
                times.popleft()
            if not times:
                del self._failures[host]

    def retry_after(self, host: str, now: float | None = None) -> int:
        """0: an attempt from ``host`` may be checked now; else seconds to wait."""
        now = time.monotonic() if now is None else now
        with self._lock:
            self._trim(now)
            times = self._failures.get(host)
            if times and len(times) >= self.per_client:
                return max(1, int(self.window - (now - times[0])) + 1)
            if len(self._all) >= self.total:
                return max(1, int(self.window - (now - self._all[0])) + 1)
            return 0

    def failed(self, host: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            self._failures.setdefault(host, deque()).append(now)
            self._all.append(now)
            if len(self._failures) > 4096:  # a flood from many addresses: forget the oldest
                self._failures.pop(next(iter(self._failures)))
