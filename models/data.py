"""Training data as compact bundles: one ``.npz`` per data set, pre-resized, images stored as encoded
JPEG/PNG bytes so 7000 paintings at 64 px fit in a few MB and travel to a GPU machine with a checkpoint.

Build one with ``python -m models.data --src ../shared/data/paintings --size 64 --out data/paintings64.npz``.
A bundle records the class names (folder names), a deterministic held-out split (by a hash of each
file's path, so it never changes between runs or machines) and where the images came from.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}
SPLIT_TRAIN, SPLIT_HELDOUT = 0, 1


def heldout(relpath: str, percent: int) -> bool:
    """A file is held out when the hash of its path falls in the first ``percent`` of 100 buckets."""
    return int(hashlib.sha1(relpath.encode()).hexdigest()[:8], 16) % 100 < percent


INTERPOLATIONS = {"linear": cv2.INTER_LINEAR, "cubic": cv2.INTER_CUBIC, "area": cv2.INTER_AREA}


# A row or column counts as letterbox bar when nearly all of it is black: WikiArt pads paintings with pure
# black, JPEG ringing lifts a few pixels near the edge of the content, and dark paintings (baroque) still
# have a 95th percentile well above this.
BAR_LEVEL = 12
BAR_QUANTILE = 95


def letterbox_box(img: np.ndarray, level: int = BAR_LEVEL) -> tuple[int, int, int, int]:
    """The painting inside its black bars as (top, bottom, left, right), bottom/right exclusive.

    The one rule for every model trained on paintings (GAN, encoder, super-resolution): scan in from each
    edge while a whole row/column is bar, then drop one more line, which JPEG blends with the bar.
    """
    lum = img if img.ndim == 2 else img.max(axis=2)
    h, w = lum.shape
    # content: most of the line is above the bar level, or the line is bright on average (a dark painting
    # with a few bright strokes); a bar's soft JPEG edge is neither
    rows = (np.percentile(lum, BAR_QUANTILE, axis=1) > level) & (lum.mean(axis=1) > level)
    cols = (np.percentile(lum, BAR_QUANTILE, axis=0) > level) & (lum.mean(axis=0) > level)
    if not rows.any() or not cols.any():  # an all-dark image: keep it whole
        return 0, h, 0, w
    top, bottom = int(np.argmax(rows)), h - int(np.argmax(rows[::-1]))
    left, right = int(np.argmax(cols)), w - int(np.argmax(cols[::-1]))
    top, left = top + (top > 0), left + (left > 0)
    bottom, right = bottom - (bottom < h), right - (right < w)
    if bottom - top < h // 4 or right - left < w // 4:  # a sliver is a misread, not a painting
        return 0, h, 0, w
    return top, bottom, left, right


def crop_letterbox(img: np.ndarray) -> np.ndarray:
    top, bottom, left, right = letterbox_box(img)
    return img[top:bottom, left:right]


def centre_square(img: np.ndarray) -> np.ndarray:
    """The largest centred square (GAN and encoder bundles are square; a centre crop keeps proportions)."""
    h, w = img.shape[:2]
    side = min(h, w)
    y, x = (h - side) // 2, (w - side) // 2
    return img[y : y + side, x : x + side]


def _fit_square(img: np.ndarray, size: int, upscale: str = "cubic") -> np.ndarray:
    """Area averaging when shrinking; ``upscale`` when enlarging (match what the model will see at run
    time: fer's faces are enlarged bilinearly, 48 -> 64)."""
    interp = cv2.INTER_AREA if min(img.shape[:2]) >= size else INTERPOLATIONS[upscale]
    return cv2.resize(img, (size, size), interpolation=interp)


def build_bundle(
    src: Path,
    out: Path,
    *,
    size: int | None,
    gray: bool = False,
    heldout_percent: int = 10,
    per_class: int | None = None,
    fmt: str = ".jpg",
    quality: int = 95,
    upscale: str = "cubic",
    crop_bars: bool = False,
) -> dict:
    """Encode every image under ``src`` (one folder per class, or a flat folder with no classes).

    ``size=None`` keeps each image's own size (for super-resolution data). ``crop_bars`` cuts letterbox bars
    off first (:func:`letterbox_box`), and with ``size`` then takes the centred square, so no model learns
    the bars. Unreadable files are skipped and listed in one warning. Returns the bundle's summary.
    """
    src = Path(src)
    class_dirs = sorted(d for d in src.iterdir() if d.is_dir())
    groups = [(d.name, d) for d in class_dirs] if class_dirs else [("", src)]
    classes = [name for name, _ in groups if name]
    blobs: list[bytes] = []
    labels, splits, names, skipped = [], [], [], []
    params = [cv2.IMWRITE_JPEG_QUALITY, quality] if fmt == ".jpg" else [cv2.IMWRITE_PNG_COMPRESSION, 9]
    for label, (cls, folder) in enumerate(groups):
        files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if per_class:
            files = files[:per_class]
        for path in files:
            img = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE if gray else cv2.IMREAD_COLOR)
            if img is None:
                skipped.append(path.name)
                continue
            if crop_bars:
                img = crop_letterbox(img)
                if size:
                    img = centre_square(img)
            if size:
                img = _fit_square(img, size, upscale)
            ok, enc = cv2.imencode(fmt, img, params)
            if not ok:
                skipped.append(path.name)
                continue
            rel = f"{cls}/{path.name}" if cls else path.name
            blobs.append(enc.tobytes())
            labels.append(label if cls else -1)
            splits.append(SPLIT_HELDOUT if heldout(rel, heldout_percent) else SPLIT_TRAIN)
            names.append(rel)
    if skipped:
        log.warning("skipped %d unreadable images: %s", len(skipped), ", ".join(skipped[:10]))
    if not blobs:
        raise ValueError(f"{src}: no readable images found")
    offsets = np.cumsum([0] + [len(b) for b in blobs]).astype(np.int64)
    info = {
        "source": str(src),
        "size": size,
        "gray": gray,
        "upscale": upscale,
        "crop_bars": crop_bars,
        "heldout_percent": heldout_percent,
        "count": len(blobs),
        "heldout": int(sum(splits)),
        "skipped": skipped,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        out,
        blob=np.frombuffer(b"".join(blobs), dtype=np.uint8),
        offsets=offsets,
        labels=np.asarray(labels, dtype=np.int16),
        split=np.asarray(splits, dtype=np.uint8),
        names=np.asarray(names),
        classes=np.asarray(classes),
        info=np.asarray(json.dumps(info)),
    )
    return info


@dataclass
class Bundle:
    """A loaded bundle; images decode once, on first use."""

    path: Path
    classes: list[str]
    names: np.ndarray
    labels: np.ndarray
    split: np.ndarray
    info: dict
    _blob: np.ndarray
    _offsets: np.ndarray

    @classmethod
    def load(cls, path: str | Path) -> Bundle:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such bundle; build one with `python -m models.data`")
        with np.load(path, allow_pickle=False) as z:
            return cls(
                path=path,
                classes=[str(c) for c in z["classes"]],
                names=z["names"],
                labels=z["labels"].astype(np.int64),
                split=z["split"],
                info=json.loads(str(z["info"])),
                _blob=z["blob"],
                _offsets=z["offsets"],
            )

    def __len__(self) -> int:
        return len(self.labels)

    def indices(self, split: str = "train") -> np.ndarray:
        """Indices of the ``train`` or ``heldout`` split (``all`` for every image)."""
        if split == "all":
            return np.arange(len(self))
        want = {"train": SPLIT_TRAIN, "heldout": SPLIT_HELDOUT}[split]
        return np.flatnonzero(self.split == want)

    def decode(self, i: int) -> np.ndarray:
        """Image ``i`` as uint8, RGB (H, W, 3) or gray (H, W)."""
        buf = self._blob[self._offsets[i] : self._offsets[i + 1]]
        flag = cv2.IMREAD_GRAYSCALE if self.info.get("gray") else cv2.IMREAD_COLOR
        img = cv2.imdecode(buf, flag)
        return img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_BGR2RGB)

    def stack(self, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
        """All images of a split decoded into one array (N, H, W[, C]) with their labels.
        Only for bundles of one image size."""
        idx = self.indices(split)
        return np.stack([self.decode(int(i)) for i in idx]), self.labels[idx]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m models.data", description="Build a training bundle.")
    p.add_argument("--src", type=Path, required=True, help="folder of class folders (or a flat folder)")
    p.add_argument("--out", type=Path, required=True, help="bundle file to write (.npz)")
    p.add_argument("--size", type=int, default=None, help="resize to SIZE x SIZE (default: keep size)")
    p.add_argument("--gray", action="store_true", help="store grayscale")
    p.add_argument("--heldout-percent", type=int, default=10)
    p.add_argument("--per-class", type=int, default=None, help="take at most this many per class")
    p.add_argument("--png", action="store_true", help="lossless PNG instead of JPEG q95")
    p.add_argument("--upscale", choices=sorted(INTERPOLATIONS), default="cubic",
                   help="interpolation when an image is smaller than --size (linear for FER faces, as fer does)")
    p.add_argument("--crop-bars", action="store_true",
                   help="cut black letterbox bars off each image first (every bundle of paintings needs this)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    if not args.src.is_dir():
        print(f"error: {args.src}: no such folder", file=sys.stderr)
        return 2
    info = build_bundle(
        args.src, args.out, size=args.size, gray=args.gray, heldout_percent=args.heldout_percent,
        per_class=args.per_class, fmt=".png" if args.png else ".jpg", upscale=args.upscale,
        crop_bars=args.crop_bars,
    )
    mb = args.out.stat().st_size / 1e6
    print(f"wrote {args.out} ({mb:.1f} MB): {info['count']} images, {info['heldout']} held out")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
