"""Start centers for large instances from rounds on a coarse copy of the problem.

The rounds of :func:`geoterr.design.pipeline.run_rounds` move the centers a little at a time:
50,000 units into 100 territories took 28 rounds of about 2 s each, most of the way spent
where a much smaller model gives the same answer. Here the units are first merged into cells
of a square grid (about :data:`CELLS_PER_TERRITORY` per territory), each cell at its units'
weighted centroid with their summed loads and weight, and the balanced assignment LP on the
cells is solved over and over, each center moved to the weighted median of what the LP gives
it, until the LP's objective improves by less than the rounds' own rule. The full rounds then
start from those centers and only polish them.

Only free centers on straight lines without locks, kept territories, a current plan or the
user's own constraints take this start: those tie a territory to places or units that a cell
would blur.
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import pandas as pd
from scipy import sparse

from geoterr.design import strategy as st
from geoterr.design.highs_model import HighsAssignment
from geoterr.design.pipeline import Clock
from geoterr.design.problem import Problem
from geoterr.design.seeds import best_point

__all__ = ["coarse_applies", "coarse_centers", "grid_cells"]

log = logging.getLogger("geoterr.design")

# From this many units on, the rounds start from the coarse rounds' centers (5,000 units into
# 25 territories take 3 s without them).
MIN_UNITS = 20_000
# Cells per territory of the coarse copy, and never more than a share of the units.
CELLS_PER_TERRITORY = 50
MAX_CELL_SHARE = 0.25
# Never more cells than this (an LP on more cells costs as much as the full rounds it spares),
# and never more than this share of the time limit in the coarse rounds.
MAX_CELLS = 20_000
MAX_TIME_SHARE = 0.25
# The coarse rounds stop after two in a row improve the LP's objective by less than the full
# rounds' st.STALE_GAIN, or after MAX_ROUNDS.
MAX_ROUNDS = 60


def coarse_applies(problem: Problem, *, fixed_centers: bool) -> bool:
    """Say whether a design of ``problem`` starts from the coarse rounds' centers."""
    return (
        problem.n >= MIN_UNITS
        and not fixed_centers
        and problem.cost_matrix is None
        and not (problem.locked >= 0).any()
        and not (problem.current >= 0).any()
        and not problem.closed.any()
        and not problem.rules
    )


def grid_cells(xy: np.ndarray, cells: int) -> np.ndarray:
    """Label every point with its cell of a square grid holding about ``cells`` non-empty cells.

    The cell side is found by bisection on the count of non-empty cells (points cluster, so
    the bounding box alone would give far fewer). Labels are 0..count-1, in the order of the
    cells' keys (so the same points give the same labels).
    """
    lo = xy.min(axis=0)
    span = float(max(np.ptp(xy, axis=0).max(), 1.0))
    small, large = span / max(len(xy), 1), span  # side giving too many, too few cells

    def label(side: float) -> np.ndarray:
        ij = np.floor((xy - lo) / side).astype(np.int64)
        key = ij[:, 0] * (int(span / side) + 2) + ij[:, 1]
        return np.unique(key, return_inverse=True)[1].ravel()

    for _ in range(40):
        side = (small * large) ** 0.5
        labels = label(side)
        count = int(labels.max()) + 1
        if abs(count - cells) <= 0.05 * cells:
            break
        if count > cells:
            small = side
        else:
            large = side
    return labels


def coarse_problem(problem: Problem, cells: np.ndarray) -> Problem:
    """Return the problem with one unit per cell: summed loads and weight, weighted centroid."""
    m = int(cells.max()) + 1
    weight = np.bincount(cells, weights=problem.weight, minlength=m)
    loads = np.stack(
        [np.bincount(cells, weights=col, minlength=m) for col in problem.loads.T], axis=1
    )
    w = np.maximum(problem.weight, 1e-12)
    total = np.bincount(cells, weights=w, minlength=m)
    xy = np.stack(
        [np.bincount(cells, weights=w * col, minlength=m) / total for col in problem.xy.T], axis=1
    )
    return dataclasses.replace(
        problem,
        ids=pd.RangeIndex(m),
        xy=xy,
        weight=weight,
        loads=loads,
        neighbours=[np.empty(0, dtype=np.int64)] * m,
        locked=np.empty(0, dtype=np.int64),
        current=np.empty(0, dtype=np.int64),
        move_amount=np.empty(0),
    )


def shared_centers(
    xy: np.ndarray,
    weight: np.ndarray,
    share: sparse.csr_array,
    centers: np.ndarray,
    *,
    inertia: bool,
) -> np.ndarray:
    """Move each center to the weighted median (centroid with ``inertia``) of its shares.

    ``share`` (n, k, sparse) is the LP's fractional assignment; a point counts with its weight
    times its share of the territory (:func:`geoterr.design.seeds.best_point`).
    """
    by_center = sparse.csc_array(share)
    by_center.sort_indices()
    new = centers.copy()
    for j in range(len(centers)):
        span = slice(by_center.indptr[j], by_center.indptr[j + 1])
        rows, part = by_center.indices[span], by_center.data[span]
        rows, part = rows[part > 1e-9], part[part > 1e-9]
        w = weight[rows] * part
        if w.sum() > 0:
            new[j] = best_point(xy[rows], w, inertia=inertia)
    return new


def coarse_centers(problem: Problem, centers: np.ndarray, clock: Clock | None = None) -> np.ndarray:
    """Return start centers from rounds of the balanced assignment LP on grid cells.

    ``centers`` (k, 2) start the coarse rounds; the best rounds' centers are returned (those
    of the start when the LP has no solution on the cells). With a ``clock`` whose limit is
    set, the rounds stop after :data:`MAX_TIME_SHARE` of it (and mark the clock as cut).
    """
    target = min(CELLS_PER_TERRITORY * problem.k, int(MAX_CELL_SHARE * problem.n), MAX_CELLS)
    coarse = coarse_problem(problem, grid_cells(problem.xy, target))
    engine = HighsAssignment(coarse)
    best, best_value, stale, rounds = centers, np.inf, 0, 0
    while rounds < MAX_ROUNDS:
        if (
            clock is not None
            and clock.limit is not None
            and clock.elapsed() > MAX_TIME_SHARE * clock.limit
        ):
            clock.cut = True
            break
        solved = engine.solve(coarse.costs(centers))
        if solved is None:
            break
        rounds += 1
        share, value = solved
        gain = (best_value - value) / max(abs(value), 1e-12) if np.isfinite(best_value) else 1.0
        if value < best_value:
            best, best_value = centers, value
        stale = stale + 1 if gain < st.STALE_GAIN else 0
        if stale >= 2:
            break
        centers = shared_centers(coarse.xy, coarse.weight, share, centers, inertia=coarse.inertia)
    log.info("coarse start: %d rounds on %d cells, LP objective %.6g", rounds, coarse.n, best_value)
    return best
