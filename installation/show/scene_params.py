"""Scene parameters: one pydantic model per scene type, kept in a registry keyed by the YAML ``type``.

A scene module registers its parameters with :func:`register_scene`. Paths resolve relative to the show
file (the loader passes ``context={"base_dir": ...}``). After validation the loader calls
:meth:`SceneParams.inspect`, where a scene checks what needs the disk (a collection's images).
"""

from __future__ import annotations

import os
import threading
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
from installation.show.errors import Loc, clip
from installation.show.fields import (
    MAX_SIDE,
    Colour,
    Seconds,
    Seed,
    Transition,
    Wait,
    bounded_seconds,
    custom_error,
    describe,
)


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
        if path.is_dir():
            raise custom_error(f"'{value}' is a folder, not a file ({path})")
        if path.exists():  # a FIFO or a device is never opened: reading it could block or never end
            raise custom_error(f"'{value}' is not a regular file ({path})")
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

    def size_problems(self, size: tuple[int, int]) -> list[SceneProblem]:
        """Why this scene cannot be drawn at ``size`` pixels (a grid that does not fit). Default: none."""
        return []


def grid_fit_problem(rows: int, cols: int, gap: int, size: tuple[int, int]) -> str | None:
    """The renderer's rule (installation/render/layout.py): square cells of at least one pixel, gaps exact."""
    w, h = size
    cell = min((w - (cols - 1) * gap) / cols, (h - (rows - 1) * gap) / rows)
    if cell >= 1:
        return None
    return (f"a {rows}x{cols} grid with gap {gap} does not fit {w}x{h} pixels (its cells would be smaller than "
            "a pixel): fewer rows or columns, a smaller gap, or a larger display.size")


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


ORDER_FILE_BYTES = 1 << 20  # a list of file names; 1 MiB is thousands of them


class OrderFileProblem(ValueError):
    """An order file that cannot be used; the message is one line and never quotes the file's content."""


def read_order_file(path: Path) -> list[str]:
    """Image file names, one per line; blank lines and ``#`` comments ignored. :class:`OrderFileProblem`
    when it is too big, not text, or unreadable: an ``order_file`` pointing at the wrong file (a key, a
    log) must not have its lines printed back."""
    try:
        size = path.stat().st_size
        if size > ORDER_FILE_BYTES:
            raise OrderFileProblem(f"{path} is {size:,} bytes: too big for a list of image file names "
                                   f"(at most {ORDER_FILE_BYTES:,})")
        data = path.read_bytes()
    except OSError as exc:
        raise OrderFileProblem(f"cannot read {path}: {exc.strerror or type(exc).__name__}") from None
    if b"\0" in data:
        raise OrderFileProblem(f"{path} is not a text file (expected one image file name per line)")
    names = []
    for line in data.decode("utf-8", errors="replace").splitlines():
        name = line.split("#", 1)[0].strip()
        if name:
            names.append(name)
    return names


def _looks_like_image_name(name: str) -> bool:
    """Whether ``name`` may be quoted in a message: a short image file name, not a line of some other file."""
    return (len(name) <= 80 and name.isprintable() and "/" not in name and "\\" not in name
            and Path(name).suffix.lower() in IMAGE_SUFFIXES)


_PREPARE_LOCK = threading.Lock()  # the player's preparation thread and a scene built directly may race


class GradualChangeParams(SceneParams):
    """A collection revealed one image at a time on a rows x cols grid."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    type: Literal["gradual_change"]
    collection: Path
    rows: int = Field(14, ge=1, le=100)
    cols: int = Field(14, ge=1, le=100)
    order: GradualOrder = "gnn"
    layout: GradualLayout = "sequence"
    seed: Seed = 0
    order_file: Path | None = None
    reveal_interval: Seconds = 3.0
    cell_transition: Transition = Field(
        default_factory=lambda: Transition(type="dissolve", seconds=2.0, easing="smoothstep"))
    after_last: Literal["hold", "fade_out", "restart"] = "hold"
    linger: Wait = 10.0
    fit: Literal["cover", "contain"] = "cover"
    gap: int = Field(0, ge=0, le=MAX_SIDE)  # pixels; whether the grid fits a size: see size_problems()
    min_images: int = Field(1, ge=1, le=100 * 100)

    _images: list[Path] = PrivateAttr(default_factory=list)
    _skipped: list[Path] = PrivateAttr(default_factory=list)
    _order_names: list[str] | None = PrivateAttr(default=None)
    _computed: Any = PrivateAttr(default=None)  # installation.ordering.PreparedOrder: inspect() or prepare()
    _prepared: bool = PrivateAttr(default=False)

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
        """With ``order: gnn`` or ``layout: similarity``: the order and cells (an
        ``installation.ordering.PreparedOrder``): read from a current order file when the show is validated,
        else computed by :meth:`prepare` (the player, before the show plays); None until then."""
        return self._computed

    @property
    def order_names(self) -> list[str] | None:
        """With ``order: file``: the file names in the order file's order."""
        return None if self._order_names is None else list(self._order_names)

    def size_problems(self, size: tuple[int, int]) -> list[SceneProblem]:
        problem = grid_fit_problem(self.rows, self.cols, self.gap, size)
        return [] if problem is None else [SceneProblem(("gap",) if self.gap else ("rows",), problem)]

    def inspect(self) -> list[SceneProblem]:
        problems = []
        scan = scan_collection(self.collection)
        self._images, self._skipped = scan.images, scan.skipped
        if scan.skipped:
            # A file that does not read (corrupt, truncated, 1x1, a sliver, a header claiming gigapixels) is a
            # warning: the show plays the others and retries it (installation/scenes/media.py).
            problems.append(SceneProblem(
                ("collection",), f"skipped {len(scan.skipped)} unreadable image(s) in {self.collection}: "
                f"{scan.skipped_summary()}", warning=True))
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
            problems.extend(self._check_order_file(scan.images, scan.skipped))
        if self.needs_order and len(scan.images) >= 2 and count >= self.min_images:
            problems.extend(self._find_order(scan.images))
        return problems

    def _check_order_file(self, images: list[Path], skipped: list[Path]) -> list[SceneProblem]:
        """The order file must be a list of this collection's image names. Names of files that no longer
        read or are gone are left out with a warning (a folder change must not refuse the show); a file in
        which no line names an image of the collection is an error. Lines are never quoted back, only names
        that look like image file names."""
        try:
            names = read_order_file(self.order_file)
        except OrderFileProblem as exc:
            return [SceneProblem(("order_file",), str(exc))]
        self._order_names = names
        readable = {p.name for p in images}
        unknown = [n for n in names if n not in readable]
        if not unknown:
            return []
        known_files = readable | {p.name for p in skipped}
        if not names or len(unknown) == len(names) and not any(n in known_files for n in names):
            what = f"none of its {len(names)} line(s) names an image" if names else "it names no image"
            return [SceneProblem(("order_file",), f"{self.order_file}: {what} of {self.collection} "
                                 "(expected one image file name per line)")]
        quoted = [n for n in unknown if _looks_like_image_name(n)][:5]
        shown = f": {', '.join(quoted)}{', ...' if len(unknown) > len(quoted) else ''}" if quoted else ""
        return [SceneProblem(("order_file",), f"{len(unknown)} name(s) are not readable images in "
                             f"{self.collection}{shown}; they are left out", warning=True)]

    @property
    def needs_order(self) -> bool:
        """Whether playing needs a computed order (``order: gnn`` or ``layout: similarity``)."""
        return self.order == "gnn" or self.layout == "similarity"

    def _order_method(self) -> str:
        return "gnn" if self.order == "gnn" else "tsp"

    def _find_order(self, images: list[Path]) -> list[SceneProblem]:
        """Validation only checks: a current order file is used, a missing or stale one is reported (the
        player computes it before playing, off the render thread; ``installation order`` does it ahead)."""
        from installation.ordering import find_order

        try:
            self._computed, why = find_order(self.collection, images, self._order_method(), self.layout,
                                             self.rows, self.cols, self.seed)
        except Exception as exc:  # an unreadable file while hashing: the player retries when preparing
            self._computed, why = None, f"cannot check the order of {self.collection} ({type(exc).__name__})"
        if self._computed is not None:
            return []
        return [SceneProblem(("order",), f"{why}: the order is computed when the show starts (a while for "
                             f"many images); `installation order {self.collection}` prepares it ahead",
                             warning=True)]

    @property
    def needs_preparation(self) -> bool:
        """Whether :meth:`prepare` has work to do (an order to compute)."""
        return not self._prepared and self.needs_order and self._computed is None and len(self._images) >= 2

    def prepare(self, progress: bool = True) -> None:
        """Preparation, not validation: compute the order that validation found missing or stale (and cache
        it). The player calls this before the show plays, off the render thread; it runs once (a failure
        leaves file-name order, with a warning). Idempotent and thread-safe."""
        with _PREPARE_LOCK:
            if self._prepared:
                return
            self._prepared = True
            if not self.needs_order or self._computed is not None or len(self._images) < 2:
                return
            import logging

            from installation.ordering import prepare_order

            try:
                self._computed = prepare_order(self.collection, self._images, self._order_method(), self.layout,
                                               self.rows, self.cols, self.seed, progress=progress)
            except Exception as exc:  # the show still plays, in name order
                logging.getLogger(__name__).warning("could not order %s (%s: %s); using file-name order",
                                                    self.collection, type(exc).__name__, exc)
                self._computed = None


MAX_CAMERA_INDEX = 63  # /dev/video0..63; OpenCV reads -1 as "any camera", which is no fixed choice
MAX_WEIGHT = 1000.0  # style weights are relative; this keeps their sum finite


def _camera(value: Any) -> int | str:
    if isinstance(value, int) and not isinstance(value, bool):
        if not 0 <= value <= MAX_CAMERA_INDEX:
            raise custom_error(f"a camera index is 0..{MAX_CAMERA_INDEX}, got {describe(value)}")
        return value
    if isinstance(value, str):
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
    half_life: Wait = 1.0  # EMA smoothing of the emotion probabilities, seconds
    switch_margin: float = Field(0.1, ge=0, le=1)  # hysteresis: lead another emotion needs...
    switch_seconds: Wait = 1.0  # ...for this long before the displayed emotion changes
    absent_after: Seconds = 5.0  # no face for this long -> the attract scene
    mapping: dict[str, dict[str, float]] | None = None  # emotion -> {style: weight}; None: the default
    # a new painting every N seconds while someone is there (a painting takes about a second to make)
    interval: Annotated[float, bounded_seconds(1.0)] = 8.0
    min_interval: Wait = 2.0  # ...sooner when the displayed emotion changes, but not sooner
    candidates: int = Field(4, ge=1, le=32)  # paintings per round; the encoder keeps the most in-style
    upscale: bool = True
    select_on: Literal["generated", "upscaled"] = "generated"  # rate candidates before upscaling (faster)
    seed: Seed = 0
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
            if any(w > MAX_WEIGHT for w in weights.values()):
                raise custom_error(f"{emotion}: weights must be <= {MAX_WEIGHT:g} (they are relative)")
        return value

    def size_problems(self, size: tuple[int, int]) -> list[SceneProblem]:
        if self.attract is None:
            return []
        return [SceneProblem(("attract", *p.loc), p.message) for p in self.attract.size_problems(size)]

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
            # the cause is clipped, not the consequence: the message cap must not cut what happens next
            return [SceneProblem(("models",), f"{clip(str(exc), 160)}; the mirror will only play its attract scene",
                                 warning=True)]
        return []


register_scene("gradual_change", GradualChangeParams)
register_scene("solid", SolidParams)
register_scene("image", ImageParams)
register_scene("emotion_mirror", EmotionMirrorParams)
