"""``installation doctor``: what this machine offers (see installation/doctor.py, which does the work)."""

from __future__ import annotations

import argparse

from installation import exit_codes
from installation.cli.args import ArgTypes


def add_parsers(sub: argparse._SubParsersAction, common: argparse.ArgumentParser, types: ArgTypes) -> None:
    doctor = sub.add_parser("doctor", parents=[common],
                            help="GL, displays, cameras, ONNX Runtime, and whether the model pack loads "
                                 "(exit 1 when something fails)")
    doctor.add_argument("--models", default=None, help="model folder (default: the bundled pack)")
    doctor.set_defaults(handler=run_doctor)


def run_doctor(args: argparse.Namespace) -> int:
    """0 when everything works, 1 (``exit_codes.FAILURE``) when something does not."""
    from installation.doctor import run_doctor

    return exit_codes.OK if run_doctor(args.models) == 0 else exit_codes.FAILURE
