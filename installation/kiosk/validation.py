"""Checking a show (or schedule) edit for the kiosk in a child process, with a time and a memory limit.

A show file is written by people the kiosk cannot trust to be careful: a YAML file that nests aliases
("billion laughs") takes minutes and gigabytes to expand, a FIFO or ``/dev/zero`` in its place never ends.
Run on the supervisor's main loop, such a check would stop the heartbeats, ``/health`` and the systemd
watchdog with it. So the supervisor only *reads* the file here (a regular file, at most
:data:`MAX_FILE_BYTES`), and the check itself (``installation.show.check_show``, exactly what
``installation validate`` does) runs in ``python -m installation.kiosk.validation``: a fresh interpreter
that limits its own address space to :data:`MEMORY_LIMIT` before importing anything, and is killed when
it takes longer than :data:`TIME_LIMIT`. Whatever the file does, the verdict is a list of errors.

:class:`Background` runs one such check at a time on a worker thread, so the main loop only polls.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import signal
import stat
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

TIME_LIMIT = 20.0  # seconds of wall time for one check (a valid show checks in about 1-3 s here)
MEMORY_LIMIT = 2 << 30  # bytes of address space for the checking process (a valid show needs < 1 GiB)
MAX_FILE_BYTES = 16 << 20  # a show or schedule larger than this is refused before anything parses it
MEMORY_EXIT = 3  # the child's exit code for "ran out of memory"
MAX_MESSAGE = 400  # characters of one error line (a 1 MB line in a show must not come back as a 1 MB error)
LIMITS_ENV = "INSTALLATION_CHECK_LIMITS"  # "SECONDS,MIB": other limits (tests use short ones)

T = TypeVar("T")


class NotAShowFile(Exception):
    """The path is not something a show can be read from (a FIFO, a device, too large, unreadable)."""


def read_regular(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of ``path`` if it is a regular file of at most ``limit`` bytes, else :class:`NotAShowFile`.

    Opened non-blocking (opening a FIFO with no writer would block) and checked with ``fstat`` on the
    open descriptor, so a FIFO, a socket or ``/dev/zero`` (also behind a symlink) is never read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise NotAShowFile(f"cannot read: {exc.strerror or exc}") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise NotAShowFile("is a folder, not a file")
        if not stat.S_ISREG(st.st_mode):
            raise NotAShowFile("not a regular file (a FIFO, socket or device cannot be read as a file)")
        if st.st_size > limit:
            raise NotAShowFile(f"too large ({st.st_size} bytes; at most {limit})")
        with os.fdopen(os.dup(fd), "rb") as fh:
            data = fh.read(limit + 1)
        if len(data) > limit:  # grew while we read it
            raise NotAShowFile(f"too large (over {limit} bytes)")
        return data
    except OSError as exc:
        raise NotAShowFile(f"cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def limits() -> tuple[float, int]:
    """(seconds, bytes) for one check: :data:`TIME_LIMIT` and :data:`MEMORY_LIMIT`, or ``$INSTALLATION_CHECK_LIMITS``
    (``SECONDS,MIB``)."""
    text = os.environ.get(LIMITS_ENV, "")
    try:
        seconds, mib = (float(v) for v in text.split(","))
        if 0 < seconds <= 3600 and 64 <= mib <= 1 << 20:
            return seconds, int(mib) << 20
    except ValueError:
        pass
    return TIME_LIMIT, MEMORY_LIMIT


def short(message: str, limit: int = MAX_MESSAGE) -> str:
    """One error line of readable length."""
    message = " ".join(str(message).split())
    return message if len(message) <= limit else message[: limit - 3] + "..."


def digest(data: bytes) -> str:
    """A short name for one version of a file (what the supervisor and the player call it)."""
    return hashlib.sha256(data).hexdigest()[:16]


@dataclass
class Verdict:
    """What a check found: ``errors`` (none: valid); for a valid show its cue ids and display size."""

    errors: list[str] = field(default_factory=list)
    cue_ids: list[str] | None = None
    size: tuple[int, int] | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


def _run_child(request: dict[str, Any], file: str, timeout: float, memory: int) -> dict[str, Any]:
    """Run the check in a fresh interpreter; a dict with ``errors`` (and the rest of a verdict)."""
    cmd = [sys.executable, "-m", "installation.kiosk.validation", str(memory), str(timeout)]
    env = dict(os.environ)
    for name in ("OMP_NUM_THREADS", "INSTALLATION_THREADS"):  # a check needs no thread pools
        env.setdefault(name, "1")
    try:
        # stdin carries the request; the child's log lines go to its stderr, which
        # we keep short rather than pass to the journal: an invalid file is reported through the verdict
        proc = subprocess.run(cmd, input=json.dumps(request).encode(), capture_output=True, timeout=timeout,
                              env=env)
    except subprocess.TimeoutExpired:  # subprocess.run has killed it
        return {"errors": [f"{file}:1: validation timed out after {timeout:g} s (a file that nests or repeats too "
                           "much?); not accepted"]}
    except OSError as exc:
        return {"errors": [f"{file}:1: cannot start the validation process: {exc.strerror or exc}"]}
    if proc.returncode == MEMORY_EXIT or b"MemoryError" in proc.stderr[-2000:]:
        return {"errors": [f"{file}:1: validation used too much memory (over {memory / 2**30:g} GiB: a file that "
                           "nests or repeats too much?); not accepted"]}
    try:
        answer = json.loads(proc.stdout.decode().strip().splitlines()[-1])
        if proc.returncode == 0 and isinstance(answer, dict) and isinstance(answer.get("errors"), list):
            return answer
    except (ValueError, IndexError, UnicodeDecodeError):
        pass
    why = f"exit code {proc.returncode}" if proc.returncode >= 0 else f"signal {-proc.returncode}"
    # killed by a signal under the address-space limit (a C library that aborts on a failed allocation)
    return {"errors": [f"{file}:1: validation failed ({why}; out of memory?); not accepted"]}


def check_show_isolated(show: Path, base_dir: Path | None = None, *, timeout: float | None = None,
                        memory: int | None = None) -> Verdict:
    """``check_show(show, base_dir)`` in a child process with a time and memory limit (default: :func:`limits`)."""
    seconds, mib = limits()
    answer = _run_child({"kind": "show", "path": str(show), "base_dir": None if base_dir is None else str(base_dir)},
                        str(show), timeout or seconds, memory or mib)
    size = answer.get("size")
    return Verdict([short(e) for e in answer["errors"]], answer.get("cue_ids"),
                   (int(size[0]), int(size[1])) if isinstance(size, list) and len(size) == 2 else None)


def check_schedule_isolated(path: Path, cue_ids: list[str] | None, show: str, *,
                            timeout: float | None = None, memory: int | None = None) -> Verdict:
    """``check_schedule(path)`` (and its ``outside`` cues against ``cue_ids``) in a child process."""
    seconds, mib = limits()
    answer = _run_child({"kind": "schedule", "path": str(path), "cue_ids": cue_ids, "show": show},
                        str(path), timeout or seconds, memory or mib)
    return Verdict([short(e) for e in answer["errors"]])


class Background(Generic[T]):
    """One job at a time on a daemon thread; the caller polls for its result (never waits)."""

    def __init__(self) -> None:
        self._thread: threading.Thread | None = None
        self._done: list[T] = []
        self._lock = threading.Lock()

    @property
    def busy(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def submit(self, job: Callable[[], T]) -> bool:
        """Start ``job`` unless one is running (False then)."""
        if self.busy:
            return False

        def run() -> None:
            result = job()
            with self._lock:
                self._done.append(result)

        self._thread = threading.Thread(target=run, name="kiosk-check", daemon=True)
        self._thread.start()
        return True

    def poll(self) -> T | None:
        """The finished job's result, once; None while it runs or when there is none."""
        with self._lock:
            return self._done.pop(0) if self._done else None

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)


# ---- the child ------------------------------------------------------------------------------------------

def _limit_memory(limit: int) -> None:
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ImportError, ValueError, OSError):  # not on this platform: the time limit still holds
        pass


def _check(request: dict[str, Any]) -> dict[str, Any]:
    if request.get("kind") == "schedule":
        from installation.kiosk.schedule import check_schedule

        report = check_schedule(request["path"])
        errors = [str(e) for e in report.errors]
        if not errors and report.schedule is not None and request.get("cue_ids") is not None:
            errors = [str(e) for e in report.schedule.check_cues(list(request["cue_ids"]), str(request.get("show")))]
        return {"errors": errors}
    import installation.scenes  # noqa: F401  registers the scene types shows are checked against
    from installation.show import check_show

    show_report = check_show(request["path"], request.get("base_dir"))
    if not show_report.ok or show_report.show is None:
        return {"errors": [str(e) for e in show_report.errors] or [f"{request['path']}:1: invalid show"]}
    size = show_report.show.display.size
    return {"errors": [], "cue_ids": [c.id for c in show_report.show.cues], "size": list(size) if size else None}



def main(argv: list[str]) -> int:
    _limit_memory(int(argv[0]) if argv else MEMORY_LIMIT)  # first, before the show loader's imports
    if len(argv) > 1 and hasattr(signal, "alarm"):
        # our own end too (SIGALRM's default action): should the supervisor die mid-check, no orphan stays
        signal.alarm(max(1, math.ceil(float(argv[1]))) + 1)
    request: dict[str, Any] = {}
    try:
        request = json.loads(sys.stdin.buffer.read())
        answer = _check(request)
        print(json.dumps(answer), flush=True)
    except MemoryError:
        os._exit(MEMORY_EXIT)  # no clean-up: there is no memory for it
    except RecursionError:
        print(json.dumps({"errors": [f"{request.get('path')}:1: nested too deeply"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
