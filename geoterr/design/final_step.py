"""The last step of a design before its plan: the final repair, the bound and the exact model.

:func:`finish` takes the rounds' best plan (:func:`geoterr.design.pipeline.run_rounds`), spends
a move budget on balance when there is one (:mod:`geoterr.design.budget`) and repairs the plan.
On small instances it then takes the optimum by enumeration
(:mod:`geoterr.design.enumeration`); otherwise it computes the bound for the plan's own centers
and runs the exact model where the strategy allows it (with ``prove``: a bound for every plan,
or the proof that the plan is optimal), then, with ``prove`` and no such proof, the territories
LP's bound for every plan (:mod:`geoterr.design.global_bound`) with the time left. For
``objective="diameter"`` or ``"radius"`` the min-max search (:mod:`geoterr.design.dispersion`)
comes last.
"""

from __future__ import annotations

import logging

import numpy as np

from geoterr._errors import InfeasibleError
from geoterr.design import strategy as st
from geoterr.design.budget import budget_start
from geoterr.design.centers import move_centers
from geoterr.design.constraints import allowed_pairs
from geoterr.design.dispersion import OBJECTIVES, disperse, make_spread, spreads
from geoterr.design.enumeration import enumerated_optimum
from geoterr.design.exact import solve_exact
from geoterr.design.global_bound import global_bound, plan_columns
from geoterr.design.model import solve_lp
from geoterr.design.pipeline import Final, Rounds, Setup, record_cut, repair
from geoterr.design.violations import plan_score, violation

__all__ = ["finish"]

log = logging.getLogger("geoterr.design")


def finish(setup: Setup, rounds: Rounds) -> Final:
    """Step 3: the budget start, the final repair, the bound, and the exact model."""
    problem = setup.problem
    best = _budget_candidate(setup, rounds) if np.isfinite(problem.budget) else rounds
    centers = best.centers
    costs = problem.costs(centers)
    labels = repair(setup, best.labels, costs, centers, final=True)
    final = Final(labels, centers, costs, None, "plan centers", False)
    final.timed_out = rounds.timed_out
    proven = setup.strategy.can_prove and _enumerate(setup, final)
    if not proven:  # the enumeration's optimum is its own bound, for every plan
        final.lower_bound = _lower_bound(setup, costs, centers)
    if (
        setup.strategy.can_prove
        and not proven
        and (setup.options.prove or violation(problem, labels, centers) > 0)
    ):
        proven = _exact(setup, final)
    if (
        setup.strategy.global_bound
        and setup.options.prove
        and problem.n >= st.BOUND_MIN_UNITS
        and not proven
        and not setup.clock.out()
    ):
        _global_bound(setup, final)
    if setup.options.objective in OBJECTIVES:
        _disperse(setup, final)
    # a step that seconds stopped once the time had run out: the time limit stopped it
    final.timed_out = final.timed_out or (setup.clock.cut and setup.clock.out())
    return final


def _disperse(setup: Setup, final: Final) -> None:
    """Run the min-max step (:mod:`geoterr.design.dispersion`) from a plan that keeps its promises.

    The plan's objective becomes its largest spread, with no bound (the LP's is for the sum).
    """
    problem, fixed = setup.problem, setup.fixed_names is not None
    spread = make_spread(
        problem, setup.options.objective, final.centers if fixed else None, setup.spread_costs
    )
    start = float(spreads(spread, final.labels, problem.k).max())
    final.lower_bound, final.dispersion = None, {"start": start, "shakes": 0, "moves": 0}
    if violation(problem, final.labels, final.centers) > 0:
        final.spread = start  # the search keeps every range: it needs a plan inside them
        return
    found = disperse(
        problem, final.labels, spread, allowed_pairs(problem, final.centers),
        random_state=setup.options.random_state, deadline=setup.clock.deadline,
    )  # fmt: skip
    if found.cut:
        record_cut(setup, f"the {spread.name} search")
    final.labels, final.spread = found.labels, found.value
    final.costs = problem.costs(final.centers)
    final.dispersion = {"start": start, "shakes": found.shakes, "moves": found.steps}


def _budget_candidate(setup: Setup, rounds: Rounds) -> Rounds:
    """Return the better of the rounds' best plan and the budget start, under a move budget.

    The budget start is a plan grown from the current territories that spends the budget only on
    balance (:mod:`geoterr.design.budget`).
    """
    problem = setup.problem
    labels, _ = budget_start(problem, problem.costs(rounds.centers))
    centers = (
        rounds.centers
        if setup.fixed_names is not None
        else move_centers(problem, labels, rounds.centers)
    )
    score = plan_score(problem, labels, centers)
    log.info("budget start from the current plan: violation %.4f", score[0])
    if not score < rounds.score:
        return rounds
    return Rounds(score, labels, centers, rounds.count, rounds.timed_out)


def _lower_bound(setup: Setup, costs: np.ndarray, centers: np.ndarray) -> float | None:
    """Return the LP optimum for the final centers: a bound for any plan with these centers."""
    if setup.clock.out():
        return None
    if setup.engine is not None:
        setup.engine.exact_bounds()  # the bound needs the exact ranges and budget
    lp = solve_lp(
        setup.problem, costs, setup.solver, setup.engine, setup.clock.deadline,
        allowed_pairs(setup.problem, centers), exact_bounds=True,
    )  # fmt: skip
    return lp.objective if lp is not None else None


def _global_bound(setup: Setup, final: Final) -> None:
    """Replace the bound for the plan's centers by one valid for all plans, when one is found."""
    left = setup.clock.left(3600.0)
    found = global_bound(
        setup.problem, plan_columns(setup.problem, final.labels, final.centers),
        st.BOUND_SHARE * left,
    )  # fmt: skip
    if found is None:
        return
    log.info("bound for all plans: %.6g after %d LP rounds", found.value, found.rounds)
    if found.cut:
        record_cut(setup, "the bound for all plans")
    if final.scope != "all plans" or found.value > (final.lower_bound or -np.inf):
        final.lower_bound, final.scope = found.value, "all plans"


def _enumerate(setup: Setup, final: Final) -> bool:
    """Take the optimum by enumeration when the instance is small enough; tell whether it was.

    The plan becomes that optimum, its bound the same value for all plans; when no plan
    exists, the proof is raised.
    """
    problem = setup.problem
    found, late = enumerated_optimum(problem)
    if late:
        record_cut(setup, "the enumeration of territories")
    if found is None:
        return False
    log.info("enumeration: %d possible territories", found.groups)
    if found.labels is None or found.centers is None:
        msg = (
            "No contiguous, balanced plan exists: the units cannot be split into "
            f"{problem.k} of the {found.groups} connected groups within the ranges "
            "(all of them enumerated)."
        )
        raise InfeasibleError(msg)
    if plan_score(problem, found.labels, found.centers) <= plan_score(
        problem, final.labels, final.centers
    ):
        final.labels, final.centers = found.labels, found.centers
        final.costs = problem.costs(final.centers)
    final.lower_bound, final.scope = found.value, "all plans"
    return True


def _exact(setup: Setup, final: Final) -> bool:
    """Run the exact model with the time left; tell whether it proved the plan optimal.

    A better plan, a bound for every plan, or a proof that none exists (raised).
    """
    problem = setup.problem
    exact = solve_exact(problem, final.labels, final.centers, max(setup.clock.left(3600.0), 1.0))
    log.info(
        "exact model: %s after %d rounds",
        "infeasible" if exact.infeasible else ("optimal" if exact.optimal else "stopped"),
        exact.rounds,
    )
    if exact.infeasible:
        msg = f"No contiguous, balanced plan exists: {exact.infeasible}."
        raise InfeasibleError(msg)
    if (
        exact.labels is not None
        and exact.centers is not None
        and plan_score(problem, exact.labels, exact.centers)
        < plan_score(problem, final.labels, final.centers)
    ):
        final.labels, final.centers = exact.labels, exact.centers
        final.costs = problem.costs(final.centers)
    if exact.bound is not None and not (
        final.scope == "all plans" and (final.lower_bound or 0.0) >= exact.bound
    ):
        final.lower_bound, final.scope = exact.bound, "all plans"
    final.timed_out = final.timed_out or not (exact.optimal or exact.infeasible)
    return exact.optimal
