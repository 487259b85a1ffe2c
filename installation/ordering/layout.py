"""Grid layouts where neighbouring cells hold similar paintings, and their Distance Preservation Quality.

``las_layout`` is Linear Assignment Sorting (Barthel et al. 2023): smooth the grid of feature vectors with
a shrinking box filter and re-assign every item to the cell whose smoothed vector is nearest by one linear
assignment. ``flas_layout`` is its fast variant: the assignment is solved only inside small random groups
of cells (here the reference for the benchmark). ``dpq`` is DPQ_p from the same paper: how much of the
best achievable "distance preservation gain" at each neighbourhood size k the grid keeps (1 is ideal).

A layout is ``cell_of``: for item i, the row-major cell index it occupies (cells >= items; extra cells stay
empty).
"""

from __future__ import annotations

import numpy as np

from installation.ordering.path import pairwise_distances


def _assign(cost: np.ndarray) -> np.ndarray:
    """Rows -> columns minimising the total cost (scipy's Jonker-Volgenant, else greedy)."""
    try:
        from scipy.optimize import linear_sum_assignment
    except ImportError:  # pragma: no cover - scipy is a dependency; greedy keeps a runtime-only install working
        out = np.full(cost.shape[0], -1)
        used = np.zeros(cost.shape[1], bool)
        for r in np.argsort(cost.min(1)):
            c = int(np.where(used, np.inf, cost[r]).argmin())
            out[r], used[c] = c, True
        return out
    rows, cols = linear_sum_assignment(cost)
    out = np.empty(cost.shape[0], dtype=int)
    out[rows] = cols
    return out


def _box_1d(a: np.ndarray, r: int, axis: int) -> np.ndarray:
    """Sum over a window of 2r+1 along ``axis`` with edge-replicated borders."""
    pad = [(0, 0)] * a.ndim
    pad[axis] = (r + 1, r)
    c = np.cumsum(np.pad(a, pad, mode="edge"), axis=axis)
    n = a.shape[axis]
    hi = np.take(c, np.arange(2 * r + 1, 2 * r + 1 + n), axis=axis)
    lo = np.take(c, np.arange(0, n), axis=axis)
    return hi - lo


def _smooth(grid: np.ndarray, mask: np.ndarray, rx: int, ry: int) -> np.ndarray:
    """Box-filtered grid vectors, averaging only over occupied cells."""
    num = _box_1d(_box_1d(grid * mask[..., None], ry, 0), rx, 1)
    den = _box_1d(_box_1d(mask[..., None].astype(np.float64), ry, 0), rx, 1)
    return num / np.maximum(den, 1e-9)


def sequence_layout(n: int, rows: int, cols: int) -> np.ndarray:
    """Item i in cell i (row major): the reveal order itself."""
    return np.arange(min(n, rows * cols))


def _check(n: int, rows: int, cols: int) -> None:
    if n > rows * cols:
        raise ValueError(f"{n} items do not fit a {rows}x{cols} grid")


def _sq_cost(x: np.ndarray, targets: np.ndarray) -> np.ndarray:
    return (x**2).sum(1)[:, None] - 2 * x @ targets.T + (targets**2).sum(1)[None, :]


def las_layout(x: np.ndarray, rows: int, cols: int, seed: int = 0, init: np.ndarray | None = None,
               radius_factor: float = 0.85, groups: int | None = None, group_size: int = 9) -> np.ndarray:
    """(F)LAS: returns ``cell_of`` (N,). ``groups`` None: full LAS; else FLAS with random groups of cells."""
    x = np.asarray(x, dtype=np.float64)
    n, cells = x.shape[0], rows * cols
    _check(n, rows, cols)
    rng = np.random.default_rng(seed)
    cell_of = np.asarray(init, dtype=int).copy() if init is not None else rng.permutation(cells)[:n]
    radius = max(rows, cols) / 2.0
    while True:
        r = max(1, int(round(radius)))
        grid = np.zeros((rows, cols, x.shape[1]))
        mask = np.zeros((rows, cols))
        grid.reshape(cells, -1)[cell_of] = x
        mask.reshape(cells)[cell_of] = 1.0
        target = _smooth(grid, mask, min(r, cols - 1), min(r, rows - 1)).reshape(cells, -1)
        if groups is None:
            cost = np.zeros((cells, cells))
            cost[:n] = _sq_cost(x, target)  # rows >= n: empty cells, free anywhere
            owner = _assign(cost)
            cell_of = owner[:n]
        else:
            item_in = np.full(cells, -1)
            item_in[cell_of] = np.arange(n)
            for _ in range(groups):
                cy, cx = int(rng.integers(rows)), int(rng.integers(cols))
                h = max(1, int(np.sqrt(group_size)))
                ys = np.clip(np.arange(cy - h // 2, cy - h // 2 + h), 0, rows - 1)
                xs = np.clip(np.arange(cx - h // 2, cx - h // 2 + h), 0, cols - 1)
                group = np.unique((ys[:, None] * cols + xs[None, :]).ravel())
                items = item_in[group]
                cost = np.zeros((len(group), len(group)))
                present = items >= 0
                cost[present] = _sq_cost(x[items[present]], target[group])
                new = _assign(cost)
                moved = np.full(len(group), -1)
                moved[new] = items
                item_in[group] = moved
            cell_of = np.empty(n, dtype=int)
            occupied = np.nonzero(item_in >= 0)[0]
            cell_of[item_in[occupied]] = occupied
        if r == 1:
            break
        radius *= radius_factor
    return cell_of


def flas_layout(x: np.ndarray, rows: int, cols: int, seed: int = 0) -> np.ndarray:
    """Fast LAS: local assignments in random 3x3 groups (the benchmark's reference)."""
    cells = rows * cols
    return las_layout(x, rows, cols, seed=seed, groups=max(1, cells // 3), group_size=9)


def grid_positions(cell_of: np.ndarray, cols: int) -> np.ndarray:
    cell_of = np.asarray(cell_of)
    return np.stack([cell_of // cols, cell_of % cols], axis=1).astype(np.float64)


def _gain(sorted_rows: np.ndarray, mean_d: float) -> np.ndarray:
    """delta D_k for k = 1..N-1 from each item's neighbour distances sorted by closeness (N, N-1)."""
    k = np.arange(1, sorted_rows.shape[1] + 1)
    d_k = (np.cumsum(sorted_rows, axis=1) / k).mean(0)
    return np.clip((mean_d - d_k) / mean_d, 0.0, None)


def dpq(x: np.ndarray, cell_of: np.ndarray, cols: int, p: float = 16) -> float:
    """Distance Preservation Quality DPQ_p of a grid layout (no wrap-around); 1 = as good as possible.

    For each item, the others are ranked by grid distance (ties: nearer in feature space first); D_k is the
    mean feature distance to the first k of them, averaged over items; delta_k = max(0, (Dmean - D_k) / Dmean).
    DPQ_p = ||delta^grid||_p / ||delta^features||_p, where the second ranks by feature distance itself.
    """
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[0]
    if n < 3:
        return 1.0
    hd = pairwise_distances(x)
    off = ~np.eye(n, dtype=bool)
    mean_d = float(hd[off].mean())
    if mean_d <= 0:
        return 1.0
    by_hd = np.sort(hd[off].reshape(n, n - 1), axis=1)
    pos = grid_positions(cell_of, cols)
    g2 = ((pos[:, None, :] - pos[None, :, :]) ** 2).sum(-1)
    by_grid = np.empty((n, n - 1))
    for i in range(n):
        others = np.nonzero(off[i])[0]
        rank = np.lexsort((hd[i, others], g2[i, others]))  # primary: grid distance; ties: feature distance
        by_grid[i] = hd[i, others[rank]]
    ideal = np.linalg.norm(_gain(by_hd, mean_d), ord=p)
    return float(np.linalg.norm(_gain(by_grid, mean_d), ord=p) / ideal) if ideal > 0 else 1.0
