"""Shortest open path or loop through a distance matrix: LKH-3 (``elkai``), with a fallback of NN + 2-opt + Or-opt.

The open path is a closed tour through the points plus one dummy node at distance 0 from all of them:
cutting the tour at the dummy leaves the best Hamiltonian path with free ends. A *loop* is the shortest
closed tour through the points themselves, opened at its longest edge: read from its first point it is a
path (on the demo collection 0.2% longer than the best open path, with a smaller largest step), and read
round from any other point it has no seam larger than its own longest edge, where the best open path's
two ends can be far apart. ``elkai`` takes integer distances only (floats are mishandled), so distances are
scaled to integers up to ``INT_SCALE``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

log = logging.getLogger(__name__)

INT_SCALE = 1_000_000
_warned_elkai = False


def pairwise_distances(x: np.ndarray) -> np.ndarray:
    """Euclidean distance matrix (float64, exact zeros on the diagonal)."""
    x = np.asarray(x, dtype=np.float64)
    sq = (x**2).sum(1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2 * x @ x.T, 0.0)
    np.fill_diagonal(d2, 0.0)
    return np.sqrt(d2)


def path_length(d: np.ndarray, order: Sequence[int] | np.ndarray) -> float:
    order = np.asarray(order, dtype=int)
    return float(d[order[:-1], order[1:]].sum()) if len(order) > 1 else 0.0


def _with_dummy(d: np.ndarray) -> np.ndarray:
    n = d.shape[0]
    out = np.zeros((n + 1, n + 1), dtype=d.dtype)
    out[:n, :n] = d
    return out


def _cut_at_dummy(tour: list[int], dummy: int) -> list[int]:
    i = tour.index(dummy)
    return [int(v) for v in tour[i + 1 :] + tour[:i]]


def _open_at_longest_edge(d: np.ndarray, tour: list[int]) -> list[int]:
    """A closed tour as a path that starts after its longest edge (so that edge is the one left out)."""
    n = len(tour)
    if n < 2:
        return [int(v) for v in tour]
    t = np.asarray(tour)
    k = int(np.argmax(d[t, np.roll(t, -1)]))  # edge k joins tour[k] and tour[k + 1]
    return [int(v) for v in np.roll(t, -(k + 1))]


def tour_length(d: np.ndarray, tour: Sequence[int] | np.ndarray) -> float:
    t = np.asarray(tour, dtype=int)
    return float(d[t, np.roll(t, -1)].sum()) if len(t) > 1 else 0.0


def _canonical(order: list[int]) -> list[int]:
    """An open path and its reverse are the same path: start at the end with the smaller index."""
    return order if order[0] <= order[-1] else order[::-1]


def elkai_available() -> bool:
    try:
        import elkai  # noqa: F401
    except ImportError:
        return False
    return True


def _lkh_tour(di: np.ndarray, runs: int) -> list[int]:
    """A closed LKH-3 tour for an integer matrix. elkai's own wrapper checks the matrix in Python loops
    (seconds for 200 nodes), so the problem text goes to its solver directly when that entry point exists."""
    import elkai

    core = getattr(elkai, "_elkai", None)
    if core is None or not hasattr(core, "solve_problem"):
        return list(elkai.solve_int_matrix(di.tolist(), runs=runs))
    n = di.shape[0]
    rows = "\n".join(" ".join(map(str, row)) for row in di.tolist())
    problem = (f"TYPE : TSP\nDIMENSION : {n}\nEDGE_WEIGHT_TYPE : EXPLICIT\nEDGE_WEIGHT_FORMAT : FULL_MATRIX\n"
               f"EDGE_WEIGHT_SECTION\n{rows}\n")
    tour = core.solve_problem(f"RUNS = {runs}\nSEED = 1\nPROBLEM_FILE = :stdin:\n", problem)
    return [int(i) - 1 for i in tour]  # LKH numbers nodes from 1


def solve_lkh(d: np.ndarray, runs: int = 1, loop: bool = False) -> list[int]:
    """Best open path (or loop) by LKH-3 (``elkai``); raises ImportError without elkai."""
    n = d.shape[0]
    if n <= 3:
        return _brute_force(d, loop)
    scale = INT_SCALE / max(float(d.max()), 1e-12)
    di = np.rint((d if loop else _with_dummy(d)) * scale).astype(np.int64)
    tour = _lkh_tour(di, runs)
    if sorted(tour) != list(range(n if loop else n + 1)):
        raise RuntimeError("LKH returned an invalid tour")
    return _canonical(_open_at_longest_edge(d, tour) if loop else _cut_at_dummy(tour, n))


def _brute_force(d: np.ndarray, loop: bool = False) -> list[int]:
    from itertools import permutations

    n = d.shape[0]
    if n <= 1:
        return list(range(n))
    if loop:
        best = min(permutations(range(n)), key=lambda p: tour_length(d, p))
        return _canonical(_open_at_longest_edge(d, list(best)))
    best = min(permutations(range(n)), key=lambda p: path_length(d, p))
    return _canonical(list(best))


def nearest_neighbour(d: np.ndarray, start: int) -> list[int]:
    n = d.shape[0]
    seen = np.zeros(n, bool)
    order = [start]
    seen[start] = True
    for _ in range(n - 1):
        row = np.where(seen, np.inf, d[order[-1]])
        nxt = int(row.argmin())
        order.append(nxt)
        seen[nxt] = True
    return order


def two_opt(d: np.ndarray, tour: list[int], max_passes: int = 50) -> list[int]:
    """2-opt on a closed tour (first-improvement per position, vectorised over the second edge)."""
    t = np.array(tour)
    n = len(t)
    for _ in range(max_passes):
        improved = False
        for i in range(n - 2):
            a, b = t[i], t[i + 1]
            js = np.arange(i + 2, n if i > 0 else n - 1)
            c, e = t[js], t[(js + 1) % n]
            delta = d[a, c] + d[b, e] - d[a, b] - d[c, e]
            k = int(delta.argmin()) if len(delta) else -1
            if k >= 0 and delta[k] < -1e-12:
                j = js[k]
                t[i + 1 : j + 1] = t[i + 1 : j + 1][::-1]
                improved = True
        if not improved:
            break
    return t.tolist()


def or_opt(d: np.ndarray, tour: list[int], max_passes: int = 20) -> list[int]:
    """Move segments of 1-3 consecutive nodes (either direction) to their best place in a closed tour."""
    t = list(tour)
    n = len(t)
    for _ in range(max_passes):
        improved = False
        for seg_len in (1, 2, 3):
            i = 0
            while i < n:
                if n < seg_len + 3:
                    break
                idx = [(i + k) % n for k in range(seg_len)]
                seg = [t[k] for k in idx]
                prev, nxt = t[(i - 1) % n], t[(i + seg_len) % n]
                gain = d[prev, seg[0]] + d[seg[-1], nxt] - d[prev, nxt]
                rest = [t[(i + seg_len + k) % n] for k in range(n - seg_len)]
                r = np.array(rest)
                u, v = r, np.roll(r, -1)
                u, v = u[:-1], v[:-1]  # edges of the remaining path (not the one that closes over the gap)
                fwd = d[u, seg[0]] + d[seg[-1], v] - d[u, v]
                bwd = d[u, seg[-1]] + d[seg[0], v] - d[u, v]
                kf, kb = int(fwd.argmin()), int(bwd.argmin())
                best, rev, k = (fwd[kf], False, kf) if fwd[kf] <= bwd[kb] else (bwd[kb], True, kb)
                if best < gain - 1e-12:
                    ins = seg[::-1] if rev else seg
                    t = rest[: k + 1] + ins + rest[k + 1 :]
                    improved = True
                i += 1
        if not improved:
            break
    return t


def solve_heuristic(d: np.ndarray, starts: int = 4, seed: int = 0, loop: bool = False) -> list[int]:
    """Open path (or loop) by nearest neighbour (a few starts) + 2-opt + Or-opt, on the dummy-augmented
    matrix (on the matrix itself for a loop)."""
    n = d.shape[0]
    if n <= 7:
        return _brute_force(d, loop)
    dd = d if loop else _with_dummy(d)
    rng = np.random.default_rng(seed)
    candidates = ([] if loop else [n]) + [int(s) for s in rng.choice(n, size=min(starts - 1, n), replace=False)]
    best, best_len = None, np.inf
    for s in candidates:
        tour = or_opt(dd, two_opt(dd, nearest_neighbour(dd, s)))
        tour = two_opt(dd, tour)
        order = _open_at_longest_edge(d, tour) if loop else _cut_at_dummy(tour, n)
        length = tour_length(d, order) if loop else path_length(d, order)
        if length < best_len:
            best, best_len = order, length
    assert best is not None  # there is always a candidate, and its (finite) length is below inf
    return _canonical(best)



def shortest_path(d: np.ndarray, solver: str = "auto", seed: int = 0, loop: bool = False) -> tuple[list[int], str]:
    """Best open path (or loop, opened at its longest edge) and the solver that found it (``lkh`` or
    ``heuristic``)."""
    global _warned_elkai
    if solver in ("auto", "lkh"):
        try:
            return solve_lkh(d, loop=loop), "lkh"
        except ImportError:
            if solver == "lkh":
                raise
            if not _warned_elkai:
                log.warning("elkai (LKH-3) is not installed: using nearest neighbour + 2-opt + Or-opt")
                _warned_elkai = True
        except Exception as exc:  # LKH failing must not stop a show
            log.warning("LKH-3 failed (%s): using nearest neighbour + 2-opt + Or-opt", exc)
    return solve_heuristic(d, seed=seed, loop=loop), "heuristic"
