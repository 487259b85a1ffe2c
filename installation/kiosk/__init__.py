"""Kiosk mode: a supervisor that keeps the player presenting frames for weeks (see docs/kiosk.md).

Only the supervisor's side lives here; the player's end of the link (heartbeat, control channel, how it
lives and dies under a supervisor) is installation/player_link, which documents the protocol.

- :mod:`installation.kiosk.supervisor`: the coordinator, a thin loop over the parts below.
- :mod:`installation.kiosk.config`: the kiosk's settings and their defaults (the command line's too).
- :mod:`installation.kiosk.child`: the player process: start, stop, down or hung.
- :mod:`installation.kiosk.policy`: the failure policy: restart at once, back off, safe mode and its retries.
- :mod:`installation.kiosk.reload`: hot reload and the last good version (checks off the loop, trial, promotion).
- :mod:`installation.kiosk.control`: the supervisor's end of the link: heartbeats in, commands out, answers.
- :mod:`installation.kiosk.status`: the player's reported figures, the kept errors, the ``/status`` document.
- :mod:`installation.kiosk.daily_restart`: the planned restart at a quiet hour.
- :mod:`installation.kiosk.remote`: the command path, loopback test and token check HTTP and OSC share.
- :mod:`installation.kiosk.http`: ``/health``, ``/status``, ``/metrics``, ``POST /control/...`` (stdlib).
- :mod:`installation.kiosk.osc`: ``/installation/...`` OSC control over UDP (python-osc).
- :mod:`installation.kiosk.systemd`: sd_notify, the watchdog ping and the unit file.
- :mod:`installation.kiosk.schedule`: opening hours (weekdays, overnight windows, date exceptions, DST).
- :mod:`installation.kiosk.display`: display power (``xset``), best effort.
- :mod:`installation.kiosk.opening`: applies the schedule to the running player (blackout or a cue, resends).
- :mod:`installation.kiosk.last_good`: the last good version of the show (and a new one on trial), which
  every player starts from.
- :mod:`installation.kiosk.validation`: checks of show and schedule edits in a child process with a time
  and memory limit, off the supervisor's loop.
- :mod:`installation.kiosk.filewatch`: has a watched file's content changed?
- :mod:`installation.kiosk.holding`: safe mode's holding screen, a minimal renderer with a heartbeat.
- :mod:`installation.kiosk.logfile`: the size-capped ``--log`` file and the player's piped output.

Nothing here imports GL or torch at module level: the supervisor stays small and never renders.
"""
