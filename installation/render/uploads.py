"""Images on their way to the GPU, each under a key the caller chooses: decode on a worker thread, then a
few rows a frame into a staging texture (see :mod:`installation.render.textures`).

The owner polls once a frame (:meth:`ImageUploads.take_decoded`, then :meth:`pump`) and may finish one
image at once when it is due on this very frame (:meth:`finish`). Every decode outcome, good or bad, goes
to the ``on_decoded(key, error)`` callback; a failed image never reaches the uploader.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

import moderngl
import numpy as np

from installation.render.color import RGB8
from installation.render.textures import ImageLoader, ImageSource, SlicedUploader

K = TypeVar("K", bound=Hashable)


class ImageUploads(Generic[K]):
    """Decoder and sliced uploader behind one queue of keyed images (GL thread only)."""

    def __init__(
        self,
        ctx: moderngl.Context,
        size: tuple[int, int],
        *,
        rows_per_frame: int,
        decode_workers: int,
        on_decoded: Callable[[K, str | None], None],
    ) -> None:
        self.size = size
        self._loader = ImageLoader(decode_workers)
        self._uploader = SlicedUploader(ctx, size, rows_per_frame)
        self._on_decoded = on_decoded
        self._token: dict[K, int] = {}  # keys still decoding -> their loader token
        self._key: dict[int, K] = {}

    def add_pixels(self, key: K, pixels: np.ndarray) -> None:
        """Queue already fitted RGBA pixels (``size``) for upload."""
        self._uploader.push(key, pixels)

    def add_source(self, key: K, source: ImageSource, fit: str, background: RGB8) -> None:
        """Queue a file or encoded bytes: decoded and fitted on the worker, then uploaded."""
        token = self._loader.submit(source, self.size, fit, background)
        self._token[key] = token
        self._key[token] = key

    def take_decoded(self) -> None:
        """Hand finished decodes to ``on_decoded`` and queue the good ones for upload (never blocks)."""
        for token, pixels in self._loader.poll():
            key = self._key.pop(token, None)
            if key is not None:
                del self._token[key]
                self._decoded(key, token, pixels)

    def pump(self) -> list[tuple[K, moderngl.Texture]]:
        """Spend this frame's row budget; returns the staging textures now complete."""
        return self._uploader.pump()  # type: ignore[return-value]

    def finish(self, key: K) -> moderngl.Texture | None:
        """Decode (waiting for the worker) and upload ``key`` now; None when it failed or is unknown."""
        token = self._token.pop(key, None)
        if token is not None:
            del self._key[token]
            if not self._decoded(key, token, self._loader.wait(token)):
                return None
        return self._uploader.finish(key)

    def discard(self, key: K) -> None:
        self._uploader.discard(key)

    def release(self, texture: moderngl.Texture) -> None:
        """Hand back a staging texture from :meth:`pump` or :meth:`finish` once its content is baked."""
        self._uploader.release(texture)

    def close(self) -> None:
        self._loader.close()
        self._uploader.release_all()

    def _decoded(self, key: K, token: int, pixels: np.ndarray | None) -> bool:
        error = None if pixels is not None else self._loader.take_error(token) or "unreadable"
        self._on_decoded(key, error)
        if pixels is None:
            return False
        self._uploader.push(key, pixels)
        return True
