"""The ``camera`` parameter that scenes reading a frame source share (``emotion_mirror``, ``style_transfer``):
a camera index, a video file, a stream URL or an image folder. Checked at validation; never opened here."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, ValidationInfo

from installation.config import custom_error, describe
from installation.show import SceneProblem

MAX_CAMERA_INDEX = 63  # /dev/video0..63; OpenCV reads -1 as "any camera", which is no fixed choice


def _camera(value: Any) -> int | str:
    if isinstance(value, int) and not isinstance(value, bool):
        if not 0 <= value <= MAX_CAMERA_INDEX:
            raise custom_error(f"a camera index is 0..{MAX_CAMERA_INDEX}, got {describe(value)}")
        return value
    if isinstance(value, str):
        return value
    raise custom_error(f"expected a camera index, a video file or a stream URL, got {describe(value)}")


def _camera_path(value: int | str, info: ValidationInfo) -> int | str:
    """A path (not an index or URL) is resolved against the show's folder, like every other path in it."""
    if isinstance(value, int) or "://" in value or value.strip().isdigit():
        return value
    base = Path((info.context or {}).get("base_dir") or Path.cwd())
    return os.path.normpath(base / Path(value).expanduser())


# index, video file, stream URL or image folder
Camera = Annotated[int | str, BeforeValidator(_camera), AfterValidator(_camera_path)]


def missing_camera(camera: int | str, meanwhile: str) -> list[SceneProblem]:
    """A warning when ``camera`` names a file or folder that does not exist (yet): the scene keeps retrying
    and, ``meanwhile``, shows what the scene shows without a picture."""
    if isinstance(camera, str) and "://" not in camera and not camera.isdigit() and not Path(camera).exists():
        return [SceneProblem(("camera",), f"{camera} does not exist (yet); the {meanwhile}", warning=True)]
    return []
