"""Min-max objectives on a cost matrix: the better of two starts.

With ``objective="diameter"`` or ``"radius"``, a cost matrix, free centers and no
``max_distance``, the rounds can run on straight lines (the matrix then only measures the
spread) or on the matrix itself (medoid centers). Neither start is best on every instance: on
the 21 delivery territory graphs, medoid rounds left one outside its ranges and straight lines
left another at 1.3 times its best diameter. :func:`best_of_two_starts` runs both designs, by
their counts, and keeps the plan that keeps its promises with the smaller spread.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from collections.abc import Callable

from geoterr._errors import InfeasibleError, SolverError
from geoterr.design.first_step import lines_start
from geoterr.design.pipeline import Options
from geoterr.plan import Plan

__all__ = ["best_of_two_starts"]

# The second design needs at least this many seconds of the time limit to be worth starting.
MIN_SECONDS = 1.0

Run = Callable[[Options, bool], Plan]


def best_of_two_starts(options: Options, run: Run) -> Plan:
    """Return the better plan of the two starts, or the one plan when only one applies.

    ``run(options, rounds_on_costs)`` designs once. The warnings of the plan kept are shown,
    the other's are not. ``plan.params["dispersion"]["start_from"]`` says which start won,
    and ``plan.seconds`` counts both designs.
    """
    if not lines_start(options):
        return run(options, False)
    began = time.perf_counter()
    first, first_warnings = _quietly(run, options, rounds_on_costs=False)
    left = None if options.time_limit is None else options.time_limit - first.seconds
    second: Plan | None = None
    second_warnings: list[warnings.WarningMessage] = []
    if left is None or left >= MIN_SECONDS:
        try:
            second, second_warnings = _quietly(
                run, dataclasses.replace(options, time_limit=left), rounds_on_costs=True
            )
        except (InfeasibleError, SolverError):
            second = None  # the first plan stands; only its own result is reported
    keep, shown, start = first, first_warnings, "straight lines"
    if second is not None and _rank(second) < _rank(first):
        keep, shown, start = second, second_warnings, "cost matrix"
    for caught in shown:
        warnings.warn_explicit(caught.message, caught.category, caught.filename, caught.lineno)
    params = dict(keep.params)
    params["dispersion"] = {**params.get("dispersion", {}), "start_from": start}
    if second is None and left is not None and left < MIN_SECONDS:
        params["cut_short"] = True  # the time limit left no room for the second start
    return dataclasses.replace(keep, params=params, seconds=time.perf_counter() - began)


def _quietly(
    run: Run, options: Options, *, rounds_on_costs: bool
) -> tuple[Plan, list[warnings.WarningMessage]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plan = run(options, rounds_on_costs)
    return plan, list(caught)


def _rank(plan: Plan) -> tuple[bool, float]:
    """Plans that keep their promises first, then the smaller largest spread."""
    return plan.status != "feasible", float("inf") if plan.objective is None else plan.objective
