"""``installation`` command line. User errors print one line and exit 2; never a traceback."""

from __future__ import annotations

import argparse
import logging
import sys

EXIT_USER_ERROR = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="installation", description="Exhibition runtime for generative art.")
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)
    doctor = sub.add_parser("doctor", help="report ONNX Runtime providers and whether the model pack loads")
    doctor.add_argument("--models", default=None, help="model folder (default: the bundled pack)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(message)s")
    if args.command == "doctor":
        from installation.doctor import run_doctor

        return run_doctor(args.models)
    return EXIT_USER_ERROR


if __name__ == "__main__":
    sys.exit(main())
