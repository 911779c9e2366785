r"""Whole territories as columns: the set-partitioning LP, to tell which units make good centers.

When centers are units (a cost matrix is given), a plan is a choice of :math:`k` territories
:math:`S` (connected sets of units whose measures are inside their ranges), each with its
cost :math:`c_S = \min_{j \in S} \sum_{i \in S} c_{ij}` (its best center). Its LP

.. math::

    \min \sum_S c_S y_S \quad\text{s.t.}\quad \sum_{S \ni i} y_S = 1 \;(\pi_i),\quad
    \sum_S y_S = k \;(\mu),\quad y \ge 0

is far tighter than the assignment model's (on Alabama's counties about 0.95 of the optimum
against 0.85), and the centers its solution uses are where the optimum's centers are: on the
published instances tried, the optimum's centers were among them. The LP starts from the
given plan's territories (and penalised slack columns, so that it always has a solution) and
grows by column generation: with the duals :math:`\pi, \mu`, a territory centred on
:math:`j` improves the LP when

.. math::

    \sum_{i \in S} (c_{ij} - \pi_i) - \mu < 0 .

Finding the best such :math:`S` is itself NP-hard (a connected knapsack), so it is searched
heuristically around every unit as center: from a greedy growth and from the territories of
the current LP solution that hold the center, a descent over adding, removing and swapping
border units that keeps the set connected and, once inside its ranges, inside them. The
search stops when it finds no improving territory, or when the LP value stalls.

Because the pricing is heuristic, the final LP value may lie above the LP's true optimum: it
is an estimate, not a lower bound on plans, and is used only to choose candidate centers for
:mod:`geoterr.design.tree_model` (:mod:`geoterr.design.column_plan` runs both).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from geoterr.design.highs_run import _new_highs, run_highs
from geoterr.design.problem import Problem
from geoterr.design.tree_model import MAX_NODES

__all__ = ["ColumnResult", "best_center", "column_centers"]

log = logging.getLogger(__name__)

# The search stops when the LP value improved by less than STALL_GAIN over the last
# STALL_ROUNDS passes over the centers, or did not move at all in FLAT_ROUNDS passes.
STALL_GAIN = 2e-3
STALL_ROUNDS = 4
FLAT_ROUNDS = 15
# A round (LP solve) comes after this many new territories (or 2k) are found.
ROUND_COLUMNS = 10
# Pricing a center starts from at most this many of the LP's territories holding it, the
# most used first (each start is a descent; with every LP territory holding the center as a
# start, Kansas's later rounds took 2-3 s each, with two they take a tenth of that).
USED_STARTS = 2
# Greedy growths per center and round (the first without noise).
GROWTHS = 1
# Relative noise on the greedy growth's choice.
NOISE = 0.5
# At most this many descent steps per start.
MAX_STEPS = 200
# Moves taking a unit out checked for connectivity per step and kind, best gain first.
CHECKS = 6
# Tolerance on the ranges (in units of each measure's upper bound) and on gains.
TINY = 1e-12
# Seconds for the best plan made of the generated territories.
PLAN_SECONDS = 3.0


@dataclass
class ColumnResult:
    """What the column generation found.

    Attributes
    ----------
    value : float
        The LP value over the territories found (an estimate, not a bound).
    centers : ndarray
        Center units (positions) of the territories in the LP solution, the most used first.
    weight : ndarray
        How much of a territory each of ``centers`` holds in the LP solution.
    columns : int
        Territories generated.
    rounds : int
        LP solves.
    plan : (labels, centers) or None
        The best plan made of the territories found (each unit's territory, each
        territory's center unit), if they make one.
    pairs : ndarray (n, n) of bool
        Whether unit i is in some territory found with center j.
    cut : bool
        The seconds stopped the search before its own rules did (the result then depends on
        the machine's speed).
    """

    value: float
    centers: np.ndarray
    weight: np.ndarray
    columns: int
    rounds: int
    plan: tuple[np.ndarray, np.ndarray] | None
    pairs: np.ndarray
    cut: bool = False


def best_center(
    cost: np.ndarray, idx: np.ndarray, allowed: np.ndarray | None = None
) -> tuple[float, int]:
    """Return the cost of the units ``idx`` served from their best center among them, and it.

    ``cost[i, j]`` is unit i served from the center at unit j; with ``allowed`` (the same
    shape, whether unit i may join center j), only a center every unit may join counts. The
    cost is ``inf`` when there is none.
    """
    totals = cost[np.ix_(idx, idx)].sum(axis=0)
    if allowed is not None:
        totals[~allowed[np.ix_(idx, idx)].all(axis=0)] = np.inf
    best = int(np.argmin(totals))
    return float(totals[best]), int(idx[best])


class _Territories:
    """Connected sets of units, their measures' ranges and the moves of the pricing search."""

    def __init__(self, problem: Problem, cost: np.ndarray) -> None:
        n = problem.n
        self.n = n
        self.cost = cost  # (n, n): unit i served from center j
        self.adjacent = np.zeros((n, n), dtype=bool)
        src, dst = problem.edges
        self.adjacent[src, dst] = True
        self.neighbours = problem.adjacency
        scale = np.maximum(np.abs(problem.upper[0]), 1e-12)
        self.loads = problem.loads / scale  # measures in units of their upper bound
        self.low = problem.lower[0] / scale
        self.high = problem.upper[0] / scale

    def excess(self, totals: np.ndarray) -> np.ndarray:
        """How far totals (..., m) are outside the ranges, summed over measures."""
        return np.asarray(
            np.sum(
                np.maximum(self.low - totals, 0.0) + np.maximum(totals - self.high, 0.0), axis=-1
            )
        )

    def fits(self, members: np.ndarray) -> bool:
        return bool(self.excess(self.loads[members].sum(axis=0)) <= 1e-9)

    def price(self, members: np.ndarray) -> tuple[float, int]:
        """Cost of the set with its best center, and that center."""
        return best_center(self.cost, np.flatnonzero(members))

    def _connected(self, members: np.ndarray, center: int) -> bool:
        """Tell whether the set is connected (a search from the center reaches all of it)."""
        inside = set(np.flatnonzero(members).tolist())
        seen = {center}
        stack = [center]
        while stack:
            a = stack.pop()
            for b in self.neighbours[a]:
                if b in inside and b not in seen:
                    seen.add(b)
                    stack.append(b)
        return len(seen) == len(inside)

    def descend(self, members: np.ndarray, center: int, w: np.ndarray) -> np.ndarray:
        """Descend over adding, removing and swapping border units of ``S``.

        ``S`` stays connected and holds ``center``. While ``S`` is outside its ranges, any move that
        brings it closer is taken (the least outside first, then the cheapest); once inside, the
        move that lowers sum(w[S]) most among those that stay inside.

        Moves are ranked first; only the best few that take a unit out are checked for
        connectivity (most steps need no check at all).
        """
        members = members.copy()
        totals = self.loads[members].sum(axis=0)
        loads = self.loads
        for _ in range(MAX_STEPS):
            touching = self.adjacent[members].sum(axis=0)
            border = np.flatnonzero((touching > 0) & ~members)
            inside = np.flatnonzero(members)
            movable = inside[inside != center]
            now = float(self.excess(totals))
            # each kind: gains, outside-ness after, and the (out, in) units of each move
            kinds: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
            if len(border):
                kinds.append(
                    (
                        w[border],
                        self.excess(totals + loads[border]),
                        np.full(len(border), -1),
                        border,
                    )
                )
            if len(movable):
                kinds.append(
                    (
                        -w[movable],
                        self.excess(totals - loads[movable]),
                        movable,
                        np.full(len(movable), -1),
                    )
                )
            if len(movable) and len(border):
                gain = -w[movable][:, None] + w[border][None, :]
                after = self.excess(totals - loads[movable][:, None, :] + loads[border][None, :, :])
                # the unit coming in must touch what stays
                alone = touching[border][None, :] - self.adjacent[np.ix_(movable, border)] <= 0
                after = np.where(alone, np.inf, after)
                outs = np.repeat(movable, len(border))
                ins = np.tile(border, len(movable))
                kinds.append((gain.ravel(), after.ravel(), outs, ins))
            moves: list[tuple[float, float, int, int]] = []
            for gain, after, outs, ins in kinds:
                if now > TINY:
                    ok = np.flatnonzero(after < now - TINY)
                    ok = ok[np.lexsort((gain[ok], after[ok]))][:CHECKS]
                else:
                    ok = np.flatnonzero((after <= TINY) & (gain < -TINY * np.abs(gain).max()))
                    ok = ok[np.argsort(gain[ok])][:CHECKS]
                moves += [
                    (float(after[i]), float(gain[i]), int(outs[i]), int(ins[i]))
                    for i in ok.tolist()
                ]
            moves.sort()
            for _after, _gain, out, into in moves:
                trial = members.copy()
                if out >= 0:
                    trial[out] = False
                if into >= 0:
                    trial[into] = True
                if out < 0 or self._connected(trial, center):
                    members = trial
                    totals = loads[members].sum(axis=0)
                    break
            else:
                break
        return members

    def grow(
        self, center: int, w: np.ndarray, rng: np.random.Generator, noise: float
    ) -> np.ndarray:
        """Grow a territory greedily from the center.

        The border unit of least w per unit of load joins until the lower bounds are met.
        """
        members = np.zeros(self.n, dtype=bool)
        members[center] = True
        totals = self.loads[center].copy()
        size = np.maximum(self.loads.sum(axis=1), 1e-12)
        while np.any(totals < self.low):
            touching = self.adjacent[members].any(axis=0)
            fits = np.all(totals + self.loads <= self.high + 1e-12, axis=1)
            border = np.flatnonzero(touching & ~members & fits)
            if not len(border):
                break
            score = w[border] / size[border]
            if noise:
                score = score + noise * np.abs(score) * rng.random(len(border))
            v = int(border[np.argmin(score)])
            members[v] = True
            totals += self.loads[v]
        return members


def _compact_territories(
    terr: _Territories, cost: np.ndarray, rng: np.random.Generator
) -> list[np.ndarray]:
    """Return, for every unit, the compact territory around it that fits the ranges (if any).

    Each grows greedily from the unit by cost alone (no duals, no noise) and descends to a
    local optimum of its own cost. They start the LP with territories centred everywhere:
    from a plan's k territories alone, the LP's duals are degenerate and the greedy pricing
    can stall at that plan's value (Kansas's 105 counties into 4: the LP stayed at the start
    plan, 8.9 % above the optimum, for four of five seeds; with these territories, every seed
    reaches the optimum).
    """
    found = []
    for j in range(terr.n):
        members = terr.descend(terr.grow(j, cost[:, j], rng, 0.0), j, cost[:, j])
        if terr.fits(members):
            found.append(members)
    return found


def _priced_territory(
    terr: _Territories,
    used: list[np.ndarray],
    j: int,
    w: np.ndarray,
    mu: float,
    value: float,
    rng: np.random.Generator,
) -> np.ndarray | None:
    """Find the territory centered at unit ``j`` with the most negative reduced cost.

    The candidates start from the LP's territories holding ``j`` (the USED_STARTS most used)
    and from a few noisy greedy growths around it, each descended to a local optimum; the best
    that fits the ranges and prices below zero is returned, else None.
    """
    starts = [s for s in used if s[j]][:USED_STARTS]
    starts += [terr.grow(j, w, rng, NOISE * g) for g in range(GROWTHS)]
    best: tuple[float, np.ndarray] | None = None
    for s in starts:
        members = terr.descend(s, j, w)
        if not terr.fits(members):
            continue
        reduced = float(w[members].sum() - mu)
        if reduced < -1e-9 * max(abs(value), 1.0) and (best is None or reduced < best[0]):
            best = (reduced, members)
    return None if best is None else best[1]


def column_centers(
    problem: Problem,
    start_labels: np.ndarray | None,
    seconds: float,
    *,
    random_state: int | None = None,
    max_rounds: int | None = None,
) -> ColumnResult:
    """Solve the territories LP by column generation and return the centers it uses.

    Parameters
    ----------
    problem : Problem
        With a cost matrix and the same ranges for every territory.
    start_labels : ndarray (n,), optional
        A plan (territory per unit) whose territories start the LP; territories outside
        their ranges are left out. Without it, the LP starts from its slack columns.
    seconds : float
        Time for the whole search: a safety net (the search stops by its own rules: the LP
        value stalled, a pass over the centers found nothing, or ``max_rounds``).
    random_state : int, optional
        Seed of the greedy growths' noise.
    max_rounds : int, optional
        At most this many LP solves.
    """
    import highspy

    assert problem.cost_matrix is not None
    start = time.perf_counter()
    rng = np.random.default_rng(random_state)
    n, k = problem.n, problem.k
    cost = problem.costs(np.arange(n))  # (n, n): unit i to the center at unit j
    scale = float(cost.max()) or 1.0
    cost = cost / scale
    terr = _Territories(problem, cost)
    h = _new_highs(None)
    inf = highspy.kHighsInf
    none = np.empty(0, dtype=np.int32)
    h.addRows(n, np.ones(n), np.ones(n), 0, none, none, np.empty(0))
    h.addRow(float(k), float(k), 0, none, np.empty(0))
    # Slack columns, dear enough never to stay in a solution that can do without them.
    slack_cost = float(cost.sum()) + 1.0
    h.addCols(
        n + 1,
        np.full(n + 1, slack_cost),
        np.zeros(n + 1),
        np.full(n + 1, inf),
        n + 1,
        np.arange(n + 1, dtype=np.int32),
        np.arange(n + 1, dtype=np.int32),
        np.ones(n + 1),
    )
    first = n + 1
    sets: list[np.ndarray] = []
    centers: list[int] = []
    seen: set[bytes] = set()

    def add(members: np.ndarray) -> bool:
        key = np.packbits(members).tobytes()
        inside = np.flatnonzero(members)
        if (
            key in seen
            or not len(inside)
            or not terr.fits(members)
            or not terr._connected(members, int(inside[0]))
        ):
            return False  # (a start territory may be out of range or in pieces)
        seen.add(key)
        value, center = terr.price(members)
        rows = np.append(inside, n).astype(np.int32)
        h.addCol(value, 0.0, inf, len(rows), rows, np.ones(len(rows)))
        sets.append(members.copy())
        centers.append(center)
        return True

    if start_labels is not None:
        for t in range(k):
            add(start_labels == t)
    for members in _compact_territories(terr, cost, rng):
        add(members)
    # LP value after each round, and how many centers had been searched by then: the
    # stopping rules count full passes over the centers (a round may search only some).
    history: list[tuple[int, float]] = []
    searched = 0
    rounds = 0
    y = np.zeros(0)
    value = float("nan")
    per_round = max(ROUND_COLUMNS, 2 * k)
    visit = rng.permutation(n)
    nxt = 0
    quiet = 0  # centers searched in a row, with the same duals, without a new territory
    cut = False
    while True:
        rounds += 1
        run_highs(h)
        sol = h.getSolution()
        value = float(h.getInfo().objective_function_value)
        y = np.asarray(sol.col_value)[first:]
        dual = np.asarray(sol.row_dual)
        pi, mu = dual[:n], dual[n]
        history.append((searched, value))
        if time.perf_counter() - start > seconds:
            cut = True
            break
        if quiet >= n or _stalled(history, n) or (max_rounds is not None and rounds >= max_rounds):
            break
        used = [sets[i] for i in np.argsort(-y, kind="stable") if y[i] > 1e-9]
        added = 0
        while added < per_round and quiet < n:
            j = int(visit[nxt])
            nxt = (nxt + 1) % n
            searched += 1
            best = _priced_territory(terr, used, j, cost[:, j] - pi, mu, value, rng)
            if best is not None and add(best):
                added += 1
                quiet = 0
            else:
                quiet += 1
            if time.perf_counter() - start > seconds:
                cut = True
                break
        log.debug("territories LP round %d: %.6g, %d territories added", rounds, value, added)
        if added:
            quiet = 0  # new duals: the next pass starts afresh
    plan = _integer_plan(h, first, sets, centers, n, PLAN_SECONDS)
    pairs = np.zeros((n, n), dtype=bool)
    for members, c in zip(sets, centers, strict=True):
        pairs[members, c] = True
    weight: dict[int, float] = {}
    for i in np.flatnonzero(y > 1e-9).tolist():
        weight[centers[i]] = weight.get(centers[i], 0.0) + float(y[i])
    order = sorted(weight, key=lambda c: -weight[c])
    log.info(
        "territories LP: %.6g after %d rounds, %d territories, %d centers used, %s (%.1f s)",
        value * scale,
        rounds,
        len(sets),
        len(order),
        "a plan of them" if plan is not None else "no plan of them",
        time.perf_counter() - start,
    )
    return ColumnResult(
        value=value * scale,
        centers=np.array(order, dtype=np.int64),
        weight=np.array([weight[c] for c in order]),
        columns=len(sets),
        rounds=rounds,
        plan=plan,
        pairs=pairs,
        cut=cut,
    )


def _stalled(history: list[tuple[int, float]], n: int) -> bool:
    """Tell whether the LP value stopped falling.

    It fell and then gained less than STALL_GAIN over the last STALL_ROUNDS passes over the centers,
    or never moved in FLAT_ROUNDS passes (the value often stays at the start's for a while: the LP
    is degenerate).
    """
    searched, value = history[-1]
    start_value = history[0][1]
    gained = start_value - value > STALL_GAIN * abs(value)
    if not gained:
        return searched >= FLAT_ROUNDS * n
    earlier = [v for s, v in history if s <= searched - STALL_ROUNDS * n]
    return bool(earlier) and earlier[-1] - value < STALL_GAIN * abs(value)


def _integer_plan(
    h: Any, first: int, sets: list[np.ndarray], centers: list[int], n: int, seconds: float
) -> tuple[np.ndarray, np.ndarray] | None:
    """Return the best plan made of the generated territories alone.

    This is the LP with whole territories and no slack; None if they make none within ``seconds``.
    """
    import highspy

    if not sets:
        return None
    count = len(sets)
    cols = np.arange(first, first + count, dtype=np.int32)
    h.changeColsIntegrality(count, cols, np.full(count, highspy.HighsVarType.kInteger))
    slack = np.arange(first, dtype=np.int32)
    h.changeColsBounds(first, slack, np.zeros(first), np.zeros(first))
    h.setOptionValue("time_limit", seconds)
    h.setOptionValue("mip_max_nodes", MAX_NODES)
    run_highs(h)
    if h.getInfo().primal_solution_status != 2:
        return None
    y = np.asarray(h.getSolution().col_value)[first:] > 0.5
    labels = np.full(n, -1, dtype=np.int64)
    chosen = np.flatnonzero(y)
    for t, i in enumerate(chosen.tolist()):
        labels[sets[i]] = t
    return labels, np.array([centers[i] for i in chosen], dtype=np.int64)
