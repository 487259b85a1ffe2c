"""Super-resolution quality on the standard test sets (Set5, Set14, ...) and the upscaler's latency.

    python bench/super_resolution.py --sets DIR [DIR ...] [--model FILE.onnx] [--threads 1] [--out FILE.json]

Each DIR is a folder of high-resolution PNG/JPEG images; its name labels the row (``Set5``, ``Set14``). The
protocol is the one published x4 numbers use (models.metrics): crop each image to a multiple of the scale,
make the input with MATLAB-style antialiased bicubic downscaling rounded to uint8, upscale, round to uint8,
and compare on the BT.601 Y channel after cropping ``scale`` pixels on every side. Bicubic upscaling of the
same input is the baseline, and rows for Set5/Set14 also print FSRCNN's published x4 numbers
(Dong et al. 2016) for reference.

The test images are not in the repository (they are third-party): point ``--sets`` at any copy. Our bicubic
rows land within 0.1 dB of the published bicubic numbers (28.42 / 26.00), which is the check that the copy
and the protocol match.

Latency: one 64x64 -> 256x256 upscale on ``--threads`` ONNX Runtime threads (median / p95 ms).
Writes JSON (default bench/results/super_resolution.json).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from timing import measure  # noqa: E402  (bench/ is on sys.path when run as a script)

from installation.inference.generator import Upscaler, to_uint8  # noqa: E402
from installation.pack import pack_path  # noqa: E402
from models.metrics import bicubic_baseline, modcrop, psnr_y  # noqa: E402  (numpy only, no torch)

# FSRCNN's published x4 PSNR-Y (Dong, Loy, Tang, ECCV 2016, table 3) and the bicubic numbers printed beside it.
PUBLISHED_X4 = {"set5": {"fsrcnn": 30.72, "bicubic": 28.42}, "set14": {"fsrcnn": 27.61, "bicubic": 26.00}}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp"}
MAX_SIDE = 4096  # a bounded bench: larger images are refused, not silently resized


def score_set(upscaler: Upscaler, folder: Path) -> dict:
    """Per-image and mean PSNR-Y of the model and of bicubic on one folder."""
    scale = upscaler.scale
    images = []
    for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
        with Image.open(path) as im:
            if max(im.size) > MAX_SIDE:
                raise SystemExit(f"error: {path} is larger than {MAX_SIDE} px on a side")
            hr = modcrop(np.asarray(im.convert("RGB")), scale)
        lr, bicubic = bicubic_baseline(hr, scale)
        upscaled = to_uint8(upscaler.upscale((lr.astype(np.float32) / 255.0).transpose(2, 0, 1)[None]))[0]
        images.append({"image": path.name, "model_db": psnr_y(upscaled, hr, scale),
                       "bicubic_db": psnr_y(bicubic, hr, scale)})
    if not images:
        raise SystemExit(f"error: no images in {folder}")
    model = float(np.mean([r["model_db"] for r in images]))
    bicubic = float(np.mean([r["bicubic_db"] for r in images]))
    return {"set": folder.name, "n": len(images), "model_db": model, "bicubic_db": bicubic,
            "gain_db": model - bicubic, "published": PUBLISHED_X4.get(folder.name.lower()), "images": images}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sets", type=Path, nargs="+", required=True, help="folders of high-resolution test images")
    p.add_argument("--model", type=Path, default=None, help="upscaler ONNX (default: the pack's)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "super_resolution.json")
    args = p.parse_args()
    for folder in args.sets:
        if not folder.is_dir():
            p.error(f"{folder} is not a folder of images")
    model_path = args.model or pack_path("upscaler")
    upscaler = Upscaler(model_path, threads=args.threads)
    rows = [score_set(upscaler, folder) for folder in args.sets]
    probe = np.random.default_rng(0).random((1, 3, 64, 64), dtype=np.float32)
    latency = measure(lambda: upscaler.upscale(probe), args.repeats)

    print(f"\n{model_path.name} x{upscaler.scale}: PSNR-Y (dB), {args.threads} thread(s)")
    print(f"{'set':8s} {'n':>3s} {'model':>7s} {'bicubic':>8s} {'gain':>6s} {'FSRCNN':>7s} {'pub. bicubic':>13s}")
    for r in rows:
        pub = r["published"] or {}
        fsrcnn = f"{pub['fsrcnn']:.2f}" if pub else "-"
        pub_bicubic = f"{pub['bicubic']:.2f}" if pub else "-"
        print(f"{r['set']:8s} {r['n']:3d} {r['model_db']:7.2f} {r['bicubic_db']:8.2f} {r['gain_db']:+6.2f} "
              f"{fsrcnn:>7s} {pub_bicubic:>13s}")
    print(f"64x64 -> {64 * upscaler.scale} px: median {latency['median_ms']:.1f} ms, p95 {latency['p95_ms']:.1f} ms")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "model": str(model_path), "scale": upscaler.scale, "threads": args.threads, "sets": rows,
        "latency_64px": latency, "machine": platform.platform(), "cpu_count": os.cpu_count(),
    }, indent=2))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
