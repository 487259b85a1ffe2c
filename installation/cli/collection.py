"""``installation generate`` and ``installation order``: make a collection with the pack, order one."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from installation import exit_codes
from installation.cli.args import MAX_COUNT, ArgTypes, UserError, bounded, grid_type
from installation.cli.common import error


def add_parsers(sub: argparse._SubParsersAction, common: argparse.ArgumentParser, types: ArgTypes) -> None:
    gen = sub.add_parser("generate", parents=[common],
                         help="synthesize a collection with the generator + upscaler (ONNX Runtime)")
    gen.add_argument("--count", type=int, default=196)
    gen.add_argument("--out", required=True, help="folder for the PNGs and manifest.json")
    gen.add_argument("--seed", type=types.seed, default=0)
    gen.add_argument("--styles", nargs="+", default=None, help="style names (default: all of the generator's)")
    gen.add_argument("--mix", type=bounded(float, 0, 1), default=0.3, help="share of paintings that blend two styles")
    gen.add_argument("--models", default=None, help="model folder (default: the bundled pack)")
    gen.add_argument("--no-upscale", action="store_true", help="keep the generator's resolution")
    gen.add_argument("--candidates", type=bounded(int, 1, 64), default=1,
                     help="keep the best of N latent codes per painting, as the pack's encoder rates the asked-for "
                          "style, skipping near duplicates and pictures inside a dark border (the demo collection "
                          "uses 12)")
    gen.add_argument("--diversity", type=bounded(float, 0, 10), default=0.0,
                     help="with --candidates: how much a candidate's likeness to the paintings already kept counts "
                          "against its style rating (maximal marginal relevance: rating - D x nearest cosine; 0: "
                          "rating only)")
    gen.set_defaults(handler=run_generate)

    order = sub.add_parser("order", parents=[common],
                           help="order a collection so each image differs little from the last")
    order.add_argument("collection", metavar="COLLECTION", help="folder of images")
    order.add_argument("--method", choices=["gnn", "tsp", "random"], default="gnn",
                       help="gnn (GraphSAGE embedding + LKH path, default), tsp (LKH on the raw features), random")
    order.add_argument("--layout", choices=["sequence", "similarity"], default="sequence",
                       help="sequence: cell k shows the k-th image; similarity: similar images in neighbouring cells")
    order.add_argument("--grid", type=grid_type, default=None, metavar="ROWSxCOLS",
                       help="grid for the layout (default: near-square)")
    order.add_argument("--open-on", choices=["light", "dark", "either"], default="light",
                       help="the end of the path the wall opens on: light (default: the end whose first grid row is "
                            "lighter), dark, or either (as the solver leaves it); the path is the same either way")
    order.add_argument("--seed", type=types.seed, default=0)
    order.add_argument("--out", default=None, help="JSON file (default: COLLECTION.order.json beside the folder)")
    order.add_argument("--dump-features", default=None, metavar="FILE.npy", help="also write the feature matrix")
    order.add_argument("--models", default=None, help="model folder for the encoder (default: the bundled pack)")
    order.set_defaults(handler=run_order)


def run_generate(args: argparse.Namespace) -> int:
    """PNGs + manifest; bad models or styles are one line and exit 2."""
    from installation.generate import generate_collection
    from installation.inference.contract import ModelContractError
    from installation.inference.encoder import PaintingEncoder
    from installation.inference.generator import Generator, Upscaler
    from installation.pack import pack_path

    if args.count <= 0 or args.count > MAX_COUNT:
        error(f"--count must be > 0 and at most {MAX_COUNT:,}")
        return exit_codes.USAGE
    try:
        generator = Generator(pack_path("generator", args.models))
        upscaler = None if args.no_upscale else Upscaler(pack_path("upscaler", args.models))
        encoder = PaintingEncoder(pack_path("encoder", args.models)) if args.candidates > 1 else None
        manifest = generate_collection(generator, Path(args.out), count=args.count, seed=args.seed,
                                       styles=args.styles, mix=args.mix, upscaler=upscaler, encoder=encoder,
                                       candidates=args.candidates, diversity=args.diversity)
    except (ModelContractError, ValueError, OSError) as exc:
        error(exc)
        return exit_codes.USAGE
    print(f"wrote {manifest['count']} paintings ({manifest['resolution']} px) and manifest.json to {args.out}")
    return exit_codes.OK


def run_order(args: argparse.Namespace) -> int:
    """JSON order + layout + metrics; bad input is one line and exit 2."""
    from installation.collection import scan_collection
    from installation.ordering import compute_order, default_order_path, write_order
    from installation.ordering.pipeline import opening_window
    from installation.pack import pack_path

    folder = Path(args.collection)
    try:
        if not folder.is_dir():
            raise UserError(f"{folder}: not a folder" if folder.exists() else f"{folder}: no such folder")
        grid = None
        if args.grid:
            parts = args.grid.lower().split("x")
            if len(parts) != 2 or not all(p.strip().isdigit() and int(p) > 0 for p in parts):
                raise UserError(f"--grid {args.grid!r}: expected ROWSxCOLS, e.g. 14x14")
            grid = int(parts[0]), int(parts[1])
        if args.dump_features and not args.dump_features.endswith(".npy"):
            raise UserError(f"--dump-features {args.dump_features}: expected a .npy file name")
        scan = scan_collection(folder)
        if scan.skipped:
            print(f"skipped {len(scan.skipped)} unreadable image(s): {', '.join(p.name for p in scan.skipped)}",
                  file=sys.stderr)
        if len(scan.images) < 2:
            raise UserError(f"{folder}: {len(scan.images)} readable image(s); ordering needs at least 2")
        rows, cols = grid if grid else (None, None)
        if rows and cols and rows * cols < len(scan.images) and args.layout == "similarity":
            print(f"note: the {rows}x{cols} grid holds {rows * cols} of {len(scan.images)} images; "
                  "the layout places the first ones of the order", file=sys.stderr)
        out = Path(args.out) if args.out else default_order_path(folder)
        encoder = pack_path("encoder", args.models)
        if args.models and not encoder.is_file():
            raise UserError(f"--models {args.models}: no {encoder.name} there")
        result, features = compute_order(scan.images, args.method, args.layout, rows, cols, args.seed, encoder,
                                         open_on=args.open_on)
        write_order(result, out)
        if args.dump_features:
            import numpy as np

            np.save(args.dump_features, features.matrix)
    except (UserError, OSError) as exc:
        error(exc)
        return exit_codes.USAGE
    m = result.metrics
    used = result.method + (f" (asked {result.method_requested})" if result.method != result.method_requested else "")
    print(f"ordered {len(result.names)} images of {folder} by {used}, layout {result.layout} "
          f"{result.rows}x{result.cols}, path solver {result.solver}")
    print(f"path length {m['path_length']:.3f} (feature space); ratio to LKH on the method's own distances "
          f"{m['path_ratio']:.4f}; smoothness {m['smoothness']:.3f} "
          f"(random {m['random_length']:.3f}, best {m['lkh_length']:.3f})")
    print(f"largest step {m['max_step']:.3f} (mean {m['mean_step']:.3f}); layout DPQ16 {m['dpq16']:.3f}, "
          f"DPQ2 {m['dpq2']:.3f}; {result.seconds:.2f} s")
    window = opening_window(len(result.names), result.cols)
    print(f"opens on lightness {m['opening_lightness']:.0f} and closes on {m['closing_lightness']:.0f} "
          f"(CIELAB L*, first and last {window} images; --open-on {result.open_on})")
    print(f"wrote {out}" + (f" and {args.dump_features}" if args.dump_features else ""))
    return exit_codes.OK
