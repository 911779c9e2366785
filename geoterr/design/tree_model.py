r"""Territories as shortest-path trees around candidate centers: a compact, contiguous model.

Sales-territory models have long asked each unit to have a neighbour in its territory that
is closer to the territory's center (Zoltners and Sinha, "Sales territory alignment: a review
and model", Management Science 29(11), 1983). Following the neighbours that are closer leads to
the center, so every territory is connected, with no cuts to add, and the territories are
compact by construction. Over candidate centers :math:`J`:

.. math::

    \min \sum_{i, j \in J} c_{ij} x_{ij} \quad\text{s.t.}\quad
    \sum_{j \in J} x_{ij} = 1,\quad \sum_{j \in J} x_{jj} = k,\quad x_{ij} \le x_{jj},

    L_m x_{jj} \le \sum_i a_{im} x_{ij} \le U_m x_{jj},\qquad
    x_{ij} \le \sum_{v \in N(i),\ d_{vj} < d_{ij}} x_{vj} \quad (i \ne j).

Ties in distance are broken by unit position, so "closer" is a strict order with the center
first. A pair :math:`(i, j)` is left out when no path of ever-closer units leads from
:math:`i` to :math:`j` within the upper bounds (its cheapest such path, measure by measure).

The restriction can cut off the true optimum (a territory whose units reach the center only
through a unit farther away), so its optimum is a plan, not a bound for all plans. "Closer"
need not be the cost matrix's own distance: any order with the center first keeps every
territory connected. :func:`along_graph_order` gives a second one, the mean of the distance
and the distance along the unit graph, which admits a path through a unit farther away in a
straight line when it is nearer along the graph: on Alabama's counties the cost matrix's
order gave 1.0020 of the published optimum and this one the optimum itself.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from geoterr.design.highs_model import add_sparse_rows
from geoterr.design.highs_run import _new_highs, _status, offer_solution, run_highs
from geoterr.design.problem import Problem

__all__ = ["TreePlan", "along_graph_order", "tree_plan"]

log = logging.getLogger(__name__)

# Branch-and-bound nodes of one solve: its stop by work, the same on every machine (its
# seconds are a safety net).
MAX_NODES = 2_000

GAP = 1e-6


@dataclass(frozen=True)
class TreePlan:
    """A plan of the tree model.

    Territory of each unit, center unit of each territory, and whether it is optimal for the model
    (those candidate centers and trees).
    """

    labels: np.ndarray
    centers: np.ndarray
    optimal: bool
    # stopped by its seconds (a safety net) rather than by MAX_NODES or optimality
    cut: bool = False


def _reachable(problem: Problem, center: int, order: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """Return the units that reach ``center`` through ever-closer neighbours.

    Within the upper bounds; ``order`` lists units from the center outwards, ``rank`` gives each
    unit's place in it.
    """
    n = problem.n
    upper = problem.upper[0]
    path = np.full((n, problem.loads.shape[1]), np.inf)
    path[center] = problem.loads[center]
    for i in order.tolist():
        if i == center:
            continue
        closer = [v for v in problem.adjacency[i] if rank[v] < rank[i]]
        if closer:
            path[i] = problem.loads[i] + path[closer].min(axis=0)
    return np.asarray(np.all(path <= upper + 1e-9, axis=1))


def _closer_order(distance: np.ndarray, center: int) -> np.ndarray:
    """Units from the center outwards (ties by position, the center first)."""
    key = distance.astype(float).copy()
    key[center] = -np.inf
    return np.lexsort((np.arange(len(key)), key))


def along_graph_order(problem: Problem) -> np.ndarray:
    """Return the mean of the cost matrix's distance and the distance along the unit graph.

    The distance along the graph is the shortest path whose steps are the cost matrix's
    distances between neighbours (scipy's Dijkstra). Shape (n, n); column ``j`` orders the
    units towards a center at ``j`` for :func:`tree_plan`'s ``order``.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import dijkstra

    assert problem.cost_matrix is not None
    d = np.asarray(problem.cost_matrix, dtype=float)
    src, dst = problem.edges
    steps = coo_matrix(
        (np.maximum(d[src, dst], 1e-12), (src, dst)), shape=(problem.n, problem.n)
    ).tocsr()
    along = dijkstra(steps, directed=False)
    along[~np.isfinite(along)] = d.max() * problem.n  # other parts of the graph: last
    return np.asarray(0.5 * (d + along))


def tree_plan(
    problem: Problem,
    candidates: np.ndarray,
    seconds: float,
    start: tuple[np.ndarray, np.ndarray] | None = None,
    pairs: np.ndarray | None = None,
    order: np.ndarray | None = None,
) -> TreePlan | None:
    """Solve the tree model over ``candidates`` within ``seconds``; None if no plan is found.

    Parameters
    ----------
    problem : Problem
        With a cost matrix and the same ranges for every territory.
    candidates : ndarray
        Units (positions) that may be centers.
    seconds : float
        Time limit of the solve.
    start : (labels, centers), optional
        A plan offered to the solver as its first solution (ignored when it does not fit).
    pairs : ndarray (n, n) of bool, optional
        Only pairs (unit i, center j) with ``pairs[i, j]`` become variables (a candidate
        always holds itself).
    order : ndarray (n, n), optional
        What "closer to the center" means: ``order[i, j]`` below ``order[v, j]`` when unit
        ``i`` is closer to a center at ``j`` than ``v`` (default: the cost matrix; see
        :func:`along_graph_order`).
    """
    import highspy

    assert problem.cost_matrix is not None
    begin = time.perf_counter()
    d = problem.cost_matrix if order is None else order
    cost = problem.costs(np.arange(problem.n))  # (n, n): unit i to the center at unit j
    scale = float(cost.max()) or 1.0
    cands = np.unique(np.asarray(candidates, dtype=np.int64))
    n, m = problem.n, problem.loads.shape[1]
    # Variables: (unit, center) pairs that can be part of a tree.
    var = np.full((n, len(cands)), -1, dtype=np.int64)
    ranks = []
    count = 0
    unit_parts: list[np.ndarray] = []  # unit and candidate of every variable, in order
    cand_parts: list[np.ndarray] = []
    for c, j in enumerate(cands.tolist()):
        outwards = _closer_order(d[:, j], j)
        rank = np.empty(n, dtype=np.int64)
        rank[outwards] = np.arange(n)
        ranks.append(rank)
        fits = _reachable(problem, j, outwards, rank)
        if pairs is not None:
            fits &= pairs[:, j]
            fits[j] = True  # a candidate holds itself, even if no territory had it as center
        ok = np.flatnonzero(fits)
        var[ok, c] = np.arange(count, count + len(ok))
        count += len(ok)
        unit_parts.append(ok)
        cand_parts.append(np.full(len(ok), c))
    if np.any((var >= 0).sum(axis=1) == 0):
        return None  # some unit reaches no candidate
    units = np.concatenate(unit_parts)
    where = np.concatenate(cand_parts)
    h = _new_highs(seconds, mip_gap=GAP)
    inf = highspy.kHighsInf
    h.addVars(count, np.zeros(count), np.ones(count))
    all_vars = np.arange(count, dtype=np.int32)
    h.changeColsCost(count, all_vars, cost[units, cands[where]] / scale)
    h.changeColsIntegrality(count, all_vars, np.full(count, highspy.HighsVarType.kInteger))
    rows: list[tuple[float, float, np.ndarray, np.ndarray]] = []
    for i in range(n):
        idx = var[i][var[i] >= 0]
        rows.append((1.0, 1.0, idx, np.ones(len(idx))))
    diag = var[cands, np.arange(len(cands))]
    rows.append((float(problem.k), float(problem.k), diag, np.ones(len(diag))))
    for c, j in enumerate(cands.tolist()):
        members = np.flatnonzero(var[:, c] >= 0)
        cols = var[members, c]
        for mm in range(m):
            a = problem.loads[members, mm]
            at = members == j
            for bound, sense in ((problem.lower[0, mm], 1.0), (problem.upper[0, mm], -1.0)):
                val = a.copy()
                val[at] -= bound
                rows.append((0.0, inf, cols, sense * val))
        rank = ranks[c]
        for i in members.tolist():
            if i == j:
                continue
            rows.append((-inf, 0.0, np.array([var[i, c], diag[c]]), np.array([1.0, -1.0])))
            closer = [v for v in problem.adjacency[i] if rank[v] < rank[i] and var[v, c] >= 0]
            idx = np.array([var[i, c], *var[closer, c].tolist()], dtype=np.int64)
            rows.append((-inf, 0.0, idx, np.concatenate([[1.0], -np.ones(len(closer))])))
    add_sparse_rows(h, rows)
    if start is not None:
        _offer(h, var, cands, count, *start)
    left = seconds - (time.perf_counter() - begin)
    h.setOptionValue("time_limit", max(left, 0.5))
    h.setOptionValue("mip_max_nodes", MAX_NODES)  # the stop that is the same on every machine
    run_highs(h)
    status = _status(h)
    info = h.getInfo()
    log.info(
        "tree model over %d candidate centers: %s, %.6g (%.1f s)",
        len(cands),
        status,
        info.objective_function_value * scale if info.primal_solution_status == 2 else np.nan,
        time.perf_counter() - begin,
    )
    if info.primal_solution_status != 2:
        return None
    x = np.asarray(h.getSolution().col_value) > 0.5
    chosen = x[diag]
    centers = cands[chosen]
    territory = np.full(len(cands), -1, dtype=np.int64)
    territory[np.flatnonzero(chosen)] = np.arange(int(chosen.sum()))
    labels = np.full(n, -1, dtype=np.int64)
    labels[units[x]] = territory[where[x]]
    if len(centers) != problem.k or np.any(labels < 0):
        return None
    return TreePlan(labels, centers, status == "Optimal", cut=status == "Time limit reached")


def _offer(
    h: Any,
    var: np.ndarray,
    cands: np.ndarray,
    count: int,
    labels: np.ndarray,
    centers: np.ndarray,
) -> None:
    """Give the solver a starting plan when every pair it uses is a variable."""
    pos = {int(c): p for p, c in enumerate(cands.tolist())}
    if any(int(c) not in pos for c in centers):
        return
    cols = var[np.arange(len(labels)), [pos[int(c)] for c in centers[labels]]]
    if np.any(cols < 0):
        return
    x = np.zeros(count)
    x[cols] = 1.0
    offer_solution(h, x)
