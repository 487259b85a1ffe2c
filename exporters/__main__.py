"""``python -m exporters {sagan,sasr,emotion,encoder} --checkpoint CKPT --out FILE.onnx`` and
``python -m exporters verify FILE.onnx``.

Each kind lives in its own module (``exporters/<kind>.py``) with ``add_arguments(parser)`` and
``run(args) -> ExportReport``; this file only dispatches and turns user errors into one line, exit 2.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from pathlib import Path

KINDS = {
    "sagan": "exporters.sagan",
    "sasr": "exporters.sasr",
    "emotion": "exporters.emotion",
    "encoder": "exporters.encoder",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m exporters", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for kind, module_name in KINDS.items():
        module = importlib.import_module(module_name)
        p = sub.add_parser(kind, help=module.__doc__.strip().splitlines()[0])
        module.add_arguments(p)
        p.set_defaults(handler=module.run)
    from exporters import verify

    p = sub.add_parser("slim", help="copy a checkpoint without optimiser/RNG state (EMA weights kept)")
    p.add_argument("checkpoint", type=Path)
    p.add_argument("--out", type=Path, required=True)
    p.set_defaults(handler=run_slim)

    p = sub.add_parser("verify", help=verify.__doc__.strip().splitlines()[0])
    verify.add_arguments(p)
    p.set_defaults(handler=verify.run)
    return parser


def run_slim(args: argparse.Namespace) -> int:
    from exporters.checkpoints import slim_checkpoint

    out = slim_checkpoint(args.checkpoint, args.out)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB, from {args.checkpoint.stat().st_size / 1e6:.2f} MB)")
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args = build_parser().parse_args(argv)
    from exporters.onnx_export import ExportError
    from installation.inference.contract import ModelContractError
    from models.checkpoint import CheckpointError

    try:
        result = args.handler(args)
    except (ExportError, CheckpointError, ModelContractError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if isinstance(result, int):
        return result
    print(result.summary())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
