r"""A lower bound on every plan: the territories LP, priced exactly, with its Lagrangian bound.

When centers are units (a cost matrix), a plan is :math:`k` territories :math:`(S, j)`, each
a connected set :math:`S` within the ranges with its center :math:`j \in S` and cost
:math:`c_{Sj} = \sum_{i \in S} c_{ij}`. For any prices :math:`\pi` (one per unit) and
:math:`\mu`, every plan costs

.. math::

    \sum_{(S,j)} c_{Sj} = \sum_i \pi_i + k\mu + \sum_{(S,j)} r_{Sj},\qquad
    r_{Sj} = c_{Sj} - \sum_{i \in S} \pi_i - \mu ,

and its :math:`k` centers are distinct units, so it costs at least
:math:`\sum_i \pi_i + k\mu` plus the :math:`k` smallest of :math:`r_j = \min_S r_{Sj}`, one per
center. That sum is the bound, valid for every plan whatever its centers, at any prices. The
prices come from the set-partitioning LP over the territories found so far (column
generation); :math:`r_j` from an exact pricing MIP per center (a knapsack within the ranges,
with the contiguity cuts of :mod:`geoterr.design.exact`: every cut holds for every connected
set, so the MIP's own bound is a bound on :math:`r_j` even when its cut rounds stop early).
The LP's optimum is reached when no center prices below zero; the bound then equals it.

Everything stops by counts (:data:`geoterr.design.strategy.BOUND_ROUNDS` LP rounds,
:data:`~geoterr.design.strategy.BOUND_CUTS` cut rounds per pricing); the seconds given are a
safety net that only shortens the column generation (the bound stays valid).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from geoterr.design import strategy as st
from geoterr.design.constraints import allowed_pairs
from geoterr.design.exact import _separator
from geoterr.design.highs_model import add_sparse_rows
from geoterr.design.highs_run import _new_highs, _status, run_highs
from geoterr.design.problem import Problem, territory_pieces

__all__ = ["GlobalBound", "global_bound", "plan_columns"]

# Relative tolerance under which a reduced cost counts as zero (the LP is then optimal).
TOL = 1e-7
# Cost of covering a unit by no territory in the LP (times the largest cost of a unit).
SLACK = 1e3


@dataclass
class GlobalBound:
    """A lower bound on the objective of every contiguous plan within the ranges.

    Attributes
    ----------
    value : float
        No plan costs less (in the objective's own units).
    lp : float
        The LP value over the territories found (the bound's target).
    optimal : bool
        The LP was solved to optimality (no territory prices below zero).
    rounds : int
        LP rounds (each with one pricing per center).
    columns : list of (ndarray, int)
        The territories found: members (bool per unit) and center unit.
    cut : bool
        The seconds stopped the column generation before its own rules did.
    """

    value: float
    lp: float
    optimal: bool
    rounds: int
    columns: list[tuple[np.ndarray, int]]
    cut: bool = False


def plan_columns(
    problem: Problem, labels: np.ndarray, centers: np.ndarray
) -> list[tuple[np.ndarray, int]]:
    """Return a plan's territories that are connected and within the ranges, as columns."""
    piece = territory_pieces(problem, labels)
    columns = []
    for t, c in enumerate(centers.tolist()):
        members = labels == t
        totals = problem.loads[members].sum(axis=0)
        inside = np.all((problem.lower[t] <= totals) & (totals <= problem.upper[t]))
        if members[c] and inside and np.all(piece[members] == piece[c]):
            columns.append((members, int(c)))
    return columns


class _Pricer:
    """The pricing MIP of one center: the connected set within the ranges of least cost."""

    def __init__(self, problem: Problem, center: int, allowed: np.ndarray) -> None:
        import highspy

        n = problem.n
        self.n, self.center, self.neighbours = n, center, problem.neighbours
        h = _new_highs(None, mip_gap=1e-9)
        h.setOptionValue("mip_max_nodes", st.BOUND_NODES)
        upper = allowed.astype(float)
        lower = np.zeros(n)
        lower[center] = upper[center] = 1.0
        h.addVars(n, lower, upper)
        idx = np.arange(n, dtype=np.int32)
        h.changeColsIntegrality(n, idx, np.full(n, highspy.HighsVarType.kInteger))
        rows = [
            (float(problem.lower[0, m]), float(problem.upper[0, m]), idx, problem.loads[:, m])
            for m in range(problem.loads.shape[1])
        ]
        for i in range(n):  # a unit other than the center has a neighbour in the set
            nb = problem.neighbours[i]
            if i != center:
                rows.append((-np.inf, 0.0, np.r_[i, nb], np.r_[1.0, -np.ones(len(nb))]))
        add_sparse_rows(h, rows)
        self.h = h

    def price(self, w: np.ndarray) -> tuple[float, np.ndarray | None]:
        """Return a lower bound on min sum(w[S]) over connected S, and S when it is exact."""
        h = self.h
        h.changeColsCost(self.n, np.arange(self.n, dtype=np.int32), w)
        for _ in range(st.BOUND_CUTS):
            run_highs(h)
            status = _status(h)
            info = h.getInfo()
            if status == "Infeasible":
                return np.inf, None
            bound = float(info.mip_dual_bound)
            if info.primal_solution_status != 2 or status != "Optimal":
                return bound if np.isfinite(bound) else -np.inf, None
            members = np.asarray(h.getSolution().col_value) > 0.5
            rows = self._cuts(members)
            if not rows:
                return bound, members
            add_sparse_rows(h, rows)
        return bound, None

    def _cuts(self, members: np.ndarray) -> list[tuple[float, float, np.ndarray, np.ndarray]]:
        """Contiguity cuts for every piece of ``members`` cut off from the center."""
        seen = np.zeros(self.n, dtype=bool)
        rows = []
        for start in [self.center, *np.flatnonzero(members).tolist()]:
            if seen[start]:
                continue
            comp, stack = [start], [start]
            seen[start] = True
            while stack:
                a = stack.pop()
                for b in self.neighbours[a].tolist():
                    if members[b] and not seen[b]:
                        seen[b] = True
                        comp.append(b)
                        stack.append(b)
            if start == self.center:
                continue
            around = _separator(np.array(comp), self.center, self.neighbours, self.n)
            for u in comp:
                rows.append((-np.inf, 0.0, np.r_[u, around], np.r_[1.0, -np.ones(len(around))]))
        return rows


def _solve_lp(
    cover: list[np.ndarray], cost: list[float], n: int, k: int, slack: float
) -> tuple[float, np.ndarray, float] | None:
    """Solve the set-partitioning LP over the columns; return value, unit prices and mu."""
    h = _new_highs(None)
    # slacks: unit i covered by nothing (columns 0..n-1), an empty territory (column n)
    h.addVars(n + 1, np.zeros(n + 1), np.full(n + 1, np.inf))
    h.changeColsCost(n + 1, np.arange(n + 1, dtype=np.int32), np.full(n + 1, slack))
    c = len(cover)
    if c:
        h.addVars(c, np.zeros(c), np.full(c, np.inf))
        h.changeColsCost(c, np.arange(n + 1, n + 1 + c, dtype=np.int32), np.asarray(cost))
    rows = []
    for i in range(n):
        with_i = [n + 1 + s for s in range(c) if cover[s][i]]
        rows.append((1.0, 1.0, np.r_[i, with_i].astype(np.int32), np.ones(1 + len(with_i))))
    rows.append((float(k), float(k), np.arange(n, n + 1 + c, dtype=np.int32), np.ones(c + 1)))
    add_sparse_rows(h, rows)
    run_highs(h)
    if _status(h) != "Optimal":
        return None
    duals = np.asarray(h.getSolution().row_dual)
    return float(h.getInfo().objective_function_value), duals[:n], float(duals[n])


def global_bound(
    problem: Problem,
    start: list[tuple[np.ndarray, int]],
    seconds: float | None = None,
) -> GlobalBound | None:
    """Bound every plan from below by column generation with exact pricing.

    Parameters
    ----------
    problem : Problem
        With a cost matrix, centers that are units and the same ranges for every territory.
    start : list of (ndarray, int)
        Territories to start from (members as bool per unit, center unit), e.g. a plan's.
    seconds : float, optional
        Safety net on the whole search.

    Returns
    -------
    GlobalBound or None
        None when no bound could be computed (a pricing without a bound).

    Examples
    --------
    Through the public API, ``design(..., costs=..., prove=True)`` on 50 units or more; the
    plan then says ``plan.lower_bound_scope == "all plans"``. ``tests/test_global_bound.py``
    checks the bound against brute force on small grids.
    """
    t0 = time.perf_counter()
    n, k = problem.n, problem.k
    full = problem.costs(np.arange(n))  # (n, n): unit i from center j
    scale = float(np.abs(full).max()) or 1.0
    full = full / scale
    allowed = allowed_pairs(problem, np.arange(n))
    pricers: dict[int, _Pricer] = {}
    cover = [m.copy() for m, _ in start]
    owner = [j for _, j in start]
    cost = [float(full[m, j].sum()) for m, j in start]
    best, lp, rounds, optimal, cut = -np.inf, np.inf, 0, False, False
    while rounds < st.BOUND_ROUNDS:
        if seconds is not None and time.perf_counter() - t0 > seconds:
            cut = True
            break
        rounds += 1
        solved = _solve_lp(cover, cost, n, k, SLACK * n)
        if solved is None:
            return None
        lp, pi, mu = solved
        reduced = np.empty(n)
        for j in range(n):
            if j not in pricers:
                pricers[j] = _Pricer(problem, j, allowed[:, j])
            low, members = pricers[j].price(full[:, j] - pi)
            reduced[j] = low - mu
            if members is not None and reduced[j] < -TOL:
                cover.append(members)
                owner.append(j)
                cost.append(float(full[members, j].sum()))
        if np.isneginf(reduced).any():
            return None  # a pricing without a bound
        best = max(best, float(pi.sum() + k * mu + np.sort(reduced)[:k].sum()))
        if reduced.min() >= -TOL * max(abs(lp), 1.0):
            optimal = True
            break
    if not np.isfinite(best):
        return None
    columns = list(zip(cover, owner, strict=True))
    return GlobalBound(best * scale, lp * scale, optimal, rounds, columns, cut)
