"""Territory design: balanced, contiguous, compact territories from basic units.

The public entry point is :func:`design`. The steps (see ``DESIGN.md``):

1. a start: the centers of a balanced recursive bisection of the units (weighted k-means,
   scikit-learn, snapped to units, when centers are units under ``costs``);
2. a balanced assignment LP to those centers (PuLP + HiGHS), its few fractional units decided
   by a small MIP (:mod:`geoterr.design.model`);
3. repairs on the unit graph: detached pieces join a neighbour, border units move until every
   territory is inside its range, then cheaper border moves (:mod:`geoterr.design.local_search`);
4. centers move to the best point of their territory and steps 2-3 repeat while the plan
   improves;
5. when centers are units (``costs``) on small instances: new centers from the territories
   LP (column generation, :mod:`geoterr.design.columns`) and a plan over them from the
   shortest-path-tree model (:mod:`geoterr.design.tree_model`), after which the rounds go on
   from the better plan.
"""

from __future__ import annotations

import copy
import logging
import time
import warnings
from collections.abc import Hashable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from geoterr._errors import (
    GeoterrWarning,
    InfeasibleError,
    InputError,
    SolverError,
)
from geoterr._errors import (
    format_number as _n,
)
from geoterr.design.budget import budget_advice, budget_start
from geoterr.design.centers import fixed_centers, move_centers, pin_units, swap_centers
from geoterr.design.checks import check_design_options
from geoterr.design.columns import column_plan
from geoterr.design.contiguity import contiguous_assignment, roots_of
from geoterr.design.exact import exact_applies, solve_exact
from geoterr.design.highs_model import LP_MARGIN
from geoterr.design.local_search import Search
from geoterr.design.model import (
    engine_timed_out,
    is_highs,
    lp_engine,
    resolve_solver,
    round_assignment,
    solve_lp,
)
from geoterr.design.parts import design_parts
from geoterr.design.problem import (
    Bound,
    Problem,
    make_problem,
    parse_balance,
)
from geoterr.design.promises import broken_promises, plan_score, trouble, violation
from geoterr.design.realign import before_by_customer, setup_realignment
from geoterr.design.regions import partition_search
from geoterr.design.seeds import bisection_centers, kmeans_centers, nearest_units
from geoterr.plan import Plan, build_plan, territory_name
from geoterr.units import COUNT, Units

__all__ = ["design"]

log = logging.getLogger(__name__)

# Up to this many unit x territory pairs, every round ends with the exact contiguous
# assignment to the round's centers; above it, only a plan that still breaks a promise in the
# final round is repaired that way, with every unit free up to FREE_VARS pairs and only the
# units near borders beyond.
EXACT_VARS = 5_000
FREE_VARS = 25_000
# Before the final round, the exact step frees every unit only up to this many pairs, and
# otherwise only the units near borders (its MIP gets slow with tight ranges).
ROUND_FREE_VARS = 400
# Rounds stop after two in a row improve the objective by less than this share.
STALE_GAIN = 2e-4
REPAIR_SECONDS = 10.0
# Steps and seconds of the search for a split into contiguous territories (small instances,
# design/regions.py): a short one before the first round, a longer one after a first round
# that breaks a promise.
QUICK_STEPS, QUICK_SECONDS = 3_000, 0.3
PARTITION_STEPS, PARTITION_SECONDS = 30_000, 2.0
# When centers are units (a cost matrix), the rounds stop once they stall or have used
# HEURISTIC_SHARE of the time limit, for the territories LP and the tree model
# (design/columns.py); the rounds then go on from the better plan. Those get COLUMN_FACTOR
# times the time so far (an instance the rounds find hard is worth more), within
# [COLUMN_MIN_SECONDS, COLUMN_SECONDS] and at most COLUMN_SHARE of the time left.
HEURISTIC_SHARE = 0.1
COLUMN_SHARE = 0.8
COLUMN_FACTOR = 4.0
COLUMN_MIN_SECONDS, COLUMN_SECONDS = 30.0, 120.0


def design(
    units: Units,
    n_territories: int,
    *,
    balance: Mapping[str, Bound] | str | None = None,
    objective: Literal["distance", "inertia"] = "distance",
    centers: Any = None,
    capacity: Sequence[float] | None = None,
    costs: Any = None,
    locked: Mapping[Hashable, Hashable] | pd.Series | None = None,
    current: str | pd.Series | Mapping[Hashable, Hashable] | None = None,
    max_moved: float | None = None,
    move_penalty: float = 0.0,
    keep_territories: Sequence[str] | None = None,
    enclaves: Literal["raise", "join"] = "raise",
    solver: Any = "highs",
    time_limit: float | None = 60.0,
    max_iter: int = 30,
    random_state: int | None = 0,
    prove: bool = False,
    verbose: bool = False,
) -> Plan:
    """Split units into balanced, contiguous, compact territories.

    Parameters
    ----------
    units : Units
        Basic units from :func:`geoterr.build_units`.
    n_territories : int
        How many territories (one per rep).
    balance : dict or str, optional
        Measure -> relative tolerance, e.g. ``{"workload": 0.05, "annual_revenue": 0.10}``:
        every territory's total of each measure stays within that share of its target (the
        mean, or its share under ``capacity``); or measure -> ``(low, high)`` absolute bounds
        for every territory. The CLI's ``"workload:0.05,annual_revenue:10%"`` is accepted
        too. Default: the customer count within 5 %. The first measure also weighs the
        objective.
    objective : {"distance", "inertia"}
        Minimise the sum of weight x distance to the territory center, or weight x squared
        distance (rounder territories, less tolerance for outliers).
    centers : DataFrame, GeoDataFrame, array or sequence, optional
        Fixed territory centers (rep home bases), one territory per center, never moved.
        Points as a GeoDataFrame, a DataFrame with latitude/longitude columns or an (k, 2)
        array of (longitude, latitude) degrees; with ``costs``, unit ids. The territories are
        named after the index of a (Geo)DataFrame. Default: chosen by the optimizer.
    capacity : sequence of float, optional
        Relative size of each territory, e.g. ``[1, 1, 0.5]`` for a half-time rep: targets of
        relatively balanced measures are shared in proportion. In the order of ``centers``.
    costs : DataFrame or array, optional
        Unit-to-unit distances (drive times, published distance matrices) replacing straight
        lines; a DataFrame indexed and labelled by unit ids, or an (n, n) array in the order of
        ``units.gdf``. Centers are then units (medoids).
    locked : mapping or Series, optional
        Unit id -> territory for units that must stay where they are. With ``centers``, the
        territory is a center's name; otherwise any label: units with the same label end up
        in the same territory, different labels in different territories.
    current : str, Series or mapping, optional
        The current plan, for a realignment: a customer column (``"current_territory"``), or
        unit id or customer id -> territory. The plan keeps the current territory names (new
        ones are named ``NEW01``...), starts from the current territories, and
        ``plan.moved`` lists the customers whose territory changed.
    max_moved : int or float, optional
        With ``current``: a hard budget of change, at most this many customers (a whole
        number) or this share of the first balanced measure (a float in (0, 1), e.g. 0.1 of
        the workload) may change territory. When balance cannot be reached within it, the
        design raises :class:`InfeasibleError`.
    move_penalty : float
        With ``current``: the cost of moving a unit, as extra distance (km; km^2 with
        ``"inertia"``) per unit of weight, so that a unit only moves when that saves more.
        Included in ``plan.objective``.
    keep_territories : sequence of str, optional
        With ``current``: territories kept exactly as they are (no unit leaves or joins).
        Units of other territories that the kept ones cut off from the rest, too light to
        form a territory of their own (an enclave), are reported before any solve
        (:class:`InfeasibleError` with the numbers), or join the kept territory around them
        with ``enclaves="join"``.
    enclaves : {"raise", "join"}
        With ``keep_territories``: what to do with such enclaves (see above);
        ``plan.params["enclaves_joined"]`` lists the joins.
    solver : str or pulp.LpSolver
        ``"highs"`` (default, HiGHS via highspy; CBC if highspy is missing), ``"cbc"``, any
        name ``pulp.getSolver`` knows, or a configured PuLP solver.
    time_limit : float or None
        Seconds for the whole design. When it runs out, the best plan found so far is
        returned with a warning.
    max_iter : int
        At most this many rounds of "assign, repair, move centers".
    random_state : int or None
        Seed of the k-means start used with ``costs`` (the bisection start of the other
        designs has no randomness); the same seed gives the same plan.
    prove : bool
        Small instances whose centers are units (``costs`` given, at most 200 units, no
        ``locked`` or ``capacity``) are also solved by the exact model
        (:mod:`geoterr.design.exact`) with the time left, which either improves the plan and
        proves a lower bound for *every* plan (``plan.params["lower_bound_scope"]`` is then
        ``"all plans"``) or proves that no plan exists. Without ``prove`` this only happens
        when the plan found breaks a promise.
    verbose : bool
        Log progress at INFO level (the CLI shows it).

    Returns
    -------
    Plan
        ``plan.status`` is ``"feasible"`` when every territory is contiguous and inside every
        tolerance; otherwise ``"violated"`` and ``plan.problems`` says which promise was not
        kept, for which territory, and by how much (a warning says so too).

    Raises
    ------
    InputError
        Bad arguments (unknown measure, tolerance out of range, ...).
    InfeasibleError
        When no plan can exist, with the reason (a unit heavier than a territory may be,
        more territories than units, ...) and the smallest tolerance that could work.
    SolverError
        When the time limit runs out before a first plan exists.

    Notes
    -----
    Units built with ``islands="separate"`` whose graph is in several parts: each part gets
    whole territories of its own, shared by weight (see :mod:`geoterr.design.parts`).

    Examples
    --------
    >>> import geoterr as gt
    >>> units = gt.build_units(gt.read_customers(gt.sample_path()), measures=["workload"])
    >>> plan = gt.design(units, 12, balance={"workload": 0.05})
    >>> plan.status, len(plan.territories)
    ('feasible', 12)
    """
    if not isinstance(units, Units):
        msg = f"`units` must come from geoterr.build_units, got {type(units).__name__}."
        raise InputError(msg)
    if objective not in ("distance", "inertia"):
        msg = f"`objective` must be 'distance' or 'inertia', got {objective!r}."
        raise InputError(msg)
    check_design_options(
        time_limit=time_limit,
        max_iter=max_iter,
        random_state=random_state,
        prove=prove,
        verbose=verbose,
    )
    if units.islands == "separate" and len(units.parts) > 1:
        options = {k: v for k, v in locals().items() if k not in ("units", "n_territories")}
        return design_parts(units, n_territories, options)
    if verbose:
        log.setLevel(logging.INFO)
    start = time.perf_counter()
    tolerances = parse_balance(balance, units)
    problem = make_problem(
        units,
        n_territories,
        tolerances,
        inertia=objective == "inertia",
        capacity=capacity,
        costs=costs,
    )
    lp_solver = resolve_solver(solver, time_limit)
    log.info(
        "designing %d territories from %d units, balancing %s",
        problem.k,
        problem.n,
        ", ".join(f"{m} {_describe(t)}" for m, t in tolerances.items()),
    )
    fixed_names: list[str] | None = None
    if centers is not None:
        centers, fixed_names = fixed_centers(centers, units, problem)
        max_iter = 1
    elif problem.cost_matrix is not None:
        start_xy = kmeans_centers(problem.xy, problem.weight, problem.k, random_state)
        centers = nearest_units(problem.xy, start_xy)
    else:
        centers = bisection_centers(problem.xy, problem.weight, problem.k)
    given_names = fixed_names
    realign: dict[str, Any] = {}
    if current is not None:
        given_names, centers, realign = setup_realignment(
            problem,
            units,
            centers,
            fixed_names,
            current=current,
            max_moved=max_moved,
            move_penalty=move_penalty,
            keep=keep_territories,
            enclaves=enclaves,
        )
    elif max_moved is not None or keep_territories is not None or move_penalty:
        msg = (
            "`max_moved`, `move_penalty` and `keep_territories` need `current` (the current plan)."
        )
        raise InputError(msg)
    if locked is not None:
        pins = pin_units(locked, units, problem, centers, given_names)
        problem.locked = np.where(pins >= 0, pins, problem.locked)
    engine = lp_engine(problem, lp_solver)
    if engine is not None:
        engine.set_margin(LP_MARGIN)
    can_prove = fixed_names is None and exact_applies(problem) and is_highs(lp_solver)
    if prove and not can_prove:
        warnings.warn(
            f"prove=True cannot apply here: {_why_no_proof(problem, fixed_names, lp_solver)}; "
            "the plan comes with the usual bound for its own centers.",
            GeoterrWarning,
            stacklevel=2,
        )
    # The territories LP knows nothing of moves: not for realignments.
    columns = can_prove and not np.any(problem.current >= 0) and max_iter > 1
    deadline = None if time_limit is None else start + time_limit
    # A short exhaustive search for a split of a small instance proves most infeasible ones
    # at once; when it neither proves nor finds a split, a longer one follows a first round
    # that breaks a promise.
    split_exists = _prove_no_partition(problem, QUICK_STEPS, QUICK_SECONDS)
    best: tuple[tuple[float, float], np.ndarray, np.ndarray] | None = None
    timed_out = False
    rounds = 0
    stale = 0
    swapping = False
    for rounds in range(1, max_iter + 1):
        costs = problem.costs(centers)
        lp = solve_lp(problem, costs, lp_solver, engine, deadline)
        if lp is None:
            timed_out = _out_of_time(start, time_limit) or engine_timed_out(engine)
            if best is None and timed_out:
                msg = (
                    f"the time limit ({time_limit:g} s) ran out before a first plan: the "
                    f"balanced assignment LP over {_n(problem.n)} units and {problem.k} "
                    "territories did not finish. Give more time (time_limit=), or fewer units "
                    "(e.g. a coarser hexagon resolution in build_units)."
                )
                raise SolverError(msg)
            if best is None and not timed_out:
                msg = (
                    "the balanced assignment model has no solution; check the tolerances "
                    "and the locked units."
                )
                if np.isfinite(problem.budget):
                    msg = _budget_refusal(problem, costs, realign["max_moved_meaning"])
                raise InfeasibleError(msg)
            break
        labels = round_assignment(problem, costs, lp, lp_solver, deadline)
        labels = _repair(
            problem, labels, costs, centers, lp_solver, start, time_limit, final=max_iter == 1
        )
        if fixed_names is None:  # fixed centers never move
            centers = move_centers(problem, labels, centers)
        score = plan_score(problem, labels, centers)
        log.info(
            "round %d: objective %.6g, violation %.4f (%.1f s)",
            rounds,
            score[1],
            score[0],
            time.perf_counter() - start,
        )
        if rounds == 1 and score[0] > 0 and split_exists is None:
            _prove_no_partition(problem, PARTITION_STEPS, PARTITION_SECONDS)
        if best is None or score < best[0]:
            gain = (
                1.0
                if best is None or best[0][0] > score[0]
                else (best[0][1] - score[1]) / max(best[0][1], 1e-12)
            )
            best = (score, labels.copy(), centers.copy())
            stale = stale + 1 if gain < STALE_GAIN else 0
        else:
            stale += 1
        if columns and (
            stale >= 2
            or (
                time_limit is not None
                and time.perf_counter() - start > HEURISTIC_SHARE * time_limit
            )
        ):
            # Centers from the territories LP, a plan from the tree model; the rounds go on
            # from its centers if it is better.
            columns = False
            elapsed = time.perf_counter() - start
            seconds = min(COLUMN_SECONDS, max(COLUMN_MIN_SECONDS, COLUMN_FACTOR * elapsed))
            if time_limit is not None:
                seconds = min(seconds, COLUMN_SHARE * (time_limit - elapsed))
            found = column_plan(
                problem, seconds, start=(best[1], best[2]), random_state=random_state
            )
            if found is not None:
                found_score = plan_score(problem, found.labels, found.centers)
                log.info("territories LP and tree model: objective %.6g", found_score[1])
                if found_score < best[0]:
                    best = (found_score, found.labels, found.centers)
                    centers, stale, swapping = found.centers, 0, False
                    continue
        swaps = (
            fixed_names is None
            and problem.cost_matrix is not None
            and problem.n * problem.k <= EXACT_VARS
        )
        if swaps and (swapping or stale >= 2):
            # Once the medoid moves stall, propose centers by swaps from the best plan; a
            # round's plan decides, and a proposal that does not improve ends the search.
            if swapping and stale > 0:
                break
            swapping, stale = True, 0
            centers = swap_centers(problem, best[1], best[2], lp_solver, engine, deadline)
        elif stale >= 2:
            break
        if (
            can_prove
            and best[0][0] > 0
            and time_limit is not None
            and time.perf_counter() - start > 0.3 * time_limit
        ):
            break  # leave the time to the exact model
        if _out_of_time(start, time_limit):
            timed_out = rounds < max_iter
            break
    assert best is not None
    if np.isfinite(problem.budget):
        best = _budget_candidate(problem, best, fixed=fixed_names is not None)
    _, labels, centers = best

    # Final polish with the final centers, then the bound for those centers.
    costs = problem.costs(centers)
    labels = _repair(problem, labels, costs, centers, lp_solver, start, time_limit, final=True)
    lower_bound = None
    scope = "plan centers"
    if not _out_of_time(start, time_limit):
        if engine is not None:
            engine.set_margin(0.0)  # the bound needs the exact ranges
        bound_lp = solve_lp(problem, costs, lp_solver, engine, deadline)
        lower_bound = bound_lp.objective if bound_lp is not None else None
    if can_prove and (prove or violation(problem, labels) > 0):
        left = 3600.0 if time_limit is None else start + time_limit - time.perf_counter()
        exact = solve_exact(problem, labels, centers, max(left, 1.0))
        log.info(
            "exact model: %s after %d rounds",
            "infeasible" if exact.infeasible else ("optimal" if exact.optimal else "stopped"),
            exact.rounds,
        )
        if exact.infeasible:
            raise InfeasibleError(f"No contiguous, balanced plan exists: {exact.infeasible}.")
        if exact.labels is not None and exact.centers is not None:
            better = plan_score(problem, exact.labels, exact.centers) < plan_score(
                problem, labels, centers
            )
            if better:
                labels, centers = exact.labels, exact.centers
                costs = problem.costs(centers)
        if exact.bound is not None:
            lower_bound, scope = exact.bound, "all plans"
        timed_out = timed_out or not (exact.optimal or exact.infeasible)
    if given_names is None:
        # Number territories from west to east, so that plans read naturally on the map.
        order = np.argsort(problem.center_xy(centers)[:, 0], kind="stable")
        rank = np.empty(problem.k, dtype=np.int64)
        rank[order] = np.arange(problem.k)
        labels, centers, costs = rank[labels], centers[order], costs[:, order]
        problem.reorder(order)
    objective_value = float(costs[np.arange(problem.n), labels].sum())
    # Back in the user's units when the first measure was rescaled (problem.scale).
    objective_value /= float(problem.scale[0])
    if lower_bound is not None:
        lower_bound /= float(problem.scale[0])
    names = given_names or [territory_name(j, problem.k) for j in range(problem.k)]
    problems = broken_promises(problem, labels, names)
    if problems and np.isfinite(problem.budget):
        problems.append(budget_advice(problem, labels, costs, realign["max_moved_meaning"]))
    if timed_out:
        warnings.warn(
            f"design stopped by the time limit ({time_limit:g} s) after {rounds} rounds; "
            "the plan is the best found so far (plan.params['time_limit_reached'])",
            GeoterrWarning,
            stacklevel=2,
        )
    seconds = time.perf_counter() - start
    params = {
        "n_territories": problem.k,
        "balance": tolerances,
        "capacity": None if capacity is None else [float(c) for c in capacity],
        "fixed_centers": fixed_names is not None,
        "costs": "user matrix" if problem.cost_matrix is not None else "straight line",
        "objective": objective,
        "solver": getattr(lp_solver, "name", str(lp_solver)),
        "time_limit": time_limit,
        "max_iter": max_iter,
        "random_state": random_state,
        "rounds": rounds,
        "time_limit_reached": timed_out,
        "locked_units": int((problem.locked >= 0).sum()),
        "lower_bound_scope": scope if lower_bound is not None else None,
        **realign,
    }
    if current is not None:
        moved = (problem.current >= 0) & (labels != problem.current)
        params["moved_units"] = int(moved.sum())
        params["moved_customers"] = int(units.gdf[COUNT].to_numpy()[moved].sum())
        params["moved_share"] = float(problem.loads[moved, 0].sum() / problem.loads[:, 0].sum())
    plan = build_plan(
        units,
        problem,
        labels,
        problem.center_xy(centers),
        names=names,
        center_units=(
            [problem.ids[int(c)] for c in centers] if problem.cost_matrix is not None else None
        ),
        params=params,
        problems=problems,
        objective=objective_value,
        lower_bound=lower_bound,
        seconds=seconds,
    )
    if current is not None and plan.customers is not None:
        plan.customers["territory_before"] = before_by_customer(current, units)
    if plan.problems:
        warnings.warn(
            "the plan does not keep every promise: " + "; ".join(plan.problems),
            GeoterrWarning,
            stacklevel=2,
        )
    log.info("done in %.1f s: status %s", seconds, plan.status)
    return plan


def _budget_refusal(problem: Problem, costs: np.ndarray, meaning: str) -> str:
    """Why the balanced assignment LP has no solution under a move budget, and what works."""
    advice = budget_advice(problem, None, costs, meaning)
    if "no plan can move less than" in advice:
        return (
            f"No balanced plan exists within max_moved ({meaning}): even without contiguity, "
            f"balance cannot be reached by moving that little; {advice}."
        )
    return (
        "the balanced assignment model has no solution, whatever the budget; check the "
        f"tolerances and the locked units. {advice}."
    )


def _budget_candidate(
    problem: Problem, best: tuple[tuple[float, float], np.ndarray, np.ndarray], *, fixed: bool
) -> tuple[tuple[float, float], np.ndarray, np.ndarray]:
    """Under a move budget, the better of the rounds' best plan and a plan grown from the
    current territories that spends the budget only on balance (:mod:`geoterr.design.budget`)."""
    labels, _ = budget_start(problem, problem.costs(best[2]))
    centers = best[2] if fixed else move_centers(problem, labels, best[2])
    score = plan_score(problem, labels, centers)
    log.info("budget start from the current plan: violation %.4f", score[0])
    return (score, labels, centers) if score < best[0] else best


def _repair(
    problem: Problem,
    labels: np.ndarray,
    costs: np.ndarray,
    centers: np.ndarray,
    solver: Any,
    start: float,
    time_limit: float | None,
    *,
    final: bool,
) -> np.ndarray:
    """Local search to contiguity and balance; then, for small instances (every round) or a
    plan still broken in the final round, the exact contiguous assignment to the same centers
    (cuts where violated)."""
    search = Search(problem, labels, costs)
    search.make_contiguous()
    search.restore_balance()
    search.improve()
    labels = search.labels
    broken = violation(problem, labels) > 0
    small = exact_every_round(problem)
    if small or (broken and final):
        now = time.perf_counter()
        deadline = None if time_limit is None else start + time_limit
        if not (small and broken and final):
            # Improving a plan that keeps its promises, repairing a large one, or a round
            # before the final one gets a short budget of its own; only a broken small plan
            # in the final round may use all remaining time (Nebraska's counties: the first
            # round's centers admit no plan, and its repair used all 60 s).
            budget = REPAIR_SECONDS if time_limit is None else min(REPAIR_SECONDS, 0.2 * time_limit)
            deadline = min(deadline or np.inf, now + budget)
        timed = copy.copy(solver)
        if deadline is not None and hasattr(timed, "timeLimit"):
            timed.timeLimit = max(1.0, deadline - now)
        exact = contiguous_assignment(
            problem,
            costs,
            labels,
            roots_of(problem, labels, centers),
            timed,
            deadline=deadline,
            max_vars=FREE_VARS if final else ROUND_FREE_VARS,
            focus=trouble(problem, labels) if broken else None,
        )
        if exact is not None:
            labels = exact
    return labels


def exact_every_round(problem: Problem) -> bool:
    """Does every round end with the exact contiguous step? Up to EXACT_VARS unit x
    territory pairs for one balanced measure; its MIP gets harder with every measure, so the
    threshold is shared by them (three activities: 1,666 pairs)."""
    return problem.n * problem.k * max(problem.loads.shape[1], 1) <= EXACT_VARS


def _prove_no_partition(problem: Problem, steps: int, seconds: float) -> bool | None:
    """Raise :class:`InfeasibleError` when a small instance provably has no split into
    contiguous territories within the loosest ranges (:func:`partition_search`); otherwise
    say whether a split was found (None: not searched, or not to the end)."""
    if problem.closed.any():  # kept territories are taken as they are, in range or not
        return None
    answer, used = partition_search(problem, steps=steps, seconds=seconds)
    if answer is not False:
        return answer
    ranges = ", ".join(
        f"{name} in [{_n(float(problem.in_user_units(problem.lower[:, m].min(), m)))}, "
        f"{_n(float(problem.in_user_units(problem.upper[:, m].max(), m)))}]"
        for m, name in enumerate(problem.names)
    )
    msg = (
        f"No contiguous, balanced plan exists: the {problem.n} units cannot be split into "
        f"{problem.k} connected territories with {ranges} (every territory that could hold "
        f"the heaviest unit was tried, and what each leaves behind cannot be split; an "
        f"exhaustive search of {used:,} connected groups)."
    )
    raise InfeasibleError(msg)


def _why_no_proof(problem: Problem, fixed_names: list[str] | None, solver: Any) -> str:
    """Why the exact model of ``prove=True`` does not apply, in words."""
    from geoterr.design.exact import MAX_UNITS

    if not is_highs(solver):
        return f"the exact model needs HiGHS (highspy), but the solver is {solver.name}"
    if fixed_names is not None:
        return "the centers are fixed"
    if problem.cost_matrix is None:
        return "it needs centers that are units (`costs=`)"
    if problem.n > MAX_UNITS:
        return f"it handles at most {MAX_UNITS} units, and there are {problem.n}"
    return "it does not handle `locked` units or `capacity`"


def _out_of_time(start: float, limit: float | None) -> bool:
    return limit is not None and time.perf_counter() - start > limit


def _describe(bound: Bound) -> str:
    if isinstance(bound, tuple):
        return f"in [{_n(bound[0])}, {_n(bound[1])}]"
    return f"+-{bound:.1%}"
