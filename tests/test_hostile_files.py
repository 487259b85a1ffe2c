"""Hostile files and places (issue 11, classes 4 and 5): validation that only checks, a camera folder of
unreadable images, a full disk under `render`, `order --out` and the writers, an order_file that is some
other file. Disk-full tests mount a 2 MiB tmpfs (root only; skipped where mounting is not allowed).
"""

from __future__ import annotations

import errno
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "assets" / "collections" / "demo"


def write_paintings(folder: Path, count: int = 4) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        y, x = np.mgrid[0:48, 0:64]
        img = np.dstack([x * 4, y * 5, np.full((48, 64), 30 * i)]).astype(np.uint8)
        paths.append(folder / f"p{i}.png")
        cv2.imwrite(str(paths[-1]), img)
    return paths


def show_text(folder: Path, extra: str) -> str:
    return (f"version: 1\ncues:\n  - scene: {{type: gradual_change, collection: {folder}, rows: 2, cols: 2, {extra}}}"
            "\n    follow: hold\n")


# ---- a camera folder whose images are all unreadable ------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_unreadable_camera_folder_backs_off_without_flooding_the_log(tmp_path: Path,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    from installation.capture.sources import ImageFolderSource
    from installation.capture.thread import REMINDER_SECONDS, CaptureThread

    for i in range(5):
        (tmp_path / f"{i}.png").write_bytes(b"not a png at all")
    clock = FakeClock()
    capture = CaptureThread(ImageFolderSource(tmp_path, loop=True), clock=clock, sleep=lambda s: None)
    minutes = 10
    steps = 0
    with caplog.at_level(logging.DEBUG, logger="installation.capture"):
        while clock.now < minutes * 60:
            wait = capture.step()
            clock.now += max(wait, 0.001)
            steps += 1
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    per_file = [w for w in warnings if w.startswith("skipping unreadable image")]
    assert len(per_file) == 5  # each bad file once
    failures = [w for w in warnings if not w.startswith("skipping")]
    # three loud failures, then a reminder at most every REMINDER_SECONDS
    assert 3 <= len(failures) <= 3 + minutes * 60 / REMINDER_SECONDS + 1, failures
    assert "none of its 5 image(s) can be read" in failures[0]
    assert steps < 200, "the capture spun instead of backing off"
    assert capture.state == "reconnecting" and capture.latest() is None


def test_unreadable_camera_folder_process_exits_cleanly(tmp_path: Path) -> None:
    for i in range(3):
        (tmp_path / f"{i}.jpg").write_bytes(b"\xff\xd8 broken")
    code = f"""
import logging, time
logging.basicConfig(level=logging.INFO)
from installation.capture.sources import ImageFolderSource
from installation.capture.thread import CaptureThread
capture = CaptureThread(ImageFolderSource({str(tmp_path)!r}, loop=True)).start()
time.sleep(2.0)
# exit without stop(): the daemon thread must not take the interpreter down with it
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert out.returncode == 0, out.stderr[-2000:]
    assert len(out.stderr.splitlines()) < 15, out.stderr[-2000:]


# ---- disk full --------------------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs; skipped where it cannot be mounted (not root, no CAP_SYS_ADMIN)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True,
                              text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"cannot mount a tmpfs here: {exc}")
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True, timeout=20)


def fill(disk: Path, leave: int = 0) -> None:
    """Fill ``disk`` up to ``leave`` bytes free."""
    with open(disk / "filler", "wb") as fh:
        try:
            while True:
                free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
                if free <= leave:
                    break
                fh.write(b"\0" * min(65536, max(4096, free - leave)))
                fh.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC


def leftovers(disk: Path) -> list[str]:
    return sorted(p.name for p in disk.rglob("*") if p.name != "filler")


def test_order_out_on_a_full_disk(small_disk: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from installation.cli import main

    write_paintings(tmp_path / "pics")
    fill(small_disk)
    out = small_disk / "order.json"
    assert main(["order", str(tmp_path / "pics"), "--method", "tsp", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0] == f"error: cannot write {out}: disk full"
    assert leftovers(small_disk) == []  # no order.json.tmp


def test_atomic_writes_on_a_full_disk(small_disk: Path) -> None:
    from installation.files import WriteError, atomic_write_bytes, atomic_write_text

    fill(small_disk)
    for write, data in ((atomic_write_bytes, b"x" * 100_000), (atomic_write_text, "y" * 100_000)):
        with pytest.raises(WriteError, match="disk full$"):
            write(small_disk / "sub" / "file", data)
        assert leftovers(small_disk) in ([], ["sub"])


@pytest.mark.parametrize("name", ["video.avi", "video.mp4", "frames"])
@pytest.mark.parametrize("leave", [0, 300_000])
def test_writers_say_disk_full_and_leave_nothing(small_disk: Path, name: str, leave: int) -> None:
    from installation.video import VideoError, open_writer

    fill(small_disk, leave)
    rng = np.random.default_rng(0)
    # opening, writing or closing may be what fails; noise does not compress: 200 frames cannot fit
    with pytest.raises(VideoError, match="disk full"), open_writer(small_disk / name, 10, (320, 240)) as writer:
        for _ in range(200):
            writer.write(rng.integers(0, 256, (240, 320, 3), dtype=np.uint8))
    assert leftovers(small_disk) == []


@pytest.mark.gl
def test_render_on_a_full_disk(small_disk: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from conftest import headless_context

    from installation.cli import main

    headless_context((64, 64)).close()  # skips without EGL
    write_paintings(tmp_path / "pics")
    show = tmp_path / "show.yaml"
    show.write_text(show_text(tmp_path / "pics", "order: as_is, reveal_interval: 0.1, cell_transition: cut"))
    fill(small_disk, 100_000)
    out = small_disk / "out.avi"
    assert main(["render", str(show), "--out", str(out), "--seconds", "4", "--fps", "10", "--size", "320x240"]) == 2
    err = capsys.readouterr().err
    assert "disk full" in err and "encoder" not in err and "Traceback" not in err
    assert leftovers(small_disk) == []


# ---- an order_file that is some other file ------------------------------------------------------------------


def test_order_file_contents_are_never_quoted(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from installation.cli import main

    write_paintings(tmp_path / "pics")
    secret = tmp_path / "notes.txt"
    secret.write_text("password=SECRET-hunter2\napi_key SECRET-abc\n" * 3)
    binary = tmp_path / "blob.bin"
    binary.write_bytes(b"SECRET\0\x01\x02" * 10)
    big = tmp_path / "big.txt"
    big.write_text("SECRET line\n" * 200_000)
    for path, says in ((secret, "none of its 6 line(s) names an image"), (binary, "is not a text file"),
                       (big, "too big")):
        show = tmp_path / "show.yaml"
        show.write_text(show_text(tmp_path / "pics", f"order: file, order_file: {path}"))
        assert main(["validate", str(show)]) == 2
        err = capsys.readouterr().err
        lines = [line for line in err.splitlines() if "order_file" in line]
        assert len(lines) == 1 and says in lines[0] and len(lines[0]) < 400, err
        assert "SECRET" not in err


def test_order_file_naming_gone_files_is_a_warning(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from installation.cli import main

    write_paintings(tmp_path / "pics")
    order = tmp_path / "order.txt"
    order.write_text("p3.png\np9.png\np1.png\n")
    show = tmp_path / "show.yaml"
    show.write_text(show_text(tmp_path / "pics", f"order: file, order_file: {order}"))
    assert main(["validate", str(show)]) == 0
    assert "1 name(s) are not readable images" in capsys.readouterr().err


# ---- validation only checks; preparation computes ------------------------------------------------------------


def test_validation_reports_a_missing_order_and_never_computes_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                                  ) -> None:
    import installation.ordering.pipeline as pipeline
    from installation.scenes.prepare import prepare_show
    from installation.show import check_show

    monkeypatch.setenv("INSTALLATION_CACHE", str(tmp_path / "cache"))
    write_paintings(tmp_path / "pics", 6)
    show_path = tmp_path / "show.yaml"
    show_path.write_text(show_text(tmp_path / "pics", "order: gnn, layout: similarity"))
    real = pipeline.compute_order

    def forbidden(*args: object, **kwargs: object) -> object:
        raise AssertionError("validation computed an order")

    monkeypatch.setattr(pipeline, "compute_order", forbidden)
    report = check_show(show_path)
    assert report.ok and report.show is not None
    assert any("the order is computed when the show starts" in str(w) for w in report.warnings)
    params = report.show.cues[0].scene
    assert params.computed_order is None and params.needs_preparation
    calls: list[str] = []

    def recording(*args: object, **kwargs: object) -> object:
        calls.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "compute_order", recording)
    prepare_show(report.show, progress=False)
    assert params.computed_order is not None and sorted(params.computed_order.names) == [f"p{i}.png" for i in range(6)]
    prepare_show(report.show, progress=False)  # once only
    assert len(calls) == 1
    # now cached: the next validation finds it and warns no more
    again = check_show(show_path)
    assert again.show.cues[0].scene.computed_order is not None
    assert not any("order" in str(w) and "computed" in str(w) for w in again.warnings)


def test_a_reloaded_show_is_prepared_off_the_calling_thread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import installation.ordering.pipeline as pipeline
    from installation.scenes.prepare import Preparation
    from installation.show import check_show

    monkeypatch.setenv("INSTALLATION_CACHE", str(tmp_path / "cache"))
    write_paintings(tmp_path / "pics", 5)
    show_path = tmp_path / "show.yaml"
    show_path.write_text(show_text(tmp_path / "pics", "order: gnn"))
    show = check_show(show_path).show
    release = threading.Event()
    seen: list[str] = []
    real = pipeline.compute_order

    def slow(*args: object, **kwargs: object) -> object:
        seen.append(threading.current_thread().name)
        release.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "compute_order", slow)
    preparation = Preparation(show)
    assert not preparation.done  # returned at once: the render loop keeps drawing the old show meanwhile
    release.set()
    assert preparation.wait(60) and seen == ["prepare-show"]
    assert show.cues[0].scene.computed_order is not None
    assert Preparation(show).done  # nothing left to prepare: no thread


def test_validating_a_gnn_show_does_not_import_torch(tmp_path: Path) -> None:
    write_paintings(tmp_path / "pics", 5)
    show = tmp_path / "show.yaml"
    show.write_text(show_text(tmp_path / "pics", "order: gnn"))
    code = (f"import sys; from installation.cli import main; rc = main(['validate', {str(show)!r}]); "
            "print(rc, 'torch' in sys.modules)")
    env = {**os.environ, "INSTALLATION_CACHE": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO, env=env)
    assert out.stdout.strip().splitlines()[-1] == "0 False", out.stderr[-2000:]
    assert "the order is computed when the show starts" in out.stderr


@pytest.mark.skipif(not (DEMO.is_dir() and (DEMO.parent / "demo.order.json").is_file()), reason="no demo collection")
def test_demo_order_is_current_with_and_without_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    import installation.ordering.pipeline as pipeline
    from installation.collection import scan_collection
    from installation.ordering import find_order

    images = scan_collection(DEMO).images
    for torch_installed in (True, False):
        monkeypatch.setattr(pipeline, "torch_available", lambda installed=torch_installed: installed)
        found, why = find_order(DEMO, images, "gnn", "sequence", 14, 14, 0)
        assert found is not None and found.source.startswith("file:") and found.method == "gnn", why
