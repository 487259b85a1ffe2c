"""One show across many machines (issue 14): the wall layout, viewports that stitch into the single-canvas
render, the shared epoch clock, and fleet commands and statuses through a real Mosquitto on loopback.

The broker tests start ``mosquitto -c CONFIG`` on a free loopback port and skip when it cannot run; the
players are ``installation run --headless`` subprocesses with tiny viewports at low frame rates.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from installation.player import EpochClock
from installation.show import ShowError, load_show_text
from installation.wall.broker import stop_players
from installation.wall.clock_sync import parse_chrony, parse_timedatectl
from installation.wall.commands import CommandError, decode_log, encode_log, make_command
from installation.wall.layout import Rect, grid_viewports, parse_epoch
from installation.wall.status import PlayerStatus, content_problems

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "assets" / "collections" / "demo"


# ---- layout, epoch, schema -------------------------------------------------------------------------------

def test_grid_viewports_with_bezels_in_pixels_and_millimetres() -> None:
    tiles = grid_viewports((200, 100), 2, 2, bezel=8)
    assert tiles["r0c0"] == Rect(0, 0, 96, 46) and tiles["r1c1"] == Rect(104, 54, 96, 46)
    # 2 screens 500 mm wide with 20 mm of frame between their pictures: the gap is 4 % of a tile
    mm = grid_viewports((1000, 100), 1, 2, bezel="20mm", screen_mm=(500, 50))
    assert mm["r0c0"].width == 490 and mm["r0c1"].x == 490 + round(20 * (1000 / 2.04) / 500)
    with pytest.raises(ValueError, match="screen_mm"):
        grid_viewports((200, 100), 1, 2, bezel="5mm")
    with pytest.raises(ValueError, match="at least 16x16"):
        grid_viewports((64, 64), 4, 4, bezel=4)


def test_epochs_parse_from_iso_and_unix_and_need_a_zone() -> None:
    assert parse_epoch("2025-01-01T00:00:00Z") == 1735689600.0
    assert parse_epoch("2025-01-01T01:00:00+01:00") == 1735689600.0
    assert parse_epoch(1735689600) == parse_epoch("1735689600") == 1735689600.0
    for bad in ("2025-01-01T00:00:00", "soon", 12, True):
        with pytest.raises(ValueError):
            parse_epoch(bad)


WALL_SHOW = """version: 1
wall:
  canvas: 200x100
  grid: {rows: 1, cols: 2, bezel: 8}
  viewports:
    r0c1: [0, 0, 50, 50]
    big: {x: 100, y: 0, width: 150, height: 100}
  epoch: 2025-01-01T00:00:00Z
cues:
  - scene: solid
    duration: 1
"""


def test_wall_errors_name_file_line_and_key() -> None:
    with pytest.raises(ShowError) as err:
        load_show_text(WALL_SHOW, "w.yaml")
    text = str(err.value)
    assert "w.yaml:6 wall.viewports.r0c1: viewport 'r0c1' is already named by the grid" in text
    assert "w.yaml:7 wall.viewports.big: [100, 0, 150, 100] reaches outside the 200x100 canvas" in text
    for bad, message in (("canvas: 99999x10", "wall.canvas"), ("margin: 999", "wall.margin"),
                         ("epoch: yesterday", "wall.epoch"), ("canvs: 10x10", "did you mean")):
        with pytest.raises(ShowError, match=message):
            load_show_text(f"version: 1\nwall:\n  {bad}\ncues:\n  - {{scene: solid, duration: 1}}\n", "w.yaml")
    with pytest.raises(ShowError, match="w.yaml:2 wall: viewports need a canvas"):
        load_show_text("version: 1\nwall:\n  grid: {rows: 1, cols: 2}\ncues:\n  - {scene: solid, duration: 1}\n",
                       "w.yaml")
    good = load_show_text(WALL_SHOW.replace("    r0c1: [0, 0, 50, 50]\n", "").replace("150", "100"), "w.yaml")
    assert good.wall is not None and good.wall.epoch == 1735689600.0
    assert list(good.wall.layout()) == ["r0c0", "r0c1", "big"]


def test_epoch_clock_is_shared_time_on_a_frame_grid() -> None:
    now = [1000.0 + 12.34]
    clock = EpochClock(1000.0, fps=10, now=lambda: now[0])
    assert clock.tick() == (12.3, 0.0) and clock.frame == 123
    now[0] += 0.26
    t, dt = clock.tick()
    assert clock.frame == 126 and t == pytest.approx(12.6) and dt == pytest.approx(0.3)
    late = EpochClock(1000.0, fps=10, now=lambda: now[0])  # a player started now: the same frame at once
    assert late.tick()[0] == t


def test_commands_and_statuses_round_trip() -> None:
    go = make_command("go", lead=0.5, by="cli", now=lambda: 100.0)
    cue = make_command("cue", "intro", now=lambda: 101.0)
    log = decode_log(encode_log([cue, go]))
    assert [c.cmd for c in log] == ["go", "cue"] and log[0].at == 100.5 and log[1].cue == "intro"
    with pytest.raises(CommandError):
        make_command("explode")
    with pytest.raises(CommandError):
        make_command("cue", None)
    with pytest.raises(CommandError):
        decode_log(b"not json")
    a, b = PlayerStatus("a", show_hash="s1", collection_hash="c1"), PlayerStatus("b", show_hash="s1",
                                                                                  collection_hash="c1")
    c = PlayerStatus("c", show_hash="s2", collection_hash="c1")
    assert content_problems([a, b]) == []
    assert [p.split(":")[0] for p in content_problems([a, b, c])] == ["c"]
    assert PlayerStatus.decode(c.encode()) == c and PlayerStatus.decode(b"[]") is None


def test_clock_sync_reads_chrony_and_timedatectl() -> None:
    chrony = ("Reference ID    : C0A80001 (ntp.lan)\nStratum         : 3\n"
              "System time     : 0.000012345 seconds slow of NTP time\nLeap status     : Normal\n")
    state = parse_chrony(chrony)
    assert state is not None and state.synchronised and state.offset == pytest.approx(-12.345e-6)
    assert "synchronised by chrony, offset -0.012 ms" in state.line()
    unsynced = parse_chrony(chrony.replace("Normal", "Not synchronised"))
    assert unsynced is not None and unsynced.synchronised is False
    td = parse_timedatectl("NTP=yes\nNTPSynchronized=no\n")
    assert td is not None and td.synchronised is False and td.offset is None
    assert parse_timedatectl("garbage") is None


# ---- viewports stitch into the single-canvas render (in process, EGL) -----------------------------------

STITCH_SHOW = f"""version: 1
display: {{size: 128x72, background: "#102030"}}
wall:
  canvas: 128x72
  grid: {{rows: 2, cols: 2}}
  viewports: {{middle: [40, 20, 48, 32]}}
  margin: 16
cues:
  - id: still
    scene: {{type: image, path: {DEMO / '0003.png'}, fit: cover}}
    duration: 1.0
    post: [{{type: kuwahara, radius: 4}}, {{type: grade, saturation: 1.4}}]
    transition: {{type: dissolve, seconds: 0.5}}
  - id: grid
    scene: {{type: gradual_change, collection: {DEMO}, rows: 3, cols: 3, order: as_is, reveal_interval: 0.2,
            cell_transition: {{type: dissolve, seconds: 0.4}}}}
    duration: 3
    transition: {{type: wipe, seconds: 1.0}}
"""
TIMES = (0.3, 0.75, 1.2, 1.5, 1.9, 2.6)  # cue fade-in, still + Kuwahara, wipe across the seams, the grid


def _frames(show, viewport: str | None, size: tuple[int, int]) -> list[np.ndarray]:  # noqa: ANN001
    """The frames at TIMES, each redrawn until images that load in the background have arrived."""
    from conftest import headless_context

    from installation.player import Player

    rc = headless_context(size)
    player = Player(show, rc.ctx, rc.size, viewport=viewport)
    out, previous = [], 0.0
    try:
        for t in TIMES:
            last = None
            for k in range(60):
                rc.begin_frame()
                player.frame(t, t - previous if k == 0 else 0.0, rc.fbo)
                img = rc.read_pixels()
                rc.end_frame()
                if last is not None and k > 3 and np.array_equal(img, last):
                    break
                last = img
                time.sleep(0.02)
            previous = t
            out.append(img)
    finally:
        player.release()
        rc.close()
    return out


@pytest.mark.gl
def test_viewports_stitch_into_the_single_canvas_render(tmp_path: Path) -> None:
    show = load_show_text(STITCH_SHOW, str(tmp_path / "stitch.yaml"))
    assert show.wall is not None
    full = _frames(show, None, (128, 72))
    stitched = [np.zeros_like(f) for f in full]
    layout = show.wall.layout()
    for name, r in layout.items():
        frames = _frames(show, name, (r.width, r.height))
        for i, img in enumerate(frames):
            # every viewport, the overlapping 'middle' one too, equals its part of the canvas, pixel for pixel
            diff = np.abs(img.astype(int) - full[i][r.y:r.bottom, r.x:r.right].astype(int))
            assert diff.max() == 0, f"viewport {name} at t={TIMES[i]}: {int((diff > 0).sum())} pixels differ"
            if name != "middle":
                stitched[i][r.y:r.bottom, r.x:r.right] = img
    for i, t in enumerate(TIMES):
        assert np.array_equal(stitched[i], full[i]), f"t={t}"
        assert full[i].std() > 10  # a picture, not a flat colour that would stitch trivially


@pytest.mark.gl
def test_a_viewport_scales_to_the_display_resolution(tmp_path: Path) -> None:
    show = load_show_text(STITCH_SHOW, str(tmp_path / "stitch.yaml"))
    full = _frames(show, None, (128, 72))[1]
    big = _frames(show, "r0c1", (128, 72))[1]  # a 64x36 viewport on a display twice its size
    import cv2

    small = cv2.resize(big, (64, 36), interpolation=cv2.INTER_AREA)
    assert np.abs(small.astype(int) - full[0:36, 64:128].astype(int)).mean() < 6


# ---- the fleet, through a real Mosquitto ----------------------------------------------------------------

@pytest.fixture
def broker(tmp_path: Path) -> Iterator:
    from installation.wall.broker import LocalBroker, find_mosquitto

    if find_mosquitto() is None:
        pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
    b = LocalBroker(tmp_path / "broker")
    try:
        b.start()
    except RuntimeError as exc:
        pytest.skip(f"mosquitto cannot run here: {exc}")
    yield b
    b.stop()


FLEET_SHOW = """version: 1
name: fleet test
display: {size: 128x36}
wall:
  name: testwall
  canvas: 128x36
  grid: {rows: 1, cols: 2}
cues:
  - {id: one, scene: {type: solid, colour: "#ff0000"}, follow: hold}
  - {id: two, scene: {type: solid, colour: "#00ff00"}, follow: hold}
  - {id: three, scene: {type: solid, colour: "#0000ff"}, follow: hold}
"""
FPS = 10


def _player(show: Path, viewport: str, pid: str, broker_address: str, epoch: float, log: Path,
            seconds: float = 40.0, control: int | None = None) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "INSTALLATION_THREADS": "1"}
    if control is not None:  # the player's control channel, as a kiosk supervisor gives it
        env["INSTALLATION_CONTROL"] = f"127.0.0.1:{control}"
    cmd = [sys.executable, "-m", "installation.cli", "-v", "run", str(show), "--headless", "--fps", str(FPS),
           "--viewport", viewport, "--epoch", repr(epoch), "--broker", broker_address, "--player-id", pid,
           "--seconds", str(seconds)]
    return subprocess.Popen(cmd, cwd=REPO, env=env, stdout=open(log, "ab"), stderr=subprocess.STDOUT)


def _wait(fleet, what: Callable[[dict[str, PlayerStatus]], bool], timeout: float, why: str) -> dict:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        statuses = {s.id: s for s in fleet.statuses()}
        if what(statuses):
            return statuses
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {why}: {[s.__dict__ for s in fleet.statuses()]}")


@pytest.mark.gl
def test_players_switch_on_the_same_frame_and_a_killed_player_rejoins(broker, tmp_path: Path) -> None:  # noqa: ANN001
    from installation.wall.fleet import Fleet
    from installation.wall.mqtt import BrokerConfig

    show = tmp_path / "wall.yaml"
    show.write_text(FLEET_SHOW)
    other = tmp_path / "other" / "wall.yaml"  # the same show with an edit: `wall check` must name its player
    other.parent.mkdir()
    other.write_text(FLEET_SHOW + "# edited on one machine only\n")
    from installation.wall.broker import free_port

    epoch = time.time() - 100.0
    logs = {pid: tmp_path / f"{pid}.log" for pid in ("p0", "p1", "p2")}
    control = free_port()
    procs = {"p0": _player(show, "r0c0", "p0", broker.address, epoch, logs["p0"], control=control),
             "p1": _player(show, "r0c1", "p1", broker.address, epoch, logs["p1"]),
             "p2": _player(other, "r0c1", "p2", broker.address, epoch, logs["p2"])}
    fleet = Fleet(BrokerConfig.parse(broker.address), "testwall").start()
    try:
        _wait(fleet, lambda s: all(p in s and s[p].state == "playing" and s[p].show_hash for p in procs), 25,
              "three players")
        # `go` from outside (the CLI's path): every player draws cue two from the same show frame
        go = fleet.publish("go", lead=1.0, by="test")
        at_frame = int(np.ceil((go.at - epoch) * FPS - 1e-9))
        statuses = _wait(fleet, lambda s: all(s[p].cue == "two" and s[p].switch and s[p].switch["cue"] == "two"
                                              for p in procs), 10, "the switch to cue two")
        frames = {p: statuses[p].switch["frame"] for p in procs}
        assert set(frames.values()) == {at_frame}, frames
        from installation.cli.app import main

        assert main(["wall", "check", "--broker", broker.address, "--wall", "testwall", "--wait", "0.3"]) == 1
        # a player killed hard comes back on the right cue and frame at once
        procs["p1"].kill()
        procs["p1"].wait()
        procs["p1"] = _player(show, "r0c1", "p1", broker.address, epoch, logs["p1"])
        statuses = _wait(fleet, lambda s: s["p1"].pid == procs["p1"].pid and s["p1"].switch is not None, 20,
                         "p1 to come back")
        back = statuses["p1"]
        assert back.cue == "two" and back.switch["joined"] and back.switch["at"] == pytest.approx(go.at - epoch,
                                                                                               abs=1e-3)
        assert abs(back.frame - (time.time() - epoch) * FPS) < 3 * FPS  # on the shared clock, not from 0
        # a command given to one player's control interface (kiosk HTTP/OSC -> UDP) goes to the whole fleet
        import json
        import socket

        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(json.dumps({"cmd": "cue", "id": "three", "seq": 1}).encode(), ("127.0.0.1", control))
        statuses = _wait(fleet, lambda s: all(s[p].switch and s[p].switch["cue"] == "three" for p in procs), 10,
                         "the cue three")
        starts = {statuses[p].switch["at"] for p in procs}
        assert len(starts) == 1
        at_frame = int(np.ceil(starts.pop() * FPS - 1e-9))
        assert {statuses[p].switch["frame"] for p in procs} == {at_frame}
    finally:
        fleet.close()
        # three GL players on a loaded 2-core CI machine may take more than the default 5 s to say goodbye
        stop_players(procs.values(), grace=20.0)
    check = subprocess.run([sys.executable, "-m", "installation.cli", "wall", "status", "--broker", broker.address,
                            "--wall", "testwall", "--wait", "0.3"], capture_output=True, text=True, cwd=REPO)
    assert check.returncode == 0 and "p0" in check.stdout and "stopped" in check.stdout, check.stdout


@pytest.mark.gl
def test_a_stopped_broker_does_not_stop_playback(broker, tmp_path: Path) -> None:  # noqa: ANN001
    from installation.wall.broker import LocalBroker
    from installation.wall.fleet import Fleet
    from installation.wall.mqtt import BrokerConfig

    show = tmp_path / "wall.yaml"
    show.write_text(FLEET_SHOW)
    log = tmp_path / "p0.log"
    player = _player(show, "r0c0", "p0", broker.address, time.time() - 5, log, seconds=30)
    config = BrokerConfig.parse(broker.address)
    fleet = Fleet(config, "testwall").start()
    restarted: LocalBroker | None = None
    try:
        before = _wait(fleet, lambda s: "p0" in s and s["p0"].extra.get("frames", 0) > 0, 25, "p0")["p0"]
        fleet.close()
        broker.stop()
        time.sleep(3.0)
        assert player.poll() is None, "the player exited when the broker went away"
        restarted = LocalBroker(broker.folder, broker.port).start()
        fleet = Fleet(config, "testwall").start(timeout=5)
        after = _wait(fleet, lambda s: "p0" in s and s["p0"].extra.get("connects", 0) >= 2, 20, "a reconnect")["p0"]
        # frames kept coming while the broker was away (about FPS a second)
        assert after.extra["frames"] - before.extra["frames"] >= 2 * FPS
    finally:
        fleet.close()
        stop_players([player])
        if restarted is not None:
            restarted.stop()  # the test's own broker: the fixture stops only the one it started
    assert "lost the broker" in log.read_text()


def test_kiosk_passes_the_wall_options_to_its_player_and_keeps_the_password_out_of_argv(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from installation.cli import wall
    from installation.cli.app import build_parser
    from installation.cli.kiosk import unit_args
    from installation.wall.mqtt import ENV_PASSWORD

    monkeypatch.delenv(ENV_PASSWORD, raising=False)
    args = build_parser().parse_args(["kiosk", "show.yaml", "--viewport", "r0c1", "--broker", "10.0.0.2:8883",
                                      "--tls", "--username", "player", "--password", "s3cret",
                                      "--epoch", "2025-01-01T00:00:00Z"])
    argv = wall.player_args(args)
    assert argv[:4] == ["--viewport", "r0c1", "--broker", "10.0.0.2:8883"]
    assert "--tls" in argv and "1735689600.0" in argv and "s3cret" not in argv
    assert os.environ[ENV_PASSWORD] == "s3cret"
    assert "s3cret" not in unit_args(args.parser, args) and "--viewport" in unit_args(args.parser, args)
    config = wall.broker_config(args)
    assert (config.host, config.port, config.tls, config.password) == ("10.0.0.2", 8883, True, "s3cret")
    from installation.cli.app import main

    assert main(["wall", "go", "--broker", "host:notaport"]) == 2
