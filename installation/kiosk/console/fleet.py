"""The console's fleet page: every player on the wall's MQTT broker, its state, and commands to the wall.

The console only needs the small :class:`Fleet` interface below. :class:`WallFleet` adapts the wall's own API
(installation/wall/fleet.py, issue 14: one :class:`installation.wall.fleet.Fleet` connection that follows the
retained statuses and appends commands to the wall's retained command log) to it. :func:`load_fleet` finds
the broker in the options the kiosk passes its player (``--broker``, ``--wall``, ``--username``, ``--tls``,
``--ca``/``--cert``/``--key``; the password from ``$INSTALLATION_WALL_PASSWORD`` as the player reads it), or
uses a ``fleet`` the supervisor carries, and returns None when this kiosk is not on a wall.

What the wall's API does not offer (yet), the page says rather than fakes: commands go to **every** player
at once (a synchronised wall switches together; there is no per-player command topic), ``pause``/``resume``
are not wall commands, and players publish no preview image.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

log = logging.getLogger(__name__)

RETRY_SECONDS = 10.0  # after a failed connection to the broker, try again this much later


class Fleet(Protocol):
    def overview(self) -> dict[str, Any]:
        """``{"players": [{"id", "state", "cue", "fps", "age_seconds", "viewport", "preview": bool}, ...],
        "commands": [...], "per_player": bool, "error": str | None, ...}``"""

    def command(self, cmd: str, player: str | None, cue_id: str | None = None) -> dict[str, Any]:
        """Send ``cmd`` to ``player`` (None: all); ``{"ok": bool, "error": str | None, ...}``."""

    def preview(self, player: str) -> bytes | None:
        """A JPEG of that player's current frame, if it publishes one."""


class WallFleet:
    """The wall's :class:`installation.wall.fleet.Fleet`, connected on first use (never at kiosk start, so a
    broker that is down costs the console a message, not the kiosk its start)."""

    def __init__(self, broker: Any, wall: str | Callable[[], str]) -> None:
        self.broker = broker
        self._wall = wall
        self._fleet: Any = None
        self._error: str | None = None
        self._next_try = 0.0
        self._lock = threading.Lock()

    @property
    def wall(self) -> str:
        return self._wall() if callable(self._wall) else self._wall

    def _connected(self) -> Any:
        with self._lock:
            if self._fleet is not None:
                return self._fleet
            if time.monotonic() < self._next_try:
                return None
            from installation.wall.fleet import Fleet as _WallFleet
            from installation.wall.fleet import FleetUnavailable

            try:
                self._fleet = _WallFleet(self.broker, self.wall, client_id=None).start()
                self._error = None
                time.sleep(0.3)  # the broker sends the retained statuses right after subscribing
            except (FleetUnavailable, OSError) as exc:
                self._error = str(exc)
                self._next_try = time.monotonic() + RETRY_SECONDS
                log.warning("console: fleet: %s", exc)
            return self._fleet

    def overview(self) -> dict[str, Any]:
        from installation.wall.commands import COMMANDS
        from installation.wall.status import content_problems

        fleet = self._connected()
        statuses = fleet.statuses() if fleet is not None else []
        now = time.time()
        players = [{"id": s.id, "state": "stale" if s.stale(now) else s.state, "cue": s.cue, "fps": s.fps,
                    "viewport": s.viewport, "host": s.host, "show": s.show, "show_hash": (s.show_hash or "")[:12],
                    "age_seconds": round(now - s.last_seen, 1) if s.last_seen else None, "preview": False}
                   for s in statuses]
        return {"wall": self.wall, "broker": str(self.broker), "players": players, "commands": list(COMMANDS),
                "per_player": False, "problems": content_problems(statuses) if statuses else [],
                "error": self._error if fleet is None else None,
                "note": f"wall {self.wall} on {self.broker}: {len(players)} player(s); commands go to every player"}

    def command(self, cmd: str, player: str | None, cue_id: str | None = None) -> dict[str, Any]:
        from installation.wall.commands import COMMANDS, CommandError
        from installation.wall.fleet import FleetUnavailable

        if player is not None:
            return {"ok": False, "error": "the wall takes commands for all its players at once (they switch on the "
                                          "same frame); open that player's own console to steer it alone"}
        if cmd not in COMMANDS:
            return {"ok": False, "error": f"{cmd!r} is not a wall command (one of {', '.join(COMMANDS)})"}
        fleet = self._connected()
        if fleet is None:
            return {"ok": False, "error": f"no connection to the broker {self.broker}: {self._error}"}
        try:
            sent = fleet.publish(cmd, cue_id, by="console")
        except (CommandError, FleetUnavailable) as exc:
            return {"ok": False, "error": str(exc)}
        return {"ok": True, "error": None, "command": sent.to_dict()}

    def preview(self, player: str) -> bytes | None:
        return None  # players publish no frames (yet)

    def close(self) -> None:
        with self._lock:
            if self._fleet is not None:
                self._fleet.close()
                self._fleet = None


def _option(args: list[str], name: str) -> str | None:
    for i, arg in enumerate(args[:-1]):
        if arg == name:
            return args[i + 1]
    return None


def load_fleet(supervisor: Any, show_wall: Callable[[], str | None] | None = None) -> Fleet | None:
    """The fleet this kiosk belongs to, or None. ``show_wall``: the show's ``wall.name`` (when ``--wall`` is
    not given)."""
    fleet = getattr(supervisor, "fleet", None)
    if fleet is not None and hasattr(fleet, "overview"):
        return fleet
    args = [str(a) for a in getattr(getattr(supervisor, "config", None), "player_args", None) or []]
    address = _option(args, "--broker")
    if address is None:
        return None
    try:
        from installation.wall.mqtt import BrokerConfig

        broker = BrokerConfig.parse(address, username=_option(args, "--username"), tls="--tls" in args or None,
                                    ca_file=_option(args, "--ca"), cert_file=_option(args, "--cert"),
                                    key_file=_option(args, "--key"))
    except ImportError as exc:  # paho-mqtt missing: the player would fail the same way
        log.warning("console: no fleet page: %s", exc)
        return None
    except ValueError as exc:
        log.warning("console: no fleet page: %s", exc)
        return None
    wall = _option(args, "--wall")

    def wall_name() -> str:
        return wall or (show_wall() if show_wall is not None else None) or "default"

    return WallFleet(broker, wall_name)
