"""Fleet commands: what an operator asks the whole wall to do, and when.

A command carries the system-clock time ``at`` (unix seconds) at which it takes effect, ``lead`` seconds
after it was sent (0.5 s by default), so every player can switch on the same show frame: with a shared epoch
the show time of ``at`` is ``at - epoch`` on every player. The broker keeps the recent commands as one
retained message (the log), so a player that joins late or restarts replays them and plays what the others
play. Each command has an ``id``; a player applies each id once.

Commands: ``go``/``next`` (the next cue), ``previous``, ``cue`` (with ``cue``: an id), ``blackout``,
``unblackout``, ``reload`` (read the show file again; the new show takes over at the next cue boundary).
"""

from __future__ import annotations

import json
import math
import re
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass

COMMANDS = ("go", "next", "previous", "cue", "blackout", "unblackout", "reload")
DEFAULT_LEAD = 0.5  # seconds: the broker's round trip on a LAN is a few ms; a player's frame ~17-33 ms
MAX_LOG = 64  # commands kept in the retained log (a player joining later replays these)
MAX_MESSAGE = 64 * 1024  # bytes: a log longer than this is not ours
_CUE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class CommandError(ValueError):
    """A command or log message that is not valid."""


@dataclass(frozen=True)
class Command:
    """``cmd`` at unix time ``at``; ``cue`` for ``cue``; ``by``: who sent it (player id, 'cli', 'console')."""

    id: str
    cmd: str
    at: float
    cue: str | None = None
    issued: float = 0.0
    by: str = ""

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: object) -> Command:
        if not isinstance(data, dict):
            raise CommandError(f"a command is a mapping, got {type(data).__name__}")
        cmd, at, cue = data.get("cmd"), data.get("at"), data.get("cue")
        if cmd not in COMMANDS:
            raise CommandError(f"unknown command {cmd!r} (one of {', '.join(COMMANDS)})")
        if not isinstance(at, int | float) or isinstance(at, bool) or not math.isfinite(at):
            raise CommandError(f"command {cmd}: 'at' must be unix seconds, got {at!r}")
        if cmd == "cue" and not (isinstance(cue, str) and _CUE.match(cue)):
            raise CommandError(f"command cue: needs a cue id, got {cue!r}")
        ident = data.get("id")
        if not isinstance(ident, str) or not 0 < len(ident) <= 64:
            raise CommandError("command: missing id")
        issued = data.get("issued", 0.0)
        by = data.get("by", "")
        return cls(ident, cmd, float(at), cue if cmd == "cue" else None,
                   float(issued) if isinstance(issued, int | float) else 0.0, str(by)[:64])


def make_command(cmd: str, cue: str | None = None, *, lead: float = DEFAULT_LEAD, by: str = "",
                 now: Callable[[], float] = time.time) -> Command:
    """A command taking effect ``lead`` seconds from now (``CommandError`` for an unknown one)."""
    issued = now()
    command = Command(uuid.uuid4().hex[:16], cmd, issued + lead, cue, issued, by)
    return Command.from_dict(command.to_dict())  # the same checks as a received one


def encode_log(commands: Iterable[Command]) -> bytes:
    """The retained log: the newest :data:`MAX_LOG` commands in ``at`` order."""
    kept = sorted(commands, key=lambda c: (c.at, c.issued, c.id))[-MAX_LOG:]
    return json.dumps({"version": 1, "commands": [c.to_dict() for c in kept]}).encode()


def decode_log(payload: bytes) -> list[Command]:
    """The commands of a retained log (an empty payload: none); ``CommandError`` when it is not a log."""
    if not payload:
        return []
    if len(payload) > MAX_MESSAGE:
        raise CommandError(f"command log of {len(payload)} bytes (at most {MAX_MESSAGE})")
    try:
        data = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CommandError(f"command log is not JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("commands"), list):
        raise CommandError("command log: expected {'version': 1, 'commands': [...]}")
    out = []
    for item in data["commands"]:
        try:
            out.append(Command.from_dict(item))
        except CommandError:
            continue  # one bad entry (a newer sender's command) does not hide the others
    return sorted(out, key=lambda c: (c.at, c.issued, c.id))
