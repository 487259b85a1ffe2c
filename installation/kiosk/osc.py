"""``--osc HOST:PORT``: kiosk control over OSC (UDP), for Bitfocus Companion, TouchOSC, QLab and friends.

Addresses (docs/kiosk.md has the table): ``/installation/{go,next,previous,pause,resume,blackout,
unblackout,reload,status}`` with no argument, or one number (a button value: non-zero runs the command, 0
is ignored, so a button that sends 1 on press and 0 on release acts once); ``/installation/cue ID``
(string or int) or ``/installation/cue/ID`` (plus an optional button value). With ``--token`` the token
is the **first argument of every message**; a message without it runs nothing and gets
``/installation/reply CMD 0 "unauthorised"``.

Every other message (but a button release) is answered, to the address it came from (sent from the
server's port) and to ``--osc-reply HOST:PORT`` if given, with three messages (``--osc-reply`` also gets the two
status messages, unasked, whenever the state, cue, health or restart count changes; checked every second):

- ``/installation/reply``  cmd (s), ok (i, 1/0), error (s, "" when ok)
- ``/installation/status`` state (s), cue (s, "" when none), frames (i), fps (f), restarts (i), healthy (i)
- ``/installation/status/json`` the status JSON of ``GET /status`` plus ``control`` (s)

Commands go through :func:`installation.kiosk.remote.execute`, the same path as ``POST /control/...``.
Addresses are matched exactly: an OSC pattern such as ``/installation/*`` would otherwise fan one
message out to every command (blackout, reload, ...), so a pattern is just an unknown address here.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import sys
import threading
from typing import Any

from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_message_builder import build_msg
from pythonosc.osc_server import ThreadingOSCUDPServer

from installation.kiosk import remote

log = logging.getLogger(__name__)

PREFIX = "/installation/"
QUERIES = ("status",)
ADDRESSES = {PREFIX + name: name for name in (*remote.COMMANDS, *QUERIES)}
UNAUTHORISED = "unauthorised"
LOG_SECONDS = remote.LOG_SECONDS  # at most one log line per this many seconds about refused or undecodable datagrams
PUSH_SECONDS = 1.0  # how often --osc-reply feedback checks for a change it should push (cue, state, ...)


_Throttle = remote.Throttle  # one log line per LOG_SECONDS about refused or undecodable datagrams


class _Server(remote.BoundedThreads, ThreadingOSCUDPServer):
    daemon_threads = True  # a command waits up to control_timeout for the player; never block shutdown on it

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.undecodable = _Throttle()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # python-osc raises (e.g. UnicodeDecodeError on a non-UTF-8 address) before our handler sees the
        # message, so there is no one to answer; socketserver would print a traceback per datagram
        count = self.undecodable()
        if count:
            exc = sys.exc_info()[1]
            log.warning("osc: dropped %d datagram(s) that python-osc could not decode since the last such line "
                        "(latest from %s: %s: %s)", count, client_address[0], type(exc).__name__, exc)


def _is_button(value: object) -> bool:
    return isinstance(value, (int, float))  # bool is an int: OSC T/F work as press/release too


class OscControl:
    """The OSC server on a daemon thread; ``address`` is the bound (host, port)."""

    def __init__(self, supervisor: Any, host: str, port: int, token: str | None = None,
                 reply_to: tuple[str, int] | None = None) -> None:
        self.supervisor, self.token = supervisor, token
        dispatcher = Dispatcher(strict_timing=False)  # a bundle timed in the future must not park a thread
        # one default handler and our own exact lookup instead of dispatcher.map: see the module docstring
        dispatcher.set_default_handler(self._on_message, needs_reply_address=True)
        self.reply_to: tuple[Any, ...] | None = None
        self._reply_sock: socket.socket | None = None
        if reply_to is not None:
            # a socket of its own: the server may be bound to loopback while Companion sits on another host
            family, _, _, _, sockaddr = socket.getaddrinfo(reply_to[0], reply_to[1], type=socket.SOCK_DGRAM)[0]
            self._reply_sock, self.reply_to = socket.socket(family, socket.SOCK_DGRAM), sockaddr
        self.server = _Server((host, port), dispatcher)
        bound_host, bound_port = self.server.server_address[:2]
        assert isinstance(bound_host, str)  # a bound AF_INET/AF_INET6 socket's host is always a str
        self.address: tuple[str, int] = (bound_host, bound_port)
        self._refusals = _Throttle()
        self._stop = threading.Event()
        threading.Thread(target=self.server.serve_forever, name="kiosk-osc", daemon=True).start()
        if self._reply_sock is not None:
            threading.Thread(target=self._push_loop, name="kiosk-osc-feedback", daemon=True).start()

    def close(self) -> None:
        self._stop.set()
        self.server.shutdown()
        self.server.server_close()
        if self._reply_sock is not None:
            self._reply_sock.close()

    # ---- receiving -------------------------------------------------------------------------------------

    def _on_message(self, sender: tuple[str, int], address: str, *args: Any) -> None:
        name = ADDRESSES.get(address)
        if name is None and address.startswith(PREFIX + "cue/"):
            name = "cue"
        label = name or address
        if self.token:
            if not args or not remote.token_ok(self.token, args[0]):
                self._refuse(sender, label)
                return
            args = args[1:]
        try:
            self._run(sender, address, name, args)
        except Exception as exc:  # noqa: BLE001 - a bad message must never stop the server; answer instead
            log.exception("osc: %s failed", address)
            self._answer(sender, label, None, f"{type(exc).__name__}: {exc}")

    def _run(self, sender: tuple[str, int], address: str, name: str | None, args: tuple[Any, ...]) -> None:
        if name is None:
            known = ",".join(n for n in ADDRESSES.values())
            self._answer(sender, address, None, f"unknown address {address!r}: try {PREFIX}{{{known}}}")
            return
        cue_id, button = None, args
        if name == "cue" and address == PREFIX + "cue":
            if not args or isinstance(args[0], bool) or not isinstance(args[0], (str, int)) or args[0] == "":
                self._answer(sender, name, None, "cue takes the cue id (string or int) as its argument")
                return
            cue_id, button = str(args[0]), args[1:]
        elif name == "cue":
            cue_id = address[len(PREFIX + "cue/"):]
            if not cue_id:
                self._answer(sender, name, None, f"{address}: no cue id after cue/")
                return
        if len(button) > 1 or (button and not _is_button(button[0])):
            self._answer(sender, name, None, f"{name} got unexpected arguments {list(button)!r}: it takes none, "
                                             "or one number (a button value: non-zero runs it, 0 is ignored)")
            return
        if button and not button[0]:
            return  # a button's release (0 / false): acting on it too would step twice per press
        if name in QUERIES:
            self._answer(sender, name, self.supervisor.status(), None)
            return
        status, _code = remote.execute(self.supervisor, name, cue_id)
        self._answer(sender, name, status, status["control"]["error"], ok=status["control"]["ok"])

    def _refuse(self, sender: tuple[str, int], label: str) -> None:
        """No command, no status (it is not theirs to read): only the refusal, and a rate-limited log line."""
        # only to the sender: a flood must not be relayed to the operator's --osc-reply feedback
        self._send(sender, [build_msg(PREFIX + "reply", [label, 0, UNAUTHORISED])], feedback=False)
        count = self._refusals()
        if count:
            log.warning("osc: refused %d message(s) without the right token since the last such line (latest: %s "
                        "from %s); at most one line every %g s", count, label, sender[0], LOG_SECONDS)

    # ---- answering --------------------------------------------------------------------------------------

    def _answer(self, sender: tuple[str, int], cmd: str, status: dict[str, Any] | None, error: str | None,
                ok: bool | None = None) -> None:
        ok = error is None if ok is None else ok
        if status is None:
            status = self.supervisor.status()
        status.setdefault("control", {"cmd": cmd, "ok": ok, "error": error})
        self._send(sender, [build_msg(PREFIX + "reply", [cmd, int(ok), error or ""]), *_status_messages(status)])

    def _push_loop(self) -> None:
        """``--osc-reply`` feedback between commands: status whenever the cue, state or health changes (a
        timed cue ending, a restart, safe mode), so a Companion button can show the cue without polling."""
        last = None
        while not self._stop.wait(PUSH_SECONDS):
            try:
                status = self.supervisor.status()
                key = tuple(status[k] for k in ("state", "cue", "healthy", "restarts", "safe_mode"))
                if key != last:
                    last = key
                    self._send(None, _status_messages(status))
            except Exception:  # noqa: BLE001 - feedback is a convenience; it must not die on one bad snapshot
                log.exception("osc: status feedback failed")

    def _send(self, sender: tuple[str, int] | None, messages: list[Any], feedback: bool = True) -> None:
        """To the sender (if any), from the server's port; with ``feedback`` also to ``--osc-reply``."""
        targets: list[tuple[socket.socket, tuple[Any, ...]]] = [] if sender is None else [(self.server.socket, sender)]
        if feedback and self._reply_sock is not None and self.reply_to is not None and self.reply_to != sender:

            targets.append((self._reply_sock, self.reply_to))
        for message in messages:
            for sock, to in targets:
                with contextlib.suppress(OSError):  # the receiver went away; nothing to do about it
                    sock.sendto(message.dgram, to)

def _status_messages(status: dict[str, Any]) -> list[Any]:
    return [
        build_msg(PREFIX + "status", [status["state"], status["cue"] or "", int(status["player_frames"]),
                                      float(status["fps"]), int(status["restarts"]), int(status["healthy"])]),
        build_msg(PREFIX + "status/json", [json.dumps(status)]),
    ]


def serve(supervisor: Any, host: str, port: int, token: str | None = None,
          reply_to: tuple[str, int] | None = None) -> OscControl:
    """Bind and start serving on a daemon thread (OSError when the address cannot be bound)."""
    return OscControl(supervisor, host, port, token, reply_to)
