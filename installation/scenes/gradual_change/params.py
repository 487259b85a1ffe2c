"""``gradual_change`` parameters: the schema, the validation-time checks (:meth:`GradualChangeParams.inspect`:
the collection's images, the order file, whether a cached order is current) and the preparation
(:meth:`GradualChangeParams.prepare`: computing the order, off the render thread). The drawing is in
:mod:`installation.scenes.gradual_change.scene`.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any, Literal

from pydantic import ConfigDict, Field, PrivateAttr, ValidationInfo, field_validator

from installation.collection import IMAGE_SUFFIXES, scan_collection
from installation.config import MAX_SIDE, Seconds, Seed, Wait
from installation.show import SceneParams, SceneProblem, Transition, resolve_path

log = logging.getLogger(__name__)


def grid_fit_problem(rows: int, cols: int, gap: int, size: tuple[int, int]) -> str | None:
    """The renderer's rule (installation/render/layout.py): square cells of at least one pixel, gaps exact."""
    w, h = size
    cell = min((w - (cols - 1) * gap) / cols, (h - (rows - 1) * gap) / rows)
    if cell >= 1:
        return None
    return (f"a {rows}x{cols} grid with gap {gap} does not fit {w}x{h} pixels (its cells would be smaller than "
            "a pixel): fewer rows or columns, a smaller gap, or a larger display.size")




GradualOrder = Literal["as_is", "random", "file", "gnn"]
GradualLayout = Literal["sequence", "similarity"]
GradualOpening = Literal["light", "dark", "either"]


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
    open_on: GradualOpening = "light"
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
        if "open_on" in self.model_fields_set and not self.needs_order:
            problems.append(SceneProblem(("open_on",), "ignored unless order is 'gnn' or layout is 'similarity'",
                                         warning=True))
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
        assert self.order_file is not None  # inspect() calls this only when the show names one
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
                                             self.rows, self.cols, self.seed, open_on=self.open_on)
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
            from installation.ordering import prepare_order

            try:
                self._computed = prepare_order(self.collection, self._images, self._order_method(), self.layout,
                                               self.rows, self.cols, self.seed, progress=progress,
                                               open_on=self.open_on)
            except Exception as exc:  # the show still plays, in name order
                log.warning("could not order %s (%s: %s); using file-name order",
                                                    self.collection, type(exc).__name__, exc)
                self._computed = None
