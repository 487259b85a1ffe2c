"""The player's side of the fleet (player layer): apply the wall's scheduled commands, publish the status.

    link = WallLink(player, broker, wall="lobby", player_id="lobby-r0c1", clock=clock).start()
    run_loop(rc, player, clock, pre_frame=link.pre_frame, on_present=link.on_present)
    link.close()

Commands arrive on paho's thread and wait in a queue; :meth:`WallLink.pre_frame` (the render thread) hands
each new one to :meth:`Player.schedule` at the show time of its ``at``, so a command that arrives early is
recorded for the future and one that arrives late (a player that just joined) is recorded in the past: the
timeline is a function of its events, and every player draws the same frames. The player's own control
commands (kiosk HTTP/OSC, keys routed through ``player.route``) are published to the fleet instead of being
applied locally, so this player switches with the others. The broker going away changes nothing on screen.
"""

from __future__ import annotations

import hashlib
import logging
import os
import queue
import socket
import threading
import time
from pathlib import Path
from typing import Any

from installation.hashing import file_sha256
from installation.player import EpochClock, Player
from installation.show import Show, load_show
from installation.wall.commands import DEFAULT_LEAD, Command, CommandError, decode_log, encode_log, make_command
from installation.wall.mqtt import BrokerConfig, MqttClient, topic
from installation.wall.status import PlayerStatus, offline

log = logging.getLogger(__name__)

STATUS_EVERY = 1.0  # seconds between two status messages (and at once on a cue change)
JOIN_WAIT = 2.0  # seconds a starting player waits for the broker before its first frame
RETAINED_WAIT = 0.5  # ... and then for the retained command log (the broker sends it right after subscribing)
MAX_CONTENT_FILES = 20_000


def show_hash(show: Show) -> str | None:
    """sha256 of the show file's bytes (None for a show from memory)."""
    return file_sha256(show.path) if show.path is not None and Path(show.path).is_file() else None


def _paths(value: Any) -> list[Path]:
    if isinstance(value, Path):
        return [value]
    if isinstance(value, list | tuple):
        return [p for v in value for p in _paths(v)]
    return []


def collection_hash(show: Show) -> str:
    """sha256 over every file the cues' scenes name (image files, collection folders, model files): names
    relative to the folder named and each file's sha256, in name order. Two players with the same media agree."""
    digest = hashlib.sha256()
    files = 0
    for cue in show.cues:
        for name in type(cue.scene).model_fields:
            for path in _paths(getattr(cue.scene, name, None)):
                entries = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
                for entry in entries[: MAX_CONTENT_FILES - files]:
                    rel = entry.relative_to(path) if path.is_dir() else Path(entry.name)
                    try:
                        digest.update(f"{cue.id}/{name}/{rel}:{file_sha256(entry)}\n".encode())
                    except OSError:
                        digest.update(f"{cue.id}/{name}/{rel}:unreadable\n".encode())
                files += len(entries)
    return digest.hexdigest()


def default_player_id(viewport: str | None) -> str:
    return f"{socket.gethostname()}-{viewport or 'full'}"[:64]


class WallLink:
    """Connects ``player`` to the fleet of ``wall`` (see the module docstring)."""

    def __init__(self, player: Player, broker: BrokerConfig, *, wall: str = "default", player_id: str | None = None,
                 clock: Any = None, lead: float = DEFAULT_LEAD, fps: float = 60.0) -> None:
        self.player, self.broker, self.wall, self.clock, self.lead = player, broker, wall, clock, lead
        self.fps = clock.fps if isinstance(clock, EpochClock) else fps
        self.id = player_id or default_player_id(player.viewport)
        self.applied: set[str] = set()
        self.switches: list[dict[str, Any]] = []  # every cue change drawn: {cue, at, frame, t}
        self._inbox: queue.SimpleQueue[list[Command]] = queue.SimpleQueue()
        self._log: list[Command] = []
        self._log_lock = threading.Lock()
        self._log_seen = threading.Event()
        self._received: dict[str, float] = {}  # command id -> seconds from its sending to its arrival here
        self.last_command: dict[str, Any] | None = None
        self._occurrence: int | None = None
        self.frames = 0  # frames drawn since start (telemetry: playback went on while the broker was away)
        self._last_status = 0.0
        self._hashes: dict[str, str | None] = {}
        self._status_topic = topic(wall, "status", self.id)
        will = offline(self.id, wall, player.viewport).encode()
        self.client = MqttClient(broker, f"player-{self.id}", subscriptions=(topic(wall, "commands"),),
                                 handler=self._on_message, will=(self._status_topic, will))
        player.route = self.publish

    def start(self, join_wait: float = JOIN_WAIT) -> WallLink:
        """Connect (in the background; hashing the content off the render thread) and wait up to ``join_wait``
        seconds for the broker's retained command log, so that a player that starts late or restarts draws
        its first frame with the fleet's commands already applied. A broker that is down only delays the
        first frame by ``join_wait``: the player plays on and joins when the broker comes back."""
        self.client.start()
        threading.Thread(target=self._hash_content, name="wall-hash", daemon=True).start()
        if self.client.wait_connected(join_wait):
            self._log_seen.wait(RETAINED_WAIT)  # none arrives when no command was ever sent
        else:
            log.warning("wall: no broker at %s yet; playing, and joining the fleet when it answers", self.broker)
        return self

    def _hash_content(self) -> None:
        show = self.player.show
        try:
            self._hashes = {"show_hash": show_hash(show), "collection_hash": collection_hash(show)}
        except Exception:  # a hash is telemetry: never fatal
            log.exception("wall: cannot hash the show's content")

    # ---- paho's thread -----------------------------------------------------------------------------

    def _on_message(self, name: str, payload: bytes, retained: bool) -> None:
        try:
            commands = decode_log(payload)
        except CommandError as exc:
            log.warning("wall: ignoring a command log: %s", exc)
            return
        received = time.time()
        with self._log_lock:
            self._log = commands
            for command in commands:  # how long the broker took to bring each new command (telemetry, bench)
                self._received.setdefault(command.id, received - command.issued)
        self._inbox.put(commands)
        self._log_seen.set()

    # ---- the render thread -------------------------------------------------------------------------

    def show_time(self, unix: float) -> float:
        """The show time of system-clock time ``unix``: exact with an epoch, else relative to this player."""
        if isinstance(self.clock, EpochClock):
            return self.clock.show_time(unix)
        return self.player.t + (unix - time.time())

    def pre_frame(self, player: Player) -> None:
        """Schedule every command not applied yet, in log order (never blocks)."""
        while True:
            try:
                commands = self._inbox.get_nowait()
            except queue.Empty:
                return
            for command in commands:
                if command.id in self.applied:
                    continue
                self.applied.add(command.id)
                self._apply(player, command)

    def _apply(self, player: Player, command: Command) -> None:
        at = self.show_time(command.at)
        self.last_command = {"id": command.id, "cmd": command.cmd, "at": at, "by": command.by,
                             "latency": round(self._received[command.id], 6) if command.id in self._received else None}
        if command.cmd == "reload":
            if at < player.t - 5.0:
                return  # an old reload replayed by a late joiner: it reads the show file at start anyway
            self._reload(player)
            return
        problem = player.schedule(command.cmd, command.cue, at)
        if problem:
            log.warning("wall: command %s from %s: %s", command.cmd, command.by or "?", problem)
        else:
            log.info("wall: %s%s from %s scheduled for show time %.3f (frame %d)", command.cmd,
                     f" {command.cue}" if command.cue else "", command.by or "?", at, round(at * self.fps))

    def _reload(self, player: Player) -> None:
        path = player.show.path
        if path is None:
            return
        try:
            show = load_show(path)
        except Exception as exc:  # an invalid edit never takes the show down: the last good one plays on
            log.warning("wall: reload of %s rejected; playing on: %s", path, exc)
            return
        player.request_reload(show)
        threading.Thread(target=self._hash_content, name="wall-hash", daemon=True).start()

    def on_present(self, player: Player, frames: int) -> None:
        """Note a cue change on the frame it is drawn; publish the status once a second and on a change."""
        self.frames = frames
        ph = player.playhead
        now = time.time()
        if ph is not None and ph.occurrence != self._occurrence:
            first = self._occurrence is None
            self._occurrence = ph.occurrence
            frame = self.clock.frame if isinstance(self.clock, EpochClock) else round(player.t * self.fps)
            switch = {"cue": ph.cue_id, "at": ph.cue_start, "frame": frame, "t": player.t, "joined": first,
                      "drawn": now}
            self.switches.append(switch)
            if not first:
                log.info("wall: cue %s drawn from show frame %d (t=%.3f, cue start %.3f)", ph.cue_id, frame,
                         player.t, ph.cue_start)
            self._last_status = 0.0
        if now - self._last_status >= STATUS_EVERY:
            self._last_status = now
            self.client.publish(self._status_topic, self.status(player, now).encode(), retain=True, qos=0)

    def status(self, player: Player, now: float | None = None) -> PlayerStatus:
        ph = player.playhead
        snap = player.stats.snapshot()
        epoch = self.clock.epoch if isinstance(self.clock, EpochClock) else None
        return PlayerStatus(
            id=self.id, state="playing", wall=self.wall, viewport=player.viewport,
            cue=ph.cue_id if ph is not None else None, show_time=round(player.t, 4),
            frame=self.clock.frame if isinstance(self.clock, EpochClock) else round(player.t * self.fps),
            fps=round(float(getattr(snap, "fps", 0.0) or 0.0), 2), show=player.show.name,
            show_hash=self._hashes.get("show_hash"), collection_hash=self._hashes.get("collection_hash"),
            epoch=epoch, host=socket.gethostname(), pid=os.getpid(), last_seen=time.time() if now is None else now,
            switch=self.switches[-1] if self.switches else None,
            extra={"blackout": player.blackout, "frames": self.frames, "connects": self.client.connects,
                   "command": self.last_command})

    # ---- this player's own controls ----------------------------------------------------------------

    def publish(self, cmd: str, cue: object = None) -> str | None:
        """Send a cue command to the whole fleet (``player.route``); it comes back here like everyone's."""
        try:
            command = make_command(cmd, None if cue is None else str(cue), lead=self.lead, by=self.id)
        except CommandError as exc:
            return str(exc)
        with self._log_lock:
            self._log = [*self._log, command]
            payload = encode_log(self._log)
        if not self.client.publish(topic(self.wall, "commands"), payload, retain=True):
            return f"the broker {self.broker} is not connected; the command was not sent"
        return None

    def close(self) -> None:
        """Say goodbye (retained 'stopped') and disconnect."""
        self.client.stop(final=(self._status_topic, offline(self.id, self.wall, self.player.viewport,
                                                              "stopped").encode()))
