"""Step 1 of :func:`geoterr.design`: the problem, the solver, the start and the strategy.

:func:`set_up` turns the units and the user's options into a
:class:`~geoterr.design.pipeline.Setup`: the problem in arrays (balance, capacity, costs, the
user's constraints), the solver and its LP engine, the start centers, the realignment and the
locks, and the steps :func:`geoterr.design.strategy.choose` picks. The rounds
(:func:`geoterr.design.pipeline.run_rounds`) and the final step
(:func:`geoterr.design.final_step.finish`) follow.
"""

from __future__ import annotations

import dataclasses
import logging
import warnings
from typing import Any

import numpy as np

from geoterr._errors import GeoterrWarning, InputError
from geoterr._errors import format_number as _n
from geoterr.design import strategy as st
from geoterr.design.centers import fixed_centers, pin_units
from geoterr.design.coarse_start import coarse_applies, coarse_centers
from geoterr.design.constraints import check_all
from geoterr.design.dispersion import OBJECTIVES
from geoterr.design.highs_model import LP_MARGIN
from geoterr.design.model import lp_engine, resolve_solver
from geoterr.design.pipeline import Clock, Options, Setup
from geoterr.design.problem import Bound, Problem, cost_matrix, make_problem, parse_balance
from geoterr.design.realign import RealignRequest, setup_realignment
from geoterr.design.seeds import bisection_centers, kmeans_centers, nearest_units
from geoterr.units import Units

__all__ = ["lines_start", "set_up"]

log = logging.getLogger("geoterr.design")


def set_up(
    units: Units, n_territories: int, options: Options, *, rounds_on_costs: bool = False
) -> Setup:
    """Step 1: the problem, the solver, the start, the realignment, the locks, the strategy.

    ``rounds_on_costs``: for a min-max objective whose cost matrix only measures the spread
    (:func:`lines_start`), run the rounds on the matrix (medoid centers) all the same.
    """
    clock = Clock(options.time_limit)
    tolerances = parse_balance(options.balance, units)
    problem = _problem(units, n_territories, tolerances, options, rounds_on_costs)
    spread_costs = None
    if (
        options.objective in OBJECTIVES
        and options.costs is not None
        and problem.cost_matrix is None
    ):
        spread_costs = cost_matrix(options.costs, units)
    solver = resolve_solver(options.solver, options.time_limit)
    log.info(
        "designing %d territories from %d units, balancing %s",
        problem.k,
        problem.n,
        ", ".join(f"{m} {_describe(t)}" for m, t in tolerances.items()),
    )
    centers, fixed_names = _start_centers(problem, units, options)
    problem, given_names, centers, realign = _realignment(
        problem, units, centers, fixed_names, options
    )
    problem = _pinned(problem, units, centers, given_names, options)
    check_all(problem, centers if fixed_names is not None else None)
    coarse = coarse_applies(problem, fixed_centers=fixed_names is not None)
    if coarse:
        centers = coarse_centers(problem, centers, clock)
    strategy = st.choose(
        problem,
        fixed_centers=fixed_names is not None,
        solver=solver,
        max_iter=options.max_iter,
        min_max=options.objective in OBJECTIVES,
        polish=coarse,  # the full rounds only polish the coarse centers
    )
    if options.prove and not strategy.can_prove:
        why = st.why_no_proof(problem, fixed_names is not None, solver)
        warnings.warn(
            f"prove=True cannot apply here: {why}; the plan comes with the usual bound for "
            "its own centers.",
            GeoterrWarning,
            stacklevel=4,
        )
    engine = lp_engine(problem, solver)
    if engine is not None:
        engine.set_margin(LP_MARGIN)
    return Setup(
        units, problem, options, tolerances, solver, engine, strategy, clock,
        centers, fixed_names, given_names, realign, spread_costs,
    )  # fmt: skip


def lines_start(options: Options) -> bool:
    """Say whether the rounds run on straight lines while ``costs`` only measures the spread.

    So for the min-max objectives with a cost matrix, free centers and no ``max_distance``:
    medoid rounds on a shortest-path matrix left 1 of the 21 delivery territory graphs outside
    its ranges, and straight lines left another far from its best diameter, so
    :func:`geoterr.design.two_starts.best_of_two_starts` runs both.
    """
    return (
        options.objective in OBJECTIVES
        and options.costs is not None
        and options.centers is None
        and options.max_distance is None
    )


def _problem(
    units: Units, k: int, tolerances: dict[str, Bound], options: Options, rounds_on_costs: bool
) -> Problem:
    """Return the arrays of the problem, with the user's own constraints."""
    from geoterr.design.constraints import MaxDistance

    spread_only = lines_start(options) and not rounds_on_costs
    problem = make_problem(
        units,
        k,
        tolerances,
        inertia=options.objective == "inertia",
        capacity=options.capacity,
        costs=None if spread_only else options.costs,
    )
    rules = () if options.max_distance is None else (MaxDistance(options.max_distance),)
    return dataclasses.replace(problem, rules=rules)


def _start_centers(
    problem: Problem, units: Units, options: Options
) -> tuple[np.ndarray, list[str] | None]:
    """Return fixed centers with their names, or the start.

    K-means snapped to units with a cost matrix, else the centers of a balanced recursive bisection.
    """
    if options.centers is not None:
        return fixed_centers(options.centers, units, problem)
    if problem.cost_matrix is not None:
        start_xy = kmeans_centers(problem.xy, problem.weight, problem.k, options.random_state)
        return nearest_units(problem.xy, start_xy), None
    return bisection_centers(problem.xy, problem.weight, problem.k), None


def _realignment(
    problem: Problem,
    units: Units,
    centers: np.ndarray,
    fixed_names: list[str] | None,
    options: Options,
) -> tuple[Problem, list[str] | None, np.ndarray, dict[str, Any]]:
    """Set up a realignment when ``current`` is given.

    Returns a copy of the problem with the current plan, the budget and the kept territories,
    and the centers of the current territories.
    """
    if options.current is None:
        if (
            options.max_moved is not None
            or options.keep_territories is not None
            or options.move_penalty
        ):
            msg = (
                "`max_moved`, `move_penalty` and `keep_territories` need `current` (the "
                "current plan)."
            )
            raise InputError(msg)
        return problem, fixed_names, centers, {}
    problem = dataclasses.replace(
        problem, locked=problem.locked.copy(), closed=problem.closed.copy()
    )
    names, centers, realign = setup_realignment(
        problem,
        units,
        centers,
        fixed_names,
        RealignRequest(
            current=options.current,
            max_moved=options.max_moved,
            move_penalty=options.move_penalty,
            keep=options.keep_territories,
            enclaves=options.enclaves,
        ),
    )
    return problem, names, centers, realign


def _pinned(
    problem: Problem,
    units: Units,
    centers: np.ndarray,
    names: list[str] | None,
    options: Options,
) -> Problem:
    """With ``locked``: a copy of the problem with the pinned units."""
    if options.locked is None:
        return problem
    pins = pin_units(options.locked, units, problem, centers, names)
    return dataclasses.replace(problem, locked=np.where(pins >= 0, pins, problem.locked))


def _describe(bound: Bound) -> str:
    if isinstance(bound, tuple):
        return f"in [{_n(bound[0])}, {_n(bound[1])}]"
    return f"+-{bound:.1%}"
