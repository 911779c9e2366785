"""The design problem in array form: what the model and the local search share."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from geoterr._errors import InfeasibleError, InputError, format_ids
from geoterr._errors import format_number as _n
from geoterr.design.balance_spec import Bound, parse_balance, parse_balance_text
from geoterr.units import Units
from geoterr.units.graph import label_pieces

__all__ = [
    "Bound",
    "Problem",
    "cost_matrix",
    "make_problem",
    "parse_balance",
    "parse_balance_text",
    "pieces_per_territory",
    "territory_pieces",
]


# Units per block when the distances to every center are made (Problem.distances).
DISTANCE_BLOCK = 4096


def unit_blocks(n: int, size: int) -> Iterator[slice]:
    """Yield the slices of ``n`` units, ``size`` at a time (the last one shorter).

    >>> list(unit_blocks(5, 2))
    [slice(0, 2, None), slice(2, 4, None), slice(4, 5, None)]
    """
    for lo in range(0, n, size):
        yield slice(lo, min(lo + size, n))


@dataclass
class Problem:
    """Arrays describing one design problem.

    Attributes
    ----------
    ids : Index
        Unit ids, position = the integer index used everywhere below.
    xy : ndarray (n, 2)
        Unit locations in metres.
    weight : ndarray (n,)
        Weight of each unit in the objective (the first balance measure, never zero).
    loads : ndarray (n, m)
        The balanced measures per unit.
    names : list of str
        The balanced measures' names.
    bounds : list
        Each measure's requirement as given (tolerance or (low, high)).
    target, lower, upper : ndarray (k, m)
        Each territory's target and allowed range of each measure.
    neighbours : list of ndarray
        Adjacent unit positions of every unit.
    k : int
        Number of territories.
    inertia : bool
        Squared distances in the objective.
    cost_matrix : ndarray (n, n) or None
        The user's unit-to-unit distances; centers are then units (positions).
    locked : ndarray (n,)
        The territory a unit is pinned to, or -1.
    scale : ndarray (m,)
        What each measure was multiplied by to reach ``loads``, ``target``, ``lower`` and
        ``upper`` (1 unless its mean target is outside [1e-3, 1e9], where absolute solver
        tolerances stop being negligible: then 1 / the mean target). ``weight`` is scaled by
        ``scale[0]``. Divide by it for the user's numbers (:meth:`in_user_units`).
    """

    ids: pd.Index
    xy: np.ndarray
    weight: np.ndarray
    loads: np.ndarray
    names: list[str]
    bounds: list[Bound]
    target: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    neighbours: list[np.ndarray]
    k: int
    inertia: bool
    cost_matrix: np.ndarray | None = None
    # (n,) territory index of a pinned unit, -1 if free (filled in after construction)
    locked: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    # Realignment: each unit's current territory (-1: none), what moving it spends of the
    # budget, the budget, and the penalty per unit of weight moved (in cost units).
    current: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    move_amount: np.ndarray = field(default_factory=lambda: np.empty(0))
    budget: float = float("inf")
    move_penalty: float = 0.0
    # (k,) territories kept as they are: no unit joins them except their pinned ones.
    closed: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=bool))
    scale: np.ndarray = field(default_factory=lambda: np.empty(0))
    # The user's own constraints beyond balance, locks and budget (e.g. max_distance), as
    # geoterr.design.constraints objects.
    rules: tuple[Any, ...] = ()
    # Caches of the graph in other forms: not arguments, so dataclasses.replace (new
    # neighbours, say) starts them afresh.
    _edges: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False, init=False)
    _edge_slots: tuple[np.ndarray, np.ndarray, np.ndarray] | None = field(
        default=None, repr=False, init=False
    )
    _adjacency: list[list[int]] | None = field(default=None, repr=False, init=False)

    def __post_init__(self) -> None:
        """Fill the optional arrays left empty with their defaults (no locks, no plan)."""
        if len(self.locked) != len(self.ids):
            self.locked = np.full(len(self.ids), -1, dtype=np.int64)
        if len(self.closed) != self.k:
            self.closed = np.zeros(self.k, dtype=bool)
        if len(self.scale) != self.loads.shape[1]:
            self.scale = np.ones(self.loads.shape[1])
        if len(self.current) != len(self.ids):
            self.current = np.full(len(self.ids), -1, dtype=np.int64)
            self.move_amount = np.zeros(len(self.ids))

    @property
    def n(self) -> int:
        """Return the number of units."""
        return len(self.ids)

    def in_user_units(self, values: np.ndarray, m: int | None = None) -> np.ndarray:
        """Return loads, targets or ranges back in the user's units.

        Measure ``m``, or every measure along the last axis.
        """
        scale = self.scale if m is None else self.scale[m]
        return np.asarray(np.asarray(values, dtype=float) / scale)

    @property
    def edges(self) -> tuple[np.ndarray, np.ndarray]:
        """Both ends of every adjacency, each edge once per direction: (src, dst)."""
        if self._edges is None:
            sizes = np.fromiter((len(nb) for nb in self.neighbours), dtype=np.int64, count=self.n)
            src = np.repeat(np.arange(self.n), sizes)
            dst = np.concatenate(self.neighbours) if self.n else np.empty(0, dtype=np.int64)
            self._edges = (src, dst.astype(np.int64))
        return self._edges

    @property
    def edge_slots(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The edges of :attr:`edges` by unit, as CSR slots (made once).

        (``starts``, ``order``, ``ends``): the edges from unit u are ``starts[u]:starts[u + 1]``
        (``src`` ascends), those into u are ``order[ends[u]:ends[u + 1]]``.
        """
        if self._edge_slots is None:
            src, dst = self.edges
            slots = [
                np.concatenate([[0], np.cumsum(np.bincount(e, minlength=self.n))])
                for e in (src, dst)
            ]
            self._edge_slots = (slots[0], np.argsort(dst, kind="stable"), slots[1])
        return self._edge_slots

    @property
    def adjacency(self) -> list[list[int]]:
        """Neighbours of every unit as Python lists (fast to walk in loops)."""
        if self._adjacency is None:
            self._adjacency = [nb.tolist() for nb in self.neighbours]
        return self._adjacency

    def distances(self, centers: np.ndarray) -> np.ndarray:
        """Distance (km, or the cost matrix's unit) of every unit to every center, (n, k)."""
        if self.cost_matrix is not None:
            return np.asarray(self.cost_matrix[:, centers.astype(np.int64)], dtype=float)
        # The same numbers as np.linalg.norm over the last axis (the sum of the two squares,
        # then the root), without its (n, k, 2) temporary, a block of units at a time (the
        # squares of all pairs at once would be two more (n, k) arrays).
        out = np.empty((self.n, len(centers)))
        for block in unit_blocks(self.n, DISTANCE_BLOCK):
            dx = self.xy[block, 0, None] - centers[None, :, 0]
            dy = self.xy[block, 1, None] - centers[None, :, 1]
            dx *= dx
            dy *= dy
            dx += dy
            np.sqrt(dx, out=dx)
            dx /= 1000.0
            out[block] = dx
        return out

    def costs(self, centers: np.ndarray) -> np.ndarray:
        """Objective cost of giving each unit to each center, shape (n, k)."""
        costs = self.distances(centers)  # a fresh array (a copy of the matrix's columns)
        if self.inertia:
            costs *= costs
        costs *= self.weight[:, None]
        if self.move_penalty > 0:
            has = self.current >= 0
            costs[has] += (self.move_penalty * self.weight[has])[:, None]
            costs[np.flatnonzero(has), self.current[has]] -= self.move_penalty * self.weight[has]
        return costs

    def allowed(self, units: np.ndarray | None = None) -> np.ndarray:
        """Return the territories each unit may join before the centers are known.

        A (len(units), k) mask of the pins and kept territories
        (:func:`geoterr.design.constraints.allowed_pairs`); all units when ``units`` is None.
        """
        from geoterr.design.constraints import allowed_pairs

        return allowed_pairs(self, None, units)

    def moved_amount(self, labels: np.ndarray) -> float:
        """How much of the realignment budget ``labels`` use (customers or load moved)."""
        moved = (self.current >= 0) & (labels != self.current)
        return float(self.move_amount[moved].sum())

    def loads_of(self, labels: np.ndarray) -> np.ndarray:
        """Each territory's total of each balanced measure, (k, m)."""
        loads = np.zeros((self.k, self.loads.shape[1]))
        np.add.at(loads, labels, self.loads)
        return loads

    def assigned_costs(self, labels: np.ndarray, centers: np.ndarray) -> np.ndarray:
        """Objective cost of every unit in its own territory, (n,), without the (n, k) matrix."""
        if self.cost_matrix is not None:
            d = self.cost_matrix[np.arange(self.n), centers.astype(np.int64)[labels]]
        else:
            d = np.linalg.norm(self.xy - centers[labels], axis=1) / 1000.0
        costs: np.ndarray = self.weight * (d * d if self.inertia else d)
        if self.move_penalty > 0:
            moved = (self.current >= 0) & (labels != self.current)
            costs[moved] += self.move_penalty * self.weight[moved]
        return costs

    def center_xy(self, centers: np.ndarray) -> np.ndarray:
        """Center locations in metres, (k, 2)."""
        if self.cost_matrix is not None:
            return self.xy[centers.astype(np.int64)]
        return centers

    def reorder(self, order: np.ndarray) -> None:
        """Renumber territories: territory ``order[j]`` becomes ``j``."""
        self.target = self.target[order]
        self.lower = self.lower[order]
        self.upper = self.upper[order]
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        self.locked = np.where(self.locked >= 0, rank[np.maximum(self.locked, 0)], -1)
        self.current = np.where(self.current >= 0, rank[np.maximum(self.current, 0)], -1)
        self.closed = self.closed[order]


def cost_matrix(costs: object, units: Units) -> np.ndarray:
    """Return the ``costs`` argument checked, an (n, n) array in the order of the units."""
    ids = units.gdf.index
    if isinstance(costs, pd.DataFrame):
        missing = ids.difference(costs.index).union(ids.difference(costs.columns))
        if len(missing):
            msg = (
                f"`costs` has no row or column for {len(missing)} units "
                f"({format_ids(missing)}); index and columns must be unit ids."
            )
            raise InputError(msg)
        matrix = _float_matrix(costs.loc[ids, ids])
    else:
        matrix = _float_matrix(costs)
        if matrix.shape != (len(ids), len(ids)):
            msg = (
                f"`costs` must be a {len(ids)} x {len(ids)} matrix in the order of the units "
                f"(or a DataFrame indexed by unit ids), got shape {matrix.shape}."
            )
            raise InputError(msg)
    bad = ~np.isfinite(matrix) | (matrix < 0)
    if bad.any():
        rows = ids[np.flatnonzero(bad.any(axis=1))]
        msg = f"`costs` has negative or missing values in the rows of {format_ids(rows)}."
        raise InputError(msg)
    if matrix.size and float(matrix.max()) > MAX_COST:
        rows = ids[np.flatnonzero((matrix > MAX_COST).any(axis=1))]
        msg = (
            f"`costs` has values up to {float(matrix.max()):.3g} (rows of {format_ids(rows)}), "
            f"too large to multiply by weights (at most {MAX_COST:.0e}); give the costs in a "
            "larger unit (km instead of m, hours instead of seconds)."
        )
        raise InputError(msg)
    return matrix


# Costs are multiplied by weights (and squared for "inertia"): above this they overflow.
MAX_COST = 1e100


def _float_matrix(costs: object) -> np.ndarray:
    try:
        if isinstance(costs, pd.DataFrame):
            return np.asarray(costs.apply(pd.to_numeric, errors="raise").to_numpy(dtype=float))
        return np.asarray(costs, dtype=float)
    except (TypeError, ValueError):
        msg = "`costs` must hold numbers (a unit x unit matrix of distances or times)."
        raise InputError(msg) from None


def make_problem(
    units: Units,
    k: int,
    balance: dict[str, Bound],
    *,
    inertia: bool,
    capacity: Sequence[float] | None = None,
    costs: object = None,
) -> Problem:
    """Build the arrays and run the checks that need no solver.

    Parameters
    ----------
    units, k, balance, inertia
        As in :func:`geoterr.design`.
    capacity : sequence of float, optional
        Relative size of each territory (1 = a full territory, 0.5 = half); targets of
        relatively balanced measures are shared in proportion.
    costs : array or DataFrame, optional
        Unit-to-unit distances replacing straight-line ones.

    Raises
    ------
    InputError
        Bad ``n_territories``, ``capacity`` or ``costs``.
    InfeasibleError
        A measure that cannot be balanced at all (a unit heavier than a territory may be, bounds
        that cannot hold the total, more territories than units), with the numbers.
    """
    n = len(units)
    if not isinstance(k, int | np.integer) or isinstance(k, bool) or k < 1:
        msg = f"`n_territories` must be a positive whole number, got {k!r}."
        raise InputError(msg)
    if k > n:
        msg = (
            f"`n_territories` is {k} but there are only {n} units; every territory needs at "
            "least one unit. Ask for fewer territories or build finer units."
        )
        raise InfeasibleError(msg)
    share = np.full(k, 1.0 / k)
    if capacity is not None:
        cap = np.asarray(capacity, dtype=float)
        if cap.shape != (k,) or not np.all(np.isfinite(cap)) or np.any(cap <= 0):
            msg = (
                f"`capacity` must give a positive size for each of the {k} territories, "
                f"got {list(np.atleast_1d(cap))}."
            )
            raise InputError(msg)
        share = cap / cap.sum()
    names = list(balance)
    loads = _checked_loads(units, names)
    with np.errstate(over="ignore"):
        totals = loads.sum(axis=0)
    if not np.all(np.isfinite(totals)):
        huge = [n for n, t in zip(names, totals, strict=True) if not np.isfinite(t)]
        msg = (
            f"`balance` measure(s) {', '.join(map(repr, huge))} sum to more than a float can "
            "hold; give them in a larger unit (thousands, millions)."
        )
        raise InputError(msg)
    target = np.zeros((k, len(names)))
    lower = np.zeros((k, len(names)))
    upper = np.zeros((k, len(names)))
    reasons = []
    for m, name in enumerate(names):
        bound = balance[name]
        if isinstance(bound, tuple):
            lower[:, m], upper[:, m] = bound
            target[:, m] = (bound[0] + bound[1]) / 2
            eps = REL_EPS * max(abs(float(totals[m])), bound[1], np.finfo(float).tiny)
            if k * bound[0] > totals[m] + eps or k * bound[1] < totals[m] - eps:
                reasons.append(
                    f"{k} territories with {name} in [{_n(bound[0])}, {_n(bound[1])}] hold "
                    f"between {_n(k * bound[0])} and {_n(k * bound[1])}, but the total is "
                    f"{_n(totals[m])}"
                )
        else:
            if totals[m] <= 0:
                msg = f"`balance` measure {name!r} sums to {totals[m]:g}; it cannot be balanced."
                raise InputError(msg)
            target[:, m] = totals[m] * share
            lower[:, m] = target[:, m] * (1 - bound)
            upper[:, m] = target[:, m] * (1 + bound)
    reasons += _heavy_units(units, names, loads, upper, balance)
    if reasons:
        raise InfeasibleError("No balanced plan exists: " + "; ".join(reasons) + ".")
    scale = measure_scale(target)
    loads, target, lower, upper = (a * scale for a in (loads, target, lower, upper))
    primary = loads[:, 0]
    # Units without weight still need to be pulled to a nearby territory.
    weight = primary + 1e-3 * max(float(primary.mean()), 1e-12)
    index = {u: i for i, u in enumerate(units.gdf.index)}
    neighbours = [np.empty(0, dtype=np.int64)] * n
    for u, nbrs in units.graph.adjacency():
        neighbours[index[u]] = np.fromiter((index[v] for v in nbrs), dtype=np.int64)
    problem = Problem(
        ids=units.gdf.index,
        xy=units.xy,
        weight=weight,
        loads=loads,
        names=names,
        bounds=[balance[m] for m in names],
        target=target,
        lower=lower,
        upper=upper,
        neighbours=neighbours,
        k=int(k),
        inertia=inertia,
        cost_matrix=None if costs is None else cost_matrix(costs, units),
        scale=scale,
    )
    from geoterr.design.diagnose import choke_point_reasons
    from geoterr.design.split_search import unplaceable_unit_reasons

    reasons = choke_point_reasons(problem) or unplaceable_unit_reasons(problem)
    if reasons:
        raise InfeasibleError("No contiguous, balanced plan exists: " + "; ".join(reasons) + ".")
    return problem


# Relative slack of the balance checks (scale-free: a share of the bound, not an amount).
REL_EPS = 1e-9
# Measures whose mean target lies in this range are used as they are; outside it they are
# divided by the mean target, so that the solvers' absolute tolerances (1e-9 and the like)
# stay negligible: workloads of 1e-12 or 1e-300 each were "balanced" by rounding errors
# (26.7 % off, reported feasible) and 1e12 ones lost precision.
SAFE_TARGETS = (1e-3, 1e9)


def measure_scale(target: np.ndarray) -> np.ndarray:
    """Return what to multiply each measure by (1, or 1 / its mean target outside SAFE_TARGETS).

    Examples
    --------
    >>> measure_scale(np.array([[1e-12, 50.0], [1e-12, 50.0]])).tolist()
    [1000000000000.0, 1.0]
    """
    mean = np.abs(target).mean(axis=0) if target.size else np.ones(target.shape[1])
    outside = (mean > 0) & ((mean < SAFE_TARGETS[0]) | (mean > SAFE_TARGETS[1]))
    scale = np.ones(len(mean))
    scale[outside] = 1.0 / mean[outside]
    return scale


def _checked_loads(units: Units, names: list[str]) -> np.ndarray:
    """Return the balanced measures of every unit, refused when not finite or negative."""
    try:
        loads: np.ndarray = units.gdf[names].to_numpy(dtype=float)
    except (TypeError, ValueError):
        text = [n for n in names if not pd.api.types.is_numeric_dtype(units.gdf[n])]
        msg = (
            f"`balance` measure(s) {', '.join(map(repr, text))} of the units are not numbers; "
            "balance numeric columns (build_units(measures=[...]) checks them)."
        )
        raise InputError(msg) from None
    problems = []
    for m, name in enumerate(names):
        bad = ~np.isfinite(loads[:, m])
        negative = loads[:, m] < 0
        for mask, what in ((bad, "missing or infinite"), (negative, "negative")):
            if mask.any():
                problems.append(
                    f"{int(mask.sum())} units with {what} {name} "
                    f"({format_ids(units.gdf.index[mask])})"
                )
    if problems:
        msg = (
            f"`units` cannot be balanced: {'; '.join(problems)}. Fix the customers' values "
            "and build the units again (build_units checks the measures it is given)."
        )
        raise InputError(msg)
    xy = units.xy
    bad_xy = ~np.isfinite(xy).all(axis=1)
    if bad_xy.any():
        msg = (
            f"`units` has {int(bad_xy.sum())} units without a finite location "
            f"({format_ids(units.gdf.index[bad_xy])}); build them with build_units."
        )
        raise InputError(msg)
    return loads


def _heavy_units(
    units: Units, names: list[str], loads: np.ndarray, upper: np.ndarray, balance: dict[str, Bound]
) -> list[str]:
    reasons = []
    for m, name in enumerate(names):
        cap = float(upper[:, m].max())
        heavy = np.flatnonzero(loads[:, m] > cap + REL_EPS * abs(cap))
        if not len(heavy):
            continue
        worst = heavy[np.argmax(loads[heavy, m])]
        ids = [units.gdf.index[i] for i in heavy[np.argsort(-loads[heavy, m])]]
        text = (
            f"{len(heavy)} {'unit has' if len(heavy) == 1 else 'units have'} more {name} "
            f"than any territory may hold ({_n(cap)}): "
            f"{format_ids(ids)}; the largest, {units.gdf.index[worst]}, holds "
            f"{_n(loads[worst, m])}"
        )
        bound = balance[name]
        if not isinstance(bound, tuple):
            k = upper.shape[0]
            target = float(loads[:, m].sum()) / k
            needed = loads[worst, m] / target - 1
            most = int(loads[:, m].sum() * (1 + bound) / loads[worst, m])
            options = []
            if needed < 1:
                options.append(f"a tolerance of at least {needed:.1%}")
            if 1 <= most < k:
                options.append(f"at most {most} territories")
            options.append("splitting that unit")
            text += ". What could work: " + ", or ".join(options)
        else:
            text += ". Raise the upper bound or split that unit"
        reasons.append(text)
    return reasons


def components_of(
    nodes: np.ndarray, neighbours: list[np.ndarray], member: np.ndarray
) -> list[np.ndarray]:
    """Return connected components of the units ``nodes`` (``member`` marks them), by BFS."""
    seen = np.zeros(len(member), dtype=bool)
    parts = []
    for start in nodes:
        if seen[start]:
            continue
        seen[start] = True
        stack = [int(start)]
        comp = []
        while stack:
            u = stack.pop()
            comp.append(u)
            for v in neighbours[u]:
                if member[v] and not seen[v]:
                    seen[v] = True
                    stack.append(int(v))
        parts.append(np.array(comp, dtype=np.int64))
    return parts


def graph_of_problem(problem: Problem) -> nx.Graph:
    """Return the unit graph on integer positions (networkx)."""
    graph = nx.Graph()
    graph.add_nodes_from(range(problem.n))
    src, dst = problem.edges
    keep = src < dst
    graph.add_edges_from(zip(src[keep].tolist(), dst[keep].tolist(), strict=True))
    return graph


def territory_pieces(problem: Problem, labels: np.ndarray) -> np.ndarray:
    """Piece id of every unit.

    Units share a piece when a path inside their territory joins them (one call for all territories,
    on the sparse unit graph). Shape (n,).
    """
    src, dst = problem.edges
    return label_pieces(problem.n, src, dst, labels)


def pieces_per_territory(problem: Problem, labels: np.ndarray) -> np.ndarray:
    """How many separate pieces each territory is in (0 when empty), shape (k,)."""
    piece = territory_pieces(problem, labels)
    first = np.unique(piece, return_index=True)[1]
    return np.bincount(labels[first], minlength=problem.k)
