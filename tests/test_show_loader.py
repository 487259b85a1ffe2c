"""The YAML loader: line numbers on every node, duplicate keys, syntax errors, tabs, empty and odd files."""

from __future__ import annotations

from pathlib import Path

from installation.config.yaml_loader import NodeDict, NodeFloat, NodeInt, NodeList, NodeStr, load_yaml
from installation.show import check_show, check_text


def errors(text: str, file: str = "x.yaml") -> list[str]:
    return [str(i) for i in check_text(text, file).errors]


def test_every_node_knows_its_line() -> None:
    text = "# comment\nversion: 1\ndisplay:\n  size: [640, 480]\n  vsync: false\n  gamma: 2.2\ncues:\n  - id: a\n"
    root, issues = load_yaml(text, "x.yaml")
    assert issues == []
    assert isinstance(root, NodeDict) and root.line == 2 and root.file == "x.yaml"
    assert root.key_lines == {"version": 2, "display": 3, "cues": 7}
    assert isinstance(root["version"], NodeInt) and root["version"].line == 2
    display = root["display"]
    assert display.line == 4 and display.key_lines["vsync"] == 5 and display["vsync"] is False
    assert isinstance(display["size"], NodeList) and display["size"].item_lines == [4, 4]
    assert isinstance(display["gamma"], NodeFloat) and display["gamma"].line == 6
    cue = root["cues"][0]
    assert root["cues"].item_lines == [8]
    assert isinstance(cue["id"], NodeStr) and cue["id"].line == 8 and cue["id"] == "a"


def test_keys_stay_text_and_merges_are_no_duplicates() -> None:
    root, issues = load_yaml("base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  y: 3\non: 1\n")
    assert issues == []
    assert root["other"] == {"x": 1, "y": 3}
    assert "on" in root  # YAML 1.1 would have made this key True


def test_duplicate_keys_name_both_lines() -> None:
    text = ("version: 1\ndisplay:\n  size: 1920x1080\n  vsync: true\n  size: 1280x720\n"
            "cues:\n  - scene: solid\n    duration: 1\n    duration: 2\n")
    assert errors(text) == [
        "x.yaml:5 display.size: duplicate key 'size' (first defined at line 3)",
        "x.yaml:9 cues[0].duration: duplicate key 'duration' (first defined at line 8)",
    ]


def test_syntax_error_has_file_and_line() -> None:
    assert errors("version: 1\ncues:\n  - scene: [solid\n    duration: 1\n") == [
        "x.yaml:4: YAML syntax error: expected ',' or ']', but got ':' (while parsing a flow sequence at line 3)",
    ]
    assert errors("version: 1\ncues:\n  - scene: solid\n duration: 1\n") == [
        "x.yaml:4: YAML syntax error: indentation does not line up with the lines above "
        "(the block that starts at line 1)",
    ]
    assert errors("version: 1\nname: Act: one\n") == [
        "x.yaml:2: YAML syntax error: mapping values are not allowed here (a ':' inside a value? put the value in "
        "quotes)",
    ]


def test_tabs_are_reported_per_line() -> None:
    assert errors("version: 1\ndisplay:\n\tvsync: true\n\tscreen: 0\n") == [
        "x.yaml:3: tab used for indentation (YAML needs spaces)",
        "x.yaml:4: tab used for indentation (YAML needs spaces)",
    ]


def test_empty_and_non_mapping_files() -> None:
    empty = "x.yaml:1: empty show file (a show needs at least 'version: 1' and 'cues:')"
    assert errors("") == [empty]
    assert errors("# just a comment\n\n") == [empty]
    assert errors("- version: 1\n") == [
        "x.yaml:1: a show file is a mapping of keys (version:, display:, cues:), not a list"]
    assert errors("hello\n") == [
        "x.yaml:1: a show file is a mapping of keys (version:, display:, cues:), not a single value"]


def test_odd_keys_and_aliases() -> None:
    assert errors("? [a, b]\n: 1\nversion: 1\ncues: [{scene: solid, duration: 1}]\n") == [
        "x.yaml:1: keys must be plain text, not a list or mapping"]
    assert errors("version: 1\ncues: *nowhere\n") == ["x.yaml:2: YAML syntax error: found undefined alias 'nowhere'"]


def test_files_that_are_not_show_scripts(tmp_path: Path) -> None:
    def check(path: Path) -> list[str]:
        return [str(i) for i in check_show(path).errors]

    missing = tmp_path / "missing.yaml"
    assert check(missing) == [f"{missing}:1: file not found"]
    assert check(tmp_path) == [f"{tmp_path}:1: is a folder, not a show file"]
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"version: 1\n\x00\x01\x02\xff")
    assert check(binary) == [f"{binary}:2: not a text file (it contains NUL bytes)"]
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("version: 1\nname: caf\xe9\n".encode("latin-1"))
    assert check(latin) == [f"{latin}:2: not UTF-8 text (byte 0xe9)"]
    control = tmp_path / "control.yaml"
    control.write_text("version: 1\nname: a\x07b\n")
    assert check(control) == [f"{control}:2: not a text file: character #x0007 is not allowed in YAML"]
