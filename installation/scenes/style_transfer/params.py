"""``style_transfer`` parameters: the schema and the validation-time checks (:meth:`StyleTransferParams.inspect`:
the style image or folder reads, the camera path, the model pair's contracts). The camera is never opened
here and no model is run. The drawing is in :mod:`installation.scenes.style_transfer.scene`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, ValidationInfo, field_validator, model_validator

from installation.config import Seconds, Seed, Wait, bounded_seconds, clip, custom_error
from installation.scenes.frame_source import Camera, missing_camera
from installation.show import SceneParams, SceneProblem, resolve_path

MAX_STYLIZE_FPS = 120.0  # a stylizer faster than this is not slowed, the display is the limit anyway
MAX_FOLDER_FPS = 240.0


class StyleTransferParams(SceneParams):
    """A live style mirror: a frame source repainted in the style of one painting (``style``) or of each
    painting of a folder in turn (``styles``, one every ``style_seconds``, morphing over ``style_transition``).

    The camera is opened only when the scene plays; the models are read at validation (contracts only).
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    type: Literal["style_transfer"]
    camera: Camera = 0  # index, video file, stream URL or image folder
    loop: bool = True  # a video file or image folder starts again at its end
    fps: float = Field(10.0, ge=0.1, le=MAX_FOLDER_FPS)  # frames per second of an image folder
    style: Path | None = None  # one painting...
    styles: Path | None = None  # ...or a folder of them, in turn
    order: Literal["name", "shuffle"] = "name"  # the folder's order: by name, or shuffled by `seed`
    seed: Seed = 0
    style_seconds: Annotated[float, bounded_seconds(1.0)] = 30.0  # each painting of `styles` this long
    style_transition: Wait = 4.0  # seconds the style morphs into the next (0: a cut)
    strength: float = Field(1.0, ge=0, le=1)  # 1: fully stylized; 0.5: half the original picture
    models: Path | None = None  # folder with stylizer_transform.onnx + stylizer_predict.onnx (default: the pack)
    fit: Literal["cover", "contain"] = "cover"
    mirror: bool = True  # flip the picture left-right, as a mirror does (for a camera facing the visitors)
    smooth: bool = True  # blend between the last two stylized frames (motion stays fluid at low model rates)
    max_fps: float = Field(30.0, ge=0.5, le=MAX_STYLIZE_FPS)  # stylized frames per second at most (CPU budget)
    absent_after: Seconds = 3.0  # no new frame for this long -> the attract picture
    attract: Literal["style", "last", "background"] = "style"  # the painting, the last stylized frame, or nothing
    attract_transition: Wait = 1.5  # crossfade seconds between the live picture and the attract picture

    @field_validator("style", mode="before")
    @classmethod
    def _style(cls, value: Any, info: ValidationInfo) -> Path | None:
        return None if value is None else resolve_path(value, info, "file")

    @field_validator("styles", "models", mode="before")
    @classmethod
    def _folder(cls, value: Any, info: ValidationInfo) -> Path | None:
        return None if value is None else resolve_path(value, info, "folder")

    @model_validator(mode="after")
    def _one_style_source(self) -> StyleTransferParams:
        if (self.style is None) == (self.styles is None):
            raise custom_error("give either `style` (one painting) or `styles` (a folder of paintings)")
        if self.style_transition > self.style_seconds:
            raise custom_error(f"style_transition ({self.style_transition:g} s) must be at most style_seconds "
                               f"({self.style_seconds:g} s)")
        return self

    def style_files(self) -> list[Path]:
        """The paintings in play order (unreadable ones are skipped when they play, not here)."""
        from installation.scenes.style_transfer.schedule import style_files

        return style_files(self.style, self.styles, self.order, self.seed)

    def inspect(self) -> list[SceneProblem]:
        problems: list[SceneProblem] = []
        problems += missing_camera(self.camera, "scene keeps retrying and shows its attract picture meanwhile")
        problems += self._check_styles()
        problems += self._check_models()
        return problems

    def _check_styles(self) -> list[SceneProblem]:
        from installation.collection import image_problem, scan_collection

        if self.style is not None:
            problem = image_problem(self.style)
            return [SceneProblem(("style",), f"not a readable image: {self.style} ({problem})")] if problem else []
        assert self.styles is not None  # one of the two, by _one_style_source
        scan = scan_collection(self.styles)
        if not scan.images:
            return [SceneProblem(("styles",), f"no readable image in {self.styles}")]
        if scan.skipped:
            return [SceneProblem(("styles",), f"{len(scan.skipped)} image(s) of {self.styles} cannot be read and "
                                 f"are skipped: {scan.skipped_summary()}", warning=True)]
        return []

    def _check_models(self) -> list[SceneProblem]:
        from installation.inference.contract import ModelContractError
        from installation.inference.stylizer import Stylizer
        from installation.pack import pack_path

        try:
            Stylizer(pack_path("stylizer", self.models), pack_path("style_predictor", self.models), threads=1)
        except ModelContractError as exc:
            # a runtime fault like a missing camera, not a mistake in the show: the scene plays unstylized
            return [SceneProblem(("models",), f"{clip(str(exc), 160)}; the scene will show the picture "
                                 "unstylized", warning=True)]
        return []
