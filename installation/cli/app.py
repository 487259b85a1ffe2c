"""The ``installation`` parser (one subparser per command, each with its handler) and :func:`main`."""

from __future__ import annotations

import argparse
import logging

from installation import exit_codes
from installation.cli import classify, collection, doctor, emotions, kiosk, play, shows, stylize, wall
from installation.cli.args import ArgTypes, OneLineParser, common_options

# One module per command group; each adds its subparsers with ``set_defaults(handler=...)``.
COMMAND_GROUPS = (play, shows, kiosk, collection, classify, emotions, stylize, doctor, wall)


def build_parser() -> argparse.ArgumentParser:
    common = common_options()
    types = ArgTypes.create()
    parser = OneLineParser(prog="installation", description="Exhibition runtime for generative art.",
                           epilog="exit codes: 0 success, 1 runtime failure, 2 usage or input error, 130 interrupted")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging (also after the command)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in COMMAND_GROUPS:
        group.add_parsers(sub, common, types)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` (default: ``sys.argv[1:]``), run the command's handler, return an exit code
    (:mod:`installation.exit_codes`)."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help (0) or a bad argument (2, one line printed): a code, like every command
        return exc.code if isinstance(exc.code, int) else exit_codes.USAGE
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(message)s")
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        return exit_codes.INTERRUPTED
