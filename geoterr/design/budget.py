r"""Realignment budgets (``design(current=..., max_moved=...)``).

A start that spends the budget only on balance, and, when no plan keeps the tolerance within the
budget, what would.

Two numbers answer "what budget would work?":

- a **budget that works**: the moves of a plan found from the current territories with no
  limit, spending only on moves that bring territories into their ranges (a plan that keeps
  every promise: proof by example);
- the **least change any plan needs**: the linear relaxation of "move as little as possible
  while every territory is inside its range" (contiguity left out, so it is a lower bound):

  .. math::

      \min \sum_i a_i (1 - x_{i,c_i}) \quad \text{s.t.} \quad \sum_j x_{ij} = 1, \quad
      L_{jm} \le \sum_i w_{im} x_{ij} \le U_{jm}, \quad 0 \le x_{ij} \le 1,

  with :math:`a_i` what moving unit :math:`i` spends (its customers, or its load) and
  :math:`c_i` its current territory; pinned units and kept territories as in the design.

For the budget given, the best plan found says how close to the tolerance it gets.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import deque
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from geoterr._errors import format_number as _n
from geoterr.design.constraints import allowed_pairs
from geoterr.design.local_search import Search
from geoterr.design.problem import Problem
from geoterr.design.violations import violation

__all__ = ["budget_advice", "budget_start", "least_moves", "working_budget", "worst_deviation"]

log = logging.getLogger(__name__)

# The relaxations are skipped above this many unit x territory pairs (they stay fast below).
LP_PAIRS = 2_000_000
LP_SECONDS = 20.0


def current_labels(problem: Problem, costs: np.ndarray) -> np.ndarray:
    """Return the current plan as labels.

    Units without a current territory (new customers) join the territory of their nearest labelled
    neighbour (breadth-first), else their cheapest.
    """
    labels = problem.current.copy()
    pinned = problem.locked >= 0
    labels[pinned] = problem.locked[pinned]
    queue = deque(np.flatnonzero(labels >= 0).tolist())
    while queue:
        u = queue.popleft()
        for v in problem.adjacency[u]:
            if labels[v] < 0:
                labels[v] = labels[u]
                queue.append(v)
    left = np.flatnonzero(labels < 0)
    if len(left):
        labels[left] = np.argmin(costs[left], axis=1)
    return labels


def budget_start(
    problem: Problem, costs: np.ndarray, *, polish: bool = True
) -> tuple[np.ndarray, float]:
    """Return a plan from the current territories that spends the budget only on balance.

    From the current plan: detached pieces join a neighbour, border units move until every
    territory is inside its range (no limit), then every moved unit whose return keeps both
    territories in range and connected goes back (:meth:`Search.refund`). When that plan
    spends more than the budget, two plans within it compete: that plan with moved units sent
    home until it fits (:meth:`Search.trim`, least violation per refund first), and the
    balance moves again from the current plan within the budget, by the most violation
    removed per customer (or load) spent; the one closer to the ranges is kept. With
    ``polish``, cheaper border moves follow within the budget. Returns (labels, violation).
    """
    free = dataclasses.replace(problem, budget=float("inf"))
    start = current_labels(problem, costs)
    # The balance moves ignore distance (ties go by unit order), so that the same problem
    # gives the same plan whatever the centers of the moment: the budget found to work in
    # one design is found again in a design with that budget.
    flat = np.zeros_like(costs)
    search = Search(free, start, flat)
    search.make_contiguous()
    search.restore_balance()
    search.refund()
    labels = search.labels
    if np.isfinite(problem.budget) and problem.moved_amount(labels) > problem.budget + 1e-9:
        # Two plans within the budget: that plan with its least useful moves sent home, and
        # the balance moves again from the current plan, by violation removed per spend.
        search.trim(problem.budget)
        trimmed = search.labels
        search = Search(problem, start, flat, per_spend=True)
        search.make_contiguous()
        search.restore_balance()
        labels = min((trimmed, search.labels), key=lambda lab: violation(problem, lab, None))
    if polish:
        search = Search(problem, labels, costs)
        search.improve()
        labels = search.labels
    return labels, violation(problem, labels, None)


def working_budget(problem: Problem, costs: np.ndarray) -> tuple[np.ndarray, float] | None:
    """Find a plan keeping every promise with as little change as the search finds.

    Returns the plan and what it spends (None when the search from the current plan finds none).
    """
    free = dataclasses.replace(problem, budget=float("inf"))
    labels, viol = budget_start(free, costs, polish=False)
    if viol > 0:
        return None
    return labels, problem.moved_amount(labels)


def _pairs(problem: Problem) -> tuple[np.ndarray, np.ndarray]:
    allowed = allowed_pairs(problem, None)
    rows, cols = np.nonzero(allowed)
    return rows, cols


def _relaxation_rows(
    problem: Problem, rows: np.ndarray, cols: np.ndarray
) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """Return assignment equalities and the per-territory load matrix over the allowed pairs."""
    n, k, m = problem.n, problem.k, problem.loads.shape[1]
    nv = len(rows)
    assign = sp.csr_matrix((np.ones(nv), (rows, np.arange(nv))), shape=(n, nv))
    loads = [
        sp.csr_matrix((problem.loads[rows, i], (cols, np.arange(nv))), shape=(k, nv))
        for i in range(m)
    ]
    spend = np.where(
        (problem.current[rows] >= 0) & (problem.current[rows] != cols),
        problem.move_amount[rows],
        0.0,
    )
    return assign, sp.vstack(loads).tocsr(), spend


def least_moves(problem: Problem) -> float | None:
    """Return the least budget any plan within the ranges needs.

    This is the relaxation in the module docstring; None when it is too large or has no solution.
    """
    if problem.n * problem.k > LP_PAIRS:
        return None
    rows, cols = _pairs(problem)
    assign, loads, spend = _relaxation_rows(problem, rows, cols)
    a_ub = sp.vstack([loads, -loads]).tocsr()
    b_ub = np.concatenate([problem.upper.T.ravel(), -problem.lower.T.ravel()])
    out = _relaxation(spend, a_ub, b_ub, assign, [(0, 1)] * len(rows))
    return None if out is None else float(out.fun)


def _relaxation(
    cost: np.ndarray,
    a_ub: sp.csr_matrix,
    b_ub: np.ndarray,
    assign: sp.csr_matrix,
    bounds: list[tuple[float, float | None]],
) -> Any:
    """Solve ``min cost x`` with ``a_ub x <= b_ub`` and every unit assigned once.

    The assignment covers the first ``assign.shape[1]`` columns. Returns the solution, or None
    when there is none in time.
    """
    extra = len(cost) - assign.shape[1]
    out = linprog(
        cost,
        A_ub=a_ub,
        b_ub=b_ub,
        A_eq=sp.hstack([assign, sp.csr_matrix((assign.shape[0], extra))]).tocsr(),
        b_eq=np.ones(assign.shape[0]),
        bounds=bounds,
        method="highs",
        options={"time_limit": LP_SECONDS},
    )
    return out if out.status == 0 else None


def least_tolerance(problem: Problem) -> float | None:
    r"""Return the least tolerance any plan within the budget can keep (without contiguity).

    One LP: minimise :math:`\tau` over the assignment relaxation with the budget row and
    :math:`|\sum_i a_{im} x_{ij} - T_{jm}| \le \tau T_{jm}` for every territory and every
    measure balanced by a tolerance (measures with absolute bounds keep their ranges). No
    plan within the budget, contiguous or not, keeps a tolerance below it. None when the
    relaxation is too large, has no solution, or no measure is balanced by a tolerance.
    """
    relative = [m for m, b in enumerate(problem.bounds) if not isinstance(b, tuple)]
    if problem.n * problem.k > LP_PAIRS or not relative or not np.isfinite(problem.budget):
        return None
    rows, cols = _pairs(problem)
    assign, loads, spend = _relaxation_rows(problem, rows, cols)
    k = problem.k
    target = problem.target.T.ravel()  # measure-major, as the load rows
    is_relative = np.repeat(np.isin(np.arange(problem.loads.shape[1]), relative), k)
    tau = np.where(is_relative, -target, 0.0)[:, None]
    upper = np.where(is_relative, target, problem.upper.T.ravel())
    lower = np.where(is_relative, target, problem.lower.T.ravel())
    a_ub = sp.vstack(
        [
            sp.hstack([loads, sp.csr_matrix(tau)]),
            sp.hstack([-loads, sp.csr_matrix(tau)]),
            sp.hstack([sp.csr_matrix(spend[None, :]), sp.csr_matrix((1, 1))]),
        ]
    ).tocsr()
    b_ub = np.concatenate([upper, -lower, [problem.budget]])
    cost = np.zeros(len(rows) + 1)
    cost[-1] = 1.0
    out = _relaxation(cost, a_ub, b_ub, assign, [(0, 1)] * len(rows) + [(0, None)])
    return None if out is None else float(out.x[-1])


def worst_deviation(problem: Problem, labels: np.ndarray) -> float:
    """Return the largest relative deviation of any territory's load from its target."""
    loads = problem.loads_of(labels)
    return float(np.max(np.abs(loads / np.maximum(problem.target, 1e-12) - 1)))


def budget_advice(
    problem: Problem, labels: np.ndarray | None, costs: np.ndarray, meaning: str
) -> str:
    """Say what would work when the plan ``labels`` breaks a promise under a move budget.

    ``labels`` may be None (no plan). The advice gives a budget that works (with a plan found), the
    least budget any plan needs, and the least tolerance any plan within this budget can keep, in
    words and numbers.
    """

    def amount(value: float) -> str:
        if meaning.endswith("customers"):
            return f"{_n(float(np.ceil(value - 1e-6)))} customers"
        total = max(float(problem.move_amount.sum()), 1e-12)
        return f"{_n(value)} ({value / total:.1%}) of {problem.names[0]}"

    parts = []
    if labels is not None:
        parts.append(
            f"within max_moved ({meaning}) the best plan found moves "
            f"{amount(problem.moved_amount(labels))} and keeps the balanced measures within "
            f"+-{worst_deviation(problem, labels):.1%} of their targets"
        )
    works = working_budget(problem, costs)
    if works is not None:
        parts.append(
            f"a plan keeping every promise was found moving {amount(works[1])}: "
            f"max_moved={_budget_value(problem, works[1], meaning)} works"
        )
    least = least_moves(problem)
    if least is not None:
        parts.append(
            f"no plan can move less than {amount(least)} (a linear bound without contiguity)"
        )
    # When the LP refused the budget: the tolerance it could keep instead.
    tightest = least_tolerance(problem) if labels is None else None
    if tightest is not None and tightest > 0:
        parts.append(
            f"within max_moved ({meaning}) no plan keeps the balanced measures closer than "
            f"+-{tightest:.1%} to their targets (the same bound): a tolerance of "
            f"{np.ceil(1000 * tightest) / 10:g} % is the least that could work"
        )
    if not parts:
        parts.append("the search from the current plan found no plan keeping every promise")
    return "what would work: " + "; ".join(parts)


def _budget_value(problem: Problem, moved: float, meaning: str) -> str:
    if meaning.endswith("customers"):
        return str(int(np.ceil(moved - 1e-9)))
    total = float(problem.move_amount.sum())
    return f"{np.ceil(1000 * moved / max(total, 1e-12)) / 1000:g}"
