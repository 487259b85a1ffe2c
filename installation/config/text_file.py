"""Reading a configuration file safely: a regular file of at most 1 MiB of UTF-8 text, or the one issue
that stops it (missing, a folder, a FIFO or a device, too big, binary, not UTF-8). Never blocks, never
streams forever: shows and schedules may be edited by anyone who can write the file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from installation.config.issues import ConfigIssue

MAX_FILE_BYTES = 1024 * 1024  # a show or schedule file: the largest real one is a few KiB


_KINDS = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def _not_regular(mode: int, what: str) -> str:
    if stat.S_ISDIR(mode):
        return f"is a folder, not a {what}"
    kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
    return f"is {kind}, not a {what} (only regular files are read)"


def _too_big(size: int, what: str) -> str:
    return f"is {size:,} bytes; a {what} may have at most {MAX_FILE_BYTES:,} bytes (1 MiB)"


def _read_capped(path: Path, what: str) -> bytes | str:
    """The bytes of the regular file ``path`` (at most :data:`MAX_FILE_BYTES`), or why they cannot be read.
    A FIFO, a device or a folder is refused before it is opened, so nothing can block or stream forever;
    the file is opened non-blocking and re-checked in case it was swapped after the first look."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return "file not found"
    except OSError as exc:
        return f"cannot read: {exc.strerror or exc}"
    if not stat.S_ISREG(info.st_mode):
        return _not_regular(info.st_mode, what)
    if info.st_size > MAX_FILE_BYTES:
        return _too_big(info.st_size, what)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        return f"cannot read: {exc.strerror or exc}"
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return _not_regular(info.st_mode, what)
        chunks, total = [], 0
        while total <= MAX_FILE_BYTES:  # the file may grow while it is read: never more than the cap + 1
            chunk = os.read(fd, MAX_FILE_BYTES + 1 - total)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as exc:
        return f"cannot read: {exc.strerror or exc}"
    finally:
        os.close(fd)
    if total > MAX_FILE_BYTES:
        return f"is more than {MAX_FILE_BYTES:,} bytes (1 MiB), the most a {what} may have"  # grew, or /proc
    return b"".join(chunks)


def read_text_file(path: Path, file: str, what: str = "show file") -> tuple[str | None, ConfigIssue | None]:
    """A show or schedule file as text, or the one issue that stops reading it: missing, not a regular file,
    over 1 MiB, binary, not UTF-8. Never blocks on a FIFO or a device. ``file`` is the name issues use;
    ``what`` names the kind of file in messages ("show file", "schedule file")."""
    data = _read_capped(path, what)
    if isinstance(data, str):
        return None, ConfigIssue(file, 1, "", data)
    if b"\x00" in data:
        line = data.count(b"\n", 0, data.index(b"\x00")) + 1
        return None, ConfigIssue(file, line, "", "not a text file (it contains NUL bytes)")
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return None, ConfigIssue(file, line, "", f"not UTF-8 text (byte 0x{data[exc.start]:02x})")
