"""Safe mode's holding screen: a minimal renderer that shares nothing with shows, scenes or models.

When the player keeps failing, the supervisor shows this instead: the screen cleared to a calm, almost
black colour, frame after frame, with a heartbeat per presented frame like a player's, so the
supervisor's health checks and ``/status`` work unchanged. It imports the GL context layer and the
player link's heartbeat only: a bug in a scene, the show loader, a model or a media file cannot take it
down too.

    python -m installation.kiosk.holding [--size WxH] [--headless --fps N] [--screen N] [--colour #RRGGBB]
"""

from __future__ import annotations

import argparse
import sys

from installation.config import colour_floats, parse_colour, size_from_text
from installation.pacing import Pacer
from installation.player_link.heartbeat import from_env
from installation.player_link.lifecycle import follow_supervisor

COLOUR = "#0b0d12"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m installation.kiosk.holding", description=__doc__.splitlines()[0])
    p.add_argument("--size", default="1280x720", metavar="WxH", help="offscreen size (a window is full-screen)")
    p.add_argument("--headless", action="store_true", help="offscreen (EGL) at --fps instead of a full-screen window")
    p.add_argument("--fps", type=float, default=30.0)
    p.add_argument("--screen", type=int, default=0)
    p.add_argument("--colour", default=COLOUR)
    args = p.parse_args(argv)
    try:
        w, h = size_from_text(args.size)  # the configuration layer's one size and colour rules
        colour = colour_floats(parse_colour(args.colour))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from installation.render.context import ContextUnavailable, create_context

    follow_supervisor()  # die with the supervisor; its SIGTERM ends the loop below
    beat = from_env()
    try:
        if args.headless:
            rc = create_context("headless", (w, h))
        else:
            rc = create_context("window", (w, h), fullscreen=True, screen=args.screen,
                                title="installation: safe mode", hide_cursor=True)
    except ContextUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    pacer = Pacer(args.fps) if args.headless else None  # a window is paced by vsync
    frames = 0
    try:
        while not rc.should_close:
            rc.begin_frame()
            rc.ctx.clear(*colour)
            rc.end_frame()
            frames += 1
            if beat is not None:
                beat.beat(frames, cue="safe")
            if pacer is not None:
                pacer.wait()
    except KeyboardInterrupt:  # the supervisor's SIGTERM (see installation/player_link/lifecycle.py)
        pass
    finally:
        rc.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
