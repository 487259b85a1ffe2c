"""The fleet seen from outside the players: the small API of ``installation wall`` and the kiosk console.

    from installation.wall.fleet import fleet_status, publish_command
    from installation.wall.mqtt import BrokerConfig

    broker = BrokerConfig.parse("127.0.0.1:1883")
    for player in fleet_status(broker, "lobby"):            # retained statuses, newest first per player
        print(player.id, player.state, player.cue, player.fps)
    publish_command(broker, "lobby", "cue", "intro")       # every player switches at now + lead

A console that stays up keeps one :class:`Fleet` (one connection, statuses kept current) instead.
"""

from __future__ import annotations

import os
import socket
import threading
import time

from installation.wall.commands import DEFAULT_LEAD, Command, CommandError, decode_log, encode_log, make_command
from installation.wall.mqtt import BrokerConfig, MqttClient, topic
from installation.wall.status import PlayerStatus, content_problems

CONNECT_TIMEOUT = 3.0


class FleetUnavailable(RuntimeError):
    """The broker cannot be reached (or refused the login)."""


class Fleet:
    """One connection that follows every player's status and the command log of ``wall``."""

    def __init__(self, broker: BrokerConfig, wall: str = "default", client_id: str | None = None) -> None:
        self.broker, self.wall = broker, wall
        self._lock = threading.Lock()
        self._statuses: dict[str, PlayerStatus] = {}
        self._log: list[Command] = []
        self._log_seen = threading.Event()
        self._client = MqttClient(
            broker, client_id or f"fleet-{socket.gethostname()}-{os.getpid()}-{id(self) % 10000}",
            subscriptions=(topic(wall, "status", "+"), topic(wall, "commands")), handler=self._on_message)

    def start(self, timeout: float = CONNECT_TIMEOUT) -> Fleet:
        """Connect; ``FleetUnavailable`` when the broker does not answer within ``timeout``."""
        self._client.start()
        if not self._client.wait_connected(timeout):
            self._client.stop()
            raise FleetUnavailable(f"no answer from the broker {self.broker} within {timeout:g} s")
        return self

    def _on_message(self, name: str, payload: bytes, retained: bool) -> None:
        if name == topic(self.wall, "commands"):
            try:
                commands = decode_log(payload)
            except CommandError:
                return
            with self._lock:
                self._log = commands
            self._log_seen.set()
            return
        if not payload:  # a cleared retained status: the player was removed
            with self._lock:
                self._statuses.pop(name.rsplit("/", 1)[-1], None)
            return
        status = PlayerStatus.decode(payload)
        if status is not None:
            with self._lock:
                self._statuses[status.id] = status

    def statuses(self) -> list[PlayerStatus]:
        """Every player that has reported, by id."""
        with self._lock:
            return sorted(self._statuses.values(), key=lambda s: s.id)

    def publish(self, cmd: str, cue: str | None = None, *, lead: float = DEFAULT_LEAD, by: str = "fleet",
                log_wait: float = 0.3) -> Command:
        """Schedule ``cmd`` for every player at now + ``lead``: append it to the retained log (read for up to
        ``log_wait`` s first: the broker sends the retained log right after subscribing)."""
        self._log_seen.wait(log_wait)
        command = make_command(cmd, cue, lead=lead, by=by)
        with self._lock:
            self._log = [*self._log, command]
            payload = encode_log(self._log)
        if not self._client.publish(topic(self.wall, "commands"), payload, retain=True, wait=CONNECT_TIMEOUT):
            raise FleetUnavailable(f"the broker {self.broker} did not take the command")
        return command

    def forget(self, player_id: str) -> None:
        """Remove a player's retained status (a screen taken out of the wall)."""
        self._client.publish(topic(self.wall, "status", player_id), b"", retain=True, wait=CONNECT_TIMEOUT)

    def close(self) -> None:
        self._client.stop()


def fleet_status(broker: BrokerConfig, wall: str = "default", wait: float = 1.0) -> list[PlayerStatus]:
    """The retained status of every player of ``wall`` (collected for ``wait`` seconds)."""
    fleet = Fleet(broker, wall).start()
    try:
        time.sleep(wait)
        return fleet.statuses()
    finally:
        fleet.close()


def publish_command(broker: BrokerConfig, wall: str, cmd: str, cue: str | None = None, *,
                    lead: float = DEFAULT_LEAD, by: str = "cli") -> Command:
    """Schedule ``cmd`` on every player of ``wall`` ``lead`` seconds from now; returns the command sent."""
    fleet = Fleet(broker, wall).start()
    try:
        return fleet.publish(cmd, cue, lead=lead, by=by)
    finally:
        fleet.close()


def check_content(broker: BrokerConfig, wall: str = "default", wait: float = 1.0) -> list[str]:
    """Players whose show or collection differs from the majority (``installation wall check``)."""
    return content_problems(fleet_status(broker, wall, wait))
