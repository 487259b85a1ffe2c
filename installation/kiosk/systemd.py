"""systemd integration, stdlib only: sd_notify over ``$NOTIFY_SOCKET`` and the unit file we recommend."""

from __future__ import annotations

import os
import shlex
import socket
import sys
from pathlib import Path


def notify(message: str) -> bool:
    """Send ``READY=1`` / ``WATCHDOG=1`` / ``STATUS=...`` to systemd; False when not run by systemd."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):  # abstract namespace
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.setblocking(False)  # a slow or full receiver must never stall the supervisor
            sock.connect(address)
            sock.send(message.encode())
    except OSError:
        return False
    return True


def watchdog_interval() -> float | None:
    """Seconds between ``WATCHDOG=1`` pings (half of ``$WATCHDOG_USEC``), or None without a watchdog."""
    usec = os.environ.get("WATCHDOG_USEC", "")
    pid = os.environ.get("WATCHDOG_PID", "")
    if not usec.isdigit() or (pid.isdigit() and int(pid) != os.getpid()):
        return None
    return int(usec) / 2e6


class Watchdog:
    """Pings systemd's watchdog from the supervisor's main loop (call :meth:`step` each turn): if the loop
    hangs, the pings stop and systemd restarts the whole kiosk."""

    def __init__(self) -> None:
        self._last = 0.0

    def step(self, now: float) -> None:
        interval = watchdog_interval()
        if interval is not None and now - self._last >= interval:
            notify("WATCHDOG=1")
            self._last = now


def unit_text(show: str | None, extra_args: list[str] | None = None, watchdog_seconds: int = 30) -> str:
    """A systemd user/system unit that runs ``installation kiosk SHOW`` and restarts it whatever happens."""
    show_path = str(Path(show).resolve()) if show else "/path/to/show.yaml"
    command = [sys.executable, "-m", "installation.cli", "kiosk", show_path, *(extra_args or [])]
    workdir = Path(__file__).resolve().parents[2]
    return f"""# installation kiosk: save as ~/.config/systemd/user/installation-kiosk.service (graphical session)
# then: systemctl --user daemon-reload && systemctl --user enable --now installation-kiosk
[Unit]
Description=installation kiosk ({Path(show_path).name})
After=graphical-session.target network-online.target
Wants=network-online.target
PartOf=graphical-session.target
StartLimitIntervalSec=0

[Service]
Type=notify
NotifyAccess=main
ExecStart={shlex.join(command)}
WorkingDirectory={workdir}
Restart=always
RestartSec=2
WatchdogSec={watchdog_seconds}
TimeoutStopSec=10
KillMode=control-group
Environment=PYTHONUNBUFFERED=1

[Install]
WantedBy=graphical-session.target
"""
