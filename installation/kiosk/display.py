"""Display power for kiosk mode, best effort: keep the screen awake inside opening hours, let it sleep outside.

Only X11 is handled, with ``xset`` (package x11-xserver-utils), and only when ``DISPLAY`` is set and ``xset``
is on the PATH: inside hours ``xset s off`` and ``xset -dpms`` (no screen saver, no DPMS blanking; ``s reset``
and ``dpms force on`` first wake a display that is asleep), outside hours ``xset s on``, ``xset +dpms`` and
``xset dpms force off`` (the display sleeps now and the usual DPMS timeouts apply after that). Anything else (a
headless kiosk, Wayland, no xset, xset failing) is logged once and ignored: the show never depends on it.
The mouse cursor is hidden by the player's window itself (installation/render/context/window.py).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence

log = logging.getLogger(__name__)

# One option per call: xset exits 0 even when it rejects an option (a server without DPMS, e.g. Xvfb, prints
# "server does not have extension for dpms option"), so each is judged by its own exit code and stderr.
AWAKE = (("s", "reset"), ("dpms", "force", "on"), ("s", "off"), ("-dpms",))
ASLEEP = (("s", "on"), ("+dpms",), ("dpms", "force", "off"))
TIMEOUT = 3.0  # seconds per xset call: a hung X server must not hold up the supervisor for long


class DisplayPower:
    """``awake()`` inside opening hours, ``asleep()`` outside; ``backend`` is ``"xset"`` or None (nothing done)."""

    def __init__(self, headless: bool, env: Mapping[str, str] | None = None) -> None:
        env = os.environ if env is None else env
        self.env = dict(env)
        self.xset = shutil.which("xset", path=env.get("PATH"))
        self.backend: str | None = None
        self.calls: list[list[str]] = []  # what ran, for /status and tests
        self._warned: set[str] = set()
        if headless:
            self.why = "headless: no display to power"
        elif not env.get("DISPLAY"):
            self.why = "no X11 DISPLAY (Wayland or none): the display's own power settings apply"
        elif self.xset is None:
            self.why = "xset not found (apt install x11-xserver-utils): the display's own power settings apply"
        else:
            self.backend, self.why = "xset", f"xset on DISPLAY={env['DISPLAY']}"
        self._said = False

    def awake(self) -> bool:
        """Keep the display on (opening hours); False when nothing could be done."""
        return self._run(AWAKE)

    def asleep(self) -> bool:
        """Let the display sleep, now (outside hours); False when nothing could be done."""
        return self._run(ASLEEP)

    def _run(self, commands: Sequence[Sequence[str]]) -> bool:
        if self.backend is None:
            if not self._said:
                log.info("display power: %s", self.why)
                self._said = True
            return False
        ok = True
        for args in commands:
            cmd = [str(self.xset), *args]
            self.calls.append(cmd)
            try:
                done = subprocess.run(cmd, env=self.env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                      timeout=TIMEOUT, check=False)
                said = " ".join(done.stderr.split())[:200]
                problem = f"exit {done.returncode}: {said}" if done.returncode else said or None
            except (OSError, subprocess.TimeoutExpired) as exc:
                problem = str(exc)
            if problem is not None:
                ok = False
                key = f"{args[0]}:{problem}"
                if key not in self._warned:  # once per distinct failure, not every evening
                    self._warned.add(key)
                    log.warning("display power: %s failed (%s); carrying on", " ".join(cmd), problem)
        return ok
