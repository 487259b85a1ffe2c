"""What the kiosk reports: the player's last heartbeat figures, the errors it keeps, and the /status document.

:class:`PlayerReport` collects what players told the supervisor (frames, cue, fps and frame times, their
fault state) and the errors of both sides (the last :data:`KEEP_ERRORS`); :func:`status_document` is the
JSON that ``GET /status`` serves and the other endpoints (``/health``, ``/metrics``, OSC) derive from.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from installation.kiosk.child import rss_bytes

if TYPE_CHECKING:
    from installation.kiosk.supervisor import Supervisor

log = logging.getLogger(__name__)

KEEP_ERRORS = 20
STATS = ("fps", "p50_ms", "p99_ms", "dropped", "dropped_total")  # heartbeat fields shown as they come


class PlayerReport:
    def __init__(self, started: float) -> None:
        self.started = started  # the supervisor's start (monotonic), for each error's ``uptime``
        self.frames_total = 0
        self.cue: str | None = None
        self.stats: dict[str, Any] = {}
        self.health: dict[str, Any] = {}  # the player's camera, media and fallback state (heartbeat "health")
        self.errors: deque[dict[str, Any]] = deque(maxlen=KEEP_ERRORS)
        self._errors_lock = threading.Lock()  # appended from the loop and HTTP threads, listed by /status

    def beat(self, msg: dict[str, Any], new_frames: int) -> None:
        """A heartbeat of the current player."""
        self.frames_total += new_frames
        self.cue = msg.get("cue")
        self.stats = {k: msg[k] for k in STATS if k in msg}
        if isinstance(msg.get("health"), dict):
            self.health = msg["health"]

    def player_gone(self) -> None:
        """Its figures go with it (the next player starts afresh)."""
        self.stats, self.health = {}, {}

    def error(self, now: float, message: str, **extra: Any) -> None:
        log.warning("kiosk: %s", message)
        with self._errors_lock:
            self.errors.append({"time": time.time(), "uptime": round(now - self.started, 3), "message": message,
                                **extra})

    def player_errors(self, now: float, errors: Any) -> None:
        """Fault reports the player sent (installation/faults.py): it logged them itself, so only listed."""
        if not isinstance(errors, list):
            return
        with self._errors_lock:
            for e in errors[:16]:
                if isinstance(e, dict) and isinstance(e.get("message"), str):
                    self.errors.append({"time": e.get("time", time.time()), "uptime": round(now - self.started, 3),
                                        "message": e["message"][:240], "source": "player",
                                        "kind": str(e.get("kind", "")), "level": str(e.get("level", "error"))})

    def recent_errors(self, count: int = 10) -> list[dict[str, Any]]:
        with self._errors_lock:
            return list(self.errors)[-count:]


def status_document(sup: Supervisor, now: float) -> dict[str, Any]:
    """``GET /status`` (docs/kiosk.md, "Monitoring over HTTP"); the caller holds the supervisor's lock."""
    config, report, policy, versions = sup.config, sup.report, sup.policy, sup.versions
    child = sup.child
    beat_age = None if child is None or child.last_beat is None else now - child.last_beat
    presenting = child is not None and child.presenting(now, min(config.stall_seconds, 1.0))
    if child is None:
        state = "restarting"
    elif beat_age is None:
        state = "starting"
    elif not presenting:
        state = "stalled"
    else:
        state = "safe mode" if child.safe else "playing"
    stats = dict(report.stats)
    health = {} if child is None or child.safe else dict(report.health)
    return {
        "show": str(config.show),
        "cue": None if child is None or child.safe else report.cue,
        "state": state,
        "healthy": presenting and child is not None and not child.safe,
        "presenting": presenting,
        "uptime_seconds": round(now - sup.started, 3),
        "restarts": sup.restarts,
        "player_pid": None if child is None else child.pid,
        "player_uptime_seconds": None if child is None else round(now - child.started, 3),
        "last_frame_age_seconds": None if beat_age is None else round(beat_age, 3),
        "frames_total": report.frames_total,
        "player_frames": 0 if child is None else child.frames,
        "fps": stats.get("fps", 0.0),
        "frame_time_p50_ms": stats.get("p50_ms", 0.0),
        "frame_time_p99_ms": stats.get("p99_ms", 0.0),
        "dropped_frames": stats.get("dropped", 0),
        "dropped_frames_total": stats.get("dropped_total", 0),
        "rss_bytes": None if child is None else rss_bytes(child.pid),
        "safe_mode": policy.safe_mode,
        "safe_mode_since_seconds": None if policy.safe_since is None else round(now - policy.safe_since, 3),
        "recent_failures": len(policy.failures),
        "last_errors": report.recent_errors(),
        "reloads": versions.reloads,
        "last_reload": versions.last_reload,
        # runtime faults the player lives with (docs/kiosk.md, "Faults the show survives")
        "camera": health.get("camera") or {"state": "none"},
        "media": health.get("media") or {"failing": 0, "failing_files": [], "skipped_total": 0, "failed_total": 0,
                                         "recovered_total": 0},
        "fallbacks": health.get("fallbacks") or {},
        "player_faults": health.get("faults") or {},
        "daily_restart": sup.daily.status(),
        "last_good": {"saved": versions.last_good.saved_at(), "trial": versions.last_good.pending,
                      "trial_seconds": config.promote_seconds},
        "open": sup.hours.open is not False,
        "schedule": sup.hours.status(),
    }
