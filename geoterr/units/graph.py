"""Contiguity graphs between basic units, and the policy for islands."""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Iterable, Sequence
from typing import Literal

import networkx as nx
import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, minimum_spanning_tree
from scipy.spatial import Delaunay, QhullError, cKDTree

from geoterr._errors import GeoterrWarning, InputError, format_ids

__all__ = [
    "IslandPolicy",
    "connect_components",
    "delaunay_edges",
    "graph_from_edges",
    "graph_from_pairs",
    "label_pieces",
    "long_edges",
    "spanning_edges",
    "touching_pairs",
]

IslandPolicy = Literal["connect", "separate", "raise"]
ISLAND_POLICIES = ("connect", "separate", "raise")


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
            msg = "too few points"
            raise QhullError(msg)
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


def long_edges(xy: np.ndarray, edges: np.ndarray, factor: float) -> np.ndarray:
    """Mark the edges that cross empty space: longer than ``factor`` times the local spacing.

    The local spacing of a location is its mean distance to its three nearest neighbours; an
    edge is long when it is longer than ``factor`` times the larger spacing of its two ends
    (so edges between sparse, evenly spread locations stay, and edges that jump a lake, a
    desert or a sea between denser places go).

    Returns
    -------
    ndarray of bool
        True for the long edges.
    """
    n = len(xy)
    if n < 5 or len(edges) == 0:
        return np.zeros(len(edges), dtype=bool)
    dist, _ = cKDTree(xy).query(xy, k=4)
    spacing = dist[:, 1:].mean(axis=1)
    length = np.linalg.norm(xy[edges[:, 0]] - xy[edges[:, 1]], axis=1)
    local = np.maximum(spacing[edges[:, 0]], spacing[edges[:, 1]])
    return np.asarray(length > factor * local, dtype=bool)


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


def label_pieces(n: int, src: np.ndarray, dst: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Return the piece id of each of ``n`` nodes: connected by edges between equal labels.

    ``src``, ``dst`` are the edges as node positions; two nodes share a piece when a path of
    edges whose ends carry the same label joins them (one scipy pass for all labels).

    Examples
    --------
    >>> import numpy as np
    >>> label_pieces(4, np.array([0, 1, 2]), np.array([1, 2, 3]), np.array([0, 1, 0, 0])).tolist()
    [0, 1, 2, 2]
    """
    same = labels[src] == labels[dst]
    linked = coo_matrix(
        (np.ones(int(same.sum()), dtype=np.int8), (src[same], dst[same])), shape=(n, n)
    )
    return np.asarray(connected_components(linked, directed=False)[1])


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


def graph_from_pairs(ids: Sequence[Hashable] | np.ndarray, pairs: np.ndarray) -> nx.Graph:
    """Return a graph on ``ids`` with an edge for each index pair (fast for large graphs)."""
    graph = nx.Graph()
    names = np.asarray(ids, dtype=object)
    graph.add_nodes_from(names.tolist())
    if len(pairs):
        ends = zip(names[pairs[:, 0]].tolist(), names[pairs[:, 1]].tolist(), strict=True)
        graph.add_edges_from(ends)
    return graph


def connect_components(
    graph: nx.Graph,
    ids: np.ndarray,
    xy: np.ndarray,
    policy: IslandPolicy = "connect",
) -> list[tuple[Hashable, Hashable, float]]:
    """Apply the islands policy to a graph that may fall apart; return the links added.

    - ``"connect"``: join the parts with the shortest links that make the graph connected
      (each part ends up linked to its nearest unit in another part, as a minimum spanning
      tree over the parts); a warning lists the links.
    - ``"separate"``: leave the parts apart; :func:`geoterr.design` then gives each part its
      own whole territories.
    - ``"raise"``: a graph in several parts is an error naming them.

    Parameters
    ----------
    graph : networkx.Graph
        Nodes are ``ids``; modified in place when links are added.
    ids : ndarray
        Unit ids, in the order of ``xy``.
    xy : ndarray of shape (n, 2)
        Projected coordinates of the units.
    policy : {"connect", "separate", "raise"}

    Returns
    -------
    list of (unit, unit, distance in metres)
    """
    if policy not in ISLAND_POLICIES:
        msg = f"`islands` must be one of {', '.join(map(repr, ISLAND_POLICIES))}, got {policy!r}."
        raise InputError(msg)
    parts = sorted(nx.connected_components(graph), key=len, reverse=True)
    if len(parts) <= 1 or policy == "separate":
        return []
    if policy == "raise":
        small = [sorted(map(str, c))[:3] for c in parts[1:6]]
        msg = (
            f"the unit graph has {len(parts)} separate parts; the smaller ones hold units "
            f"{'; '.join(', '.join(s) for s in small)}. Pass `islands='connect'` to link each "
            "part to its nearest unit, `islands='separate'` to give each part its own "
            "territories, or give the links with `adjacency=`."
        )
        raise InputError(msg)
    n = len(ids)
    pos = {u: i for i, u in enumerate(ids.tolist())}
    label = np.empty(n, dtype=np.int64)
    for p, part in enumerate(parts):
        label[[pos[u] for u in part]] = p
    # The shortest links between parts are Delaunay edges (the Euclidean minimum spanning
    # tree lies in the triangulation), so a spanning tree over the parts, with the shortest
    # Delaunay edge between each pair of parts, gives the shortest set of links.
    distinct, first, twin = np.unique(
        np.round(xy, 2), axis=0, return_index=True, return_inverse=True
    )
    # Units at the same spot as another are linked to it at distance 0.
    same = np.column_stack([np.arange(n), first[twin.ravel()]])
    edges = np.vstack([first[delaunay_edges(distinct)], same[same[:, 0] != same[:, 1]]])
    edges = edges[label[edges[:, 0]] != label[edges[:, 1]]]
    length = np.linalg.norm(xy[edges[:, 0]] - xy[edges[:, 1]], axis=1)
    order = np.argsort(length, kind="stable")
    edges, length = edges[order], length[order]
    # Kruskal over the parts.
    root = np.arange(len(parts))

    def find(a: int) -> int:
        while root[a] != a:
            root[a] = root[root[a]]
            a = int(root[a])
        return a

    added: list[tuple[Hashable, Hashable, float]] = []
    for (a, b), dist in zip(edges.tolist(), length.tolist(), strict=True):
        ra, rb = find(label[a]), find(label[b])
        if ra == rb:
            continue
        root[max(ra, rb)] = min(ra, rb)
        graph.add_edge(ids[a], ids[b])
        added.append((ids[a], ids[b], float(dist)))
        if len(added) == len(parts) - 1:
            break
    links = ", ".join(f"{a}-{b} ({d / 1000:.1f} km)" for a, b, d in added[:5])
    more = f" and {len(added) - 5} more" if len(added) > 5 else ""
    warnings.warn(
        f"the unit graph had {len(parts)} separate parts; linked each to its nearest unit: "
        f"{links}{more} (units.added_links lists them). Pass `islands='raise'` to stop "
        "instead, `islands='separate'` to give each part its own territories, or give links "
        "with `adjacency=`.",
        GeoterrWarning,
        stacklevel=3,
    )
    return added
