r"""Proofs by enumerating connected groups of units whose loads fit a territory's range.

A territory is a connected group of units whose load of every balanced measure lies in
:math:`[L_m, U_m]` (the loosest range any territory has). Two exhaustive searches over such
groups prove that no plan exists, with a reason a person can check:

- :func:`unplaceable_unit_reasons`: a unit that belongs to *no* such group cannot be in any
  territory (say a big city whose neighbours are all too large to add, and too small
  without them);
- :func:`partition_search`: for small instances, no split of all units into ``k`` such
  groups exists (the territory holding the heaviest unit is enumerated, the rest is split
  recursively; every piece left behind must itself hold a whole number of territories).

Both grow groups by the usual reverse search for connected sets: a group holding unit
:math:`v` either takes the next candidate next to it or rules it out for good, so every
group is seen once. A group over :math:`U` in any measure is never grown (loads are not
negative), a candidate that does not fit is ruled out at once, and a search stops when the
units it can still reach cannot bring it up to :math:`L`. Searches are capped by a number
of steps and then conclude nothing.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator

import numpy as np

from geoterr._errors import format_ids
from geoterr._errors import format_number as _n
from geoterr.design.problem import Problem

__all__ = ["every_group", "partition_search", "unplaceable_unit_reasons"]

# Units searched: those holding at least this share of a territory's lower bound in some
# measure (lighter units sit in a huge number of groups, and one of them nearly always fits).
HEAVY_SHARE = 0.25
# Search steps (groups grown) allowed per unit and for all units together.
UNIT_STEPS = 5_000
TOTAL_STEPS = 50_000
# Units up to which the partition search is tried, and its steps.
PARTITION_UNITS = 80
PARTITION_STEPS = 30_000
# Deepest group the searches grow (Python recursion).
MAX_DEPTH = 600
# Units walked at most when asking whether a group can still reach the lower bound.
REACH = 64
# Seconds at most for each of the two checks (a search stopped early proves nothing).
SECONDS = 2.0


class _OutOfSteps(Exception):
    pass


class _Groups:
    """Connected groups of units with every load within [low, up], around a unit."""

    def __init__(self, problem: Problem, steps: int, seconds: float = SECONDS) -> None:
        self.deadline = time.perf_counter() + seconds
        self.late = False
        self.adj = problem.adjacency
        self.loads = problem.loads
        self.low = problem.lower.min(axis=0)
        self.up = problem.upper.max(axis=0) + 1e-9
        self.order = np.argsort(-(self.loads / np.maximum(self.up, 1e-12)).sum(axis=1))
        self.rank = np.empty(len(self.order), dtype=np.int64)
        self.rank[self.order] = np.arange(len(self.order))
        self.steps = steps
        self.used = 0

    def fits(self, load: np.ndarray) -> bool:
        return bool(np.all(load >= self.low - 1e-9))

    def around(self, v: int, allowed: set[int]) -> Iterator[tuple[list[int], np.ndarray]]:
        """Yield every group inside ``allowed`` holding ``v`` whose loads are at most ``up``.

        Those within the range and, when searched for, the others; heaviest candidates first. Raises
        :class:`_OutOfSteps` past the step budget.
        """
        if np.any(self.loads[v] > self.up):
            return
        frontier = {u for u in self.adj[v] if u in allowed}
        yield from self._grow([v], self.loads[v].copy(), frontier, {v}, allowed, 0)

    def _grow(
        self,
        members: list[int],
        load: np.ndarray,
        frontier: set[int],
        out: set[int],
        allowed: set[int],
        depth: int,
    ) -> Iterator[tuple[list[int], np.ndarray]]:
        self.used += 1
        if self.used > self.steps or depth > MAX_DEPTH:
            raise _OutOfSteps
        if self.used % 256 == 0 and time.perf_counter() > self.deadline:
            self.late = True  # every later search stops too
        if self.late:
            raise _OutOfSteps
        yield members, load
        if not frontier:
            return
        near = np.fromiter(frontier, dtype=np.int64, count=len(frontier))
        cands = near[np.all(self.loads[near] <= self.up - load, axis=1)].tolist()
        if not cands:
            return
        ruled = out | frontier  # units that do not fit are ruled out with the others
        if not self.fits(load) and not self._can_reach(members, load, ruled - set(cands), allowed):
            return
        cands.sort(key=lambda u: self.rank[u])
        for i, u in enumerate(cands):
            new_out = ruled - set(cands[i:])
            new_out.add(u)
            nxt = {w for w in frontier if w not in new_out}
            nxt.update(w for w in self.adj[u] if w in allowed and w not in new_out)
            nxt.difference_update(members)
            yield from self._grow(
                [*members, u], load + self.loads[u], nxt, new_out, allowed, depth + 1
            )

    def _can_reach(
        self, members: list[int], load: np.ndarray, ruled: set[int], allowed: set[int]
    ) -> bool:
        """Tell whether the units reachable from ``members`` could bring every load up to ``low``.

        The walk avoids ``ruled`` and stops as soon as they could, or after ``REACH`` units (then
        they might).
        """
        seen = set(members) | ruled
        stack = list(members)
        walked: list[int] = []
        while stack and len(walked) < REACH:
            a = stack.pop()
            for w in self.adj[a]:
                if w not in seen and w in allowed:
                    seen.add(w)
                    walked.append(w)
                    stack.append(w)
        return len(walked) >= REACH or self.fits(load + self.loads[walked].sum(axis=0))


def unplaceable_unit_reasons(
    problem: Problem, unit_steps: int = UNIT_STEPS, total_steps: int = TOTAL_STEPS
) -> list[str]:
    """Units that no territory can hold, with the reason in words (empty when none is found).

    Every heavy unit (at least ``HEAVY_SHARE`` of the lower bound), heaviest first, needs one
    connected group of units around it whose loads fit the range; units inside a group
    already found need no search of their own. A unit whose search runs out of steps proves
    nothing. Loads must not be negative.
    """
    if problem.n < 2 or np.any(problem.loads < 0):
        return []
    groups = _Groups(problem, total_steps)
    everyone = set(range(problem.n))
    heavy = np.any((problem.loads >= HEAVY_SHARE * groups.low) & (groups.low > 0), axis=1)
    placed = ~heavy
    reasons = []
    for v in groups.order.tolist():
        if placed[v]:
            continue
        if groups.used >= total_steps or groups.late:
            break
        groups.steps = min(total_steps, groups.used + unit_steps)
        best: tuple[float, list[int], np.ndarray] | None = None
        found = False
        try:
            for members, load in groups.around(v, everyone):
                if groups.fits(load):
                    placed[members] = True
                    found = True
                    break
                fill = float(np.min(load / np.maximum(groups.low, 1e-12)))
                if best is None or fill > best[0]:
                    best = (fill, list(members), load.copy())
        except _OutOfSteps:
            continue
        if found or best is None:
            continue
        reasons.append(_unplaceable_text(problem, v, best[1], best[2], groups.low, groups.up))
    return reasons


def _unplaceable_text(
    problem: Problem, v: int, members: list[int], load: np.ndarray, low: np.ndarray, up: np.ndarray
) -> str:
    short = int(np.argmin(load / np.maximum(low, 1e-12)))
    name = problem.names[short]
    near = sorted(problem.adjacency[v], key=lambda u: -problem.loads[u, short])
    outside = (
        f"{name} below {_n(low[0])} or above {_n(up[0])}"
        if len(up) == 1
        else "some measure outside its range"
    )
    text = (
        f"unit {problem.ids[v]} ({name} {_n(problem.loads[v, short])}) fits in no territory: "
        f"every connected group of units around it has {outside} (all such groups "
        "searched); "
    )
    if len(members) > 1:
        text += (
            f"the fullest group within the upper bounds, {format_ids(problem.ids[members])}, "
            f"holds {_n(load[short])}"
        )
    else:
        text += "adding any neighbour goes over the upper bound"
    neighbours = ", ".join(f"{problem.ids[u]} {_n(problem.loads[u, short])}" for u in near[:6])
    return text + f" (neighbours: {neighbours})"


def every_group(
    problem: Problem, steps: int, seconds: float
) -> tuple[list[list[int]] | None, bool]:
    """Return every connected group of units whose loads fit the range, each once.

    A group is grown from its lowest-numbered unit, among the units numbered above it, so no
    group is found twice. Returns (groups, late): groups is None when the search needed more
    than ``steps`` steps or ``seconds`` (a safety net: ``late`` then says the seconds stopped
    it, which a faster machine might not have).
    """
    if np.any(problem.loads < 0):
        return None, False
    groups = _Groups(problem, steps, seconds)
    found: list[list[int]] = []
    try:
        for v in range(problem.n):
            allowed = set(range(v, problem.n))
            for members, load in groups.around(v, allowed):
                if groups.fits(load):
                    found.append(list(members))
    except _OutOfSteps:
        return None, groups.late
    return found, False


def partition_search(
    problem: Problem,
    steps: int = PARTITION_STEPS,
    max_units: int = PARTITION_UNITS,
    seconds: float = SECONDS,
) -> tuple[bool | None, int]:
    """Tell whether the units split into ``k`` connected groups that fit the range.

    Returns
    -------
    (answer, steps)
        ``False`` when no such split exists (proven by exhausting the search), ``True`` when
        one was found, ``None`` when the search was skipped or ran out of steps; and the
        steps used.
    """
    if problem.n > max_units or np.any(problem.loads < 0):
        return None, 0
    groups = _Groups(problem, steps, seconds)
    memo: dict[tuple[frozenset[int], int], set[int]] = {}
    try:
        counts = _counts(groups, frozenset(range(problem.n)), problem.k, memo)
    except _OutOfSteps:
        return None, groups.used
    return problem.k in counts, groups.used


def _count_range(groups: _Groups, load: np.ndarray) -> tuple[int, int]:
    """Return the fewest and most territories a piece with these loads could hold."""
    most, least = math.inf, 0
    for m in range(len(load)):
        least = max(least, math.ceil(load[m] / groups.up[m] - 1e-12))
        if groups.low[m] > 0:
            most = min(most, math.floor(load[m] / groups.low[m] + 1e-9))
    return int(least), int(min(most, 10**9))


def _components(groups: _Groups, units: frozenset[int]) -> list[frozenset[int]]:
    seen: set[int] = set()
    parts = []
    for s in units:
        if s in seen:
            continue
        seen.add(s)
        stack, comp = [s], [s]
        while stack:
            a = stack.pop()
            for w in groups.adj[a]:
                if w in units and w not in seen:
                    seen.add(w)
                    stack.append(w)
                    comp.append(w)
        parts.append(frozenset(comp))
    return parts


def _counts(
    groups: _Groups,
    piece: frozenset[int],
    limit: int,
    memo: dict[tuple[frozenset[int], int], set[int]],
) -> set[int]:
    """Return the numbers of territories (at most ``limit``) the connected ``piece`` splits into."""
    load = groups.loads[list(piece)].sum(axis=0)
    least, most = _count_range(groups, load)
    most = min(most, limit)
    key = (piece, most)
    if key in memo:
        return memo[key]
    found: set[int] = set()
    if least > most:
        memo[key] = found
        return found
    if groups.fits(load) and np.all(load <= groups.up):
        found.add(1)
    if most >= 2:
        first = min(piece, key=lambda u: groups.rank[u])
        for members, group_load in groups.around(first, set(piece)):
            if not groups.fits(group_load) or len(members) == len(piece):
                continue
            rest = _components(groups, piece - frozenset(members))
            ranges = [_count_range(groups, groups.loads[list(c)].sum(axis=0)) for c in rest]
            if any(lo > hi for lo, hi in ranges) or sum(lo for lo, _ in ranges) > most - 1:
                continue
            totals = {0}
            for c in rest:
                options = _counts(groups, c, most - 1, memo)
                totals = {t + q for t in totals for q in options if t + q <= most - 1}
                if not totals:
                    break
            found.update(1 + t for t in totals)
            if found >= set(range(max(least, 1), most + 1)):
                break
    memo[key] = found
    return found
