"""Repairs and improvements on a unit -> territory assignment, keeping territories connected.

Three steps, each moving units across territory borders only:

1. ``make_contiguous``: every detached piece of a territory joins a neighbouring territory.
2. ``restore_balance``: border units move from territories outside their range to neighbours
   while the total violation falls; when no single move helps, a chain of moves along a path
   of territories carries the excess to a territory with room. A unit whose removal would
   split its territory (a cut vertex) never moves.
3. ``improve``: border units move to a neighbouring territory whose center is cheaper, when
   both stay inside their ranges and connected.

Under a realignment budget, ``refund`` sends moved units home where the ranges still hold, and
``trim`` sends them home until the plan is within the budget.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, field

import networkx as nx
import numpy as np

from geoterr.design.constraints import PairRow, allowed_pairs, pair_rows
from geoterr.design.problem import Problem, territory_pieces

__all__ = ["Search"]

log = logging.getLogger(__name__)

EPS = 1e-9


# Up to this share of the units in the territories a balance move concerns, their border is
# found from their own edges; above it, from all edges.
BORDER_SHARE = 0.25


def _edge_slots(slots: np.ndarray, units: np.ndarray) -> np.ndarray:
    """Return the positions slots[u]:slots[u + 1] of every unit in ``units``, concatenated.

    Examples
    --------
    >>> _edge_slots(np.array([0, 2, 2, 5]), np.array([0, 2])).tolist()
    [0, 1, 2, 3, 4]
    """
    start, stop = slots[units], slots[units + 1]
    sizes = stop - start
    total = int(sizes.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    offsets = np.repeat(start - np.concatenate([[0], np.cumsum(sizes)[:-1]]), sizes)
    return offsets + np.arange(total)


@dataclass
class Search:
    """Mutable state of the local search: labels, territory loads and cut-vertex caches."""

    problem: Problem
    labels: np.ndarray
    costs: np.ndarray
    # With constraint rows (a move budget): order balance moves by the violation removed per
    # share of the rows' bounds spent.
    per_spend: bool = False
    # (n, k) pairs the constraints permit (geoterr.design.constraints.allowed_pairs for the
    # centers of the moment); default: for unknown centers.
    permit: np.ndarray | None = None
    loads: np.ndarray = field(init=False)
    src: np.ndarray = field(init=False)
    dst: np.ndarray = field(init=False)
    sizes: np.ndarray = field(init=False)
    rows: list[PairRow] = field(init=False)
    totals: np.ndarray = field(init=False)
    uppers: np.ndarray = field(init=False)
    moves: int = 0

    def __post_init__(self) -> None:
        """Derive the labels' sizes, edges, loads and constraint rows."""
        p = self.problem
        self.labels = self.labels.astype(np.int64).copy()
        self.src, self.dst = p.edges
        self.sizes = np.bincount(self.labels, minlength=p.k)
        if self.permit is None:
            self.permit = allowed_pairs(p, None)
        self.rows = pair_rows(p)
        self.totals = np.array([row.total(self.labels) for row in self.rows])
        self.uppers = np.array([row.upper for row in self.rows])
        self.loads = p.loads_of(self.labels)
        self.scale = np.maximum((p.lower + p.upper)[0] / 2, 1e-12)

    # ----------------------------------------------------------------- measures
    def _viol_rows(self, loads: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Violation, in shares of the mean, of ``loads`` (..., m) against ``rows``' ranges."""
        over = np.maximum(loads - self.problem.upper[rows], 0)
        under = np.maximum(self.problem.lower[rows] - loads, 0)
        return np.asarray(((over + under) / self.scale).sum(axis=-1))

    def violation(self) -> np.ndarray:
        """Per-territory violation of the ranges, in shares of the mean, shape (k,)."""
        return self._viol_rows(self.loads, np.arange(self.problem.k))

    def members(self, j: int) -> np.ndarray:
        """Return the units of territory ``j``."""
        return np.flatnonzero(self.labels == j)

    def is_cut(self, u: int) -> bool:
        """Tell whether moving ``u`` out would split its territory, or empty it.

        Exact: a walk inside the territory (without ``u``) from one of its neighbours there
        must reach all the others. In a planar graph they nearly always meet within a few
        steps around ``u``, so the walk stops as soon as they are all found.
        """
        j = self.labels[u]
        if self.sizes[j] <= 1:
            return True
        adj = self.problem.adjacency
        labels = self.labels
        same = [v for v in adj[u] if labels[v] == j]
        if len(same) <= 1:
            return False
        wanted = set(same[1:])
        seen = {u, same[0]}
        queue = deque([same[0]])
        while queue:
            a = queue.popleft()
            for v in adj[a]:
                if v not in seen and labels[v] == j:
                    seen.add(v)
                    wanted.discard(v)
                    if not wanted:
                        return False
                    queue.append(v)
        return True

    def _deltas(self, units: np.ndarray, origin: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """(rows, len(units)) change of each constraint row if each unit moves."""
        if not self.rows:
            return np.zeros((0, len(units)))
        return np.array([row.coef(units, targets) - row.coef(units, origin) for row in self.rows])

    def _spends(self, units: np.ndarray, origin: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Return what each move spends of the constraint rows, in shares of their bounds.

        Floored at a small positive amount (moves that spend nothing, or give back, come first).
        """
        bounds = np.array([max(abs(row.upper), 1e-12) for row in self.rows])
        spend = (self._deltas(units, origin, targets) / bounds[:, None]).sum(axis=0)
        return np.asarray(np.maximum(spend, 1e-6))

    def allowed(self, u: int, b: int) -> bool:
        """Tell whether ``u`` may move to ``b``: a pair the constraints permit, every row kept."""
        assert self.permit is not None
        if not self.rows or not self.permit[u, b]:
            return bool(self.permit[u, b])
        one, to, origin = np.array([u]), np.array([b]), self.labels[[u]]
        delta = self._deltas(one, origin, to)[:, 0]
        return bool(np.all((delta <= 0) | (self.totals + delta <= self.uppers + EPS)))

    def move(self, u: int, b: int) -> None:
        """Move unit ``u`` to territory ``b``, updating loads, sizes and row totals."""
        a = int(self.labels[u])
        if self.rows:
            self.totals = (
                self.totals + self._deltas(np.array([u]), np.array([a]), np.array([b]))[:, 0]
            )
        self.labels[u] = b
        self.loads[a] -= self.problem.loads[u]
        self.loads[b] += self.problem.loads[u]
        self.sizes[a] -= 1
        self.sizes[b] += 1
        self.moves += 1

    def border(self, bad: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Distinct (unit, neighbouring territory) pairs on borders, by unit then territory.

        With ``bad`` (a mask of territories), only the pairs that leave or join one of them,
        found from the edges at those territories' units (a balance repair moves a few units
        of 200,000: walking every edge for each move took most of its time).
        """
        src, dst = self.src, self.dst
        if bad is not None:
            members = np.flatnonzero(bad[self.labels])
            if len(members) <= BORDER_SHARE * self.problem.n:
                starts, order, ends = self.problem.edge_slots
                at = np.concatenate(
                    [_edge_slots(starts, members), order[_edge_slots(ends, members)]]
                )
                src, dst = src[at], dst[at]
            else:
                keep = bad[self.labels[src]] | bad[self.labels[dst]]
                src, dst = src[keep], dst[keep]
        la = self.labels[src]
        lb = self.labels[dst]
        # only pairs the constraints permit (pinned units never move, kept territories
        # take no one, distance limits)
        assert self.permit is not None
        cross = (la != lb) & self.permit[src, lb]
        k = self.problem.k
        pairs = np.unique(src[cross] * k + lb[cross])
        return pairs // k, pairs % k

    def territory_graph(self) -> nx.Graph:
        """Return the graph of territories that share a border."""
        la = self.labels[self.src]
        lb = self.labels[self.dst]
        g = nx.Graph()
        g.add_nodes_from(range(self.problem.k))
        cross = la != lb
        g.add_edges_from(zip(la[cross].tolist(), lb[cross].tolist(), strict=True))
        return g

    # ----------------------------------------------------------------- steps
    def make_contiguous(self) -> None:
        """Give each detached piece of a territory to the neighbour it suits best."""
        p = self.problem
        for _ in range(10 * p.k + 10):
            pieces = []
            piece = territory_pieces(p, self.labels)
            first = np.unique(piece, return_index=True)[1]
            split = np.flatnonzero(np.bincount(self.labels[first], minlength=p.k) > 1)
            for j in split.tolist():
                nodes = self.members(j)
                ids = piece[nodes]
                parts = [nodes[ids == c] for c in np.unique(ids)]
                if len(parts) > 1:
                    # the piece holding pinned units stays; otherwise the heaviest
                    main = max(
                        parts,
                        key=lambda c: (np.any(p.locked[c] >= 0), p.weight[c].sum(), len(c)),
                    )
                    pieces += [(j, c) for c in parts if c is not main]
            if not pieces:
                return
            for j, comp in sorted(pieces, key=lambda t: len(t[1])):
                if not np.all(self.labels[comp] == j):
                    continue
                options = np.unique(self.labels[np.concatenate([p.neighbours[u] for u in comp])])
                options = options[options != j]
                assert self.permit is not None
                options = options[self.permit[np.ix_(comp, options)].all(axis=0)]
                if len(options) == 0:
                    continue
                load = p.loads[comp].sum(axis=0)
                worse = self._viol_rows(self.loads[options] + load, options) - self._viol_rows(
                    self.loads[options], options
                )
                cost = self.costs[np.ix_(comp, options)].sum(axis=0)
                best = options[np.lexsort((cost, np.round(worse, 12)))[0]]
                for u in comp:
                    self.move(int(u), int(best))
        log.debug("contiguity repair stopped before every territory was connected")

    def restore_balance(self, max_moves: int | None = None) -> None:
        """Move border units (or chains of them) while the total violation falls."""
        p = self.problem
        limit = max_moves if max_moves is not None else 4 * p.n + 100
        stuck = 0
        for _ in range(limit):
            viol = self.violation()
            if viol.sum() <= 1e-12:
                return
            if self._best_single_move(viol):
                stuck = 0
                continue
            if not self._chain_move(viol) or stuck > p.k:
                log.debug("balance repair: no improving move left, violation %.4f", viol.sum())
                return
            stuck += 1

    def _best_single_move(self, viol: np.ndarray) -> bool:
        bad = viol > 1e-12
        units, targets = self.border(bad)
        if len(units) == 0:
            return False
        origin = self.labels[units]
        w = self.problem.loads[units]
        after = self._viol_rows(self.loads[origin] - w, origin) + self._viol_rows(
            self.loads[targets] + w, targets
        )
        gain = after - viol[origin] - viol[targets]
        ok = gain < -1e-12
        if not ok.any():
            return False
        units, targets, origin, gain = units[ok], targets[ok], origin[ok], gain[ok]
        dcost = self.costs[units, targets] - self.costs[units, origin]
        key = gain
        if self.per_spend and self.rows:
            key = gain / self._spends(units, origin, targets)
        for idx in np.lexsort((dcost, np.round(key, 12))):
            u = int(units[idx])
            if self.allowed(u, int(targets[idx])) and not self.is_cut(u):
                self.move(u, int(targets[idx]))
                return True
        return False

    def _chain_move(self, viol: np.ndarray) -> bool:
        """Carry load along a path of territories from the worst one to one with room."""
        p = self.problem
        tgraph = self.territory_graph()
        scale = self.scale
        mid = (p.lower + p.upper) / 2
        rel = ((self.loads - mid) / scale)[:, 0]  # primary measure, share of the mean
        for a in np.argsort(-viol):
            if viol[a] <= 1e-12:
                break
            over = rel[a] > 0
            # Territories with room on the other side, nearest first (breadth-first).
            parent = {int(a): -1}
            queue = deque([int(a)])
            targets = []
            while queue:
                t = queue.popleft()
                if t != a and (rel[t] < 0 if over else rel[t] > 0) and viol[t] <= 1e-12:
                    targets.append(t)
                    if len(targets) >= 4:
                        break
                for nb in tgraph.neighbors(t):
                    if nb not in parent:
                        parent[nb] = t
                        queue.append(nb)
            for b in targets:
                path = [b]
                while parent[path[-1]] != -1:
                    path.append(parent[path[-1]])
                path.reverse()  # a ... b
                need = min(abs(rel[a]), abs(rel[b])) * scale[0]
                if self._push_along(path if over else path[::-1], need, viol.sum()):
                    return True
        return False

    def _push_along(self, path: list[int], need: float, before: float) -> bool:
        """Move one unit across each step of ``path`` (last step first); undo if no better."""
        p = self.problem
        done: list[tuple[int, int]] = []
        for i in range(len(path) - 2, -1, -1):
            a, b = path[i], path[i + 1]
            members = self.members(a)
            touching = members[[np.any(self.labels[p.neighbours[u]] == b) for u in members]]
            best = None
            touching = touching[p.locked[touching] < 0]
            for u in touching[np.argsort(np.abs(p.loads[touching, 0] - need))]:
                if self.allowed(int(u), b) and not self.is_cut(int(u)):
                    best = int(u)
                    break
            if best is None:
                break
            self.move(best, b)
            done.append((best, a))
        else:
            if self.violation().sum() < before - 1e-12:
                return True
        for u, a in reversed(done):
            self.move(u, a)
            self.moves -= 2
        return False

    def refund(self, max_passes: int = 10) -> int:
        """Move units back to their current territory (a realignment) where the plan allows.

        A unit goes back wherever both territories stay inside their ranges and connected: the same
        promises for less change. The units that spend most go back first. Returns how many went
        back.
        """
        p = self.problem
        total = 0
        for _ in range(max_passes):
            back = 0
            moved = self._moved_units()
            for u in moved[np.argsort(-p.move_amount[moved], kind="stable")].tolist():
                a, b = int(self.labels[u]), int(p.current[u])
                w = p.loads[u]
                if np.any(self.loads[a] - w < p.lower[a] - EPS) or np.any(
                    self.loads[b] + w > p.upper[b] + EPS
                ):
                    continue
                if not self._can_go_home(u):
                    continue
                self.move(u, b)
                back += 1
            total += back
            if back == 0:
                break
        return total

    def trim(self, budget: float) -> int:
        """Move units back to their current territory until the plan spends at most ``budget``.

        Each step sends back the moved unit whose return costs the least violation per customer
        (or load) refunded, among those that touch their current territory and whose leaving
        keeps their territory connected. From a plan that keeps the ranges with a little more
        change than the budget allows, this gives a plan within the budget that breaks them by
        as little as this search finds. Stops early when no moved unit can go back. Returns how
        many went back.
        """
        p = self.problem
        back = 0
        while p.moved_amount(self.labels) > budget + EPS:
            moved = self._moved_units()
            viol = self.violation()
            origin, home = self.labels[moved], p.current[moved]
            w = p.loads[moved]
            worse = (
                self._viol_rows(self.loads[origin] - w, origin)
                + self._viol_rows(self.loads[home] + w, home)
                - viol[origin]
                - viol[home]
            )
            key = worse / np.maximum(p.move_amount[moved], EPS)
            for idx in np.argsort(key, kind="stable"):
                u = int(moved[idx])
                if self._can_go_home(u):
                    self.move(u, int(home[idx]))
                    back += 1
                    break
            else:
                return back
        return back

    def _moved_units(self) -> np.ndarray:
        """Units away from their current territory that may go back (not pinned)."""
        p = self.problem
        return np.flatnonzero((p.current >= 0) & (self.labels != p.current) & (p.locked < 0))

    def _can_go_home(self, u: int) -> bool:
        """Tell whether ``u`` touches its current territory, may join it and may leave its own."""
        home = int(self.problem.current[u])
        return (
            bool(np.any(self.labels[self.problem.neighbours[u]] == home))
            and self.allowed(u, home)
            and not self.is_cut(u)
        )

    def improve(self, max_passes: int = 20) -> int:
        """Move border units to cheaper neighbouring territories while ranges hold."""
        p = self.problem
        total = 0
        for _ in range(max_passes):
            moved = 0
            units, targets = self.border()
            delta = self.costs[units, targets] - self.costs[units, self.labels[units]]
            order = np.argsort(delta)
            for idx in order[delta[order] < -EPS]:
                u, b = int(units[idx]), int(targets[idx])
                a = int(self.labels[u])
                if a == b or self.costs[u, b] >= self.costs[u, a] - EPS:
                    continue
                if not np.any(self.labels[p.neighbours[u]] == b):
                    continue
                w = p.loads[u]
                if np.any(self.loads[a] - w < p.lower[a] - EPS) or np.any(
                    self.loads[b] + w > p.upper[b] + EPS
                ):
                    continue
                if not self.allowed(u, b) or self.is_cut(u):
                    continue
                self.move(u, b)
                moved += 1
            total += moved
            if moved == 0:
                break
        return total
