"""``installation wall go|next|previous|cue ID|blackout|unblackout|reload|status|check``: steer the players
of a wall through its MQTT broker; and the wall options ``run`` and ``kiosk`` share (``--epoch``, ``--broker``...).
"""

from __future__ import annotations

import argparse
import logging
import os
from typing import TYPE_CHECKING, Any

from installation import exit_codes
from installation.cli.args import ArgTypes
from installation.cli.common import error

if TYPE_CHECKING:
    from installation.show import Show
    from installation.wall.mqtt import BrokerConfig

log = logging.getLogger(__name__)

STEER = ("go", "next", "previous", "blackout", "unblackout", "reload")


def _epoch(text: str) -> float:
    from installation.wall.layout import parse_epoch

    try:
        return parse_epoch(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _lead(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if not 0.05 <= value <= 60:
        raise argparse.ArgumentTypeError(f"{text}: expected 0.05..60 seconds")
    return value


def add_broker_options(parser: argparse.ArgumentParser) -> None:
    """``--broker HOST[:PORT]`` and its login: ``--username``, ``--password`` (or $INSTALLATION_WALL_PASSWORD),
    ``--tls`` with ``--ca``, ``--cert``, ``--key``; ``--wall NAME``."""
    g = parser.add_argument_group("wall (MQTT)")
    g.add_argument("--broker", default=None, metavar="HOST[:PORT]", help="MQTT broker of the wall (Mosquitto)")
    g.add_argument("--wall", default=None, metavar="NAME", help="the wall's name in topics (default: the show's "
                   "wall.name, else 'default')")
    g.add_argument("--username", default=None, help="broker user")
    g.add_argument("--password", default=None, help="broker password (better: $INSTALLATION_WALL_PASSWORD)")
    g.add_argument("--tls", action="store_true", help="connect with TLS (port 8883 unless given)")
    g.add_argument("--ca", default=None, metavar="FILE", help="CA certificate that signed the broker's")
    g.add_argument("--cert", default=None, metavar="FILE", help="client certificate (TLS client auth)")
    g.add_argument("--key", default=None, metavar="FILE", help="client key (TLS client auth)")


def add_player_options(parser: argparse.ArgumentParser) -> None:
    """What a wall player needs beyond the broker: its viewport, the shared epoch, its id, the lead time."""
    parser.add_argument("--viewport", default=None, metavar="NAME",
                        help="render only this viewport of the show's wall canvas (wall.viewports / grid r0c1...)")
    parser.add_argument("--epoch", type=_epoch, default=None, metavar="ISO8601|UNIX",
                        help="shared show epoch: show time = system clock - epoch (default: the show's wall.epoch)")
    add_broker_options(parser)
    parser.add_argument("--player-id", default=None, help="this player's id in the fleet (default: HOST-VIEWPORT)")
    parser.add_argument("--lead", type=_lead, default=None, metavar="SECONDS",
                        help="how far ahead this player's own cue commands are scheduled (default: wall.lead, 0.5)")


def broker_config(args: argparse.Namespace) -> BrokerConfig:
    """The parsed broker options (``ValueError`` for a bad address)."""
    from installation.wall.mqtt import BrokerConfig

    return BrokerConfig.parse(args.broker, username=args.username, password=args.password, tls=args.tls or None,
                              ca_file=args.ca, cert_file=args.cert, key_file=args.key)


def wall_name(args: argparse.Namespace, show: Show | None = None) -> str:
    if args.wall:
        return str(args.wall)
    return show.wall.name if show is not None and show.wall is not None and show.wall.name else "default"


def check_viewport(args: argparse.Namespace, show: Show) -> tuple[int, int] | None:
    """The viewport's size in canvas pixels; None after an error line when the show has no such viewport."""
    if args.viewport is None:
        return (0, 0)
    if show.wall is None or show.wall.canvas is None:
        error(f"--viewport {args.viewport}: the show has no wall (add wall: {{canvas: WxH, grid: ...}})")
        return None
    try:
        rect = show.wall.viewport(args.viewport)
    except KeyError as exc:
        error(exc.args[0])
        return None
    return rect.width, rect.height


def live_clock(args: argparse.Namespace, show: Show, fps: float) -> Any:
    """The shared epoch clock when the command line or the show gives an epoch, else the wall clock."""
    from installation.player import EpochClock, RealClock

    epoch = args.epoch if getattr(args, "epoch", None) is not None else (show.wall.epoch if show.wall else None)
    return EpochClock(epoch, fps) if epoch is not None else RealClock()


def start_link(args: argparse.Namespace, player: Any, clock: Any, show: Show) -> Any:
    """Join the fleet when ``--broker`` is given (returns the running WallLink, or None)."""
    if getattr(args, "broker", None) is None:
        return None
    from installation.wall.link import WallLink

    lead = args.lead if args.lead is not None else (show.wall.lead if show.wall is not None else 0.5)
    return WallLink(player, broker_config(args), wall=wall_name(args, show), player_id=args.player_id,
                    clock=clock, lead=lead, fps=getattr(clock, "fps", 60.0)).start()


def player_args(args: argparse.Namespace) -> list[str]:
    """The wall options of ``kiosk``, passed on to its player (the password goes by the environment)."""
    out: list[str] = []
    for option in ("viewport", "broker", "wall", "username", "ca", "cert", "key", "player_id"):
        value = getattr(args, option, None)
        if value is not None:
            out += [f"--{option.replace('_', '-')}", str(value)]
    if getattr(args, "epoch", None) is not None:
        out += ["--epoch", repr(args.epoch)]
    if getattr(args, "lead", None) is not None:
        out += ["--lead", repr(args.lead)]
    if getattr(args, "tls", False):
        out.append("--tls")
    if getattr(args, "password", None):
        from installation.wall.mqtt import ENV_PASSWORD

        os.environ[ENV_PASSWORD] = args.password
    return out


# ---- installation wall ... ---------------------------------------------------------------------------------

def add_parsers(sub: argparse._SubParsersAction, common: argparse.ArgumentParser, types: ArgTypes) -> None:
    wall = sub.add_parser("wall", parents=[common], help="steer a wall's players through its MQTT broker "
                          "(go, next, cue ID, blackout, status, check)")
    actions = wall.add_subparsers(dest="action", required=True, metavar="ACTION")
    for name in (*STEER, "cue", "status", "check"):
        helps = {"cue": "go to cue ID on every player", "status": "list the players: cue, fps, last seen, offline",
                 "check": "compare the players' show and collection hashes; exit 1 naming any that differ"}
        p = actions.add_parser(name, parents=[common], help=helps.get(name, f"{name} on every player"))
        if name == "cue":
            p.add_argument("cue", metavar="ID")
        add_broker_options(p)
        if name in (*STEER, "cue"):
            p.add_argument("--lead", type=_lead, default=0.5, metavar="SECONDS",
                           help="take effect this long from now on every player (default 0.5)")
        else:
            p.add_argument("--wait", type=_lead, default=1.0, metavar="SECONDS",
                           help="how long to collect the players' statuses (default 1)")
        p.set_defaults(handler=run_wall)


def run_wall(args: argparse.Namespace) -> int:
    from installation.wall.fleet import FleetUnavailable, fleet_status, publish_command
    from installation.wall.status import content_problems, table

    if args.broker is None:
        args.broker = os.environ.get("INSTALLATION_WALL_BROKER", "127.0.0.1")
    try:
        broker = broker_config(args)
    except ValueError as exc:
        error(exc)
        return exit_codes.USAGE
    wall = wall_name(args)
    try:
        if args.action in (*STEER, "cue"):
            command = publish_command(broker, wall, args.action, getattr(args, "cue", None), lead=args.lead)
            print(f"{command.cmd}{' ' + command.cue if command.cue else ''}: scheduled on wall '{wall}' for "
                  f"{command.at:.3f} (in {args.lead:g} s), id {command.id}")
            return exit_codes.OK
        statuses = fleet_status(broker, wall, args.wait)
    except FleetUnavailable as exc:
        error(exc)
        return exit_codes.FAILURE
    if args.action == "status":
        if not statuses:
            print(f"no players have reported on wall '{wall}' at {broker}")
        for line in table(statuses):
            print(line)
        return exit_codes.OK
    problems = content_problems(statuses)
    for problem in problems:
        print(problem)
    if not problems:
        print(f"ok: {len(statuses)} player(s) on wall '{wall}' report the same show and collection")
    return exit_codes.FAILURE if problems or not statuses else exit_codes.OK
