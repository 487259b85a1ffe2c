"""Is this machine's clock synchronised, and how far off is it? (``installation doctor``; docs/wall.md)

A wall agrees on frames only as well as its players' clocks agree: chrony (NTP) keeps a LAN within about a
millisecond, linuxptp (PTP, with hardware timestamps) within microseconds. This module only asks the
engines that keep the clock: ``chronyc tracking`` when chrony runs, else ``timedatectl show`` (systemd's
view, which knows whether NTP synchronised the clock but not the offset); otherwise the state is unknown.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass

Runner = Callable[[list[str]], str | None]
_OFFSET = re.compile(r"^System time\s*:\s*([0-9.eE+-]+)\s+seconds\s+(fast|slow)", re.M)
_LEAP = re.compile(r"^Leap status\s*:\s*(.+)$", re.M)
_REF = re.compile(r"^Reference ID\s*:\s*(.+)$", re.M)


@dataclass(frozen=True)
class ClockSync:
    """``synchronised``: True/False, None when unknown; ``offset``: seconds this clock is ahead of the reference
    (None when the source does not say); ``source``: chrony | timedatectl | unknown."""

    source: str
    synchronised: bool | None
    offset: float | None = None
    detail: str = ""

    def line(self) -> str:
        state = {True: "synchronised", False: "NOT synchronised", None: "unknown"}[self.synchronised]
        offset = f", offset {self.offset * 1e3:+.3f} ms" if self.offset is not None else ""
        detail = f" ({self.detail})" if self.detail else ""
        return f"{state} by {self.source}{offset}{detail}" if self.source != "unknown" else \
            f"unknown (no chronyc or timedatectl){detail}"


def _run(cmd: list[str]) -> str | None:
    if shutil.which(cmd[0]) is None:
        return None
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=3.0, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout if proc.returncode == 0 else None


def parse_chrony(text: str) -> ClockSync | None:
    """``chronyc -n tracking`` output -> state; None when it is not that output."""
    m = _OFFSET.search(text)
    if m is None:
        return None
    offset = float(m.group(1)) * (1 if m.group(2) == "fast" else -1)
    leap = (_LEAP.search(text).group(1).strip() if _LEAP.search(text) else "")  # type: ignore[union-attr]
    ref = (_REF.search(text).group(1).strip() if _REF.search(text) else "")  # type: ignore[union-attr]
    synced = leap.lower() != "not synchronised" and not ref.startswith("00000000")
    return ClockSync("chrony", synced, offset, f"reference {ref}" if ref else "")


def parse_timedatectl(text: str) -> ClockSync | None:
    """``timedatectl show`` output (``NTPSynchronized=yes``) -> state; None when the key is missing."""
    values = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    if "NTPSynchronized" not in values:
        return None
    ntp = values.get("NTP", "")
    return ClockSync("timedatectl", values["NTPSynchronized"] == "yes", None,
                     f"NTP service {'on' if ntp == 'yes' else 'off' if ntp == 'no' else 'unknown'}; no offset known")


def clock_sync(run: Runner = _run) -> ClockSync:
    """The best answer this machine gives (see the module docstring)."""
    text = run(["chronyc", "-n", "tracking"])
    if text and (state := parse_chrony(text)) is not None:
        return state
    text = run(["timedatectl", "show"])
    if text and (state := parse_timedatectl(text)) is not None:
        return state
    return ClockSync("unknown", None)
