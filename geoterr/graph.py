"""Contiguity graphs between basic units, and the policy for islands."""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Iterable, Sequence
from typing import Literal

import networkx as nx
import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial import Delaunay, QhullError, cKDTree

from geoterr._errors import GeoterrWarning, InputError, format_ids

__all__ = [
    "IslandPolicy",
    "connect_components",
    "delaunay_edges",
    "graph_from_edges",
    "spanning_edges",
    "touching_pairs",
]

IslandPolicy = Literal["connect", "raise"]


def delaunay_edges(xy: np.ndarray) -> np.ndarray:
    """Return the edges of the Delaunay triangulation of distinct points.

    Parameters
    ----------
    xy : ndarray of shape (n, 2)
        Projected coordinates, all distinct.

    Returns
    -------
    ndarray of shape (m, 2)
        Index pairs ``i < j``. With fewer than three points, or all points on one line, the
        points are chained in order along the line.
    """
    n = len(xy)
    if n < 2:
        return np.empty((0, 2), dtype=np.int64)
    try:
        if n < 3:
            raise QhullError("too few points")
        tri = Delaunay(xy)
    except QhullError:
        # Collinear or too few points: chain them along their main direction.
        centred = xy - xy.mean(axis=0)
        direction = np.linalg.svd(centred, full_matrices=False)[2][0]
        order = np.argsort(centred @ direction)
        pairs = np.column_stack([order[:-1], order[1:]])
        return np.sort(pairs, axis=1)
    simplices = tri.simplices
    pairs = np.vstack([simplices[:, [0, 1]], simplices[:, [1, 2]], simplices[:, [0, 2]]])
    pairs = np.sort(pairs, axis=1)
    return np.unique(pairs, axis=0)


def spanning_edges(xy: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Return the edges of a minimum spanning forest (by length) of the given edges."""
    n = len(xy)
    if len(edges) == 0:
        return edges
    length = np.linalg.norm(xy[edges[:, 0]] - xy[edges[:, 1]], axis=1)
    # A zero weight would mean "no edge" to scipy: keep a tiny positive length.
    weights = np.maximum(length, 1e-9)
    matrix = coo_matrix((weights, (edges[:, 0], edges[:, 1])), shape=(n, n)).tocsr()
    tree = minimum_spanning_tree(matrix).tocoo()
    return np.sort(np.column_stack([tree.row, tree.col]), axis=1).astype(np.int64)


def touching_pairs(geoms: np.ndarray, pairs: np.ndarray, *, rook: bool = True) -> np.ndarray:
    """Return a boolean mask of the pairs whose polygons share a border.

    Parameters
    ----------
    geoms : ndarray of shapely geometries
    pairs : ndarray of shape (m, 2)
        Candidate index pairs.
    rook : bool
        Require a shared border of positive length (True) or accept a shared corner (False).
    """
    if len(pairs) == 0:
        return np.zeros(0, dtype=bool)
    a = geoms[pairs[:, 0]]
    b = geoms[pairs[:, 1]]
    if not rook:
        return np.asarray(shapely.intersects(a, b), dtype=bool)
    shared = shapely.intersection(shapely.boundary(a), shapely.boundary(b))
    return np.asarray(shapely.length(shared) > 0, dtype=bool)


def graph_from_edges(
    ids: Sequence[Hashable], edges: Iterable[tuple[Hashable, Hashable]]
) -> nx.Graph:
    """Build an undirected graph on ``ids`` from an edge list of ids, checking the ids.

    Raises
    ------
    InputError
        If an edge names an id that is not a unit.
    """
    graph = nx.Graph()
    graph.add_nodes_from(ids)
    known = set(ids)
    unknown: list[Hashable] = []
    for a, b in edges:
        if a not in known:
            unknown.append(a)
        if b not in known:
            unknown.append(b)
        if a != b:
            graph.add_edge(a, b)
    if unknown:
        msg = (
            f"`adjacency` names {len(set(unknown))} ids that are not units "
            f"({format_ids(sorted(set(map(str, unknown))))}); give pairs of unit ids."
        )
        raise InputError(msg)
    return graph


def connect_components(
    graph: nx.Graph,
    xy: dict[Hashable, tuple[float, float]],
    policy: IslandPolicy = "connect",
) -> list[tuple[Hashable, Hashable, float]]:
    """Make ``graph`` connected by the chosen policy; return the links added.

    With ``policy="connect"`` every component but the largest is joined to the nearest unit
    outside it (repeated until one component is left), and a warning lists the links. With
    ``"raise"`` a disconnected graph is an error naming the components.

    Parameters
    ----------
    graph : networkx.Graph
        Modified in place when links are added.
    xy : dict
        Projected coordinates of every node.
    policy : {"connect", "raise"}

    Returns
    -------
    list of (unit, unit, distance in metres)
    """
    added: list[tuple[Hashable, Hashable, float]] = []
    components = sorted(nx.connected_components(graph), key=len, reverse=True)
    if len(components) <= 1:
        return added
    if policy == "raise":
        small = [sorted(map(str, c))[:3] for c in components[1:6]]
        msg = (
            f"the unit graph has {len(components)} separate parts; the smaller ones hold units "
            f"{'; '.join(', '.join(s) for s in small)}. Pass `islands='connect'` to link each "
            "part to its nearest unit, or give the links with `adjacency=`."
        )
        raise InputError(msg)
    if policy != "connect":
        msg = f"`islands` must be 'connect' or 'raise', got {policy!r}."
        raise InputError(msg)
    while len(components) > 1:
        main = components[0]
        main_nodes = list(main)
        tree = cKDTree(np.array([xy[n] for n in main_nodes]))
        best: tuple[float, Hashable, Hashable] | None = None
        for comp in components[1:]:
            nodes = list(comp)
            dist, idx = tree.query(np.array([xy[n] for n in nodes]))
            k = int(np.argmin(dist))
            candidate = (float(dist[k]), nodes[k], main_nodes[int(idx[k])])
            if best is None or candidate[0] < best[0]:
                best = candidate
        assert best is not None
        graph.add_edge(best[1], best[2])
        added.append((best[1], best[2], best[0]))
        components = sorted(nx.connected_components(graph), key=len, reverse=True)
    links = ", ".join(f"{a}-{b} ({d / 1000:.1f} km)" for a, b, d in added[:5])
    more = f" and {len(added) - 5} more" if len(added) > 5 else ""
    warnings.warn(
        f"the unit graph had {len(added) + 1} separate parts; linked each to its nearest unit: "
        f"{links}{more}. Pass `islands='raise'` to stop instead, or give links with `adjacency=`.",
        GeoterrWarning,
        stacklevel=3,
    )
    return added
