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
from geoterr.design.highs_run import quiet_highs
from geoterr.design.model import is_highs, resolve_solver

__all__ = ["solve_assignment", "unmatched_reason"]


def unmatched_reason(
    allowed: np.ndarray, reps: list[str], territories: list[str], must_fill: str
) -> tuple[str, list[int], list[int]] | None:
    """Say why no assignment fills every territory or places every rep.

    For ``must_fill="territories"`` or ``"reps"``: a set of them that can only go to fewer partners
    (Hall's condition).

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


# Up to this many allowed pairs the whole 0/1 model goes to the solver; above it, HiGHS
# solves the LP over a subset of pairs (each territory's and each rep's CANDIDATES cheapest
# partners, the current pairs and a feasible matching) and adds every pair whose reduced cost
# is negative until none is left: the LP optimum over all pairs. Without `min_kept` the
# model is an assignment problem (totally unimodular), so that optimum is a 0/1 assignment.
FULL_PAIRS = 20_000
CANDIDATES = 12
MAX_ROUNDS = 60


def _rows(
    r: np.ndarray,
    t: np.ndarray,
    kept_pair: np.ndarray,
    shape: tuple[int, int],
    rep_rows: str,
    territory_rows: str,
    min_kept: int | None,
) -> tuple[sparse.csc_matrix, np.ndarray, np.ndarray]:
    """Return the constraint matrix over pairs (r, t) and its row bounds."""
    n_r, n_t = shape
    rows = [r, n_r + t]
    cols = [np.arange(len(r)), np.arange(len(r))]
    lo = [np.full(n_r, 1.0 if rep_rows == "==" else 0.0)]
    lo.append(np.full(n_t, 1.0 if territory_rows == "==" else 0.0))
    up = [np.ones(n_r), np.ones(n_t)]
    if min_kept:
        k = np.flatnonzero(kept_pair)
        rows.append(np.full(len(k), n_r + n_t))
        cols.append(k)
        lo.append(np.array([float(min_kept)]))
        up.append(np.array([np.inf]))
    n_rows = n_r + n_t + (1 if min_kept else 0)
    values = np.ones(sum(len(x) for x in rows))
    matrix = sparse.csc_matrix(
        (values, (np.concatenate(rows), np.concatenate(cols))), shape=(n_rows, len(r))
    )
    return matrix, np.concatenate(lo), np.concatenate(up)


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
    top = float(np.abs(cost[allowed]).max(initial=0.0))
    scaled = cost * (1e3 / top) if top > 0 else cost.astype(float)
    engine = resolve_solver(solver, time_limit)
    if is_highs(engine) and int(allowed.sum()) > FULL_PAIRS:
        r, t, x = _priced_lp(scaled, allowed, kept, rep_rows, territory_rows, min_kept, time_limit)
        whole = bool(np.all((x < 1e-6) | (x > 1 - 1e-6)))
    else:
        r, t = np.nonzero(allowed)
        whole = False
    if min_kept or not whole:
        matrix, lo, up = _rows(r, t, kept[r, t], allowed.shape, rep_rows, territory_rows, min_kept)
        c = scaled[r, t]
        if is_highs(engine):
            x = _solve_highs(c, matrix, lo, up, time_limit, integer=True)[0]
        else:
            x = _solve_pulp(c, matrix, lo, up, engine)
    out = np.full(allowed.shape[0], -1, dtype=np.int64)
    chosen = x > 0.5
    out[r[chosen]] = t[chosen]
    return out


def _start_pairs(cost: np.ndarray, allowed: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """Each territory's and rep's cheapest allowed partners, current pairs, a matching."""
    big = np.where(allowed, cost, np.inf)
    n_r, n_t = allowed.shape
    subset = allowed & kept
    k_t, k_r = min(CANDIDATES, n_r), min(CANDIDATES, n_t)
    best_reps = np.argpartition(big, k_t - 1, axis=0)[:k_t]
    subset[best_reps, np.arange(n_t)[None, :]] = True
    best_terr = np.argpartition(big, k_r - 1, axis=1)[:, :k_r]
    subset[np.arange(n_r)[:, None], best_terr] = True
    match = maximum_bipartite_matching(sparse.csr_matrix(allowed), perm_type="column")
    matched = np.flatnonzero(match >= 0)
    subset[matched, match[matched]] = True
    return np.asarray(subset & allowed)


def _priced_lp(
    cost: np.ndarray,
    allowed: np.ndarray,
    kept: np.ndarray,
    rep_rows: str,
    territory_rows: str,
    min_kept: int | None,
    time_limit: float | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return an LP optimum over all allowed pairs by pricing (see FULL_PAIRS).

    The pairs of the final LP (rep, territory positions) and their values. Columns are added to one
    HiGHS model, so every round starts from the last basis.
    """
    n_r, n_t = allowed.shape
    subset = _start_pairs(cost, allowed, kept)
    r, t = np.nonzero(subset)
    matrix, lo, up = _rows(r, t, kept[r, t], allowed.shape, rep_rows, territory_rows, min_kept)
    h = _highs_model(cost[r, t], matrix, lo, up, time_limit, integer=False)
    for _ in range(MAX_ROUNDS):
        h.run()
        _check(h)
        dual = np.asarray(h.getSolution().row_dual)
        reduced = cost - dual[:n_r, None] - dual[None, n_r : n_r + n_t]
        if min_kept:
            reduced = reduced - kept * dual[n_r + n_t]
        scores = np.where(allowed & ~subset, reduced, np.inf)
        take = min(CANDIDATES, n_t)
        best = np.argpartition(scores, take - 1, axis=1)[:, :take]
        new_r = np.repeat(np.arange(n_r), take)
        new_t = best.ravel()
        ok = scores[new_r, new_t] < -1e-7
        if not ok.any():
            return r, t, np.asarray(h.getSolution().col_value)
        new_r, new_t = new_r[ok], new_t[ok]
        subset[new_r, new_t] = True
        add, _, _ = _rows(
            new_r, new_t, kept[new_r, new_t], allowed.shape, rep_rows, territory_rows, min_kept
        )
        h.addCols(
            len(new_r),
            cost[new_r, new_t],
            np.zeros(len(new_r)),
            np.ones(len(new_r)),
            add.nnz,
            add.indptr[:-1].astype(np.int32),
            add.indices.astype(np.int32),
            add.data.astype(float),
        )
        r, t = np.concatenate([r, new_r]), np.concatenate([t, new_t])
    r, t = np.nonzero(allowed)  # no convergence: the whole model
    matrix, lo, up = _rows(r, t, kept[r, t], allowed.shape, rep_rows, territory_rows, min_kept)
    return r, t, _solve_highs(cost[r, t], matrix, lo, up, time_limit, integer=False)[0]


def _check(h: Any) -> None:
    status = str(h.modelStatusToString(h.getModelStatus()))
    if status == "Infeasible":
        msg = "no assignment of reps to territories keeps every requirement."
        raise InfeasibleError(msg)
    if h.getInfo().primal_solution_status != 2:
        msg = f"HiGHS found no rep assignment (status: {status}); raise `time_limit`."
        raise SolverError(msg)


def _highs_model(
    c: np.ndarray,
    a: sparse.csc_matrix,
    lo: np.ndarray,
    up: np.ndarray,
    limit: float | None,
    *,
    integer: bool,
) -> Any:
    import highspy

    h = quiet_highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("log_to_console", False)
    if limit is not None:
        h.setOptionValue("time_limit", max(float(limit), 0.05))
    if not integer:
        h.setOptionValue("solver", "simplex")
    lp = highspy.HighsLp()
    lp.num_col_ = a.shape[1]
    lp.num_row_ = a.shape[0]
    lp.col_cost_ = np.asarray(c, dtype=float)
    lp.col_lower_ = np.zeros(a.shape[1])
    lp.col_upper_ = np.ones(a.shape[1])
    lp.row_lower_ = lo
    lp.row_upper_ = up
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr.astype(np.int32)
    lp.a_matrix_.index_ = a.indices.astype(np.int32)
    lp.a_matrix_.value_ = a.data.astype(float)
    if integer:
        lp.integrality_ = [highspy.HighsVarType.kInteger] * a.shape[1]
    h.passModel(lp)
    return h


def _solve_highs(
    c: np.ndarray,
    a: sparse.csc_matrix,
    lo: np.ndarray,
    up: np.ndarray,
    limit: float | None,
    *,
    integer: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Column values and row duals (zeros for a MIP)."""
    h = _highs_model(c, a, lo, up, limit, integer=integer)
    h.run()
    _check(h)
    solution = h.getSolution()
    dual = np.asarray(solution.row_dual) if not integer else np.zeros(a.shape[0])
    return np.asarray(solution.col_value), dual


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
        msg = "no assignment of reps to territories keeps every requirement."
        raise InfeasibleError(msg)
    if status != "Optimal":
        msg = f"the solver found no rep assignment (status: {status})."
        raise SolverError(msg)
    return np.array([xi.value() or 0.0 for xi in x])
