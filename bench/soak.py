"""Soak test of kiosk mode: a fast Gradual Change under a real supervisor, memory and frame times over time.

    python bench/soak.py [--minutes 10] [--interval 5] [--kill-every S] [--out bench/results/soak.json]

Writes a show into a temporary folder that plays the demo collection (same scene, grid and post chain as
shows/gradual_change.yaml) at high speed: a whole 14x14 pass every ~8 s with restarts, then a second
Gradual Change cue (another order, fading out) and a still, in a loop, so cell textures are uploaded and
released, passes restart and scenes are created and destroyed over and over. It starts
``installation kiosk --headless`` on it, polls /status every ``--interval`` seconds and records the
player's and the supervisor's resident memory, fps, frame times, frames, dropped frames, restarts and
state. ``--kill-every S`` kills the player with SIGKILL every S seconds and times the next frame.

At the end the kiosk gets SIGTERM; a table and a summary are printed (the bounded-memory check is the
least-squares RSS slope over the second half of the run, in MB/hour: the first half includes warm-up),
and the series, summary and machine info are written as JSON. The kiosk's log goes next to the JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as a script from a checkout: the installation package beside it

from installation.kiosk.child import rss_bytes  # noqa: E402  (stdlib-only module: no GL, no torch)

COLLECTION = REPO / "assets" / "collections" / "demo"
MB = 1024 * 1024

# {collection} and {still} are filled with absolute paths, so the show works from a temporary folder.
SHOW = """\
version: 1
name: Gradual Change (soak)
display:
  background: "#000000"
defaults:
  transition: {{type: crossfade, seconds: 1, easing: ease_in_out}}
cues:
  # The default show's scene at ~40x speed: a new painting every 40 ms, a full pass in ~8 s, then a
  # restart pass (new order) over the old images; 30 s is three to four passes.
  - id: grid
    scene:
      type: gradual_change
      collection: {collection}
      rows: 14
      cols: 14
      order: gnn
      layout: sequence
      seed: 0
      reveal_interval: 0.04
      cell_transition: {{type: dissolve, seconds: 0.3, easing: smoothstep}}
      after_last: restart
      linger: 0.5
      fit: cover
      gap: 4
      min_images: 196
    duration: 30
    post: &post
      - {{type: kuwahara, radius: 4, sharpness: 8}}
      - {{type: grade, exposure: 0.1, saturation: 1.05, tint: "#fff4e6", tint_amount: 0.15}}
  # A second Gradual Change scene crossfading in over the first: two grids alive at once, then the first
  # is destroyed; this one fades its cells out and ends the cue itself.
  - id: grid-random
    scene:
      type: gradual_change
      collection: {collection}
      order: random
      seed: 1
      reveal_interval: 0.04
      cell_transition: {{type: dissolve, seconds: 0.3, easing: smoothstep}}
      after_last: fade_out
      linger: 0.5
      gap: 4
    until: done
    post: *post
  # A still between loops, so the next 'grid' is a fresh scene again (the show loops after the last cue).
  - id: still
    scene: {{type: image, path: {still}}}
    duration: 2
"""


def write_show(folder: Path) -> Path:
    still = sorted(COLLECTION.glob("*.png"))[0]
    path = folder / "soak.yaml"
    path.write_text(SHOW.format(collection=json.dumps(str(COLLECTION)), still=json.dumps(str(still))))
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_status(port: int) -> dict | None:
    """/status as a dict, or None while the kiosk does not answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=3) as r:
            return json.loads(r.read())
    except (OSError, ValueError, urllib.error.URLError):
        return None


def start_kiosk(show: Path, port: int, args: argparse.Namespace, log) -> subprocess.Popen:
    # the kiosk keeps its last good copy of the show beside the show (a temporary folder), not in ~/.local/state
    cmd = [sys.executable, "-m", "installation.cli", "kiosk", str(show), "--state-dir", str(show.parent / "state"),
           "--headless", "--size", args.size,
           "--fps", str(args.fps), "--http", f"127.0.0.1:{port}"]
    if args.kill_every:
        # Deliberate kills are not faults to back off from: never enter safe mode, never wait long.
        cmd += ["--max-failures", "1000000", "--backoff-max", "1", "--stable-seconds", str(args.kill_every / 2)]
    return subprocess.Popen(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def wait_playing(kiosk: subprocess.Popen, port: int, timeout: float) -> str | None:
    """None once the first frame is presented, else why not (one line)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if kiosk.poll() is not None:
            return f"the kiosk exited with code {kiosk.returncode} before its first frame"
        status = get_status(port)
        if status and status.get("state") == "playing":
            return None
        time.sleep(0.5)
    return f"no frame within {timeout:.0f} s"


def stop_kiosk(kiosk: subprocess.Popen) -> int | None:
    """SIGTERM, as systemd would; SIGKILL the group if it does not stop in 15 s."""
    if kiosk.poll() is None:
        kiosk.send_signal(signal.SIGTERM)
        try:
            kiosk.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(kiosk.pid, signal.SIGKILL)
            kiosk.wait()
    return kiosk.returncode


def kill_player(port: int, timeout: float = 60.0) -> dict:
    """SIGKILL the player; seconds until a new player has presented a frame."""
    status = get_status(port) or {}
    pid = status.get("player_pid")
    if not pid:
        return {"t_kill": None, "error": "no player to kill"}
    start = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    while time.monotonic() - start < timeout:
        s = get_status(port) or {}
        if s.get("player_pid") not in (None, pid) and s.get("player_frames", 0) > 0:
            return {"pid": pid, "seconds_to_next_frame": round(time.monotonic() - start, 3)}
        time.sleep(0.05)
    return {"pid": pid, "seconds_to_next_frame": None, "error": f"no frame within {timeout:.0f} s"}


def sample(t: float, status: dict | None, kiosk_pid: int) -> dict:
    s = status or {}
    return {
        "t": round(t, 2),
        "rss_player": s.get("rss_bytes"),
        "rss_supervisor": rss_bytes(kiosk_pid),
        "fps": s.get("fps"),
        "p50_ms": s.get("frame_time_p50_ms"),
        "p99_ms": s.get("frame_time_p99_ms"),
        "frames_total": s.get("frames_total"),
        "dropped_total": s.get("dropped_frames_total"),
        "restarts": s.get("restarts"),
        "state": s.get("state", "no answer"),
        "cue": s.get("cue"),
        "player_pid": s.get("player_pid"),
    }


def slope_mb_per_hour(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of (seconds, bytes) in MB per hour."""
    if len(points) < 3:
        return None
    n = len(points)
    mt = sum(t for t, _ in points) / n
    mv = sum(v for _, v in points) / n
    var = sum((t - mt) ** 2 for t, _ in points)
    if var == 0:
        return None
    cov = sum((t - mt) * (v - mv) for t, v in points)
    return cov / var * 3600 / MB


def median(values: list[float]) -> float | None:
    v = sorted(values)
    return None if not v else (v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2)


def rss_per_cycle(series: list[dict]) -> list[float]:
    """The player's RSS (MB) at the first sample of each show cycle (back in the 'grid' cue after the others):
    about the same point of the show each time, so a leak per pass or per scene shows as a rising list."""
    out, previous = [], None
    for s in series:
        if s["cue"] == "grid" and previous not in (None, "grid") and s["rss_player"]:
            out.append(round(s["rss_player"] / MB, 1))
        previous = s["cue"] or previous
    return out


def dropped(series: list[dict]) -> int:
    """Frames over 1.5 frame intervals during the run; a new player counts from 0 again, frames_total does not."""
    total = 0
    for a, b in zip(series, series[1:]):
        before, after = a["dropped_total"] or 0, b["dropped_total"] or 0
        total += after - before if after >= before else after
    return total


def summarise(series: list[dict], kills: list[dict]) -> dict:
    playing = [s for s in series if s["state"] == "playing"]
    duration = series[-1]["t"] - series[0]["t"] if len(series) > 1 else 0.0
    frames = (series[-1]["frames_total"] or 0) - (series[0]["frames_total"] or 0)
    second_half = [s for s in series if s["t"] >= series[-1]["t"] / 2]
    summary = {
        "duration_s": round(duration, 1),
        "samples": len(series),
        "frames": frames,
        "fps_mean": round(frames / duration, 2) if duration else None,
        "fps_reported_median": median([s["fps"] for s in playing if s["fps"] is not None]),
        "p50_ms_median": median([s["p50_ms"] for s in playing if s["p50_ms"] is not None]),
        "p99_ms_median": median([s["p99_ms"] for s in playing if s["p99_ms"] is not None]),
        "p99_ms_max": max((s["p99_ms"] for s in playing if s["p99_ms"] is not None), default=None),
        "dropped_frames": dropped(series),
        "restarts": series[-1]["restarts"],
        "samples_not_playing": len(series) - len(playing),
        "kills": len(kills),
        "seconds_to_next_frame": [k.get("seconds_to_next_frame") for k in kills],
        "rss_player_mb_per_cycle": rss_per_cycle(series),
    }
    for who in ("player", "supervisor"):
        values = [s[f"rss_{who}"] for s in series if s[f"rss_{who}"]]
        slope = slope_mb_per_hour([(s["t"], s[f"rss_{who}"]) for s in second_half if s[f"rss_{who}"]])
        summary[f"rss_{who}_mb"] = {
            "first": round(values[0] / MB, 1) if values else None,
            "last": round(values[-1] / MB, 1) if values else None,
            "max": round(max(values) / MB, 1) if values else None,
            "slope_second_half_mb_per_h": None if slope is None else round(slope, 2),
        }
    return summary


def gl_info() -> dict:
    """The renderer a headless player gets (the doctor's probe, in a child: GL state stays out of here)."""
    code = "import json; from installation.doctor import probe_gl; print(json.dumps(probe_gl()))"
    try:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO)
        return json.loads(out.stdout.strip().splitlines()[-1])
    except (subprocess.SubprocessError, ValueError, IndexError):
        return {}


def machine_info() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem = next((int(line.split()[1]) * 1024 for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal:")), None)
    versions = {}
    for pkg in ("installation", "moderngl", "numpy", "onnxruntime", "torch", "pyglet", "PyYAML"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO)
    # Uncommitted runtime changes are part of what was measured: name them.
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "installation"], capture_output=True, text=True,
                           cwd=REPO)
    return {
        "cpu": cpu, "cores": os.cpu_count(), "mem_bytes": mem, "python": platform.python_version(),
        "platform": platform.platform(), "gl": gl_info(), "versions": versions,
        "commit": commit.stdout.strip() or None, "uncommitted": [line[3:] for line in dirty.stdout.splitlines()],
        "loadavg_start": os.getloadavg(),
    }


def fmt(v, spec: str = "") -> str:
    return "-" if v is None else format(v, spec)


def print_table(series: list[dict], every: int) -> None:
    header = (f"{'t s':>7} {'state':>10} {'cue':>11} {'fps':>6} {'p50 ms':>7} {'p99 ms':>7} {'frames':>8} "
              f"{'dropped':>8} {'restarts':>8} {'player MB':>9} {'superv MB':>9}")
    print(header)
    print("-" * len(header))
    rows = series[::every] + ([series[-1]] if (len(series) - 1) % every else [])
    for s in rows:
        print(f"{s['t']:>7.0f} {s['state']:>10} {fmt(s['cue']):>11} {fmt(s['fps'], '.1f'):>6} "
              f"{fmt(s['p50_ms'], '.1f'):>7} {fmt(s['p99_ms'], '.1f'):>7} {fmt(s['frames_total']):>8} "
              f"{fmt(s['dropped_total']):>8} {fmt(s['restarts']):>8} "
              f"{fmt(s['rss_player'] and s['rss_player'] / MB, '.1f'):>9} "
              f"{fmt(s['rss_supervisor'] and s['rss_supervisor'] / MB, '.1f'):>9}")


def print_summary(summary: dict) -> None:
    print(f"\n{summary['duration_s']:.0f} s, {summary['frames']} frames, {fmt(summary['fps_mean'], '.1f')} fps "
          f"(frames / time), p50 {fmt(summary['p50_ms_median'], '.1f')} ms, p99 {fmt(summary['p99_ms_median'], '.1f')} "
          f"ms (median of samples; max {fmt(summary['p99_ms_max'], '.1f')}), dropped {summary['dropped_frames']}, "
          f"restarts {summary['restarts']}, samples not playing {summary['samples_not_playing']}")
    for who in ("player", "supervisor"):
        r = summary[f"rss_{who}_mb"]
        print(f"RSS {who:>10}: first {fmt(r['first'])} MB, last {fmt(r['last'])} MB, max {fmt(r['max'])} MB, "
              f"slope over the second half {fmt(r['slope_second_half_mb_per_h'], '+.2f')} MB/h")
    cycles = summary["rss_player_mb_per_cycle"]
    if cycles:
        print(f"player RSS at the start of each show cycle ({len(cycles)}): {' '.join(f'{v:.0f}' for v in cycles)} MB")
    if summary["kills"]:
        times = [t for t in summary["seconds_to_next_frame"] if t is not None]
        print(f"kill -9 of the player: {summary['kills']} times; next frame after median "
              f"{fmt(median(times), '.2f')} s, max {fmt(max(times, default=None), '.2f')} s")


def run(args: argparse.Namespace) -> int:
    info = machine_info()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    log_path = args.out.with_suffix(".log")
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp, open(log_path, "w") as log:
        show = write_show(Path(tmp))
        port = free_port()
        kiosk = start_kiosk(show, port, args, log)
        try:
            why = wait_playing(kiosk, port, args.start_timeout)
            if why:
                print(f"soak: the kiosk did not start: {why} (log: {log_path})", file=sys.stderr)
                return 1
            series, kills = poll(kiosk, port, args)
        finally:
            code = stop_kiosk(kiosk)
    info["loadavg_end"] = os.getloadavg()
    if not series:
        print("soak: no samples", file=sys.stderr)
        return 1
    summary = {**summarise(series, kills), "kiosk_exit_code": code}
    print_table(series, max(1, args.every))
    print_summary(summary)
    config = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    payload = {"config": config, "show": SHOW, "machine": info, "summary": summary, "kills": kills, "series": series}
    args.out.write_text(json.dumps(payload, indent=2))
    print(f"wrote {args.out} (kiosk log: {log_path})")
    return 0


def poll(kiosk: subprocess.Popen, port: int, args: argparse.Namespace) -> tuple[list[dict], list[dict]]:
    """Sample every --interval s for --minutes; Ctrl-C ends early and keeps what was sampled."""
    series: list[dict] = []
    kills: list[dict] = []
    start = time.monotonic()
    end = start + args.minutes * 60
    next_kill = start + args.kill_every if args.kill_every else None
    tick = start
    try:
        while tick <= end and kiosk.poll() is None:
            series.append(sample(time.monotonic() - start, get_status(port), kiosk.pid))
            if args.progress:
                s = series[-1]
                print(f"  t={s['t']:.0f}s {s['state']} fps={fmt(s['fps'])} player="
                      f"{fmt(s['rss_player'] and s['rss_player'] // MB)}MB restarts={s['restarts']}", flush=True)
            # No kill at the last sample: its restart would not be in the series.
            if next_kill is not None and time.monotonic() >= next_kill and tick + args.interval <= end:
                kills.append({"t": round(time.monotonic() - start, 2), **kill_player(port)})
                next_kill = time.monotonic() + args.kill_every
            tick += args.interval
            time.sleep(max(0.0, tick - time.monotonic()))
    except KeyboardInterrupt:
        print("interrupted: stopping the kiosk and writing what was sampled", file=sys.stderr)
    if kiosk.poll() is not None:
        print(f"soak: the kiosk exited with code {kiosk.returncode} during the run", file=sys.stderr)
    return series, kills


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=10.0, help="how long to sample (default 10)")
    p.add_argument("--interval", type=float, default=5.0, help="seconds between /status samples (default 5)")
    p.add_argument("--kill-every", type=float, default=None, metavar="S", help="kill -9 the player every S seconds")
    p.add_argument("--size", default="1280x720", help="render size (default 1280x720)")
    p.add_argument("--fps", type=float, default=60.0, help="the headless player's frame rate (default 60)")
    p.add_argument("--start-timeout", type=float, default=180.0, help="seconds allowed for the first frame")
    p.add_argument("--every", type=int, default=12, help="print every N-th sample in the table (default 12)")
    p.add_argument("--progress", action="store_true", help="print each sample as it is taken")
    p.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "soak.json")
    args = p.parse_args()
    if args.minutes <= 0 or args.interval <= 0 or (args.kill_every is not None and args.kill_every <= 0):
        p.error("--minutes, --interval and --kill-every must be > 0")
    if not COLLECTION.is_dir():
        print(f"soak: the demo collection is missing ({COLLECTION})", file=sys.stderr)
        return 1
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
