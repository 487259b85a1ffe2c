"""Stylizer latency per content resolution (the bundled Magenta pair, ONNX Runtime).

    python bench/stylizer.py [--threads 1] [--repeats 10] [--providers CPUExecutionProvider] [--out FILE.json]

Rows, median and p95 milliseconds:

- ``predict``: one style vector (a 640x427 painting -> centre square -> 256 px -> vector);
- ``transform``: the bare network run at its fixed 384x384;
- ``stylize WxH``: what the live scene pays per camera frame: resize to 384 on the longer side, reflect-pad,
  run, crop (``size="model"``, the scene uploads that and lets the GPU scale it);
- ``still WxH``: ``installation stylize`` at full resolution (vector + stylize + bicubic upscale + detail 0.5).

Inputs are scikit-image's photographs (real pictures; timing does not depend on content, but the first run of
the int8 kernels does). Providers: ``--providers CUDAExecutionProvider,CPUExecutionProvider`` on a GPU machine.
Writes JSON (default bench/results/stylizer.json).
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

import cv2  # noqa: E402
from timing import measure  # noqa: E402  (bench/ is on sys.path when run as a script)

from installation.pack import pack_path  # noqa: E402

SIZES = [(320, 240), (640, 480), (1280, 720), (1920, 1080)]
STILLS = [(1280, 720), (1920, 1080), (3840, 2160)]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--providers", default="CPUExecutionProvider")
    p.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "stylizer.json")
    args = p.parse_args()
    os.environ["INSTALLATION_THREADS"] = str(args.threads)
    cv2.setNumThreads(args.threads)
    import numpy as np
    from skimage import data as skdata

    from installation.inference.stylizer import Stylizer, stylize_still

    providers = args.providers.split(",")
    st = Stylizer(pack_path("stylizer"), pack_path("style_predictor"), providers=providers, threads=args.threads)
    painting, photo = skdata.rocket(), skdata.astronaut()
    vector = st.style_vector(painting)
    rows: list[dict] = []

    def row(name: str, size: tuple[int, int] | None, result: dict[str, float]) -> None:
        rows.append({"name": name, "size": list(size) if size else None, **result})

    row("predict", None, measure(lambda: st.style_vector(painting), args.repeats))
    x = np.random.default_rng(0).random((1, 3, st.content_size, st.content_size), dtype=np.float32)
    v = vector.vector.reshape(1, -1)
    row("transform", (st.content_size, st.content_size), measure(lambda: st.transform.run(x, v), args.repeats))
    for w, h in SIZES:
        frame = cv2.resize(photo, (w, h), interpolation=cv2.INTER_AREA if w < 512 else cv2.INTER_CUBIC)
        row("stylize", (w, h), measure(lambda f=frame: st.stylize(f, vector, size="model"), args.repeats))
    for w, h in STILLS:
        still = cv2.resize(photo, (w, h), interpolation=cv2.INTER_CUBIC)
        row("still", (w, h), measure(lambda s=still: stylize_still(st, s, painting, detail=0.5),
                                     max(3, args.repeats // 3)))

    print(f"\nstylizer ({', '.join(st.providers)}, {args.threads} thread(s)), median / p95 ms")
    print(f"{'what':10s} {'size':>11s} {'median':>9s} {'p95':>9s} {'fps':>6s}")
    for r in rows:
        size = "x".join(map(str, r["size"])) if r["size"] else "-"
        print(f"{r['name']:10s} {size:>11s} {r['median_ms']:9.1f} {r['p95_ms']:9.1f} {1e3 / r['median_ms']:6.1f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "rows": rows, "providers": st.providers, "threads": args.threads, "repeats": args.repeats,
        "model": {"transform": str(st.transform.path), "predictor": str(st.predictor.path),
                  "content_size": st.content_size},
        "machine": platform.platform(), "cpu_count": os.cpu_count(),
    }, indent=2))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
