"""Has a file's content changed since we last looked? For hot reload of the show and the schedule.

A check is one ``stat`` (mtime and size); only when those moved are the contents hashed (SHA-256), so
touching a file, or saving it unchanged, is not a change, and a check every second costs nothing.
"""

from __future__ import annotations

import hashlib
from pathlib import Path


class FileWatch:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._key, self._digest = self._read()

    def _stat(self) -> tuple[int, int] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size

    def _read(self) -> tuple[tuple[int, int] | None, str | None]:
        try:
            return self._stat(), hashlib.sha256(self.path.read_bytes()).hexdigest()
        except OSError:  # vanished or unreadable: not a version to compare with
            return None, None

    def changed(self) -> bool:
        """True once per new content (a vanished file is not a change: the last version stays)."""
        if self._stat() == self._key:
            return False
        key, digest = self._read()
        self._key = key
        if digest is None or digest == self._digest:
            return False
        self._digest = digest
        return True

    def seen(self) -> None:
        """Take the current content as known (it was just handled some other way)."""
        self._key, self._digest = self._read()
