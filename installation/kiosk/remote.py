"""What the kiosk's remote-control transports (HTTP in http.py, OSC in osc.py) share: one command path,
the loopback test and the token check, so that the two cannot drift apart (their ``HOST:PORT`` options
are read by :func:`installation.address.parse_address`).

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
import time
from typing import TYPE_CHECKING, Any

log = logging.getLogger(__name__)

# what an operator may send; ``screenshot`` and the reload the file watcher sends stay internal
COMMANDS = ("go", "next", "previous", "cue", "pause", "resume", "blackout", "unblackout", "reload")
NO_PLAYER = "no player to control (restarting or safe mode), or no answer in time"


LOG_SECONDS = 10.0  # at most one log line per this many seconds about refused or dropped requests


class Throttle:
    """Counts events; lets through one log line per ``seconds`` with the count since the last line, so a
    flood from anyone on the network cannot fill the disk."""

    def __init__(self, seconds: float = LOG_SECONDS) -> None:
        self.seconds, self.count, self.next = seconds, 0, 0.0
        self.lock = threading.Lock()

    def __call__(self) -> int:
        """0: stay quiet; otherwise log now, with this many events."""
        now = time.monotonic()
        with self.lock:
            self.count += 1
            if now < self.next:
                return 0
            self.next = now + self.seconds
            count, self.count = self.count, 0
            return count


class BoundedThreads:
    """A socketserver mix-in, listed before ``ThreadingMixIn``: at most ``max_threads`` requests are handled
    at once, and at most ``max_per_client`` from one client address, and the rest are dropped (a TCP
    connection closed, a datagram ignored), so a flood cannot make threads without end, and one client
    (idle connections held open, a burst of datagrams) cannot take every slot from the others; each may
    wait up to the control timeout for a stalled player."""

    max_threads = 16
    max_per_client = 4
    _slots: threading.BoundedSemaphore | None = None
    _clients: dict[str, int] | None = None
    _clients_lock = threading.Lock()
    dropped = 0
    _drop_log: Throttle | None = None

    if TYPE_CHECKING:  # a mix-in: socketserver.BaseServer, later in the MRO, has it at run time
        def shutdown_request(self, request: Any) -> None: ...

    def process_request(self, request: Any, client_address: Any) -> None:

        if self._slots is None:  # only serve_forever's thread calls this: no race
            self._slots = threading.BoundedSemaphore(self.max_threads)
            self._clients, self._drop_log = {}, Throttle()
        host = str(client_address[0]) if isinstance(client_address, tuple) else str(client_address)
        assert self._clients is not None
        with self._clients_lock:
            busy = self._clients.get(host, 0) >= self.max_per_client
            if not busy:
                self._clients[host] = self._clients.get(host, 0) + 1
        if busy or not self._slots.acquire(blocking=False):
            if not busy:
                self._left(host)
            self.dropped += 1
            count = self._drop_log() if self._drop_log is not None else 1
            if count:  # a few lines, never a flood of them
                why = f"{self.max_per_client} from {host}" if busy else f"{self.max_threads} in all"
                log.warning("kiosk: %d request(s) dropped since the last such line (%d in all): %s already being "
                            "handled", count, self.dropped, why)
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)  # type: ignore[misc]
        except BaseException:
            self._slots.release()
            self._left(host)
            raise

    def _left(self, host: str) -> None:
        with self._clients_lock:
            assert self._clients is not None
            left = self._clients.get(host, 1) - 1
            if left > 0:
                self._clients[host] = left
            else:
                self._clients.pop(host, None)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)  # type: ignore[misc]
        finally:
            assert self._slots is not None
            self._slots.release()
            self._left(str(client_address[0]) if isinstance(client_address, tuple) else str(client_address))


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
    player's answer. Returns (status with a ``control`` member, 200 | 400 | 429 | 503; 429: a reload while
    a check of the show is already running)."""
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
        code = 200 if ok else 429 if reply.get("busy") else 400
    status["control"] = {"cmd": cmd, **fields, "ok": ok, "error": error}
    return status, code
