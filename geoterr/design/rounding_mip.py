"""The small MIP that rounds the assignment LP's split units, in HiGHS.

A basic LP optimum splits about one unit per balance row; :func:`solve_small_mip` gives each
of them one territory among those it may join, the other units held at theirs, so that every
range still holds where it can. :func:`assignment_mip` builds such a 0/1 model over any set of
unit x territory pairs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from geoterr.design.assignment import assignment_rows, to_highs
from geoterr.design.highs_model import cost_factor
from geoterr.design.highs_run import _new_highs, _status, run_highs
from geoterr.design.problem import Problem

__all__ = ["assignment_mip", "solve_small_mip"]


def assignment_mip(
    problem: Problem,
    costs: np.ndarray,
    units: np.ndarray,
    terrs: np.ndarray,
    fixed: np.ndarray,
    time_limit: float | None,
    mip_gap: float,
) -> Any:
    """Return HiGHS holding the 0/1 assignment over the pairs (``units[p]``, ``terrs[p]``).

    The other units are fixed at their territory in ``fixed`` (labels, -1 for the units in the
    model); built by :func:`geoterr.design.assignment.assignment_rows`. Columns are the pairs, in
    order; costs are scaled as for the LP.
    """
    model = assignment_rows(problem, costs, units, terrs, integer=True, fixed=fixed)
    model.cost = model.cost * cost_factor(model.cost)
    return to_highs(model, _new_highs(time_limit, mip_gap=mip_gap))


def solve_small_mip(
    problem: Problem,
    costs: np.ndarray,
    units: np.ndarray,
    allowed: np.ndarray,
    fixed: np.ndarray,
    time_limit: float | None,
) -> np.ndarray | None:
    """Return the best 0/1 assignment of ``units`` (positions) among ``allowed`` territories.

    ``allowed`` is (len(units), k); the other units are fixed at their territory in ``fixed``
    (labels, -1 for ``units``).

    Returns the territory of each of ``units``, or None when no assignment keeps the ranges.
    """
    r, t = np.nonzero(allowed)
    h = assignment_mip(problem, costs, units[r], t, fixed, time_limit, 1e-6)
    run_highs(h)
    if (
        _status(h) not in ("Optimal", "Time limit reached")
        or h.getInfo().primal_solution_status != 2
    ):
        return None
    values = np.asarray(h.getSolution().col_value)
    out = np.full(len(units), -1, dtype=np.int64)
    chosen = values > 0.5
    out[r[chosen]] = t[chosen]
    return out if np.all(out >= 0) else None
