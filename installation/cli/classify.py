"""``installation classify IMAGE...``: the style each image is closest to and its nearest paintings of a collection."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from installation import exit_codes
from installation.cli.args import ArgTypes, UserError, bounded
from installation.cli.common import error

MAX_IMAGES = 100_000


def add_parsers(sub: argparse._SubParsersAction, common: argparse.ArgumentParser, types: ArgTypes) -> None:
    from installation.ordering.lookup import MAX_TOP

    cls = sub.add_parser("classify", parents=[common],
                         help="the encoder's style probabilities of images and their nearest paintings of a collection")
    cls.add_argument("images", nargs="+", metavar="IMAGE", help="image files (or folders of images)")
    cls.add_argument("--collection", default=None, metavar="DIR",
                     help="folder of paintings to find the nearest in (its embeddings are cached)")
    cls.add_argument("--top", type=bounded(int, 1, MAX_TOP), default=5, metavar="K",
                     help=f"nearest paintings per image (1..{MAX_TOP}, default 5)")
    cls.add_argument("--json", action="store_true", help="one JSON document on stdout")
    cls.add_argument("--models", default=None, help="model folder for the encoder (default: the bundled pack)")
    cls.set_defaults(handler=run_classify)


def _expand(args: list[str]) -> tuple[list[Path], list[str]]:
    """Files as given, folders as their image files (name order); problems as one line each."""
    from installation.collection import IMAGE_SUFFIXES, natural_key

    files, problems = [], []
    for text in args:
        path = Path(text)
        if path.is_dir():
            found = sorted((p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()),
                           key=lambda p: natural_key(p.name))
            if not found:
                problems.append(f"{path}: no image files in this folder")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            problems.append(f"{path}: no such file" if not path.exists() else f"{path}: not a regular file")
    return files, problems


def run_classify(args: argparse.Namespace) -> int:
    """Exit 0 when every image was read, 2 when one was not (the others are still answered) or on bad input."""
    from installation.collection import scan_collection
    from installation.inference.contract import ModelContractError
    from installation.inference.encoder import PaintingEncoder
    from installation.ordering.lookup import embed_collection, embed_images, lookup
    from installation.pack import pack_path

    t0 = time.perf_counter()
    try:
        images, problems = _expand(args.images)
        if len(images) > MAX_IMAGES:
            raise UserError(f"{len(images):,} images: at most {MAX_IMAGES:,} at once")
        encoder_path = pack_path("encoder", args.models)
        if not encoder_path.is_file():
            raise UserError(f"{encoder_path}: no encoder model there")
        encoder = PaintingEncoder(encoder_path)
        collection = None
        if args.collection is not None:
            folder = Path(args.collection)
            if not folder.is_dir():
                raise UserError(f"--collection {folder}: " + ("not a folder" if folder.exists() else "no such folder"))
            scan = scan_collection(folder)
            if not scan.images:
                raise UserError(f"--collection {folder}: no readable images")
            if scan.skipped:
                print(f"note: skipped {len(scan.skipped)} unreadable painting(s) of {folder}: "
                      f"{scan.skipped_summary()}", file=sys.stderr)
            collection = embed_collection(scan.images, encoder, encoder_path)
        queries = embed_images(images, encoder)
    except (UserError, ModelContractError, OSError) as exc:
        error(exc)
        return exit_codes.USAGE
    problems += [f"{path}: {reason}" for path, reason in queries.failed.items()]
    for problem in problems:
        error(problem)
    results = lookup(queries, collection, args.top)
    seconds = time.perf_counter() - t0
    if args.json:
        print(json.dumps({"encoder": str(encoder_path), "collection": args.collection,
                          "collection_size": len(collection.paths) if collection else 0,
                          "collection_cached": bool(collection and collection.cached),
                          "results": [r.to_json() for r in results],
                          "errors": problems, "seconds": round(seconds, 3)}, indent=1))
    else:
        for r in results:
            styles = ", ".join(f"{name} {p:.2f}" for name, p in list(r.styles.items())[:3])
            print(f"{r.path}: {styles}")
            if r.nearest:
                print("  nearest: " + ", ".join(f"{m.path.name} {m.similarity:.3f}" for m in r.nearest))
        cached = " (collection embeddings from the cache)" if collection is not None and collection.cached else ""
        print(f"classified {len(results)} image(s) in {seconds:.2f} s{cached}", file=sys.stderr)
    if not results and not problems:
        error("no images")
    return exit_codes.USAGE if problems or not results else exit_codes.OK
