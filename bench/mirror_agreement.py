"""The emotion mirror's per-frame reading against its own model on a well-aligned crop of the same face.

    python bench/mirror_agreement.py [--model FILE.onnx] [--portraits DIR] [--limit N] [--frames 20] [--out FILE.json]

Camera-like videos (640x480 MJPG .avi, 10 fps) are made from the real face photographs of
``../shared/data/faces/portraits`` (exporters/synthetic.py ``portrait_video``: each photo soft-edged on a
room-like background at a seeded size of 90..260 px and place, drifting, with noise, blur and JPEG). For every
frame the mirror's raw reading (Haar on the frame scaled to ``detect_size``, main-face tracking, crop, model;
installation/emotion/pipeline.py) is compared with the model on the reference crop (the Haar box of the
pristine photo carried into the frame, cut with the geometry FER-2013 faces have). Agreement = same argmax;
a frame with no face found counts as a disagreement. Variants isolate what costs agreement: the crop's margin
(fixed pixels vs in proportion to the face), its scale, the resize interpolation, histogram equalisation,
and the detector's working size (box quantisation). Portraits alternate between a "tune" and a "held-out" half
so that the chosen geometry is not judged on the faces it was picked on. Also prints the model's accuracy on
the crisp photographs against the portraits' own labels (real photographs: out of FER-2013's domain). Writes
JSON.
"""

from __future__ import annotations

import argparse
import csv
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

from installation.pack import pack_path  # noqa: E402

DEFAULT_PORTRAITS = Path(os.environ.get("INSTALLATION_SHARED_DATA", REPO.parent / "shared" / "data")) / "faces" / \
    "portraits"


def variants() -> dict:
    from installation.emotion.agreement import Variant
    from installation.inference.emotion import FER_CROP, MODEL_CROP, FaceCrop

    out = {
        "before: fer crop (box + 10 px), detect 320": Variant(320, FER_CROP),
        "plain Haar at full res + fer crop": Variant(640, FER_CROP),
        "fer crop, area resize": Variant(320, FaceCrop(1.0, 10, False, "area")),
    }
    for scale in (0.9, 1.0, 1.1, 1.2):
        out[f"box x {scale:g}, area"] = Variant(320, FaceCrop(scale, 0, True, "area"))
    out["box x 1.03, bilinear"] = Variant(320, FaceCrop(1.03, 0, True, "linear"))
    out["box x 1.03, area, equalised"] = Variant(320, FaceCrop(1.03, 0, True, "area", equalize=True))
    out["box x 1.03, area, detect 640"] = Variant(640, FaceCrop(1.03, 0, True, "area"))
    out["box x 1.03, area, box smoothing 0.5"] = Variant(320, FaceCrop(1.03, 0, True, "area"), 0.5)
    out["after: MODEL_CROP (box x 1.03, area), detect 320"] = Variant(320, MODEL_CROP)
    return out


def references(args: argparse.Namespace) -> dict[str, float]:
    from installation.emotion.agreement import REFERENCE_SCALE

    if args.reference_scale is None:
        args.reference_scale = REFERENCE_SCALE
    return {"model": args.reference_scale, "tight": 1.03}


def make_clips(portraits: Path, folder: Path, limit: int | None, frames: int) -> list:
    from exporters.synthetic import portrait_video
    from installation.emotion.agreement import Clip, photo_face

    with open(portraits / "labels.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))[:limit]
    clips = []
    for i, row in enumerate(rows):
        photo = cv2.imread(str(portraits / row["filename"]))
        face = photo_face(photo) if photo is not None else None
        if face is None:  # no face on the photo itself: no reference
            continue
        path, placements = portrait_video(folder / f"{i:03d}.avi", photo, count=frames, seed=i)
        clips.append(Clip(path, placements, face, f"{i:03d} {Path(row['filename']).stem} {row['label']}"))
    return clips


def label_accuracy(portraits: Path, model: Path, scale: float, threads: int) -> dict:
    """The model on each crisp photograph's reference crop against the portrait's human label (an
    out-of-domain accuracy: real photographs, not FER-2013): overall and per label."""
    from installation.emotion.agreement import photo_face
    from installation.inference.emotion import EmotionClassifier, FaceCrop, canonical_label

    classifier = EmotionClassifier(model, threads=threads, crop=FaceCrop(scale, 0, True, "area"))
    with open(portraits / "labels.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    hits: dict[str, list[bool]] = {}
    for row in rows:
        photo = cv2.imread(str(portraits / row["filename"]))
        face = photo_face(photo) if photo is not None else None
        label = canonical_label(row["label"])
        if face is None or label not in classifier.labels:
            continue
        probs = classifier.predict([classifier.crop(photo, face)])[0]
        hits.setdefault(label, []).append(classifier.labels[int(probs.argmax())] == label)
    every = [h for hs in hits.values() for h in hs]
    return {"accuracy": float(np.mean(every)) if every else float("nan"), "faces": len(every),
            "per_label": {k: float(np.mean(v)) for k, v in sorted(hits.items())}}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--portraits", type=Path, default=DEFAULT_PORTRAITS)
    p.add_argument("--limit", type=int, default=None, help="first N portraits only")
    p.add_argument("--frames", type=int, default=20, help="frames per video")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--reference-scale", type=float, default=None,
                   help="reference crop = this x the crisp photo's Haar box (default: agreement.REFERENCE_SCALE)")
    p.add_argument("--model", type=Path, default=None, help="emotion ONNX file (default: the pack's)")
    p.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "mirror_agreement.json")
    args = p.parse_args()
    if not (args.portraits / "labels.csv").is_file():
        print(f"no portraits at {args.portraits} (labels.csv); nothing measured")
        return 1
    cv2.setNumThreads(args.threads)
    model = args.model or pack_path("emotion")
    from installation.emotion.agreement import measure

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        clips = make_clips(args.portraits, Path(tmp), args.limit, args.frames)
        halves = {"tune": clips[0::2], "held-out": clips[1::2]}
        ratios: list[float] = []
        results = {(half, ref): measure(cs, model, variants(), threads=args.threads,
                                        reference_scale=scale, box_ratios=ratios if ref == "model" else None)
                   for half, cs in halves.items() for ref, scale in references(args).items()}
        labelled = label_accuracy(args.portraits, model, args.reference_scale, args.threads)
    seconds = time.perf_counter() - t0
    names = list(variants())
    print(f"model: {model}; on the crisp photographs' reference crops against the portraits' own labels: "
          f"{labelled['accuracy']:.1%} of {labelled['faces']} faces ("
          + ", ".join(f"{k} {v:.0%}" for k, v in labelled["per_label"].items()) + ")")
    print(f"mirror agreement with the model on the reference crop: {len(clips)} videos x {args.frames} frames "
          f"(640x480 MJPG), {seconds:.0f} s; Haar box on the frames / on the crisp photo: median "
          f"{np.median(ratios):.3f} (p25 {np.percentile(ratios, 25):.3f}, p75 {np.percentile(ratios, 75):.3f})")
    print(f"reference crop: 'model' = {args.reference_scale:g} x the photo's box (FER-2013's geometry), "
          "'tight' = 1.03 x it")
    print(f"{'variant':<50} {'model: tune':>11} {'held-out':>9} {'tight: tune':>12} {'held-out':>9} {'found':>6}")
    for name in names:
        cells = [results[(half, ref)][name].agreement for ref in ("model", "tight") for half in ("tune", "held-out")]
        found = results[("held-out", "model")][name]
        print(f"{name:<50} {cells[0]:>11.1%} {cells[1]:>9.1%} {cells[2]:>12.1%} {cells[3]:>9.1%} "
              f"{found.found / max(1, found.frames):>6.1%}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "machine": platform.platform(), "model": str(model), "label_accuracy": labelled,
        "videos": len(clips), "frames_per_video": args.frames,
        "portraits": str(args.portraits), "seconds": seconds, "references": references(args),
        "box_ratio": {"median": float(np.median(ratios)), "p25": float(np.percentile(ratios, 25)),
                      "p75": float(np.percentile(ratios, 75))},
        "results": {f"{ref}/{half}": {name: t.to_json() for name, t in r.items()}
                    for (half, ref), r in results.items()},
    }, indent=2))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
