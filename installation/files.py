"""Writing files so that a full disk says "disk full" and leaves nothing half-written behind.

Stdlib only: the ordering, the offline writers and ``generate`` use it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
from pathlib import Path

DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
LOW_SPACE = 1 << 20  # bytes: with less than this free, a failed write is blamed on a full disk


class WriteError(OSError):
    """A file could not be written; ``str()`` is one line for the operator (``cannot write X: disk full``)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "cannot write"


def disk_full(path: str | Path) -> bool:
    """True when the file system holding ``path`` (or its nearest existing parent) has less than
    :data:`LOW_SPACE` free: how a writer that only reports failure (OpenCV's) is told apart from others."""
    p = Path(path).absolute()
    while not p.exists() and p != p.parent:
        p = p.parent
    try:
        return shutil.disk_usage(p).free < LOW_SPACE
    except OSError:
        return False


def os_error_text(exc: OSError) -> str:
    """One line for an OSError: "disk full" for ENOSPC/EDQUOT, else its strerror (no errno, no repr)."""
    if exc.errno in DISK_FULL:
        return "disk full"
    return " ".join(str(exc.strerror or exc).split())[:160] or type(exc).__name__


def write_failure(path: str | Path, exc: OSError | None = None) -> WriteError:
    """The :class:`WriteError` to raise for ``path``: from ``exc`` when there is one, else (a writer that
    only said no) "disk full" when the disk is, or a generic line."""
    if exc is not None:
        return WriteError(f"cannot write {path}: {os_error_text(exc)}")
    why = "disk full" if disk_full(path) else "the write failed"
    return WriteError(f"cannot write {path}: {why}")


def remove_quietly(path: str | Path) -> None:
    """Remove ``path`` if it is there; a failure to remove is not a second error to report."""
    with contextlib.suppress(OSError):
        Path(path).unlink(missing_ok=True)


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a sibling ``.tmp`` file renamed into place; on failure the
    temporary file is removed and :class:`WriteError` says why in one line."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())  # a full disk on a delayed-allocation file system shows up here, not at close
        os.replace(tmp, path)
    except OSError as exc:
        remove_quietly(tmp)
        raise write_failure(path, exc) from exc
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    """:func:`atomic_write_bytes` for UTF-8 text."""
    return atomic_write_bytes(path, text.encode("utf-8"))
