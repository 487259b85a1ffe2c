"""The capture thread: reads a :class:`FrameSource`, keeps only the newest frame, reconnects with backoff.

Consumers call :meth:`CaptureThread.latest` and get the newest frame not yet taken (older ones are dropped
and counted). A source that fails or ends is reopened after a delay doubling from ``backoff_initial`` to
``backoff_max`` (installation/backoff.py; a looping file is reopened at once by the source itself).
:attr:`CaptureThread.state` is one of ``connecting``, ``connected``, ``reconnecting``, ``ended`` (a file
without ``reconnect_on_end``) or ``failed`` (``max_retries`` exhausted). The clock and the sleep are
injectable, and :meth:`step` does one iteration synchronously, so tests drive it without threads or real
time.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from installation.backoff import Backoff
from installation.capture.sources import Frame, FrameSource, SourceError

log = logging.getLogger(__name__)

STATES = ("connecting", "connected", "reconnecting", "ended", "failed")
LOUD_FAILURES = 3  # failures in a row logged as warnings; after that...
REMINDER_SECONDS = 60.0  # ...one reminder per this many seconds (a dead source must not flood the log)


@dataclass
class CaptureStats:
    frames: int = 0  # frames read from the source
    taken: int = 0  # frames handed to a consumer
    dropped: int = 0  # frames replaced by a newer one before anyone took them
    reconnects: int = 0
    errors: int = 0
    fps: float = 0.0  # capture rate, exponentially averaged
    last_error: str = ""
    _last_at: float | None = field(default=None, repr=False)

    def to_json(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}


class CaptureThread:
    """Newest-frame-only capture of one source. ``start()`` runs it on a daemon thread; ``step()`` by hand."""

    def __init__(
        self,
        source: FrameSource,
        *,
        backoff_initial: float = 0.5,
        backoff_max: float = 10.0,
        max_retries: int | None = None,
        reconnect_on_end: bool = True,
        pace: bool = False,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.source = source
        self.max_retries = max_retries
        self.reconnect_on_end = reconnect_on_end
        self.pace = pace  # files: deliver at the file's fps instead of as fast as they decode
        self.clock = clock
        self.sleep = sleep
        self.stats = CaptureStats()
        self.state = "connecting"
        self._lock = threading.Lock()
        self._newest: Frame | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._retry_at = 0.0
        self._backoff = Backoff(backoff_initial, backoff_max)  # failures in a row; a frame read resets it
        self._delay = 0.0  # the wait before the retry now scheduled
        self._open = False
        self._reminded_at: float | None = None  # when the last warning about a failing source was logged
        self._quiet = 0  # failures logged at debug level since that warning

    # ---- consumer side --------------------------------------------------------------------------------

    def latest(self) -> Frame | None:
        """The newest frame not yet taken (None if nothing new since the last call)."""
        with self._lock:
            frame, self._newest = self._newest, None
            if frame is not None:
                self.stats.taken += 1
            return frame

    def seconds_since_frame(self) -> float | None:
        """Seconds since the source last delivered a frame (None: none yet). A driver that hangs in a read
        never fails, so this is how a consumer notices it."""
        last = self.stats._last_at
        return None if last is None else self.clock() - last

    def peek(self) -> Frame | None:
        """The newest frame not yet taken, left in place."""
        with self._lock:
            return self._newest

    # ---- producer side --------------------------------------------------------------------------------

    def _publish(self, frame: Frame) -> None:
        now = self.clock()
        frame.captured_at = now
        with self._lock:
            if self._newest is not None:
                self.stats.dropped += 1
            self._newest = frame
        s = self.stats
        s.frames += 1
        if s._last_at is not None and now > s._last_at:
            rate = 1.0 / (now - s._last_at)
            s.fps = rate if s.fps == 0 else 0.9 * s.fps + 0.1 * rate
        s._last_at = now

    def _fail(self, message: str, *, ended: bool = False) -> None:
        self.source.close()
        self._open = False
        if ended and not self.reconnect_on_end:
            self.state = "ended"
            log.info("capture %s: ended", self.source.name)
            return
        self.stats.errors += 0 if ended else 1
        self.stats.last_error = message
        self._delay = self._backoff.fail()
        if self.max_retries is not None and self._backoff.failures > self.max_retries:
            self.state = "failed"
            log.warning("capture %s: giving up after %d tries (%s)", self.source.name, self._backoff.failures,
                        message)
            return
        self.state = "reconnecting"
        self._retry_at = self.clock() + self._delay
        self._log_failure(message)

    def _log_failure(self, message: str) -> None:
        """The first few failures in a row as warnings, then a reminder at most every REMINDER_SECONDS."""
        now = self.clock()
        name = self.source.name
        failures = self._backoff.failures
        if failures <= LOUD_FAILURES:
            quieter = f"; further failures are logged every {REMINDER_SECONDS:g} s" \
                if failures == LOUD_FAILURES else ""
            log.warning("capture %s: %s; retrying in %.1f s%s", name, message, self._delay, quieter)
            self._reminded_at, self._quiet = now, 0
        elif self._reminded_at is None or now - self._reminded_at >= REMINDER_SECONDS:
            log.warning("capture %s: still failing (%d tries in a row, %d since the last message): %s; "
                        "retrying every %.1f s", name, failures, self._quiet + 1, message, self._delay)
            self._reminded_at, self._quiet = now, 0
        else:
            self._quiet += 1
            log.debug("capture %s: %s; retrying in %.1f s", name, message, self._delay)

    def step(self) -> float:
        """One iteration: open if due, read one frame, publish it. Returns seconds to wait before the next."""
        if self.state in ("ended", "failed"):
            return 0.1
        now = self.clock()
        if not self._open:
            if now < self._retry_at:
                return self._retry_at - now
            if self.state == "reconnecting":
                self.stats.reconnects += 1
            try:
                self.source.open()
            except SourceError as exc:
                self._fail(str(exc))
                return 0.0
            except Exception as exc:  # a source's own bug must not end the capture
                self._fail(f"{type(exc).__name__}: {exc}")
                return 0.0
            self._open = True
        try:
            frame = self.source.read()
        except SourceError as exc:
            self._fail(str(exc))
            return 0.0
        except Exception as exc:
            self._fail(f"{type(exc).__name__}: {exc}")
            return 0.0
        if frame is None:
            self._fail("source ended", ended=True)
            return 0.0
        if self.state != "connected":
            log.info("capture %s: connected", self.source.name)
        self.state = "connected"
        self._backoff.reset()
        self._publish(frame)
        if self.pace and not self.source.live and self.source.fps:
            return 1.0 / self.source.fps
        return 0.0

    def _run(self) -> None:
        while not self._stop.is_set():
            wait = self.step()
            if wait <= 0:
                continue
            if self.sleep is time.sleep:
                self._stop.wait(min(wait, 0.5))
            else:
                self.sleep(wait)

    def start(self) -> CaptureThread:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"capture {self.source.name}", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self.source.close()
        self._open = False
