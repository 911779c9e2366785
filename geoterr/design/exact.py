r"""The exact model for small instances whose centers are units: optimum, bound or proof.

When territory centers are units (a cost matrix is given), the whole design problem is a
mixed-integer program (Hess et al., 1965, with the contiguity cuts of Validi, Buchanan and
Lykhovyd, 2022): :math:`x_{ij} = 1` when unit :math:`i` belongs to the territory centred on
unit :math:`j`, and :math:`x_{jj} = 1` opens unit :math:`j` as a center.

.. math::

    \min \sum_{i,j} c_{ij} x_{ij} \quad\text{s.t.}\quad
    \sum_j x_{ij} = 1,\quad x_{ij} \le x_{jj},\quad \sum_j x_{jj} = k,\quad
    L_m x_{jj} \le \sum_i a_{im} x_{ij} \le U_m x_{jj}

Contiguity is added only where a solution breaks it: a piece :math:`C` of territory
:math:`j` that does not hold the center gets :math:`x_{cj} \le \sum_{v \in N(C)\setminus C}
x_{vj}` for every :math:`c \in C`. Every cut is valid for every contiguous plan, so

- the solver's dual bound is a lower bound on the objective of *every* plan, whatever its
  centers (a global certificate, not one for the plan's own centers);
- a model that has no solution proves that no plan exists, with or without the cuts added
  so far (then the reason is contiguity, since balance alone was possible);
- the first solution without a detached piece is optimal.

HiGHS gets the heuristic plan as a starting solution, so the search only has to prove it or
beat it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np

from geoterr.design.constraints import allowed_pairs
from geoterr.design.highs_model import add_sparse_rows
from geoterr.design.highs_run import _new_highs, _status, offer_solution, run_highs
from geoterr.design.problem import Problem, territory_pieces

__all__ = ["ExactResult", "exact_applies", "solve_exact"]

log = logging.getLogger(__name__)

# Units up to which the exact model (n^2 variables) is tried.
MAX_UNITS = 200
# Relative gap at which a solve counts as optimal.
GAP = 1e-6


@dataclass
class ExactResult:
    """What the exact model established.

    Attributes
    ----------
    labels, centers : ndarray or None
        The best contiguous plan it found (territory of each unit, center unit of each
        territory), or None.
    bound : float or None
        A lower bound on the objective of every contiguous, balanced plan.
    optimal : bool
        ``labels`` is proven optimal.
    infeasible : str or None
        Why no plan exists, when that was proven.
    rounds : int
        Solves (rounds of cuts).
    """

    labels: np.ndarray | None
    centers: np.ndarray | None
    bound: float | None
    optimal: bool
    infeasible: str | None
    rounds: int


def exact_applies(problem: Problem) -> bool:
    """Tell whether the exact model fits.

    Centers are units, territories interchangeable, few units, no pinned units.
    """
    return (
        problem.cost_matrix is not None
        and problem.n <= MAX_UNITS
        and bool(np.all(problem.locked < 0))
        and bool(np.allclose(problem.lower, problem.lower[0]))
        and bool(np.allclose(problem.upper, problem.upper[0]))
    )


def solve_exact(
    problem: Problem,
    start_labels: np.ndarray | None,
    start_centers: np.ndarray | None,
    time_limit: float,
    max_rounds: int = 200,
) -> ExactResult:
    """Solve the center-choosing model with contiguity cuts within ``time_limit`` seconds.

    Parameters
    ----------
    problem : Problem
        With a cost matrix; see :func:`exact_applies`.
    start_labels, start_centers : ndarray, optional
        A plan to start from (territory index per unit, center unit per territory).
    time_limit : float
        Seconds for all rounds together.
    max_rounds : int
        At most this many rounds of cuts.
    """
    import highspy

    assert problem.cost_matrix is not None
    start = time.perf_counter()
    n = problem.n
    d = problem.cost_matrix
    cost = problem.weight[:, None] * (d * d if problem.inertia else d)
    scale = float(cost.max()) or 1.0
    cost = cost / scale
    h = _new_highs(time_limit, mip_gap=GAP)
    # Column i * n + j is x_ij.
    h.addVars(n * n, np.zeros(n * n), np.ones(n * n))
    h.changeColsCost(n * n, np.arange(n * n, dtype=np.int32), cost.ravel().astype(float))
    h.changeColsIntegrality(
        n * n, np.arange(n * n, dtype=np.int32), np.full(n * n, highspy.HighsVarType.kInteger)
    )
    col = np.arange(n * n, dtype=np.int32).reshape(n, n)
    # Pairs (unit, candidate center) the constraints forbid (a distance limit) stay at 0.
    barred = np.flatnonzero(~allowed_pairs(problem, np.arange(n)).ravel())
    if len(barred):
        h.changeColsBounds(
            len(barred), barred.astype(np.int32), np.zeros(len(barred)), np.zeros(len(barred))
        )
    add_sparse_rows(h, _model_rows(problem, col))
    if start_labels is not None and start_centers is not None:
        x = np.zeros((n, n))
        x[np.arange(n), start_centers[start_labels]] = 1.0
        offer_solution(h, x.ravel())
    neighbours = problem.neighbours
    rounds = 0
    cuts_added = 0
    last_bound: float | None = None
    while rounds < max_rounds:
        left = time_limit - (time.perf_counter() - start)
        if left <= 0.05:
            break
        h.setOptionValue("time_limit", left)
        rounds += 1
        run_highs(h)
        status = _status(h)
        info = h.getInfo()
        if status == "Infeasible":
            why = (
                "no plan keeps every territory's range, even before contiguity"
                if cuts_added == 0
                else "plans within the ranges exist, but none with every territory "
                f"contiguous (proven by the exact model after {cuts_added} contiguity cuts)"
            )
            return ExactResult(None, None, None, False, why, rounds)
        if info.primal_solution_status != 2:  # no solution yet (time limit)
            bound = float(info.mip_dual_bound) * scale if np.isfinite(info.mip_dual_bound) else None
            return ExactResult(None, None, bound, False, None, rounds)
        chosen = np.asarray(h.getSolution().col_value).reshape(n, n) > 0.5
        centers = np.flatnonzero(np.diag(chosen))
        labels_unit = np.argmax(chosen, axis=1)  # center unit of each unit
        index = {int(c): t for t, c in enumerate(centers)}
        labels = np.array([index[int(c)] for c in labels_unit], dtype=np.int64)
        new_rows = _cuts(problem, labels, centers, col, neighbours)
        bound = float(info.mip_dual_bound) * scale
        last_bound = bound
        if not new_rows:
            optimal = status == "Optimal"
            return ExactResult(labels, centers, bound, optimal, None, rounds)
        cuts_added += len(new_rows)
        add_sparse_rows(h, new_rows)
        log.debug("exact model round %d: %d cuts (%.1f s)", rounds, len(new_rows), left)
    return ExactResult(None, None, last_bound, False, None, rounds)


def _model_rows(
    problem: Problem, col: np.ndarray
) -> list[tuple[float, float, np.ndarray, np.ndarray]]:
    """Build the rows of the center-choosing model before any contiguity cut.

    Each unit in one territory, only to open centers, ``k`` centers, a unit away from its
    center next to a unit of the same territory, and every territory within its ranges.
    ``col[i, j]`` is the column of x_ij.
    """
    inf = np.inf
    n, m = problem.n, problem.loads.shape[1]
    diag = col[np.arange(n), np.arange(n)]
    rows: list[tuple[float, float, np.ndarray, np.ndarray]] = []
    for i in range(n):  # each unit in one territory
        rows.append((1.0, 1.0, col[i], np.ones(n)))
    for i in range(n):  # only to open centers
        for j in range(n):
            if i != j:
                rows.append((-inf, 0.0, np.array([col[i, j], diag[j]]), np.array([1.0, -1.0])))
    rows.append((float(problem.k), float(problem.k), diag, np.ones(n)))
    for i in range(n):  # a unit away from its center has a neighbour in the same territory
        nb = problem.neighbours[i]
        for j in range(n):
            if i != j:
                idx = np.concatenate([[col[i, j]], col[nb, j]])
                rows.append((-inf, 0.0, idx, np.concatenate([[1.0], -np.ones(len(nb))])))
    for mm in range(m):
        low, up = float(problem.lower[0, mm]), float(problem.upper[0, mm])
        a = problem.loads[:, mm]
        for j in range(n):
            idx = col[:, j]
            # sum_i a_i x_ij - L x_jj >= 0 and sum_i a_i x_ij - U x_jj <= 0
            lo_val = a.copy()
            lo_val[j] -= low
            up_val = a.copy()
            up_val[j] -= up
            rows.append((0.0, inf, idx, lo_val))
            rows.append((-inf, 0.0, idx, up_val))
    return rows


def _cuts(
    problem: Problem,
    labels: np.ndarray,
    centers: np.ndarray,
    col: np.ndarray,
    neighbours: list[np.ndarray],
) -> list[tuple[float, float, np.ndarray, np.ndarray]]:
    """Contiguity cuts for every piece of a territory cut off from its center."""
    piece = territory_pieces(problem, labels)
    rows = []
    for t, c in enumerate(centers.tolist()):
        members = np.flatnonzero(labels == t)
        for p in np.unique(piece[members]):
            comp = members[piece[members] == p]
            if piece[c] == p:
                continue
            around = _separator(comp, c, neighbours, problem.n)
            for u in comp.tolist():
                idx = np.concatenate([[col[u, c]], col[around, c]])
                val = np.concatenate([[1.0], -np.ones(len(around))])
                rows.append((-np.inf, 0.0, idx, val))
    return rows


def _separator(comp: np.ndarray, center: int, neighbours: list[np.ndarray], n: int) -> np.ndarray:
    """Return the units around ``comp`` that the center reaches without crossing it.

    The center may cross neither ``comp`` nor the rest of its border: a minimal set every path from
    ``comp`` to the center passes.
    """
    inside = np.zeros(n, dtype=bool)
    inside[comp] = True
    border = np.zeros(n, dtype=bool)
    for u in comp.tolist():
        border[neighbours[u]] = True
    border &= ~inside
    seen = inside.copy()
    seen[center] = True
    found = []
    stack = [center]
    if border[center]:
        return np.array([center])
    while stack:
        a = stack.pop()
        for v in neighbours[a].tolist():
            if seen[v]:
                continue
            seen[v] = True
            if border[v]:
                found.append(v)  # reached the border: stop here
            else:
                stack.append(v)
    return np.array(sorted(found), dtype=np.int64)
