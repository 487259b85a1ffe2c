"""ONNX Runtime vs PyTorch eager latency for every model of the pack.

    python bench/models.py [--threads 1] [--repeats 20] [--out bench/results/models.json]

Rebuilds each file's PyTorch source (as `python -m exporters verify` does), feeds both the same inputs at
batch 1 and at the batch the runtime uses, and prints median and p95 milliseconds. Writes JSON.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import torch  # noqa: E402
from timing import measure  # noqa: E402  (bench/ is on sys.path when run as a script)

from exporters.verify import EXPORTER_OF_KIND, reference_module  # noqa: E402
from installation.inference.session import create_session, describe_session  # noqa: E402
from installation.pack import PACK_FILES, pack_path  # noqa: E402

# What each model is asked for in a show: a 64 px generator batch of candidates, one face, one painting...
BATCHES = {"generator": (1, 8), "upscaler": (1, 4), "encoder": (1, 16), "emotion": (1, 4)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "models.json")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    for kind in PACK_FILES:
        path = pack_path(kind)
        if not path.is_file():
            print(f"skip {kind}: {path} missing")
            continue
        if kind not in BATCHES:
            print(f"skip {kind}: not a PyTorch export (bench/stylizer.py measures the stylizer)")
            continue
        session = create_session(path, threads=args.threads)
        meta = describe_session(session)["metadata"]
        exporter = importlib.import_module(EXPORTER_OF_KIND[kind])
        module, _ = reference_module(meta)
        names_in = [i.name for i in session.get_inputs()]
        for batch in BATCHES[kind]:
            inputs = exporter.random_inputs(meta, batch)
            if kind == "upscaler":  # what the runtime upscales: the generator's 64 px paintings
                inputs = (torch.rand(batch, 3, 64, 64),)
            feed = {n: t.numpy() for n, t in zip(names_in, inputs)}
            ort = measure(lambda s=session, f=feed: s.run(None, f), args.repeats)
            row = {"model": path.name, "kind": kind, "batch": batch, "input": [list(t.shape) for t in inputs],
                   "ort_median_ms": ort["median_ms"], "ort_p95_ms": ort["p95_ms"]}
            if module is not None:
                with torch.no_grad():
                    eager = measure(lambda m=module, x=inputs: m(*x), args.repeats)
                row["torch_median_ms"], row["torch_p95_ms"] = eager["median_ms"], eager["p95_ms"]
            rows.append(row)

    print(f"\n{'model':16s} {'batch':>5s} {'input':>22s} {'ORT med':>9s} {'ORT p95':>9s} {'torch med':>10s} "
          f"{'torch p95':>10s} {'speed-up':>8s}")
    for r in rows:
        t_med = r.get("torch_median_ms", float("nan"))
        print(f"{r['model']:16s} {r['batch']:5d} {'x'.join(map(str, r['input'][0])):>22s} {r['ort_median_ms']:9.2f} "
              f"{r['ort_p95_ms']:9.2f} {t_med:10.2f} {r.get('torch_p95_ms', float('nan')):10.2f} "
              f"{t_med / r['ort_median_ms']:7.2f}x")
    machine = {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
               "cpus": os.cpu_count(), "threads": args.threads, "torch": torch.__version__,
               "onnxruntime": __import__("onnxruntime").__version__}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": machine, "rows": rows}, indent=2))
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
