r"""The optimum of a small instance by enumeration: every possible territory, then the best k.

When centers are units (a cost matrix) and the units admit few connected groups whose loads
fit the range, :func:`~geoterr.design.split_search.every_group` lists them all. Each group
:math:`S` is priced at its best allowed center, :math:`c_S = \min_{j \in S} \sum_{i \in S}
c_{ij}`, and the plan is the set partitioning problem over all of them:

.. math::

    \min \sum_S c_S y_S \quad\text{s.t.}\quad \sum_{S \ni i} y_S = 1 \;\; \forall i, \quad
    \sum_S y_S = k, \quad y_S \in \{0, 1\}.

Every contiguous plan within the ranges is such a choice, so the solution is the optimum over
all plans and all centers, and a problem without a solution proves that no plan exists. It
replaces the exact model (:mod:`geoterr.design.exact`) where it applies: Maine's 16 counties
into 2 have 122 such groups, solved in a fraction of a second, where the exact model took
over 200 s to prove the same optimum. The search stops after
:data:`~geoterr.design.strategy.ENUM_STEPS` steps (New Mexico's 33 counties into 3 have
hundreds of thousands of groups: it then concludes nothing).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from geoterr.design import strategy as st
from geoterr.design.constraints import allowed_pairs
from geoterr.design.highs_model import add_sparse_rows
from geoterr.design.highs_run import _new_highs, _status, run_highs
from geoterr.design.problem import Problem
from geoterr.design.split_search import every_group
from geoterr.design.territory_lp import best_center

__all__ = ["Enumerated", "enumerated_optimum"]


@dataclass(frozen=True)
class Enumerated:
    """What the enumeration established.

    Attributes
    ----------
    labels, centers : ndarray or None
        The optimal plan (territory of each unit, center unit of each territory); None when
        no plan exists.
    value : float
        Its objective (``inf`` when no plan exists).
    groups : int
        Connected groups within the range (the territories a plan can use).
    """

    labels: np.ndarray | None
    centers: np.ndarray | None
    value: float
    groups: int


def _priced(problem: Problem, groups: list[list[int]]) -> tuple[list[int], list[int], list[float]]:
    """Return the groups with an allowed center: their indexes, best centers and costs."""
    n = problem.n
    cost = problem.costs(np.arange(n))  # (n, n): unit i served from the center at unit j
    allowed = allowed_pairs(problem, np.arange(n))
    kept, centers, prices = [], [], []
    for g, members in enumerate(groups):
        price, center = best_center(cost, np.asarray(members), allowed)
        if np.isfinite(price):
            kept.append(g)
            centers.append(center)
            prices.append(price)
    return kept, centers, prices


def enumerated_optimum(problem: Problem) -> tuple[Enumerated | None, bool]:
    """Return the optimum over every plan when the connected groups within range are few.

    Parameters
    ----------
    problem : Problem
        With a cost matrix and the same range for every territory (as the exact model).

    Returns
    -------
    (Enumerated or None, bool)
        The optimum (or the proof that no plan exists), or None when the groups are too many
        to list within ENUM_STEPS steps; and whether the search's seconds (a safety net)
        stopped it.
    """
    if len(problem.current) and bool(np.any(problem.current >= 0)):
        return None, False  # a realignment: its costs and budget are per territory
    groups, late = every_group(problem, st.ENUM_STEPS, st.ENUM_SECONDS)
    if groups is None:
        return None, late
    kept, centers, prices = _priced(problem, groups)
    n, k = problem.n, problem.k
    if not kept:
        return Enumerated(None, None, float("inf"), 0), False
    import highspy

    h = _new_highs(st.ENUM_SECONDS, mip_gap=1e-9)
    m = len(kept)
    scale = max(max(prices), 1e-12)
    h.addVars(m, np.zeros(m), np.ones(m))
    h.changeColsCost(m, np.arange(m, dtype=np.int32), np.asarray(prices) / scale)
    h.changeColsIntegrality(
        m, np.arange(m, dtype=np.int32), np.full(m, highspy.HighsVarType.kInteger)
    )
    covers: list[list[int]] = [[] for _ in range(n)]
    for col, g in enumerate(kept):
        for i in groups[g]:
            covers[i].append(col)
    rows = [(1.0, 1.0, np.asarray(c, dtype=np.int32), np.ones(len(c))) for c in covers]
    rows.append((float(k), float(k), np.arange(m, dtype=np.int32), np.ones(m)))
    add_sparse_rows(h, rows)
    run_highs(h)
    status = _status(h)
    if status == "Infeasible":
        return Enumerated(None, None, float("inf"), m), False
    if status != "Optimal":
        return None, True  # stopped by its seconds
    chosen = np.flatnonzero(np.asarray(h.getSolution().col_value) > 0.5)
    labels = np.empty(n, dtype=np.int64)
    for t, col in enumerate(chosen.tolist()):
        labels[groups[kept[col]]] = t
    plan_centers = np.array([centers[col] for col in chosen.tolist()], dtype=np.int64)
    value = float(sum(prices[col] for col in chosen.tolist()))
    return Enumerated(labels, plan_centers, value, m), False
