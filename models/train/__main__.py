"""``python -m models.train {sagan,sasr,encoder,emotion} --data BUNDLE --out RUN [...]``.

One subparser per trainer, each with its handler; a trainer's own options are parsed by its module
(``python -m models.train NAME --help`` lists them). Exit codes: :mod:`installation.exit_codes`.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from installation import exit_codes

TRAINERS = {
    "sagan": ("models.train.sagan", "conditional SAGAN (the generator of the pack)"),
    "sasr": ("models.train.sasr", "SASR-Net super-resolution (the upscaler)"),
    "encoder": ("models.train.encoder", "painting-style encoder (orders collections)"),
    "emotion": ("models.train.emotion", "emotion classifier on FER-2013; --eval-only evaluates any emotion model"),
}


def _trainer(module_name: str):  # noqa: ANN202 - a handler: (args, trainer argv) -> exit code
    def handler(args: argparse.Namespace, rest: list[str]) -> int:
        module = importlib.import_module(module_name)  # imports torch: only once a trainer is chosen
        return module.main(rest)

    return handler


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="debug logging")
    parser = argparse.ArgumentParser(prog="python -m models.train", description="Train the networks of the model pack.",
                                     epilog="python -m models.train NAME --help lists a trainer's options")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging (also after the trainer name)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="TRAINER")
    for name, (module_name, summary) in TRAINERS.items():
        # add_help=False: NAME --help reaches the trainer's own parser, which knows its options
        p = sub.add_parser(name, parents=[common], add_help=False, help=summary)
        p.set_defaults(handler=_trainer(module_name))
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args, rest = build_parser().parse_known_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2, printed by argparse)
        return exc.code if isinstance(exc.code, int) else exit_codes.USAGE
    if args.verbose:
        logging.basicConfig(level=logging.DEBUG, format="%(levelname)s %(message)s")
    try:
        return args.handler(args, rest)
    except SystemExit as exc:  # a trainer's --help (0) or its own usage error (2)
        return exc.code if isinstance(exc.code, int) else exit_codes.USAGE
    except (FileNotFoundError, ValueError) as exc:  # bad data or checkpoint paths: one readable line
        print(f"error: {exc}", file=sys.stderr)
        return exit_codes.USAGE
    except KeyboardInterrupt:
        return exit_codes.INTERRUPTED


if __name__ == "__main__":
    raise SystemExit(main())
