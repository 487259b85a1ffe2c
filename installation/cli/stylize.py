"""``installation stylize CONTENT STYLE --out FILE``: a still repainted in a painting's style, at full resolution."""

from __future__ import annotations

import argparse
from pathlib import Path

from installation import exit_codes
from installation.cli.args import ArgTypes, UserError, bounded
from installation.cli.common import error


def add_parsers(sub: argparse._SubParsersAction, common: argparse.ArgumentParser, types: ArgTypes) -> None:
    p = sub.add_parser("stylize", parents=[common],
                       help="repaint a still in the style of a painting (full resolution; docs/style-transfer.md)")
    p.add_argument("content", metavar="CONTENT", type=Path, help="the picture to repaint")
    p.add_argument("style", metavar="STYLE", type=Path, help="the painting whose style it takes")
    p.add_argument("--out", type=Path, required=True, help="image file to write (.png, .jpg, .webp, ...)")
    p.add_argument("--strength", type=bounded(float, 0, 1), default=1.0,
                   help="1: fully stylized (default); less blends in the original picture")
    p.add_argument("--detail", type=bounded(float, 0, 1), default=0.0,
                   help="add back this share of the content's fine detail after the upscale (default 0)")
    p.add_argument("--models", default=None,
                   help="folder with stylizer_transform.onnx and stylizer_predict.onnx (default: the bundled pack)")
    p.set_defaults(handler=run_stylize)


def run_stylize(args: argparse.Namespace) -> int:
    """Bad images, models or output paths: one line, exit 2."""
    import cv2

    from installation.imagefile import read_image
    from installation.inference.contract import ModelContractError
    from installation.inference.stylizer import Stylizer, stylize_still
    from installation.pack import pack_path

    try:
        out: Path = args.out
        if not out.suffix or not cv2.haveImageWriter(str(out)):
            raise UserError(f"--out {out}: not an image file type that can be written (use .png, .jpg, .webp...)")
        if not out.parent.is_dir():
            raise UserError(f"--out {out}: folder {out.parent} does not exist")
        images = []
        for what, path in (("CONTENT", args.content), ("STYLE", args.style)):
            image, why = read_image(path)
            if image is None:
                raise UserError(f"{what} {path}: {why}")
            images.append(image)
        stylizer = Stylizer(pack_path("stylizer", args.models), pack_path("style_predictor", args.models))
        result = stylize_still(stylizer, images[0], images[1], strength=args.strength, detail=args.detail)
        if not cv2.imwrite(str(out), cv2.cvtColor(result, cv2.COLOR_RGB2BGR)):
            raise UserError(f"--out {out}: cannot be written")
    except (UserError, ModelContractError, OSError) as exc:
        error(exc)
        return exit_codes.USAGE
    print(f"wrote {out} ({result.shape[1]}x{result.shape[0]})")
    return exit_codes.OK
