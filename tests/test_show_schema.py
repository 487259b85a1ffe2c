"""The show schema: exact error texts (file, line, key path) for malformed shows, and complete valid shows."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
import pytest
from pydantic import ConfigDict, Field

from installation.scenes import GradualChangeParams, ImageParams, SolidParams
from installation.show import (
    SceneParams,
    ShowError,
    check_show,
    check_text,
    load_show_text,
    register_scene,
)
from installation.show.scene_types import _REGISTRY, scene_types

REPO = Path(__file__).resolve().parents[1]


def write_pictures(folder: Path, count: int, size: int = 24) -> list[Path]:
    """``count`` small crops of scikit-image's astronaut as PNGs in ``folder``."""
    from skimage import data as skdata

    folder.mkdir(parents=True, exist_ok=True)
    image = cv2.cvtColor(skdata.astronaut(), cv2.COLOR_RGB2BGR)
    paths = []
    for i in range(count):
        y, x = (i * 37) % 256, (i * 53) % 256
        tile = cv2.resize(np.ascontiguousarray(image[y : y + 256, x : x + 256]), (size, size))
        path = folder / f"img{i + 1}.png"
        cv2.imwrite(str(path), tile)
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A show folder with `pics/` (3 readable images, one corrupt JPEG, one text file) and `still.png`."""
    root = tmp_path_factory.mktemp("show")
    write_pictures(root / "pics", 3)
    (root / "pics" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not a jpeg")
    (root / "pics" / "notes.txt").write_text("not an image, not counted")
    write_pictures(root / "stills", 1)
    (root / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    (root / "order.txt").write_text("# my order\nimg3.png\nimg1.png\n\nimg2.png\n")
    return root


def errors(text: str, base: Path) -> list[str]:
    return [str(i) for i in check_text(text, "show.yaml", base).errors]


GOOD = """\
version: 1
name: Test
display: {screen: 1, size: 640x360, fullscreen: false, background: "#102030"}
defaults:
  duration: 5
  transition: {type: dissolve, seconds: 2, easing: smoothstep}
  post:
    - {type: grade, exposure: 0.5}
cues:
  - id: grid
    scene: {type: gradual_change, collection: pics, rows: 1, cols: 3, order: file, order_file: order.txt}
    until: done
    follow: goto:black
  - scene: {type: image, path: stills/img1.png}
    transition: cut
    post: []
  - id: black
    scene: solid
    duration: 1.5
    follow: loop
"""


def test_a_valid_show_is_complete(base: Path) -> None:
    report = check_text(GOOD, "show.yaml", base)
    assert report.errors == []
    show = report.show
    assert show is not None and show.name == "Test"
    assert show.display.size == (640, 360) and show.display.background == (16, 32, 48)
    assert show.display.screen == 1 and show.display.fullscreen is False and show.display.vsync is True
    assert show.cue_ids == ["grid", "cue2", "black"]
    grid, still, black = show.cues
    assert isinstance(grid.scene, GradualChangeParams) and grid.scene.collection == base / "pics"
    assert [p.name for p in grid.scene.images] == ["img1.png", "img2.png", "img3.png"]
    assert [p.name for p in grid.scene.skipped] == ["broken.jpg"]
    assert grid.scene.order_names == ["img3.png", "img1.png", "img2.png"]
    assert grid.scene.cell_transition.type == "dissolve" and grid.scene.rows == 1
    assert grid.duration is None and grid.until_done and grid.follow_kind == "goto" and grid.follow_target == "black"
    assert grid.transition is not None and grid.transition.type == "dissolve" and grid.transition.seconds == 2
    assert [s.type for s in grid.post or []] == ["grade"]
    assert isinstance(still.scene, ImageParams) and still.scene.path == base / "stills" / "img1.png"
    assert still.duration == 5 and still.transition is not None and still.transition.duration == 0 and still.post == []
    assert isinstance(black.scene, SolidParams) and black.scene.colour == (0, 0, 0) and black.follow_kind == "loop"
    assert [str(w) for w in report.warnings] == [
        f"show.yaml:11 cues[0].scene.collection: warning: skipped 1 unreadable image(s) in {base / 'pics'}: "
        "broken.jpg: not a decodable image (corrupt or truncated)",
    ]
    assert show.model_dump()["cues"][0]["scene"]["cols"] == 3  # scene parameters serialise with their own fields


def test_unknown_keys_have_hints(base: Path) -> None:
    text = """\
version: 1
dispaly: {}
defaults: {durration: 3}
cues:
  - scene: {type: solid, color: "#ffffff"}
    duration: 1
    transtion: cut
    post:
      - {type: kuwahara, raduis: 3}
      - {type: grade, zzz: 1}
"""
    assert errors(text, base) == [
        "show.yaml:2 dispaly: unknown key 'dispaly' (did you mean 'display'?)",
        "show.yaml:3 defaults.durration: unknown key 'durration' (did you mean 'duration'?)",
        "show.yaml:5 cues[0].scene.color: unknown key 'color' (did you mean 'colour'?)",
        "show.yaml:7 cues[0].transtion: unknown key 'transtion' (did you mean 'transition'?)",
        "show.yaml:9 cues[0].post[0].raduis: unknown key 'raduis' (did you mean 'radius'?)",
        "show.yaml:10 cues[0].post[1].zzz: unknown key 'zzz' "
        "(allowed: type, exposure, contrast, saturation, tint, tint_amount)",
    ]


def test_wrong_types_and_ranges(base: Path) -> None:
    text = """\
version: 1
display:
  screen: -1
  size: [1920]
  fullscreen: maybe
  background: #ffffff
cues:
  - scene:
      type: gradual_change
      collection: pics
      rows: two
      gap: -2
      reveal_interval: 0
      order: gnm
    duration: -3
  - scene: {type: solid, colour: [300, 0, 0]}
    duration: ten
    transition: {type: fade, seconds: 0, easing: bounce}
    post:
      - {type: kuwahara, radius: 20}
      - {type: grade, saturation: -1, tint_amount: 2, tint: red}
      - {type: blur}
"""
    assert errors(text, base) == [
        "show.yaml:3 display.screen: must be >= 0",
        "show.yaml:4 display.size: expected [width, height] or 'WIDTHxHEIGHT', got a list",
        "show.yaml:5 display.fullscreen: expected true or false, got 'maybe'",
        "show.yaml:6 display.background: empty colour: write it in quotes, e.g. '#ff8800' "
        "(an unquoted # starts a YAML comment)",
        "show.yaml:11 cues[0].scene.rows: expected a whole number, got 'two'",
        "show.yaml:12 cues[0].scene.gap: must be >= 0",
        "show.yaml:13 cues[0].scene.reveal_interval: must be > 0",
        "show.yaml:14 cues[0].scene.order: expected one of: as_is, random, file, gnn; got 'gnm' (did you mean 'gnn'?)",
        "show.yaml:15 cues[0].duration: must be > 0",
        "show.yaml:16 cues[1].scene.colour: colour components must be whole numbers 0..255",
        "show.yaml:17 cues[1].duration: expected a number, got 'ten'",
        "show.yaml:18 cues[1].transition.easing: expected one of: linear, ease_in, ease_out, ease_in_out, smoothstep; "
        "got 'bounce'",
        "show.yaml:18 cues[1].transition.seconds: must be > 0",
        "show.yaml:18 cues[1].transition.type: expected one of: cut, crossfade, dissolve, wipe; got 'fade' "
        "(did you mean 'crossfade'?)",
        "show.yaml:20 cues[1].post[0].radius: must be <= 12",
        "show.yaml:21 cues[1].post[1].saturation: must be >= 0",
        "show.yaml:21 cues[1].post[1].tint: expected a colour '#rrggbb' or [r, g, b], got 'red'",
        "show.yaml:21 cues[1].post[1].tint_amount: must be <= 1",
        "show.yaml:22 cues[1].post[2].type: expected one of: kuwahara, grade; got 'blur'",
    ]


def test_bad_transition_type_gets_a_hint(base: Path) -> None:
    text = "version: 1\ncues:\n  - scene: solid\n    duration: 2\n    transition: crosfade\n"
    assert errors(text, base) == [
        "show.yaml:5 cues[0].transition: expected one of: cut, crossfade, dissolve, wipe; got 'crosfade' "
        "(did you mean 'crossfade'?)",
    ]


def test_cue_list_rules(base: Path) -> None:
    text = """\
version: 1
cues:
  - id: intro
    scene: solid
    duration: 2
    follow: goto:intor
  - id: cue3
    scene: solid
    until: done
    duration: 4
  - scene: solid
    follow: nxt
  - id: intro
    scene: {type: solid}
    duration: 1
    follow: goto:nowhere
  - id: "a b"
    scene: solid
    follow: hold
"""
    assert errors(text, base) == [
        "show.yaml:6 cues[0].follow: no cue with id 'intor' (did you mean 'intro'?)",
        "show.yaml:9 cues[1].until: give either 'duration' or 'until: done', not both",
        "show.yaml:11 cues[2]: duplicate cue id 'cue3' (given automatically), already used by cues[1] at line 7",
        "show.yaml:11 cues[2]: needs 'duration: SECONDS' or 'until: done' (or a defaults.duration)",
        "show.yaml:12 cues[2].follow: expected one of: next, hold, loop, goto:<cue id>; got 'nxt' "
        "(did you mean 'next'?)",
        "show.yaml:13 cues[3].id: duplicate cue id 'intro', already used by cues[0] at line 3",
        "show.yaml:16 cues[3].follow: no cue with id 'nowhere'",
        "show.yaml:17 cues[4].id: cue ids use letters, digits, '_', '-' and '.', got 'a b'",
    ]


def test_scene_type_and_shape(base: Path) -> None:
    text = """\
version: 1
cues:
  - scene: {type: gradual_chnage, collection: pics}
    duration: 1
  - scene: {colour: "#000000"}
    duration: 1
  - scene: [solid]
    duration: 1
  - duration: 1
"""
    assert errors(text, base) == [
        # every registered type, in registration order (new scene types register in installation/scenes)
        f"show.yaml:3 cues[0].scene.type: expected one of: {', '.join(scene_types())}; "
        "got 'gradual_chnage' (did you mean 'gradual_change'?)",
        "show.yaml:5 cues[1].scene.type: required key missing",
        "show.yaml:7 cues[2].scene: expected a mapping (key: value), got a list",
        "show.yaml:9 cues[3].scene: required key missing",
    ]


def test_collection_folder_must_exist(base: Path) -> None:
    text = "version: 1\ncues:\n  - scene:\n      type: gradual_change\n      collection: {folder}\n    follow: hold\n"
    assert errors(text.format(folder="../nowhere/demo"), base) == [
        f"show.yaml:5 cues[0].scene.collection: folder '../nowhere/demo' not found (looked for "
        f"{base.parent / 'nowhere' / 'demo'})",
    ]
    assert errors(text.format(folder="order.txt"), base) == [
        f"show.yaml:5 cues[0].scene.collection: 'order.txt' is a file, not a folder ({base / 'order.txt'})",
    ]
    assert errors(text.format(folder="[pics]"), base) == [
        "show.yaml:5 cues[0].scene.collection: expected a folder path, got a list",
    ]


def test_too_few_images_names_the_folder_and_lists_skipped_files(base: Path) -> None:
    text = ("version: 1\ncues:\n  - scene:\n      type: gradual_change\n      collection: pics\n"
            "      min_images: 4\n    follow: hold\n")
    report = check_text(text, "show.yaml", base)
    folder = base / "pics"
    assert [str(e) for e in report.errors] == [
        f"show.yaml:5 cues[0].scene.collection: folder {folder} has 3 images, the show needs at least 4",
    ]
    assert [str(w) for w in report.warnings] == [
        f"show.yaml:5 cues[0].scene.collection: warning: skipped 1 unreadable image(s) in {folder}: "
        "broken.jpg: not a decodable image (corrupt or truncated)",
    ]
    assert report.show is None


def test_grid_larger_than_collection_warns(base: Path) -> None:
    text = "version: 1\ncues:\n  - scene: {type: gradual_change, collection: pics}\n    follow: hold\n"
    report = check_text(text, "show.yaml", base)
    assert report.ok
    assert f"the 14x14 grid has 196 cells but {base / 'pics'} has 3 images" in [w.message for w in report.warnings]


def test_order_file_rules(base: Path) -> None:
    (base / "wrong_order.txt").write_text("img1.png\nimg9.png\nbroken.jpg\n")
    text = """\
version: 1
cues:
  - scene: {type: gradual_change, collection: pics, order: file}
    follow: hold
  - scene: {type: gradual_change, collection: pics, order: file, order_file: wrong_order.txt}
    follow: hold
"""
    report = check_text(text, "show.yaml", base)
    assert [str(e) for e in report.errors] == ["show.yaml:3 cues[0].scene.order_file: required when order is 'file'"]
    # names of files that are gone or do not read are left out with a warning: a folder change must not
    # refuse the show (issue 11); a file naming no image of the collection at all is an error
    assert (f"show.yaml:5 cues[1].scene.order_file: warning: 2 name(s) are not readable images in {base / 'pics'}: "
            "img9.png, broken.jpg; they are left out") in [str(w) for w in report.warnings]


def test_image_scene_needs_a_readable_image(base: Path) -> None:
    text = "version: 1\ncues:\n  - scene: {type: image, path: bad.png}\n    duration: 1\n"
    assert errors(text, base) == [f"show.yaml:3 cues[0].scene.path: not a readable image: {base / 'bad.png'}"]


def test_versions(base: Path) -> None:
    cues = "cues:\n  - scene: solid\n    duration: 1\n"
    assert errors("name: x\n" + cues, base) == [
        "show.yaml:1 version: required key missing (a show starts with 'version: 1')"]
    assert errors("version: 2\n" + cues, base) == [
        "show.yaml:1 version: unsupported version 2 (this runtime reads version 1)"]
    assert errors("version: 1\ncues: []\n", base) == ["show.yaml:2 cues: a show needs at least one cue"]
    assert errors("version: 1\n", base) == ["show.yaml:1 cues: required key missing"]


def test_load_show_text_raises_with_every_error(base: Path) -> None:
    with pytest.raises(ShowError) as caught:
        load_show_text("version: 3\ncues:\n  - scene: solid\n    duration: 0\n", "s.yaml", base)
    assert str(caught.value) == ("s.yaml:1 version: unsupported version 3 (this runtime reads version 1)\n"
                                 "s.yaml:4 cues[0].duration: must be > 0")
    assert len(caught.value.issues) == 2


def test_sizes_colours_and_shorthands(base: Path) -> None:
    show = load_show_text(
        "version: 1\ndisplay: {size: [800, 600], background: [1, 2, 3]}\n"
        "cues:\n  - {id: 7, scene: {type: solid, colour: '#FFaa00'}, follow: hold}\n", "s.yaml", base)
    assert show.display.size == (800, 600) and show.display.background == (1, 2, 3)
    assert show.cues[0].id == "7" and show.cues[0].scene.colour == (255, 170, 0)
    assert show.cues[0].transition is not None and show.cues[0].transition.type == "crossfade"
    assert errors("version: 1\ndisplay: {size: 1920x0}\ncues:\n  - {scene: solid, follow: hold}\n", base) == [
        "show.yaml:2 display.size: width and height must be > 0"]


def test_emotion_mirror_has_a_strict_schema(base: Path) -> None:
    text = "version: 1\ncues:\n  - scene: {type: emotion_mirror, camera: 0}\n    follow: hold\n"
    assert check_text(text, "show.yaml", base).ok
    assert "styles" in errors(text.replace("camera: 0", "camera: 0, styles: [calm]"), base)[0]
    assert errors(text.replace("camera: 0", "camera: [0]"), base) == [
        "show.yaml:3 cues[0].scene.camera: expected a camera index, a video file or a stream URL, got a list"]


def test_a_scene_module_can_register_its_parameters(base: Path) -> None:
    class Starfield(SceneParams):
        model_config = ConfigDict(extra="forbid")
        type: Literal["starfield"]
        stars: int = Field(100, gt=0)

    register_scene("starfield", Starfield)
    try:
        text = "version: 1\ncues:\n  - scene: {type: starfield, stars: 0}\n    duration: 1\n"
        assert errors(text, base) == ["show.yaml:3 cues[0].scene.stars: must be > 0"]
        assert check_text(text.replace("stars: 0", "stars: 5"), "show.yaml", base).ok
    finally:
        _REGISTRY.pop("starfield")


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the repository layout (shows/, assets/) whose assets are generated here."""
    root = tmp_path_factory.mktemp("layout")
    (root / "shows").mkdir()
    demo = root / "assets" / "collections" / "demo"
    write_pictures(demo, 196, size=8)
    # prepared as the repository ships it (demo.order.json): validation never computes an order
    from installation.collection import scan_collection
    from installation.ordering import compute_order, default_order_path, write_order
    from installation.pack import pack_path

    result, _ = compute_order(scan_collection(demo).images, "gnn", "sequence", None, None, 0, pack_path("encoder"))
    write_order(result, default_order_path(demo))
    write_pictures(root / "assets" / "stills", 1)
    (root / "assets" / "stills" / "img1.png").rename(root / "assets" / "stills" / "title.png")
    return root


@pytest.mark.parametrize("name", ["gradual_change.yaml", "blackout_and_still.yaml"])
def test_example_shows_validate(layout: Path, name: str) -> None:
    shutil.copy(REPO / "shows" / name, layout / "shows" / name)
    report = check_show(layout / "shows" / name)
    assert [str(e) for e in report.errors] == [] and report.warnings == []
    assert report.show is not None


def test_the_documented_first_show_validates(layout: Path) -> None:
    doc = (REPO / "docs" / "show-scripts.md").read_text()
    first = doc.split("## A first show", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    (layout / "shows" / "first.yaml").write_text(first)
    report = check_show(layout / "shows" / "first.yaml")
    assert [str(e) for e in report.errors] == [] and report.warnings == []


@pytest.mark.parametrize("path", sorted((REPO / "shows").glob("*.yaml")), ids=lambda p: p.name)
def test_repository_shows_validate_where_their_assets_exist(path: Path) -> None:
    report = check_show(path)
    missing = [e for e in report.errors if "not found (looked for" in e.message]
    if missing:
        pytest.skip(f"assets not generated yet: {missing[0]}")
    assert [str(e) for e in report.errors] == []


def test_infinite_numbers_are_rejected(base: Path) -> None:
    assert errors("version: 1\ncues:\n  - {scene: solid, duration: .inf}\n", base) == [
        "show.yaml:3 cues[0].duration: expected a finite number, got inf"]
    assert errors("version: 1\ncues:\n  - {scene: solid, duration: 1e400}\n", base) == [
        "show.yaml:3 cues[0].duration: expected a finite number, got '1e400'"]
