"""Scene parameters: one pydantic model per scene type, kept in a registry keyed by the YAML ``type``.

A scene module registers its parameters with :func:`register_scene`. Paths resolve relative to the show
file (the loader passes ``context={"base_dir": ...}``). After validation the loader calls
:meth:`SceneParams.inspect`, where a scene checks what needs the disk (a collection's images).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from installation.show.collection import IMAGE_SUFFIXES, image_readable, scan_collection
from installation.show.errors import Loc
from installation.show.fields import Colour, Seconds, Transition, custom_error, describe


@dataclass(frozen=True)
class SceneProblem:
    """A problem found by :meth:`SceneParams.inspect`; ``loc`` is relative to the scene mapping."""

    loc: Loc
    message: str
    warning: bool = False


def resolve_path(value: Any, info: ValidationInfo, want: Literal["folder", "file"]) -> Path:
    """Resolve ``value`` against the show file's folder; it must exist and be a ``want``."""
    if not isinstance(value, str) or not value.strip():
        raise custom_error(f"expected a {want} path, got {describe(value)}")
    base = Path((info.context or {}).get("base_dir") or Path.cwd())
    path = Path(os.path.normpath(base / Path(value).expanduser()))
    if want == "folder" and not path.is_dir():
        if path.exists():
            raise custom_error(f"'{value}' is a file, not a folder ({path})")
        raise custom_error(f"folder '{value}' not found (looked for {path})")
    if want == "file" and not path.is_file():
        if path.exists():
            raise custom_error(f"'{value}' is a folder, not a file ({path})")
        raise custom_error(f"file '{value}' not found (looked for {path})")
    return path


class SceneParams(BaseModel):
    """Base of every scene's parameters. As a plain base it accepts any keys; scene types forbid unknown ones."""

    model_config = ConfigDict(extra="allow", allow_inf_nan=False)

    type: str

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return {"type": value} if isinstance(value, str) else value

    def inspect(self) -> list[SceneProblem]:
        """Checks that need the disk, run once after validation. Default: none."""
        return []


_REGISTRY: dict[str, type[SceneParams]] = {}


def register_scene(name: str, params: type[SceneParams]) -> type[SceneParams]:
    """Make ``type: name`` valid in show scripts, validated by ``params``."""
    _REGISTRY[name] = params
    return params


def scene_types() -> dict[str, type[SceneParams]]:
    """Registered scene types, by name."""
    return dict(_REGISTRY)


class SolidParams(SceneParams):
    """One colour, full screen (blackouts, tests)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    type: Literal["solid"]
    colour: Colour = (0, 0, 0)


class ImageParams(SceneParams):
    """One still image."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    type: Literal["image"]
    path: Path
    fit: Literal["cover", "contain"] = "contain"

    @field_validator("path", mode="before")
    @classmethod
    def _resolve(cls, value: Any, info: ValidationInfo) -> Path:
        return resolve_path(value, info, "file")

    def inspect(self) -> list[SceneProblem]:
        if self.path.suffix.lower() not in IMAGE_SUFFIXES or not image_readable(self.path):
            return [SceneProblem(("path",), f"not a readable image: {self.path}")]
        return []


GradualOrder = Literal["as_is", "random", "file", "gnn"]
GradualLayout = Literal["sequence", "similarity"]


def read_order_file(path: Path) -> list[str]:
    """Image file names, one per line; blank lines and ``#`` comments ignored."""
    names = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        name = line.split("#", 1)[0].strip()
        if name:
            names.append(name)
    return names


class GradualChangeParams(SceneParams):
    """A collection revealed one image at a time on a rows x cols grid."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    type: Literal["gradual_change"]
    collection: Path
    rows: int = Field(14, ge=1, le=100)
    cols: int = Field(14, ge=1, le=100)
    order: GradualOrder = "gnn"
    layout: GradualLayout = "sequence"
    seed: int = 0
    order_file: Path | None = None
    reveal_interval: Seconds = 3.0
    cell_transition: Transition = Field(
        default_factory=lambda: Transition(type="dissolve", seconds=2.0, easing="smoothstep"))
    after_last: Literal["hold", "fade_out", "restart"] = "hold"
    linger: float = Field(10.0, ge=0)
    fit: Literal["cover", "contain"] = "cover"
    gap: int = Field(0, ge=0)
    min_images: int = Field(1, ge=1)

    _images: list[Path] = PrivateAttr(default_factory=list)
    _skipped: list[Path] = PrivateAttr(default_factory=list)
    _order_names: list[str] | None = PrivateAttr(default=None)
    _computed: Any = PrivateAttr(default=None)  # installation.ordering.PreparedOrder, filled by inspect()

    @field_validator("collection", mode="before")
    @classmethod
    def _folder(cls, value: Any, info: ValidationInfo) -> Path:
        return resolve_path(value, info, "folder")

    @field_validator("order_file", mode="before")
    @classmethod
    def _order_file(cls, value: Any, info: ValidationInfo) -> Path | None:
        return None if value is None else resolve_path(value, info, "file")

    @property
    def images(self) -> list[Path]:
        """Readable images of the collection in natural name order (filled by :meth:`inspect`)."""
        return list(self._images)

    @property
    def skipped(self) -> list[Path]:
        """Image files of the collection that could not be decoded."""
        return list(self._skipped)

    @property
    def computed_order(self) -> Any:
        """With ``order: gnn`` or ``layout: similarity``: the prepared order and cells (an
        ``installation.ordering.PreparedOrder``), computed or read from its cache when the show loads."""
        return self._computed

    @property
    def order_names(self) -> list[str] | None:
        """With ``order: file``: the file names in the order file's order."""
        return None if self._order_names is None else list(self._order_names)

    def inspect(self) -> list[SceneProblem]:
        problems = []
        scan = scan_collection(self.collection)
        self._images, self._skipped = scan.images, scan.skipped
        if scan.skipped:
            names = ", ".join(p.name for p in scan.skipped)
            problems.append(SceneProblem(
                ("collection",), f"skipped {len(scan.skipped)} unreadable image(s) in {self.collection}: {names}",
                warning=True))
        count = len(scan.images)
        if count < self.min_images:
            needs = f"the show needs at least {self.min_images}"
            problems.append(SceneProblem(("collection",), f"folder {self.collection} has {count} images, {needs}"))
        elif count < self.rows * self.cols:
            problems.append(SceneProblem(
                ("collection",), f"the {self.rows}x{self.cols} grid has {self.rows * self.cols} cells "
                f"but {self.collection} has {count} images", warning=True))
        if self.order == "file" and self.order_file is None:
            problems.append(SceneProblem(("order_file",), "required when order is 'file'"))
        if self.order_file is not None:
            if self.order != "file":
                problems.append(SceneProblem(("order_file",), "ignored unless order is 'file'", warning=True))
            names = read_order_file(self.order_file)
            known = {p.name for p in scan.images}
            unknown = [n for n in names if n not in known]
            if unknown:
                shown = ", ".join(unknown[:5]) + (", ..." if len(unknown) > 5 else "")
                problems.append(SceneProblem(
                    ("order_file",), f"{len(unknown)} name(s) are not readable images in {self.collection}: {shown}"))
            self._order_names = names
        if (self.order == "gnn" or self.layout == "similarity") and len(scan.images) >= 2 and count >= self.min_images:
            problems.extend(self._prepare_order(scan.images))
        return problems

    def _prepare_order(self, images: list[Path]) -> list[SceneProblem]:
        """Order (and lay out) the collection now, at load time, never on the render thread; cached by content."""
        import logging

        from installation.ordering import prepare_order

        method = "gnn" if self.order == "gnn" else "tsp"
        try:
            self._computed = prepare_order(self.collection, images, method, self.layout, self.rows, self.cols,
                                           self.seed)
        except Exception as exc:  # the show still plays, in name order
            logging.getLogger(__name__).debug("ordering %s", self.collection, exc_info=True)
            self._computed = None
            return [SceneProblem(("order",), f"could not order {self.collection} ({exc}); using file-name order",
                                 warning=True)]
        return []


def _camera(value: Any) -> int | str:
    if isinstance(value, int | str) and not isinstance(value, bool):
        return value
    raise custom_error(f"expected a camera index, a video file or a stream URL, got {describe(value)}")


class EmotionMirrorParams(SceneParams):
    """The emotion mirror (camera -> faces -> emotion -> generated painting), with an attract scene.

    The camera is opened only when the scene plays, never at validation. Models are read at validation
    (metadata only matters: the emotion labels and the generator's classes that ``mapping`` must name).
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    type: Literal["emotion_mirror"]
    camera: Annotated[int | str, BeforeValidator(_camera)] = 0
    loop: bool = True  # a video file or image folder starts again at its end
    models: Path | None = None  # model folder (default: the bundled pack)
    face: Literal["largest", "central", "aggregate"] = "largest"
    detector: str = "haar"  # "haar" (OpenCV's cascade) or an ONNX face detector in YuNet format (a file)
    detect_size: int = Field(320, ge=64, le=4096)  # longer side of the frame the detector sees
    half_life: float = Field(1.0, ge=0)  # EMA smoothing of the emotion probabilities, seconds
    switch_margin: float = Field(0.1, ge=0, le=1)  # hysteresis: lead another emotion needs...
    switch_seconds: float = Field(1.0, ge=0)  # ...for this long before the displayed emotion changes
    absent_after: Seconds = 5.0  # no face for this long -> the attract scene
    mapping: dict[str, dict[str, float]] | None = None  # emotion -> {style: weight}; None: the default
    interval: Seconds = 8.0  # a new painting every N seconds while someone is there
    min_interval: float = Field(2.0, ge=0)  # ...sooner when the displayed emotion changes, but not sooner
    candidates: int = Field(4, ge=1, le=32)  # paintings per round; the encoder keeps the most in-style
    upscale: bool = True
    select_on: Literal["generated", "upscaled"] = "generated"  # rate candidates before upscaling (faster)
    seed: int = 0
    fit: Literal["cover", "contain"] = "contain"
    transition: Transition = Field(
        default_factory=lambda: Transition(type="crossfade", seconds=2.0, easing="ease_in_out"))
    attract: GradualChangeParams | None = None
    attract_transition: Transition = Field(
        default_factory=lambda: Transition(type="crossfade", seconds=1.5, easing="ease_in_out"))
    inset: bool = False  # a mirrored camera picture in the corner
    inset_size: float = Field(0.22, gt=0, le=1)  # its width as a share of the picture's

    @field_validator("camera", mode="after")
    @classmethod
    def _camera_path(cls, value: int | str, info: ValidationInfo) -> int | str:
        if isinstance(value, int) or "://" in value or value.strip().isdigit():
            return value
        base = Path((info.context or {}).get("base_dir") or Path.cwd())
        return os.path.normpath(base / Path(value).expanduser())

    @field_validator("detector", mode="before")
    @classmethod
    def _detector(cls, value: Any, info: ValidationInfo) -> str:
        if value == "haar":
            return value
        return str(resolve_path(value, info, "file"))

    @field_validator("models", mode="before")
    @classmethod
    def _models(cls, value: Any, info: ValidationInfo) -> Path | None:
        return None if value is None else resolve_path(value, info, "folder")

    @field_validator("mapping", mode="after")
    @classmethod
    def _weights(cls, value: dict[str, dict[str, float]] | None) -> dict[str, dict[str, float]] | None:
        for emotion, weights in (value or {}).items():
            if any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
                raise custom_error(f"{emotion}: weights must be >= 0 with at least one > 0")
        return value

    def inspect(self) -> list[SceneProblem]:
        problems: list[SceneProblem] = []
        if self.attract is not None:
            problems += [SceneProblem(("attract", *p.loc), p.message, p.warning) for p in self.attract.inspect()]
        if isinstance(self.camera, str) and "://" not in self.camera and not self.camera.isdigit() \
                and not Path(self.camera).exists():
            problems.append(SceneProblem(("camera",), f"{self.camera} does not exist (yet); the mirror keeps "
                                         "retrying and shows the attract scene meanwhile", warning=True))
        if self.detector != "haar":
            from installation.capture.faces import make_detector

            try:
                make_detector(self.detector, self.detect_size)
            except (ValueError, FileNotFoundError) as exc:
                problems.append(SceneProblem(("detector",), str(exc)))
        problems += self._check_models()
        return problems

    def _check_models(self) -> list[SceneProblem]:
        """The mapping must name the emotion model's labels and the generator's classes."""
        from installation.emotion.art import DEFAULT_MAPPING, MappingError, mapping_matrix
        from installation.inference.contract import ModelContractError
        from installation.inference.emotion import EmotionClassifier
        from installation.inference.generator import Generator
        from installation.pack import pack_path

        try:
            emotion_path, generator_path = pack_path("emotion", self.models), pack_path("generator", self.models)
            if not (emotion_path.is_file() and generator_path.is_file()):
                missing = emotion_path if not emotion_path.is_file() else generator_path
                return [SceneProblem(("models",), f"model {missing} is missing; the mirror will only play its "
                                     "attract scene", warning=True)]
            labels = EmotionClassifier(emotion_path, threads=1).labels
            classes = Generator(generator_path, threads=1).classes
            mapping_matrix(self.mapping or DEFAULT_MAPPING, labels, classes)
        except MappingError as exc:
            return [SceneProblem(("mapping",), str(exc))]
        except ModelContractError as exc:
            # A damaged model is a runtime fault like a missing one, not a mistake in the show: the mirror
            # plays its attract scene (installation/scenes/emotion_mirror.py), so a kiosk keeps showing art.
            return [SceneProblem(("models",), f"{exc}; the mirror will only play its attract scene", warning=True)]
        return []


register_scene("gradual_change", GradualChangeParams)
register_scene("solid", SolidParams)
register_scene("image", ImageParams)
register_scene("emotion_mirror", EmotionMirrorParams)
