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

*Valid is not yet good*: a show can validate and still crash the player (a value the checker could not
foresee). So a new valid version is first a **candidate** (:meth:`LastGood.propose`, kept next to the
copy as ``candidate/NAME``): players get it, and only once a player has presented frames from it for a
while does the supervisor :meth:`~LastGood.promote` it to the last good version. A candidate that brings
its player down first is :meth:`~LastGood.reject`-ed, and the next player plays the last good version.
The very first version a kiosk sees is kept at once: there is nothing better to fall back to.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import time
from pathlib import Path

from installation.kiosk.validation import digest

log = logging.getLogger(__name__)

STATE_ENV = "INSTALLATION_STATE"


def default_state_dir() -> Path:
    if os.environ.get(STATE_ENV):
        return Path(os.environ[STATE_ENV])
    base = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(base) / "installation"


class LastGood:
    """``path``: the last version proven good (``keep``/``promote``); ``candidate``: a newer valid version on
    trial (``propose``), what a player should play while ``pending``."""

    def __init__(self, show: Path, state_dir: Path) -> None:
        original = show.absolute()
        key = hashlib.sha256(str(original).encode()).hexdigest()[:16]
        self.folder = state_dir / "last-good" / key
        self.path = self.folder / original.name  # the original's name, so the player's title and logs read right
        self.base_dir = original.parent
        self.fresh = False  # the copy holds the newest version that validated (a failed keep leaves it stale)
        self._warned = False
        self.candidate = self.folder / "candidate" / original.name
        self.pending: str | None = None  # the candidate's version (digest) while one is on trial
        self._candidate_data: bytes | None = None

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
            self._write(self.path, data)
        except OSError as exc:
            if not self._warned:  # once: a full disk must not fill the log with the same line
                log.warning("kiosk: cannot keep a copy of the last good show in %s (%s); players start from the "
                            "show file itself", self.folder, exc.strerror or exc)
                self._warned = True
            self.fresh = False
            return False
        self._warned, self.fresh = False, True
        return True

    def _write(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)

    def propose(self, data: bytes) -> str | None:
        """A version that validated: the candidate until a player proves it (the first version, or the last
        good one again, is kept at once). Returns the candidate's version, None when nothing is on trial."""
        try:
            same = self.path.is_file() and self.path.read_bytes() == data
        except OSError:
            same = False
        if same or not self.exists():
            self.reject()
            self.keep(data)
            return None
        self.pending, self._candidate_data, self.fresh = digest(data), data, False
        try:
            self._write(self.candidate, data)
        except OSError as exc:  # players then start from the show file itself, as without this net
            log.warning("kiosk: cannot write the candidate copy of the show in %s (%s)", self.folder,
                        exc.strerror or exc)
            with contextlib.suppress(OSError):
                self.candidate.unlink()
        return self.pending

    def candidate_ready(self) -> bool:
        return self.pending is not None and self.candidate.is_file()

    def promote(self, version: str) -> bool:
        """The candidate ``version`` has played well: it becomes the last good version."""
        if self.pending != version or self._candidate_data is None:
            return False
        # Written before the trial ends: whoever sees no trial (/status, a test) finds the new copy on disk.
        kept = self.keep(self._candidate_data)
        self._drop_candidate()
        return kept

    def reject(self) -> None:
        """Drop the candidate (it brought its player down, or a newer version replaces it)."""
        self._drop_candidate()
        self.fresh = self.exists()  # the copy is again the newest version worth playing (over the file itself)

    def _drop_candidate(self) -> None:
        self.pending, self._candidate_data = None, None
        with contextlib.suppress(OSError):
            self.candidate.unlink()
