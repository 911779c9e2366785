"""A plan from the centers the territories LP uses: the tree model over them, in two orders.

:func:`column_plan` runs the column generation of :mod:`geoterr.design.territory_lp` for
candidate centers and solves the tree model of :mod:`geoterr.design.tree_model` over them:
over the most used centers, over all of them from that plan, and over all of them again with
"closer" along the unit graph; the best plan is kept.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from geoterr.design.problem import Problem
from geoterr.design.territory_lp import ColumnResult, column_centers
from geoterr.design.tree_model import TreePlan, along_graph_order, tree_plan
from geoterr.design.violations import plan_score

__all__ = ["column_plan"]

# Share of column_plan's time for the column generation (the tree model gets the rest).
LP_SHARE = 0.7
# The tree model first runs over the k + FIRST_EXTRA centers the LP uses most.
FIRST_EXTRA = 5
# A tree model solve is not started with this many seconds or fewer left.
SKIP_SECONDS = 0.5


def _other_order(
    problem: Problem, found: ColumnResult, candidates: np.ndarray, best: TreePlan, deadline: float
) -> tuple[TreePlan | None, bool]:
    """Solve the tree model again with "closer" along the graph.

    Over ``candidates``, with :func:`~geoterr.design.tree_model.along_graph_order`; ``best``
    is offered as its first solution (the solver drops it when it breaks a row of the new
    order). Returns (the new plan when it scores better than ``best``, else None; whether
    the step's seconds stopped or skipped the solve).
    """
    left = deadline - time.perf_counter()
    if left <= SKIP_SECONDS:
        return None, True
    plan = tree_plan(
        problem,
        candidates,
        left,
        start=(best.labels, best.centers),
        pairs=found.pairs,
        order=along_graph_order(problem),
    )
    if plan is None:  # no plan in its seconds, or none at all
        return None, time.perf_counter() >= deadline - SKIP_SECONDS
    better = plan_score(problem, plan.labels, plan.centers)
    kept = plan if better < plan_score(problem, best.labels, best.centers) else None
    return kept, plan.cut


def column_plan(
    problem: Problem,
    seconds: float,
    *,
    start: tuple[np.ndarray, np.ndarray] | None = None,
    random_state: int | None = None,
    max_rounds: int | None = None,
) -> TreePlan | None:
    """Return a plan from the centers the territories LP uses.

    The plan is solved by the tree model of :mod:`geoterr.design.tree_model`; None if it finds none
    in time.

    The column generation gets at most :data:`LP_SHARE` of ``seconds``, the tree model the
    rest (when it finds nothing, the best plan made of the LP's territories is returned, if
    any): first over the ``k +`` :data:`FIRST_EXTRA` most used centers (and the start's),
    then, starting from that plan, over all of them (each more candidate slows the model
    down, and a good first solution speeds it up: on Alabama's counties 5.5 s + 6.4 s
    instead of 19-31 s for all 19 candidates at once), and last over all of them with "closer"
    along the graph (:func:`_other_order`); the solves still to come share the time left
    equally, so that the last one is not starved. Each center gets only the units
    that some territory found around it holds (under half of all pairs on Alabama's counties,
    which makes the model two to three times faster). ``start`` (labels, centers), a plan
    to start from: its territories join the LP, its centers the candidates, and the tree
    model gets it as a first solution when it fits. ``max_rounds`` bounds the column
    generation's LP solves; ``seconds`` is a safety net, and the plan's ``cut`` says when it
    stopped a step (a tree model left short of optimal, a column generation stopped early).
    """
    begin = time.perf_counter()
    found = column_centers(
        problem,
        None if start is None else start[0],
        LP_SHARE * seconds,
        random_state=random_state,
        max_rounds=max_rounds,
    )
    cut = found.cut
    own = np.empty(0, dtype=np.int64) if start is None else start[1].astype(np.int64)
    best: TreePlan | None = None
    # the first solution offered: the better of the start and the LP's own plan (which
    # keeps every promise; the start may not)
    offers = [plan for plan in (start, found.plan) if plan is not None]
    first = min(offers, key=lambda plan: plan_score(problem, *plan)) if offers else None
    tiers = [found.centers[: problem.k + FIRST_EXTRA], found.centers]
    # the solves still to come (this tier's, the next tier's, the other order's) share the time
    solves = 3 if len(tiers[1]) > len(tiers[0]) else 2
    for tier, centers in enumerate(tiers):
        if tier > 0 and len(centers) == len(tiers[0]):
            break
        left = seconds - (time.perf_counter() - begin)
        if left <= SKIP_SECONDS:
            cut = True
            break
        share = left / (solves - tier)
        plan = tree_plan(problem, np.union1d(centers, own), share, start=first, pairs=found.pairs)
        cut = cut or (plan is not None and plan.cut)
        if plan is not None:
            best, first = plan, (plan.labels, plan.centers)
    if best is not None:
        other, stopped = _other_order(
            problem, found, np.union1d(found.centers, own), best, begin + seconds
        )
        cut = cut or stopped
        best = best if other is None else other
    left = seconds - (time.perf_counter() - begin)
    if best is None and left > 1.0:
        # the pairs the LP's territories left out may be needed after all
        best = tree_plan(problem, np.union1d(found.centers, own), left, start=first)
    if best is None and found.plan is not None:
        best = TreePlan(found.plan[0], found.plan[1], optimal=False)
    return None if best is None else dataclasses.replace(best, cut=cut)
