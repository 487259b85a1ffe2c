"""The console's fleet page over plain HTTP against a real Mosquitto broker (installation/wall, issue 14):
players' retained statuses listed, a command to all of them lands in the wall's command log, a command to
one player is refused with a reason (the wall's API has no per-player commands). Skips without mosquitto or
paho-mqtt."""

from __future__ import annotations

import json
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from installation.kiosk import http as kiosk_http

pytest.importorskip("paho.mqtt.client")
from installation.wall.broker import LocalBroker, find_mosquitto  # noqa: E402
from installation.wall.commands import decode_log  # noqa: E402
from installation.wall.mqtt import BrokerConfig, MqttClient, topic  # noqa: E402
from installation.wall.status import PlayerStatus  # noqa: E402

TOKEN = "fleet-token"


class _Supervisor:
    def __init__(self, show: Path, player_args: list[str]) -> None:
        self.config = SimpleNamespace(show=show, state_dir=None, control_timeout=3.0, player_args=player_args)
        self.versions = SimpleNamespace(show_args=lambda: [str(show)])

    def status(self) -> dict[str, Any]:
        return {"healthy": True, "safe_mode": False, "state": "playing", "cue": "a"}

    def control(self, cmd: str, **fields: Any) -> dict[str, Any]:
        return {"ok": True}

    def screenshot(self) -> None:
        return None


def _call(port: int, method: str, path: str) -> tuple[int, dict[str, Any]]:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request(method, path, body=b"" if method == "POST" else None, headers={"Authorization": f"Bearer {TOKEN}"})
    resp = conn.getresponse()
    body = json.loads(resp.read())
    conn.close()
    return resp.status, body


@pytest.mark.skipif(find_mosquitto() is None, reason="mosquitto is not installed")
def test_the_fleet_page_lists_players_and_commands_the_wall(tmp_path: Path) -> None:
    broker = LocalBroker(tmp_path / "broker").start()
    config = BrokerConfig.parse(broker.address)
    publisher = MqttClient(config, "test-players")
    server = None
    try:
        publisher.start()
        assert publisher.wait_connected(5)
        for pid, viewport in (("left", "r0c0"), ("right", "r0c1")):
            status = PlayerStatus(id=pid, wall="lobby", viewport=viewport, cue="intro", fps=59.9, last_seen=time.time())
            assert publisher.publish(topic("lobby", "status", pid), status.encode(), retain=True, wait=5)
        show = tmp_path / "show.yaml"
        show.write_text("version: 1\nname: wall\ncues:\n  - {id: intro, scene: {type: solid, colour: '#102030'}}\n")
        sup = _Supervisor(show, ["--viewport", "r0c0", "--broker", broker.address, "--wall", "lobby"])
        server = kiosk_http.serve(sup, "127.0.0.1", 0, TOKEN)
        port = server.server_address[1]

        code, session = _call(port, "GET", "/console/api/session")
        assert code == 200 and session["fleet"] is True
        code, overview = _call(port, "GET", "/console/api/fleet")
        assert code == 200 and overview["wall"] == "lobby"
        assert [(p["id"], p["state"], p["cue"], p["viewport"]) for p in overview["players"]] == \
            [("left", "playing", "intro", "r0c0"), ("right", "playing", "intro", "r0c1")]

        code, answer = _call(port, "POST", "/console/api/fleet/next?player=all")
        assert code == 200 and answer["ok"], answer
        code, answer = _call(port, "POST", "/console/api/fleet/cue?player=all&id=intro")
        assert code == 200 and answer["ok"], answer
        code, answer = _call(port, "POST", "/console/api/fleet/next?player=left")
        assert code == 400 and "all its players" in answer["error"]
        code, answer = _call(port, "POST", "/console/api/fleet/pause?player=all")
        assert code == 400 and "not a wall command" in answer["error"]

        seen: list[bytes] = []
        reader = MqttClient(config, "test-reader", subscriptions=(topic("lobby", "commands"),),
                            handler=lambda name, payload, retained: seen.append(payload))
        reader.start()
        try:
            end = time.monotonic() + 5
            while not seen and time.monotonic() < end:
                time.sleep(0.05)
        finally:
            reader.stop()
        log = decode_log(seen[-1])
        assert [(c.cmd, c.cue, c.by) for c in log] == [("next", None, "console"), ("cue", "intro", "console")]
    finally:
        if server is not None:
            server.console.fleet.close()  # type: ignore[union-attr]
            server.shutdown()
        publisher.stop()
        broker.stop()
