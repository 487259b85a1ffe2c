"""The supervisor's end of the player link: heartbeats in, commands out, answers matched to requests.

One loopback UDP socket (protocol: installation/player_link): players send heartbeats and answers to it,
and commands go from it to the current player's control port. Commands come from the opening hours, the
file watcher (``reload``) and operators over HTTP and OSC (installation/kiosk/remote.py):
:meth:`ControlDispatch.send` numbers each one, and :meth:`ControlDispatch.wait` lets a caller's thread
wait for its answer, which the supervisor's loop hands over (:meth:`ControlDispatch.deliver`) when it
reads it.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

MAX_WAITING = 64  # answers and sent commands remembered (a lost datagram must not grow them forever)


class ControlDispatch:
    def __init__(self, timeout: float) -> None:
        self.timeout = timeout  # how long a caller waits for the player's answer
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self._lock = threading.Lock()
        self._seq = 0
        self._sent: dict[int, str] = {}  # seq -> command, until answered
        self._answers: dict[int, dict[str, Any]] = {}
        self._answered = threading.Condition()

    @property
    def port(self) -> int:
        """Where players send heartbeats and answers."""
        return self.sock.getsockname()[1]

    def receive(self) -> Iterator[dict[str, Any]]:
        """Every datagram waiting (never blocks); malformed ones are skipped."""
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:  # BlockingIOError: nothing waiting; anything else: the socket is gone
                return
            try:
                msg = json.loads(data)
            except ValueError:
                continue
            if isinstance(msg, dict):
                yield msg

    def send(self, port: int, cmd: str, **fields: Any) -> int | None:
        """Send ``cmd`` to the player's control ``port`` (no waiting); its sequence number, None if unsent."""
        with self._lock:
            self._seq += 1
            seq = self._seq
            self._sent[seq] = cmd  # before sending: the answer may come back at once
            while len(self._sent) > MAX_WAITING:
                self._sent.pop(next(iter(self._sent)))
        data = json.dumps({"cmd": cmd, "seq": seq, **fields}).encode()
        try:
            self.sock.sendto(data, ("127.0.0.1", port))
        except OSError:
            return None
        return seq

    def next_seq(self) -> int:
        """The sequence number the next command will get (a unique name for a screenshot file)."""
        with self._lock:
            return self._seq + 1

    def command_of(self, msg: dict[str, Any]) -> str | None:
        """The command the answer ``msg`` is for (None: not one we remember sending)."""
        seq = msg.get("seq")
        with self._lock:
            return self._sent.pop(seq, None) if isinstance(seq, int) else None

    def deliver(self, msg: dict[str, Any]) -> None:
        """Hand the answer ``msg`` to whoever waits for it (:meth:`wait`)."""
        with self._answered:
            self._answers[msg.get("seq")] = msg  # type: ignore[index]
            while len(self._answers) > MAX_WAITING:
                self._answers.pop(next(iter(self._answers)))
            self._answered.notify_all()

    def wait(self, seq: int) -> dict[str, Any] | None:
        """The answer to command ``seq`` (None: none within the timeout)."""
        end = time.monotonic() + self.timeout
        with self._answered:
            while seq not in self._answers:
                left = end - time.monotonic()
                if left <= 0:
                    return None
                self._answered.wait(left)
            return self._answers.pop(seq)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()
