"""The player's end of its link to a kiosk supervisor: environment variables and JSON datagrams on loopback UDP.

A plain ``installation run`` has no supervisor: none of the variables is set and nothing here does
anything. Under ``installation kiosk`` the supervisor (installation/kiosk/) starts each player with:

- ``INSTALLATION_HEARTBEAT=127.0.0.1:PORT``: where the supervisor listens. The player sends one datagram
  per presented frame, ``{"pid", "t", "frames", "cue"}``, four times a second with ``fps``, ``p50_ms``,
  ``p99_ms``, ``dropped``, ``dropped_total``, its fault state ``health`` and new fault reports ``errors``
  (:mod:`.heartbeat`).
- ``INSTALLATION_CONTROL=127.0.0.1:PORT``: a free port the player binds for commands, ``{"cmd", "seq",
  ...}``, each answered to its sender with ``{"pid", "reply": CMD, "seq", "ok", "error"?}``; after a
  ``reload`` that names a ``"version"``, ``{"pid", "switched": VERSION}`` on the first frame drawn from it
  (:mod:`.control`).
- ``INSTALLATION_KIOSK_PARENT=PID``: the supervisor's pid. The player dies with it and exits cleanly on
  its SIGTERM (:mod:`.lifecycle`).

Datagrams are fire-and-forget in both directions: a missing or slow peer never blocks the render loop,
and the supervisor ignores datagrams from a pid that is not its current player. This package imports
nothing from the kiosk (the kiosk imports it: players sit below their supervisor).
"""

from __future__ import annotations

import os

HEARTBEAT_ENV = "INSTALLATION_HEARTBEAT"
CONTROL_ENV = "INSTALLATION_CONTROL"
PARENT_ENV = "INSTALLATION_KIOSK_PARENT"


def under_kiosk() -> bool:
    """True when a kiosk supervisor runs this process (it then wants frames, never a fallback video file)."""
    return bool(os.environ.get(HEARTBEAT_ENV))
