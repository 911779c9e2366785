r"""Exact assignment to fixed centers with contiguity, by cuts added where violated.

With the centers fixed, every territory gets a root unit (its center unit, or the member
nearest its center point) and the assignment MIP of :mod:`geoterr.design.model` is solved
over the *free* units (all units of a small instance, the units near territory borders of a
large one). When a territory of the solution falls apart, each piece :math:`C` that does not
hold the root :math:`r_j` gets the cuts

.. math::

    x_{cj} \le \sum_{v \in N(C) \setminus C} x_{vj} \qquad \forall c \in C,

(a unit of :math:`C` can only belong to territory :math:`j` if some unit around :math:`C` does
too, since every path from :math:`C` to the root leaves :math:`C` through its neighbours), and
the model is solved again. Cuts are valid for every contiguous plan, so the first solution
without a detached piece is the best contiguous assignment of the free units to these centers.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import pulp

from geoterr.design.model import add_budget
from geoterr.design.problem import Problem, components_of

__all__ = ["contiguous_assignment", "roots_of"]

log = logging.getLogger(__name__)


def roots_of(problem: Problem, labels: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """One root unit per territory: its center unit, or the member nearest its center."""
    if problem.cost_matrix is not None:
        return centers.astype(np.int64)
    roots = np.empty(problem.k, dtype=np.int64)
    used = np.zeros(problem.n, dtype=bool)
    for j in range(problem.k):
        members = np.flatnonzero(labels == j)
        if len(members) == 0:
            members = np.flatnonzero(~used)
        d = np.linalg.norm(problem.xy[members] - centers[j], axis=1)
        roots[j] = members[int(np.argmin(d))]
        used[roots[j]] = True
    return roots


def _free_units(problem: Problem, labels: np.ndarray, max_vars: int) -> tuple[np.ndarray, list]:
    """The units the MIP may move, and the territories each may take."""
    if problem.n * problem.k <= max_vars:
        return np.arange(problem.n), [np.arange(problem.k)] * problem.n
    # Units within two steps of a border, each allowed its own and its neighbours' territories.
    border = np.array([np.any(labels[nb] != labels[u]) for u, nb in enumerate(problem.neighbours)])
    zone = border.copy()
    for u in np.flatnonzero(border):
        zone[problem.neighbours[u]] = True
    free = np.flatnonzero(zone)
    allowed = [np.empty(0, dtype=np.int64)] * problem.n
    for u in free:
        near = np.concatenate([[labels[u]], labels[problem.neighbours[u]]])
        for v in problem.neighbours[u]:
            near = np.concatenate([near, labels[problem.neighbours[v]]])
        allowed[u] = np.unique(near)
    return free, allowed


def contiguous_assignment(
    problem: Problem,
    costs: np.ndarray,
    labels: np.ndarray,
    roots: np.ndarray,
    solver: pulp.LpSolver,
    *,
    deadline: float | None = None,
    max_vars: int = 25_000,
    max_rounds: int = 500,
) -> np.ndarray | None:
    """Best balanced, contiguous assignment of the free units to the territories' roots.

    Parameters
    ----------
    problem : Problem
    costs : ndarray (n, k)
        Cost of each unit in each territory.
    labels : ndarray (n,)
        The current plan: units that are not free keep their territory.
    roots : ndarray (k,)
        Each territory's root unit (kept in its territory).
    solver : pulp.LpSolver
    deadline : float, optional
        ``time.perf_counter()`` value after which no new solve starts.
    max_vars : int
        Up to this many variables every unit is free; beyond, only units near borders.
    max_rounds : int
        At most this many rounds of cuts.

    Returns
    -------
    ndarray or None
        The new labels, or None when the model is infeasible, runs out of time or rounds.
    """
    free, allowed = _free_units(problem, labels, max_vars)
    allowed = list(allowed)
    permitted = problem.allowed()  # pinned units keep their territory; closed ones stay shut
    for i in free.tolist():
        allowed[i] = allowed[i][permitted[i, allowed[i]]]
    is_free = np.zeros(problem.n, dtype=bool)
    is_free[free] = True
    fixed_load = np.zeros_like(problem.lower)
    np.add.at(fixed_load, labels[~is_free], problem.loads[~is_free])

    prob = pulp.LpProblem("contiguous_assignment", pulp.LpMinimize)
    x: dict[tuple[int, int], pulp.LpVariable] = {}
    for i in free.tolist():
        for j in allowed[i].tolist():
            x[i, j] = prob.add_variable(f"x_{i}_{j}", 0, 1, cat=pulp.LpBinary)
    prob += pulp.LpAffineExpression([(v, float(costs[i, j])) for (i, j), v in x.items()])
    for i in free.tolist():
        prob += pulp.lpSum(x[i, j] for j in allowed[i].tolist()) == 1
    for j in range(problem.k):
        terms = [(i, x[i, j]) for i in free.tolist() if (i, j) in x]
        for m in range(problem.loads.shape[1]):
            expr = pulp.LpAffineExpression([(v, float(problem.loads[i, m])) for i, v in terms])
            prob += expr <= float(problem.upper[j, m] - fixed_load[j, m])
            prob += expr >= float(problem.lower[j, m] - fixed_load[j, m])
        r = int(roots[j])
        if is_free[r]:
            if (r, j) not in x:
                return None
            prob += x[r, j] == 1
        elif labels[r] != j:
            return None
    add_budget(prob, problem, x, problem.moved_amount(np.where(is_free, problem.current, labels)))
    for round_ in range(1, max_rounds + 1):
        if deadline is not None and time.perf_counter() > deadline:
            return None
        prob.solve(solver)
        if prob.sol_status not in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
            log.debug("contiguous assignment: no solution (%s)", pulp.LpStatus[prob.status])
            return None
        new = labels.copy()
        for (i, j), v in x.items():
            if (v.varValue or 0) > 0.5:
                new[i] = j
        cuts = 0
        for j in range(problem.k):
            members = np.flatnonzero(new == j)
            for comp in components_of(members, problem.neighbours, new == j):
                if roots[j] in comp:
                    continue
                inside = set(comp.tolist())
                around = {int(v) for c in comp for v in problem.neighbours[c]} - inside
                rhs = [x[v, j] for v in around if (v, j) in x]
                for c in comp.tolist():
                    lhs = x.get((c, j))
                    if lhs is None:  # a fixed unit: some neighbour must join
                        prob += pulp.lpSum(rhs) >= 1
                        break
                    prob += lhs <= pulp.lpSum(rhs)
                    cuts += 1
                cuts += 1
        log.debug("contiguous assignment round %d: %d cuts", round_, cuts)
        if cuts == 0:
            return new
    return None
