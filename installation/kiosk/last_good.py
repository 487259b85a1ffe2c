"""The last good version of a show, kept aside so that the kiosk never has to play a broken file.

An operator saves a half-finished edit, a sync tool writes a file in two steps, a power cut hits during
a save: the show file on disk is invalid for a while. The running player keeps its show (hot reload
rejects the edit), but a player that *restarts* then (a crash, the daily restart, a reboot) would read
the broken file. So the supervisor copies every version that validates into a state folder and always
starts its players from that copy, with ``--base-dir`` pointing at the original's folder so the copy's
relative paths (images, models) mean what they meant next to the original.

The copy lives in ``--state-dir`` (default ``$INSTALLATION_STATE``, else ``$XDG_STATE_HOME/installation``,
else ``~/.local/state/installation``), one folder per show keyed by its absolute path, so it survives a
restart of the kiosk itself. Writing is atomic (temp file + rename) and a failure to write (full disk,
read-only state folder) is logged and leaves the original in use: losing the safety net must never stop
the show.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from pathlib import Path

log = logging.getLogger(__name__)

STATE_ENV = "INSTALLATION_STATE"


def default_state_dir() -> Path:
    if os.environ.get(STATE_ENV):
        return Path(os.environ[STATE_ENV])
    base = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(base) / "installation"


class LastGood:
    """``keep(data)`` after a version validated; ``path`` is what a player should play when it exists."""

    def __init__(self, show: Path, state_dir: Path) -> None:
        original = show.absolute()
        key = hashlib.sha256(str(original).encode()).hexdigest()[:16]
        self.folder = state_dir / "last-good" / key
        self.path = self.folder / original.name  # the original's name, so the player's title and logs read right
        self.base_dir = original.parent
        self.fresh = False  # the copy holds the newest version that validated (a failed keep leaves it stale)
        self._warned = False

    def exists(self) -> bool:
        return self.path.is_file()

    def saved_at(self) -> str | None:
        try:
            return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.path.stat().st_mtime))
        except OSError:
            return None

    def keep(self, data: bytes) -> bool:
        """Store ``data`` (the bytes that were validated) as the last good version; False if it could not."""
        try:
            if self.path.is_file() and self.path.read_bytes() == data:
                self.fresh = True
                return True
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            with open(tmp, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except OSError as exc:
            if not self._warned:  # once: a full disk must not fill the log with the same line
                log.warning("kiosk: cannot keep a copy of the last good show in %s (%s); players start from the "
                            "show file itself", self.folder, exc.strerror or exc)
                self._warned = True
            self.fresh = False
            return False
        self._warned, self.fresh = False, True
        return True
