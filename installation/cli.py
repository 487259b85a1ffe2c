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
    validate = sub.add_parser("validate", help="check show scripts; every error as FILE:LINE key.path: message")
    validate.add_argument("shows", nargs="+", metavar="SHOW", help="show script(s) (.yaml)")
    gen = sub.add_parser("generate", help="synthesize a collection with the generator + upscaler (ONNX Runtime)")
    gen.add_argument("--count", type=int, default=196)
    gen.add_argument("--out", required=True, help="folder for the PNGs and manifest.json")
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--styles", nargs="+", default=None, help="style names (default: all of the generator's)")
    gen.add_argument("--mix", type=float, default=0.3, help="share of paintings that blend two styles")
    gen.add_argument("--models", default=None, help="model folder (default: the bundled pack)")
    gen.add_argument("--no-upscale", action="store_true", help="keep the generator's resolution")
    return parser


def run_generate(args: argparse.Namespace) -> int:
    """``installation generate``: PNGs + manifest; bad models or styles are one line and exit 2."""
    from pathlib import Path

    from installation.generate import generate_collection
    from installation.inference.contract import ModelContractError
    from installation.inference.generator import Generator, Upscaler
    from installation.pack import pack_path

    if args.count <= 0:
        print("error: --count must be > 0", file=sys.stderr)
        return EXIT_USER_ERROR
    try:
        generator = Generator(pack_path("generator", args.models))
        upscaler = None if args.no_upscale else Upscaler(pack_path("upscaler", args.models))
        manifest = generate_collection(generator, Path(args.out), count=args.count, seed=args.seed,
                                       styles=args.styles, mix=args.mix, upscaler=upscaler)
    except (ModelContractError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    print(f"wrote {manifest['count']} paintings ({manifest['resolution']} px) and manifest.json to {args.out}")
    return 0


def run_validate(paths: list[str]) -> int:
    """``installation validate``: "ok: FILE (N cues)" per valid show; errors on stderr; exit 2 if any is invalid."""
    from installation.show import check_show

    status = 0
    for path in paths:
        try:
            report = check_show(path)
        except Exception as exc:  # a bug of ours must still not print a traceback to an operator
            logging.getLogger(__name__).debug("validate %s", path, exc_info=True)
            print(f"{path}:1: internal error while checking this file: {exc!r}", file=sys.stderr)
            status = EXIT_USER_ERROR
            continue
        for issue in report.warnings + report.errors:
            print(issue, file=sys.stderr)
        if report.ok and report.show is not None:
            print(f"ok: {path} ({len(report.show.cues)} cue{'s' if len(report.show.cues) != 1 else ''})")
        else:
            status = EXIT_USER_ERROR
    return status


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(message)s")
    if args.command == "doctor":
        from installation.doctor import run_doctor

        return run_doctor(args.models)
    if args.command == "validate":
        return run_validate(args.shows)
    if args.command == "generate":
        return run_generate(args)
    return EXIT_USER_ERROR


if __name__ == "__main__":
    sys.exit(main())
