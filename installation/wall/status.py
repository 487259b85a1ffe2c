"""One player's retained status, and what the fleet's statuses say together.

Each player publishes its status retained on ``installation/wall/<wall>/status/<id>`` about once a second
(and at once when its cue changes), with a last will that marks it ``offline`` when it vanishes without
saying goodbye. ``installation wall status`` and the kiosk console read them; ``installation wall check``
compares the content hashes.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field, fields
from typing import Any

STALE_SECONDS = 15.0  # a 'playing' status not refreshed for this long is reported as stale


@dataclass
class PlayerStatus:
    """What a player says about itself. ``frame``: the show frame (epoch clock) it drew last; ``switch``: the
    last cue change it drew, ``{cue, at, frame, t}`` (``at``: the show time the cue started, ``frame``/``t``:
    the first frame that showed it)."""

    id: str
    state: str = "playing"  # playing | offline | stopped
    wall: str = "default"
    viewport: str | None = None
    cue: str | None = None
    show_time: float | None = None
    frame: int | None = None
    fps: float | None = None
    show_hash: str | None = None
    collection_hash: str | None = None
    show: str | None = None
    epoch: float | None = None
    host: str | None = None
    pid: int | None = None
    last_seen: float = 0.0
    switch: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def encode(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":")).encode()

    @classmethod
    def decode(cls, payload: bytes) -> PlayerStatus | None:
        """A status from its JSON; None when it is not one (a foreign message on our topic)."""
        try:
            data = json.loads(payload)
        except (UnicodeDecodeError, json.JSONDecodeError):
            return None
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            return None
        known = {f.name for f in fields(cls)}
        try:
            return cls(**{k: v for k, v in data.items() if k in known})
        except TypeError:
            return None

    def stale(self, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        return self.state == "playing" and now - self.last_seen > STALE_SECONDS


def offline(player_id: str, wall: str, viewport: str | None, state: str = "offline") -> PlayerStatus:
    """The last will (``offline``) or the goodbye (``stopped``) of a player."""
    return PlayerStatus(id=player_id, state=state, wall=wall, viewport=viewport, last_seen=time.time())


def content_problems(statuses: list[PlayerStatus]) -> list[str]:
    """Players whose show or collection hash differs from the one most players report (offline ones too:
    they will play it when they come back). An empty list: every player has the same content."""
    problems = []
    for key, what in (("show_hash", "show"), ("collection_hash", "collection")):
        reported = [(s.id, getattr(s, key)) for s in statuses if getattr(s, key)]
        if not reported:
            continue
        counts: dict[str, int] = {}
        for _, value in reported:
            counts[value] = counts.get(value, 0) + 1
        majority = max(counts.items(), key=lambda kv: (kv[1], kv[0]))[0]
        for player, value in reported:
            if value != majority:
                problems.append(f"{player}: {what} {value[:12]} differs from {majority[:12]} "
                                f"({counts[majority]} of {len(reported)} players)")
        missing = [s.id for s in statuses if not getattr(s, key) and s.state == "playing"]
        problems.extend(f"{player}: reports no {what} hash" for player in missing)
    return problems


def table(statuses: list[PlayerStatus], now: float | None = None) -> list[str]:
    """The fleet as text lines (``installation wall status``)."""
    now = time.time() if now is None else now
    lines = [f"{'player':<24} {'state':<8} {'viewport':<10} {'cue':<16} {'fps':>6} {'frame':>9} {'seen':>7}  show"]
    for s in sorted(statuses, key=lambda s: s.id):
        state = "stale" if s.stale(now) else s.state
        seen = f"{now - s.last_seen:5.1f}s" if s.last_seen else "-"
        fps = f"{s.fps:6.1f}" if isinstance(s.fps, int | float) else "     -"
        frame = str(s.frame) if s.frame is not None else "-"
        lines.append(f"{s.id[:24]:<24} {state:<8} {(s.viewport or '-')[:10]:<10} {(s.cue or '-')[:16]:<16} {fps} "
                     f"{frame:>9} {seen:>7}  {(s.show_hash or '-')[:12]}")
    return lines
