"""Kiosk control: the player's command hook (blackout, cue jumps, reload at the cue boundary)."""

from __future__ import annotations

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
