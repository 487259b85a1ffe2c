"""``installation kiosk``: parse and check the options, then hand over to the supervisor
(installation/kiosk/supervisor.py), its HTTP and OSC servers, or print a systemd unit / a schedule preview."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import time as dtime
from pathlib import Path
from typing import TYPE_CHECKING

from installation import exit_codes
from installation.cli.args import ArgTypes, UserError, bounded, parse_size_arg, positive
from installation.cli.common import default_show, error, load_show_or_report, show_size, size_fits

if TYPE_CHECKING:
    from installation.kiosk.schedule import Schedule
    from installation.show import Show

# Options that name files: the systemd unit runs in the repository folder, so they are written absolute.
PATH_OPTIONS = ("schedule", "log", "state_dir", "ca", "cert", "key")
# Options that are about this invocation, not about the kiosk a unit should run.
NOT_IN_UNIT = ("show", "print_systemd_unit", "check_schedule", "check_from", "verbose", "handler", "command",
               "password")  # a unit sets INSTALLATION_WALL_PASSWORD in its Environment= instead


def add_parsers(sub: argparse._SubParsersAction, common: argparse.ArgumentParser, types: ArgTypes) -> None:
    from installation.config import values as f
    from installation.kiosk.config import KioskConfig as K  # the kiosk's defaults, written once

    kiosk = sub.add_parser("kiosk", parents=[common],
                           help="play a show unattended: restart the player on crash or stall, safe mode, "
                                "/health /status /metrics")
    kiosk.add_argument("show", nargs="?", default=None, metavar="SHOW", help="show script (default: the default show)")
    kiosk.add_argument("--http", default=None, metavar="HOST:PORT", help="serve /health, /status, /metrics, "
                       "/screenshot, POST /control/... (PORT alone binds 127.0.0.1; other addresses need --token)")
    kiosk.add_argument("--osc", default=None, metavar="HOST:PORT", help="OSC control over UDP, /installation/... "
                       "(PORT alone binds 127.0.0.1; other addresses need --token)")
    kiosk.add_argument("--osc-reply", default=None, metavar="HOST:PORT",
                       help="also send OSC replies and status here (Companion feedback); the sender always gets them")
    kiosk.add_argument("--token", default=None, help="required by every HTTP request but GET /health "
                       "(Bearer, X-Token or ?token=) and as the first argument of every OSC message")
    kiosk.add_argument("--headless", action="store_true", help="offscreen player (EGL); automatic with no display")
    kiosk.add_argument("--size", type=types.size, default=None, metavar="WxH",
                       help="render size (default: the show's)")
    kiosk.add_argument("--screen", type=types.screen, default=None, help="monitor index for the player's window "
                       "(default: the show's display.screen; `installation doctor` lists them)")
    kiosk.add_argument("--fps", type=types.fps, default=K.fps,
                       help="frame rate of a headless player (default %(default)g)")
    kiosk.add_argument("--stall-seconds", type=bounded(float, 0.5, 86400, " seconds"), default=K.stall_seconds,
                       help="restart after this long without a frame")
    kiosk.add_argument("--start-seconds", type=bounded(float, 1, 3600, " seconds"), default=K.start_seconds,
                       help="time a new player has for its first frame")
    kiosk.add_argument("--kill-grace", type=bounded(float, 0, 600, " seconds"), default=K.kill_grace,
                       help="SIGTERM, then SIGKILL after this long (a hung player: SIGKILL at once)")
    kiosk.add_argument("--backoff-base", type=bounded(float, 0.01, 3600, " seconds"), default=K.backoff_base,
                       help="delay of the 2nd restart in a row (the 1st is at once); doubles each time")
    kiosk.add_argument("--backoff-max", type=bounded(float, 0.01, 86400, " seconds"), default=K.backoff_max,
                       help="longest restart delay")
    kiosk.add_argument("--max-failures", type=bounded(int, 1, 1000), default=K.max_failures,
                       help="failures within --failure-window -> safe mode")
    kiosk.add_argument("--failure-window", type=bounded(float, 1, f.MAX_SECONDS, " seconds"),
                       default=K.failure_window, help="seconds (default %(default)g)")
    kiosk.add_argument("--safe-retry", type=bounded(float, 0.1, 86400, " seconds"), default=K.safe_retry,
                       help="seconds between tries of the show in safe mode")
    kiosk.add_argument("--stable-seconds", type=bounded(float, 0, 86400, " seconds"), default=K.stable_seconds,
                       help="a player up this long resets the backoff and ends safe mode")
    kiosk.add_argument("--schedule", default=None, metavar="FILE", help="opening hours (YAML, see docs/kiosk.md): "
                       "outside them the show blacks out (or plays a cue) and the display may sleep")
    kiosk.add_argument("--check-schedule", default=None, metavar="FILE",
                       help="check a schedule file (and its cues against SHOW, if given), print 7 days of it, exit")
    kiosk.add_argument("--check-from", default=None, metavar="YYYY-MM-DD[THH:MM]",
                       help="with --check-schedule: start there instead of now (wall time in the schedule's zone)")
    kiosk.add_argument("--log", default=None, metavar="FILE", help="also write the supervisor's and the player's "
                       "lines to FILE, rotated by size (default: stderr only, e.g. the journal under systemd)")
    kiosk.add_argument("--log-max-mb", type=bounded(float, 0.001, 100_000, " MB"), default=10.0,
                       help="rotate the --log file at this size (default 10)")
    kiosk.add_argument("--log-backups", type=bounded(int, 0, 1000), default=5, help="old --log files kept (default 5)")
    kiosk.add_argument("--daily-restart", default=None, metavar="HH:MM", help="restart the player every day at this "
                       "wall-clock time (pick a quiet hour; the schedule's time zone when --schedule is given)")
    kiosk.add_argument("--state-dir", default=None, metavar="DIR", help="where the last good copy of the show is "
                       "kept (default: $INSTALLATION_STATE, else $XDG_STATE_HOME/installation or ~/.local/state/...)")
    kiosk.add_argument("--print-systemd-unit", action="store_true", help="print a systemd unit for this command")
    from installation.cli.wall import add_player_options

    add_player_options(kiosk)  # a wall player: passed on to the player (docs/wall.md)
    kiosk.set_defaults(handler=run_kiosk, parser=kiosk)


def unit_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> list[str]:
    """The kiosk options of ``args`` as a command line (what differs from the defaults, in the parser's order),
    with file options made absolute: what the systemd unit's ``ExecStart`` runs after ``kiosk SHOW``."""
    out: list[str] = []
    for action in parser._actions:
        if not action.option_strings or action.dest in NOT_IN_UNIT or action.help == argparse.SUPPRESS:
            continue
        value = getattr(args, action.dest, action.default)
        if value is None or value == action.default:
            continue
        option = next((o for o in action.option_strings if o.startswith("--")), action.option_strings[0])
        if isinstance(action, argparse._StoreTrueAction):
            out.append(option)
            continue
        if isinstance(value, tuple):  # --size
            text = "x".join(str(v) for v in value)
        elif isinstance(value, float):
            text = repr(value) if not value.is_integer() else str(int(value))
        else:
            text = str(value)
        if action.dest in PATH_OPTIONS:
            text = str(Path(text).resolve())
        out += [option, text]
    if getattr(args, "verbose", False):
        out.append("--verbose")
    return out


def _bind_arg(option: str, text: str | None, token: str | None, server: bool = True) -> tuple[str, int] | None:
    """``--http`` / ``--osc`` / ``--osc-reply`` HOST:PORT or PORT; a server on a non-loopback address needs a token
    (``--osc-reply`` only sends, so it needs none)."""
    from installation.address import parse_address
    from installation.kiosk import remote

    if text is None:
        return None
    try:
        host, port = parse_address(text, option)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if server and not remote.is_loopback(host) and not token:
        raise UserError(f"{option} {text}: binding to a non-loopback address needs --token")
    return host, port


def load_schedule_or_report(path: str, show: Show | None, show_path: Path | None) -> Schedule | None:
    """The valid schedule (its ``outside`` cues checked against ``show``), or None after printing each problem
    as ``FILE:LINE key.path: message`` to stderr."""
    import logging

    from installation.kiosk.schedule import check_schedule

    try:
        report = check_schedule(path)
        errors = list(report.errors)
        if report.schedule is not None and show is not None:
            errors += report.schedule.check_cues([c.id for c in show.cues if c.id is not None], f"the show {show_path}")
    except Exception as exc:  # a bug of ours must still not print a traceback to an operator
        logging.getLogger(__name__).debug("schedule %s", path, exc_info=True)
        print(f"{path}:1: internal error while checking this file: {exc!r}", file=sys.stderr)
        return None
    for issue in errors:
        print(issue, file=sys.stderr)
    return report.schedule if not errors else None


def run_check_schedule(args: argparse.Namespace) -> int:
    """``installation kiosk --check-schedule FILE [SHOW]``: the next 7 days of opening hours, or its errors."""
    from datetime import UTC, datetime

    show = show_path = None
    if args.show:
        show_path = Path(args.show)
        show = load_show_or_report(show_path)
        if show is None:
            return exit_codes.USAGE
    schedule = load_schedule_or_report(args.check_schedule, show, show_path)
    if schedule is None:
        return exit_codes.USAGE
    if args.check_from:
        try:
            at = datetime.fromisoformat(args.check_from)
        except ValueError:
            error(f"--check-from {args.check_from!r}: expected YYYY-MM-DD or YYYY-MM-DDTHH:MM")
            return exit_codes.USAGE
    else:
        at = datetime.now(UTC)
    print(f"ok: {args.check_schedule} (time zone {schedule.tz_name}; outside hours: {schedule.outside.describe()})")
    for line in schedule.preview(at, days=7):
        print(line)
    return exit_codes.OK


def run_kiosk(args: argparse.Namespace) -> int:
    """Check the options (exit 2 with one line), then run the supervisor until it stops."""
    from installation.kiosk import http, systemd
    from installation.kiosk.supervisor import KioskConfig, Supervisor
    from installation.render import display_available

    if args.check_schedule:
        return run_check_schedule(args)
    show_path = Path(args.show) if args.show else default_show()
    try:
        size = parse_size_arg(args.size)
        for name in ("fps", "stall_seconds", "start_seconds", "backoff_base", "backoff_max", "failure_window",
                     "safe_retry"):
            positive("--" + name.replace("_", "-"), getattr(args, name))
        positive("--kill-grace", args.kill_grace, allow_zero=True)
        positive("--stable-seconds", args.stable_seconds, allow_zero=True)
        if args.max_failures < 1:
            raise UserError(f"--max-failures {args.max_failures}: must be >= 1")
        if args.screen is not None and args.screen < 0:
            raise UserError(f"--screen {args.screen}: must be >= 0")
        positive("--log-max-mb", args.log_max_mb)
        if args.log_backups < 0:
            raise UserError(f"--log-backups {args.log_backups}: must be >= 0")
        daily = None
        if args.daily_restart is not None:
            try:
                daily = dtime.fromisoformat(args.daily_restart)
            except ValueError:
                raise UserError(f"--daily-restart {args.daily_restart!r}: expected HH:MM, e.g. 04:30") from None
        bind = _bind_arg("--http", args.http, args.token)
        osc_bind = _bind_arg("--osc", args.osc, args.token)
        osc_reply = None
        if args.osc_reply is not None:
            if osc_bind is None:
                raise UserError("--osc-reply needs --osc")
            osc_reply = _bind_arg("--osc-reply", args.osc_reply, args.token, server=False)
            if osc_reply is None or osc_reply[1] == 0:
                raise UserError(f"--osc-reply {args.osc_reply}: needs a port to send to")
    except UserError as exc:
        error(exc)
        return exit_codes.USAGE
    if args.print_systemd_unit:
        print(systemd.unit_text(str(show_path) if args.show else None, unit_args(args.parser, args)), end="")
        return exit_codes.OK
    from installation.kiosk.last_good import LastGood, default_state_dir

    state_dir = Path(args.state_dir) if args.state_dir else default_state_dir()
    show = load_show_or_report(show_path)
    if show is None:
        kept = LastGood(show_path, state_dir)
        show = load_show_or_report(kept.path, kept.base_dir) if kept.exists() else None
        if show is None:
            return exit_codes.USAGE
        print(f"kiosk: {show_path} is invalid (above); playing its last good version, saved {kept.saved_at()}, "
              "until the file is fixed", file=sys.stderr, flush=True)
    from installation.cli import wall

    if wall.check_viewport(args, show) is None:
        return exit_codes.USAGE
    if args.viewport is None and not size_fits(show, size):
        return exit_codes.USAGE
    schedule = None
    if args.schedule is not None:
        schedule = load_schedule_or_report(args.schedule, show, show_path)
        if schedule is None:
            return exit_codes.USAGE
    headless = args.headless or not display_available()
    config = KioskConfig(
        show=show_path, size=size or show_size(show), headless=headless,
        fps=args.fps, stall_seconds=args.stall_seconds, start_seconds=args.start_seconds,
        kill_grace=args.kill_grace, backoff_base=args.backoff_base, backoff_max=args.backoff_max,
        max_failures=args.max_failures, failure_window=args.failure_window, safe_retry=args.safe_retry,
        stable_seconds=args.stable_seconds, schedule=schedule,
        schedule_path=Path(args.schedule) if schedule is not None else None, state_dir=state_dir,
        pipe_output=args.log is not None, daily_restart=daily,
        player_args=([] if args.screen is None else ["--screen", str(args.screen)]) + wall.player_args(args))
    if args.log is not None:
        from installation.kiosk.logfile import open_log_file

        try:
            open_log_file(Path(args.log), args.log_max_mb, args.log_backups)
        except OSError as exc:
            error(f"--log {args.log}: {exc.strerror or exc}")
            return exit_codes.USAGE
    supervisor = Supervisor(config)
    if bind is not None:
        try:
            server = http.serve(supervisor, bind[0], bind[1], args.token)
        except OSError as exc:
            supervisor.close()
            error(f"--http {args.http}: {exc.strerror or exc}")
            return exit_codes.USAGE
        host, port = str(server.server_address[0]), server.server_address[1]  # an IPv4/IPv6 address: str
        print(f"kiosk: http://{host}:{port}/health /status /metrics", flush=True)
    if osc_bind is not None:
        try:
            from installation.kiosk import osc
        except ImportError as exc:  # an environment set up before python-osc became a dependency: broken
            supervisor.close()
            error(f"--osc needs python-osc (pip install python-osc): {exc}")
            return exit_codes.FAILURE
        try:
            osc_server = osc.serve(supervisor, osc_bind[0], osc_bind[1], args.token, osc_reply)
        except OSError as exc:  # also a --osc-reply host that does not resolve (socket.gaierror)
            supervisor.close()
            error(f"--osc {args.osc}: {exc.strerror or exc}")
            return exit_codes.USAGE
        host, port = osc_server.address
        also = f" and {args.osc_reply}" if osc_reply else ""
        print(f"kiosk: osc udp://{host}:{port} {osc.PREFIX}... (replies to the sender{also})", flush=True)
    print(f"kiosk: supervising {show_path} ({'headless' if headless else 'window'}); pid {os.getpid()}", flush=True)
    if schedule is not None:
        print(f"kiosk: opening hours from {args.schedule} ({schedule.tz_name}): {schedule.describe()}; "
              f"outside hours: {schedule.outside.describe()}", flush=True)
    return supervisor.run()
