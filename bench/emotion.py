"""The emotion mirror's latency: per stage and end to end (frame capture -> the new painting's first frame).

    python bench/emotion.py [--threads 1] [--repeats 20] [--candidates 4] [--seconds 20] [--out FILE.json]

Stages, median and p95 milliseconds: detect (Haar on a 640x480 camera frame, downscaled to 320), classify
(one face crop, ONNX Runtime; PyTorch eager beside it where the emotion model's source exists), generate
(K candidates), select (the encoder rating the K), upscale (the kept one; all K for ``select_on:
upscaled``), upload (the painting into a 1x1 grid on
headless GL, baked with the post chain, and drawn). End to end: the real scene with its real threads on
a video of a face (scikit-image's astronaut), ``interval`` at its 1 s minimum so it repaints often: seconds from a
frame's capture to the first drawn frame of the painting ordered from it. Uses the bundled pack when the
generator is there, else a tiny exported pack (said in the output). Writes JSON.
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

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from timing import measure, stats  # noqa: E402  (bench/ is on sys.path when run as a script)

from installation.pack import pack_path  # noqa: E402


def model_folder(tmp: Path) -> tuple[Path, str]:
    if pack_path("generator").is_file():
        return pack_path("emotion").parent, "bundled pack"
    from exporters.synthetic import tiny_pack

    return tiny_pack(tmp / "pack"), "tiny random-weight pack (assets/models/sagan.onnx absent)"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--candidates", type=int, default=4)
    p.add_argument("--seconds", type=float, default=20.0, help="wall seconds of the end-to-end run")
    p.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "emotion.json")
    args = p.parse_args()
    os.environ["INSTALLATION_THREADS"] = str(args.threads)
    cv2.setNumThreads(args.threads)

    from exporters.synthetic import face_frames, write_video
    from installation.capture.faces import FaceDetector
    from installation.emotion import DEFAULT_MAPPING, blend, mapping_matrix
    from installation.inference.generator import to_uint8
    from installation.render import GridCompositor, PostSettings, create_context
    from installation.scenes import SceneEnv
    from installation.scenes.emotion_mirror import EmotionMirrorScene, MirrorModels
    from installation.show import load_show_text

    tmp = Path(tempfile.mkdtemp(prefix="bench-emotion-"))
    folder, which = model_folder(tmp)
    models = MirrorModels(folder, upscale=True, threads=args.threads)
    gen, up, enc, emo = models.generator, models.upscaler, models.encoder, models.emotion
    frames, _ = face_frames(40, size=(640, 480), absent=())
    frame = frames[3]
    detector = FaceDetector(max_side=320)
    box = detector.detect(frame)[0]
    crop = emo.crop(frame, box)
    labels = emo.labels
    mix = blend({"happy": 1.0}, mapping_matrix(DEFAULT_MAPPING, labels, gen.classes), labels)
    k = args.candidates
    z = gen.latents(k, 0)
    raw = gen.generate(z, mix)
    rgb = list(to_uint8(raw))  # the scene rates the generator's images, then upscales the kept one
    shown = to_uint8(up.upscale(raw[:1]))[0] if up else rgb[0]

    results: dict[str, dict] = {}
    results["detect"] = measure(lambda: detector.detect(frame), args.repeats)
    results["classify"] = measure(lambda: emo.predict([crop]), args.repeats)
    results["generate"] = measure(lambda: gen.generate(z, mix), args.repeats)
    if up:
        results["upscale"] = measure(lambda: up.upscale(raw[:1]), max(5, args.repeats // 2))
        results["upscale_all_k"] = measure(lambda: [up.upscale(raw[i : i + 1]) for i in range(k)],
                                         max(3, args.repeats // 4))  # select_on: upscaled
    if enc:
        results["select"] = measure(lambda: enc.encode(rgb).probs @ mix, max(3, args.repeats // 4))

    try:  # PyTorch eager on the same crop, where the emotion model's source exists
        import torch

        from exporters.verify import reference_module

        torch.set_num_threads(args.threads)
        module, origin = reference_module(emo.metadata)
        if module is not None:
            x = torch.from_numpy(crop.astype(np.float32)[None, None] / 255.0)
            with torch.no_grad():
                results["classify_pytorch"] = measure(lambda: module(x), args.repeats)
            results["classify_pytorch"]["source"] = origin
    except Exception as exc:  # torch is optional here
        print(f"note: no PyTorch comparison ({exc})", file=sys.stderr)

    size = (1280, 720)
    rc = create_context("headless", size)
    grid = GridCompositor(rc.ctx, size, 1, 1, fit="contain", cell_aspect=None, post=PostSettings())
    n = [0]

    def upload() -> None:
        n[0] += 1
        grid.set_image(0, shown, transition="cut", start_time=float(n[0]))
        grid.flush_uploads(float(n[0]))
        grid.draw(float(n[0]), rc.fbo)
        rc.ctx.finish()

    results["upload"] = measure(upload, max(5, args.repeats // 2))
    grid.release()

    # end to end: the real scene, real capture + analysis + paint threads, a video of a face
    video = write_video(tmp / "visitor.avi", face_frames(60, size=(640, 480), absent=())[0], fps=15.0)
    text = (f"version: 1\ncues:\n  - scene:\n      type: emotion_mirror\n      camera: {video}\n"
            f"      models: {folder}\n      interval: 1\n      min_interval: 0\n      candidates: {k}\n"
            "      transition: cut\n    follow: hold\n")
    params = load_show_text(text, "bench.yaml").cues[0].scene
    scene = EmotionMirrorScene(SceneEnv(rc.ctx, size), params, models=models)
    start = last = time.monotonic()
    render_frames = 0
    while last - start < args.seconds:  # show time follows the wall clock, as in a live show
        time.sleep(1 / 120)
        now = time.monotonic()
        dt, last = now - last, now
        rc.begin_frame()
        scene.on_frame(now - start, dt)
        scene.render(rc.fbo)
        rc.ctx.finish()
        rc.end_frame()
        render_frames += 1
    paintings, analysed = scene.paintings, scene.analyzer.frames
    e2e = [s * 1e3 for s in scene.latency]
    capture_fps = scene.analyzer.capture.stats.fps
    scene.release()
    rc.close()
    if e2e:
        results["end_to_end"] = stats(e2e)

    print(f"emotion mirror latency ({which}; {args.threads} thread(s); K={k} candidates; "
          f"generator {gen.resolution} px x{up.scale if up else 1})")
    print(f"{'stage':<18}{'median ms':>11}{'p95 ms':>10}{'n':>5}")
    for name, r in results.items():
        print(f"{name:<18}{r['median_ms']:>11.2f}{r['p95_ms']:>10.2f}{r['n']:>5}")
    wall = args.seconds
    print(f"capture fps (paced video): {capture_fps:.1f}; analysed {analysed / wall:.1f} frames/s; "
          f"rendered {render_frames / wall:.1f} frames/s; {paintings} paintings in {wall:.0f} s")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "models": which, "threads": args.threads, "candidates": k, "generator_resolution": gen.resolution,
        "upscale": up.scale if up else 1, "frame": [640, 480], "display": list(size), "stages": results,
        "capture_fps": capture_fps, "analysed_fps": analysed / args.seconds,
        "render_fps": render_frames / args.seconds, "paintings": paintings, "seconds": args.seconds,
        "machine": platform.platform(), "cpu_count": os.cpu_count(),
    }, indent=2))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
