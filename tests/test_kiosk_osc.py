"""Kiosk OSC control on real processes: ``installation kiosk --osc`` with a headless (EGL) player child.

Messages are built by python-osc and sent over real UDP from a socket of the test's, which also reads
what the kiosk answers to the sender; ``--osc-reply`` feedback goes to a second socket. Cue changes are
checked in the OSC status (from the player's heartbeats) and blackout in the player's own screenshot.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

from helpers.kiosk import REPO, Kiosk, kiosk, needs_egl
from helpers.kiosk import colour as _colour
from helpers.kiosk import near as _near
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import build_msg
from pythonosc.udp_client import SimpleUDPClient

from installation.cli import main

SHOW = """version: 1
name: osc test
display: {size: 160x90, background: [0, 0, 0]}
cues:
  - {id: a, scene: {type: solid, colour: "#c03020"}, duration: 600, transition: cut}
  - {id: b, scene: {type: solid, colour: "#2040c0"}, duration: 600, transition: cut}
  - {id: 3, scene: {type: solid, colour: "#30c050"}, transition: cut, follow: hold}
"""
ANSWER = ("/installation/reply", "/installation/status", "/installation/status/json")


class Peer:
    """A UDP socket on 127.0.0.1: sends OSC messages to the kiosk and reads the ones that come back."""

    def __init__(self, port: int = 0) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.to = ("127.0.0.1", port)

    def send(self, address: str, *args: object) -> None:
        self.sock.sendto(build_msg(address, list(args)).dgram, self.to)

    def receive(self, timeout: float) -> list[OscMessage]:
        """Everything that arrives until ``timeout`` seconds pass with nothing new."""
        out = []
        self.sock.settimeout(timeout)
        while True:
            try:
                out.append(OscMessage(self.sock.recv(65536)))
            except TimeoutError:
                return out

    def ask(self, address: str, *args: object, timeout: float = 6.0) -> dict[str, list]:
        """Send one message and wait for the three answers (reply, status, status/json) by address."""
        self.receive(0.01)  # nothing stale
        self.send(address, *args)
        got: dict[str, list] = {}
        end = time.monotonic() + timeout
        while not all(a in got for a in ANSWER):
            self.sock.settimeout(max(0.01, end - time.monotonic()))
            try:
                msg = OscMessage(self.sock.recv(65536))
            except TimeoutError:
                raise AssertionError(f"no full answer to {address} {args}: {got}") from None
            got[msg.address] = msg.params
            if msg.address == "/installation/reply" and msg.params[2] == "unauthorised":
                break
        return got

    def cue_becomes(self, want: str, *token: str, timeout: float = 10.0) -> dict[str, list]:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            got = self.ask("/installation/status", *token)
            if got["/installation/status"][1] == want:
                return got
            time.sleep(0.1)
        raise AssertionError(f"the cue never became {want!r}: {got}")

    def close(self) -> None:
        self.sock.close()


def _osc_port(k: Kiosk) -> int:
    line = k.proc.stdout.readline()
    m = re.search(r"osc udp://[^ ]+:(\d+) ", line)
    assert m, f"no osc line: {line!r}"
    return int(m.group(1))


@needs_egl
def test_osc_steps_cues_blacks_out_and_answers(tmp_path: Path) -> None:
    show = tmp_path / "osc.yaml"
    show.write_text(SHOW)
    feedback = Peer()  # --osc-reply: Companion-style feedback to a fixed address
    with kiosk(tmp_path, show, "--osc", "127.0.0.1:0", "--osc-reply", f"127.0.0.1:{feedback.port}") as k:
        peer = Peer(_osc_port(k))
        try:
            k.wait("first frames", lambda st: st["healthy"] and st["player_frames"] > 3 and st["fps"] > 0)
            # --osc-reply is pushed the status unasked when it changes (here: the player came up)
            pushed = [m.params for m in feedback.receive(1.5) if m.address == "/installation/status"]
            assert any(p[:2] == ["playing", "a"] for p in pushed), pushed
            got = peer.ask("/installation/status")
            assert got["/installation/reply"] == ["status", 1, ""]
            state, cue, frames, fps, restarts, healthy = got["/installation/status"]
            assert (state, cue, restarts, healthy) == ("playing", "a", 0, 1)
            assert isinstance(frames, int) and frames > 3 and isinstance(fps, float) and fps > 0
            full = json.loads(got["/installation/status/json"][0])
            assert full["cue"] == "a" and full["control"] == {"cmd": "status", "ok": True, "error": None}

            assert peer.ask("/installation/next")["/installation/reply"] == ["next", 1, ""]
            peer.cue_becomes("b")
            assert peer.ask("/installation/previous")["/installation/reply"] == ["previous", 1, ""]
            peer.cue_becomes("a")
            assert peer.ask("/installation/cue", 3)["/installation/reply"] == ["cue", 1, ""]  # an int id
            peer.cue_becomes("3")
            assert peer.ask("/installation/cue/b", 1.0)["/installation/reply"] == ["cue", 1, ""]  # id in the address
            peer.cue_becomes("b")
            assert _near(_colour(k), "#2040c0")

            # a TouchOSC button's release (0) runs nothing and gets no answer
            peer.send("/installation/next", 0.0)
            assert peer.receive(0.5) == []
            assert peer.ask("/installation/status")["/installation/status"][1] == "b"

            assert peer.ask("/installation/blackout")["/installation/reply"] == ["blackout", 1, ""]
            assert _near(_colour(k), "#000000")
            assert peer.ask("/installation/unblackout", True)["/installation/reply"] == ["unblackout", 1, ""]
            assert _near(_colour(k), "#2040c0")

            cmd, ok, error = peer.ask("/installation/cue", "nope")["/installation/reply"]
            assert (cmd, ok) == ("cue", 0) and "nope" in error
            got = peer.ask("/installation/cue", "nope")
            assert json.loads(got["/installation/status/json"][0])["control"]["ok"] is False

            # malformed messages: answered with ok=0 and a reason; nothing runs, the server lives on
            for address, args, words in [
                ("/installation/cue", (), "cue id"),
                ("/installation/cue", (1.5,), "cue id"),
                ("/installation/next", ("x",), "unexpected arguments"),
                ("/installation/next", (1, 1), "unexpected arguments"),
                ("/installation/frobnicate", (), "unknown address"),
                ("/installation/*", (), "unknown address"),  # a pattern must not fan out to every command
                ("/elsewhere", (), "unknown address"),
            ]:
                cmd, ok, error = peer.ask(address, *args)["/installation/reply"]
                assert ok == 0 and words in error, (address, args, error)
            peer.sock.sendto(b"not osc at all", peer.to)
            for _ in range(30):  # python-osc raises on a non-UTF-8 address: dropped, logged once, no traceback
                peer.sock.sendto(b"/\xc0\x80\x00,\x00\x00\x00", peer.to)
            got = peer.ask("/installation/status")
            assert got["/installation/status"][:2] == ["playing", "b"] and got["/installation/status"][4] == 0
            assert _near(_colour(k), "#2040c0")  # /installation/* ran neither blackout nor a cue change

            # python-osc's own client: the answer goes back to its socket and to --osc-reply
            feedback.receive(0.01)
            with SimpleUDPClient("127.0.0.1", peer.to[1]) as client:
                client.send_message("/installation/go", [])
                peer.cue_becomes("3")
            seen = {(m.address, tuple(m.params)) for m in feedback.receive(0.5) if m.address == "/installation/reply"}
            assert ("/installation/reply", ("go", 1, "")) in seen
        finally:
            peer.close()
            feedback.close()
    log = (tmp_path / "kiosk.log").read_text()
    assert "Traceback" not in log
    assert 1 <= log.count("could not decode") <= 2, log


@needs_egl
def test_osc_needs_the_token_as_first_argument(tmp_path: Path) -> None:
    show = tmp_path / "osc.yaml"
    show.write_text(SHOW)
    with kiosk(tmp_path, show, "--osc", "0.0.0.0:0", bind="0.0.0.0:0", token="s3cret") as k:
        peer = Peer(_osc_port(k))  # bound to every address; sent to over loopback
        try:
            st = k.wait("first frames", lambda st: st["healthy"] and st["cue"] == "a")
            for args in [(), ("wrong",), ("s3cre",), (1,)]:
                got = peer.ask("/installation/next", *args)
                assert got["/installation/reply"] == ["next", 0, "unauthorised"]
                assert peer.receive(0.2) == []  # no status for a stranger
            assert peer.ask("/installation/status")["/installation/reply"] == ["status", 0, "unauthorised"]
            assert peer.ask("/installation/cue", "b")["/installation/reply"] == ["cue", 0, "unauthorised"]
            for _ in range(40):  # a flood: each refused, but the log gets one line, not forty
                peer.send("/installation/next", "guess")
            assert len(peer.receive(0.5)) == 40
            time.sleep(0.5)
            now = k.status()
            assert now["cue"] == "a" and now["player_pid"] == st["player_pid"] and now["restarts"] == 0

            assert peer.ask("/installation/next", "s3cret")["/installation/reply"] == ["next", 1, ""]
            peer.cue_becomes("b", "s3cret")
            assert peer.ask("/installation/cue", "s3cret", "a")["/installation/reply"] == ["cue", 1, ""]
            assert peer.cue_becomes("a", "s3cret")["/installation/status"][0] == "playing"
            k.wait("cue a over HTTP too", lambda st: st["cue"] == "a")
        finally:
            peer.close()
    refusals = [line for line in (tmp_path / "kiosk.log").read_text().splitlines() if "osc: refused" in line]
    assert 1 <= len(refusals) <= 2, refusals


def test_osc_bad_options_exit_2_with_one_line(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    show = tmp_path / "osc.yaml"
    show.write_text(SHOW)
    # the real command line in a process of its own: one line on stderr, exit 2, no player started
    proc = subprocess.run([sys.executable, "-m", "installation.cli", "kiosk", str(show), "--osc", "0.0.0.0:9000"],
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.splitlines() == ["error: --osc 0.0.0.0:9000: binding to a non-loopback address needs --token"]

    for argv, words in [
        (["--osc", "9000:x"], "--osc '9000:x': expected HOST:PORT"),
        (["--osc-reply", "9001"], "--osc-reply needs --osc"),
        (["--osc", "9000", "--osc-reply", "127.0.0.1:0"], "needs a port to send to"),
        (["--osc", "[::]:9000", "--http", "8080"], "non-loopback address needs --token"),
    ]:
        assert main(["kiosk", str(show), *argv]) == 2
        err = capsys.readouterr().err.splitlines()
        assert len(err) == 1 and words in err[0], (argv, err)

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as busy:  # a port that is taken: no traceback
        busy.bind(("127.0.0.1", 0))
        port = busy.getsockname()[1]
        proc = subprocess.run([sys.executable, "-m", "installation.cli", "kiosk", str(show), "--headless",
                               "--osc", str(port)], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [f"error: --osc {port}: Address already in use"], proc.stderr


def _threads(pid: int) -> int:
    return int(next(line.split()[1] for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                    if line.startswith("Threads:")))


@needs_egl
def test_a_command_flood_at_a_stalled_player_cannot_grow_threads_without_end(tmp_path: Path) -> None:
    import os
    import signal

    show = tmp_path / "osc.yaml"
    show.write_text(SHOW)
    # a long stall limit: the stopped player stays, so every command waits out the 3 s control timeout
    with kiosk(tmp_path, show, "--osc", "127.0.0.1:0", "--stall-seconds", "60") as k:
        peer = Peer(_osc_port(k))
        pid = k.wait("first frames", lambda st: st["healthy"] and st["player_frames"] > 3)["player_pid"]
        before = _threads(k.proc.pid)
        os.kill(pid, signal.SIGSTOP)
        try:
            for _ in range(200):
                peer.send("/installation/next")
            # the supervisor itself still answers, and sees the stall, while the handlers wait on the player
            k.wait("the stall seen", lambda st: not st["healthy"], timeout=10)
            during = _threads(k.proc.pid)
            assert during <= before + 16 + 2, (before, during)  # 16 handlers at most, not 200
        finally:
            os.kill(pid, signal.SIGCONT)
            peer.close()
        k.wait("the player back", lambda st: st["healthy"])
    assert "request(s) dropped" in (tmp_path / "kiosk.log").read_text()
