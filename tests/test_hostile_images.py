"""Hostile images (issue 11, class 1): tiny, thin, header bombs, 16-bit, CMYK, palette, alpha, truncated, empty,
garbage. Each is judged by its header before anything is decoded (installation/imagefile.py) and skipped with a
reason wherever an image enters: validation, `installation order`, the decode worker, the capture folder.
"""

from __future__ import annotations

import json
import logging
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from installation.imagefile import (
    CORRUPT,
    MAX_PIXELS,
    check_image,
    limit_problem,
    parse_header,
    probe_image,
    read_image,
)

# ---- crafted files ---------------------------------------------------------------------------------------


def png_bytes(width: int, height: int, depth: int = 8, colour_type: int = 2) -> bytes:
    """A PNG whose IHDR claims ``width`` x ``height`` with a few bytes of pixel data (a header bomb when big)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")


def jpeg_bytes(width: int, height: int) -> bytes:
    """SOI, an APP0 segment to walk over, a baseline frame header claiming ``width`` x ``height``, EOI."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 17, 8, height, width, 3) + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    return b"\xff\xd8" + app0 + sof + b"\xff\xd9"


def bmp_bytes(width: int, height: int) -> bytes:
    header = struct.pack("<IHHI", 54 + 64, 0, 0, 54) + struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 0,
                                                                      2835, 2835, 0, 0)
    return b"BM" + header + b"\0" * 64


def webp_vp8x_bytes(width: int, height: int) -> bytes:
    payload = b"\x10\0\0\0" + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    body = b"WEBP" + b"VP8X" + struct.pack("<I", len(payload)) + payload
    return b"RIFF" + struct.pack("<I", len(body)) + body


def tiff_bytes(width: int, height: int) -> bytes:
    entries = struct.pack("<HHII", 256, 4, 1, width) + struct.pack("<HHII", 257, 4, 1, height)
    return b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", 2) + entries + struct.pack("<I", 0)


BOMBS = {  # each claims far more pixels than the budget, in a few dozen bytes
    "bomb.png": png_bytes(100_000, 100_000),  # 10^10 px
    "bomb.jpg": jpeg_bytes(65_535, 65_535),  # the most a JPEG header can claim: 4.3 * 10^9 px
    "bomb.bmp": bmp_bytes(100_000, -100_000),  # top-down rows: a negative height
    "bomb.webp": webp_vp8x_bytes(100_000, 100_000),
    "bomb.tif": tiff_bytes(100_000, 100_000),
}


def encoded(ext: str, image: np.ndarray, params: list[int] | None = None) -> bytes:
    ok, data = cv2.imencode(ext, image, params or [])
    assert ok
    return data.tobytes()


def painting(h: int = 48, w: int = 64, seed: int = 0) -> np.ndarray:
    """A smooth BGR picture (gradients: every codec keeps it close)."""
    y, x = np.mgrid[0:h, 0:w]
    return np.dstack([x * 255 // max(1, w - 1), y * 255 // max(1, h - 1), np.full((h, w), 40 + seed * 20)]
                     ).astype(np.uint8)


def hostile_files(folder: Path) -> dict[str, str]:
    """Write the hostile files into ``folder``; returns name -> a word the skip reason must contain."""
    folder.mkdir(parents=True, exist_ok=True)
    good = encoded(".png", painting())
    files = {
        "tiny.png": (encoded(".png", np.zeros((1, 1, 3), np.uint8)), "smaller than 8 px"),
        "sliver.png": (encoded(".png", np.zeros((20000, 4, 3), np.uint8)), "smaller than 8 px"),  # the issue's
        "long.png": (encoded(".png", np.zeros((10, 2000, 3), np.uint8)), "aspect ratio 1:200"),
        "thin.bmp": (encoded(".bmp", np.zeros((4, 300, 3), np.uint8)), "smaller than 8 px"),
        "thin.webp": (encoded(".webp", np.zeros((3, 200, 3), np.uint8)), "smaller than 8 px"),
        "thin.tif": (encoded(".tif", np.zeros((2, 100, 3), np.uint8)), "smaller than 8 px"),
        "truncated.png": (good[: len(good) // 2], "corrupt or truncated"),
        "empty.png": (b"", "empty"),
        "garbage.jpg": (bytes(np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8)), "not a"),
        "text.png": (b"hello, I am not an image\n" * 10, "not a"),
        **{name: (data, "Mpx") for name, data in BOMBS.items()},
    }
    for name, (data, _) in files.items():
        (folder / name).write_bytes(data)
    return {name: why for name, (_, why) in files.items()}


# ---- the probe ---------------------------------------------------------------------------------------------


def test_headers_are_parsed_for_every_format() -> None:
    import io

    image = painting(37, 53)
    for ext, fmt in ((".png", "png"), (".jpg", "jpeg"), (".bmp", "bmp"), (".webp", "webp"), (".tif", "tiff")):
        header = parse_header(io.BytesIO(encoded(ext, image)))
        assert (header.format, header.width, header.height) == (fmt, 53, 37)
    lossless = parse_header(io.BytesIO(encoded(".webp", image, [cv2.IMWRITE_WEBP_QUALITY, 101])))
    assert (lossless.width, lossless.height) == (53, 37)
    rgba = np.dstack([image, np.full(image.shape[:2], 200, np.uint8)])
    assert parse_header(io.BytesIO(encoded(".png", rgba))).alpha
    for name, data in BOMBS.items():  # crafted headers parse to what they claim
        header = parse_header(io.BytesIO(data))
        assert header.pixels > 4e9, name


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_header_bombs_are_rejected_before_decoding(name: str) -> None:
    header, why = probe_image(BOMBS[name])
    assert header is not None and why is not None and "Mpx" in why and f"{MAX_PIXELS / 1e6:.0f} Mpx" in why
    assert read_image(BOMBS[name]) == (None, why)
    assert check_image(BOMBS[name]) == why


def test_limits_say_why_in_one_line() -> None:
    from installation.imagefile import ImageHeader

    assert limit_problem(ImageHeader("png", 1, 1)) == "1x1 px: smaller than 8 px on a side"
    assert limit_problem(ImageHeader("png", 4, 20000)) == "4x20000 px: smaller than 8 px on a side"
    assert limit_problem(ImageHeader("png", 8, 20000)) == "8x20000 px: aspect ratio 1:2500 is beyond 1:16"
    assert limit_problem(ImageHeader("png", 100, 1600)) is None  # 1:16 still passes
    assert limit_problem(ImageHeader("png", 8000, 8000)) is None  # 64 Mpx
    assert "Mpx" in limit_problem(ImageHeader("png", 8001, 8000))


def test_every_hostile_file_is_skipped_with_a_reason(tmp_path: Path) -> None:
    expected = hostile_files(tmp_path)
    for name, word in expected.items():
        rgb, why = read_image(tmp_path / name)
        assert rgb is None and why and word in why and "\n" not in why and len(why) <= 160, (name, why)
        assert check_image(tmp_path / name) is not None, name
    fifo = tmp_path / "pipe.png"
    import os

    os.mkfifo(fifo)  # opening it would block until a writer comes: refused from its stat alone
    assert read_image(fifo) == (None, "not a regular file") and check_image(fifo) == "not a regular file"


def test_odd_pixel_formats_come_out_as_8_bit_rgb(tmp_path: Path) -> None:
    bgr = painting()
    expected_rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).astype(int)
    cases = {
        "16bit.png": encoded(".png", bgr.astype(np.uint16) * 257),
        "16bit.tif": encoded(".tif", bgr.astype(np.uint16) * 257),
        "grey.png": encoded(".png", cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)),
        "opaque-alpha.png": encoded(".png", np.dstack([bgr, np.full(bgr.shape[:2], 255, np.uint8)])),
        "16bit-alpha.png": encoded(".png", np.dstack([bgr, np.full(bgr.shape[:2], 255, np.uint8)]).astype(np.uint16)
                                   * 257),
    }
    for name, data in cases.items():
        rgb, why = read_image(data)
        assert why is None and rgb.dtype == np.uint8 and rgb.shape == (48, 64, 3), name
        if "grey" not in name:
            assert np.abs(rgb.astype(int) - expected_rgb).max() <= 1, name
    # half-transparent: composited over the background colour asked for
    half = np.dstack([np.zeros_like(bgr), np.full(bgr.shape[:2], 128, np.uint8)])
    rgb, _ = read_image(encoded(".png", half), background=(200, 100, 0))
    assert np.abs(rgb[0, 0].astype(int) - [100, 50, 0]).max() <= 1


def test_cmyk_palette_and_grey_alpha_images_read() -> None:
    image_module = pytest.importorskip("PIL.Image")  # Pillow writes what OpenCV cannot (CMYK JPEG, palette)
    import io

    def pil_bytes(mode: str, fmt: str, colour: object) -> bytes:
        out = io.BytesIO()
        image_module.new(mode, (40, 30), colour).save(out, fmt)
        return out.getvalue()

    cmyk = pil_bytes("CMYK", "JPEG", (0, 255, 255, 0))  # pure red in CMYK
    rgb, why = read_image(cmyk)
    assert why is None and rgb.shape == (30, 40, 3) and rgb[15, 20, 0] > 200 and rgb[15, 20, 1:].max() < 60
    palette = pil_bytes("RGB", "PNG", (10, 200, 30))
    pal = io.BytesIO()
    image_module.open(io.BytesIO(palette)).convert("P").save(pal, "PNG")
    rgb, why = read_image(pal.getvalue())
    assert why is None and rgb.shape == (30, 40, 3) and abs(int(rgb[0, 0, 1]) - 200) < 20
    grey_alpha = pil_bytes("LA", "PNG", (180, 255))
    rgb, why = read_image(grey_alpha)
    assert why is None and rgb.shape == (30, 40, 3) and np.all(np.abs(rgb[0, 0].astype(int) - 180) <= 1)


def test_a_big_jpeg_is_decoded_small() -> None:
    big = encoded(".jpg", cv2.resize(painting(), (4000, 3000)))
    rgb, why = read_image(big, max_side=500)
    assert why is None and rgb.shape == (375, 500, 3)


def test_reading_hostile_files_allocates_no_gigabytes(tmp_path: Path) -> None:
    """Peak RSS of a fresh process that reads every hostile file through every entry point: the header bombs
    claim up to 10^10 px (30 GB as RGB) and the sliver 1.7 GB once fitted to a cell; growth stays < 150 MB."""
    hostile_files(tmp_path)
    code = f"""
import resource, sys
from pathlib import Path
import numpy as np
from installation.imagefile import read_image, check_image
from installation.render.textures import ImageLoader, fit_image
from installation.collection import scan_collection
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
folder = Path({str(tmp_path)!r})
scan = scan_collection(folder)
assert not scan.images, scan.images
loader = ImageLoader()
for p in sorted(folder.iterdir()):
    read_image(p); check_image(p); read_image(p, max_side=256)
    assert loader.wait(loader.submit(p, (1920, 1080), "cover")) is None
fit_image(np.zeros((1600, 100, 3), np.uint8), (1920, 1080), "cover")  # 1:16 passes; cropped before scaling
loader.close()
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**__import__("os").environ, "OMP_NUM_THREADS": "1"})
    assert out.returncode == 0, out.stderr[-2000:]
    growth_mb = int(out.stdout.strip().splitlines()[-1])
    assert growth_mb < 150, f"peak RSS grew by {growth_mb} MB"


# ---- where images enter ------------------------------------------------------------------------------------


def collection_with_hostile_files(folder: Path, good: int = 4) -> dict[str, str]:
    expected = hostile_files(folder)
    for i in range(good):
        cv2.imwrite(str(folder / f"good{i}.png"), painting(48, 64, seed=i))
    return expected


def test_scan_lists_skipped_files_with_reasons(tmp_path: Path) -> None:
    from installation.collection import scan_collection

    expected = collection_with_hostile_files(tmp_path)
    scan = scan_collection(tmp_path)
    assert [p.name for p in scan.images] == [f"good{i}.png" for i in range(4)]
    assert sorted(p.name for p in scan.skipped) == sorted(expected)
    for path in scan.skipped:
        assert expected[path.name] in scan.reasons[path]
    summary = scan.skipped_summary()
    assert "\n" not in summary and summary.endswith(f"and {len(expected) - 5} more")


def show_text(folder: Path, extra: str = "order: as_is") -> str:
    return (f"version: 1\ncues:\n  - scene: {{type: gradual_change, collection: {folder}, rows: 2, cols: 2, {extra},"
            " reveal_interval: 0.1, cell_transition: cut}\n    follow: hold\n")


def test_validate_warns_and_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from installation.cli import main

    collection_with_hostile_files(tmp_path / "pics")
    show = tmp_path / "show.yaml"
    show.write_text(show_text(tmp_path / "pics"))
    assert main(["validate", str(show)]) == 0
    captured = capsys.readouterr()
    assert f"ok: {show}" in captured.out
    warning = [line for line in captured.err.splitlines() if "unreadable image(s)" in line]
    assert len(warning) == 1 and "skipped 15 unreadable image(s)" in warning[0] and "warning" in warning[0]
    assert "Traceback" not in captured.err and "internal error" not in captured.err


def test_validate_refuses_only_when_nothing_readable_remains(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from installation.cli import main

    hostile_files(tmp_path / "pics")
    show = tmp_path / "show.yaml"
    show.write_text(show_text(tmp_path / "pics"))
    assert main(["validate", str(show)]) == 2
    err = capsys.readouterr().err
    assert "has 0 images, the show needs at least 1" in err and "Traceback" not in err


def test_order_skips_hostile_files_with_a_warning(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from installation.cli import main

    expected = collection_with_hostile_files(tmp_path / "pics")
    out = tmp_path / "order.json"
    assert main(["order", str(tmp_path / "pics"), "--method", "tsp", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert f"skipped {len(expected)} unreadable image(s)" in captured.err and "Traceback" not in captured.err
    assert sorted(json.loads(out.read_text())["order"]) == [f"good{i}.png" for i in range(4)]


def test_features_skip_a_file_that_went_bad_after_the_scan(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from installation.ordering.features import compute_features

    monkeypatch.setenv("INSTALLATION_CACHE", str(tmp_path / "cache"))
    collection_with_hostile_files(tmp_path / "pics")
    images = sorted((tmp_path / "pics").glob("good*.png")) + [tmp_path / "pics" / "bomb.png"]
    with caplog.at_level(logging.WARNING):
        features = compute_features(images, encoder_path=tmp_path / "no-encoder.onnx")
    assert features.names == [f"good{i}.png" for i in range(4)] and features.matrix.shape[0] == 4
    assert any("bomb.png" in r.getMessage() and "Mpx" in r.getMessage() for r in caplog.records)


def test_decode_worker_skips_hostile_files(tmp_path: Path) -> None:
    from installation.render.textures import ImageLoader

    expected = collection_with_hostile_files(tmp_path)
    loader = ImageLoader()
    try:
        tokens = {name: loader.submit(tmp_path / name, (64, 64)) for name in [*expected, "good0.png"]}
        for name, token in tokens.items():
            pixels = loader.wait(token)
            if name == "good0.png":
                assert pixels is not None and pixels.shape == (64, 64, 4)
            else:
                assert pixels is None and expected[name] in loader.take_error(token), name
    finally:
        loader.close()


def test_capture_folder_skips_hostile_files(tmp_path: Path) -> None:
    from installation.capture.sources import ImageFolderSource

    collection_with_hostile_files(tmp_path, good=2)
    source = ImageFolderSource(tmp_path, fps=10)
    source.open()
    frames = []
    while (frame := source.read()) is not None:
        frames.append(frame)
    assert len(frames) == 2 and all(f.image.shape == (48, 64, 3) for f in frames)


@pytest.mark.gl
def test_render_plays_the_rest(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from conftest import headless_context

    from installation.cli import main

    headless_context((64, 64)).close()  # skips without EGL
    collection_with_hostile_files(tmp_path / "pics")
    show = tmp_path / "show.yaml"
    show.write_text(show_text(tmp_path / "pics"))
    out = tmp_path / "frames"
    assert main(["render", str(show), "--out", str(out), "--seconds", "1", "--fps", "5", "--size", "96x96"]) == 0
    frames = sorted(out.glob("frame_*.png"))
    assert len(frames) == 5
    last = cv2.imread(str(frames[-1]))
    assert last.std() > 5  # the good paintings are on the grid, not only the background
    assert "Traceback" not in capsys.readouterr().err


def test_fit_cover_of_a_long_image_crops_before_scaling() -> None:
    from installation.render.textures import fit_image

    long = np.zeros((1600, 100, 3), np.uint8)
    long[:800] = (255, 0, 0)
    long[800:] = (0, 0, 255)
    out = fit_image(long, (200, 100), "cover")  # the middle 50 rows of the source, scaled up
    assert out.shape == (100, 200, 4)
    assert tuple(out[10, 100, :3]) == (255, 0, 0) and tuple(out[90, 100, :3]) == (0, 0, 255)


def test_corrupt_reason_is_stable() -> None:
    assert read_image(b"\x89PNG\r\n\x1a\n")[1] == CORRUPT  # a signature and nothing else
