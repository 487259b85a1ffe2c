"""``installation validate`` and ``installation render``: show scripts checked, or rendered offline."""

from __future__ import annotations

import argparse
import logging
import sys

from installation import exit_codes
from installation.cli.args import ArgTypes, UserError, bounded, parse_size_arg, positive
from installation.cli.common import error, load_show_or_report, show_size, size_fits

log = logging.getLogger(__name__)


def add_parsers(sub: argparse._SubParsersAction, common: argparse.ArgumentParser, types: ArgTypes) -> None:
    from installation.config import values as f

    validate = sub.add_parser("validate", parents=[common],
                              help="check show scripts; every error as FILE:LINE key.path: message")
    validate.add_argument("shows", nargs="+", metavar="SHOW", help="show script(s) (.yaml)")
    validate.set_defaults(handler=run_validate)

    render = sub.add_parser("render", parents=[common],
                            help="render a show offline (headless EGL, deterministic) to .mp4/.avi/PNGs")
    render.add_argument("show", metavar="SHOW")
    render.add_argument("--out", required=True, help="FILE.mp4, FILE.avi, or a folder for PNG frames")
    render.add_argument("--seconds", type=types.seconds, default=10.0, help="length in show seconds (default 10)")
    render.add_argument("--fps", type=types.fps, default=30.0, help="frames per second (default 30)")
    render.add_argument("--size", type=types.size, default=None, metavar="WxH",
                        help="default: the show's display.size or 1280x720")
    render.add_argument("--start", type=bounded(float, 0, f.MAX_SECONDS, " seconds"), default=0.0,
                        help="show time of the first frame (default 0)")
    render.add_argument("--viewport", default=None, metavar="NAME",
                        help="render only this viewport of the show's wall canvas (at its size unless --size)")
    render.set_defaults(handler=run_render)


def run_validate(args: argparse.Namespace) -> int:
    """"ok: FILE (N cues)" per valid show; errors on stderr; exit 2 if any is invalid."""
    import installation.scenes  # noqa: F401  registers the scene types shows are checked against
    from installation.show import check_show

    status = exit_codes.OK
    for path in args.shows:
        try:
            report = check_show(path)
        except Exception as exc:  # a bug of ours must still not print a traceback to an operator
            log.debug("validate %s", path, exc_info=True)
            print(f"{path}:1: internal error while checking this file: {exc!r}", file=sys.stderr)
            status = exit_codes.USAGE
            continue
        for issue in report.warnings + report.errors:
            print(issue, file=sys.stderr)
        if report.ok and report.show is not None:
            print(f"ok: {path} ({len(report.show.cues)} cue{'s' if len(report.show.cues) != 1 else ''})")
        else:
            status = exit_codes.USAGE
    return status


def run_render(args: argparse.Namespace) -> int:
    """Offline, headless, deterministic; one line per problem, exit 2 (1 when this machine has no OpenGL)."""
    from installation.offline import DEFAULT_SIZE, render_show
    from installation.render import ContextUnavailable
    from installation.video import VideoError

    try:
        size = parse_size_arg(args.size)
        positive("--seconds", args.seconds)
        positive("--fps", args.fps)
        positive("--start", args.start, allow_zero=True)
    except UserError as exc:
        error(exc)
        return exit_codes.USAGE
    show = load_show_or_report(args.show)
    if show is None:
        return exit_codes.USAGE
    from installation.cli.wall import check_viewport

    view_size = check_viewport(args, show)
    if view_size is None:
        return exit_codes.USAGE
    if args.viewport is not None:  # the scenes draw the wall's canvas (checked when the show loaded)
        size = size or view_size
    else:
        size = size or show_size(show) or DEFAULT_SIZE
        if not size_fits(show, size):
            return exit_codes.USAGE
    try:
        result = render_show(show, args.out, seconds=args.seconds, fps=args.fps, size=size, start=args.start,
                             viewport=args.viewport)
    except VideoError as exc:  # an output the operator named that cannot be written (path, disk full)
        error(exc)
        return exit_codes.USAGE
    except ContextUnavailable as exc:  # the machine, not the input
        error(exc)
        return exit_codes.FAILURE
    w, h = result.size
    print(f"wrote {result.out} ({result.frames} frames, {w}x{h}, {result.fps:g} fps, "
          f"show time {args.start:g}..{args.start + result.frames / result.fps:g} s)")
    return exit_codes.OK
