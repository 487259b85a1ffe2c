"""Ordering maths: open paths and loops (LKH-3 and the fallback), grid layouts and DPQ against hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from installation.ordering.layout import dpq, flas_layout, las_layout, sequence_layout
from installation.ordering.path import (
    pairwise_distances,
    path_length,
    shortest_path,
    solve_heuristic,
    solve_lkh,
    tour_length,
)
from installation.ordering.pipeline import order_features

pytest.importorskip("elkai")


def test_line_is_recovered_by_both_solvers() -> None:
    rng = np.random.default_rng(0)
    t = np.sort(rng.uniform(0, 10, 40))
    perm = rng.permutation(40)
    d = pairwise_distances(t[perm, None])
    want = list(np.argsort(t[perm]))
    for order in (solve_lkh(d), solve_heuristic(d)):
        assert order in (want, want[::-1])


def test_circle_open_path_skips_the_largest_gap() -> None:
    rng = np.random.default_rng(1)
    angles = np.sort(rng.uniform(0, 2 * np.pi, 30))
    pts = np.stack([np.cos(angles), np.sin(angles)], 1)
    perm = rng.permutation(30)
    d = pairwise_distances(pts[perm])
    chords = np.linalg.norm(pts - np.roll(pts, -1, 0), axis=1)
    best = chords.sum() - chords.max()
    assert path_length(d, solve_lkh(d)) == pytest.approx(best, rel=1e-6)
    assert path_length(d, solve_heuristic(d)) == pytest.approx(best, rel=1e-6)


def test_loops_open_at_their_longest_edge() -> None:
    """A loop is the shortest closed tour opened at its longest edge: on a circle, the circle opened at its
    widest gap; in general its wrap-around step is its largest, and it closes shorter than the best open path
    does. On a line it is much longer than the line (so the ordering falls back to the open path there)."""
    rng = np.random.default_rng(1)
    angles = np.sort(rng.uniform(0, 2 * np.pi, 30))
    pts = np.stack([np.cos(angles), np.sin(angles)], 1)
    d = pairwise_distances(pts[rng.permutation(30)])
    chords = np.linalg.norm(pts - np.roll(pts, -1, 0), axis=1)
    for order in (solve_lkh(d, loop=True), solve_heuristic(d, loop=True)):
        assert path_length(d, order) == pytest.approx(chords.sum() - chords.max(), rel=1e-6)
        assert d[order[-1], order[0]] == pytest.approx(chords.max())
    t = rng.uniform(0, 10, 25)  # on a line every tour goes out and back: opened, it skips points
    line = pairwise_distances(t[:, None])
    assert path_length(line, solve_lkh(line, loop=True)) > 1.5 * path_length(line, solve_lkh(line))
    d = pairwise_distances(rng.standard_normal((60, 5)))
    loop, solver = shortest_path(d, loop=True)
    steps = d[loop[:-1], loop[1:]]
    assert solver == "lkh" and sorted(loop) == list(range(60)) and d[loop[-1], loop[0]] >= steps.max()
    assert tour_length(d, loop) < tour_length(d, solve_lkh(d))
    assert path_length(d, loop) <= 1.05 * path_length(d, solve_lkh(d))


def test_orders_are_loops_where_a_loop_costs_little() -> None:
    """The ordering reads a loop opened at its longest edge when it is at most LOOP_COST times the best open
    path (so restarted reveals meet no big seam), else the open path (a line: every loop skips points)."""
    from installation.ordering.pipeline import LOOP_COST, smooth_order

    rng = np.random.default_rng(4)
    line = pairwise_distances(np.sort(rng.uniform(0, 10, 30))[:, None])
    assert smooth_order(line)[0] in (list(range(30)), list(range(29, -1, -1)))
    picked_loop = 0
    for trial in range(6):
        d = pairwise_distances(rng.standard_normal((40, 3)))
        order, path, loop = smooth_order(d)[0], solve_lkh(d), solve_lkh(d, loop=True)
        cheap = path_length(d, loop) <= LOOP_COST * path_length(d, path)
        assert order == (loop if cheap else path), trial
        picked_loop += cheap
        if cheap:  # the wrap-around step of a loop is no larger than the largest step inside it
            assert d[order[-1], order[0]] >= d[order[:-1], order[1:]].max()
    assert picked_loop >= 1


def test_fallback_is_close_to_lkh_and_lkh_is_deterministic() -> None:
    rng = np.random.default_rng(2)
    d = pairwise_distances(rng.standard_normal((80, 8)))
    lkh = path_length(d, solve_lkh(d))
    assert solve_lkh(d) == solve_lkh(d)
    assert path_length(d, solve_heuristic(d)) <= 1.03 * lkh
    order, solver = shortest_path(d)
    assert solver == "lkh" and sorted(order) == list(range(80))


@pytest.mark.parametrize("method", ["tsp", "random"])
def test_path_ratio_and_smoothness(method: str) -> None:
    x = np.random.default_rng(3).standard_normal((50, 6))
    out = order_features(x, method, "sequence")
    m = out["metrics"]
    assert sorted(out["order"]) == list(range(50))
    if method == "tsp":
        assert m["path_ratio"] <= 1.01 and m["smoothness"] == pytest.approx(1.0, abs=0.01)
    else:
        assert abs(m["smoothness"]) < 0.3 and m["path_ratio"] > 1.3


# ---- DPQ: hand-computed cases (1 x N grids of points on a line) -------------------------------------------


def test_dpq_hand_case_three_points() -> None:
    x = np.array([[0.0], [1.0], [2.0]])
    assert dpq(x, np.array([0, 1, 2]), cols=3, p=16) == pytest.approx(1.0)
    # cells 0, 2, 1: item 0's grid neighbour is item 2 (distance 2); D1 = (2+1+1)/3 = mean distance -> gain 0
    assert dpq(x, np.array([0, 2, 1]), cols=3, p=2) == pytest.approx(0.0)


def test_dpq_hand_case_four_points() -> None:
    x = np.arange(4.0)[:, None]
    cell_of = np.array([0, 1, 3, 2])  # items 0 1 3 2 along the row
    # mean distance 5/3; by features D1 = 1, D2 = 1.25, D3 = 5/3 -> gains 0.4, 0.25, 0
    # by grid D1 = 1, D2 = (2 + 1.5 + 1 + 1.5) / 4 = 1.5, D3 = 5/3 -> gains 0.4, 0.1, 0
    for p in (1, 2, 16):
        want = (0.4**p + 0.1**p) ** (1 / p) / (0.4**p + 0.25**p) ** (1 / p)
        assert dpq(x, cell_of, cols=4, p=p) == pytest.approx(want)


def test_dpq_is_one_when_grid_and_features_agree() -> None:
    rows, cols = 4, 5
    pts = np.stack(np.divmod(np.arange(rows * cols), cols), 1).astype(float)
    assert dpq(pts * 3.0, np.arange(rows * cols), cols, p=16) == pytest.approx(1.0)
    assert dpq(pts, np.random.default_rng(0).permutation(rows * cols), cols, p=16) < 0.9


def test_las_sorts_a_shuffled_colour_grid() -> None:
    rows, cols = 8, 8
    yy, xx = np.divmod(np.arange(rows * cols), cols)
    colours = np.stack([yy / rows, xx / cols, 0.5 + 0 * xx], 1)
    x = colours[np.random.default_rng(4).permutation(rows * cols)]
    rand = dpq(x, sequence_layout(len(x), rows, cols), cols, p=16)
    las = las_layout(x, rows, cols, seed=0)
    flas = flas_layout(x, rows, cols, seed=0)
    assert sorted(las) == list(range(rows * cols)) and sorted(flas) == list(range(rows * cols))
    assert dpq(x, las, cols, p=16) > max(0.85, rand + 0.3)
    assert dpq(x, flas, cols, p=16) > rand + 0.2


def test_las_leaves_extra_cells_empty() -> None:
    x = np.random.default_rng(5).standard_normal((10, 3))
    cell_of = las_layout(x, 3, 4)
    assert len(set(cell_of.tolist())) == 10 and cell_of.max() < 12
