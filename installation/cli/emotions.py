"""``installation emotions SOURCE``: per frame, the faces and emotions the mirror sees (a diagnostic)."""

from __future__ import annotations

import argparse

from installation import exit_codes
from installation.cli.args import MAX_FRAMES, ArgTypes, UserError, bounded, positive
from installation.cli.common import error


def add_parsers(sub: argparse._SubParsersAction, common: argparse.ArgumentParser, types: ArgTypes) -> None:
    emotions = sub.add_parser("emotions", parents=[common],
                              help="per frame: face boxes and emotion probabilities (raw, smoothed)")
    emotions.add_argument("source", metavar="SOURCE", help="camera index, video file, stream URL or image folder")
    emotions.add_argument("--json", action="store_true", help="one JSON object per line and per frame")
    emotions.add_argument("--frames", type=bounded(int, 1, MAX_FRAMES), default=None,
                          help="stop after N frames (default: the whole source)")
    emotions.add_argument("--face", choices=["largest", "central", "aggregate"], default="largest",
                          help="which face is the main one (aggregate: all, averaged)")
    emotions.add_argument("--half-life", type=bounded(float, 0, 3600, " seconds"), default=1.0,
                          help="smoothing half-life in seconds (default 1)")
    emotions.add_argument("--fps", type=types.fps, default=10.0, help="frame rate of an image folder (default 10)")
    emotions.add_argument("--models", default=None, help="model folder (default: the bundled pack)")
    emotions.set_defaults(handler=run_emotions)


def run_emotions(args: argparse.Namespace) -> int:
    """Reads every frame; bad sources or models: one line, exit 2."""
    from installation.capture import SourceError, open_source
    from installation.capture.faces import FaceTracker
    from installation.emotion.diagnose import run
    from installation.emotion.pipeline import EmotionPipeline
    from installation.inference.contract import ModelContractError
    from installation.inference.emotion import EmotionClassifier
    from installation.pack import pack_path

    try:
        if args.frames is not None and args.frames <= 0:
            raise UserError("--frames must be > 0")
        positive("--half-life", args.half_life, allow_zero=True)
        positive("--fps", args.fps)
        import cv2

        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)  # "can't open camera" is our one line
        classifier = EmotionClassifier(pack_path("emotion", args.models))
        pipeline = EmotionPipeline(classifier, tracker=FaceTracker(args.face), half_life=args.half_life)
        source = open_source(args.source, fps=args.fps)
        run(source, pipeline, as_json=args.json, frames=args.frames)
    except (UserError, ModelContractError, SourceError, OSError) as exc:
        error(exc)
        return exit_codes.USAGE
    return exit_codes.OK
