"""Ordering 196 paintings: each method's path, smoothness, layout quality and time.

    python bench/ordering.py [--collection FOLDER] [--per-style 28] [--out bench/results/ordering.json]

Default collection: assets/collections/demo when it exists, else 28 paintings per style from
../shared/data/paintings (7 styles = 196). One thread everywhere. Times exclude the metrics (which run an
extra LKH on the raw features as the reference); ``features`` is timed cold (no cache), and the first GNN
run is timed separately because it pays for importing torch.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("INSTALLATION_THREADS", "1")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from installation.collection import scan_collection  # noqa: E402
from installation.ordering.features import compute_features  # noqa: E402
from installation.ordering.layout import dpq, flas_layout, las_layout  # noqa: E402
from installation.ordering.path import pairwise_distances  # noqa: E402
from installation.ordering.pipeline import order_features, order_metrics  # noqa: E402


def collection_images(folder: str | None, per_style: int) -> tuple[list[Path], str]:
    demo = REPO / "assets" / "collections" / "demo"
    if folder or demo.is_dir():
        root = Path(folder) if folder else demo
        return scan_collection(root).images, str(root)
    root = REPO.parent / "shared" / "data" / "paintings"
    images = []
    for style in sorted(p for p in root.iterdir() if p.is_dir()):
        images += sorted(p for p in style.iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png"})[:per_style]
    return images, f"{root} ({per_style} per style)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--collection", default=None)
    parser.add_argument("--per-style", type=int, default=28)
    parser.add_argument("--out", default=str(REPO / "bench" / "results" / "ordering.json"))
    args = parser.parse_args()
    cv2.setNumThreads(1)
    images, source = collection_images(args.collection, args.per_style)
    n = len(images)
    with tempfile.TemporaryDirectory() as cache:
        os.environ["INSTALLATION_CACHE"] = cache
        t0 = time.perf_counter()
        features = compute_features(images, use_cache=False)
        t_features = time.perf_counter() - t0
    x = features.matrix.astype(np.float64)
    rows = cols = int(np.ceil(np.sqrt(n)))
    results = []

    t0 = time.perf_counter()
    import torch  # noqa: F401  (timed: the first GNN run pays for it)

    torch.set_num_threads(1)
    t_torch = time.perf_counter() - t0
    for method, layout in [("random", "sequence"), ("tsp", "sequence"), ("tsp", "similarity"),
                           ("gnn", "sequence"), ("gnn", "similarity")]:
        t0 = time.perf_counter()
        out = order_features(x, method, layout, rows, cols, metrics=False)
        seconds = time.perf_counter() - t0
        own = pairwise_distances(x)  # ratio on the method's own distances, recomputed below for gnn
        if method == "gnn":
            from installation.ordering.gnn import GnnConfig, gnn_space

            own = pairwise_distances(gnn_space(x, GnnConfig()))
        m = order_metrics(x, out["order"], out["cell_of"], cols, own)
        results.append({"method": method, "layout": layout, "solver": out["solver"], "seconds": seconds, **m})
    for name, fn in [("LAS (raw features)", las_layout), ("FLAS reference (raw features)", flas_layout)]:
        t0 = time.perf_counter()
        cell_of = fn(x, rows, cols, seed=0)
        seconds = time.perf_counter() - t0
        results.append({"method": name, "layout": "grid only", "solver": "-", "seconds": seconds,
                        "dpq16": dpq(x, cell_of, cols, 16), "dpq2": dpq(x, cell_of, cols, 2)})

    print(f"{n} paintings from {source}; features {x.shape[1]}-d, cold {t_features:.2f} s; "
          f"torch import {t_torch:.2f} s; grid {rows}x{cols}")
    header = (f"{'method':<30} {'layout':<11} {'ratio':>7} {'smooth':>7} {'max step':>8} {'DPQ16':>6} {'DPQ2':>6} "
              f"{'s':>6}")
    print(header)
    print("-" * len(header))
    for r in results:
        def f(key: str, fmt: str, r: dict = r) -> str:
            return format(r[key], fmt) if key in r else "-"

        print(f"{r['method']:<30} {r['layout']:<11} {f('path_ratio', '.4f'):>7} {f('smoothness', '.3f'):>7} "
              f"{f('max_step', '.3f'):>8} {f('dpq16', '.3f'):>6} {f('dpq2', '.3f'):>6} {r['seconds']:>6.2f}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "collection": source, "count": n, "feature_dim": int(x.shape[1]), "features_seconds_cold": t_features,
        "torch_import_seconds": t_torch, "grid": [rows, cols], "machine": platform.platform(),
        "processor": platform.processor(), "threads": 1, "results": results}, indent=1) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
