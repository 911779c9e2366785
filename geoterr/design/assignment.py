r"""The balanced assignment model, built once as sparse arrays, for HiGHS or for PuLP.

Over pairs :math:`(i, j)` of a unit and a territory, with pair costs :math:`c_{ij}`:

.. math::

    \min \sum c_{ij} x_{ij} \quad\text{s.t.}\quad
    \sum_j x_{ij} = 1 \;\forall i,\qquad
    L_{jm} - F_{jm} \le \sum_i a_{im} x_{ij} \le U_{jm} - F_{jm} \;\forall j, m,\qquad
    \sum g^r_{ij} x_{ij} \le b_r - f_r \;\forall r

where :math:`F` is the load of the units not in the model (fixed where they are), and each
row :math:`r` comes from a constraint (:meth:`geoterr.design.constraints.Constraint.rows`,
e.g. the realignment budget) with :math:`f_r` spent by the fixed units. Every model of an
assignment to given territories (the LP of each round, its rounding MIP, the contiguous
assignment) is this one over different pairs; the rows are assembled here with
``scipy.sparse`` and handed to HiGHS (:func:`to_highs`) or to PuLP for other solvers
(:func:`to_pulp`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from geoterr.design.constraints import PairRow, pair_rows
from geoterr.design.problem import Problem

__all__ = ["AssignmentRows", "assignment_rows", "pair_columns", "to_highs", "to_pulp"]


def pair_columns(
    problem: Problem,
    unit_row: np.ndarray,
    units: np.ndarray,
    terrs: np.ndarray,
    n_unit_rows: int,
    extra: list[PairRow],
) -> sp.csc_matrix:
    """Return the columns of the pairs (``units[p]``, ``terrs[p]``).

    1 in row ``unit_row[p]``, the unit's loads in its territory's balance rows (after the
    ``n_unit_rows`` unit rows, k x m of them, measure fastest), then each extra row's coefficient.
    """
    count, m, k = len(units), problem.loads.shape[1], problem.k
    cols = np.arange(count)
    rows = [unit_row, (n_unit_rows + terrs[:, None] * m + np.arange(m)[None, :]).ravel()]
    values = [np.ones(count), problem.loads[units].ravel()]
    where = [cols, np.repeat(cols, m)]
    first = n_unit_rows + k * m
    for r, row in enumerate(extra):
        coef = np.asarray(row.coef(units, terrs), dtype=float)
        rows.append(np.full(count, first + r))
        values.append(coef)
        where.append(cols)
    shape = (first + len(extra), count)
    matrix = sp.csc_matrix(
        (np.concatenate(values), (np.concatenate(rows), np.concatenate(where))), shape=shape
    )
    matrix.eliminate_zeros()
    return matrix


@dataclass
class AssignmentRows:
    """One balanced assignment model as arrays.

    Attributes
    ----------
    units, terrs : ndarray (p,)
        The pair of each column.
    cost : ndarray (p,)
        Each column's cost.
    matrix : scipy.sparse.csc_matrix (rows, p)
        Unit rows, then k x m balance rows, then the constraints' rows.
    lower, upper : ndarray (rows,)
        The row bounds.
    integer : bool
        0/1 columns (a MIP) rather than [0, 1].
    """

    units: np.ndarray
    terrs: np.ndarray
    cost: np.ndarray
    matrix: sp.csc_matrix
    lower: np.ndarray
    upper: np.ndarray
    integer: bool


def assignment_rows(
    problem: Problem,
    costs: np.ndarray,
    units: np.ndarray,
    terrs: np.ndarray,
    *,
    integer: bool,
    fixed: np.ndarray | None = None,
    lp_reserve: bool = False,
) -> AssignmentRows:
    """Build the model over the pairs (``units[p]``, ``terrs[p]``) with pair costs ``costs``.

    ``costs`` is (n, k); the units outside the pairs stay at their territory in ``fixed``
    (labels, -1 for the units in the model; None: every unit is in the model). With
    ``lp_reserve``, the constraints' rows use their LP bound (a reserve for the rounding and
    repairs).
    """
    units = np.asarray(units, dtype=np.int64)
    terrs = np.asarray(terrs, dtype=np.int64)
    members = np.unique(units)
    unit_row = np.searchsorted(members, units)
    extra = pair_rows(problem)
    fixed_load = np.zeros_like(problem.lower)
    spent = np.zeros(len(extra))
    if fixed is not None:
        out = np.flatnonzero(fixed >= 0)
        np.add.at(fixed_load, fixed[out], problem.loads[out])
        spent = np.array([float(row.coef(out, fixed[out]).sum()) for row in extra])
    bound = np.array([row.lp_upper if lp_reserve else row.upper for row in extra])
    lower = np.concatenate(
        [np.ones(len(members)), (problem.lower - fixed_load).ravel(), np.full(len(extra), -np.inf)]
    )
    upper = np.concatenate(
        [np.ones(len(members)), (problem.upper - fixed_load).ravel(), bound - spent]
    )
    matrix = pair_columns(problem, unit_row, units, terrs, len(members), extra)
    cost = np.asarray(costs[units, terrs], dtype=float)
    return AssignmentRows(units, terrs, cost, matrix, lower, upper, integer)


def to_highs(model: AssignmentRows, h: Any) -> Any:
    """Load ``model`` into the empty HiGHS instance ``h`` (rows, then the columns)."""
    import highspy

    n_rows, count = model.matrix.shape
    h.addRows(
        n_rows,
        model.lower,
        model.upper,
        0,
        np.zeros(1, dtype=np.int32),
        np.zeros(0, dtype=np.int32),
        np.zeros(0),
    )
    csc = model.matrix
    h.addCols(
        count,
        model.cost,
        np.zeros(count),
        np.ones(count),
        csc.nnz,
        csc.indptr[:-1].astype(np.int32),
        csc.indices.astype(np.int32),
        csc.data.astype(float),
    )
    if model.integer and count:
        h.changeColsIntegrality(
            count,
            np.arange(count, dtype=np.int32),
            np.full(count, highspy.HighsVarType.kInteger),
        )
    return h


def to_pulp(model: AssignmentRows, name: str) -> tuple[Any, list[Any]]:
    """``model`` as a PuLP problem and its variables, one per column in order."""
    import pulp

    prob = pulp.LpProblem(name, pulp.LpMinimize)
    cat = pulp.LpBinary if model.integer else pulp.LpContinuous
    var = [
        prob.add_variable(f"x_{i}_{j}", 0, 1, cat=cat)
        for i, j in zip(model.units.tolist(), model.terrs.tolist(), strict=True)
    ]
    prob += pulp.LpAffineExpression(list(zip(var, model.cost.tolist(), strict=True)))
    csr = model.matrix.tocsr()
    for r in range(csr.shape[0]):
        lo, up = float(model.lower[r]), float(model.upper[r])
        span = slice(csr.indptr[r], csr.indptr[r + 1])
        terms = [(var[c], float(v)) for c, v in zip(csr.indices[span], csr.data[span], strict=True)]
        if not terms and lo <= 0 <= up:
            continue
        expr = pulp.LpAffineExpression(terms)
        if lo == up:
            prob += expr == lo, f"r{r}"
            continue
        if np.isfinite(up):
            prob += expr <= up, f"u{r}"
        if np.isfinite(lo):
            prob += expr >= lo, f"l{r}"
    return prob, var
