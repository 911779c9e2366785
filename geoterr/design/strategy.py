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
# After the coarse start (large instances, centers on straight lines), a round that improved
# the best plan moves each center CENTER_STEP times as far as to its territory's best point
# (over-relaxation, design/center_steps.py); after one that did not, the plain move, and each
# later step past the points is half as long past them. The centers creep toward their fixed
# point a little each round: 200,000 units into 1,000 territories reached in 13 rounds with a
# step of 2 the objective that 26 plain rounds reached; a step of 3 overshot (50,000 units
# into 100: no round better than the first).
CENTER_STEP = 2.0
# The most rounds by default (the user's max_iter otherwise), and after a coarse start, whose
# rounds only polish: 15 over-relaxed rounds gave a lower objective than the plain rounds
# reached when they stalled (26 rounds for 200,000 units into 1,000 territories, 21 for
# 50,000 into 100; docs/benchmarks.md, "Scale").
MAX_ROUNDS = 30
POLISH_ROUNDS = 15
# Every step stops by counts (rounds, cut rounds, search steps), so that the same input and
# seed give the same plan on any machine, however fast or loaded. The seconds below are only
# safety nets: a step they stop marks the plan as cut short (plan.params["cut_short"]).
#
# The exact repair of a round, or of a plan that keeps its promises, runs at most
# REPAIR_ROUNDS rounds of cuts and starts no new one once its simplex iterations times its
# columns pass REPAIR_WORK (South Carolina's 46 counties into 7, 322 columns: the MIP's work
# grows with every round of cuts, and 150,000 iterations x 322 columns are 11 rounds, about
# 10 s on a 2026 laptop core), with REPAIR_SECONDS (and REPAIR_SHARE of the time limit) as
# its safety net; only a broken small plan in the final round may use all the time left
# (Nebraska's counties: the first round's centers admit no plan).
REPAIR_ROUNDS = 30
REPAIR_WORK = 50_000_000
REPAIR_SECONDS = 120.0
REPAIR_SHARE = 0.5
# Steps of the exhaustive search for a split into contiguous territories
# (design/split_search.py): a short one before the first round proves most infeasible small
# instances at once; a longer one follows a first round that breaks a promise. A step takes
# 20-40 us on a 2026 laptop core (South Carolina's 46 counties into 7: 22,844 steps, 0.6 s),
# so the seconds, ten times that, are a safety net only.
QUICK_STEPS, QUICK_SECONDS = 3_000, 3.0
PARTITION_STEPS, PARTITION_SECONDS = 30_000, 20.0
# With a cost matrix, the rounds give way to the territories LP and the tree model once
# they stall (two rounds in a row) or after COLUMN_AFTER rounds; the column generation
# stops by its own rules (stalled, or COLUMN_ROUNDS pricing rounds: Kansas's 105 counties
# stall after 94, 7 s), with COLUMN_SECONDS and COLUMN_SHARE of the time left as its safety
# net.
COLUMN_AFTER = 4
COLUMN_ROUNDS = 100
COLUMN_SHARE = 0.8
COLUMN_SECONDS = 120.0
# A plan that still breaks a promise after this many rounds leaves them for the exact model,
# when it can take over.
EXACT_HANDOVER = 4
# The bound for all plans (design/global_bound.py, on the exact model's instances): at most
# BOUND_ROUNDS LP rounds of one exact pricing per center, each pricing MIP with at most
# BOUND_CUTS rounds of contiguity cuts and BOUND_NODES branch-and-bound nodes per solve (its
# bound stays valid when one of them stops it), BOUND_SHARE of the time left as safety net.
# It runs with prove=True after the exact model, when that did not prove the plan optimal and
# time is left, from BOUND_MIN_UNITS units on: below, the LP is weak (Maine's 16 counties:
# 0.86 of the optimum) and the exact model is the better use of the time.
BOUND_MIN_UNITS = 50
# The optimum by enumeration (design/enumeration.py, on the exact model's instances, by
# default): the search for every connected group within the range stops after ENUM_STEPS
# steps (Maine's 16 counties into 2: 3,009 steps, 0.1 s; New Mexico's 33 into 3 run out),
# with ENUM_SECONDS, ten times what they take, as its safety net (and for its MIP).
ENUM_STEPS = 20_000
ENUM_SECONDS = 10.0
BOUND_ROUNDS = 60
BOUND_CUTS = 30
BOUND_NODES = 2_000
BOUND_SHARE = 0.5


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
    global_bound : bool
        The final plan gets a bound valid for all plans (:mod:`geoterr.design.global_bound`).
    center_step : float
        How far the centers move after a round that improved the plan, as a multiple of the
        way to each territory's best point (see :data:`CENTER_STEP`; 1: the plain step).
    """

    max_iter: int
    exact_every_round: bool
    columns: bool
    swaps: bool
    can_prove: bool
    partition: bool
    global_bound: bool = False
    center_step: float = 1.0


def exact_every_round(problem: Problem) -> bool:
    """Tell whether every round ends with the exact contiguous step (see EXACT_VARS)."""
    return bool(problem.n * problem.k * max(problem.loads.shape[1], 1) <= EXACT_VARS)


def choose(
    problem: Problem,
    *,
    fixed_centers: bool,
    solver: Any,
    max_iter: int | None,
    min_max: bool = False,
    polish: bool = False,
) -> Strategy:
    """Return the steps for this problem (see :class:`Strategy` and the thresholds above).

    ``min_max`` (objective "diameter" or "radius"): the rounds only give the dispersion step
    its start, a plan that keeps every promise, so the center swaps and the territories LP,
    which refine the sum objective, are left out. ``polish``: the rounds start from the
    coarse start's centers, so they take over-relaxed steps and at most POLISH_ROUNDS
    (``max_iter``, when given, wins; by default MAX_ROUNDS otherwise).
    """
    can_prove = (
        not fixed_centers
        and exact_applies(problem)
        and is_highs(solver)
        and not unsupported(problem, "exact")
    )
    realigning = bool((problem.current >= 0).any())
    small = problem.n * problem.k <= EXACT_VARS
    if fixed_centers:
        rounds = 1
    elif max_iter is not None:
        rounds = max_iter
    else:
        rounds = POLISH_ROUNDS if polish else MAX_ROUNDS
    columns = (
        can_prove
        and not realigning
        and rounds > 1
        and not unsupported(problem, "columns")
        and not unsupported(problem, "tree")
        and not min_max
    )
    return Strategy(
        max_iter=rounds,
        exact_every_round=exact_every_round(problem),
        columns=columns,
        swaps=not fixed_centers and problem.cost_matrix is not None and small and not min_max,
        can_prove=can_prove,
        partition=not unsupported(problem, "partition"),
        global_bound=(
            not fixed_centers
            and not realigning
            and is_highs(solver)
            and exact_applies(problem)
            and not unsupported(problem, "exact")
        ),
        center_step=CENTER_STEP if polish and not fixed_centers else 1.0,
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


# The min-max dispersion step (design/dispersion.py, objective="diameter" or "radius"): a
# descent of at most DISPERSION_STEPS moves, then DISPERSION_SHAKES rounds of shaking (up to
# DISPERSION_DEPTH random moves) and descent, ending earlier after DISPERSION_STALE shakes in
# a row that find no better plan (DISPERSION_STALE_PER_UNIT per unit on small instances, whose
# plans are few); each step tries at most DISPERSION_TRIES
# candidates for contiguity. The unit-to-unit distances are one (n, n) matrix: up to
# DISPERSION_MAX_UNITS units (5,000: 200 MB).
DISPERSION_STEPS = 5_000
DISPERSION_SHAKES = 600
DISPERSION_DEPTH = 8
DISPERSION_STALE = 300
DISPERSION_STALE_PER_UNIT = 5
DISPERSION_TRIES = 50
DISPERSION_MAX_UNITS = 5_000
