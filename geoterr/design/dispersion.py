r"""The min-max dispersion step: the largest territory diameter or radius made as small as it goes.

``design(objective="diameter")`` (or ``"radius"``) first designs the usual balanced, contiguous,
compact plan; this step then moves units between neighbouring territories to lower the
largest spread (:mod:`geoterr.design.spread`), keeping every promise:

.. math::

    \\min \\; \\max_{T} \\operatorname{spread}(T) \\quad \\text{s.t. every territory connected,
    inside every balance range, on its permitted pairs}

A variable neighbourhood search, every part of it stopped by counts
(:mod:`geoterr.design.strategy`):

1. **Descent.** Every step takes the best of all moves of a border unit to a neighbouring
   territory and all swaps of two border units between neighbouring territories that keep
   both territories inside every range and connected (a unit whose leaving would split its
   territory never leaves). Plans are compared lexicographically: the largest spread, then
   the sum of squared spreads, so that a plan with two territories at the largest spread can
   still improve one of them (plateaus are crossed). The spreads of a move are computed
   exactly for all candidates at once, and only the candidates of the two territories a
   step changed are computed again.
2. **Shaking.** From the best plan, ``depth`` random moves or swaps that keep every range
   and contiguity (not the objective), then a descent; a better plan is kept and the depth
   starts again at 1, otherwise it grows (up to ``DISPERSION_DEPTH``, then back to 1).
   The random moves come from ``numpy.random.default_rng(random_state)``.

Distances: the cost matrix when ``costs=`` is given (shortest-path or drive-time distances),
else straight lines between the units (km, in the projected CRS).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np

from geoterr._errors import InputError
from geoterr.design import strategy as st
from geoterr.design.local_search import EPS, Search
from geoterr.design.problem import Problem
from geoterr.design.spread import CenterRadius, Diameter, Radius, Spread, Summary

__all__ = [
    "OBJECTIVES",
    "Dispersed",
    "check_dispersion",
    "disperse",
    "distance_matrix",
    "make_spread",
    "spreads",
]

log = logging.getLogger("geoterr.design")

OBJECTIVES = ("diameter", "radius")


def check_dispersion(
    objective: str, n_units: int, *, max_moved: object, move_penalty: object, parts: int
) -> None:
    """Refuse the options the min-max objectives do not support, saying why.

    Examples
    --------
    >>> check_dispersion("diameter", 100, max_moved=None, move_penalty=0.0, parts=1)
    """
    if objective not in OBJECTIVES:
        return
    problems = []
    if max_moved is not None:
        problems.append(
            "`max_moved` (its search does not count the budget of change; use "
            "objective='distance' with max_moved, or current= without a budget)"
        )
    if move_penalty:
        problems.append(
            "`move_penalty` (a cost per moved unit has no meaning for the largest spread; "
            "leave it at 0)"
        )
    if parts > 1:
        problems.append(
            "islands='separate' with several parts (the parts are designed one by one; build "
            "the units with islands='connect')"
        )
    if n_units > st.DISPERSION_MAX_UNITS:
        problems.append(
            f"more than {st.DISPERSION_MAX_UNITS:,} units ({n_units:,}: it keeps a unit x "
            "unit distance matrix; build coarser units, e.g. a lower hexagon resolution)"
        )
    if problems:
        msg = f"`objective={objective!r}` does not support " + "; nor ".join(problems) + "."
        raise InputError(msg)


def distance_matrix(problem: Problem, costs: np.ndarray | None = None) -> np.ndarray:
    """Unit-to-unit distances: ``costs``, the problem's cost matrix, or straight lines in km."""
    if costs is not None:
        return costs
    if problem.cost_matrix is not None:
        return problem.cost_matrix
    from scipy.spatial.distance import cdist

    return np.asarray(cdist(problem.xy, problem.xy) / 1000.0)


def make_spread(
    problem: Problem, objective: str, centers: np.ndarray | None, costs: np.ndarray | None = None
) -> Spread:
    """Return the spread of ``objective``.

    ``centers`` are the fixed ones for a radius (else None); ``costs`` the distances when the
    problem itself has none (see :func:`distance_matrix`).
    """
    if objective == "diameter":
        return Diameter(distance_matrix(problem, costs))
    if centers is not None:
        return CenterRadius(problem.distances(centers))
    return Radius(distance_matrix(problem, costs))


def spreads(spread: Spread, labels: np.ndarray, k: int) -> np.ndarray:
    """Every territory's spread, shape (k,)."""
    return np.array([spread.summary(np.flatnonzero(labels == j), j).value for j in range(k)])


@dataclass(frozen=True)
class Dispersed:
    """What the step found: the labels, the largest spread before and after, the work done."""

    labels: np.ndarray
    start: float
    value: float
    shakes: int
    steps: int
    cut: bool


@dataclass
class _Moves:
    """Candidate moves (``v`` = -1) and swaps of one ordered pair of territories (a, b)."""

    u: np.ndarray
    v: np.ndarray
    a: np.ndarray
    b: np.ndarray
    new_a: np.ndarray
    new_b: np.ndarray


class _State:
    """A plan under the dispersion search: labels, loads, spreads and candidate caches."""

    def __init__(self, problem: Problem, spread: Spread, labels: np.ndarray, permit: np.ndarray):
        self.p = problem
        self.spread = spread
        self.permit = permit
        self.search = Search(problem, labels, np.zeros((problem.n, problem.k)), permit=permit)
        self.summaries: dict[int, Summary] = {}
        self.values = np.array([self.summary(j).value for j in range(problem.k)])
        self.pairs: dict[tuple[int, int], _Moves] = {}
        self.steps = 0

    @property
    def labels(self) -> np.ndarray:
        return self.search.labels

    def summary(self, j: int) -> Summary:
        if j not in self.summaries:
            self.summaries[j] = self.spread.summary(np.flatnonzero(self.labels == j), j)
        return self.summaries[j]

    def score(self) -> tuple[float, float]:
        return float(self.values.max()), float((self.values**2).sum())

    # ------------------------------------------------------------ candidates
    def _border(self) -> dict[tuple[int, int], np.ndarray]:
        """Border units of every ordered pair (a, b): units of a touching b, allowed in b."""
        src, dst = self.p.edges
        la, lb = self.labels[src], self.labels[dst]
        cross = (la != lb) & self.permit[src, lb]
        k = self.p.k
        keys = np.unique((la[cross] * k + lb[cross]) * self.p.n + src[cross])
        pair, unit = keys // self.p.n, keys % self.p.n
        cuts = np.flatnonzero(np.diff(pair)) + 1
        return {
            (int(g[0] // k), int(g[0] % k)): u
            for g, u in zip(np.split(pair, cuts), np.split(unit, cuts), strict=True)
            if len(g)
        }

    def _pair_moves(self, a: int, b: int, ua: np.ndarray, ub: np.ndarray | None) -> _Moves:
        """Return the moves of ``ua`` from a to b, and swaps with ``ub`` (b's units touching a)."""
        p, sp = self.p, self.spread
        sa, sb = self.summary(a), self.summary(b)
        load_a, load_b = self.search.loads[a], self.search.loads[b]
        wa = p.loads[ua]
        ok = np.all(load_a - wa >= p.lower[a] - EPS, axis=1) & np.all(
            load_b + wa <= p.upper[b] + EPS, axis=1
        )
        mu = ua[ok]
        ia = np.searchsorted(sa.members, mu)
        parts = [(mu, np.full(len(mu), -1), sp.removed(sa, ia), sp.added(sb, b, mu))]
        if ub is not None and len(ub):
            shift = wa[:, None, :] - p.loads[ub][None, :, :]  # (ua, ub, m): a loses, b gains
            fits = np.all(load_a - shift >= p.lower[a] - EPS, axis=2)
            fits &= np.all(load_a - shift <= p.upper[a] + EPS, axis=2)
            fits &= np.all(load_b + shift >= p.lower[b] - EPS, axis=2)
            fits &= np.all(load_b + shift <= p.upper[b] + EPS, axis=2)
            fits &= self.permit[ub, a][None, :]
            rows, cols = np.nonzero(fits)
            if len(rows):
                ru, rv = np.unique(rows), np.unique(cols)
                su, sv = ua[ru], ub[rv]
                new_a = sp.swapped(sa, a, np.searchsorted(sa.members, su), sv)
                new_b = sp.swapped(sb, b, np.searchsorted(sb.members, sv), su).T
                iu, iv = np.searchsorted(ru, rows), np.searchsorted(rv, cols)
                parts.append((su[iu], sv[iv], new_a[iu, iv], new_b[iu, iv]))
        u, v, new_a_all, new_b_all = (np.concatenate(x) for x in zip(*parts, strict=True))
        return _Moves(u, v, np.full(len(u), a), np.full(len(u), b), new_a_all, new_b_all)

    def candidates(self) -> _Moves:
        """Every move and swap that keeps the ranges, with the two spreads after it."""
        border = self._border()
        for key in list(self.pairs):
            if key not in border:
                del self.pairs[key]
        for (a, b), ua in border.items():
            if (a, b) not in self.pairs:
                self.pairs[(a, b)] = self._pair_moves(
                    a, b, ua, border.get((b, a)) if a < b else None
                )
        found = list(self.pairs.values())
        return _Moves(*(np.concatenate([getattr(m, f) for m in found]) for f in _FIELDS))

    def outcome(self, c: _Moves) -> tuple[np.ndarray, np.ndarray]:
        """Return the largest spread and the sum of squares after each candidate."""
        values = self.values
        order = np.argsort(-values, kind="stable")[:3]
        top = values[order]
        other = np.full(len(c.a), 0.0)
        for rank in range(len(order) - 1, -1, -1):
            free = (c.a != order[rank]) & (c.b != order[rank])
            other = np.where(free, top[rank], other)
        largest = np.maximum(other, np.maximum(c.new_a, c.new_b))
        squares = (values**2).sum() - values[c.a] ** 2 - values[c.b] ** 2
        return largest, squares + c.new_a**2 + c.new_b**2

    # ------------------------------------------------------------ moves
    def connected_after(self, u: int, v: int) -> bool:
        """Tell whether the move of ``u`` (with ``v`` the other way) keeps both connected."""
        s = self.search
        if s.is_cut(u):
            return False
        if v < 0:
            return True
        if s.is_cut(v):
            return False
        a, b = int(self.labels[u]), int(self.labels[v])
        adj = self.p.adjacency
        return any(x != u and self.labels[x] == a for x in adj[v]) and any(
            x != v and self.labels[x] == b for x in adj[u]
        )

    def apply(self, u: int, v: int, b: int) -> None:
        """Move ``u`` to territory ``b`` and, for a swap, ``v`` to ``u``'s territory."""
        a = int(self.labels[u])
        self.search.move(u, b)
        if v >= 0:
            self.search.move(v, a)
        for j in (a, b):
            self.summaries.pop(j, None)
            self.values[j] = self.summary(j).value
        for key in [key for key in self.pairs if a in key or b in key]:
            del self.pairs[key]
        self.steps += 1

    def try_in_order(self, c: _Moves, order: np.ndarray, tries: int) -> bool:
        """Apply the first candidate of ``order`` that keeps both territories connected."""
        for idx in order[:tries].tolist():
            u, v = int(c.u[idx]), int(c.v[idx])
            if self.connected_after(u, v):
                self.apply(u, v, int(c.b[idx]))
                return True
        return False


_FIELDS = ("u", "v", "a", "b", "new_a", "new_b")


def _descend(state: _State, steps: int, deadline: float | None) -> bool:
    """Best-improvement steps until none improves; True when seconds stopped it."""
    for _ in range(steps):
        if deadline is not None and time.perf_counter() > deadline:
            return True
        c = state.candidates()
        if not len(c.u):
            return False
        largest, squares = state.outcome(c)
        now, now_sq = state.score()
        tol = 1e-9 * max(now, 1.0)
        better = (largest < now - tol) | ((largest <= now + tol) & (squares < now_sq - tol * now))
        if not better.any():
            return False
        keep = np.flatnonzero(better)
        order = keep[np.lexsort((squares[keep], np.round(largest[keep], 9)))]
        if not state.try_in_order(c, order, st.DISPERSION_TRIES):
            return False
    return False


def _shake(state: _State, depth: int, rng: np.random.Generator) -> None:
    """``depth`` random moves or swaps that keep every range and contiguity."""
    for _ in range(depth):
        c = state.candidates()
        if not len(c.u):
            return
        order = rng.permutation(len(c.u))
        worst = int(np.argmax(state.values))
        near = (c.a[order] == worst) | (c.b[order] == worst)
        # moves around the territory of the largest spread first
        order = np.concatenate([order[near], order[~near]])
        state.try_in_order(c, order, st.DISPERSION_TRIES)


def disperse(
    problem: Problem,
    labels: np.ndarray,
    spread: Spread,
    permit: np.ndarray,
    *,
    random_state: int | None,
    shakes: int | None = None,
    deadline: float | None = None,
) -> Dispersed:
    """Lower the largest spread of a plan that keeps every promise (see the module).

    Parameters
    ----------
    problem : Problem
        The design problem.
    labels : ndarray (n,)
        A plan inside every range with connected territories.
    spread : Spread
        What is minimised (:func:`make_spread`).
    permit : ndarray (n, k) of bool
        The unit -> territory pairs the constraints permit.
    random_state : int or None
        Seed of the shaking.
    shakes : int, optional
        Shaking rounds (the search's count; default ``DISPERSION_SHAKES``).
    deadline : float, optional
        ``time.perf_counter()`` value after which the search stops (a safety net).

    Returns
    -------
    Dispersed
        The best labels found, never worse than ``labels``.
    """
    rng = np.random.default_rng(random_state)
    shakes = st.DISPERSION_SHAKES if shakes is None else shakes
    state = _State(problem, spread, labels, permit)
    start = float(state.values.max())
    cut = _descend(state, st.DISPERSION_STEPS, deadline)
    best, best_score, steps = state.labels.copy(), state.score(), state.steps
    depth, count, stale = 1, 0, 0
    patience = min(st.DISPERSION_STALE, st.DISPERSION_STALE_PER_UNIT * problem.n)
    while count < shakes and not cut and stale < patience:
        count += 1
        state = _State(problem, spread, best, permit)
        _shake(state, depth, rng)
        cut = _descend(state, st.DISPERSION_STEPS, deadline)
        steps += state.steps
        score = state.score()
        if score[0] < best_score[0] - 1e-9 * max(best_score[0], 1.0) or (
            score[0] <= best_score[0] and score[1] < best_score[1]
        ):
            best, best_score, depth, stale = state.labels.copy(), score, 1, 0
        else:
            depth, stale = depth % st.DISPERSION_DEPTH + 1, stale + 1
    log.info(
        "%s search: largest %s %.6g -> %.6g (%d shakes, %d moves)",
        spread.name, spread.name, start, best_score[0], count, steps,
    )  # fmt: skip
    return Dispersed(best, start, best_score[0], count, steps, cut)
