r"""The balanced assignment model held in HiGHS as arrays, re-solved warm, columns priced in.

PuLP builds a Python object per variable, which costs more than HiGHS needs to solve the
model once units number in the thousands. Here the model of :mod:`geoterr.design.model` is
passed to HiGHS (``highspy``) as sparse arrays, and kept between the rounds of the design:
only the costs change when the centers move, so the next solve starts from the previous
basis.

Large instances do not get every unit x territory variable. The model starts with each unit's
nearest territories and elastic balance rows (a penalised slack on each range, so the
restricted model always has a solution); then, as in column generation, the reduced cost

.. math::

    \bar c_{ij} = c_{ij} - u_i - \sum_m a_{im} v_{jm}

of every missing pair is computed from the duals :math:`u, v` in one array operation, and the
pairs with :math:`\bar c_{ij} < 0` join the model until none is left. The result is the optimum
of the full model (a valid lower bound for any assignment to these centers), not of a model cut
down blindly to near territories, which clustered instances make infeasible.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
from scipy import sparse

from geoterr.design.assignment import pair_columns
from geoterr.design.constraints import allowed_pairs, pair_rows
from geoterr.design.highs_run import FAILED, HighsFailure, _new_highs, _status, run_highs
from geoterr.design.problem import Problem, unit_blocks

__all__ = [
    "HighsAssignment",
    "ScaledCosts",
    "add_sparse_rows",
    "cheapest",
    "fractional_assignment",
    "row_argmax",
]

log = logging.getLogger(__name__)

# Up to this many unit x territory pairs the model holds them all from the start.
ALL_PAIRS = 250_000
# Otherwise each unit starts with this many of its cheapest territories (pricing adds the
# others the optimum needs, so the LP's value does not depend on it, only its speed). Measured
# with the warm solves below (2026-12-03, one run each, design seconds): 100,000 customers
# into 50 territories 34.6 s with 8, 28.2 s with 4, 34.3 s with 3; 50,000 units into 100
# 35.7 s with 8, 27.1 s with 4, 30.3 s with 3.
START_PAIRS = 4
# Pairs priced in per unit and round.
ADD_PER_UNIT = 4
# Units per block of the reduced costs in pricing (about 8 MB of them at 1,000 territories).
ROW_BLOCK = 1024
SLACK_TOL = 1e-7
# HiGHS's simplex_strategy values: the dual simplex, the primal simplex. The dual is set, not
# left to HiGHS's choice: from a basis the primal simplex left, HiGHS chose the primal again,
# which took 19.5 s where the dual took 2 s.
DUAL, PRIMAL = 1, 4
# After pricing added at most this share of the units' count of columns, the primal simplex
# re-solves (the first LP of 100,000 customers into 50 territories: 3 steps in 0.4 s, where
# the dual simplex took 503 steps and 4.4 s); after more, the dual (1,562 new columns: the
# primal took 10.5 s, the dual 2.3 s).
PRIMAL_ADDED = 0.005
# While planning (not for bounds), the LP keeps each territory this share of its half-range
# inside the range (but no more than the heaviest unit's load), so that rounding the few
# split units rarely pushes a territory out: with ranges of +-5 % and units of 3-6 % of a
# territory, rounding to the exact ranges failed and the repairs could not recover
# (1,000,000 customers, 13,000 hexagons, 200 territories: "violated" -> "feasible").
LP_MARGIN = 0.3
# The LP sees costs scaled so that the largest is this: continental distances times large
# weights (1e7 and more) made HiGHS's dual simplex fail, and scaling down to 1 made it slow
# (its tolerances are absolute).
COST_TOP = 1e3


def _add_rows(h: Any, lower: np.ndarray, upper: np.ndarray) -> None:
    """Add empty ranged rows (their entries come with the columns)."""
    h.addRows(
        len(lower),
        lower,
        upper,
        0,
        np.zeros(1, dtype=np.int32),
        np.zeros(0, dtype=np.int32),
        np.zeros(0),
    )


def add_sparse_rows(h: Any, rows: list[tuple[float, float, np.ndarray, np.ndarray]]) -> None:
    """Add rows given as (lower, upper, column indices, values)."""
    lower = np.array([r[0] for r in rows], dtype=float)
    upper = np.array([r[1] for r in rows], dtype=float)
    sizes = np.array([len(r[2]) for r in rows], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int32)
    index = np.concatenate([r[2] for r in rows]).astype(np.int32)
    value = np.concatenate([r[3] for r in rows]).astype(float)
    h.addRows(len(rows), lower, upper, len(index), starts, index, value)


def fractional_assignment(
    units: np.ndarray, terrs: np.ndarray, values: np.ndarray, shape: tuple[int, int]
) -> sparse.csr_array:
    """Return the LP's assignment as a sparse (n, k) array of its positive values.

    The pairs are distinct; the array is in canonical form (sorted columns in each row), so
    its ``argmax`` breaks ties toward the lower territory, as a dense array's does.

    Examples
    --------
    >>> x = fractional_assignment(np.array([0, 0, 1]), np.array([2, 0, 1]),
    ...                           np.array([0.5, 0.5, 1.0]), (2, 3))
    >>> x.toarray().tolist(), x.argmax(axis=1).tolist()
    ([[0.5, 0.0, 0.5], [0.0, 1.0, 0.0]], [0, 1])
    """
    keep = values > 0
    x = sparse.csr_array((values[keep], (units[keep], terrs[keep])), shape=shape)
    x.sum_duplicates()
    return x


def row_argmax(x: sparse.csr_array) -> np.ndarray:
    """Return each row's column of its largest value, the lowest on ties (as ``np.argmax``).

    One pass over the stored values (scipy's own ``argmax(axis=1)`` walks the rows in Python:
    0.3 s for 100,000 rows). ``x`` in canonical form with values >= 0; a row with no stored
    value gives 0.

    Examples
    --------
    >>> x = fractional_assignment(np.array([0, 0, 1]), np.array([2, 0, 1]),
    ...                           np.array([0.5, 0.5, 1.0]), (3, 3))
    >>> row_argmax(x).tolist()
    [0, 1, 0]
    """
    n = x.shape[0]
    counts = np.diff(x.indptr)
    rows = np.repeat(np.arange(n), counts)
    top = np.zeros(n)
    np.maximum.at(top, rows, x.data)
    first = np.flatnonzero(x.data == top[rows])
    chosen, at = np.unique(rows[first], return_index=True)
    out = np.zeros(n, dtype=np.int64)
    out[chosen] = x.indices[first[at]]
    return out


def cost_factor(costs: np.ndarray) -> float:
    """Return what to multiply costs by so that the largest is COST_TOP (1 when all are 0)."""
    return _factor(float(costs.max(initial=0.0)), float(costs.min(initial=0.0)))


def _factor(high: float, low: float) -> float:
    """:func:`cost_factor` from the costs' largest and smallest values."""
    top = max(high, -low, 0.0)
    return COST_TOP / top if top > 1e-290 else 1.0


def cheapest(costs: np.ndarray, limit: int) -> np.ndarray:
    """Boolean mask of the same shape: each row's ``limit`` smallest entries."""
    n, k = costs.shape
    if limit >= k:
        return np.ones((n, k), dtype=bool)
    nearest = np.argpartition(costs, limit - 1, axis=1)[:, :limit]
    mask = np.zeros((n, k), dtype=bool)
    np.put_along_axis(mask, nearest, True, axis=1)
    return mask


class ScaledCosts:
    """An (n, k) cost array times a factor, each element made when it is read.

    Reading ``scaled[index]`` gives ``raw[index] * factor``, the same numbers as indexing the
    product of the whole array; ``max`` and ``min`` are those of the product (a positive
    factor keeps the order). Without ``factor``, it is :func:`cost_factor`'s. The raw
    extremes are found once (each is a pass over n x k numbers).
    """

    def __init__(self, raw: np.ndarray, factor: float | None = None) -> None:
        self.raw = raw
        self.shape, self.size = raw.shape, raw.size
        self._high = float(raw.max()) if raw.size else None
        self._low = float(raw.min()) if raw.size else None
        self.factor = _factor(self._high or 0.0, self._low or 0.0) if factor is None else factor

    def __getitem__(self, index: Any) -> np.ndarray:
        """Return the scaled costs at ``index`` (any numpy index of the raw array)."""
        return np.asarray(self.raw[index] * self.factor)

    def max(self) -> float:
        """Return the largest scaled cost."""
        if self._high is None:
            msg = "no costs"
            raise ValueError(msg)
        return float(self._high * self.factor)

    def min(self) -> float:
        """Return the smallest scaled cost."""
        if self._low is None:
            msg = "no costs"
            raise ValueError(msg)
        return float(self._low * self.factor)


class HighsAssignment:
    """The balanced assignment LP of one problem, kept in HiGHS between solves.

    Parameters
    ----------
    problem : Problem
        The arrays of the design problem; ``problem.locked`` units get only their territory.
    """

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.status = ""  # HiGHS's model status after the last solve
        n, k, m = problem.n, problem.k, problem.loads.shape[1]
        self.h = _new_highs(None)
        self.allowed = allowed_pairs(problem, None)
        self.present = np.zeros((n, k), dtype=bool)
        # HiGHS numbers its columns with 32-bit integers, so they fit (at half the memory)
        self.column = np.full((n, k), -1, dtype=np.int32)
        self.col_unit = np.empty(0, dtype=np.int64)
        self.col_terr = np.empty(0, dtype=np.int64)
        # Rows: n "one territory per unit" rows, k x m ranged balance rows, then one row per
        # constraint row (the realignment budget...), first at its LP bound: a reserve kept
        # for the rounding and the contiguity repairs, given up when balance needs it.
        self.extra = pair_rows(problem)
        self._extra_coef: list[np.ndarray] | None = None  # (n, k) per row, when first priced
        self.extra_at_lp = bool(self.extra)
        lower = np.concatenate(
            [np.ones(n), problem.lower.ravel(), np.full(len(self.extra), -np.inf)]
        )
        upper = np.concatenate(
            [np.ones(n), problem.upper.ravel(), [row.lp_upper for row in self.extra]]
        )
        _add_rows(self.h, lower, upper)
        self.margin = 0.0
        self.solved = False  # once solved, HiGHS's last basis starts the next solve
        # Elastic slacks, each with a large penalty: +s and -s on the balance rows, and -s on
        # each constraint row (a start of cheapest pairs may break a budget row too); a
        # slack left in the optimum means the full model has no solution.
        scale = np.maximum(problem.loads.mean(axis=0), 1e-12)
        row_scale = [
            max(
                abs(row.upper),
                float(np.abs(row.coef(np.arange(n), np.zeros(n, dtype=np.int64))).mean()),
                1e-12,
            )
            for row in self.extra
        ]
        self._slack_weight = np.concatenate(
            [np.tile(1.0 / scale, 2 * k), 1.0 / np.array(row_scale)]
        )
        self.n_slacks = 2 * k * m + len(self.extra)
        rows = n + np.arange(k * m)
        extra_rows = n + k * m + np.arange(len(self.extra))
        self.h.addCols(
            self.n_slacks,
            np.zeros(self.n_slacks),
            np.zeros(self.n_slacks),
            np.full(self.n_slacks, np.inf),
            self.n_slacks,
            np.arange(self.n_slacks + 1, dtype=np.int32)[:-1],
            np.concatenate([rows, rows, extra_rows]).astype(np.int32),
            np.concatenate([np.ones(k * m), -np.ones(k * m), -np.ones(len(self.extra))]),
        )

    def set_margin(self, share: float) -> None:
        """Keep every territory ``share`` of its half-range inside its range.

        0 gives the exact ranges, as for lower bounds; the margin is never more than the heaviest
        unit's load.
        """
        p = self.problem
        half = (p.upper - p.lower) / 2
        heaviest = p.loads.max(axis=0) if p.n else np.zeros(p.loads.shape[1])
        inset = np.minimum(share * half, heaviest)
        rows = p.n + np.arange(p.lower.size)
        self.h.changeRowsBounds(
            len(rows),
            rows.astype(np.int32),
            (p.lower + inset).ravel().astype(float),
            (p.upper - inset).ravel().astype(float),
        )
        self.margin = share

    def _add_pairs(self, units: np.ndarray, terrs: np.ndarray, costs: ScaledCosts) -> None:
        p = self.problem
        count = len(units)
        if count == 0:
            return
        csc = pair_columns(p, units, units, terrs, p.n, self.extra)
        upper = self.allowed[units, terrs].astype(float)
        self.h.addCols(
            count,
            costs[units, terrs].astype(float),
            np.zeros(count),
            upper,
            csc.nnz,
            csc.indptr[:-1].astype(np.int32),
            csc.indices.astype(np.int32),
            csc.data.astype(float),
        )
        self.present[units, terrs] = True
        self.column[units, terrs] = self.n_slacks + len(self.col_unit) + np.arange(count)
        self.col_unit = np.concatenate([self.col_unit, units])
        self.col_terr = np.concatenate([self.col_terr, terrs])

    def _set_penalty(self, costs: ScaledCosts, factor: float) -> None:
        top = float(costs.max()) if costs.size else 1.0
        penalty = self._slack_weight * max(top, 1e-9) * factor
        self.h.changeColsCost(
            self.n_slacks, np.arange(self.n_slacks, dtype=np.int32), penalty.astype(float)
        )

    def _cheapest_basis(self, costs: ScaledCosts) -> None:
        """Start the first solve from every unit in its cheapest territory.

        A basis that is dual feasible (no column has a negative reduced cost), so the dual simplex
        only has to restore the balance rows, which takes far fewer steps than a cold start.
        Later solves start from the previous solve's basis: the centers have moved a little,
        and the dual simplex from there took half the steps of this start (100,000 units into
        50 territories: 1.0-1.6 s a round instead of 1.9-2.8 s).
        """
        import highspy

        p = self.problem
        best = np.empty(p.n, dtype=np.int64)
        for block in unit_blocks(p.n, ROW_BLOCK):  # in blocks, as in _price
            best[block] = np.argmin(np.where(self.present[block], costs[block], np.inf), axis=1)
        status = np.full(self.n_slacks + len(self.col_unit), highspy.HighsBasisStatus.kLower)
        status[self.column[np.arange(p.n), best]] = highspy.HighsBasisStatus.kBasic
        rows = np.full(self.h.getNumRow(), highspy.HighsBasisStatus.kBasic)
        rows[: p.n] = highspy.HighsBasisStatus.kLower
        basis = highspy.HighsBasis()
        basis.col_status = list(status)
        basis.row_status = list(rows)
        basis.valid = True
        self.h.setBasis(basis)

    def _set_allowed(self, allowed: np.ndarray) -> None:
        """Permit only these pairs from now on: the columns of the others are held at 0."""
        changed = np.flatnonzero(
            allowed[self.col_unit, self.col_terr] != self.allowed[self.col_unit, self.col_terr]
        )
        self.allowed = allowed.copy()
        if len(changed):
            upper = allowed[self.col_unit[changed], self.col_terr[changed]].astype(float)
            self.h.changeColsBounds(
                len(changed),
                (self.n_slacks + changed).astype(np.int32),
                np.zeros(len(changed)),
                upper,
            )

    def _extra_duals(self, duals: np.ndarray) -> np.ndarray:
        """Return the constraints' rows' share of every pair's reduced cost, (n, k)."""
        p = self.problem
        n, k, m = p.n, p.k, p.loads.shape[1]
        if self._extra_coef is None:  # every pair's coefficient, once: the rows never change
            units, terrs = np.repeat(np.arange(n), k), np.tile(np.arange(k), n)
            self._extra_coef = [row.coef(units, terrs).reshape(n, k) for row in self.extra]
        share = np.zeros((n, k))
        for r, coef in enumerate(self._extra_coef):
            dual = duals[n + k * m + r]
            if dual != 0:
                share += dual * coef
        return share

    def _price(
        self, costs: ScaledCosts, duals: np.ndarray, blocked: np.ndarray, tolerance: float
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """Return the pairs to add: each unit's ADD_PER_UNIT most negative reduced costs (or None).

        The reduced costs are made :data:`ROW_BLOCK` units at a time (a whole (n, k) array and
        its temporaries cost more in fresh memory than in arithmetic once k is in the
        hundreds), and only the rows with a negative reduced cost are masked and sorted.
        """
        p = self.problem
        n, k = p.n, p.k
        u, v = duals[:n], duals[n : n + k * p.loads.shape[1]].reshape(k, -1)
        extra = self._extra_duals(duals) if self.extra else None
        units, terrs = [], []
        for block in unit_blocks(n, ROW_BLOCK):
            reduced = costs[block]  # a fresh array
            reduced -= u[block, None]
            reduced -= p.loads[block] @ v.T
            if extra is not None:
                reduced -= extra[block]
            negative = reduced < -tolerance
            negative &= ~blocked[block]
            rows = np.flatnonzero(negative.any(axis=1))
            if len(rows) == 0:
                continue
            part = reduced[rows]
            part[blocked[block][rows]] = np.inf
            r, t = np.nonzero(cheapest(part, ADD_PER_UNIT) & negative[rows])
            units.append(block.start + rows[r])
            terrs.append(t)
        if not units:
            return None
        return np.concatenate(units), np.concatenate(terrs)

    def exact_bounds(self) -> None:
        """Return the model's exact bounds, as a lower bound needs.

        No margin inside the ranges, and the constraint rows at their real bound (no reserve).
        """
        self.set_margin(0.0)
        self._give_up_reserve()

    def _give_up_reserve(self) -> bool:
        """Raise the constraints' rows from their LP bound to their real bound (once)."""
        if not self.extra_at_lp:
            return False
        self.extra_at_lp = False
        p = self.problem
        first = p.n + p.k * p.loads.shape[1]
        for r, row in enumerate(self.extra):
            self.h.changeRowBounds(first + r, -np.inf, row.upper)
        return True

    def _set_costs(self, scaled: ScaledCosts) -> None:
        """Give the model's columns these costs; the first time, choose its start columns.

        The start is every permitted pair up to :data:`ALL_PAIRS` pairs, else each unit's
        :data:`START_PAIRS` cheapest permitted territories.
        """
        if len(self.col_unit):
            self.h.changeColsCost(
                len(self.col_unit),
                (self.n_slacks + np.arange(len(self.col_unit))).astype(np.int32),
                scaled[self.col_unit, self.col_terr].astype(float),
            )
            return
        n, k = self.problem.n, self.problem.k
        if n * k <= ALL_PAIRS:
            want = self.allowed.copy()
        else:
            want = np.zeros((n, k), dtype=bool)
            for block in unit_blocks(n, ROW_BLOCK):
                masked = np.where(self.allowed[block], scaled[block], np.inf)
                want[block] = cheapest(masked, START_PAIRS) & self.allowed[block]
        units, terrs = np.nonzero(want)
        self._add_pairs(units, terrs, scaled)

    def solve(
        self,
        costs: np.ndarray,
        time_limit: float | None = None,
        allowed: np.ndarray | None = None,
    ) -> tuple[sparse.csr_array, float] | None:
        """Optimal fractional assignment for these costs, (x (n, k), objective).

        ``x`` is sparse (the model's pairs with a positive value, in canonical order): a dense
        one is n x k numbers, 1.6 GB at 200,000 units and 1,000 territories, for about one
        positive value per unit.

        None when the model has no solution (balance cannot hold) or time ran out. ``allowed``: the
        pairs the constraints permit for these costs' centers (default: as before).
        """
        p = self.problem
        n, k = p.n, p.k
        start = time.perf_counter()
        if allowed is not None:
            self._set_allowed(allowed)
        # HiGHS works on costs scaled to at most COST_TOP, made where they are read (a
        # scaled copy of every pair would be one more (n, k) array).
        scaled = ScaledCosts(costs)
        self._set_costs(scaled)
        factor = 1e3
        self._set_penalty(scaled, factor)
        if not self.solved:
            self._cheapest_basis(scaled)
        # The pairs pricing never offers (in the model, or forbidden), and the tolerance of a
        # negative reduced cost: both fixed for this solve, so kept out of the pricing loop.
        blocked = self.present | ~self.allowed
        tolerance = 1e-9 * max(1.0, float(scaled.max()), -float(scaled.min()))
        rounds, priced = 0, False
        while True:
            rounds += 1
            if time_limit is not None:
                left = time_limit - (time.perf_counter() - start)
                if left <= 0:
                    return None
                self.h.setOptionValue("time_limit", max(left, 0.05))
            # After pricing a few columns the basis is still primal feasible and only the new
            # columns price out, which the primal simplex takes in a few steps (the dual
            # simplex first restores dual feasibility: 100 times as long); see PRIMAL_ADDED.
            self.h.setOptionValue("simplex_strategy", PRIMAL if priced else DUAL)
            run_highs(self.h)
            self.solved = True
            priced = False
            status = self.status = _status(self.h)
            if status in FAILED:
                raise HighsFailure(status)
            if status != "Optimal":
                log.debug("assignment LP status %s", status)
                return None
            sol = self.h.getSolution()
            duals = np.asarray(sol.row_dual)
            found = self._price(scaled, duals, blocked, tolerance)
            if found is not None:
                self._add_pairs(found[0], found[1], scaled)
                blocked[found] = True
                priced = len(found[0]) <= PRIMAL_ADDED * n
                continue
            values = np.asarray(sol.col_value)
            slack = values[: self.n_slacks]
            if np.any(slack * self._slack_weight > SLACK_TOL):
                if self.margin > 0:  # the margin is a wish: drop it rather than fail
                    self.set_margin(0.0)
                    continue
                if factor < 1e9:
                    factor *= 1e3  # make sure balance was not traded for cost
                    self._set_penalty(scaled, factor)
                    continue
                if self._give_up_reserve():  # the reserve is needed for balance
                    continue
                log.debug("assignment LP: balance cannot hold (slack %.3g)", float(slack.sum()))
                return None
            share = values[self.n_slacks :]
            objective = float(np.sum(costs[self.col_unit, self.col_terr] * share))
            x = fractional_assignment(self.col_unit, self.col_terr, share, (n, k))
            log.debug(
                "assignment LP: %d pricing rounds, %d of %d pairs, %.2f s",
                rounds,
                len(self.col_unit),
                n * k,
                time.perf_counter() - start,
            )
            return x, objective
