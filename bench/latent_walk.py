"""The latent walk's generation rate: keyframes per second the worker renders (generator batch, then the
upscaler batch), by batch size, with and without upscaling; and the display side: the render loop's frame
time on headless GL while the worker renders (blend of two keyframes at display rate).

    python bench/latent_walk.py [--threads 1] [--repeats 5] [--batches 1,4,8] [--out FILE.json]

A walk needs 1 / blend_seconds keyframes per second of show time (2 at the default 0.5 s): the "headroom"
column is the rate over that need. Uses the bundled pack (assets/models). Writes JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
from timing import measure, stats  # noqa: E402  (bench/ is on sys.path when run as a script)

from installation.pack import pack_path  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--batches", default="1,4,8")
    p.add_argument("--blend", type=float, default=0.5, help="blend_seconds the headroom is computed for")
    p.add_argument("--display-seconds", type=float, default=5.0, help="wall seconds of the render-loop run")
    p.add_argument("--size", default="1280x720")
    p.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "latent_walk.json")
    args = p.parse_args()
    os.environ["INSTALLATION_THREADS"] = str(args.threads)

    from installation.inference.generator import Generator, Upscaler
    from installation.scenes.latent_walk import LatentWalkParams
    from installation.scenes.latent_walk.scene import make_plan
    from installation.scenes.latent_walk.worker import KeyframeWorker

    generator = Generator(pack_path("generator"), threads=args.threads)
    upscaler = Upscaler(pack_path("upscaler"), threads=args.threads)
    need = 1.0 / args.blend
    rows = []
    for upscale in (False, True):
        for batch in [int(b) for b in args.batches.split(",")]:
            params = LatentWalkParams.model_validate({"type": "latent_walk", "batch": batch,
                                                      "blend_seconds": args.blend})
            worker = KeyframeWorker(make_plan(params, generator), generator, upscaler if upscale else None, batch)
            worker.stop()  # the thread is not needed: time render_block itself
            block = iter(range(10_000))
            m = measure(lambda worker=worker, block=block: worker.render_block(next(block)), args.repeats)
            rate = batch / (m["median_ms"] / 1e3)
            rows.append({"upscale": upscale, "batch": batch, "out_px": generator.resolution * (upscaler.scale if upscale
                                                                                                else 1),
                         "median_ms": m["median_ms"], "p95_ms": m["p95_ms"], "keyframes_per_s": rate,
                         "headroom": rate / need})
    display = display_run(args, generator, upscaler)
    print(f"latent walk generation (ORT {generator.providers[0]}, {args.threads} thread(s)); need {need:g} "
          f"keyframes/s at blend_seconds {args.blend:g}")
    print(f"{'upscale':>8} {'batch':>5} {'px':>5} {'median ms':>10} {'p95 ms':>8} {'keyframes/s':>12} {'headroom':>9}")
    for r in rows:
        print(f"{'yes' if r['upscale'] else 'no':>8} {r['batch']:>5} {r['out_px']:>5} {r['median_ms']:>10.1f} "
              f"{r['p95_ms']:>8.1f} {r['keyframes_per_s']:>12.1f} {r['headroom']:>8.1f}x")
    if display:
        print(f"render loop at {args.size} with the worker running: frame median {display['median_ms']:.2f} ms, "
              f"p95 {display['p95_ms']:.2f} ms, max {display['max_ms']:.2f} ms; {display['holds']} held frame(s) "
              f"of {display['frames']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": platform.platform(), "processor": platform.processor(),
                                    "threads": args.threads, "providers": generator.providers, "rows": rows,
                                    "display": display}, indent=2))
    print(f"wrote {args.out}")
    return 0


def display_run(args: argparse.Namespace, generator, upscaler) -> dict | None:
    """The scene live (show time = wall time) on headless GL: frame times while keyframes are rendered."""
    from installation.render import ContextUnavailable, create_context
    from installation.scenes import SceneEnv
    from installation.scenes.latent_walk import LatentWalkParams, LatentWalkScene

    w, h = (int(v) for v in args.size.lower().split("x"))
    try:
        rc = create_context("headless", (w, h))
    except ContextUnavailable as exc:
        print(f"(no headless GL here: {exc}; render loop not measured)")
        return None
    params = LatentWalkParams.model_validate({"type": "latent_walk", "blend_seconds": args.blend})
    scene = LatentWalkScene(SceneEnv(rc.ctx, rc.size), params, models=(generator, upscaler))
    samples = []
    start = time.perf_counter()
    while time.perf_counter() - start < args.display_seconds:
        t0 = time.perf_counter()
        rc.begin_frame()
        scene.on_frame(t0 - start, 1 / 60)
        scene.render(rc.fbo)
        rc.ctx.finish()
        rc.end_frame()
        samples.append((time.perf_counter() - t0) * 1e3)
    scene.release()
    rc.close()
    out = stats(samples[5:] or samples)
    out.update({"max_ms": float(np.max(samples)), "frames": len(samples), "holds": scene.holds})
    return out


if __name__ == "__main__":
    raise SystemExit(main())
