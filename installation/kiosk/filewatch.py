"""Has a file's content changed since we last looked? For hot reload of the show and the schedule.

A check is one ``stat`` (mtime and size); only when those moved are the contents hashed (SHA-256), so
touching a file, or saving it unchanged, is not a change, and a check every second costs nothing.
Only a regular file of bounded size is read (installation/kiosk/validation.py): a FIFO or a device put in
its place is a change too (its checker then says why it is refused), never a read that blocks or never ends.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from installation.kiosk.validation import NotAShowFile, read_regular


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
        key = self._stat()
        if key is None:  # vanished: not a version to compare with
            return None, None
        try:
            return key, hashlib.sha256(read_regular(self.path)).hexdigest()
        except NotAShowFile as exc:  # a FIFO, a device, too large, unreadable: a "version" the checker refuses
            return key, f"unreadable: {exc} {key}"

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
