"""Kiosk mode: a supervisor that keeps the player presenting frames for weeks (see docs/kiosk.md).

- :mod:`installation.kiosk.heartbeat`: the player's side, one UDP datagram per presented frame.
- :mod:`installation.kiosk.supervisor`: runs the player as a child, restarts it, safe mode.
- :mod:`installation.kiosk.http`: ``/health``, ``/status``, ``/metrics`` (stdlib http.server).
- :mod:`installation.kiosk.systemd`: sd_notify and the unit file.
- :mod:`installation.kiosk.schedule`: opening hours (weekdays, overnight windows, date exceptions, DST).
- :mod:`installation.kiosk.display`: display power (``xset``), best effort.

Nothing here imports GL or torch at module level: the supervisor stays small and never renders.
"""
