"""The last good version of a show: a player restarted (or a kiosk started) while the show file on disk is
invalid plays the newest version that validated, with its relative paths still resolving next to the
original (real supervisor and headless player processes)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from conftest import write_image
from helpers.kiosk import FAST, REPO, kiosk, needs_egl
from helpers.kiosk import colour as _colour
from helpers.kiosk import near as _near
from helpers.kiosk import post as _post
from helpers.kiosk import until as _until

from installation.kiosk.last_good import LastGood

# the still is a relative path: the copy in the state folder must still find it next to the original
SHOW = """version: 1
display: {size: 160x90, background: [0, 0, 0]}
cues:
  - {id: a, scene: {type: image, path: stills/red.png}, transition: cut, follow: hold}
"""


def _show(tmp_path: Path) -> Path:
    write_image(tmp_path / "stills" / "red.png", np.full((90, 160, 3), (192, 48, 32), np.uint8))
    write_image(tmp_path / "stills" / "blue.png", np.full((90, 160, 3), (32, 64, 192), np.uint8))
    path = tmp_path / "show.yaml"
    path.write_text(SHOW)
    return path


@needs_egl
def test_a_restarted_player_plays_the_last_good_version(tmp_path: Path) -> None:
    show, state = _show(tmp_path), tmp_path / "state"
    with kiosk(tmp_path, show, "--state-dir", str(state)) as k:
        pid = k.wait("first frames", lambda st: st["healthy"] and st["player_frames"] > 3)["player_pid"]
        _until("the red still", lambda: _near(_colour(k), "#c03020"))
        kept = LastGood(show, state)
        assert kept.path.read_text() == SHOW and kept.path.parent != show.parent

        show.write_text(SHOW.replace("follow: hold", "follow: sideways"))  # a broken save
        k.wait("the edit rejected", lambda st: any("rejected" in e["message"] for e in st["last_errors"]))
        os.kill(pid, 9)
        st = k.wait("a new player", lambda st: st["healthy"] and st["player_pid"] != pid and st["player_frames"] > 3)
        assert st["restarts"] == 1 and not st["safe_mode"]
        _until("the red still again", lambda: _near(_colour(k), "#c03020"))
        assert kept.path.read_text() == SHOW  # the broken version never replaced the good one

        # the file fixed with a new still: it is kept, and the player (started from the copy) reloads it
        show.write_text(SHOW.replace("red.png", "blue.png"))
        k.wait("the reload", lambda st: st["reloads"] == 1, timeout=10)
        _until("the blue still", lambda: _near(_colour(k), "#2040c0"))
        # kept once the player has presented it for a while (10 s): valid is not yet good
        _until("the blue version kept", lambda: "blue.png" in kept.path.read_text(), timeout=20)

        # an operator's reload of a broken file is refused by the supervisor, the player never sees it
        show.write_text("version: 1\ncues: []\n")
        code, body = _post(k, "/control/reload")
        assert code == 400 and "show.yaml" in body["control"]["error"], body
        assert _near(_colour(k), "#2040c0")


@needs_egl
def test_a_kiosk_started_on_a_broken_file_plays_its_last_good_version(tmp_path: Path) -> None:
    show, state = _show(tmp_path), tmp_path / "state"
    assert LastGood(show, state).keep(SHOW.encode())  # as a kiosk that played it before would have left it
    show.write_text(SHOW.replace("type: image", "type: imagee"))
    with kiosk(tmp_path, show, "--state-dir", str(state)) as k:
        st = k.wait("first frames", lambda st: st["healthy"] and st["player_frames"] > 3)
        _until("the red still", lambda: _near(_colour(k), "#c03020"))
        assert any("playing its last good version" in e["message"] and "show.yaml:4" in e["message"]
                   for e in st["last_errors"]), st["last_errors"]
    stderr = (tmp_path / "kiosk.log").read_text()
    assert "show.yaml:4" in stderr and "last good version" in stderr and "Traceback" not in stderr

    # with no copy kept, a broken file is still a user error: one line per problem, exit 2
    r = subprocess.run([sys.executable, "-m", "installation.cli", "kiosk", str(show), *FAST,
                        "--state-dir", str(tmp_path / "empty")], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "show.yaml:4" in r.stderr and "Traceback" not in r.stderr


def test_keep_is_atomic_and_a_full_disk_only_loses_the_copy(tmp_path: Path) -> None:
    kept = LastGood(tmp_path / "shows" / "a.yaml", tmp_path / "state")
    assert not kept.exists() and kept.keep(b"one") and kept.fresh and kept.path.read_bytes() == b"one"
    assert kept.path.name == "a.yaml" and kept.base_dir == (tmp_path / "shows").absolute()
    assert kept.keep(b"two") and kept.path.read_bytes() == b"two"
    assert [p.name for p in kept.folder.iterdir()] == ["a.yaml"]  # no temp files left behind
    # a state folder that cannot be written (a file where the folder should be): False, no exception
    blocked = LastGood(tmp_path / "b.yaml", tmp_path / "state" / "last-good" / kept.folder.name / "a.yaml")
    assert not blocked.keep(b"x") and not blocked.fresh and not blocked.exists()
    # two shows of the same name in different folders do not share a copy
    assert LastGood(tmp_path / "other" / "a.yaml", tmp_path / "state").path != kept.path
