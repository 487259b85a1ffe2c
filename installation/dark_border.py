"""Does a picture sit inside a dark border, like the letterbox bars of the paintings the generator learned from?

94% of the WikiArt images carry black bars. The bundles cut them off, yet a generator still paints a
near-black line along an edge now and then, and on the wall a painting inside a black band reads as a
mistake. A side counts as dark when its darkest edge line (within the outer eighth, corners left out) is
dark in absolute terms (below 40 of 255) *and* under half as bright as the picture's inside: a dark baroque
painting is dark everywhere and is not framed. Letterbox bars come in pairs of sides, so two dark sides
make a dark border.

Measured on the 744 held-out real paintings (bars cut): 24 (3.2%) have a dark border by this rule, mostly
dark backgrounds that reach the edge. The shipped generator paints one in 2.5% of its pictures (real at 64 px:
3.0%; ``python -m models.evaluate`` reports both); the demo collection had 8 of 196 before
``installation generate`` passed over them, 0 since.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import cv2
import numpy as np

# A line whose mean luminance (0-255) is below this is dark in absolute terms: the bars' own level, with
# slack for a generator's soft edge and for a dark line drawn a few pixels in.
DARK_LINE_LEVEL = 40.0
# ... and below this fraction of the inside's median luminance.
DARK_LINE_RATIO = 0.5
# The border band searched on each side, as a fraction of the side.
BAND_FRACTION = 1 / 8
# Judged at this size (the generator's): larger pictures are reduced first, so one noisy line of a 256-px
# picture cannot tip the rule. (An upscaler can still darken an edge line a little, so the selection
# judges the picture as the wall shows it.)
MEASURE_SIZE = 64
DARK_SIDES_FOR_BORDER = 2

_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # BT.601, as OpenCV's RGB -> gray


def dark_sides(image: np.ndarray) -> int:
    """How many of the four sides of an RGB (H, W, 3) picture end in a near-black line; values in 0-255
    (uint8) or 0-1 (float)."""
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an RGB image (H, W, 3), got shape {image.shape}")
    h, w = image.shape[:2]
    if min(h, w) > MEASURE_SIZE:
        f = MEASURE_SIZE / min(h, w)
        image = cv2.resize(image, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)
        h, w = image.shape[:2]
    band = max(1, int(round(min(h, w) * BAND_FRACTION)))
    if min(h, w) < 2 * band + 2:
        return 0  # too small to have an inside
    scale = 255.0 if np.issubdtype(image.dtype, np.floating) else 1.0
    lum = (image.astype(np.float32) @ _LUMA) * scale
    cut_h, cut_w = h // 10, w // 10  # leave the corners out: one dark corner is not a border
    rows = lum[:, cut_w : w - cut_w].mean(axis=1)
    cols = lum[cut_h : h - cut_h, :].mean(axis=0)
    inside = float(np.median(lum[band : h - band, band : w - band]))
    edges = (rows[:band].min(), rows[h - band :].min(), cols[:band].min(), cols[w - band :].min())
    return sum(1 for e in edges if e < DARK_LINE_LEVEL and e < DARK_LINE_RATIO * inside)


def has_dark_border(image: np.ndarray) -> bool:
    return dark_sides(image) >= DARK_SIDES_FOR_BORDER


def first_without_dark_border(order: Iterable[int], shown: Callable[[int], np.ndarray]) -> int | None:
    """The first candidate of ``order`` (best first) whose picture as the wall will show it, ``shown(k)``,
    has no dark border; None when every one has. ``shown`` is called lazily: usually once."""
    for k in order:
        if not has_dark_border(shown(k)):
            return k
    return None
