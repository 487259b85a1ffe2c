"""A wall on one machine: command-to-switch latency through a real Mosquitto, and whether N players switch on
the same show frame.

    python bench/wall.py [--players 16] [--fps 20] [--commands 5] [--lead 0.5] [--out FILE.json]

Starts ``mosquitto`` on a free loopback port and N ``installation run --headless`` players, each one viewport
(64x36) of a grid over a shared canvas, all on one shared epoch. Then sends ``--commands`` fleet commands
(``go`` / ``cue``) from outside, ``--lead`` seconds ahead, and reads the players' retained statuses:

- delivery: seconds from a command's sending to its arrival at each player (what the lead must cover);
- switch frame: the show frame from which each player drew the new cue (all equal = one frame for all);
- lateness: seconds from the scheduled moment to the frame being presented (at most one frame period plus
  what a loaded machine adds).

Prints a table and writes JSON. Numbers depend on the machine's load (the players share its cores).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from installation.wall.broker import LocalBroker, stop_players  # noqa: E402
from installation.wall.fleet import Fleet  # noqa: E402
from installation.wall.mqtt import BrokerConfig  # noqa: E402

TILE = (64, 36)


def show_text(players: int) -> tuple[str, list[str]]:
    cols = math.ceil(math.sqrt(players))
    rows = math.ceil(players / cols)
    names = [f"r{r}c{c}" for r in range(rows) for c in range(cols)][:players]
    cues = "\n".join(f'  - {{id: c{i}, scene: {{type: solid, colour: "#{(i * 40) % 256:02x}{(i * 90) % 256:02x}80"}}, '
                     "follow: hold}" for i in range(6))
    return (f"version: 1\nname: bench wall\nwall:\n  name: bench\n  canvas: {cols * TILE[0]}x{rows * TILE[1]}\n"
            f"  grid: {{rows: {rows}, cols: {cols}}}\ncues:\n{cues}\n"), names


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))] if s else float("nan")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--players", type=int, default=16)
    p.add_argument("--fps", type=float, default=20.0)
    p.add_argument("--commands", type=int, default=5)
    p.add_argument("--lead", type=float, default=0.5)
    p.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "wall.json")
    args = p.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="wall-bench-"))
    broker = LocalBroker(tmp / "broker").start()
    text, names = show_text(args.players)
    show = tmp / "wall.yaml"
    show.write_text(text)
    epoch = time.time() - 10.0
    env = {**os.environ, "OMP_NUM_THREADS": "1", "INSTALLATION_THREADS": "1"}
    procs = []
    t0 = time.time()
    for i, name in enumerate(names):
        cmd = [sys.executable, "-m", "installation.cli", "run", str(show), "--headless", "--fps", str(args.fps),
               "--viewport", name, "--epoch", repr(epoch), "--broker", broker.address, "--player-id", f"p{i:02d}",
               "--seconds", "600"]
        with open(tmp / f"p{i:02d}.log", "wb") as log:
            procs.append(subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT))
    fleet = Fleet(BrokerConfig.parse(broker.address), "bench").start()
    rounds = []
    try:
        ids = {f"p{i:02d}" for i in range(args.players)}
        while {s.id for s in fleet.statuses() if s.state == "playing"} != ids:
            if time.time() - t0 > 300:
                raise SystemExit("players did not all report within 300 s")
            time.sleep(0.2)
        started = time.time() - t0
        time.sleep(2.0)
        for k in range(args.commands):
            cmd, cue = ("cue", f"c{k % 5 + 1}") if k % 2 else ("go", None)
            command = fleet.publish(cmd, cue, lead=args.lead, by="bench")
            deadline = time.time() + args.lead + 15
            while time.time() < deadline:
                st = [s for s in fleet.statuses() if s.id in ids]
                if all(s.extra.get("command") and s.extra["command"]["id"] == command.id and s.switch
                       and s.switch.get("drawn", 0) >= command.at - 1 / args.fps for s in st):
                    break
                time.sleep(0.05)
            st = [s for s in fleet.statuses() if s.id in ids]
            frames = [s.switch["frame"] for s in st if s.switch]
            delivery = [s.extra["command"]["latency"] for s in st if s.extra.get("command")
                        and s.extra["command"]["id"] == command.id and s.extra["command"]["latency"] is not None]
            late = [s.switch["drawn"] - command.at for s in st if s.switch]
            expected = math.ceil((command.at - epoch) * args.fps - 1e-9)
            rounds.append({"command": cmd, "cue": cue, "players": len(st), "expected_frame": expected,
                           "distinct_frames": sorted(set(frames)), "all_same_frame": len(set(frames)) == 1,
                           "on_expected_frame": sum(f == expected for f in frames),
                           "delivery_ms": {"p50": pct(delivery, 0.5) * 1e3, "max": max(delivery) * 1e3},
                           "lateness_ms": {"p50": pct(late, 0.5) * 1e3, "max": max(late) * 1e3}})
            time.sleep(1.0)
    finally:
        fleet.close()
        stop_players(procs, grace=10)
        broker.stop()

    print(f"wall bench: {args.players} players ({TILE[0]}x{TILE[1]} viewports) at {args.fps:g} fps, lead "
          f"{args.lead:g} s, all reporting after {started:.1f} s; {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores")
    print(f"{'command':<10} {'frame':>8} {'same':>5} {'on it':>6} {'delivery p50/max ms':>21} {'late p50/max ms':>17}")
    for r in rounds:
        d, lt = r["delivery_ms"], r["lateness_ms"]
        print(f"{(r['command'] + ' ' + (r['cue'] or '')).strip():<10} {r['expected_frame']:>8} "
              f"{'yes' if r['all_same_frame'] else 'NO':>5} {r['on_expected_frame']:>3}/{r['players']:<2} "
              f"{d['p50']:>9.1f} /{d['max']:>8.1f} {lt['p50']:>8.1f} /{lt['max']:>7.1f}")
    result = {"players": args.players, "fps": args.fps, "lead": args.lead, "tile": TILE, "startup_s": started,
              "machine": {"cpus": os.cpu_count(), "platform": platform.platform()}, "rounds": rounds}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(f"wrote {args.out}")
    return 0 if all(r["all_same_frame"] for r in rounds) else 1


if __name__ == "__main__":
    raise SystemExit(main())
