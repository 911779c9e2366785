"""The steps of :func:`geoterr.design`, in order, each a function of its own.

1. :func:`geoterr.design.first_step.set_up`: the problem in arrays (balance, capacity, costs,
   the user's constraints), the solver, the start centers, the realignment and the locks, the
   strategy;
2. :func:`run_rounds`: rounds of assign (LP), round (small MIP), repair (local search and,
   on small instances, the exact contiguous step) and recenter, with the territories LP and
   the tree model or center swaps when the strategy says so;
3. :func:`geoterr.design.final_step.finish`: the plan grown from the current one under a
   move budget, the final repair, the bound for the final centers, the exact model (optimum,
   bound for every plan, or proof), and the min-max search for ``"diameter"`` or ``"radius"``;
4. :func:`geoterr.design.plan_output.to_plan`: territories named from west to east, the
   broken promises in words, and the :class:`~geoterr.Plan`.

The choice of steps is made once, by :func:`geoterr.design.strategy.choose`.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from geoterr._errors import InfeasibleError, SolverError
from geoterr._errors import format_number as _n
from geoterr.design import strategy as st
from geoterr.design.budget import budget_advice
from geoterr.design.center_steps import CenterSteps
from geoterr.design.centers import move_centers, swap_centers
from geoterr.design.column_plan import column_plan
from geoterr.design.constraints import allowed_pairs, penalties, recentered
from geoterr.design.contiguity import FreeScope, Limits, contiguous_assignment, roots_of
from geoterr.design.highs_model import HighsAssignment
from geoterr.design.local_search import Search
from geoterr.design.model import (
    engine_timed_out,
    round_assignment,
    solve_lp,
)
from geoterr.design.problem import Bound, Problem
from geoterr.design.split_search import partition_search
from geoterr.design.violations import plan_score, trouble, violation
from geoterr.units import Units

__all__ = ["Options", "progress", "record_cut", "repair", "run_rounds"]

log = logging.getLogger("geoterr.design")

Score = tuple[float, float]


@dataclass(frozen=True)
class Options:
    """The arguments of :func:`geoterr.design`, as given (see its docstring)."""

    balance: Any = None
    objective: str = "distance"
    centers: Any = None
    capacity: Any = None
    costs: Any = None
    locked: Any = None
    current: Any = None
    max_moved: float | None = None
    move_penalty: float = 0.0
    keep_territories: Any = None
    enclaves: str = "raise"
    max_distance: float | None = None
    solver: Any = "highs"
    time_limit: float | None = 60.0
    max_iter: int | None = None
    random_state: int | None = 0
    prove: bool = False


@dataclass
class Clock:
    """The design's time limit, from its start."""

    limit: float | None
    start: float = field(default_factory=time.perf_counter)
    # Set when seconds (a step's safety net, or the time limit) stopped a step before its own
    # rules did: the plan then depends on the machine's speed, and says it was cut short.
    cut: bool = False

    @property
    def deadline(self) -> float | None:
        return None if self.limit is None else self.start + self.limit

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def out(self) -> bool:
        return self.limit is not None and self.elapsed() > self.limit

    def left(self, default: float) -> float:
        return default if self.limit is None else self.limit - self.elapsed()


@dataclass
class Setup:
    """Everything the rounds need, fixed before the first one."""

    units: Units
    problem: Problem
    options: Options
    tolerances: dict[str, Bound]
    solver: Any
    engine: HighsAssignment | None
    strategy: st.Strategy
    clock: Clock
    centers: np.ndarray
    fixed_names: list[str] | None
    given_names: list[str] | None
    realign: dict[str, Any]
    # objective="diameter" or "radius" with `costs` the rounds do not use: the spread's
    # distances (see _problem).
    spread_costs: np.ndarray | None = None
    # Exact repairs that ran to their counts and found nothing: the same call again (the final
    # repair of the round's own plan, say) would find nothing again, so it is not re-run.
    fruitless: set[bytes] = field(default_factory=set)


@dataclass
class Rounds:
    """What the rounds found: the best plan, and how they ended."""

    score: Score
    labels: np.ndarray
    centers: np.ndarray
    count: int = 0
    timed_out: bool = False


@dataclass
class Final:
    """The plan after the final repair, with its bound."""

    labels: np.ndarray
    centers: np.ndarray
    costs: np.ndarray
    lower_bound: float | None
    scope: str
    timed_out: bool
    # objective="diameter" or "radius": the plan's largest spread (plan.objective) and what
    # the dispersion step did (plan.params["dispersion"]).
    spread: float | None = None
    dispersion: dict[str, Any] | None = None


@contextmanager
def progress(verbose: bool) -> Iterator[None]:
    """With ``verbose``, progress lines on stderr for this design only.

    The package logger's level (and a handler, when nothing else shows its records) are restored
    afterwards.
    """
    if not verbose:
        yield
        return
    package = logging.getLogger("geoterr")
    level = package.level
    handler = None
    if not package.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("geoterr: %(message)s"))
        package.addHandler(handler)
    package.setLevel(logging.INFO)
    try:
        yield
    finally:
        package.setLevel(level)
        if handler is not None:
            package.removeHandler(handler)


# ------------------------------------------------------------------------------ rounds
def run_rounds(setup: Setup) -> Rounds:
    """Step 2: rounds of assign, round, repair and recenter while the plan improves."""
    problem, strategy = setup.problem, setup.strategy
    split_exists = _prove_no_partition(setup, st.QUICK_STEPS, st.QUICK_SECONDS)
    centers = setup.centers
    best: Rounds | None = None
    stale, swapping, columns = 0, False, strategy.columns
    count = 0
    last: tuple[np.ndarray, np.ndarray] | None = None  # a round's centers and its plan
    steps = CenterSteps(strategy.center_step) if strategy.center_step != 1.0 else None
    for count in range(1, strategy.max_iter + 1):
        if last is not None and np.array_equal(last[0], centers):
            labels = last[1].copy()  # the same centers give the same round: not solved again
        else:
            given = centers.copy()
            planned = _assign(setup, centers, best)
            if planned is None:
                break
            labels, last = planned, (given, planned.copy())
        used = centers
        if setup.fixed_names is None:  # fixed centers never move
            centers = recentered(problem, labels, move_centers(problem, labels, centers))
        score = plan_score(problem, labels, centers)
        log.info(
            "round %d: objective %.6g, violation %.4f (%.1f s)",
            count, score[1], score[0], setup.clock.elapsed(),
        )  # fmt: skip
        if count == 1 and score[0] > 0 and split_exists is None:
            _prove_no_partition(setup, st.PARTITION_STEPS, st.PARTITION_SECONDS)
        improved = best is None or score < best.score
        best, stale = _keep_best(best, score, labels, centers, stale)
        if steps is not None:  # a step past the best points that overshot is not a stall
            stale -= int(steps.stretched and not improved)
            centers = steps.next_centers(problem, labels, used, centers, improved)
        if columns and (stale >= 2 or count >= st.COLUMN_AFTER):
            columns = False
            found = _column_plan(setup, best)
            if found is not None:
                best, centers, stale, swapping = found, found.centers, 0, False
                continue
        if strategy.swaps and (swapping or stale >= 2):
            # Once the medoid moves stall, propose centers by swaps from the best plan; a
            # round's plan decides, and a proposal that does not improve ends the search.
            if swapping and stale > 0:
                break
            swapping, stale = True, 0
            centers = swap_centers(
                problem, best.labels, best.centers, setup.solver, setup.engine,
                setup.clock.deadline,
            )  # fmt: skip
        elif stale >= 2:
            break
        if _hand_over(setup, best, count):
            break
        if setup.clock.out():
            best.timed_out = count < strategy.max_iter
            break
    if best is None:
        raise _no_first_plan(setup)
    best.count = count
    return best


def _assign(setup: Setup, centers: np.ndarray, best: Rounds | None) -> np.ndarray | None:
    """One round's plan for these centers: the LP, its rounding, the repairs.

    None when the LP has no solution after a first plan (the rounds end); before one, the reason.
    """
    problem, clock = setup.problem, setup.clock
    costs = problem.costs(centers)
    allowed = allowed_pairs(problem, centers)
    lp = solve_lp(problem, costs, setup.solver, setup.engine, clock.deadline, allowed)
    extra = penalties(problem, centers) if lp is None and not clock.out() else None
    if extra is not None:
        # These centers cannot keep a limit that depends on them (max_distance): this
        # round prices the pairs it forbids instead, and the centers move on from its plan.
        costs = costs + extra
        allowed = allowed_pairs(problem, None)
        lp = solve_lp(problem, costs, setup.solver, setup.engine, clock.deadline, allowed)
    if lp is None:
        if best is not None:
            best.timed_out = clock.out() or engine_timed_out(setup.engine)
            return None
        if not (clock.out() or engine_timed_out(setup.engine)):
            raise InfeasibleError(_lp_refusal(setup, costs))
        return None
    labels = round_assignment(problem, costs, lp, setup.solver, clock.deadline, allowed)
    final = setup.strategy.max_iter == 1
    return repair(setup, labels, costs, centers, final=final)


def _keep_best(
    best: Rounds | None, score: Score, labels: np.ndarray, centers: np.ndarray, stale: int
) -> tuple[Rounds, int]:
    """Return the better of the best plan so far and this round's, and the stale count.

    The count is of rounds in a row that improved the best plan by less than STALE_GAIN.
    """
    if best is not None and not score < best.score:
        return best, stale + 1
    gain = (
        1.0
        if best is None or best.score[0] > score[0]
        else (best.score[1] - score[1]) / max(best.score[1], 1e-12)
    )
    timed_out = best.timed_out if best is not None else False
    kept = Rounds(score, labels.copy(), centers.copy(), timed_out=timed_out)
    return kept, stale + 1 if gain < st.STALE_GAIN else 0


def _column_plan(setup: Setup, best: Rounds) -> Rounds | None:
    """Centers from the territories LP, a plan from the tree model.

    Returned when better than the rounds' best (the rounds go on from its centers).
    """
    seconds = st.COLUMN_SECONDS
    if setup.clock.limit is not None:
        seconds = min(seconds, st.COLUMN_SHARE * setup.clock.left(seconds))
    found = column_plan(
        setup.problem,
        seconds,
        start=(best.labels, best.centers),
        random_state=setup.options.random_state,
        max_rounds=st.COLUMN_ROUNDS,
    )
    if found is None:
        return None
    if found.cut:
        record_cut(setup, "the territories LP and tree model")
    score = plan_score(setup.problem, found.labels, found.centers)
    log.info("territories LP and tree model: objective %.6g", score[1])
    if not score < best.score:
        return None
    return Rounds(score, found.labels, found.centers, timed_out=best.timed_out)


def record_cut(setup: Setup, step: str) -> None:
    """Record that ``step`` was stopped by seconds, not by its own rules.

    By the design's time limit when it has run out (at the end the plan then says it reached
    it), else by the step's own safety net.
    """
    if setup.clock.out():
        log.info("%s stopped by the time limit", step)
    else:
        log.info("%s stopped by its safety net of seconds (%.1f s)", step, setup.clock.elapsed())
    setup.clock.cut = True


def _hand_over(setup: Setup, best: Rounds, count: int) -> bool:
    """Leave the rest to the exact model once a broken plan has had its rounds."""
    return setup.strategy.can_prove and best.score[0] > 0 and count >= st.EXACT_HANDOVER


def _no_first_plan(setup: Setup) -> SolverError:
    limit = setup.clock.limit
    msg = (
        f"the time limit ({limit:g} s) ran out before a first plan: the balanced assignment "
        f"LP over {_n(setup.problem.n)} units and {setup.problem.k} territories did not "
        "finish. Give more time (time_limit=), or fewer units (e.g. a coarser hexagon "
        "resolution in build_units)."
    )
    return SolverError(msg)


def _lp_refusal(setup: Setup, costs: np.ndarray) -> str:
    """Why the first balanced assignment LP has no solution, and what works."""
    problem = setup.problem
    if np.isfinite(problem.budget):
        meaning = setup.realign["max_moved_meaning"]
        advice = budget_advice(problem, None, costs, meaning)
        if "no plan can move less than" in advice:
            return (
                f"No balanced plan exists within max_moved ({meaning}): even without "
                f"contiguity, balance cannot be reached by moving that little; {advice}."
            )
        return (
            "the balanced assignment model has no solution, whatever the budget; check the "
            f"tolerances and the locked units. {advice}."
        )
    limits = "the tolerances and the locked units"
    if setup.options.max_distance is not None:
        limits += f" and max_distance ({_n(float(setup.options.max_distance))})"
    return f"the balanced assignment model has no solution; check {limits}."


# ------------------------------------------------------------------------------ repair
def repair(
    setup: Setup, labels: np.ndarray, costs: np.ndarray, centers: np.ndarray, *, final: bool
) -> np.ndarray:
    """Local search to contiguity and balance.

    Then, for small instances (every round) or a plan still broken in the final round, the exact
    contiguous assignment to the same centers (cuts where violated).
    """
    problem = setup.problem
    allowed = allowed_pairs(problem, centers)
    search = Search(problem, labels, costs, permit=allowed)
    search.make_contiguous()
    search.restore_balance()
    search.improve()
    labels = search.labels
    broken = violation(problem, labels, centers) > 0
    small = setup.strategy.exact_every_round
    if not (small or (broken and final)):
        return labels
    whole = small and broken and final
    key = _repair_key(labels, costs, centers, whole=whole, final=final)
    if key in setup.fruitless:
        log.debug("exact contiguous repair: the same call found nothing before; skipped")
        return labels
    deadline = _repair_deadline(setup, whole=whole)
    timed = copy.copy(setup.solver)
    if deadline is not None and hasattr(timed, "timeLimit"):
        timed.timeLimit = max(1.0, deadline - time.perf_counter())
    exact = contiguous_assignment(
        problem,
        costs,
        labels,
        roots_of(problem, labels, centers),
        timed,
        deadline=deadline,
        limits=Limits() if whole else Limits(st.REPAIR_ROUNDS, st.REPAIR_WORK),
        scope=FreeScope(
            max_vars=st.FREE_VARS if final else st.ROUND_FREE_VARS,
            focus=trouble(problem, labels) if broken else None,
            allowed=allowed,
        ),
    )
    if exact is None and deadline is not None and time.perf_counter() > deadline:
        record_cut(setup, "the exact contiguous repair")  # its safety net, not its rounds or work
    elif exact is None:
        setup.fruitless.add(key)  # stopped by its counts: the same call would stop again
    return labels if exact is None else exact


def _repair_key(
    labels: np.ndarray, costs: np.ndarray, centers: np.ndarray, *, whole: bool, final: bool
) -> bytes:
    """Return a digest of what decides an exact repair: plan, costs, centers and scope."""
    digest = hashlib.blake2b(np.array([whole, final], dtype=np.int8).tobytes())
    for array in (labels, costs, centers):
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.digest()


def _repair_deadline(setup: Setup, *, whole: bool) -> float | None:
    """Only a broken small plan in the final round may use all the time left.

    Any other exact repair stops after REPAIR_ROUNDS rounds of cuts, with a safety net of
    its own (REPAIR_SECONDS, and REPAIR_SHARE of the time limit).
    """
    deadline = setup.clock.deadline
    if whole:
        return deadline
    limit = setup.clock.limit
    budget = st.REPAIR_SECONDS if limit is None else min(st.REPAIR_SECONDS, st.REPAIR_SHARE * limit)
    return min(deadline or np.inf, time.perf_counter() + budget)


def _prove_no_partition(setup: Setup, steps: int, seconds: float) -> bool | None:
    """Raise when a small instance provably has no contiguous split within the ranges.

    Raises :class:`InfeasibleError` when :func:`partition_search` proves that no split into
    contiguous territories fits the loosest ranges; otherwise says whether a split was found (None:
    not searched, or not to the end).
    """
    problem = setup.problem
    if not setup.strategy.partition:
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
