"""Kiosk control on real processes: a headless (EGL) player child under ``installation kiosk --http``.

POST /control/... steps cues and blacks out, GET /screenshot shows the result, an invalid show edit
leaves the old show playing (error with FILE:LINE in /status), a valid edit is reloaded.
"""

from __future__ import annotations

import time
from pathlib import Path

from helpers.kiosk import colour as _colour
from helpers.kiosk import kiosk, needs_egl, two_cue_show
from helpers.kiosk import near as _near
from helpers.kiosk import post as _post
from helpers.kiosk import until as _until

SHOW = two_cue_show("control test", colour="COLOUR_B")



@needs_egl
def test_control_screenshot_and_hot_reload(tmp_path: Path) -> None:
    show = tmp_path / "control.yaml"
    show.write_text(SHOW.replace("COLOUR_B", "#2040c0"))
    with kiosk(tmp_path, show) as k:
        k.wait("first frames", lambda st: st["healthy"] and st["player_frames"] > 3)
        assert _near(_colour(k), "#c03020")

        code, st = _post(k, "/control/next")
        assert code == 200 and st["control"]["ok"], st
        _until("cue b on screen", lambda: _near(_colour(k), "#2040c0"))
        assert k.wait("cue b reported", lambda st: st["cue"] == "b")["cue"] == "b"

        assert _post(k, "/control/blackout")[0] == 200
        assert _near(_colour(k), "#000000")
        assert _post(k, "/control/unblackout")[0] == 200
        assert _near(_colour(k), "#2040c0")

        code, body = _post(k, "/control/cue/nope")
        assert code == 400 and "nope" in body["control"]["error"]
        assert _post(k, "/control/cue/a")[0] == 200
        _until("cue a again", lambda: _near(_colour(k), "#c03020"))
        assert _post(k, "/control/frobnicate")[0] == 404
        assert _post(k, "/control/previous")[0] == 200
        _until("previous (wraps to b)", lambda: _near(_colour(k), "#2040c0"))

        # an invalid edit: the old show plays on; the error names the file and line
        pid = k.status()["player_pid"]
        show.write_text(SHOW.replace("COLOUR_B", "#2040c0").replace("follow: hold", "follow: sideways"))
        st = k.wait("the edit rejected", lambda st: any("rejected" in e["message"] for e in st["last_errors"]))
        message = next(e["message"] for e in st["last_errors"] if "rejected" in e["message"])
        assert f"{show}:6" in message, message
        frames = st["player_frames"]
        time.sleep(1.0)
        st = k.status()
        assert st["player_pid"] == pid and st["player_frames"] > frames and st["restarts"] == 0
        assert k.get("/health", token=None)[0] == 200
        assert _near(_colour(k), "#2040c0")

        # a valid edit: cue b holds, so the new show takes over at once
        show.write_text(SHOW.replace("COLOUR_B", "#30c050"))
        k.wait("the reload", lambda st: st["reloads"] == 1, timeout=10)
        _until("the new colour", lambda: _near(_colour(k), "#30c050"))
        assert k.status()["player_pid"] == pid


@needs_egl
def test_control_needs_the_token_on_a_non_loopback_bind(tmp_path: Path) -> None:
    show = tmp_path / "control.yaml"
    show.write_text(SHOW.replace("COLOUR_B", "#2040c0"))
    with kiosk(tmp_path, show, bind="0.0.0.0:0", token="s3cret") as k:
        k.wait("first frames", lambda st: st["healthy"])
        assert _post(k, "/control/next", token=None)[0] == 401
        assert _post(k, "/control/next", token="wrong")[0] == 401
        assert k.get("/screenshot", token=None)[0] == 401
        assert k.get("/health", token=None)[0] == 200
        code, st = _post(k, "/control/pause")
        assert code == 200 and st["control"]["ok"]
        _until("cue still a", lambda: _near(_colour(k), "#c03020"))


RELOAD_SHOW = """version: 1
display: {background: [0, 0, 0]}
cues:
  - {id: a, scene: {type: solid, colour: "#c03020"}, duration: 2, transition: cut}
  - {id: b, scene: {type: solid, colour: "COLOUR_B"}, duration: 2, transition: cut}
"""


def test_player_reload_waits_for_the_cue_boundary_and_blackout_keeps_time() -> None:
    from conftest import headless_context

    from installation.player import Player
    from installation.show import load_show_text

    rc = headless_context((32, 18))
    player = Player(load_show_text(RELOAD_SHOW.replace("COLOUR_B", "#2040c0")), rc.ctx, rc.size)
    try:
        def colour(t: float) -> str:
            player.frame(t, 0.1, rc.fbo)
            r, g, b = (int(v) for v in rc.read_pixels()[9, 16])
            return f"#{r:02x}{g:02x}{b:02x}"

        assert colour(0.5) == "#c03020"
        player.request_reload(load_show_text(RELOAD_SHOW.replace("COLOUR_B", "#30c050").replace("c03020", "ffffff")))
        assert colour(1.0) == "#c03020" and colour(1.9) == "#c03020"  # cue a plays out
        assert colour(2.1) == "#30c050"  # the new show takes over at the boundary, at cue b
        assert player.command("blackout") is None
        assert colour(2.5) == "#000000" and player.playhead.cue_id == "b"
        assert colour(4.2) == "#000000" and player.playhead.cue_id == "a"  # show time runs on
        assert player.command("unblackout") is None and colour(4.3) == "#ffffff"
        assert player.command("cue", "zz") is not None and player.command("cue", "b") is None
        assert colour(4.4) == "#30c050"
    finally:
        player.release()
        rc.close()
