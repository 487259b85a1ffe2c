"""``installation`` command line. User errors print one line and exit 2; never a traceback."""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
from collections.abc import Callable
from datetime import time as dtime
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from installation.kiosk.schedule import Schedule
    from installation.show import Show

EXIT_USER_ERROR = 2

# Bounds of every number on the command line (docs/show-scripts.md, "Limits"); the show schema's come from
# installation/show/fields.py, so `--size` and `display.size`, `--seconds` and a cue's duration agree.
MAX_FPS = 240.0
MAX_COUNT = 100_000  # paintings per `generate`
MAX_FRAMES = 10**9


class _OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line (``error: --fps: ...``) and exit 2, like every other user error."""

    def error(self, message: str) -> NoReturn:
        from installation.show.errors import MAX_MESSAGE_CHARS, clip

        self.exit(EXIT_USER_ERROR, f"error: {clip(message.removeprefix('argument '), MAX_MESSAGE_CHARS)}\n")


def _plain(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def bounded(kind: type[int] | type[float], low: float, high: float, unit: str = "") -> Callable[[str], float]:
    """An argparse ``type``: a finite ``kind`` within ``low``..``high``, else one readable line."""
    from installation.show.errors import clip

    def parse(text: str) -> float:
        try:
            value = kind(text)  # int() refuses "1e3" and digit runs past 4300; float() takes "nan"
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected {'a whole number' if kind is int else 'a number'}, got {clip(text)!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"expected a finite number, got {clip(text)!r}")
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be {_plain(low)}..{_plain(high)}{unit}, got {clip(text)}")
        return value

    parse.__name__ = kind.__name__  # what argparse calls the type in its own messages
    return parse


def size_type(text: str) -> tuple[int, int]:
    """``--size WxH``: the show schema's size parser and bounds (16..16384 per side, at most 32 Mpx)."""
    from installation.show.fields import size_from_text

    try:
        return size_from_text(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def grid_type(text: str) -> str:
    """``--grid ROWSxCOLS``, each 1..100 like a show's rows and cols."""
    from installation.show.errors import clip

    parts = text.lower().split("x")
    if len(parts) != 2 or not all(p.strip().isdigit() and len(p.strip()) <= 3 and 1 <= int(p) <= 100 for p in parts):
        raise argparse.ArgumentTypeError(f"expected ROWSxCOLS, each 1..100, e.g. 14x14, got {clip(text)!r}")
    return text


def build_parser() -> argparse.ArgumentParser:
    from installation.show import fields as f  # the show schema's bounds

    fps = bounded(float, 1, MAX_FPS, " frames per second")
    seconds = bounded(float, f.MIN_SECONDS, f.MAX_SECONDS, " seconds")
    screen = bounded(int, 0, f.MAX_SCREEN)
    seed = bounded(int, 0, f.MAX_SEED)
    parser = _OneLineParser(prog="installation", description="Exhibition runtime for generative art.")
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)
    doctor = sub.add_parser("doctor", help="GL, displays, cameras, ONNX Runtime, and whether the model pack loads")
    doctor.add_argument("--models", default=None, help="model folder (default: the bundled pack)")
    validate = sub.add_parser("validate", help="check show scripts; every error as FILE:LINE key.path: message")
    validate.add_argument("shows", nargs="+", metavar="SHOW", help="show script(s) (.yaml)")
    gen = sub.add_parser("generate", help="synthesize a collection with the generator + upscaler (ONNX Runtime)")
    gen.add_argument("--count", type=int, default=196)
    gen.add_argument("--out", required=True, help="folder for the PNGs and manifest.json")
    gen.add_argument("--seed", type=seed, default=0)
    gen.add_argument("--styles", nargs="+", default=None, help="style names (default: all of the generator's)")
    gen.add_argument("--mix", type=bounded(float, 0, 1), default=0.3, help="share of paintings that blend two styles")
    gen.add_argument("--models", default=None, help="model folder (default: the bundled pack)")
    gen.add_argument("--no-upscale", action="store_true", help="keep the generator's resolution")
    gen.add_argument("--candidates", type=bounded(int, 1, 64), default=1,
                     help="keep the best of N latent codes per painting, as the pack's encoder rates the asked-for "
                          "style, skipping near duplicates (the demo collection uses 12)")
    run = sub.add_parser("run", help="play a show (full-screen); with no display, render it to a video file instead")
    run.add_argument("show", nargs="?", default=None, metavar="SHOW",
                     help="show script (default: shows/gradual_change.yaml, the show that needs no camera)")
    run.add_argument("--screen", type=screen, default=None, help="monitor index (default: the show's display.screen)")
    run.add_argument("--windowed", action="store_true", help="a window instead of full screen")
    run.add_argument("--size", type=size_type, default=None, metavar="WxH",
                     help="window / render size (default: the show's)")
    run.add_argument("--seconds", type=seconds, default=None, help="quit after this many seconds of show time")
    run.add_argument("--out", default=None, help="where the no-display fallback writes (default: renders/SHOW.mp4)")
    run.add_argument("--screenshot", default=None, metavar="FILE.png", help="save the last frame when the show quits")
    run.add_argument("--headless", action="store_true",
                     help="render offscreen (EGL) at --fps until --seconds or forever, writing nothing (kiosk, soak)")
    run.add_argument("--fps", type=fps, default=30.0, help="frame rate of --headless (default 30)")
    run.add_argument("--base-dir", default=None, metavar="DIR", help="resolve the show's relative paths against DIR "
                     "(default: the show file's folder; the kiosk plays its last good copy of a show this way)")
    render = sub.add_parser("render", help="render a show offline (headless EGL, deterministic) to .mp4/.avi/PNGs")
    render.add_argument("show", metavar="SHOW")
    render.add_argument("--out", required=True, help="FILE.mp4, FILE.avi, or a folder for PNG frames")
    render.add_argument("--seconds", type=seconds, default=10.0, help="length in show seconds (default 10)")
    render.add_argument("--fps", type=fps, default=30.0, help="frames per second (default 30)")
    render.add_argument("--size", type=size_type, default=None, metavar="WxH",
                        help="default: the show's display.size or 1280x720")
    render.add_argument("--start", type=bounded(float, 0, f.MAX_SECONDS, " seconds"), default=0.0,
                        help="show time of the first frame (default 0)")
    order = sub.add_parser("order", help="order a collection so each image differs little from the last")
    order.add_argument("collection", metavar="COLLECTION", help="folder of images")
    order.add_argument("--method", choices=["gnn", "tsp", "random"], default="gnn",
                       help="gnn (GraphSAGE embedding + LKH path, default), tsp (LKH on the raw features), random")
    order.add_argument("--layout", choices=["sequence", "similarity"], default="sequence",
                       help="sequence: cell k shows the k-th image; similarity: similar images in neighbouring cells")
    order.add_argument("--grid", type=grid_type, default=None, metavar="ROWSxCOLS",
                       help="grid for the layout (default: near-square)")
    order.add_argument("--seed", type=seed, default=0)
    order.add_argument("--out", default=None, help="JSON file (default: COLLECTION.order.json beside the folder)")
    order.add_argument("--dump-features", default=None, metavar="FILE.npy", help="also write the feature matrix")
    order.add_argument("--models", default=None, help="model folder for the encoder (default: the bundled pack)")
    kiosk = sub.add_parser("kiosk", help="play a show unattended: restart the player on crash or stall, safe mode, "
                                         "/health /status /metrics")
    kiosk.add_argument("show", nargs="?", default=None, metavar="SHOW", help="show script (default: the default show)")
    kiosk.add_argument("--http", default=None, metavar="HOST:PORT", help="serve /health, /status, /metrics, "
                       "/screenshot, POST /control/... (PORT alone binds 127.0.0.1; other addresses need --token)")
    kiosk.add_argument("--osc", default=None, metavar="HOST:PORT", help="OSC control over UDP, /installation/... "
                       "(PORT alone binds 127.0.0.1; other addresses need --token)")
    kiosk.add_argument("--osc-reply", default=None, metavar="HOST:PORT",
                       help="also send OSC replies and status here (Companion feedback); the sender always gets them")
    kiosk.add_argument("--token", default=None, help="required by every HTTP request but GET /health "
                       "(Bearer, X-Token or ?token=) and as the first argument of every OSC message")
    kiosk.add_argument("--headless", action="store_true", help="offscreen player (EGL); automatic with no display")
    kiosk.add_argument("--size", type=size_type, default=None, metavar="WxH", help="render size (default: the show's)")
    kiosk.add_argument("--screen", type=screen, default=None, help="monitor index for the player's window (default: "
                       "the show's display.screen; `installation doctor` lists them)")
    kiosk.add_argument("--fps", type=fps, default=30.0, help="frame rate of a headless player (default 30)")
    kiosk.add_argument("--stall-seconds", type=bounded(float, 0.5, 86400, " seconds"), default=10.0,
                       help="restart after this long without a frame")
    kiosk.add_argument("--start-seconds", type=bounded(float, 1, 3600, " seconds"), default=30.0,
                       help="time a new player has for its first frame")
    kiosk.add_argument("--kill-grace", type=bounded(float, 0, 600, " seconds"), default=2.0,
                       help="SIGTERM, then SIGKILL after this long (a hung player: SIGKILL at once)")
    kiosk.add_argument("--backoff-base", type=bounded(float, 0.01, 3600, " seconds"), default=1.0,
                       help="delay of the 2nd restart in a row (the 1st is at once); doubles each time")
    kiosk.add_argument("--backoff-max", type=bounded(float, 0.01, 86400, " seconds"), default=60.0,
                       help="longest restart delay")
    kiosk.add_argument("--max-failures", type=bounded(int, 1, 1000), default=3,
                       help="failures within --failure-window -> safe mode")
    kiosk.add_argument("--failure-window", type=bounded(float, 1, f.MAX_SECONDS, " seconds"), default=600.0,
                       help="seconds (default 600)")
    kiosk.add_argument("--safe-retry", type=bounded(float, 0.1, 86400, " seconds"), default=300.0,
                       help="seconds between tries of the show in safe mode")
    kiosk.add_argument("--stable-seconds", type=bounded(float, 0, 86400, " seconds"), default=60.0,
                       help="a player up this long resets the backoff and ends safe mode")
    kiosk.add_argument("--schedule", default=None, metavar="FILE", help="opening hours (YAML, see docs/kiosk.md): "
                       "outside them the show blacks out (or plays a cue) and the display may sleep")
    kiosk.add_argument("--check-schedule", default=None, metavar="FILE",
                       help="check a schedule file (and its cues against SHOW, if given), print 7 days of it, exit")
    kiosk.add_argument("--check-from", default=None, metavar="YYYY-MM-DD[THH:MM]",
                       help="with --check-schedule: start there instead of now (wall time in the schedule's zone)")
    kiosk.add_argument("--log", default=None, metavar="FILE", help="also write the supervisor's and the player's "
                       "lines to FILE, rotated by size (default: stderr only, e.g. the journal under systemd)")
    kiosk.add_argument("--log-max-mb", type=bounded(float, 0.001, 100_000, " MB"), default=10.0,
                       help="rotate the --log file at this size (default 10)")
    kiosk.add_argument("--log-backups", type=bounded(int, 0, 1000), default=5, help="old --log files kept (default 5)")
    kiosk.add_argument("--daily-restart", default=None, metavar="HH:MM", help="restart the player every day at this "
                       "wall-clock time (pick a quiet hour; the schedule's time zone when --schedule is given)")
    kiosk.add_argument("--state-dir", default=None, metavar="DIR", help="where the last good copy of the show is "
                       "kept (default: $INSTALLATION_STATE, else $XDG_STATE_HOME/installation or ~/.local/state/...)")
    kiosk.add_argument("--print-systemd-unit", action="store_true", help="print a systemd unit for this command")
    emotions = sub.add_parser("emotions", help="per frame: face boxes and emotion probabilities (raw, smoothed)")
    emotions.add_argument("source", metavar="SOURCE", help="camera index, video file, stream URL or image folder")
    emotions.add_argument("--json", action="store_true", help="one JSON object per line and per frame")
    emotions.add_argument("--frames", type=bounded(int, 1, MAX_FRAMES), default=None,
                          help="stop after N frames (default: the whole source)")
    emotions.add_argument("--face", choices=["largest", "central", "aggregate"], default="largest",
                          help="which face is the main one (aggregate: all, averaged)")
    emotions.add_argument("--half-life", type=bounded(float, 0, 3600, " seconds"), default=1.0,
                          help="smoothing half-life in seconds (default 1)")
    emotions.add_argument("--fps", type=fps, default=10.0, help="frame rate of an image folder (default 10)")
    emotions.add_argument("--models", default=None, help="model folder (default: the bundled pack)")
    return parser


class UserError(Exception):
    """A mistake the operator can fix: printed as one line, exit 2."""


def parse_size_arg(text: str | tuple[int, int] | None) -> tuple[int, int] | None:
    """``"1280x720"`` -> ``(1280, 720)`` within the show schema's size bounds; a parsed size and None pass."""
    if text is None or isinstance(text, tuple):
        return text
    try:
        return size_type(text)
    except argparse.ArgumentTypeError as exc:
        raise UserError(f"--size {text!r}: {exc}") from None


def size_fits(show: Show, size: tuple[int, int] | None, option: str = "--size") -> bool:
    """True when every scene of ``show`` can be drawn at ``size``; else print why in one line (exit 2 follows)."""
    from installation.show.load import size_problems

    problems = size_problems(show, size) if size is not None else []
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        print(f"error: {option} {size[0]}x{size[1]}: {problems[0]}{more}", file=sys.stderr)
    return not problems


def default_show() -> Path:
    """The show ``installation run`` plays with no argument (needs no camera)."""
    return Path(__file__).resolve().parents[1] / "shows" / "gradual_change.yaml"


def load_show_or_report(path: str | Path, base_dir: str | Path | None = None) -> Show | None:
    """The valid show, or None after printing its problems (FILE:LINE key.path: message) to stderr."""
    from installation.show import check_show

    try:
        report = check_show(path, base_dir)
    except Exception as exc:  # a bug of ours must still not print a traceback to an operator
        logging.getLogger(__name__).debug("check %s", path, exc_info=True)
        print(f"{path}:1: internal error while checking this file: {exc!r}", file=sys.stderr)
        return None
    for issue in report.warnings + report.errors:
        print(issue, file=sys.stderr)
    return report.show if report.ok else None


def _positive(name: str, value: float | None, allow_zero: bool = False) -> None:
    if value is not None and (not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero)):
        raise UserError(f"{name} {value}: must be {'>= 0' if allow_zero else '> 0'}")


def run_render(args: argparse.Namespace) -> int:
    """``installation render``: offline, headless, deterministic; one line per problem, exit 2."""
    from installation.offline import DEFAULT_SIZE, render_show
    from installation.render import ContextUnavailable
    from installation.video import VideoError

    try:
        size = parse_size_arg(args.size)
        _positive("--seconds", args.seconds)
        _positive("--fps", args.fps)
        _positive("--start", args.start, allow_zero=True)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    show = load_show_or_report(args.show)
    if show is None:
        return EXIT_USER_ERROR
    size = size or (tuple(show.display.size) if show.display.size else DEFAULT_SIZE)
    if not size_fits(show, size):
        return EXIT_USER_ERROR
    try:
        result = render_show(show, args.out, seconds=args.seconds, fps=args.fps, size=size, start=args.start)
    except (VideoError, ContextUnavailable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    w, h = result.size
    print(f"wrote {result.out} ({result.frames} frames, {w}x{h}, {result.fps:g} fps, "
          f"show time {args.start:g}..{args.start + result.frames / result.fps:g} s)")
    return 0


def _fallback(args: argparse.Namespace, show_path: Path, show: Show, size: tuple[int, int] | None, why: str) -> int:
    """No window here: say so in one line and render the show to a video file instead. Not under the kiosk:
    a supervised player that cannot open its window exits (the supervisor's backoff and safe mode take it
    from there) rather than write a video file at every restart until the disk is full."""
    from installation.kiosk.heartbeat import ENV as KIOSK_ENV
    from installation.offline import DEFAULT_SIZE, FALLBACK_SECONDS, pass_length

    if os.environ.get(KIOSK_ENV):
        print(f"error: {why}; the kiosk player needs a window (or kiosk --headless)", file=sys.stderr, flush=True)
        return EXIT_USER_ERROR

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
    return main(argv)


def run_play(args: argparse.Namespace) -> int:
    """``installation run``: a window on the chosen screen; no display -> a video file (see :func:`_fallback`)."""
    from installation.render import ContextUnavailable, create_context, display_available

    try:
        size = parse_size_arg(args.size)
        _positive("--seconds", args.seconds)
        if args.screen is not None and args.screen < 0:
            raise UserError(f"--screen {args.screen}: must be >= 0")
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    show_path = Path(args.show) if args.show else default_show()
    show = load_show_or_report(show_path, args.base_dir)
    if show is None:
        return EXIT_USER_ERROR
    size = size or (tuple(show.display.size) if show.display.size else None)
    if not size_fits(show, size):
        return EXIT_USER_ERROR
    if args.headless:
        return _run_headless(args, show, size)
    if not display_available():
        return _fallback(args, show_path, show, size, "no display (DISPLAY and WAYLAND_DISPLAY are not set)")
    fullscreen = show.display.fullscreen and not args.windowed
    screen = show.display.screen if args.screen is None else args.screen
    from installation.kiosk.heartbeat import ENV as KIOSK_ENV

    # under the kiosk supervisor nobody uses a mouse: hide the cursor even in a window
    try:
        rc = create_context("window", size or (1280, 720), fullscreen=fullscreen, screen=screen,
                            vsync=show.display.vsync, title=show.name or show_path.stem,
                            hide_cursor=True if os.environ.get(KIOSK_ENV) else None)
    except ContextUnavailable as exc:
        return _fallback(args, show_path, show, size, f"no window ({exc})")
    from installation.player import Player

    def save(pixels: object) -> None:
        import cv2

        if not cv2.imwrite(str(args.screenshot), cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR)):
            print(f"error: cannot write the screenshot {args.screenshot}", file=sys.stderr)

    from installation.kiosk import control
    from installation.kiosk.heartbeat import from_env

    # the heartbeat and the control channel are set only when a kiosk supervisor runs this player
    return _play_live(rc, Player(show, rc.ctx, rc.size), seconds=args.seconds,
                      screenshot=save if args.screenshot else None, on_present=_beat(from_env()), label="window",
                      control=control.from_env())


def _play_live(rc, player, *, seconds, screenshot=None, on_present=None, label: str,  # noqa: ANN001
               control=None) -> int:  # noqa: ANN001
    """Run the live loop (wall clock) until quit or ``seconds``; always release the player and context."""
    import cv2

    from installation.player import RealClock, run_loop

    # An unreadable image or a missing camera is logged once by us (installation/scenes/media.py, the capture
    # thread); OpenCV's own lines would repeat at every retry of a broken file or an unplugged camera.
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    try:
        frames = run_loop(rc, player, RealClock(), seconds=seconds, screenshot=screenshot, on_present=on_present,
                          pre_frame=control.pre_frame if control is not None else None)
    except KeyboardInterrupt:
        frames = -1
    finally:
        if control is not None:
            control.close()
        player.release()
        rc.close()
    logging.getLogger(__name__).info("%s: stopped after %s frames", label, frames if frames >= 0 else "some")
    return 0


def _beat(heartbeat: object, pacer: object = None):  # noqa: ANN202 - a loop callback or None
    """The ``on_present`` callback of :func:`installation.player.run_loop`: kiosk heartbeat, offscreen pacing."""
    if heartbeat is None and pacer is None:
        return None

    def on_present(player, frames: int) -> None:  # noqa: ANN001
        if heartbeat is not None:
            ph = player.playhead
            heartbeat.beat(frames, ph.cue_id if ph is not None else None, player.stats, player.health)
        if pacer is not None:
            pacer.wait()

    return on_present


def _run_headless(args: argparse.Namespace, show: Show, size: tuple[int, int] | None) -> int:
    """``run --headless``: the live loop (wall clock) offscreen at ``--fps``; nothing is written."""
    from installation.kiosk import control
    from installation.kiosk.heartbeat import Pacer, from_env
    from installation.render import ContextUnavailable, FrameStats, create_context

    try:
        _positive("--fps", args.fps)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    try:
        rc = create_context("headless", size or (1280, 720))
    except ContextUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    from installation.player import Player

    player = Player(show, rc.ctx, rc.size, stats=FrameStats(target_fps=args.fps))
    return _play_live(rc, player, seconds=args.seconds, on_present=_beat(from_env(), Pacer(args.fps)),
                      label="headless", control=control.from_env())


def run_generate(args: argparse.Namespace) -> int:
    """``installation generate``: PNGs + manifest; bad models or styles are one line and exit 2."""
    from installation.generate import generate_collection
    from installation.inference.contract import ModelContractError
    from installation.inference.encoder import PaintingEncoder
    from installation.inference.generator import Generator, Upscaler
    from installation.pack import pack_path

    if args.count <= 0 or args.count > MAX_COUNT:
        print(f"error: --count must be > 0 and at most {MAX_COUNT:,}", file=sys.stderr)
        return EXIT_USER_ERROR
    try:
        generator = Generator(pack_path("generator", args.models))
        upscaler = None if args.no_upscale else Upscaler(pack_path("upscaler", args.models))
        encoder = PaintingEncoder(pack_path("encoder", args.models)) if args.candidates > 1 else None
        manifest = generate_collection(generator, Path(args.out), count=args.count, seed=args.seed,
                                       styles=args.styles, mix=args.mix, upscaler=upscaler, encoder=encoder,
                                       candidates=args.candidates)
    except (ModelContractError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    print(f"wrote {manifest['count']} paintings ({manifest['resolution']} px) and manifest.json to {args.out}")
    return 0


def run_validate(paths: list[str]) -> int:
    """``installation validate``: "ok: FILE (N cues)" per valid show; errors on stderr; exit 2 if any is invalid."""
    from installation.show import check_show

    status = 0
    for path in paths:
        try:
            report = check_show(path)
        except Exception as exc:  # a bug of ours must still not print a traceback to an operator
            logging.getLogger(__name__).debug("validate %s", path, exc_info=True)
            print(f"{path}:1: internal error while checking this file: {exc!r}", file=sys.stderr)
            status = EXIT_USER_ERROR
            continue
        for issue in report.warnings + report.errors:
            print(issue, file=sys.stderr)
        if report.ok and report.show is not None:
            print(f"ok: {path} ({len(report.show.cues)} cue{'s' if len(report.show.cues) != 1 else ''})")
        else:
            status = EXIT_USER_ERROR
    return status


def run_order(args: argparse.Namespace) -> int:
    """``installation order``: JSON order + layout + metrics; bad input is one line and exit 2."""
    from installation.ordering import compute_order, default_order_path, write_order
    from installation.pack import pack_path
    from installation.show.collection import scan_collection

    folder = Path(args.collection)
    try:
        if not folder.is_dir():
            raise UserError(f"{folder}: not a folder" if folder.exists() else f"{folder}: no such folder")
        grid = None
        if args.grid:
            parts = args.grid.lower().split("x")
            if len(parts) != 2 or not all(p.strip().isdigit() and int(p) > 0 for p in parts):
                raise UserError(f"--grid {args.grid!r}: expected ROWSxCOLS, e.g. 14x14")
            grid = int(parts[0]), int(parts[1])
        if args.dump_features and not args.dump_features.endswith(".npy"):
            raise UserError(f"--dump-features {args.dump_features}: expected a .npy file name")
        scan = scan_collection(folder)
        if scan.skipped:
            print(f"skipped {len(scan.skipped)} unreadable image(s): {', '.join(p.name for p in scan.skipped)}",
                  file=sys.stderr)
        if len(scan.images) < 2:
            raise UserError(f"{folder}: {len(scan.images)} readable image(s); ordering needs at least 2")
        rows, cols = grid if grid else (None, None)
        if rows and rows * cols < len(scan.images) and args.layout == "similarity":
            print(f"note: the {rows}x{cols} grid holds {rows * cols} of {len(scan.images)} images; "
                  "the layout places the first ones of the order", file=sys.stderr)
        out = Path(args.out) if args.out else default_order_path(folder)
        encoder = pack_path("encoder", args.models)
        if args.models and not encoder.is_file():
            raise UserError(f"--models {args.models}: no {encoder.name} there")
        result, features = compute_order(scan.images, args.method, args.layout, rows, cols, args.seed, encoder)
        write_order(result, out)
        if args.dump_features:
            import numpy as np

            np.save(args.dump_features, features.matrix)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    m = result.metrics
    used = result.method + (f" (asked {result.method_requested})" if result.method != result.method_requested else "")
    print(f"ordered {len(result.names)} images of {folder} by {used}, layout {result.layout} "
          f"{result.rows}x{result.cols}, path solver {result.solver}")
    print(f"path length {m['path_length']:.3f} (feature space); ratio to LKH on the method's own distances "
          f"{m['path_ratio']:.4f}; smoothness {m['smoothness']:.3f} "
          f"(random {m['random_length']:.3f}, best {m['lkh_length']:.3f})")
    print(f"largest step {m['max_step']:.3f} (mean {m['mean_step']:.3f}); layout DPQ16 {m['dpq16']:.3f}, "
          f"DPQ2 {m['dpq2']:.3f}; {result.seconds:.2f} s")
    print(f"wrote {out}" + (f" and {args.dump_features}" if args.dump_features else ""))
    return 0


def run_emotions(args: argparse.Namespace) -> int:
    """``installation emotions``: a diagnostic that reads every frame; bad sources or models: one line, exit 2."""
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
        _positive("--half-life", args.half_life, allow_zero=True)
        _positive("--fps", args.fps)
        import cv2

        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)  # "can't open camera" is our one line
        classifier = EmotionClassifier(pack_path("emotion", args.models))
        pipeline = EmotionPipeline(classifier, tracker=FaceTracker(args.face), half_life=args.half_life)
        source = open_source(args.source, fps=args.fps)
        run(source, pipeline, as_json=args.json, frames=args.frames)
    except (UserError, ModelContractError, SourceError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    return 0


def _bind_arg(option: str, text: str | None, token: str | None, server: bool = True) -> tuple[str, int] | None:
    """``--http`` / ``--osc`` / ``--osc-reply`` HOST:PORT or PORT; a server on a non-loopback address needs a token
    (``--osc-reply`` only sends, so it needs none)."""
    from installation.kiosk import remote

    if text is None:
        return None
    try:
        host, port = remote.parse_bind(text, option)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if server and not remote.is_loopback(host) and not token:
        raise UserError(f"{option} {text}: binding to a non-loopback address needs --token")
    return host, port


def load_schedule_or_report(path: str, show: Show | None, show_path: Path | None) -> Schedule | None:
    """The valid schedule (its ``outside`` cues checked against ``show``), or None after printing each problem
    as ``FILE:LINE key.path: message`` to stderr."""
    from installation.kiosk.schedule import check_schedule

    try:
        report = check_schedule(path)
        errors = list(report.errors)
        if report.schedule is not None and show is not None:
            errors += report.schedule.check_cues([c.id for c in show.cues], f"the show {show_path}")
    except Exception as exc:  # a bug of ours must still not print a traceback to an operator
        logging.getLogger(__name__).debug("schedule %s", path, exc_info=True)
        print(f"{path}:1: internal error while checking this file: {exc!r}", file=sys.stderr)
        return None
    for issue in errors:
        print(issue, file=sys.stderr)
    return report.schedule if not errors else None


def run_check_schedule(args: argparse.Namespace) -> int:
    """``installation kiosk --check-schedule FILE [SHOW]``: the next 7 days of opening hours, or its errors."""
    from datetime import UTC, datetime

    show = show_path = None
    if args.show:
        show_path = Path(args.show)
        show = load_show_or_report(show_path)
        if show is None:
            return EXIT_USER_ERROR
    schedule = load_schedule_or_report(args.check_schedule, show, show_path)
    if schedule is None:
        return EXIT_USER_ERROR
    if args.check_from:
        try:
            at = datetime.fromisoformat(args.check_from)
        except ValueError:
            print(f"error: --check-from {args.check_from!r}: expected YYYY-MM-DD or YYYY-MM-DDTHH:MM", file=sys.stderr)
            return EXIT_USER_ERROR
        at = at.replace(tzinfo=schedule.tz) if at.tzinfo is None else at.astimezone(schedule.tz)
    else:
        at = datetime.now(UTC).astimezone(schedule.tz)
    print(f"ok: {args.check_schedule} (time zone {schedule.tz_name}; outside hours: {schedule.outside.describe()})")
    for line in schedule.day_lines(at.date(), 7):
        print("  " + line)
    change = schedule.next_change(at)
    state = "open" if schedule.is_open(at) else "closed"
    verb = "closes" if state == "open" else "opens"
    then = f"{verb} {change.astimezone(schedule.tz):%a %Y-%m-%d %H:%M %Z}" if change else "never changes"
    print(f"at {at:%a %Y-%m-%d %H:%M %Z}: {state}; {then}")
    return 0


def _absolute_paths(argv: list[str], options: tuple[str, ...]) -> list[str]:
    """The unit runs in the repository folder: relative paths given to ``options`` must keep their meaning."""
    out = []
    for i, arg in enumerate(argv):
        name, eq, value = arg.partition("=")
        if eq and name in options:
            arg = f"{name}={Path(value).resolve()}"
        elif i and argv[i - 1] in options:
            arg = str(Path(arg).resolve())
        out.append(arg)
    return out


def run_kiosk(args: argparse.Namespace) -> int:
    """``installation kiosk``: the supervisor (see installation/kiosk/supervisor.py); bad options exit 2."""
    from installation.kiosk import http, systemd
    from installation.kiosk.supervisor import KioskConfig, Supervisor
    from installation.render import display_available

    if args.check_schedule:
        return run_check_schedule(args)
    show_path = Path(args.show) if args.show else default_show()
    try:
        size = parse_size_arg(args.size)
        for name in ("fps", "stall_seconds", "start_seconds", "backoff_base", "backoff_max", "failure_window",
                     "safe_retry"):
            _positive("--" + name.replace("_", "-"), getattr(args, name))
        _positive("--kill-grace", args.kill_grace, allow_zero=True)
        _positive("--stable-seconds", args.stable_seconds, allow_zero=True)
        if args.max_failures < 1:
            raise UserError(f"--max-failures {args.max_failures}: must be >= 1")
        if args.screen is not None and args.screen < 0:
            raise UserError(f"--screen {args.screen}: must be >= 0")
        _positive("--log-max-mb", args.log_max_mb)
        if args.log_backups < 0:
            raise UserError(f"--log-backups {args.log_backups}: must be >= 0")
        daily = None
        if args.daily_restart is not None:
            try:
                daily = dtime.fromisoformat(args.daily_restart)
            except ValueError:
                raise UserError(f"--daily-restart {args.daily_restart!r}: expected HH:MM, e.g. 04:30") from None
        bind = _bind_arg("--http", args.http, args.token)
        osc_bind = _bind_arg("--osc", args.osc, args.token)
        osc_reply = None
        if args.osc_reply is not None:
            if osc_bind is None:
                raise UserError("--osc-reply needs --osc")
            osc_reply = _bind_arg("--osc-reply", args.osc_reply, args.token, server=False)
            if osc_reply[1] == 0:
                raise UserError(f"--osc-reply {args.osc_reply}: needs a port to send to")
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    if args.print_systemd_unit:
        extra = [a for a in sys.argv[sys.argv.index("kiosk") + 1:] if a != "--print-systemd-unit"] \
            if "kiosk" in sys.argv else []
        extra = [a for a in extra if a != args.show]
        extra = _absolute_paths(extra, ("--schedule", "--log", "--state-dir"))
        print(systemd.unit_text(str(show_path) if args.show else None, extra), end="")
        return 0
    from installation.kiosk.last_good import LastGood, default_state_dir

    state_dir = Path(args.state_dir) if args.state_dir else default_state_dir()
    show = load_show_or_report(show_path)
    if show is None:
        kept = LastGood(show_path, state_dir)
        show = load_show_or_report(kept.path, kept.base_dir) if kept.exists() else None
        if show is None:
            return EXIT_USER_ERROR
        print(f"kiosk: {show_path} is invalid (above); playing its last good version, saved {kept.saved_at()}, "
              "until the file is fixed", file=sys.stderr, flush=True)
    if not size_fits(show, size):
        return EXIT_USER_ERROR
    schedule = None
    if args.schedule is not None:
        schedule = load_schedule_or_report(args.schedule, show, show_path)
        if schedule is None:
            return EXIT_USER_ERROR
    headless = args.headless or not display_available()
    config = KioskConfig(
        show=show_path, size=size or (tuple(show.display.size) if show.display.size else None), headless=headless,
        fps=args.fps, stall_seconds=args.stall_seconds, start_seconds=args.start_seconds,
        kill_grace=args.kill_grace, backoff_base=args.backoff_base, backoff_max=args.backoff_max,
        max_failures=args.max_failures, failure_window=args.failure_window, safe_retry=args.safe_retry,
        stable_seconds=args.stable_seconds, schedule=schedule,
        schedule_path=Path(args.schedule) if schedule is not None else None, state_dir=state_dir,
        pipe_output=args.log is not None, daily_restart=daily,
        player_args=[] if args.screen is None else ["--screen", str(args.screen)])
    if args.log is not None:
        from installation.kiosk.logfile import open_log_file

        try:
            open_log_file(Path(args.log), args.log_max_mb, args.log_backups)
        except OSError as exc:
            print(f"error: --log {args.log}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_USER_ERROR
    supervisor = Supervisor(config)
    if bind is not None:
        try:
            server = http.serve(supervisor, bind[0], bind[1], args.token)
        except OSError as exc:
            supervisor.close()
            print(f"error: --http {args.http}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_USER_ERROR
        host, port = server.server_address[:2]
        print(f"kiosk: http://{host}:{port}/health /status /metrics", flush=True)
    if osc_bind is not None:
        try:
            from installation.kiosk import osc
        except ImportError as exc:  # an environment set up before python-osc became a dependency
            supervisor.close()
            print(f"error: --osc needs python-osc (pip install python-osc): {exc}", file=sys.stderr)
            return EXIT_USER_ERROR
        try:
            osc_server = osc.serve(supervisor, osc_bind[0], osc_bind[1], args.token, osc_reply)
        except OSError as exc:  # also a --osc-reply host that does not resolve (socket.gaierror)
            supervisor.close()
            print(f"error: --osc {args.osc}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_USER_ERROR
        host, port = osc_server.address
        also = f" and {args.osc_reply}" if osc_reply else ""
        print(f"kiosk: osc udp://{host}:{port} {osc.PREFIX}... (replies to the sender{also})", flush=True)
    print(f"kiosk: supervising {show_path} ({'headless' if headless else 'window'}); pid {os.getpid()}", flush=True)
    if schedule is not None:
        print(f"kiosk: opening hours from {args.schedule} ({schedule.tz_name}): {schedule.describe()}; "
              f"outside hours: {schedule.outside.describe()}", flush=True)
    return supervisor.run()


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help (0) or a bad argument (2, one line printed): a code, like every command
        return exc.code if isinstance(exc.code, int) else EXIT_USER_ERROR
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(message)s")
    if args.command == "doctor":
        from installation.doctor import run_doctor

        return run_doctor(args.models)
    if args.command == "validate":
        return run_validate(args.shows)
    if args.command == "generate":
        return run_generate(args)
    if args.command == "render":
        return run_render(args)
    if args.command == "run":
        return run_play(args)
    if args.command == "order":
        return run_order(args)
    if args.command == "emotions":
        return run_emotions(args)
    if args.command == "kiosk":
        return run_kiosk(args)
    return EXIT_USER_ERROR


if __name__ == "__main__":
    sys.exit(main())
