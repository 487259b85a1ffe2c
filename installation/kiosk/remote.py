"""What the kiosk's remote-control transports (HTTP in http.py, OSC in osc.py) share: one command path,
bind-address parsing and the token check, so that the two cannot drift apart.

:func:`execute` is the only place an operator command reaches :meth:`Supervisor.control`; it answers
with the status snapshot plus a ``control`` member (``cmd``, ``id`` for ``cue``, ``ok``, ``error``) and
an HTTP-style code (200 applied, 400 refused by the player, 503 no player or no answer), which each
transport turns into its own reply.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import threading
from typing import Any

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
# what an operator may send; ``screenshot`` and the reload the file watcher sends stay internal
COMMANDS = ("go", "next", "previous", "cue", "pause", "resume", "blackout", "unblackout", "reload")
NO_PLAYER = "no player to control (restarting or safe mode), or no answer in time"


class BoundedThreads:
    """A socketserver mix-in, listed before ``ThreadingMixIn``: at most ``max_threads`` requests are handled
    at once and the rest are dropped (a TCP connection closed, a datagram ignored), so a flood cannot make
    threads without end; each may wait up to the control timeout for a stalled player."""

    max_threads = 16
    _slots: threading.BoundedSemaphore | None = None
    dropped = 0

    def process_request(self, request: Any, client_address: Any) -> None:
        if self._slots is None:  # only serve_forever's thread calls this: no race
            self._slots = threading.BoundedSemaphore(self.max_threads)
        if not self._slots.acquire(blocking=False):
            self.dropped += 1
            if self.dropped in (1, 10) or self.dropped % 1000 == 0:  # a few lines, never a flood of them
                log.warning("kiosk: %d request(s) dropped: %d already being handled", self.dropped, self.max_threads)
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)  # type: ignore[misc]
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)  # type: ignore[misc]
        finally:
            self._slots.release()


def parse_bind(text: str, option: str = "--http") -> tuple[str, int]:
    """``"8080"`` / ``":8080"`` / ``"0.0.0.0:8080"`` / ``"[::1]:8080"`` -> (host, port); ValueError if bad."""
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = "", text
    host = host.strip("[]") or DEFAULT_HOST
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"{option} {text!r}: expected HOST:PORT or PORT, e.g. 127.0.0.1:8080")
    return host, int(port)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def token_ok(expected: str | None, given: object) -> bool:
    """True without a configured token; otherwise ``given`` must be that string (compared in constant time)."""
    if not expected:
        return True
    if not isinstance(given, str):
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def execute(supervisor: Any, cmd: str, cue_id: str | None = None) -> tuple[dict[str, Any], int]:
    """Run one operator command (``cmd`` in :data:`COMMANDS`; ``cue`` needs ``cue_id``) and wait for the
    player's answer. Returns (status with a ``control`` member, 200 | 400 | 503)."""
    if cmd not in COMMANDS:
        raise ValueError(f"unknown command {cmd!r}")
    fields = {"id": cue_id} if cmd == "cue" else {}
    reply = supervisor.control(cmd, **fields)
    # taken after the answer; the cue the command chose shows once the next heartbeat arrives (about a frame later)
    status = supervisor.status()
    if reply is None:
        ok, error, code = False, NO_PLAYER, 503
    else:
        ok, error = bool(reply.get("ok")), reply.get("error")
        code = 200 if ok else 400
    status["control"] = {"cmd": cmd, **fields, "ok": ok, "error": error}
    return status, code
