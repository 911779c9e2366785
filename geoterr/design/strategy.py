"""Which steps a design takes, by instance size, solver, constraints and time.

Every threshold of the optimizer in one place, with the reason for it.

:func:`choose` reads a :class:`~geoterr.design.problem.Problem` and the user's options and
returns a :class:`Strategy`; the pipeline (:mod:`geoterr.design.pipeline`) only follows it.
A model that a constraint does not honour is switched off here, from the constraint's own
declaration (:func:`geoterr.design.constraints.unsupported`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from geoterr.design.constraints import unsupported
from geoterr.design.exact import MAX_UNITS, exact_applies
from geoterr.design.model import is_highs
from geoterr.design.problem import Problem

__all__ = ["Strategy", "choose", "why_no_proof"]

# Up to this many unit x territory pairs (per balanced measure: the MIP gets harder with
# each, three activities give 1,666 pairs), every round ends with the exact contiguous
# assignment to the round's centers; above it, only a plan that still breaks a promise in
# the final round is repaired that way.
EXACT_VARS = 5_000
# In the final round's exact repair every unit is free up to this many pairs, and beyond it
# only the units near borders; before the final round only up to ROUND_FREE_VARS (the MIP
# gets slow with tight ranges).
FREE_VARS = 25_000
ROUND_FREE_VARS = 400
# Rounds stop after two in a row improve the objective by less than this share.
STALE_GAIN = 2e-4
# The exact repair of a round, or of a plan that keeps its promises, gets at most this many
# seconds (and 20 % of the time limit); only a broken small plan in the final round may use
# all the time left (Nebraska's counties: the first round's centers admit no plan, and its
# repair used all of 60 s).
REPAIR_SECONDS = 10.0
REPAIR_SHARE = 0.2
# Steps and seconds of the exhaustive search for a split into contiguous territories
# (design/split_search.py): a short one before the first round proves most infeasible small
# instances at once; a longer one follows a first round that breaks a promise.
QUICK_STEPS, QUICK_SECONDS = 3_000, 0.3
PARTITION_STEPS, PARTITION_SECONDS = 30_000, 2.0
# With a cost matrix, the rounds give way to the territories LP and the tree model once
# they stall or have used HEURISTIC_SHARE of the time; those get COLUMN_FACTOR times the
# time so far (an instance the rounds find hard is worth more), within
# [COLUMN_MIN_SECONDS, COLUMN_SECONDS] and at most COLUMN_SHARE of the time left.
HEURISTIC_SHARE = 0.1
COLUMN_SHARE = 0.8
COLUMN_FACTOR = 4.0
COLUMN_MIN_SECONDS, COLUMN_SECONDS = 30.0, 120.0
# A plan that breaks a promise leaves the rounds after this share of the time limit when
# the exact model can take over.
EXACT_HANDOVER = 0.3


@dataclass(frozen=True)
class Strategy:
    """The steps of one design.

    Attributes
    ----------
    max_iter : int
        Rounds of assign, round, repair, recenter (1 with fixed centers: they never move).
    exact_every_round : bool
        Every round ends with the exact contiguous assignment (small instances).
    columns : bool
        Once the rounds stall, centers from the territories LP and a plan from the tree
        model (cost matrix, small, exact model available, no realignment).
    swaps : bool
        Once the medoid moves stall, propose centers by swaps (cost matrix, small).
    can_prove : bool
        The exact model may run after the rounds (always with ``prove``, otherwise only
        for a plan that breaks a promise).
    partition : bool
        The exhaustive search for a split may prove infeasibility (small instances without
        kept territories).
    """

    max_iter: int
    exact_every_round: bool
    columns: bool
    swaps: bool
    can_prove: bool
    partition: bool


def exact_every_round(problem: Problem) -> bool:
    """Tell whether every round ends with the exact contiguous step (see EXACT_VARS)."""
    return bool(problem.n * problem.k * max(problem.loads.shape[1], 1) <= EXACT_VARS)


def choose(problem: Problem, *, fixed_centers: bool, solver: Any, max_iter: int) -> Strategy:
    """Return the steps for this problem (see :class:`Strategy` and the thresholds above)."""
    can_prove = (
        not fixed_centers
        and exact_applies(problem)
        and is_highs(solver)
        and not unsupported(problem, "exact")
    )
    realigning = bool((problem.current >= 0).any())
    small = problem.n * problem.k <= EXACT_VARS
    rounds = 1 if fixed_centers else max_iter
    columns = (
        can_prove
        and not realigning
        and rounds > 1
        and not unsupported(problem, "columns")
        and not unsupported(problem, "tree")
    )
    return Strategy(
        max_iter=rounds,
        exact_every_round=exact_every_round(problem),
        columns=columns,
        swaps=not fixed_centers and problem.cost_matrix is not None and small,
        can_prove=can_prove,
        partition=not unsupported(problem, "partition"),
    )


def why_no_proof(problem: Problem, fixed_centers: bool, solver: Any) -> str:
    """Why the exact model of ``prove=True`` does not apply, in words."""
    if not is_highs(solver):
        return f"the exact model needs HiGHS (highspy), but the solver is {solver.name}"
    if fixed_centers:
        return "the centers are fixed"
    if problem.cost_matrix is None:
        return "it needs centers that are units (`costs=`)"
    if problem.n > MAX_UNITS:
        return f"it handles at most {MAX_UNITS} units, and there are {problem.n}"
    ignored = unsupported(problem, "exact")
    if ignored:
        return f"the exact model does not honour {', '.join(ignored)}"
    return "it does not handle `locked` units or `capacity`"
