"""Scan an image folder: which files are images, which of them decode, in name order."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"})


def natural_key(name: str) -> list[int | str]:
    """Sort key so that ``img2.png`` comes before ``img10.png``."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


@dataclass
class CollectionScan:
    """The readable images of a folder (natural name order) and the image files that could not be decoded."""

    folder: Path
    images: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)


def image_readable(path: Path) -> bool:
    """True when OpenCV decodes ``path`` (cheaply: grey, at reduced size where the codec allows)."""
    import cv2
    import numpy as np

    try:
        data = np.fromfile(str(path), dtype=np.uint8)
    except OSError:
        return False
    if data.size == 0:
        return False
    get_level, set_level = getattr(cv2, "getLogLevel", None), getattr(cv2, "setLogLevel", None)
    previous = get_level() if get_level else None
    if set_level:
        set_level(0)  # silent: a corrupt file is reported once, by us, not by the codec
    try:
        return cv2.imdecode(data, cv2.IMREAD_REDUCED_GRAYSCALE_4) is not None
    finally:
        if set_level and previous is not None:
            set_level(previous)


def scan_collection(folder: Path) -> CollectionScan:
    """List the image files directly in ``folder`` and try to decode each one."""
    scan = CollectionScan(folder)
    files = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
    for path in sorted(files, key=lambda p: natural_key(p.name)):
        (scan.images if image_readable(path) else scan.skipped).append(path)
    if scan.skipped:
        log.debug("%s: %d unreadable image(s): %s", folder, len(scan.skipped), [p.name for p in scan.skipped])
    return scan
