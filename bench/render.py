"""Grid compositor frame times, offscreen (EGL): full redraw versus incremental, at 1080p and 4K.

    python bench/render.py [--frames 60] [--sizes 1920x1080,3840x2160] [--grid 14x14] [--out bench/results/render.json]

Each size fills a rows x cols grid, then times ``--frames`` frames twice: every cell redrawn each frame
(``full_redraw``), and incremental with one cell transitioning (the Gradual Change steady state). A frame
is ``draw`` + blit to the target + ``glFinish``, so the GPU's work is inside the time. Also times baking
one image into a layer with and without the Kuwahara + grade post chain. Prints a table, writes JSON.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from installation.render import (  # noqa: E402
    FrameStats,
    GradeSettings,
    GridCompositor,
    KuwaharaSettings,
    PostSettings,
    Transition,
    create_context,
)


def paintings(count: int, size: int = 256, seed: int = 0) -> list[np.ndarray]:
    """Smooth colour fields with some texture: stand-ins for the generated paintings."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    images = []
    for _ in range(count):
        phase = rng.uniform(0, 6.3, 3)
        freq = rng.uniform(1, 5, 3)
        channels = [0.5 + 0.5 * np.sin(freq[c] * (xx + yy * (c + 1)) * 3.1 + phase[c]) for c in range(3)]
        image = np.stack(channels, -1) * 200 + rng.normal(0, 8, (size, size, 3))
        images.append(np.clip(image, 0, 255).astype(np.uint8))
    return images


def time_frames(rc, grid: GridCompositor, times: list[float]) -> tuple[FrameStats, float]:
    stats = FrameStats(target_fps=60.0, window=len(times))
    cells = 0
    for t in times:
        start = time.perf_counter()
        rc.begin_frame()
        cells += grid.draw(t, rc.fbo)
        rc.end_frame()
        rc.ctx.finish()
        stats.add(time.perf_counter() - start)
    return stats, cells / len(times)


def bench_size(size: tuple[int, int], rows: int, cols: int, frames: int, images: list[np.ndarray]) -> dict:
    rc = create_context("headless", size)
    try:
        grid = GridCompositor(rc.ctx, rc.size, rows, cols)
        n = rows * cols
        for cell in range(n):
            grid.set_image(cell, images[cell % len(images)], transition="cut", start_time=0.0)
        grid.flush_uploads()
        rc.begin_frame()
        grid.draw(0.0, rc.fbo)
        rc.ctx.finish()
        dt = 1.0 / 60.0
        # One cell always mid-transition: a new image every second, each crossfading for one second.
        cell = n // 2
        seconds = frames * dt + 2.0
        for k in range(int(seconds) + 1):
            grid.set_image(cell, images[k % len(images)], transition=Transition(seconds=1.0, easing="linear"),
                           start_time=1.0 + k)
        grid.flush_uploads()
        times = [1.0 + (i + 0.5) * dt for i in range(frames)]
        grid.full_redraw = True
        full, full_cells = time_frames(rc, grid, times)
        grid.full_redraw = False
        grid.invalidate()
        grid.draw(times[-1], rc.fbo)  # bring the framebuffer up to date before the incremental run
        incremental, inc_cells = time_frames(rc, grid, [t + frames * dt for t in times])
        layer = grid.layer_size
        grid.release()

        bake = {}
        for label, post in (
            ("none", None),
            ("kuwahara+grade", PostSettings(KuwaharaSettings(radius=4), GradeSettings(saturation=1.1, exposure=0.2))),
        ):
            g = GridCompositor(rc.ctx, rc.size, rows, cols, post=post)
            g.set_image(n - 1, images[0], transition="cut", start_time=0.0)  # warm-up: compiles the passes
            g.draw(0.0)
            rc.ctx.finish()
            count = 8
            start = time.perf_counter()
            for i in range(count):
                g.set_image(i, images[i % len(images)], transition="cut", start_time=0.0)
            g.flush_uploads()
            rc.ctx.finish()
            bake[label] = (time.perf_counter() - start) / count * 1e3
            g.release()
        return {
            "size": list(size),
            "grid": [rows, cols],
            "layer_size": list(layer),
            "frames": frames,
            "renderer": rc.info["GL_RENDERER"],
            "full": {**full.snapshot().__dict__, "cells_per_frame": full_cells},
            "incremental": {**incremental.snapshot().__dict__, "cells_per_frame": inc_cells},
            "bake_ms_per_image": bake,
        }
    finally:
        rc.close()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--frames", type=int, default=60)
    p.add_argument("--sizes", default="1920x1080,3840x2160")
    p.add_argument("--grid", default="14x14")
    p.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "render.json")
    args = p.parse_args()
    rows, cols = (int(v) for v in args.grid.lower().split("x"))
    sizes = [tuple(int(v) for v in s.lower().split("x")) for s in args.sizes.split(",")]
    images = paintings(16)
    results = [bench_size(size, rows, cols, args.frames, images) for size in sizes]

    print(f"renderer: {results[0]['renderer']}   grid {rows}x{cols}, {args.frames} frames per row")
    header = f"{'size':>10} {'mode':>12} {'cells/frame':>11} {'fps':>8} {'p50 ms':>8} {'p99 ms':>8} {'dropped@60':>10}"
    print(header)
    print("-" * len(header))
    for r in results:
        size = "x".join(map(str, r["size"]))
        for mode in ("full", "incremental"):
            s = r[mode]
            print(
                f"{size:>10} {mode:>12} {s['cells_per_frame']:>11.1f} {s['fps']:>8.1f} {s['p50_ms']:>8.2f} "
                f"{s['p99_ms']:>8.2f} {s['dropped']:>10d}"
            )
    for r in results:
        size = "x".join(map(str, r["size"]))
        bake = ", ".join(f"{k} {v:.1f} ms" for k, v in r["bake_ms_per_image"].items())
        print(f"bake one image into a {r['layer_size'][0]}x{r['layer_size'][1]} layer at {size}: {bake}")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    payload = {"python": platform.python_version(), "machine": platform.machine(), "results": results}
    args.out.write_text(json.dumps(payload, indent=2))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
