"""Kiosk mode: a supervisor that keeps the player presenting frames for weeks (see docs/kiosk.md).

- :mod:`installation.kiosk.heartbeat`: the player's side, one UDP datagram per presented frame.
- :mod:`installation.kiosk.supervisor`: runs the player as a child, restarts it, safe mode.
- :mod:`installation.kiosk.control`: the player's control channel (JSON commands from the supervisor).
- :mod:`installation.kiosk.remote`: the command path, bind parsing and token check HTTP and OSC share.
- :mod:`installation.kiosk.http`: ``/health``, ``/status``, ``/metrics``, ``POST /control/...`` (stdlib).
- :mod:`installation.kiosk.osc`: ``/installation/...`` OSC control over UDP (python-osc).
- :mod:`installation.kiosk.systemd`: sd_notify and the unit file.
- :mod:`installation.kiosk.schedule`: opening hours (weekdays, overnight windows, date exceptions, DST).
- :mod:`installation.kiosk.display`: display power (``xset``), best effort.
- :mod:`installation.kiosk.opening`: applies the schedule to the running player (blackout or a cue, resends).
- :mod:`installation.kiosk.last_good`: the last good version of the show (and a new one on trial), which
  every player starts from.
- :mod:`installation.kiosk.validation`: checks of show and schedule edits in a child process with a time
  and memory limit, off the supervisor's loop.
- :mod:`installation.kiosk.holding`: safe mode's holding screen, a minimal renderer with a heartbeat.
- :mod:`installation.kiosk.logfile`: the size-capped ``--log`` file and the player's piped output.

Nothing here imports GL or torch at module level: the supervisor stays small and never renders.
"""
