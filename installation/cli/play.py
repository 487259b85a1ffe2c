"""``installation run``: play a show in a window; offscreen for the kiosk (``--headless``, hidden); with no
display, say so in one line and render the show to a video file instead."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from installation import exit_codes
from installation.cli.args import ArgTypes, UserError, parse_size_arg, positive
from installation.cli.common import default_show, error, load_show_or_report, show_size, size_fits
from installation.cli.wall import add_player_options, broker_config, check_viewport, live_clock, start_link

if TYPE_CHECKING:
    from installation.show import Show

log = logging.getLogger(__name__)


def add_parsers(sub: argparse._SubParsersAction, common: argparse.ArgumentParser, types: ArgTypes) -> None:
    run = sub.add_parser("run", parents=[common],
                         help="play a show (full-screen); with no display, render it to a video file instead")
    run.add_argument("show", nargs="?", default=None, metavar="SHOW",
                     help="show script (default: shows/gradual_change.yaml, the show that needs no camera)")
    run.add_argument("--screen", type=types.screen, default=None,
                     help="monitor index (default: the show's display.screen)")
    run.add_argument("--windowed", action="store_true", help="a window instead of full screen")
    run.add_argument("--size", type=types.size, default=None, metavar="WxH",
                     help="window / render size (default: the show's)")
    run.add_argument("--seconds", type=types.seconds, default=None, help="quit after this many seconds of show time")
    run.add_argument("--out", default=None, help="where the no-display fallback writes (default: renders/SHOW.mp4)")
    run.add_argument("--screenshot", default=None, metavar="FILE.png", help="save the last frame when the show quits")
    # internal (the kiosk supervisor and bench/soak.py start the player this way): hidden from --help
    run.add_argument("--headless", action="store_true", help=argparse.SUPPRESS)  # offscreen (EGL), writes nothing
    run.add_argument("--fps", type=types.fps, default=30.0, help=argparse.SUPPRESS)  # frame rate of --headless
    # resolve the show's relative paths against DIR (the kiosk plays its last good copy of a show this way)
    run.add_argument("--base-dir", default=None, metavar="DIR", help=argparse.SUPPRESS)
    add_player_options(run)  # --viewport, --epoch, --broker ... (installation/cli/wall.py, docs/wall.md)
    run.set_defaults(handler=run_play)


def run_play(args: argparse.Namespace) -> int:
    """A window on the chosen screen; no display -> a video file (see :func:`_fallback`)."""
    from installation.render import ContextUnavailable, create_context, display_available

    try:
        size = parse_size_arg(args.size)
        positive("--seconds", args.seconds)
        if args.screen is not None and args.screen < 0:
            raise UserError(f"--screen {args.screen}: must be >= 0")
    except UserError as exc:
        error(exc)
        return exit_codes.USAGE
    show_path = Path(args.show) if args.show else default_show()
    show = load_show_or_report(show_path, args.base_dir)
    if show is None:
        return exit_codes.USAGE
    view_size = check_viewport(args, show)
    if view_size is None:
        return exit_codes.USAGE
    try:
        if args.broker is not None:
            broker_config(args)
    except ValueError as exc:
        error(exc)
        return exit_codes.USAGE
    if args.viewport is not None:  # scenes draw the wall's canvas (checked at load); the display shows a part
        size = size or view_size
    else:
        size = size or show_size(show)
        if not size_fits(show, size):
            return exit_codes.USAGE
    if args.headless:
        return _run_headless(args, show, size)
    if not display_available():
        return _fallback(args, show_path, show, size, "no display (DISPLAY and WAYLAND_DISPLAY are not set)")
    fullscreen = show.display.fullscreen and not args.windowed
    screen = show.display.screen if args.screen is None else args.screen
    from installation.player_link import HEARTBEAT_ENV as KIOSK_ENV

    # under the kiosk supervisor nobody uses a mouse: hide the cursor even in a window
    try:
        rc = create_context("window", size or (1280, 720), fullscreen=fullscreen, screen=screen,
                            vsync=show.display.vsync, title=show.name or show_path.stem,
                            hide_cursor=True if os.environ.get(KIOSK_ENV) else None)
    except ContextUnavailable as exc:
        return _fallback(args, show_path, show, size, f"no window ({exc})")
    from installation.player import Player

    def save(pixels: Any) -> None:
        import cv2

        if not cv2.imwrite(str(args.screenshot), cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR)):
            print(f"error: cannot write the screenshot {args.screenshot}", file=sys.stderr)

    from installation.player_link import control
    from installation.player_link.heartbeat import from_env
    from installation.player_link.lifecycle import follow_supervisor

    # the heartbeat and the control channel are set only when a kiosk supervisor runs this player
    follow_supervisor()
    heartbeat = from_env()
    player = Player(show, rc.ctx, rc.size, viewport=args.viewport)
    clock = live_clock(args, show, 60.0)
    return _play_live(rc, player, seconds=args.seconds,
                      screenshot=save if args.screenshot else None, on_present=_beat(heartbeat), label="window",
                      control=control.from_env(), supervised=heartbeat is not None, clock=clock,
                      link=start_link(args, player, clock, show))


def _fallback(args: argparse.Namespace, show_path: Path, show: Show, size: tuple[int, int] | None, why: str) -> int:
    """No window here: say so in one line and render the show to a video file instead. Not under the kiosk:
    a supervised player that cannot open its window exits (the supervisor's backoff and safe mode take it
    from there) rather than write a video file at every restart until the disk is full."""
    from installation.offline import DEFAULT_SIZE, FALLBACK_SECONDS, pass_length
    from installation.player_link import HEARTBEAT_ENV as KIOSK_ENV

    if os.environ.get(KIOSK_ENV):
        print(f"error: {why}; the kiosk player needs a window (or kiosk --headless)", file=sys.stderr, flush=True)
        return exit_codes.USAGE

    out = Path(args.out) if args.out else Path("renders") / f"{show_path.stem}.mp4"
    size = size or DEFAULT_SIZE
    if args.seconds is not None:
        seconds, length = args.seconds, f"{args.seconds:g} s as asked"
    elif (one_pass := pass_length(show)) is not None:
        seconds, length = one_pass, f"one pass of the show, {one_pass:g} s"
    else:
        seconds, length = FALLBACK_SECONDS, f"{FALLBACK_SECONDS:g} s: the show has no fixed end"
    print(f"{why}: rendering {show_path} headless to {out} instead ({length}, {size[0]}x{size[1]}, 30 fps)",
          flush=True)
    argv = ["render", str(show_path), "--out", str(out), "--seconds", repr(seconds), "--fps", "30",
            "--size", f"{size[0]}x{size[1]}"]
    if "installation.render.context.window" in sys.modules:
        # pyglet already touched GLX in this process; EGL must not join it: render in a child process.
        import subprocess

        return subprocess.run([sys.executable, "-m", "installation.cli", *argv], check=False).returncode
    from installation.cli.app import main

    return main(argv)


def _play_live(rc: Any, player: Any, *, seconds: float | None, screenshot: Any = None, on_present: Any = None,
               label: str, control: Any = None, supervised: bool = False, clock: Any = None, link: Any = None) -> int:
    """Run the live loop (wall clock) until quit or ``seconds``; always release the player and context.
    Ctrl-C exits 130; under the kiosk the same KeyboardInterrupt is the supervisor's SIGTERM, a requested stop: 0."""
    import cv2

    from installation.player import RealClock, run_loop

    # An unreadable image or a missing camera is logged once by us (installation/scenes/media.py, the capture
    # thread); OpenCV's own lines would repeat at every retry of a broken file or an unplugged camera.
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    code = exit_codes.OK
    if seconds is not None and hasattr(clock, "show_time"):  # an epoch clock: --seconds from now, not from 0
        import time

        seconds += max(0.0, clock.show_time(time.time()))
    try:
        frames = run_loop(rc, player, clock or RealClock(), seconds=seconds, screenshot=screenshot,
                          on_present=_chain(link.on_present if link is not None else None, on_present),
                          pre_frame=_chain(control.pre_frame if control is not None else None,
                                           link.pre_frame if link is not None else None))
    except KeyboardInterrupt:
        frames = -1
        code = exit_codes.OK if supervised else exit_codes.INTERRUPTED
    finally:
        if control is not None:
            control.close()
        if link is not None:
            link.close()
        player.release()
        rc.close()
    log.info("%s: stopped after %s frames", label, frames if frames >= 0 else "some")
    return code


def _chain(*callbacks: Any) -> Any:
    """One callback calling each given one in turn (None when none is given)."""
    present = [c for c in callbacks if c is not None]
    if not present:
        return None
    if len(present) == 1:
        return present[0]

    def call(*args: Any) -> None:
        for callback in present:
            callback(*args)

    return call


def _beat(heartbeat: Any, pacer: Any = None) -> Any:
    """The ``on_present`` callback of :func:`installation.player.run_loop`: kiosk heartbeat, offscreen pacing."""
    if heartbeat is None and pacer is None:
        return None

    def on_present(player: Any, frames: int) -> None:
        if heartbeat is not None:
            ph = player.playhead
            heartbeat.beat(frames, ph.cue_id if ph is not None else None, player.stats, player.health)
        if pacer is not None:
            pacer.wait()

    return on_present


def _run_headless(args: argparse.Namespace, show: Show, size: tuple[int, int] | None) -> int:
    """``run --headless``: the live loop (wall clock) offscreen at ``--fps``; nothing is written."""
    from installation.pacing import Pacer
    from installation.player_link import control
    from installation.player_link.heartbeat import from_env
    from installation.player_link.lifecycle import follow_supervisor
    from installation.render import ContextUnavailable, FrameStats, create_context

    try:
        positive("--fps", args.fps)
    except UserError as exc:
        error(exc)
        return exit_codes.USAGE
    try:
        rc = create_context("headless", size or (1280, 720))
    except ContextUnavailable as exc:
        error(exc)
        return exit_codes.FAILURE
    from installation.player import Player

    follow_supervisor()
    heartbeat = from_env()
    player = Player(show, rc.ctx, rc.size, stats=FrameStats(target_fps=args.fps), viewport=args.viewport)
    clock = live_clock(args, show, args.fps)
    pacer = clock if hasattr(clock, "wait") else Pacer(args.fps)  # an epoch clock paces on the shared grid
    return _play_live(rc, player, seconds=args.seconds, on_present=_beat(heartbeat, pacer),
                      label="headless", control=control.from_env(), supervised=heartbeat is not None,
                      clock=clock, link=start_link(args, player, clock, show))
