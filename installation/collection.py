"""Scan an image folder: which files are images, which of them read, in name order.

Every file is judged by :func:`installation.imagefile.check_image`: its header first (size, pixel budget,
aspect ratio; nothing decoded for a file that claims too much), then a cheap decode. A file that fails is
listed in :attr:`CollectionScan.skipped` with its reason, never raised: one odd file in a curator's folder
must not stop a show.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"})
NAMED_SKIPS = 5  # a warning names this many skipped files (with reasons); a longer list is counted


def natural_key(name: str) -> list[int | str]:
    """Sort key so that ``img2.png`` comes before ``img10.png``."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


@dataclass
class CollectionScan:
    """The readable images of a folder (natural name order) and the image files that could not be read,
    with the reason for each (``reasons``: path -> one line)."""

    folder: Path
    images: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    reasons: dict[Path, str] = field(default_factory=dict)

    def skipped_summary(self, names: int = NAMED_SKIPS) -> str:
        """``a.png: why; b.png: why ... and N more``: the skipped files on one readable line."""
        shown = [f"{shown_reason(p.name, 60)}: {shown_reason(self.reasons.get(p, 'unreadable'), 80)}"
                 for p in self.skipped[:names]]
        more = len(self.skipped) - len(shown)
        return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")


def image_problem(path: Path) -> str | None:
    """Why ``path`` is not a usable image (one line), or None when it reads."""
    from installation.imagefile import check_image  # OpenCV: imported when a folder is scanned, not at import

    return check_image(path)


def shown_reason(reason: str, chars: int) -> str:
    """``reason`` on one line of at most ``chars`` characters."""
    text = " ".join(str(reason).split())
    return text if len(text) <= chars else text[: chars - 3] + "..."


def image_readable(path: Path) -> bool:
    """True when ``path`` is an image within the limits that decodes (see :func:`image_problem`)."""
    return image_problem(path) is None


def scan_collection(folder: Path) -> CollectionScan:
    """List the image files directly in ``folder`` and check each one (header, then a cheap decode)."""
    scan = CollectionScan(folder)
    files = []
    for p in folder.iterdir():
        try:
            if p.suffix.lower() in IMAGE_SUFFIXES and not p.is_dir():
                files.append(p)
        except OSError:  # a name the file system cannot stat (a dangling mount): skip it like a bad file
            continue
    for path in sorted(files, key=lambda p: natural_key(p.name)):
        problem = image_problem(path)
        if problem is None:
            scan.images.append(path)
        else:
            scan.skipped.append(path)
            scan.reasons[path] = problem
    if scan.skipped:
        log.debug("%s: %d unreadable image(s): %s", folder, len(scan.skipped), scan.skipped_summary())
    return scan
