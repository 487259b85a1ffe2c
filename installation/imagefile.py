"""Reading image files that come from outside (a curator's folder, a camera folder, bytes): header first.

Every image that enters the runtime goes through :func:`read_image` (pixels) or :func:`check_image` (does it
read? for validation). Both parse the file's header here first (PNG, JPEG, BMP, WebP, TIFF: a few hundred
bytes, never the pixels) and judge the claimed size before OpenCV allocates anything, because OpenCV
believes a header: a 100-byte PNG claiming 100000 x 100000 px, a 1x1 image (OpenCV's reduced decoders
assert on it) or a 4 x 20000 sliver (1.7 GB once a grid cell is covered with it) must be skipped with a
reason, not raised into a show. Limits (:class:`ImageLimits`):

- at most 64 Mpx (8000 x 8000; 192 MB as 8-bit RGB), and files of at most 256 MiB;
- at least 8 px on each side;
- an aspect ratio within 1:16 (a panorama passes; a sliver does not).

Decoding is bounded as well: a JPEG larger than needed is decoded at 1/2, 1/4 or 1/8 scale by libjpeg
itself; anything larger than ``max_side`` is shrunk right after decoding. 16-bit, grey, palette, CMYK
and alpha images all come out as 8-bit RGB (or BGR): alpha is composited over a background colour.

Only numpy and OpenCV: render/, capture/ and inference/ import this, and they import nothing above them.
"""

from __future__ import annotations

import io
import stat
import struct
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import cv2
import numpy as np

ImageSource = str | Path | bytes

MAX_PIXELS = 64_000_000
MIN_SIDE = 8
MAX_ASPECT = 16.0
MAX_FILE_BYTES = 256 << 20
# Alpha needs IMREAD_UNCHANGED, which keeps 16-bit samples: 8 bytes/px for RGBA16. Above this many pixels the
# alpha channel is dropped (decoded straight to 8-bit BGR) so the footprint stays at 3 bytes/px.
ALPHA_PIXELS = 16_000_000
CORRUPT = "not a decodable image (corrupt or truncated)"
FORMATS = "PNG, JPEG, BMP, WebP or TIFF"


@dataclass(frozen=True)
class ImageLimits:
    """What an image must satisfy before it is decoded."""

    max_pixels: int = MAX_PIXELS
    min_side: int = MIN_SIDE
    max_aspect: float = MAX_ASPECT
    max_file_bytes: int = MAX_FILE_BYTES


LIMITS = ImageLimits()


@dataclass(frozen=True)
class ImageHeader:
    """What a file's header claims: its format, size and whether it carries alpha."""

    format: str  # png | jpeg | bmp | webp | tiff
    width: int
    height: int
    alpha: bool = False

    @property
    def pixels(self) -> int:
        return self.width * self.height


class _BadHeader(ValueError):
    """The header cannot be parsed (truncated, corrupt, or not an image format we read)."""


def _read(fh: BinaryIO, n: int) -> bytes:
    data = fh.read(n)
    if len(data) != n:
        raise _BadHeader(CORRUPT)
    return data


def _png(fh: BinaryIO) -> ImageHeader:
    head = _read(fh, 26)  # after the 8-byte signature: length, "IHDR", width, height, depth, colour type
    if head[4:8] != b"IHDR":
        raise _BadHeader(CORRUPT)
    width, height = struct.unpack(">II", head[8:16])
    colour_type = head[17]
    return ImageHeader("png", width, height, alpha=colour_type in (4, 6))


# Start-of-frame markers carry the size: every SOFn except DHT (C4), JPG (C8) and DAC (CC).
_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})


def _jpeg(fh: BinaryIO) -> ImageHeader:
    # Walk the marker segments by their lengths (seeking over EXIF and ICC blobs) up to the first SOF.
    for _ in range(4096):
        byte = _read(fh, 1)
        if byte != b"\xff":
            raise _BadHeader(CORRUPT)
        marker = 0xFF
        while marker == 0xFF:  # fill bytes
            marker = _read(fh, 1)[0]
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:  # markers without a length
            continue
        if marker in (0xD9, 0xDA):  # end of image or scan data before any frame header
            raise _BadHeader(CORRUPT)
        (length,) = struct.unpack(">H", _read(fh, 2))
        if length < 2:
            raise _BadHeader(CORRUPT)
        if marker in _SOF:
            body = _read(fh, 6)
            height, width = struct.unpack(">HH", body[1:5])
            if height == 0:  # height given later (DNL): not worth supporting, and unbounded
                raise _BadHeader("JPEG without a height in its frame header")
            return ImageHeader("jpeg", width, height)
        fh.seek(length - 2, io.SEEK_CUR)
    raise _BadHeader(CORRUPT)


def _bmp(fh: BinaryIO) -> ImageHeader:
    head = _read(fh, 24)  # after "BM": file size, reserved, pixel offset, DIB header size, then its fields
    (dib,) = struct.unpack("<I", head[12:16])
    if dib == 12:  # BITMAPCOREHEADER
        width, height = struct.unpack("<HH", head[16:20])
    elif dib >= 40:
        width, height = struct.unpack("<ii", head[16:24])
    else:
        raise _BadHeader(CORRUPT)
    return ImageHeader("bmp", abs(width), abs(height))  # negative height: rows stored top-down


def _webp(fh: BinaryIO) -> ImageHeader:
    head = _read(fh, 22)  # after "RIFF": size, "WEBP", chunk type, chunk size, first 10 payload bytes
    if head[4:8] != b"WEBP":
        raise _BadHeader(f"not a {FORMATS} image")
    chunk, payload = head[8:12], head[16:22]
    if chunk == b"VP8 ":
        payload += _read(fh, 4)
        if payload[3:6] != b"\x9d\x01\x2a":
            raise _BadHeader(CORRUPT)
        width, height = struct.unpack("<HH", payload[6:10])
        return ImageHeader("webp", width & 0x3FFF, height & 0x3FFF)
    if chunk == b"VP8L":
        if payload[0] != 0x2F:
            raise _BadHeader(CORRUPT)
        (bits,) = struct.unpack("<I", payload[1:5])
        return ImageHeader("webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, alpha=bool(bits >> 28 & 1))
    if chunk == b"VP8X":
        payload += _read(fh, 4)
        width = int.from_bytes(payload[4:7], "little") + 1
        height = int.from_bytes(payload[7:10], "little") + 1
        return ImageHeader("webp", width, height, alpha=bool(payload[0] & 0x10))
    raise _BadHeader(CORRUPT)


def _tiff(fh: BinaryIO, order: str) -> ImageHeader:
    (magic, offset) = struct.unpack(order + "HI", _read(fh, 6))
    if magic != 42:
        raise _BadHeader("BigTIFF is not supported" if magic == 43 else CORRUPT)
    fh.seek(offset)
    (count,) = struct.unpack(order + "H", _read(fh, 2))
    if count > 4096:
        raise _BadHeader(CORRUPT)
    fields: dict[int, int] = {}
    for _ in range(count):
        tag, kind, _n, raw = struct.unpack(order + "HHI4s", _read(fh, 12))
        if kind == 3:  # SHORT: in the first two bytes of the value field
            fields[tag] = struct.unpack(order + "H", raw[:2])[0]
        elif kind == 4:  # LONG
            fields[tag] = struct.unpack(order + "I", raw)[0]
    if 256 not in fields or 257 not in fields:
        raise _BadHeader(CORRUPT)
    # ExtraSamples (338) = 1 or 2: associated or unassociated alpha
    return ImageHeader("tiff", fields[256], fields[257], alpha=fields.get(338) in (1, 2))


def parse_header(fh: BinaryIO) -> ImageHeader:
    """The header of the image in ``fh`` (read from its start); ValueError with a reason when it is not one
    of PNG, JPEG, BMP, WebP or TIFF, or is cut short. Reads a few hundred bytes (JPEG and TIFF seek)."""
    fh.seek(0)
    magic = fh.read(8)
    if len(magic) < 8 and not magic.startswith(b"BM"):
        raise _BadHeader(CORRUPT)
    try:
        if magic == b"\x89PNG\r\n\x1a\n":
            return _png(fh)
        if magic.startswith(b"\xff\xd8"):
            fh.seek(2)
            return _jpeg(fh)
        if magic.startswith(b"BM"):
            fh.seek(2)
            return _bmp(fh)
        if magic.startswith(b"RIFF"):
            fh.seek(4)
            return _webp(fh)
        if magic[:4] in (b"II*\x00", b"II+\x00", b"MM\x00*", b"MM\x00+"):
            fh.seek(2)
            return _tiff(fh, "<" if magic[:2] == b"II" else ">")
    except (struct.error, OSError, ValueError) as exc:
        raise _BadHeader(str(exc) if isinstance(exc, _BadHeader) else CORRUPT) from exc
    raise _BadHeader(f"not a {FORMATS} image")


def limit_problem(header: ImageHeader, limits: ImageLimits = LIMITS) -> str | None:
    """Why an image of this claimed size is not read (one line), or None when it is within ``limits``."""
    w, h = header.width, header.height
    size = f"{w}x{h} px"
    if min(w, h) < limits.min_side:
        return f"{size}: smaller than {limits.min_side} px on a side"
    if w * h > limits.max_pixels:
        return f"{size} ({w * h / 1e6:.0f} Mpx): more than the {limits.max_pixels / 1e6:.0f} Mpx an image may have"
    if max(w, h) / min(w, h) > limits.max_aspect:
        long, short = max(w, h), min(w, h)
        return f"{size}: aspect ratio 1:{long / short:.0f} is beyond 1:{limits.max_aspect:g}"
    return None


def _open(source: ImageSource, limits: ImageLimits) -> tuple[BinaryIO | None, str | None]:
    """A readable binary handle on ``source`` after the cheap checks (exists, regular file, size)."""
    if isinstance(source, bytes | bytearray | memoryview):
        if len(source) == 0:
            return None, "empty (0 bytes)"
        return io.BytesIO(bytes(source)), None
    path = Path(source)
    try:
        st = path.stat()  # before open(): opening a FIFO would block until a writer comes
    except OSError as exc:
        return None, _open_reason(exc)
    if stat.S_ISDIR(st.st_mode):
        return None, "a folder, not a file"
    if not stat.S_ISREG(st.st_mode):
        return None, "not a regular file"
    if st.st_size == 0:
        return None, "empty file (0 bytes)"
    if st.st_size > limits.max_file_bytes:
        return None, f"file of {st.st_size / 2**20:.0f} MiB: more than the {limits.max_file_bytes >> 20} MiB allowed"
    try:
        return open(path, "rb"), None  # noqa: SIM115 - closed by the caller
    except OSError as exc:
        return None, _open_reason(exc)


def _open_reason(exc: OSError) -> str:
    """Why a file cannot be looked at or opened (one line)."""
    if isinstance(exc, FileNotFoundError):
        return "file not found"
    if isinstance(exc, PermissionError):
        return "permission denied"
    return _os_reason(exc)


def _os_reason(exc: OSError) -> str:
    return " ".join(str(exc.strerror or exc).split())[:160] or type(exc).__name__


def probe_image(source: ImageSource, limits: ImageLimits = LIMITS) -> tuple[ImageHeader | None, str | None]:
    """(header, None) when ``source`` claims a size within ``limits``, else (None or the header, why not)."""
    fh, error = _open(source, limits)
    if fh is None:
        return None, error
    with fh:
        try:
            header = parse_header(fh)
        except ValueError as exc:
            return None, str(exc)
        except OSError as exc:
            return None, _os_reason(exc)
    problem = limit_problem(header, limits)
    return (header, problem) if problem else (header, None)


def _load_bytes(source: ImageSource) -> np.ndarray:
    if isinstance(source, bytes | bytearray | memoryview):
        return np.frombuffer(bytes(source), np.uint8)
    # np.fromfile rather than cv2.imread: non-ASCII paths work on every platform
    return np.fromfile(str(source), np.uint8)


def _jpeg_reduction(header: ImageHeader, max_side: int | None) -> int:
    """The largest libjpeg scale-down (1, 2, 4, 8) that keeps the longer side at least ``max_side``."""
    if header.format != "jpeg" or not max_side:
        return 1
    for r in (8, 4, 2):
        if max(header.width, header.height) // r >= max_side and min(header.width, header.height) // r >= MIN_SIDE:
            return r
    return 1


_REDUCED_COLOR = {2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4, 8: cv2.IMREAD_REDUCED_COLOR_8}
_REDUCED_GREY = {2: cv2.IMREAD_REDUCED_GRAYSCALE_2, 4: cv2.IMREAD_REDUCED_GRAYSCALE_4,
                 8: cv2.IMREAD_REDUCED_GRAYSCALE_8}


def to_bgr8(image: np.ndarray, background: tuple[int, int, int] = (0, 0, 0)) -> np.ndarray:
    """Any decoded array (grey, BGR, BGRA; 8 or 16 bit or float) -> 8-bit BGR; alpha composited over
    ``background`` (an RGB colour)."""
    img = image
    if img.dtype == np.uint16:
        img = cv2.convertScaleAbs(img, alpha=255.0 / 65535.0)
    elif img.dtype != np.uint8:
        img = np.clip(np.nan_to_num(img.astype(np.float32)) * 255.0, 0, 255).astype(np.uint8)
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    if img.shape[2] == 1:
        return cv2.cvtColor(img[:, :, 0], cv2.COLOR_GRAY2BGR)
    if img.shape[2] == 2:  # grey + alpha
        img = np.dstack([img[:, :, 0]] * 3 + [img[:, :, 1]])
    if img.shape[2] >= 4:
        alpha = img[:, :, 3:4].astype(np.float32) / 255.0
        bg = np.array(background[::-1], np.float32)
        return np.round(img[:, :, :3] * alpha + bg * (1.0 - alpha)).astype(np.uint8)
    return img


def read_image(source: ImageSource, *, max_side: int | None = None, background: tuple[int, int, int] = (0, 0, 0),
               bgr: bool = False, limits: ImageLimits = LIMITS) -> tuple[np.ndarray | None, str | None]:
    """File path or encoded bytes -> (8-bit RGB (H, W, 3), None), or (None, why it is not read: one line).

    The header is checked against ``limits`` before anything is decoded; with ``max_side`` the longer side
    of the result is at most that (JPEGs are decoded at a reduced scale when they can be). ``bgr``: OpenCV's
    channel order instead. Logs nothing: a caller that retries a file decides how often to say so."""
    header, problem = probe_image(source, limits)
    if header is None or problem:
        return None, problem or CORRUPT
    try:
        data = _load_bytes(source)
        if header.alpha and header.pixels <= ALPHA_PIXELS:
            decoded = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
        else:
            reduction = _jpeg_reduction(header, max_side)
            decoded = cv2.imdecode(data, _REDUCED_COLOR[reduction] if reduction > 1 else cv2.IMREAD_COLOR)
        del data
    except FileNotFoundError:
        return None, "file not found"
    except PermissionError:
        return None, "permission denied"
    except OSError as exc:
        return None, _os_reason(exc)
    except cv2.error as exc:
        return None, " ".join(str(exc).split())[:160]
    if decoded is None or decoded.size == 0:
        return None, CORRUPT
    image = to_bgr8(decoded, background)
    del decoded
    h, w = image.shape[:2]
    if max_side and max(h, w) > max_side:
        s = max_side / max(h, w)
        image = cv2.resize(image, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    return (image if bgr else cv2.cvtColor(image, cv2.COLOR_BGR2RGB)), None


_QUIET = threading.Lock()


def check_image(source: ImageSource, limits: ImageLimits = LIMITS) -> str | None:
    """Why ``source`` is not a usable image (one line), or None when it reads. For validation: the header
    is checked, then the pixels decoded cheaply (grey; a JPEG at 1/8 scale) to catch truncated files;
    OpenCV's own complaints about a corrupt file are silenced (the caller reports it, once)."""
    header, problem = probe_image(source, limits)
    if header is None or problem:
        return problem or CORRUPT
    reduction = _jpeg_reduction(header, 64)
    flag = _REDUCED_GREY[reduction] if reduction > 1 else cv2.IMREAD_GRAYSCALE
    logging = cv2.utils.logging
    with _QUIET:
        previous = logging.getLogLevel()
        logging.setLogLevel(logging.LOG_LEVEL_SILENT)
        try:
            decoded = cv2.imdecode(_load_bytes(source), flag)
        except OSError as exc:
            return _os_reason(exc)
        except cv2.error as exc:
            return " ".join(str(exc).split())[:160]
        finally:
            logging.setLogLevel(previous)
    return None if decoded is not None and decoded.size else CORRUPT


def shown_reason(reason: str, chars: int = 160) -> str:
    """A reason on one line of at most ``chars`` characters (file names and codec messages can be long)."""
    text = " ".join(str(reason).split())
    return text if len(text) <= chars else text[: chars - 3] + "..."


__all__ = ["ALPHA_PIXELS", "CORRUPT", "LIMITS", "MAX_ASPECT", "MAX_FILE_BYTES", "MAX_PIXELS", "MIN_SIDE",
           "ImageHeader", "ImageLimits", "ImageSource", "check_image", "limit_problem", "parse_header",
           "probe_image", "read_image", "shown_reason", "to_bgr8"]
