r"""The balanced assignment model, built with PuLP and solved by HiGHS (or CBC).

Given territory centers :math:`c_j`, unit weights :math:`w_i`, the balanced measures
:math:`a_{im}` and each territory's allowed range :math:`[L_{jm}, U_{jm}]`:

.. math::

    \min \sum_{i}\sum_{j} w_i\, d(i, c_j)^{p}\, x_{ij}
    \quad\text{s.t.}\quad
    \sum_j x_{ij} = 1 \;\forall i,\qquad
    L_{jm} \le \sum_i a_{im} x_{ij} \le U_{jm} \;\forall j, m,\qquad
    x_{ij} \in \{0, 1\}

with :math:`p = 1` (``objective="distance"``) or :math:`p = 2` (``"inertia"``). The linear
relaxation (:math:`0 \le x_{ij} \le 1`) is solved first: a basic optimal solution has at most
about one fractional unit per balance row, so only those few units are left to a small MIP
(everything else is fixed to its LP territory), which is far cheaper than branch and bound on
the whole model. The LP optimum is a lower bound for any assignment to the same centers.
"""

from __future__ import annotations

import copy
import logging
import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pulp
from scipy import sparse

from geoterr._errors import GeoterrWarning, InputError, SolverError
from geoterr.design.assignment import assignment_rows, to_pulp
from geoterr.design.constraints import allowed_pairs
from geoterr.design.highs_model import (
    HighsAssignment,
    cheapest,
    fractional_assignment,
    row_argmax,
)
from geoterr.design.highs_run import HighsFailure
from geoterr.design.problem import Problem
from geoterr.design.rounding_mip import solve_small_mip

__all__ = [
    "LPResult",
    "engine_timed_out",
    "is_highs",
    "lp_engine",
    "resolve_solver",
    "round_assignment",
    "solve_lp",
    "solve_pulp",
]

log = logging.getLogger(__name__)

FRACTIONAL = 1e-6
# The rounding MIP may also give a fractional unit to this many of its cheapest territories,
# and gets at most this many seconds.
WIDEN = 12
ROUND_SECONDS = 5.0


def resolve_solver(solver: Any, time_limit: float | None) -> pulp.LpSolver:
    """Turn ``solver`` (a name or a PuLP solver object) into a PuLP solver.

    ``"highs"`` (default) uses HiGHS through highspy, falling back to CBC with a warning when
    highspy is missing; ``"cbc"`` uses PuLP's CBC; any other name goes to ``pulp.getSolver``.
    """
    if isinstance(solver, pulp.LpSolver):
        return solver
    if not isinstance(solver, str):
        msg = f"`solver` must be a name such as 'highs' or 'cbc', or a PuLP solver, got {solver!r}."
        raise InputError(msg)
    options: dict[str, Any] = {"msg": False}
    if time_limit is not None:
        options["timeLimit"] = float(time_limit)
    name = {"highs": "HiGHS", "cbc": "CBC"}.get(solver.lower(), solver)
    available = pulp.listSolvers(onlyAvailable=True)
    if name == "HiGHS" and name not in available:
        warnings.warn(
            "HiGHS (highspy) is not available; using CBC instead. Install highspy for speed.",
            GeoterrWarning,
            stacklevel=4,
        )
        name = "CBC"
    if name == "CBC":
        return _cbc(options)
    if name not in available:
        msg = (
            f"`solver` {solver!r} is not available here; available solvers are: "
            f"{', '.join(available) or 'none'}. Use 'highs' or 'cbc'."
        )
        raise SolverError(msg)
    return pulp.getSolver(name, **options)


def _cbc(options: dict[str, Any]) -> pulp.LpSolver:
    """CBC: the binary from the ``cbcbox`` package (``pulp[cbc]``), else PuLP's bundled one."""
    try:
        import cbcbox

        return pulp.COIN_CMD(path=cbcbox.cbc_bin_path(), **options)
    except ImportError:
        pass
    if "COIN_CMD" in pulp.listSolvers(onlyAvailable=True):
        return pulp.COIN_CMD(**options)
    with warnings.catch_warnings():
        # PuLP 3.3 announces the end of its bundled CBC; it still works until PuLP 4.
        warnings.simplefilter("ignore", DeprecationWarning)
        solver = pulp.PULP_CBC_CMD(**options)
    if not solver.available():
        msg = "CBC is not available; install it with `pip install 'pulp[cbc]'` or use 'highs'."
        raise SolverError(msg)
    return solver


@dataclass
class LPResult:
    """The relaxation's solution: fractional assignment (n, k, sparse) and its objective."""

    x: sparse.csr_array
    objective: float
    seconds: float


def is_highs(solver: pulp.LpSolver) -> bool:
    """Return True for PuLP's HiGHS (highspy) solver: geoterr then talks to HiGHS directly."""
    return isinstance(solver, pulp.HiGHS)


def lp_engine(problem: Problem, solver: pulp.LpSolver) -> HighsAssignment | None:
    """Return the array-built HiGHS model for ``problem`` when the solver is HiGHS, else None."""
    return HighsAssignment(problem) if is_highs(solver) else None


def engine_timed_out(engine: HighsAssignment | None) -> bool:
    """Tell whether the last LP solve of ``engine`` stopped at its time limit."""
    return engine is not None and engine.status == "Time limit reached"


def _seconds_left(solver: pulp.LpSolver, deadline: float | None) -> float | None:
    limit = getattr(solver, "timeLimit", None)
    if deadline is not None:
        left = deadline - time.perf_counter()
        limit = left if limit is None else min(limit, left)
    return limit


def solve_pulp(prob: pulp.LpProblem, solver: pulp.LpSolver) -> None:
    """Run ``prob.solve(solver)``, turning a failing solver into a :class:`SolverError`.

    The error says what to try (a missing binary, a crash, unreadable output).
    """
    try:
        prob.solve(solver)
    except (pulp.PulpSolverError, OSError) as exc:
        name = getattr(solver, "name", type(solver).__name__)
        other = "'highs'" if "CBC" in str(name).upper() or "COIN" in str(name).upper() else "'cbc'"
        msg = (
            f"the solver {name} failed: {exc}. Try `solver={other}` (CLI: --solver), or check "
            "that the solver is installed (`pip install highspy` or `pip install 'pulp[cbc]'`)."
        )
        raise SolverError(msg) from None


def _timed(solver: pulp.LpSolver, deadline: float | None) -> pulp.LpSolver:
    """Return a copy of ``solver`` whose time limit ends at ``deadline``.

    PuLP solvers take one limit per solve; the design's limit is for the whole design.
    """
    left = _seconds_left(solver, deadline)
    if left is None or not hasattr(solver, "timeLimit"):
        return solver
    timed = copy.copy(solver)
    timed.timeLimit = max(1.0, float(left))
    return timed


def solve_lp(
    problem: Problem,
    costs: np.ndarray,
    solver: pulp.LpSolver,
    engine: HighsAssignment | None = None,
    deadline: float | None = None,
    allowed: np.ndarray | None = None,
    *,
    exact_bounds: bool = False,
) -> LPResult | None:
    """Solve the relaxation for the given cost matrix; None if it is infeasible.

    With ``exact_bounds`` (for a lower bound) the constraint rows hold at their real bound,
    without the reserve the planning LP keeps for the rounding and the repairs.

    ``allowed`` (n, k) are the pairs the constraints permit for the round's centers
    (:func:`geoterr.design.constraints.allowed_pairs`; default: for unknown centers).

    With ``engine`` (HiGHS), the model kept there is re-solved warm, its columns priced in.
    Otherwise a PuLP model is built: large instances first get each unit's nearest centers
    only, and when that is infeasible the full model is solved.
    """
    if allowed is None:
        allowed = allowed_pairs(problem, None)
    if engine is not None:
        start = time.perf_counter()
        try:
            solved = engine.solve(costs, _seconds_left(solver, deadline), allowed)
        except HighsFailure as exc:
            warnings.warn(
                f"HiGHS failed on the balanced assignment LP (status {exc}); solving it with "
                "CBC instead. Pass solver='cbc' to use CBC throughout.",
                GeoterrWarning,
                stacklevel=3,
            )
            fallback = _cbc({"msg": False})
            return solve_lp(
                problem, costs, fallback, None, deadline, allowed, exact_bounds=exact_bounds
            )
        if solved is None:
            return None
        return LPResult(x=solved[0], objective=solved[1], seconds=time.perf_counter() - start)
    solver = _timed(solver, deadline)
    n, k = costs.shape
    limits = [k] if n * k <= 600_000 else [max(12, int(600_000 / n)), k]
    for limit in limits:
        mask = cheapest(costs, limit)
        mask &= allowed
        result = _solve(problem, costs, solver, mask, integer=False, reserve=not exact_bounds)
        if result is not None:
            return result
    return None


def _solve(
    problem: Problem,
    costs: np.ndarray,
    solver: pulp.LpSolver,
    mask: np.ndarray,
    *,
    integer: bool,
    fixed: np.ndarray | None = None,
    reserve: bool = False,
) -> LPResult | None:
    """Build the model over the pairs in ``mask`` and solve it with PuLP.

    The rows come from :mod:`geoterr.design.assignment`; units with a territory in ``fixed``
    (labels, -1: in the model) stay there. With ``reserve``, the constraints' rows use their LP
    bound.
    """
    start = time.perf_counter()
    units, terrs = np.nonzero(mask)
    rows = assignment_rows(
        problem, costs, units, terrs, integer=integer, fixed=fixed, lp_reserve=reserve
    )
    prob, var = to_pulp(rows, "balanced_assignment")
    solve_pulp(prob, solver)
    status = pulp.LpStatus[prob.status]
    has_solution = prob.sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible)
    if status in ("Infeasible",) or not has_solution:
        log.debug("model status %s (solution status %s)", status, prob.sol_status)
        return None
    values = np.array([v.varValue or 0.0 for v in var], dtype=float)
    objective = float(np.sum(costs[units, terrs] * values))
    x = fractional_assignment(units, terrs, values, costs.shape)
    return LPResult(x=x, objective=objective, seconds=time.perf_counter() - start)


def round_assignment(
    problem: Problem,
    costs: np.ndarray,
    lp: LPResult,
    solver: pulp.LpSolver,
    deadline: float | None = None,
    allowed: np.ndarray | None = None,
) -> np.ndarray:
    """Turn the LP solution into one territory per unit, keeping balance where possible.

    Units the LP assigned whole keep their territory; the fractional ones are decided by a
    small MIP over the territories they were split between (then, if that fails, over all
    territories). If even that is infeasible, each goes to its largest share and the local
    search restores balance.
    """
    x = lp.x
    labels = row_argmax(x)
    frac = np.flatnonzero(x.max(axis=1).toarray().ravel() < 1 - FRACTIONAL)
    if len(frac) == 0:
        return labels
    whole = np.ones(problem.n, dtype=bool)
    whole[frac] = False
    if allowed is None:
        allowed = allowed_pairs(problem, None)
    split = x[frac].toarray() > FRACTIONAL  # the fractional units' territories
    for widen in (False, True):
        mask = np.zeros(costs.shape, dtype=bool)
        mask[frac] = split
        if widen:  # also each unit's cheapest territories
            mask[frac] |= cheapest(costs[frac], min(WIDEN, problem.k))
        mask[frac] &= allowed[frac]
        if is_highs(solver):
            left = _seconds_left(solver, deadline)
            chosen = solve_small_mip(
                problem,
                costs,
                frac,
                mask[frac],
                np.where(whole, labels, -1),
                min(left or ROUND_SECONDS, ROUND_SECONDS),
            )
            if chosen is not None:
                labels[frac] = chosen
                return labels
            continue
        result = _solve(
            problem,
            costs,
            _timed(solver, deadline),
            mask,
            integer=True,
            fixed=np.where(whole, labels, -1),
        )
        if result is not None:
            labels[frac] = row_argmax(result.x[frac])
            return labels
    log.debug(
        "rounding MIP infeasible for %d fractional units; rounding to largest share", len(frac)
    )
    return labels
