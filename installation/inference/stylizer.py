"""Arbitrary style transfer: a painting -> :class:`StyleVector`, then any image + a vector -> the image repainted.

Two model files (contracts ``style_predictor`` and ``stylizer``, installation/inference/contract.py) that share
a ``style_space``; :class:`Stylizer` loads the pair and refuses one whose spaces or vector sizes disagree.

Sizes. The default model (Magenta's, exporters/stylizer.py) is fixed: styles at 256x256, content at 384x384.

- A style image is centre-cropped to a square and resized to the predictor's size (area interpolation).
- Content of any size is resized so that its longer side is the stylizer's ``content_size`` (area when it
  shrinks, cubic when it grows), reflect-padded on the bottom and right to a square (reflection keeps the
  network's instance-normalisation statistics those of the picture, where black bars would darken them), run,
  and cropped back to the picture's area. :meth:`Stylizer.stylize` returns that crop at the network's
  resolution (``size="model"``) or resized back to the content's own size (``size="content"``, cubic).
  A model with dynamic height and width (a user's own) gets the resized picture unpadded.

Vectors are linear: a mix of two vectors is a style between the two (Magenta's style interpolation), which
is how the ``style_transfer`` scene changes style gradually and how ``strength`` can work in style space.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from installation.inference.contract import ModelContractError
from installation.inference.model import OnnxModel


@dataclass(frozen=True)
class StyleVector:
    """A style in a model's style space: ``vector`` (style_dim,) float32."""

    vector: np.ndarray
    space: str

    def mix(self, other: StyleVector, weight: float) -> StyleVector:
        """``(1 - weight) * self + weight * other`` (weight 0..1): a style between the two."""
        if other.space != self.space:
            raise ValueError(f"cannot mix styles of different spaces ({self.space} vs {other.space})")
        w = float(np.clip(weight, 0.0, 1.0))
        return StyleVector(((1.0 - w) * self.vector + w * other.vector).astype(np.float32), self.space)


def _resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """RGB uint8/float (H, W, 3) -> ``size`` (w, h), area when shrinking, cubic when growing."""
    h, w = image.shape[:2]
    if (w, h) == size:
        return image
    shrink = size[0] * size[1] < w * h
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)


def _rgb(image: np.ndarray, what: str) -> np.ndarray:
    if image.ndim != 3 or image.shape[2] != 3 or min(image.shape[:2]) < 1:
        raise ValueError(f"{what} must be an RGB image (H, W, 3), got shape {image.shape}")
    return image


def _unit(image: np.ndarray) -> np.ndarray:
    """uint8 0..255 or float 0..1 -> float32 0..1."""
    return image.astype(np.float32) / 255.0 if image.dtype == np.uint8 else np.clip(image.astype(np.float32), 0, 1)


class StylePredictor(OnnxModel):
    """Contract ``style_predictor``: ``style`` (1, 3, S, S) RGB in [0, 1] -> ``style_vector`` (1, D)."""

    kind = "style_predictor"

    def __init__(self, path: str | Path, *, providers: list[str] | None = None, threads: int | None = None) -> None:
        super().__init__(path, providers=providers, threads=threads)
        self.style_size = self.meta_int("style_size")
        self.style_dim = self.meta_int("style_dim")
        self.space = self.metadata["style_space"]

    def style_vector(self, image: np.ndarray) -> StyleVector:
        """An RGB painting (H, W, 3), uint8 or float in [0, 1] -> its :class:`StyleVector` (centre square)."""
        image = _rgb(image, "a style image")
        h, w = image.shape[:2]
        side = min(h, w)
        y, x = (h - side) // 2, (w - side) // 2
        square = _resize(np.ascontiguousarray(image[y : y + side, x : x + side]), (self.style_size,) * 2)
        x_in = np.ascontiguousarray(_unit(square).transpose(2, 0, 1)[None])
        vec = self.session.run(["style_vector"], {"style": x_in})[0]
        return StyleVector(vec.reshape(-1).astype(np.float32), self.space)


class StyleTransform(OnnxModel):
    """Contract ``stylizer``: ``content`` (1, 3, C, C) + ``style_vector`` (1, D) -> ``stylized`` (1, 3, C, C)."""

    kind = "stylizer"

    def __init__(self, path: str | Path, *, providers: list[str] | None = None, threads: int | None = None) -> None:
        super().__init__(path, providers=providers, threads=threads)
        self.content_size = self.meta_int("content_size")
        self.style_dim = self.meta_int("style_dim")
        self.space = self.metadata["style_space"]
        shape = self.session.get_inputs()[[i.name for i in self.session.get_inputs()].index("content")].shape
        self.fixed = all(isinstance(d, int) for d in shape[2:])  # the default model: 384x384 only

    def run(self, content: np.ndarray, vector: np.ndarray) -> np.ndarray:
        """The bare model run: float32 (1, 3, H, W) in [0, 1] and (1, D) -> float32 (1, 3, H, W) in [0, 1]."""
        return self.session.run(["stylized"], {"content": content, "style_vector": vector})[0]


class Stylizer:
    """The pair: ``style_vector(painting)`` once per style, ``stylize(content, style=...)`` per image."""

    def __init__(self, transform: str | Path, predictor: str | Path | None = None, *,
                 providers: list[str] | None = None, threads: int | None = None) -> None:
        """``transform``: a ``stylizer`` file; ``predictor``: its ``style_predictor`` (default: the file its
        ``style_predictor`` metadata names, beside it). ``ModelContractError`` when the two do not pair."""
        self.transform = StyleTransform(transform, providers=providers, threads=threads)
        if predictor is None:
            name = self.transform.metadata.get("style_predictor")
            if not name:
                raise ModelContractError(f"{transform}: names no style_predictor file; pass the predictor's path")
            predictor = Path(transform).parent / Path(name).name
        self.predictor = StylePredictor(predictor, providers=providers, threads=threads)
        p, t = self.predictor, self.transform
        if p.space != t.space or p.style_dim != t.style_dim:
            raise ModelContractError(f"{p.path} and {t.path} do not pair: style spaces {p.space!r} "
                                     f"(dim {p.style_dim}) vs {t.space!r} (dim {t.style_dim})")
        self.content_size = t.content_size
        self.space = t.space

    @property
    def providers(self) -> list[str]:
        return self.transform.providers

    def style_vector(self, image: np.ndarray) -> StyleVector:
        """An RGB painting (H, W, 3) uint8 (or float in [0, 1]) -> its :class:`StyleVector`."""
        return self.predictor.style_vector(image)

    def model_size(self, width: int, height: int) -> tuple[int, int]:
        """The (w, h) a ``width`` x ``height`` picture is stylized at: longer side ``content_size``."""
        scale = self.content_size / max(width, height)
        return max(1, round(width * scale)), max(1, round(height * scale))

    def stylize(self, content: np.ndarray, style: StyleVector, *,
                size: Literal["content", "model"] = "content") -> np.ndarray:
        """RGB content (H, W, 3) uint8 (or float in [0, 1]) repainted in ``style``: RGB uint8, (H, W, 3) with
        ``size="content"``, or at the network's resolution (longer side ``content_size``) with ``"model"``."""
        content = _rgb(content, "the content")
        if style.space != self.space:
            raise ValueError(f"a style vector of space {style.space!r} cannot drive this stylizer ({self.space!r})")
        h, w = content.shape[:2]
        mw, mh = self.model_size(w, h)
        small = _unit(_resize(content, (mw, mh)))
        c = self.content_size
        if self.transform.fixed and (mw, mh) != (c, c):
            small = np.pad(small, ((0, c - mh), (0, c - mw), (0, 0)), mode="reflect" if min(mw, mh) > 1 else "edge")
        x = np.ascontiguousarray(small.transpose(2, 0, 1)[None])
        out = self.transform.run(x, style.vector.reshape(1, -1).astype(np.float32))[0]
        image = (np.clip(out.transpose(1, 2, 0)[:mh, :mw], 0, 1) * 255 + 0.5).astype(np.uint8)
        return np.ascontiguousarray(_resize(image, (w, h)) if size == "content" else image)

    def __repr__(self) -> str:
        return f"Stylizer({str(self.transform.path)!r}, {str(self.predictor.path)!r}, providers={self.providers})"


def stylize_still(stylizer: Stylizer, content: np.ndarray, style: np.ndarray, *, strength: float = 1.0,
                  detail: float = 0.0) -> np.ndarray:
    """A still at the content's full resolution (``installation stylize``): RGB uint8 content and style
    painting -> RGB uint8 (H, W, 3).

    What it does, honestly: the network sees the content at ``content_size`` on the longer side (384 for the
    default model), so the stylization is made there and upscaled bicubically to the content's size; brush
    strokes are as large, relative to the picture, as at 384 px. ``detail`` (0..1) then adds back that share
    of the content's own fine detail (its luminance minus a Gaussian blur at the upscale's scale), which
    sharpens edges the upscale softened without bringing back the photo's colours. ``strength`` (0..1)
    blends the result with the content (1: fully stylized).
    """
    h, w = content.shape[:2]
    out = stylizer.stylize(content, stylizer.style_vector(style), size="content").astype(np.float32)
    mw, _ = stylizer.model_size(w, h)
    if detail > 0 and w > mw:
        gray = cv2.cvtColor(content, cv2.COLOR_RGB2GRAY).astype(np.float32)
        sigma = 0.5 * w / mw  # detail finer than the stylization's own resolution
        high = gray - cv2.GaussianBlur(gray, (0, 0), sigma)
        out += float(np.clip(detail, 0, 1)) * high[..., None]
    if strength < 1:
        s = float(np.clip(strength, 0, 1))
        out = s * out + (1 - s) * content.astype(np.float32)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)
