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

import copy
import logging
import time
from dataclasses import dataclass

import numpy as np
import pulp

from geoterr.design.assignment import AssignmentRows, assignment_rows, to_highs, to_pulp
from geoterr.design.constraints import allowed_pairs
from geoterr.design.highs_model import add_sparse_rows, cost_factor
from geoterr.design.highs_run import _new_highs, _status, offer_solution, run_highs
from geoterr.design.model import is_highs, solve_pulp
from geoterr.design.problem import Problem, pieces_per_territory, territory_pieces

__all__ = ["FreeScope", "contiguous_assignment", "roots_of"]

log = logging.getLogger(__name__)

# Relative gap at which each solve of the contiguous assignment stops.
MIP_GAP = 1e-4


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


def _free_units(
    problem: Problem, labels: np.ndarray, max_vars: int, focus: np.ndarray | None = None
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Return the units the MIP may move, and the territories each may take."""
    if problem.n * problem.k <= max_vars:
        return np.arange(problem.n), [np.arange(problem.k)] * problem.n
    # Units within two steps of a border, each allowed its own and its neighbours' territories;
    # with ``focus`` (territories), only borders between focus territories.
    inside = (
        np.ones(problem.k, dtype=bool) if focus is None else np.isin(np.arange(problem.k), focus)
    )
    border = np.array(
        [
            inside[labels[u]] and np.any((labels[nb] != labels[u]) & inside[labels[nb]])
            for u, nb in enumerate(problem.neighbours)
        ]
    )
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


@dataclass(frozen=True)
class FreeScope:
    """Which units the contiguous assignment may move, and to which territories.

    Attributes
    ----------
    max_vars : int
        Up to this many variables every unit is free; beyond, only units near borders.
    focus : ndarray, optional
        Beyond ``max_vars``, free only units near borders between these territories.
    allowed : ndarray (n, k) of bool, optional
        The pairs the constraints permit for the round's centers
        (:func:`geoterr.design.constraints.allowed_pairs`; default: for unknown centers).
    """

    max_vars: int = 25_000
    focus: np.ndarray | None = None
    allowed: np.ndarray | None = None


@dataclass(frozen=True)
class Limits:
    """When the cut rounds give up: counts, the same on every machine (seconds are not).

    ``rounds``: at most this many rounds of cuts; ``work``: no new round once the solves'
    simplex iterations times the model's columns pass it (HiGHS only; None: no such limit).
    """

    rounds: int = 500
    work: int | None = None


def contiguous_assignment(
    problem: Problem,
    costs: np.ndarray,
    labels: np.ndarray,
    roots: np.ndarray,
    solver: pulp.LpSolver,
    *,
    deadline: float | None = None,
    limits: Limits = Limits(),
    scope: FreeScope | None = None,
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
    limits : Limits
        How many rounds of cuts, and how much work, before it gives up.
    scope : FreeScope, optional
        Which units the model may move and to which territories (default:
        ``FreeScope()``).

    Returns
    -------
    ndarray or None
        The new labels, or None when the model is infeasible, runs out of time or rounds.
    """
    scope = FreeScope() if scope is None else scope
    free, candidates = _free_units(problem, labels, scope.max_vars, scope.focus)
    options = list(candidates)
    # pairs every constraint permits (locks, kept territories, distance limits)
    permitted = allowed_pairs(problem, None) if scope.allowed is None else scope.allowed
    for i in free.tolist():
        options[i] = options[i][permitted[i, options[i]]]
    is_free = np.zeros(problem.n, dtype=bool)
    is_free[free] = True

    for j in range(problem.k):  # every root stays in its territory
        r = int(roots[j])
        if is_free[r] and j not in options[r]:
            return None
        if not is_free[r] and labels[r] != j:
            return None
    pairs = [(i, j) for i in free.tolist() for j in options[i].tolist()]
    start = _incumbent(problem, labels, roots)
    given = _Inputs(problem, costs, free, pairs, np.where(is_free, -1, labels), roots)
    model: _Model = _HighsModel(given, start) if is_highs(solver) else _PulpModel(given, solver)
    for round_ in range(1, limits.rounds + 1):
        if deadline is not None and time.perf_counter() > deadline:
            return None
        chosen = model.solve(None if deadline is None else deadline - time.perf_counter())
        if chosen is None:
            return None
        new = labels.copy()
        for i, j in chosen:
            new[i] = j
        cuts = _cuts(problem, new, roots)
        log.debug("contiguous assignment round %d: %d cuts", round_, len(cuts))
        if not cuts:
            return new
        if limits.work is not None and model.work > limits.work:
            return None
        model.add_cuts(cuts)
    return None


def _incumbent(problem: Problem, labels: np.ndarray, roots: np.ndarray) -> np.ndarray | None:
    """``labels`` when they already keep every promise (a starting solution), else None."""
    loads = problem.loads_of(labels)
    balanced = np.all(loads >= problem.lower - 1e-9) and np.all(loads <= problem.upper + 1e-9)
    if not balanced or np.any(labels[roots] != np.arange(problem.k)):
        return None
    if problem.moved_amount(labels) > problem.budget + 1e-9:
        return None
    if np.any(pieces_per_territory(problem, labels) != 1):
        return None
    return labels


# A cut: (unit c, territory j, units around c's piece): x_cj <= sum of x_vj over them; with
# c = -1 (a fixed unit in the piece): sum of x_vj >= 1.
Cut = tuple[int, int, list[int]]


def _cuts(problem: Problem, labels: np.ndarray, roots: np.ndarray) -> list[Cut]:
    """Cuts for every piece of a territory that does not hold the territory's root."""
    piece = territory_pieces(problem, labels)
    cuts: list[Cut] = []
    for j in range(problem.k):
        members = np.flatnonzero(labels == j)
        for p in np.unique(piece[members]).tolist():
            if piece[roots[j]] == p:
                continue
            comp = members[piece[members] == p]
            inside = set(comp.tolist())
            around = sorted({int(v) for c in comp for v in problem.neighbours[c]} - inside)
            cuts += [(int(c), j, around) for c in comp.tolist()]
    return cuts


@dataclass
class _Inputs:
    """Hold what both models are built from.

    The free units, their allowed (unit, territory) pairs, the other units' territories (``fixed``:
    labels, -1 for the free units) and the roots.
    """

    problem: Problem
    costs: np.ndarray
    free: np.ndarray
    pairs: list[tuple[int, int]]
    fixed: np.ndarray
    roots: np.ndarray

    def rows(self, *, integer: bool) -> AssignmentRows:
        """Return the assignment model over the pairs (:mod:`geoterr.design.assignment`)."""
        unit = np.array([i for i, _ in self.pairs], dtype=np.int64)
        terr = np.array([j for _, j in self.pairs], dtype=np.int64)
        return assignment_rows(
            self.problem, self.costs, unit, terr, integer=integer, fixed=self.fixed
        )


class _Model:
    """The assignment MIP over the free units, re-solved as cuts arrive.

    ``work`` counts the simplex iterations of its solves so far times the model's columns (an
    iteration costs about in proportion to them; 0 where the solver does not say).
    """

    work: int = 0

    def solve(self, seconds: float | None) -> list[tuple[int, int]] | None:
        raise NotImplementedError

    def add_cuts(self, cuts: list[Cut]) -> None:
        raise NotImplementedError


class _HighsModel(_Model):
    """The MIP held in HiGHS as arrays.

    Cuts are added as rows; a plan that already keeps every promise is given as the starting
    solution of every solve.
    """

    def __init__(self, given: _Inputs, start: np.ndarray | None) -> None:
        pairs, roots = given.pairs, given.roots
        self.pairs = pairs
        self.col = {pair: c for c, pair in enumerate(pairs)}
        model = given.rows(integer=True)
        model.cost = model.cost * cost_factor(model.cost)
        self.h = to_highs(model, _new_highs(None, mip_gap=MIP_GAP))
        for j, r in enumerate(roots.tolist()):
            if (r, j) in self.col:
                self.h.changeColBounds(self.col[r, j], 1.0, 1.0)
        self.start = None
        if start is not None:
            self.start = np.array([float(start[i] == j) for i, j in pairs])

    def solve(self, seconds: float | None) -> list[tuple[int, int]] | None:
        if seconds is not None:
            if seconds <= 0:
                return None
            self.h.setOptionValue("time_limit", max(seconds, 0.05))
        if self.start is not None:
            offer_solution(self.h, self.start)
        run_highs(self.h)
        info = self.h.getInfo()
        self.work += int(info.simplex_iteration_count) * len(self.pairs)
        log.debug(
            "contiguous assignment MIP: %s, %d nodes, %d simplex iterations",
            _status(self.h), info.mip_node_count, info.simplex_iteration_count,
        )  # fmt: skip
        if info.primal_solution_status != 2:
            log.debug("contiguous assignment: no solution (%s)", _status(self.h))
            return None
        values = np.asarray(self.h.getSolution().col_value)
        return [self.pairs[c] for c in np.flatnonzero(values > 0.5).tolist()]

    def add_cuts(self, cuts: list[Cut]) -> None:
        rows = []
        for c, j, around in cuts:
            rhs = [self.col[v, j] for v in around if (v, j) in self.col]
            lhs = self.col.get((c, j))
            if lhs is None:  # a fixed unit in the piece: some neighbour must join
                rows.append((1.0, np.inf, np.array(rhs), np.ones(len(rhs))))
            else:
                values = np.array([1.0] + [-1.0] * len(rhs))
                rows.append((-np.inf, 0.0, np.array([lhs, *rhs]), values))
        add_sparse_rows(self.h, rows)


class _PulpModel(_Model):
    """The MIP built with PuLP, for solvers other than HiGHS (CBC)."""

    def __init__(self, given: _Inputs, solver: pulp.LpSolver) -> None:
        self.solver = solver
        prob, var = to_pulp(given.rows(integer=True), "contiguous_assignment")
        x = dict(zip(given.pairs, var, strict=True))
        for j, r in enumerate(given.roots.tolist()):
            if (r, j) in x:
                prob += x[r, j] == 1
        self.prob, self.x = prob, x

    def solve(self, seconds: float | None) -> list[tuple[int, int]] | None:
        timed = copy.copy(self.solver)
        if seconds is not None and hasattr(timed, "timeLimit"):
            timed.timeLimit = max(1.0, seconds)
        solve_pulp(self.prob, timed)
        if self.prob.sol_status not in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
            log.debug("contiguous assignment: no solution (%s)", pulp.LpStatus[self.prob.status])
            return None
        return [pair for pair, v in self.x.items() if (v.varValue or 0) > 0.5]

    def add_cuts(self, cuts: list[Cut]) -> None:
        for c, j, around in cuts:
            rhs = pulp.lpSum(self.x[v, j] for v in around if (v, j) in self.x)
            lhs = self.x.get((c, j))
            self.prob += (rhs >= 1) if lhs is None else (lhs <= rhs)
