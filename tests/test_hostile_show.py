"""Hostile show and schedule files, and hostile numbers: every one ends as FILE:LINE issues (``validate``: exit 2,
one line each, no traceback), never a hang, a RecursionError or gigabytes of memory; and a show that validates
plays (a Hypothesis property over the schema renders every valid show it generates)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from installation.cli import main
from installation.config import MAX_FILE_BYTES, MAX_SECONDS, MAX_SEED
from installation.config.yaml_loader import MAX_DEPTH, MAX_NODES
from installation.kiosk.schedule import check_schedule
from installation.show import check_show, check_text

REPO = Path(__file__).resolve().parents[1]
LONGEST_LINE = 400  # no issue line may be longer, whatever the file held


def errors(text: str, base: Path | None = None) -> list[str]:
    report = check_text(text, "show.yaml", base)
    assert report.show is None
    for issue in report.errors:
        assert len(str(issue)) <= LONGEST_LINE, str(issue)[:500]
    return [str(e) for e in report.errors]


def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The real command in its own process: a hang fails the test (timeout) instead of stalling the suite."""
    return subprocess.run([sys.executable, "-m", "installation.cli", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, "OMP_NUM_THREADS": "1"})


def one_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and len(lines[0]) <= LONGEST_LINE, proc.stderr[:2000]
    return lines[0]


def billion_laughs(levels: int = 9) -> str:
    names = [f"l{i}" for i in range(levels)]
    out = [f"{names[0]}: &{names[0]} [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for prev, name in zip(names, names[1:]):
        out.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    return "version: 1\n" + "\n".join(out) + "\ncues: *" + names[-1] + "\n"


@pytest.fixture(scope="module")
def collection(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("hostile") / "pics"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(4):
        cv2.imwrite(str(folder / f"p{i}.png"), rng.integers(0, 255, (24, 32, 3), dtype=np.uint8))
    return folder


# ---- YAML: bombs, depth, size, long lines ------------------------------------------------------------------


def test_billion_laughs_is_one_issue_at_its_line() -> None:
    assert errors(billion_laughs()) == [
        f"show.yaml:7: aliases here expand to more than {MAX_NODES:,} values (a 'billion laughs' file?)"]


def test_billion_laughs_in_validate_and_check_schedule_ends_quickly(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(billion_laughs())
    assert "billion laughs" in one_line(cli("validate", str(bomb)))
    assert "billion laughs" in one_line(cli("kiosk", "--check-schedule", str(bomb)))


@pytest.mark.parametrize("style", ["flow", "block", "mapping"])
def test_10000_deep_nesting_names_a_line_not_a_recursion_error(style: str) -> None:
    n = 10_000
    if style == "flow":
        text = "version: 1\ncues: " + "[" * n + "]" * n + "\n"
    elif style == "block":
        text = "version: 1\ncues:\n" + "".join("  " * i + "-\n" for i in range(1, n))
    else:
        text = "version: 1\ncues: " + "{a: " * n + "1" + "}" * n + "\n"
    (message,) = errors(text)
    assert message.startswith("show.yaml:") and message.endswith(f"nested more than {MAX_DEPTH} levels deep")


def test_aliases_that_nest_too_deep_or_contain_themselves() -> None:
    chain = "version: 1\na0: &a0 [x]\n" + "".join(f"a{i}: &a{i} [*a{i - 1}]\n" for i in range(1, 100))
    assert errors(chain)[0].startswith("show.yaml:") and "through aliases" in errors(chain)[0]
    assert errors("version: 1\ncues: &a [*a]\n") == [
        f"show.yaml:2: nested more than {MAX_DEPTH} levels deep through aliases (or an alias inside its own anchor)"]


def test_too_many_values_and_too_long_numbers() -> None:
    many = "version: 1\ncues: [" + ",".join(["1"] * (MAX_NODES + 10)) + "]\n"
    assert errors(many) == [f"show.yaml:2: too many values: a show file holds at most {MAX_NODES:,}"]
    for number in ("9" * 5000, "0x" + "f" * 5000, "1:" * 3000 + "1"):
        assert errors(f"version: 1\ncues:\n  - scene: solid\n    duration: {number}\n") == [
            "show.yaml:4: number too long (more than 40 characters)"]
    assert errors("version: 1\ncues:\n  - scene: solid\n    duration: 0x" + "f" * 30 + "\n") == [
        "show.yaml:4: number too large (no setting of a show needs more than 64 bits)"]


def test_a_file_over_1_mib_is_refused_before_parsing(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("version: 1\n" + "#" * (2 * 1024 * 1024) + "\n")
    report = check_show(big)
    assert [str(e) for e in report.errors] == [
        f"{big}:1: is {big.stat().st_size:,} bytes; a show file may have at most {MAX_FILE_BYTES:,} bytes (1 MiB)"]
    assert "at most" in one_line(cli("validate", str(big)))
    assert [str(e) for e in check_schedule(big).errors][0].endswith("a schedule file may have at most "
                                                                    f"{MAX_FILE_BYTES:,} bytes (1 MiB)")


@pytest.mark.parametrize("where", ["name", "key", "type", "colour", "follow", "id"])
def test_a_1mb_line_comes_back_as_a_short_message(where: str, tmp_path: Path) -> None:
    long = "x" * 1_000_000
    cue = {"name": "  - scene: solid\n    duration: 1\n",
           "key": f"  - scene: solid\n    duration: 1\n    {long[:1000]}: 1\n",
           "type": f"  - scene: {{type: {long}}}\n    duration: 1\n",
           "colour": f"  - scene: {{type: solid, colour: '{long}'}}\n    duration: 1\n",
           "follow": f"  - scene: solid\n    duration: 1\n    follow: goto:{long}\n",
           "id": f"  - scene: solid\n    duration: 1\n    id: {long}\n"}[where]
    name = f"name: {long}\n" if where == "name" else ""
    found = errors(f"version: 1\n{name}cues:\n{cue}")
    assert found and all(len(e) <= LONGEST_LINE for e in found)
    assert any("…" in e or "at most" in e for e in found), found
    path = tmp_path / "long.yaml"
    path.write_text(f"version: 1\n{name}cues:\n{cue}")
    proc = cli("validate", str(path))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert all(len(line) <= LONGEST_LINE for line in proc.stderr.splitlines())


def test_thousands_of_errors_are_capped() -> None:
    text = "version: 1\ncues:\n" + "".join(f"  - {{scene: solid, duration: -{i + 1}}}\n" for i in range(2000))
    found = errors(text)
    assert len(found) == 51 and found[-1].endswith("... and 1950 more errors (fix these first)")


# ---- files that are not regular files ----------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs mkfifo")
def test_a_fifo_is_refused_without_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "show.yaml"
    os.mkfifo(fifo)
    assert one_line(cli("validate", str(fifo), timeout=30)) == (
        f"{fifo}:1: is a named pipe (FIFO), not a show file (only regular files are read)")
    assert "named pipe" in one_line(cli("kiosk", "--check-schedule", str(fifo), timeout=30))
    assert "named pipe" in one_line(cli("render", str(fifo), "--out", str(tmp_path / "x.mp4"), timeout=30))


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_dev_zero_and_a_folder_are_refused(tmp_path: Path) -> None:
    assert one_line(cli("validate", "/dev/zero", timeout=30)) == (
        "/dev/zero:1: is a character device, not a show file (only regular files are read)")
    assert [str(e) for e in check_schedule("/dev/zero").errors] == [
        "/dev/zero:1: is a character device, not a schedule file (only regular files are read)"]
    assert [str(e) for e in check_show(tmp_path).errors] == [f"{tmp_path}:1: is a folder, not a show file"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs mkfifo")
def test_paths_inside_a_show_that_are_no_regular_file(collection: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "order.txt"
    os.mkfifo(fifo)
    text = (f"version: 1\ncues:\n  - scene: {{type: image, path: /dev/zero}}\n    duration: 1\n"
            f"  - scene: {{type: gradual_change, collection: pics, order: file, order_file: {fifo}}}\n"
            "    duration: 1\n")
    assert errors(text, collection.parent) == [
        "show.yaml:3 cues[0].scene.path: '/dev/zero' is not a regular file (/dev/zero)",
        f"show.yaml:5 cues[1].scene.order_file: '{fifo}' is not a regular file ({fifo})"]


# ---- every numeric field has bounds ------------------------------------------------------------------------

GRID = "{type: gradual_change, collection: pics, rows: 2, cols: 2, order: as_is}"
MIRROR = "{type: emotion_mirror, camera: 0}"

# (the field as written into the first cue, the expected message of its issue)
OUT_OF_RANGE = [
    ("scene: solid\n    duration: 0.001", "duration: must be at least 0.05 seconds"),
    ("scene: solid\n    duration: 1e-300", "duration: must be at least 0.05 seconds"),
    ("scene: solid\n    duration: 604801", "duration: must be at most 604800 seconds"),
    ("scene: solid\n    duration: 1e308", "duration: must be at most 604800 seconds"),
    ("scene: solid\n    duration: 1e999", "duration: expected a finite number"),
    ("scene: solid\n    duration: .nan", "duration: expected a finite number"),
    ("scene: solid\n    duration: 1\n    transition: {type: crossfade, seconds: 0.001}",
     "transition.seconds: must be at least 0.01 seconds"),
    ("scene: solid\n    duration: 1\n    transition: {type: crossfade, seconds: 1e9}",
     "transition.seconds: must be at most 604800 seconds"),
    ("scene: solid\n    duration: 1\n    post: [{type: kuwahara, sharpness: 1e9}]", "sharpness: must be <= 100"),
    ("scene: solid\n    duration: 1\n    post: [{type: kuwahara, anisotropy: 1e300}]", "anisotropy: must be <= 100"),
    ("scene: solid\n    duration: 1\n    post: [{type: grade, exposure: 11}]", "exposure: must be <= 10"),
    ("scene: solid\n    duration: 1\n    post: [{type: grade, contrast: 1e9}]", "contrast: must be <= 10"),
    ("scene: solid\n    duration: 1\n    post: [{type: grade, saturation: 11}]", "saturation: must be <= 10"),
    ("scene: solid\n    duration: 1\n    post: [" + ", ".join(["{type: grade}"] * 9) + "]", "post: has more than 8"),
    (f"scene: {GRID[:-1]}, seed: -1}}\n    duration: 1", "seed: must be >= 0: a seed is a fixed number"),
    (f"scene: {GRID[:-1]}, seed: {MAX_SEED + 1}}}\n    duration: 1", f"seed: must be <= {MAX_SEED}"),
    (f"scene: {GRID[:-1]}, reveal_interval: 0.0001}}\n    duration: 1", "reveal_interval: must be at least 0.01"),
    (f"scene: {GRID[:-1]}, reveal_interval: 1e12}}\n    duration: 1", "reveal_interval: must be at most 604800"),
    (f"scene: {GRID[:-1]}, linger: -1}}\n    duration: 1", "linger: must be >= 0"),
    (f"scene: {GRID[:-1]}, linger: 1e12}}\n    duration: 1", "linger: must be at most 604800"),
    (f"scene: {GRID[:-1]}, gap: 100000}}\n    duration: 1", "gap: must be <= 16384"),
    (f"scene: {GRID[:-1]}, gap: 800}}\n    duration: 1", "gap: a 2x2 grid with gap 800 does not fit 1280x720"),
    (f"scene: {GRID[:-1]}, rows: 101}}\n    duration: 1", "rows: must be <= 100"),
    (f"scene: {GRID[:-1]}, cols: 0}}\n    duration: 1", "cols: must be >= 1"),
    (f"scene: {GRID[:-1]}, min_images: 1000000}}\n    duration: 1", "min_images: must be <= 10000"),
    (f"scene: {GRID[:-1]}, cell_transition: {{type: dissolve, seconds: 0}}}}\n    duration: 1",
     "cell_transition.seconds: must be > 0"),
    (f"scene: {MIRROR[:-1]}, interval: 0.01}}\n    follow: hold", "interval: must be at least 1 seconds"),
    (f"scene: {MIRROR[:-1]}, min_interval: 1e12}}\n    follow: hold", "min_interval: must be at most 604800"),
    (f"scene: {MIRROR[:-1]}, half_life: -1}}\n    follow: hold", "half_life: must be >= 0"),
    (f"scene: {MIRROR[:-1]}, switch_seconds: 1e12}}\n    follow: hold", "switch_seconds: must be at most 604800"),
    (f"scene: {MIRROR[:-1]}, absent_after: 0.001}}\n    follow: hold", "absent_after: must be at least 0.01"),
    (f"scene: {MIRROR[:-1]}, seed: -1}}\n    follow: hold", "seed: must be >= 0"),
    (f"scene: {MIRROR[:-1]}, candidates: 33}}\n    follow: hold", "candidates: must be <= 32"),
    (f"scene: {MIRROR[:-1]}, detect_size: 1000000}}\n    follow: hold", "detect_size: must be <= 4096"),
    (f"scene: {MIRROR[:-1]}, inset_size: 2}}\n    follow: hold", "inset_size: must be <= 1"),
    ("scene: {type: emotion_mirror, camera: -1}\n    follow: hold", "camera: a camera index is 0..63, got -1"),
    ("scene: {type: emotion_mirror, camera: 100000}\n    follow: hold", "camera: a camera index is 0..63"),
    ("scene: {type: emotion_mirror, mapping: {happy: {impressionism: 1e300}}}\n    follow: hold",
     "weights must be <= 1000"),
    (f"scene: {MIRROR[:-1]}, attract: {GRID[:-1]}, gap: 800}}}}\n    follow: hold",
     "attract.gap: a 2x2 grid with gap 800 does not fit"),
]


@pytest.mark.parametrize(("cue", "message"), OUT_OF_RANGE, ids=[m.split(":")[0] + str(i)
                                                                 for i, (_, m) in enumerate(OUT_OF_RANGE)])
def test_out_of_range_values_are_errors(cue: str, message: str, collection: Path) -> None:
    found = errors(f"version: 1\ncues:\n  - {cue}\n", collection.parent)
    assert any(message in e for e in found), found


@pytest.mark.parametrize(("display", "message"), [
    ("{size: 100000x100000}", "display.size: width and height must be at most 16384 pixels"),
    ("{size: [15, 100]}", "display.size: width and height must be at least 16 pixels"),
    ("{size: [16384, 16384]}", "display.size: 16384x16384 is 268,435,456 pixels; at most 33,554,432"),
    ("{size: 99999999999999999999x1}", "display.size: expected [width, height] or 'WIDTHxHEIGHT'"),
    ("{screen: 1000}", "display.screen: must be <= 31"),
    ("{size: [64, 36]}", "cues[0].scene.rows: a 50x50 grid with gap 0 does not fit 64x36 pixels"),
])
def test_display_bounds_and_grids_that_do_not_fit(display: str, message: str, collection: Path) -> None:
    text = (f"version: 1\ndisplay: {display}\ncues:\n"
            "  - scene: {type: gradual_change, collection: pics, rows: 50, cols: 50}\n    duration: 1\n")
    found = errors(text, collection.parent)
    assert any(message in e for e in found), found


def test_the_bounds_themselves_validate(collection: Path) -> None:
    text = f"""\
version: 1
display: {{size: [8192, 4096], screen: 31}}
defaults: {{duration: 0.05, transition: {{type: crossfade, seconds: 0.01}}}}
cues:
  - scene: {{type: gradual_change, collection: pics, rows: 100, cols: 100, seed: {MAX_SEED}, reveal_interval: 0.01,
             linger: 0, gap: 0, cell_transition: {{type: dissolve, seconds: {MAX_SECONDS:g}}}}}
    duration: {MAX_SECONDS:g}
  - scene: solid
    post: [{{type: kuwahara, sharpness: 100, anisotropy: 100}}, {{type: grade, exposure: -10, saturation: 10}}]
"""
    report = check_text(text, "show.yaml", collection.parent)
    assert report.errors == [] and report.show is not None


def test_a_seed_of_minus_one_is_refused_and_a_valid_seed_plays_two_passes(collection: Path) -> None:
    """``seed: -1`` crashed numpy's default_rng([seed, pass]) when the second pass began: now it never validates."""
    from installation.scenes.gradual_change import RevealPlan

    text = ("version: 1\ncues:\n  - scene: {type: gradual_change, collection: pics, rows: 1, cols: 3, seed: SEED,\n"
            "             order: random, after_last: restart, reveal_interval: 0.01, linger: 0}\n    duration: 5\n")
    assert "seed: must be >= 0" in errors(text.replace("SEED", "-1"), collection.parent)[0]
    report = check_text(text.replace("SEED", str(MAX_SEED)), "show.yaml", collection.parent)
    assert report.show is not None
    plan = RevealPlan(report.show.cues[0].scene)
    assert plan.order(1) and plan.order(2)  # the second and third passes shuffle with the seed


# ---- command-line numbers ----------------------------------------------------------------------------------

CLI_CASES = [
    (["render", "SHOW", "--out", "OUT", "--fps", "1e308"], "--fps: must be 1..240"),
    (["render", "SHOW", "--out", "OUT", "--fps", "nan"], "--fps: expected a finite number"),
    (["render", "SHOW", "--out", "OUT", "--fps", "0"], "--fps: must be 1..240"),
    (["render", "SHOW", "--out", "OUT", "--size", "100000x100000"], "--size: width and height must be at most"),
    (["render", "SHOW", "--out", "OUT", "--size", "9" * 5000 + "x1"], "--size: expected WIDTHxHEIGHT"),
    (["render", "SHOW", "--out", "OUT", "--size", "16x16"], "--size 16x16: cue 'grid': a 2x2 grid with gap 20"),
    (["render", "SHOW", "--out", "OUT", "--start", "1e12"], "--start: must be 0..604800 seconds"),
    (["render", "SHOW", "--out", "OUT", "--seconds", "1e12"], "--seconds: must be 0.01..604800 seconds"),
    (["render", "SHOW", "--out", "OUT", "--seconds", "-1"], "--seconds: must be 0.01..604800 seconds"),
    (["run", "SHOW", "--seconds", "inf"], "--seconds: expected a finite number"),
    (["run", "SHOW", "--screen", "99999999999"], "--screen: must be 0..31"),
    (["run", "SHOW", "--headless", "--fps", "1e308"], "--fps: must be 1..240"),
    (["kiosk", "SHOW", "--stall-seconds", "1e308"], "--stall-seconds: must be 0.5..86400 seconds"),
    (["kiosk", "SHOW", "--backoff-max", "1e308"], "--backoff-max: must be 0.01..86400 seconds"),
    (["kiosk", "SHOW", "--max-failures", "9" * 5000], "--max-failures: expected a whole number"),
    (["kiosk", "SHOW", "--size", "0x0"], "--size: width and height must be > 0"),
    (["order", "SHOW", "--grid", "1000x1000"], "--grid: expected ROWSxCOLS, each 1..100"),
    (["order", "SHOW", "--seed", "-1"], "--seed: must be 0..4294967295"),
    (["generate", "--out", "OUT", "--seed", "1e3"], "--seed: expected a whole number"),
    (["generate", "--out", "OUT", "--mix", "2"], "--mix: must be 0..1"),
    (["emotions", "SHOW", "--frames", "0"], "--frames: must be 1..1000000000"),
]


@pytest.fixture(scope="module")
def cli_show(collection: Path) -> Path:
    path = collection.parent / "grid.yaml"
    path.write_text("version: 1\ncues:\n  - id: grid\n    scene: {type: gradual_change, collection: pics, rows: 2, "
                    "cols: 2, gap: 20, order: as_is, reveal_interval: 0.1}\n    duration: 2\n")
    return path


@pytest.mark.parametrize(("args", "message"), CLI_CASES, ids=[" ".join(a[:1] + a[-2:])[:40] for a, _ in CLI_CASES])
def test_every_cli_number_is_bounded(args: list[str], message: str, cli_show: Path, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    argv = [str(cli_show) if a == "SHOW" else str(tmp_path / "out.mp4") if a == "OUT" else a for a in args]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and message in err[0], err
    assert len(err[0]) <= LONGEST_LINE


def test_cli_numbers_in_a_real_process_print_no_traceback(cli_show: Path, tmp_path: Path) -> None:
    out = str(tmp_path / "x.mp4")
    assert "--fps" in one_line(cli("render", str(cli_show), "--out", out, "--fps", "1e308"))
    assert "--size" in one_line(cli("render", str(cli_show), "--out", out, "--size", "100000x100000"))
    assert "--start" in one_line(cli("render", str(cli_show), "--out", out, "--start", "1e12"))
    assert not Path(out).exists()


def test_validate_of_a_hostile_value_is_one_line_in_a_real_process(collection: Path) -> None:
    path = collection.parent / "seed.yaml"
    path.write_text("version: 1\ncues:\n  - scene: {type: gradual_change, collection: pics, seed: -1}\n"
                    "    duration: 0.001\n")
    proc = cli("validate", str(path))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.splitlines() == [
        f"{path}:3 cues[0].scene.seed: must be >= 0: a seed is a fixed number (the same seed gives the same show); "
        "-1 for 'random' is not supported, pick any number such as 7",
        f"{path}:4 cues[0].duration: must be at least 0.05 seconds",
    ]


# ---- property: a show that validates plays -----------------------------------------------------------------

hypothesis = pytest.importorskip("hypothesis")
st = hypothesis.strategies


def _around(low: float, high: float, hostile: bool) -> object:
    """Values inside the bounds (and on them); when ``hostile``, also just outside them and absurd ones."""
    inside = st.one_of(st.floats(min_value=low, max_value=min(high, 3.0)), st.sampled_from([low, high]))
    if not hostile:
        return inside
    return st.one_of(inside, st.sampled_from([low / 2, -low, 0.0, high * 1.01, 1e300, -1e300]))


def _ints(low: int, high: int, outside: list[int], hostile: bool) -> object:
    inside = st.integers(low, high)
    return st.one_of(inside, st.sampled_from(outside)) if hostile else inside


def _transition(hostile: bool) -> object:
    return st.fixed_dictionaries({"type": st.sampled_from(["cut", "crossfade", "dissolve", "wipe"]),
                                  "seconds": _around(0.01, MAX_SECONDS, hostile)})


def _scene(hostile: bool) -> object:
    grid = st.fixed_dictionaries({
        "type": st.just("gradual_change"), "collection": st.just("pics"),
        "rows": _ints(1, 6, [0, 100, 101, -1], hostile), "cols": _ints(1, 6, [0, 100, 101], hostile),
        "gap": _ints(0, 4, [-1, 50, 16384, 16385], hostile),
        "seed": _ints(0, 10, [-1, MAX_SEED, MAX_SEED + 1], hostile),
        "order": st.sampled_from(["as_is", "random"]),
        "after_last": st.sampled_from(["hold", "fade_out", "restart"]),
        "reveal_interval": _around(0.01, MAX_SECONDS, hostile), "linger": _around(0.01, MAX_SECONDS, hostile),
        "cell_transition": _transition(hostile),
    })
    solid = st.fixed_dictionaries({"type": st.just("solid"), "colour": st.lists(st.integers(0, 255), min_size=3,
                                                                                   max_size=3)})
    return st.one_of(grid, solid)


def _post(hostile: bool) -> object:
    kuwahara = st.fixed_dictionaries({"type": st.just("kuwahara"), "radius": _ints(1, 12, [0, 13], hostile),
                                      "sharpness": _around(0.01, 100, hostile),
                                      "anisotropy": _around(0.01, 100, hostile)})
    grade = st.fixed_dictionaries({"type": st.just("grade"), "exposure": _around(-10, 10, hostile),
                                   "contrast": _around(0.01, 10, hostile), "saturation": _around(0.01, 10, hostile),
                                   "tint_amount": _around(0, 1, hostile)})
    return st.lists(st.one_of(kuwahara, grade), max_size=2)


def _shows(hostile: bool) -> object:
    cue = st.fixed_dictionaries({"scene": _scene(hostile), "duration": _around(0.05, MAX_SECONDS, hostile),
                                 "transition": _transition(hostile),
                                 "follow": st.sampled_from(["next", "loop", "hold"]), "post": _post(hostile)})
    side = _ints(16, 96, [0, 15, 16385], hostile)
    return st.fixed_dictionaries({"version": st.just(1),
                                  "display": st.fixed_dictionaries({"size": st.tuples(side, side).map(list)}),
                                  "cues": st.lists(cue, min_size=1, max_size=3)})


@pytest.mark.slow
@pytest.mark.gl
def test_every_show_that_validates_renders_one_second(collection: Path, tmp_path_factory: pytest.TempPathFactory
                                                      ) -> None:
    from conftest import headless_context

    headless_context((16, 16)).close()  # skips the test where this machine has no headless GL
    outcomes = {"valid": 0, "invalid": 0}

    @hypothesis.settings(max_examples=int(os.environ.get("HOSTILE_EXAMPLES", "20")), deadline=None, database=None,
                         suppress_health_check=list(hypothesis.HealthCheck))
    @hypothesis.given(st.booleans().flatmap(_shows))
    def check(show: dict) -> None:
        text = yaml.safe_dump(show, sort_keys=False)
        report = check_text(text, "gen.yaml", collection.parent)
        if not report.ok:
            outcomes["invalid"] += 1
            assert report.errors and all(len(str(e)) <= LONGEST_LINE for e in report.errors)
            return
        outcomes["valid"] += 1
        folder = tmp_path_factory.mktemp("gen")
        path = collection.parent / f"{folder.name}.yaml"
        path.write_text(text)
        w, h = show["display"]["size"]
        rc = main(["render", str(path), "--out", str(folder / "frames"), "--seconds", "1", "--fps", "4",
                   "--size", f"{w}x{h}"])
        assert rc == 0, text
        assert len(list((folder / "frames").iterdir())) == 4

    check()
    assert outcomes["valid"] > 0, outcomes  # the strategy must reach the render, not only the rejections
