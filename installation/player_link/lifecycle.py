"""How a supervised player lives and dies: with its supervisor, and cleanly on its SIGTERM.

:func:`follow_supervisor` is called once at start-up by a process the kiosk runs (a player, the holding
screen); without a supervisor (no ``INSTALLATION_HEARTBEAT``) it does nothing, so ``installation run`` by
hand keeps Python's default signal handling.
"""

from __future__ import annotations

import os
import signal

from installation.player_link import PARENT_ENV, under_kiosk


def follow_supervisor() -> None:
    """Under a kiosk: die with the supervisor, and turn its SIGTERM into KeyboardInterrupt, which the render
    loop already handles by releasing GL and exiting 0."""
    if not under_kiosk():
        return
    die_with_parent()
    signal.signal(signal.SIGTERM, _interrupt)


def die_with_parent() -> None:
    """Linux: ask the kernel to SIGTERM this process when the supervisor dies (no orphaned players)."""
    parent = os.environ.get(PARENT_ENV)
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGTERM), 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if parent and parent.isdigit() and os.getppid() != int(parent):  # the parent died before prctl
        raise SystemExit(1)


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt
