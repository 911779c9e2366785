"""Territory design: balanced, contiguous, compact territories from basic units.

The public entry point is :func:`design`. The steps (see ``DESIGN.md``):

1. weighted k-means centers (scikit-learn) as a start;
2. a balanced assignment LP to those centers (PuLP + HiGHS), its few fractional units decided
   by a small MIP (:mod:`geoterr.design.model`);
3. repairs on the unit graph: detached pieces join a neighbour, border units move until every
   territory is inside its range, then cheaper border moves (:mod:`geoterr.design.local_search`);
4. centers move to the best point of their territory and steps 2-3 repeat while the plan
   improves.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np

from geoterr._errors import GeoterrWarning, InfeasibleError, InputError
from geoterr.design.local_search import Search
from geoterr.design.model import resolve_solver, round_assignment, solve_lp
from geoterr.design.problem import Problem, components_of, make_problem, parse_balance
from geoterr.design.seeds import kmeans_centers, update_centers
from geoterr.plan import Plan, build_plan, territory_name
from geoterr.units import Units

__all__ = ["design"]

log = logging.getLogger(__name__)


def design(
    units: Units,
    n_territories: int,
    *,
    balance: Mapping[str, float] | str | None = None,
    objective: Literal["distance", "inertia"] = "distance",
    solver: Any = "highs",
    time_limit: float | None = 60.0,
    max_iter: int = 8,
    random_state: int | None = 0,
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
        every territory's total of each measure stays within that share of the mean. The
        CLI's ``"workload:0.05,annual_revenue:10%"`` is accepted too. Default: the customer
        count within 5 %. The first measure also weighs the objective.
    objective : {"distance", "inertia"}
        Minimise the sum of weight x distance to the territory center, or weight x squared
        distance (rounder territories, less tolerance for outliers).
    solver : str or pulp.LpSolver
        ``"highs"`` (default, HiGHS via highspy; CBC if highspy is missing), ``"cbc"``, any
        name ``pulp.getSolver`` knows, or a configured PuLP solver.
    time_limit : float or None
        Seconds for the whole design. When it runs out, the best plan found so far is
        returned with a warning.
    max_iter : int
        At most this many rounds of "assign, repair, move centers".
    random_state : int or None
        Seed of the k-means start; the same seed gives the same plan.
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
    if time_limit is not None and not time_limit > 0:
        msg = f"`time_limit` must be a positive number of seconds or None, got {time_limit!r}."
        raise InputError(msg)
    if verbose:
        log.setLevel(logging.INFO)
    start = time.perf_counter()
    tolerances = parse_balance(balance, units)
    problem = make_problem(units, n_territories, tolerances, inertia=objective == "inertia")
    lp_solver = resolve_solver(solver, time_limit)
    log.info(
        "designing %d territories from %d units, balancing %s",
        problem.k,
        problem.n,
        ", ".join(f"{m} +-{t:.1%}" for m, t in tolerances.items()),
    )

    centers = kmeans_centers(problem.xy, problem.weight, problem.k, random_state)
    best: tuple[tuple[float, float], np.ndarray, np.ndarray] | None = None
    timed_out = False
    rounds = 0
    stale = 0
    for rounds in range(1, max_iter + 1):
        costs = problem.costs(centers)
        lp = solve_lp(problem, costs, lp_solver)
        if lp is None:
            timed_out = _out_of_time(start, time_limit)
            if best is None and not timed_out:
                msg = "the balanced assignment model has no solution; check the tolerances."
                raise InfeasibleError(msg)
            break
        labels = round_assignment(problem, costs, lp, lp_solver)
        search = Search(problem, labels, costs)
        search.make_contiguous()
        search.restore_balance()
        search.improve()
        labels = search.labels
        centers = update_centers(
            problem.xy, problem.weight, labels, centers, inertia=problem.inertia
        )
        score = _score(problem, labels, centers)
        log.info(
            "round %d: objective %.6g, violation %.4f, %d repair moves (%.1f s)",
            rounds,
            score[1],
            score[0],
            search.moves,
            time.perf_counter() - start,
        )
        if best is None or score < best[0]:
            gain = (
                1.0
                if best is None or best[0][0] > score[0]
                else (best[0][1] - score[1]) / max(best[0][1], 1e-12)
            )
            best = (score, labels.copy(), centers.copy())
            stale = stale + 1 if gain < 1e-3 else 0
        else:
            stale += 1
        if stale >= 2:
            break
        if _out_of_time(start, time_limit):
            timed_out = rounds < max_iter
            break
    assert best is not None
    _, labels, centers = best

    # Final polish with the final centers, then the bound for those centers.
    costs = problem.costs(centers)
    search = Search(problem, labels, costs)
    search.make_contiguous()
    search.restore_balance()
    search.improve()
    labels = search.labels
    # Number territories from west to east, so that plans read naturally on the map.
    order = np.argsort(centers[:, 0], kind="stable")
    rank = np.empty(problem.k, dtype=np.int64)
    rank[order] = np.arange(problem.k)
    labels, centers, costs = rank[labels], centers[order], costs[:, order]
    lower_bound = None
    if not _out_of_time(start, time_limit):
        bound_lp = solve_lp(problem, costs, lp_solver)
        lower_bound = bound_lp.objective if bound_lp is not None else None
    objective_value = float(costs[np.arange(problem.n), labels].sum())
    problems = _broken_promises(problem, labels)
    if timed_out:
        problems.insert(
            0,
            f"stopped by the time limit ({time_limit:g} s) after {rounds} rounds; "
            "this is the best plan found so far",
        )
    seconds = time.perf_counter() - start
    params = {
        "n_territories": problem.k,
        "balance": tolerances,
        "objective": objective,
        "solver": getattr(lp_solver, "name", str(lp_solver)),
        "time_limit": time_limit,
        "max_iter": max_iter,
        "random_state": random_state,
        "rounds": rounds,
    }
    plan = build_plan(
        units,
        problem,
        labels,
        centers,
        params=params,
        problems=problems,
        objective=objective_value,
        lower_bound=lower_bound,
        seconds=seconds,
    )
    if plan.problems:
        warnings.warn(
            "the plan does not keep every promise: " + "; ".join(plan.problems),
            GeoterrWarning,
            stacklevel=2,
        )
    log.info("done in %.1f s: status %s", seconds, plan.status)
    return plan


def _out_of_time(start: float, limit: float | None) -> bool:
    return limit is not None and time.perf_counter() - start > limit


def _score(problem: Problem, labels: np.ndarray, centers: np.ndarray) -> tuple[float, float]:
    """(balance violation + disconnected territories, objective): smaller is better."""
    loads = np.zeros((problem.k, problem.loads.shape[1]))
    np.add.at(loads, labels, problem.loads)
    scale = (problem.lower + problem.upper)[0] / 2
    viol = float(
        (
            (np.maximum(loads - problem.upper, 0) + np.maximum(problem.lower - loads, 0)) / scale
        ).sum()
    )
    pieces = sum(
        len(components_of(np.flatnonzero(labels == j), problem.neighbours, labels == j)) - 1
        for j in range(problem.k)
    )
    d = np.linalg.norm(problem.xy - centers[labels], axis=1) / 1000.0
    obj = float((problem.weight * (d * d if problem.inertia else d)).sum())
    return (round(viol + pieces, 12), obj)


def _broken_promises(problem: Problem, labels: np.ndarray) -> list[str]:
    """Say, in words, every tolerance or contiguity promise the labels break."""
    out = []
    loads = np.zeros((problem.k, problem.loads.shape[1]))
    np.add.at(loads, labels, problem.loads)
    for j in range(problem.k):
        members = np.flatnonzero(labels == j)
        if len(members) == 0:
            out.append(f"territory {territory_name(j, problem.k)} is empty")
            continue
        parts = components_of(members, problem.neighbours, labels == j)
        if len(parts) > 1:
            out.append(
                f"territory {territory_name(j, problem.k)} is in {len(parts)} pieces "
                "(not contiguous)"
            )
        for m, name in enumerate(problem.names):
            lo, up = problem.lower[j, m], problem.upper[j, m]
            if loads[j, m] > up + 1e-9 or loads[j, m] < lo - 1e-9:
                mean = (lo + up) / 2
                out.append(
                    f"territory {territory_name(j, problem.k)} has {name} {loads[j, m]:,.6g}, "
                    f"{loads[j, m] / mean - 1:+.1%} from the mean, outside the tolerance "
                    f"+-{problem.tolerance[m]:.1%}"
                )
    return out
