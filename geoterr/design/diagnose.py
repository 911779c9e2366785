r"""Fast proofs that no contiguous, balanced plan exists: choke points of the unit graph.

A unit whose removal cuts the graph apart (an articulation point, such as the one county
linking a peninsula or the unit an island was linked to) is a *choke point*: the units behind
it can only belong to territories lying wholly behind it, plus the one territory that holds
the choke point itself. If the load behind it cannot be split that way, no plan exists, and
the check takes one pass over the graph (the block-cut tree of the biconnected components).

For a piece of load :math:`W` behind a choke point of load :math:`w_v`, with every territory
in :math:`[L, U]`: some number :math:`q \\ge 0` of whole territories takes
:math:`W - a` with :math:`0 \\le a \\le U - w_v` left to the territory through the choke
point, so a plan needs :math:`\\lfloor W / L \\rfloor\\, U \\ge W - (U - w_v)`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial

import networkx as nx
import numpy as np

from geoterr._errors import format_ids
from geoterr._errors import format_number as _n
from geoterr.design.problem import Problem, graph_of_problem

__all__ = ["choke_point_reasons", "thin_graph_note"]


def _pieces_behind(
    graph: nx.Graph, loads: np.ndarray
) -> list[tuple[int, np.ndarray, Callable[[], np.ndarray]]]:
    """List every articulation point and every side of it.

    Each item is (choke unit, load of one side, a function giving that side's units), from subtree
    sums over the block-cut tree (linear time; the units are only listed when asked for).
    """
    blocks = [np.fromiter(b, dtype=np.int64) for b in nx.biconnected_components(graph)]
    cuts = set(nx.articulation_points(graph))
    if not cuts:
        return []
    tree = nx.Graph()
    own: dict[tuple[str, int], np.ndarray] = {}
    for i, members in enumerate(blocks):
        own[("b", i)] = np.array([u for u in members.tolist() if u not in cuts], dtype=np.int64)
        for u in members.tolist():
            if u in cuts:
                tree.add_edge(("b", i), ("a", u))
    for v in cuts:
        own[("a", v)] = np.array([v], dtype=np.int64)
    root = ("b", 0)
    parent = dict(nx.bfs_predecessors(tree, root))
    order = [root, *parent]  # breadth-first: parents before children
    children: dict[tuple[str, int], list[tuple[str, int]]] = {node: [] for node in order}
    for node, par in parent.items():
        children[par].append(node)
    load = {node: loads[own[node]].sum(axis=0) for node in order}
    for node in reversed(order):
        for child in children[node]:
            load[node] = load[node] + load[child]
    total = load[root]

    def units_under(node: tuple[str, int]) -> np.ndarray:
        stack, found = [node], []
        while stack:
            a = stack.pop()
            found.append(own[a])
            stack.extend(children[a])
        return np.unique(np.concatenate(found))

    def units_outside(node: tuple[str, int]) -> np.ndarray:
        inside = np.zeros(graph.number_of_nodes(), dtype=bool)
        inside[units_under(node)] = True
        return np.flatnonzero(~inside)

    out: list[tuple[int, np.ndarray, Callable[[], np.ndarray]]] = []
    for v in sorted(cuts):
        node = ("a", v)
        for child in children[node]:
            out.append((v, load[child], partial(units_under, child)))
        if node in parent:  # the side towards the root: everything outside v's subtree
            out.append((v, total - load[node], partial(units_outside, node)))
    return out


def _smallest_tolerance(problem: Problem, m: int, load: float, v: int) -> float | None:
    """Return the smallest relative tolerance for measure ``m`` that passes this choke point."""
    target = problem.target[:, m]

    def passes(tol: float) -> bool:
        low, up = float(target.min()) * (1 - tol), float(target.max()) * (1 + tol)
        room = max(up - problem.loads[v, m], 0.0)
        whole = math.floor(load / low + 1e-9) if low > 0 else problem.k
        return bool(min(whole, problem.k - 1) * up + room >= load - 1e-9)

    lo, hi = 0.0, 0.999
    if not passes(hi):
        return None
    for _ in range(40):
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if passes(mid) else (mid, hi)
    return hi


def choke_point_reasons(problem: Problem, max_units: int = 20_000) -> list[str]:
    """Why no plan can exist because of a choke point, in words (empty when none is found).

    Only a necessary condition is checked: an empty list does not promise a plan. Skipped
    (empty) above ``max_units`` units.
    """
    if problem.n > max_units or problem.n < 3:
        return []
    graph = graph_of_problem(problem)
    if not nx.is_connected(graph):
        return []
    reasons = []
    low = problem.lower.min(axis=0)
    up = problem.upper.max(axis=0)
    seen: set[tuple[int, int]] = set()
    for v, load, side in _pieces_behind(graph, problem.loads):
        for m, name in enumerate(problem.names):
            if (v, m) in seen:
                continue
            room = max(up[m] - problem.loads[v, m], 0.0)
            whole = math.floor(load[m] / low[m] + 1e-9) if low[m] > 0 else problem.k
            whole = min(whole, problem.k - 1)
            if whole * up[m] + room >= load[m] - 1e-9:
                continue
            seen.add((v, m))
            units = side()
            ids = problem.ids[units]
            fit = (
                "no whole territory fits there"
                if whole == 0
                else f"{whole} whole territories there take at most {_n(whole * up[m])}"
            )
            text = (
                f"unit {problem.ids[v]} is a choke point: the {len(units)} units behind it "
                f"({format_ids(ids)}) hold {name} {_n(load[m])}, but {fit} and the territory "
                f"through {problem.ids[v]} can take at most {_n(room)} of it"
            )
            bound = problem.bounds[m]
            if not isinstance(bound, tuple):
                needed = _smallest_tolerance(problem, m, float(load[m]), v)
                if needed is not None:
                    text += f"; a tolerance of at least {needed:.1%} could work"
            reasons.append(text)
    return reasons


# A violated plan on a graph with at least this share of cut vertices gets a note on why.
THIN_SHARE = 0.2


def thin_graph_note(problem: Problem) -> str | None:
    """Why the search had little room on a thin unit graph, or None.

    When a large share of the units are cut vertices (removing one splits the graph, as on
    hexagons without the empty cells between customers, or points linked only to their
    nearest neighbour), few units can change territory without cutting one in two, and the
    local search stalls far from balance. Returns the numbers and what gives it room.
    """
    if problem.n < 3:
        return None
    cuts = len(set(nx.articulation_points(graph_of_problem(problem))))
    if cuts < THIN_SHARE * problem.n:
        return None
    degree = np.fromiter((len(nb) for nb in problem.neighbours), dtype=float, count=problem.n)
    return (
        f"why: the unit graph is thin: {cuts:,} of {problem.n:,} units "
        f"({cuts / problem.n:.0%}) are cut vertices (removing one splits the graph; "
        f"{degree.mean():.1f} neighbours per unit on average), so few units can change "
        "territory without cutting one in two. Units that tile the land give the search "
        "room: Voronoi cells (the default), or hexagons with their empty cells kept "
        "(fill_gaps, the default)"
    )
