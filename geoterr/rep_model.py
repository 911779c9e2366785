"""The rep-to-territory assignment model and the diagnosis of an infeasible one.

Used by :func:`geoterr.assign_reps`; see its docstring for the model.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pulp
from scipy import sparse
from scipy.sparse.csgraph import maximum_bipartite_matching

from geoterr._errors import InfeasibleError, SolverError, format_ids
from geoterr.design.model import is_highs, resolve_solver

__all__ = ["solve_assignment", "unmatched_reason"]


def unmatched_reason(
    allowed: np.ndarray, reps: list[str], territories: list[str], must_fill: str
) -> tuple[str, list[int], list[int]] | None:
    """Why no assignment fills every territory (``must_fill="territories"``) or places every
    rep (``"reps"``): a set of them that can only go to fewer partners (Hall's condition).

    Returns None when a matching saturating that side exists, else the reason in words with
    the positions of the set that cannot be served and of the partners it can go to.
    """
    graph = sparse.csr_matrix(allowed.T if must_fill == "territories" else allowed)
    # rows = the side that must be saturated
    match = maximum_bipartite_matching(graph, perm_type="column")
    free = np.flatnonzero(match < 0)
    if len(free) == 0:
        return None
    rows_of: list[np.ndarray] = [
        graph.indices[graph.indptr[i] : graph.indptr[i + 1]] for i in range(graph.shape[0])
    ]
    partner = np.full(graph.shape[1], -1)
    partner[match[match >= 0]] = np.flatnonzero(match >= 0)
    # alternating search from one free row: rows reached and their columns violate Hall
    seen_rows, seen_cols = {int(free[0])}, set()
    stack = [int(free[0])]
    while stack:
        r = stack.pop()
        for c in rows_of[r]:
            c = int(c)
            if c in seen_cols:
                continue
            seen_cols.add(c)
            p = int(partner[c])
            if p >= 0 and p not in seen_rows:
                seen_rows.add(p)
                stack.append(p)
    side, other = (territories, reps) if must_fill == "territories" else (reps, territories)
    rows = sorted(seen_rows)
    cols = sorted(seen_cols)
    text = (
        f"{len(rows)} {'territories' if must_fill == 'territories' else 'reps'} "
        f"({format_ids([side[i] for i in rows])}) can only go to "
        f"{len(cols)} {'reps' if must_fill == 'territories' else 'territories'}"
        f"{' (' + format_ids([other[i] for i in cols]) + ')' if cols else ''}"
    )
    return text, rows, cols


def solve_assignment(
    cost: np.ndarray,
    allowed: np.ndarray,
    kept: np.ndarray,
    *,
    rep_rows: str,
    territory_rows: str,
    min_kept: int | None,
    solver: Any,
    time_limit: float | None,
) -> np.ndarray:
    """Best 0/1 rep x territory assignment.

    Parameters
    ----------
    cost, allowed, kept : (R, T) arrays
        Pair costs, allowed pairs, current pairs.
    rep_rows, territory_rows : {"==", "<="}
        Each rep (territory) gets exactly one / at most one partner.
    min_kept : int, optional
        At least this many current pairs kept.

    Returns
    -------
    ndarray
        (R,) territory position of each rep, -1 for none.
    """
    r, t = np.nonzero(allowed)
    n_r, n_t = allowed.shape
    c = cost[r, t].astype(float)
    top = float(np.abs(c).max(initial=0.0))
    c = c * (1e3 / top) if top > 0 else c
    rows = [r, n_r + t]
    row_lo = [np.full(n_r, 1.0 if rep_rows == "==" else 0.0)]
    row_lo.append(np.full(n_t, 1.0 if territory_rows == "==" else 0.0))
    row_up = [np.ones(n_r), np.ones(n_t)]
    values = [np.ones(len(r)), np.ones(len(r))]
    cols = [np.arange(len(r)), np.arange(len(r))]
    if min_kept:
        k = np.flatnonzero(kept[r, t])
        rows.append(np.full(len(k), n_r + n_t))
        cols.append(k)
        values.append(np.ones(len(k)))
        row_lo.append(np.array([float(min_kept)]))
        row_up.append(np.array([np.inf]))
    matrix = sparse.csc_matrix(
        (np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))),
        shape=(n_r + n_t + (1 if min_kept else 0), len(r)),
    )
    engine = resolve_solver(solver, time_limit)
    if is_highs(engine):
        x = _solve_highs(c, matrix, np.concatenate(row_lo), np.concatenate(row_up), time_limit)
    else:
        x = _solve_pulp(c, matrix, np.concatenate(row_lo), np.concatenate(row_up), engine)
    out = np.full(n_r, -1, dtype=np.int64)
    chosen = x > 0.5
    out[r[chosen]] = t[chosen]
    return out


def _solve_highs(
    c: np.ndarray, a: sparse.csc_matrix, lo: np.ndarray, up: np.ndarray, limit: float | None
) -> np.ndarray:
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("log_to_console", False)
    if limit is not None:
        h.setOptionValue("time_limit", max(float(limit), 0.05))
    lp = highspy.HighsLp()
    lp.num_col_ = a.shape[1]
    lp.num_row_ = a.shape[0]
    lp.col_cost_ = c
    lp.col_lower_ = np.zeros(a.shape[1])
    lp.col_upper_ = np.ones(a.shape[1])
    lp.row_lower_ = lo
    lp.row_upper_ = up
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr.astype(np.int32)
    lp.a_matrix_.index_ = a.indices.astype(np.int32)
    lp.a_matrix_.value_ = a.data.astype(float)
    lp.integrality_ = [highspy.HighsVarType.kInteger] * a.shape[1]
    h.passModel(lp)
    h.run()
    status = str(h.modelStatusToString(h.getModelStatus()))
    if status == "Infeasible":
        raise InfeasibleError("no assignment of reps to territories keeps every requirement.")
    if h.getInfo().primal_solution_status != 2:
        msg = f"HiGHS found no rep assignment (status: {status}); raise `time_limit`."
        raise SolverError(msg)
    return np.asarray(h.getSolution().col_value)


def _solve_pulp(
    c: np.ndarray, a: sparse.csc_matrix, lo: np.ndarray, up: np.ndarray, engine: Any
) -> np.ndarray:
    model = pulp.LpProblem("reps", pulp.LpMinimize)
    x = [pulp.LpVariable(f"x{i}", cat="Binary") for i in range(a.shape[1])]
    model += pulp.lpSum(float(ci) * xi for ci, xi in zip(c, x, strict=True))
    rows = a.tocsr()
    for i in range(rows.shape[0]):
        cols = rows.indices[rows.indptr[i] : rows.indptr[i + 1]]
        expr = pulp.lpSum(x[j] for j in cols)
        if lo[i] == up[i]:
            model += expr == float(lo[i])
        else:
            if lo[i] > 0:
                model += expr >= float(lo[i])
            if np.isfinite(up[i]):
                model += expr <= float(up[i])
    model.solve(engine)
    status = pulp.LpStatus[model.status]
    if status == "Infeasible":
        raise InfeasibleError("no assignment of reps to territories keeps every requirement.")
    if status != "Optimal":
        msg = f"the solver found no rep assignment (status: {status})."
        raise SolverError(msg)
    return np.array([xi.value() or 0.0 for xi in x])
