"""Step 4 of :func:`geoterr.design`: the :class:`~geoterr.Plan` from the final labels.

Territories are numbered from west to east, the broken promises said in words (with what
would work under a move budget), the time-limit warning given, and the run's parameters
recorded.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import warnings
from typing import Any

import numpy as np

from geoterr._errors import GeoterrWarning
from geoterr.design.budget import budget_advice
from geoterr.design.diagnose import thin_graph_note
from geoterr.design.pipeline import Final, Rounds, Setup
from geoterr.design.problem import Problem
from geoterr.design.realign import before_by_customer
from geoterr.design.violations import broken_promises
from geoterr.plan import Outcome, Plan, build_plan, territory_name
from geoterr.units import COUNT

__all__ = ["to_plan", "west_to_east"]

log = logging.getLogger("geoterr.design")


def west_to_east(problem: Problem, final: Final) -> tuple[Problem, Final]:
    """Territories numbered from west to east, so that plans read naturally on the map.

    A renumbered copy of the problem and of the plan.
    """
    order = np.argsort(problem.center_xy(final.centers)[:, 0], kind="stable")
    rank = np.empty(problem.k, dtype=np.int64)
    rank[order] = np.arange(problem.k)
    problem = copy.copy(problem)
    problem.reorder(order)
    final = dataclasses.replace(
        final,
        labels=rank[final.labels],
        centers=final.centers[order],
        costs=final.costs[:, order],
    )
    return problem, final


def to_plan(setup: Setup, rounds: Rounds, final: Final) -> Plan:
    """Step 4: the Plan, its broken promises in words, and the warnings."""
    problem = setup.problem
    if setup.given_names is None:
        problem, final = west_to_east(problem, final)
    # Back in the user's units when the first measure was rescaled (problem.scale).
    scale = float(problem.scale[0])
    objective = float(final.costs[np.arange(problem.n), final.labels].sum()) / scale
    if final.spread is not None:  # objective="diameter" or "radius": the largest one
        objective = final.spread
    lower_bound = None if final.lower_bound is None else final.lower_bound / scale
    names = setup.given_names or [territory_name(j, problem.k) for j in range(problem.k)]
    problems = broken_promises(problem, final.labels, names, final.centers)
    if problems and np.isfinite(problem.budget):
        meaning = setup.realign["max_moved_meaning"]
        problems.append(budget_advice(problem, final.labels, final.costs, meaning))
    note = thin_graph_note(problem) if problems else None
    if note is not None:
        problems.append(note)
    if final.timed_out and setup.clock.limit is not None:
        warnings.warn(
            f"design stopped by the time limit ({setup.clock.limit:g} s) after "
            f"{rounds.count} rounds; the plan is the best found so far "
            "(plan.params['time_limit_reached'])",
            GeoterrWarning,
            stacklevel=3,
        )
    elif setup.clock.cut:
        log.info(
            "a step was stopped by its safety net of seconds before its own rules: this plan "
            "may differ on a faster or less loaded machine (plan.params['cut_short'])"
        )
    seconds = setup.clock.elapsed()
    plan = build_plan(
        setup.units,
        problem,
        final.labels,
        problem.center_xy(final.centers),
        names=names,
        center_units=(
            [problem.ids[int(c)] for c in final.centers]
            if problem.cost_matrix is not None
            else None
        ),
        params=_params(setup, problem, rounds, final),
        outcome=Outcome(
            problems=problems,
            objective=objective,
            lower_bound=lower_bound,
            seconds=seconds,
            lower_bound_scope=_bound_scope(final),
        ),
    )
    if setup.options.current is not None and plan.customers is not None:
        plan.customers["territory_before"] = before_by_customer(setup.options.current, setup.units)
    if plan.problems:
        warnings.warn(
            "the plan does not keep every promise: " + "; ".join(plan.problems),
            GeoterrWarning,
            stacklevel=3,
        )
    log.info("done in %.1f s: status %s", seconds, plan.status)
    return plan


def _params(setup: Setup, problem: Problem, rounds: Rounds, final: Final) -> dict[str, Any]:
    """Return what ``plan.params`` records of the design."""
    options = setup.options
    params: dict[str, Any] = {
        "n_territories": problem.k,
        "balance": setup.tolerances,
        "capacity": None if options.capacity is None else [float(c) for c in options.capacity],
        "fixed_centers": setup.fixed_names is not None,
        "costs": "user matrix"
        if problem.cost_matrix is not None or setup.spread_costs is not None
        else "straight line",
        "objective": options.objective,
        "solver": getattr(setup.solver, "name", str(setup.solver)),
        "time_limit": options.time_limit,
        "max_iter": setup.strategy.max_iter,
        "random_state": options.random_state,
        "rounds": rounds.count,
        "time_limit_reached": final.timed_out,
        "cut_short": final.timed_out or setup.clock.cut,
        "locked_units": int((problem.locked >= 0).sum()),
        "lower_bound_scope": _bound_scope(final),  # the Plan field, kept for older readers
        **setup.realign,
    }
    if final.dispersion is not None:
        params["dispersion"] = final.dispersion
    for rule in problem.rules:
        params.update(rule.params())
    if options.current is not None:
        moved = (problem.current >= 0) & (final.labels != problem.current)
        params["moved_units"] = int(moved.sum())
        params["moved_customers"] = int(setup.units.gdf[COUNT].to_numpy()[moved].sum())
        params["moved_share"] = float(problem.loads[moved, 0].sum() / problem.loads[:, 0].sum())
    return params


def _bound_scope(final: Final) -> str | None:
    """Return what the plan's lower bound holds for; None when there is no bound."""
    return final.scope if final.lower_bound is not None else None
