"""``installation emotions SOURCE``: per frame, the face boxes and the emotion probabilities (raw, smoothed).

Files and image folders are read sequentially, every frame (no dropping), ``t`` from the source's
timestamps/fps; cameras and streams are read live, ``t`` from a monotonic clock since the first frame.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from typing import TextIO

from installation.capture import FrameSource, SourceError
from installation.emotion.pipeline import EmotionPipeline, Reading


def readings(source: FrameSource, pipeline: EmotionPipeline, frames: int | None = None) -> Iterator[Reading]:
    """Every frame of an opened ``source`` through the pipeline (at most ``frames``)."""
    start = None
    count = 0
    while frames is None or count < frames:
        frame = source.read()
        if frame is None:
            return
        if frame.t is None:
            now = time.monotonic()
            start = now if start is None else start
            t = now - start
        else:
            t = frame.t
        yield pipeline.process(frame.image, t)
        count += 1


def reading_json(index: int, reading: Reading) -> dict:
    def rounded(probs: dict[str, float] | None) -> dict[str, float] | None:
        return None if probs is None else {k: round(v, 6) for k, v in probs.items()}

    return {"frame": index, "t": round(reading.t, 6), "faces": [
        {"box": [int(v) for v in f.box], "main": f.main, "probs": rounded(f.probs),
         "smoothed": rounded(reading.smoothed) if f.main else None} for f in reading.faces]}


def reading_text(index: int, reading: Reading) -> str:
    if not reading.faces:
        return f"frame {index:5d} t={reading.t:8.3f}s  no face"
    parts = []
    for f in reading.faces:
        top = max(f.probs, key=f.probs.__getitem__)
        line = f"{'*' if f.main else ' '}[{f.box[0]},{f.box[1]},{f.box[2]},{f.box[3]}] {top} {f.probs[top]:.2f}"
        if f.main and reading.smoothed:
            s = max(reading.smoothed, key=reading.smoothed.__getitem__)
            line += f" (smoothed {s} {reading.smoothed[s]:.2f})"
        parts.append(line)
    return f"frame {index:5d} t={reading.t:8.3f}s  " + "  ".join(parts)


def run(source: FrameSource, pipeline: EmotionPipeline, *, as_json: bool, frames: int | None,
        out: TextIO | None = None) -> int:
    """Print every reading; returns the number of frames. Raises :class:`SourceError` when it cannot open."""
    out = out or sys.stdout
    source.open()
    n = 0
    try:
        for n, reading in enumerate(readings(source, pipeline, frames), start=1):
            text = json.dumps(reading_json(n - 1, reading)) if as_json else reading_text(n - 1, reading)
            print(text, file=out, flush=True)
    except SourceError as exc:
        print(f"error: {exc}", file=sys.stderr)
    finally:
        source.close()
    return n
