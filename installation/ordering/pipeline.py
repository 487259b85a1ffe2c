"""Collection -> features -> (GNN) -> loop + grid layout + metrics, written as JSON and cached by content hash.

The order is the shortest loop through the paintings opened at its longest edge (installation/ordering/path.py)
when that costs the first reveal at most ``LOOP_COST`` over the best open path (on the demo collection 0.3%),
else the best open path: a restarted reveal that starts elsewhere on a loop
(installation/scenes/gradual_change/scene.py) meets no seam larger than its own steps, where the open path's
two ends can be far apart. On nearly one-dimensional collections (a gradient) every loop goes out and back
and skips every other painting, so there the open path stays.

Metrics are measured in the raw feature space (the same for every method, so methods compare):
``smoothness`` = (L_random - L) / (L_random - L_best), where L_random is the expected length of a random
order and L_best the best open path (LKH) on those distances; ``path_ratio`` = the order's length over the
best open path's on the distances the method itself decoded (a loop opened at its longest edge is a little
longer); ``max_step`` the largest single step; ``dpq16``/``dpq2`` the grid layout's Distance Preservation
Quality; ``opening_lightness``/``closing_lightness`` the mean CIELAB L* of
the first and last grid row's worth of images.

An open path reads the same both ways, so the direction is free: ``open_on`` picks the end the wall opens
on (``light``, the default: visitors arriving at the start see lit paintings, not a row of near-black
ones; ``dark``; ``either``: as the solver left it). Reversing keeps every step, so smoothness is unchanged.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from installation.files import atomic_write_text
from installation.ordering.features import FeatureConfig, Features, cache_dir, compute_features, content_hash
from installation.ordering.gnn import GnnConfig, gnn_space, torch_available
from installation.ordering.layout import dpq, las_layout, sequence_layout
from installation.ordering.path import pairwise_distances, path_length, shortest_path

log = logging.getLogger(__name__)

METHODS = ("gnn", "tsp", "random")
LAYOUTS = ("sequence", "similarity")
OPENINGS = ("light", "dark", "either")
ORDER_FORMAT = 2  # 2: loops where they cost little (1: open paths)
LOOP_COST = 1.02  # the longest a loop (opened) may be against the best open path and still be preferred
_warned_torch = False


class OrderFileError(ValueError):
    """An order file that cannot be used (not JSON, wrong shape, names that are not in the collection)."""


@dataclass
class OrderResult:
    names: list[str]  # display order
    cells: list[int]  # grid cell (row major) of each name, -1 when it does not fit the grid
    method: str  # the method used (gnn falls back to tsp without torch)
    method_requested: str
    layout: str
    rows: int
    cols: int
    seed: int
    content_hash: str  # of the inputs: images, feature config, encoder, method, layout, grid, seed, opening
    open_on: str = "light"
    solver: str = ""
    metrics: dict = field(default_factory=dict)
    seconds: float = 0.0

    def to_json(self) -> dict:
        data = asdict(self)
        data = {"format": ORDER_FORMAT, "order": data.pop("names"), **data}
        grid: list[list[str | None]] = [[None] * self.cols for _ in range(self.rows)]
        for name, cell in zip(self.names, self.cells):
            if cell >= 0:
                grid[cell // self.cols][cell % self.cols] = name
        data["grid"] = grid
        return data


def default_grid(n: int) -> tuple[int, int]:
    """A near-square grid for ``n`` items (14 x 14 for 196)."""
    cols = max(1, math.ceil(math.sqrt(n)))
    return max(1, math.ceil(n / cols)), cols


def order_key(features_hash: str, method: str, layout: str, rows: int, cols: int, seed: int,
              open_on: str = "light", gnn: GnnConfig | None = None) -> str:
    spec = {"features": features_hash, "method": method, "layout": layout, "rows": rows, "cols": cols, "seed": seed,
            "open_on": open_on, "gnn": (gnn or GnnConfig()).key() if method == "gnn" else None,
            "format": ORDER_FORMAT}
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()


def default_order_path(folder: Path) -> Path:
    """Where ``installation order`` writes by default: beside the collection folder, ``NAME.order.json``."""
    folder = Path(folder)
    return folder.parent / f"{folder.resolve().name}.order.json"


def _check_opening(open_on: str) -> None:
    if open_on not in OPENINGS:
        raise ValueError(f"unknown opening {open_on!r}; expected one of: {', '.join(OPENINGS)}")


def opening_window(n: int, cols: int) -> int:
    """How many images decide which end is lighter: the first grid row, at most half the collection."""
    return max(1, min(cols, n // 2))


def end_lightness(order: list[int], lightness: np.ndarray, window: int) -> tuple[float, float]:
    """Mean lightness of the first and of the last ``window`` images of ``order``."""
    return float(np.mean(lightness[order[:window]])), float(np.mean(lightness[order[-window:]]))


def orient(order: list[int], lightness: np.ndarray, open_on: str, window: int) -> list[int]:
    """``order`` read from the end the wall should open on: ``light`` starts at the end whose first ``window``
    images are lighter on average, ``dark`` at the darker one, ``either`` keeps the solver's direction (a tie
    too). The path is the same either way round, so every step between neighbours is kept."""
    _check_opening(open_on)
    if open_on == "either" or len(order) < 2:
        return order
    head, tail = end_lightness(order, lightness, window)
    flip = tail > head if open_on == "light" else tail < head
    return order[::-1] if flip else order


def smooth_order(d: np.ndarray, seed: int = 0) -> tuple[list[int], str]:
    """The loop through ``d`` opened at its longest edge if it is at most ``LOOP_COST`` times as long as the
    best open path, else that path; and the solver that found it."""
    path, solver = shortest_path(d, seed=seed)
    loop, _ = shortest_path(d, seed=seed, loop=True)
    return (loop if path_length(d, loop) <= LOOP_COST * path_length(d, path) else path), solver


def _resolve_method(method: str) -> str:
    global _warned_torch
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; expected one of: {', '.join(METHODS)}")
    if method == "gnn" and not torch_available():
        if not _warned_torch:
            log.warning("order: gnn needs torch, which is not installed (runtime-only install): using tsp")
            _warned_torch = True
        return "tsp"
    return method


def _encoder_path(encoder_path: Path | None) -> Path | None:
    if encoder_path is None:
        from installation.pack import pack_path

        encoder_path = pack_path("encoder")
    return Path(encoder_path) if Path(encoder_path).is_file() else None


def input_hash(images: list[Path], method: str, layout: str, rows: int, cols: int, seed: int,
               encoder_path: Path | None = None, feature_config: FeatureConfig | None = None,
               open_on: str = "light") -> str:
    """The content hash an order computed here and now carries (cheap: hashes file bytes)."""
    return input_hashes(images, method, layout, rows, cols, seed, encoder_path, feature_config, open_on)[-1]


def input_hashes(images: list[Path], method: str, layout: str, rows: int, cols: int, seed: int,
                 encoder_path: Path | None = None, feature_config: FeatureConfig | None = None,
                 open_on: str = "light") -> list[str]:
    """Every content hash that makes an order file current for these inputs: the one for ``method`` as asked
    and, when this machine falls back (``gnn`` without torch computes ``tsp``), the fallback's. So a shipped
    GNN order (assets/collections/demo.order.json) stays current on a runtime-only install instead of being
    recomputed as a worse TSP order at every start."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; expected one of: {', '.join(METHODS)}")
    _check_opening(open_on)
    fhash = content_hash(images, feature_config or FeatureConfig(), _encoder_path(encoder_path))
    keys = [order_key(fhash, method, layout, rows, cols, seed, open_on)]
    used = "tsp" if method == "gnn" and not torch_available() else method  # what _resolve_method picks
    if used != method:
        keys.append(order_key(fhash, used, layout, rows, cols, seed, open_on))
    return keys


def order_metrics(x: np.ndarray, order: list[int], cell_of: np.ndarray, cols: int, own: np.ndarray,
                  lightness: np.ndarray | None = None) -> dict:
    """Metrics of an order (and its layout) in the feature space ``x``; ``own``: the method's distances;
    with ``lightness``, how light the first and last grid row's worth of images are."""
    ends = {}
    if lightness is not None:
        head, tail = end_lightness(order, lightness, opening_window(len(order), cols))
        ends = {"opening_lightness": head, "closing_lightness": tail}
    return {**_path_metrics(x, order, cell_of, cols, own), **ends}


def _path_metrics(x: np.ndarray, order: list[int], cell_of: np.ndarray, cols: int, own: np.ndarray) -> dict:
    n = x.shape[0]
    d = pairwise_distances(x)
    length = path_length(d, order)
    if n < 3:
        return {"path_length": length, "lkh_length": length, "random_length": length, "smoothness": 1.0,
                "path_ratio": 1.0, "max_step": float(d[order[:-1], order[1:]].max(initial=0.0)),
                "mean_step": length / max(1, n - 1), "dpq16": 1.0, "dpq2": 1.0}
    best, _ = shortest_path(d)
    best_len = min(path_length(d, best), length)
    rand_len = float(d[~np.eye(n, dtype=bool)].mean() * (n - 1))  # expected length of a uniformly random order
    own_ref = best_len if own is d else path_length(own, shortest_path(own)[0])
    own_len = path_length(own, order)
    steps = d[np.asarray(order[:-1]), np.asarray(order[1:])]
    shown = np.asarray(order)[: len(cell_of)]
    return {
        "path_length": length,
        "lkh_length": best_len,
        "random_length": rand_len,
        "smoothness": (rand_len - length) / (rand_len - best_len) if rand_len > best_len else 1.0,
        "path_ratio": own_len / own_ref if own_ref > 0 else 1.0,
        "max_step": float(steps.max()),
        "mean_step": float(steps.mean()),
        "dpq16": dpq(x[shown], cell_of, cols, p=16),
        "dpq2": dpq(x[shown], cell_of, cols, p=2),
    }


def order_features(x: np.ndarray, method: str = "gnn", layout: str = "sequence", rows: int | None = None,
                   cols: int | None = None, seed: int = 0, gnn: GnnConfig | None = None,
                   metrics: bool = True, lightness: np.ndarray | None = None, open_on: str = "light") -> dict:
    """Order + layout of the rows of a feature matrix. Returns order, cell_of, method, solver, metrics. With
    ``lightness`` (one value per row) the order opens on the end ``open_on`` asks for (:func:`orient`)."""
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[0]
    method = _resolve_method(method)
    _check_opening(open_on)
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; expected one of: {', '.join(LAYOUTS)}")
    if rows is None or cols is None:
        rows, cols = default_grid(n)
    d = pairwise_distances(x)
    solver = "lkh"
    if method == "random":
        order = [int(i) for i in np.random.default_rng(seed).permutation(n)]
        own, space, solver = d, x, "none"
    elif method == "tsp" or n < 4:
        order, solver = smooth_order(d, seed)
        own, space = d, x
    else:
        space = gnn_space(x, gnn or GnnConfig(seed=seed))
        own = pairwise_distances(space)
        order, solver = smooth_order(own, seed)
    if lightness is not None:
        order = orient(order, np.asarray(lightness, dtype=np.float64), open_on, opening_window(n, cols))
    shown = order[: rows * cols]
    if layout == "similarity" and len(shown) > 1:
        cell_of = las_layout(space[shown], rows, cols, seed=seed, init=sequence_layout(len(shown), rows, cols))
    else:
        cell_of = sequence_layout(len(shown), rows, cols)
    out = {"order": order, "cell_of": cell_of, "method": method, "solver": solver, "rows": rows, "cols": cols}
    if metrics:
        out["metrics"] = order_metrics(x, order, cell_of, cols, own, lightness=lightness)
    return out


def compute_order(images: list[Path], method: str = "gnn", layout: str = "sequence", rows: int | None = None,
                  cols: int | None = None, seed: int = 0, encoder_path: Path | None = None,
                  features: Features | None = None, metrics: bool = True,
                  open_on: str = "light") -> tuple[OrderResult, Features]:
    """The order of ``images`` (readable image paths) by ``method``, opening on ``open_on``, with its layout
    and metrics."""
    t0 = time.perf_counter()
    if not images:
        raise ValueError("no images to order")
    if rows is None or cols is None:
        rows, cols = default_grid(len(images))
    features = features or compute_features(images, encoder_path=_encoder_path(encoder_path))
    result = order_features(features.matrix, method, layout, rows, cols, seed, metrics=metrics,
                            lightness=features.lightness, open_on=open_on)
    names = [features.names[i] for i in result["order"]]
    cells = [int(c) for c in result["cell_of"]] + [-1] * (len(names) - len(result["cell_of"]))
    key = order_key(features.content_hash, result["method"], layout, rows, cols, seed, open_on)
    seconds = time.perf_counter() - t0
    return OrderResult(names, cells, result["method"], method, layout, rows, cols, seed, key, open_on,
                       result["solver"], result.get("metrics", {}), seconds), features


def write_order(result: OrderResult, path: Path) -> Path:
    """Write the order as JSON through a temporary file; on a full disk :class:`~installation.files.WriteError`
    ("cannot write PATH: disk full", an OSError) and no ``.tmp`` left behind."""
    return atomic_write_text(path, json.dumps(result.to_json(), indent=1) + "\n")


def read_order(path: Path, names: list[str] | None = None) -> dict:
    """A parsed order file; :class:`OrderFileError` when it is not one (or lists names not in ``names``)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise OrderFileError(f"{path}: not a readable JSON order file ({exc})") from exc
    if not isinstance(data, dict):
        raise OrderFileError(f"{path}: expected a JSON object with an 'order' list")
    order, cells = data.get("order"), data.get("cells")
    if not isinstance(order, list) or not all(isinstance(n, str) for n in order):
        raise OrderFileError(f"{path}: 'order' must be a list of image file names")
    if len(set(order)) != len(order):
        raise OrderFileError(f"{path}: 'order' lists a name twice")
    if cells is not None and (not isinstance(cells, list) or len(cells) != len(order)
                              or not all(isinstance(c, int) and not isinstance(c, bool) for c in cells)):
        raise OrderFileError(f"{path}: 'cells' must be a list of whole numbers, one per name in 'order'")
    if names is not None and sorted(order) != sorted(names):
        raise OrderFileError(f"{path}: its names do not match the collection's images")
    return data


@dataclass
class PreparedOrder:
    names: list[str]
    cells: dict[str, int]
    source: str  # "cache: PATH", "file: PATH" or "computed"
    method: str


def find_order(folder: Path, images: list[Path], method: str = "gnn", layout: str = "sequence",
               rows: int | None = None, cols: int | None = None, seed: int = 0,
               encoder_path: Path | None = None, open_on: str = "light") -> tuple[PreparedOrder | None, str]:
    """A current order for these inputs, read from disk, never computed: (the order, "") or (None, why not,
    one line: missing, stale or unusable). Cheap enough for validation (hashes the files' bytes).

    Looks at ``NAME.order.json`` beside the collection (written by ``installation order``) and at the cache
    (``$INSTALLATION_CACHE/orders``)."""
    folder = Path(folder)
    names = [p.name for p in images]
    if rows is None or cols is None:
        rows, cols = default_grid(len(images))
    keys = input_hashes(images, method, layout, rows, cols, seed, encoder_path, open_on=open_on)
    why = f"no order file for {folder} ({default_order_path(folder).name})"
    for path in (default_order_path(folder), *(cache_dir() / "orders" / f"{k}.json" for k in keys)):
        if not path.is_file():
            continue
        try:
            data = read_order(path, names)
        except OrderFileError as exc:
            log.warning("%s; ignoring it", exc)
            why = str(exc)
            continue
        if data.get("content_hash") not in keys:
            why = f"{path} is stale (the collection, the encoder or the settings changed)"
            continue
        cells = data.get("cells") or list(range(len(data["order"])))
        return PreparedOrder(list(data["order"]), dict(zip(data["order"], cells)), f"file: {path}",
                             str(data.get("method", method))), ""
    return None, why


def prepare_order(folder: Path, images: list[Path], method: str = "gnn", layout: str = "sequence",
                  rows: int | None = None, cols: int | None = None, seed: int = 0,
                  encoder_path: Path | None = None, progress: bool = True, open_on: str = "light") -> PreparedOrder:
    """Preparation, never validation: a current order file if there is one (:func:`find_order`), else compute
    it (with a progress line) and cache it. A malformed or stale file is reported and the order recomputed."""
    folder = Path(folder)
    if rows is None or cols is None:
        rows, cols = default_grid(len(images))
    found, why = find_order(folder, images, method, layout, rows, cols, seed, encoder_path, open_on)
    if found is not None:
        return found
    log.info("%s; computing the order", why)
    if progress:
        print(f"ordering {len(images)} images of {folder} (method {method}, layout {layout})...",
              file=sys.stderr, flush=True)
    result, _ = compute_order(images, method, layout, rows, cols, seed, encoder_path, metrics=False,
                              open_on=open_on)
    if progress:
        print(f"ordered {len(result.names)} images in {result.seconds:.1f} s", file=sys.stderr, flush=True)
    cached = cache_dir() / "orders" / f"{result.content_hash}.json"
    try:
        write_order(result, cached)
    except OSError as exc:  # a full disk costs the cache, not the show
        log.warning("cannot cache the order: %s", exc)
    return PreparedOrder(result.names, dict(zip(result.names, result.cells)), "computed", result.method)
