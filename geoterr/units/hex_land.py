"""The land between hexagon units: empty cells shared out among the occupied cells.

Occupied H3 cells alone rarely touch: customers cluster in towns, and the cells between them
are empty. A graph of occupied cells is then in many small parts, and joining those with single
links across empty land gives a graph that is nearly a tree, where territories can neither be
balanced (a territory can only grow through the few links) nor drawn in one piece. Here the
empty cells of the land (a band around the customers, as for Voronoi cells, or a boundary the
user gives) are shared out: each goes to the occupied cell nearest to it *along the land*
(a shortest path over neighbouring cells, so a share never jumps a gap). A unit is then its
occupied cell with its share of the land, two units are neighbours when their shares touch,
and the graph is as well connected as the land itself (like Voronoi cells, but made of
hexagons). A territory that is connected in that graph is one polygon on the map.

Cells split into children (``max_load``) are finer than their neighbours. H3 children do not
tile their parent exactly, so cells of different resolutions are neighbours when they come
within a twentieth of the finest edge length of each other, and their shapes are widened by
that much when units are drawn, so that the outline stays in one piece across the seam.
"""

from __future__ import annotations

import warnings
from typing import Any

import h3.api.numpy_int as h3
import numpy as np
import shapely
from pyproj import CRS, Transformer
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from geoterr._errors import GeoterrWarning, InputError
from geoterr.units.hexes import cells_in_region, close_gaps, distinct, hex_polygons, to_resolution
from geoterr.units.voronoi import boundary_region

__all__ = [
    "MAX_LAND_CELLS",
    "cell_centers",
    "land_cells",
    "land_regions",
    "nearest_owner",
    "neighbour_pairs",
    "region_outlines",
]

# Beyond this many cells the band is not filled (a resolution far too fine for the area):
# only the gaps are.
MAX_LAND_CELLS = 1_500_000
# Candidate neighbours are cell centers closer than this many (largest) edge lengths; first
# ring neighbours lie about sqrt(3) = 1.73 edges apart, the second ring 3 or more.
NEIGHBOUR_REACH = 2.2
# Seams between cells of different resolutions are bridged within this share of the finest
# cells' edge length.
SEAM_SHARE = 0.05
# Coordinates of drawn outlines are rounded to this many metres, so that borders shared by two
# units have the very same vertices.
GRID_M = 1e-3


def _member(values: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """Which ``values`` are in ``sorted_set`` (sorted, distinct)."""
    if len(sorted_set) == 0:
        return np.zeros(len(values), dtype=bool)
    pos = np.minimum(np.searchsorted(sorted_set, values), len(sorted_set) - 1)
    return np.asarray(sorted_set[pos] == values, dtype=bool)


def _latlng(cells: np.ndarray) -> np.ndarray:
    """Cell centers in degrees, shape (n, 2) as (lat, lng)."""
    n = len(cells)
    return np.array([h3.cell_to_latlng(c) for c in cells.tolist()], dtype=float).reshape(n, 2)


def cell_centers(cells: np.ndarray, crs: CRS, latlng: np.ndarray | None = None) -> np.ndarray:
    """Cell centers projected to ``crs``, shape (n, 2)."""
    latlng = _latlng(cells) if latlng is None else latlng
    if len(latlng) == 0:
        return np.empty((0, 2))
    to_crs = Transformer.from_crs(4326, crs, always_xy=True)
    x, y = to_crs.transform(latlng[:, 1], latlng[:, 0])
    return np.column_stack([x, y])


def neighbour_pairs(cells: np.ndarray, latlng: np.ndarray | None = None) -> np.ndarray:
    """Index pairs ``i < j`` of cells (sorted, distinct, one resolution) sharing an edge.

    Candidates are centers close on the sphere (a k-d tree, free of any map projection),
    each confirmed by H3: several times faster than asking H3 for the ring of every cell,
    and exact.
    """
    if len(cells) < 2:
        return np.empty((0, 2), dtype=np.int64)
    rad = np.deg2rad(_latlng(cells) if latlng is None else latlng)
    lat, lng = rad[:, 0], rad[:, 1]
    sphere = np.column_stack([np.cos(lat) * np.cos(lng), np.cos(lat) * np.sin(lng), np.sin(lat)])
    # The edge of the largest cells here (from a sample, with a margin): neighbours lie about
    # sqrt(3) edges apart, the second ring 3 edges or more.
    sample = cells[:: max(1, len(cells) // 2000)].tolist()
    area = max(h3.cell_area(c, unit="rads^2") for c in sample)
    edge = 1.1 * np.sqrt(2.0 * area / (3.0 * np.sqrt(3.0)))
    pairs = cKDTree(sphere).query_pairs(NEIGHBOUR_REACH * edge, output_type="ndarray")
    if len(pairs) == 0:
        return np.empty((0, 2), dtype=np.int64)
    a, b = cells[pairs[:, 0]].tolist(), cells[pairs[:, 1]].tolist()
    near = h3.are_neighbor_cells
    ok = np.fromiter((near(x, y) for x, y in zip(a, b, strict=True)), dtype=bool, count=len(a))
    pairs = np.sort(pairs[ok].astype(np.int64), axis=1)
    return pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]


def land_cells(
    base: np.ndarray,
    resolution: int,
    crs: CRS,
    *,
    rings: int,
    boundary: shapely.Geometry | None = None,
) -> tuple[np.ndarray, str]:
    """Return the empty cells of the land at ``resolution``, and where the land came from.

    Parameters
    ----------
    base : ndarray of uint64
        The occupied (or split) cells at ``resolution``, sorted.
    resolution : int
    crs : pyproj.CRS
        The projected CRS of the units.
    rings : int
        Gaps up to ``2 * rings`` cells wide are always land
        (:func:`geoterr.units.hexes.close_gaps`).
    boundary : shapely geometry, optional
        The user's area, in ``crs``: its cells are the land (and no band, no gaps).

    Returns
    -------
    cells : ndarray of uint64
        The empty land cells (not in ``base``), sorted.
    source : str
        ``"boundary"``, ``"band"``, or ``"gaps"`` when the band would hold more than
        ``MAX_LAND_CELLS`` cells (with a warning).
    """
    if boundary is not None:
        region, source = boundary, "boundary"
    else:
        region, source = boundary_region(cell_centers(base, crs), None, crs), "band"
    cell_area = h3.average_hexagon_area(resolution, unit="m^2")
    expected = float(shapely.area(region)) / cell_area
    if expected > MAX_LAND_CELLS:
        if boundary is not None:
            msg = (
                f"`boundary` holds about {expected:,.0f} cells at resolution {resolution} "
                f"(more than {MAX_LAND_CELLS:,}); choose a coarser `resolution` (or "
                "`n_units`), or give a smaller `boundary`."
            )
            raise InputError(msg)
        warnings.warn(
            f"the land around the customers holds about {expected:,.0f} cells at resolution "
            f"{resolution} (more than {MAX_LAND_CELLS:,}); only the gaps up to "
            f"{2 * rings} cells wide are shared out, so towns further apart are linked "
            "across empty land. Choose a coarser `resolution` (or fewer `n_units`) to fill "
            "the land.",
            GeoterrWarning,
            stacklevel=5,
        )
        return close_gaps(base, rings), "gaps"
    found = projected_region_cells(region, crs, resolution)
    extra = close_gaps(base, rings, found) if boundary is None else found[:0]
    land = distinct(np.concatenate([found, extra]))
    return land[~_member(land, base)], source


def projected_region_cells(region: shapely.Geometry, crs: CRS, resolution: int) -> np.ndarray:
    """Return the cells whose centers lie in a region given in a projected CRS (sorted).

    Rings are taken to degrees vertex by vertex with longitudes kept continuous, and pieces
    beyond the antimeridian are shifted back, so regions across it stay whole.
    """
    to_lonlat = Transformer.from_crs(crs, 4326, always_xy=True)
    pieces: list[shapely.Geometry] = []
    for poly in shapely.get_parts(region):
        if not isinstance(poly, shapely.Polygon) or poly.is_empty:
            continue
        rings: list[np.ndarray] = []
        for ring in (poly.exterior, *poly.interiors):
            xy = np.asarray(ring.coords)
            lon, lat = to_lonlat.transform(xy[:, 0], xy[:, 1])
            lon = np.rad2deg(np.unwrap(np.deg2rad(lon)))
            if rings:  # a hole on the same side of the antimeridian as its outline
                lon = lon - 360.0 * np.round((lon.mean() - rings[0][:, 0].mean()) / 360.0)
            rings.append(np.column_stack([lon, lat]))
        shape = shapely.make_valid(shapely.Polygon(rings[0], rings[1:]))
        for offset in (-360.0, 0.0, 360.0):
            window = shapely.box(-180.0 + offset, -90.0, 180.0 + offset, 90.0)
            piece = shapely.intersection(shape, window)
            if not piece.is_empty:
                pieces.append(shapely.transform(piece, lambda c, d=offset: c - [d, 0.0]))
    found = [cells_in_region(p, resolution) for p in pieces]
    if not found:
        return np.empty(0, dtype=np.uint64)
    return distinct(np.concatenate(found))


def nearest_owner(n: int, pairs: np.ndarray, xy: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """For each of ``n`` cells, the position in ``seeds`` of the seed nearest along the graph.

    Distances are sums of center-to-center steps over ``pairs``; a cell no seed reaches gets
    -1. Every cell's shortest path to its seed runs through cells of the same seed, so each
    seed's share is connected.
    """
    owner = np.full(n, -1, dtype=np.int64)
    if len(seeds) == 0:
        return owner
    step = np.linalg.norm(xy[pairs[:, 0]] - xy[pairs[:, 1]], axis=1) if len(pairs) else []
    weights = np.maximum(np.asarray(step, dtype=float), 1e-6)  # 0 would mean "no edge"
    graph = coo_matrix((weights, (pairs[:, 0], pairs[:, 1])), shape=(n, n)).tocsr()
    _, _, source = dijkstra(
        graph, directed=False, indices=seeds, min_only=True, return_predecessors=True
    )
    rank = np.full(n, -1, dtype=np.int64)
    rank[seeds] = np.arange(len(seeds))
    reached = source >= 0
    owner[reached] = rank[source[reached]]
    return owner


def _mixed_pairs(cells: np.ndarray, zone: np.ndarray, crs: CRS, snap: float) -> np.ndarray:
    """Index pairs of cells of different resolutions (within ``zone``) that touch."""
    if len(zone) < 2:
        return np.empty((0, 2), dtype=np.int64)
    shapes, _ = hex_polygons(cells[zone], crs)
    a, b = shapely.STRtree(shapes).query(shapes, predicate="dwithin", distance=snap)
    res = np.array([h3.get_resolution(int(c)) for c in cells[zone]])
    keep = (a < b) & (res[a] != res[b])
    return np.column_stack([zone[a[keep]], zone[b[keep]]]).astype(np.int64)


def land_regions(
    units: np.ndarray,
    resolution: int,
    crs: CRS,
    *,
    rings: int,
    boundary: shapely.Geometry | None,
    split: np.ndarray,
    empty_children: np.ndarray,
) -> dict[str, Any]:
    """Share the land out among the unit cells.

    Parameters
    ----------
    units : ndarray of uint64
        The occupied cells (mixed resolutions below split cells), sorted.
    resolution : int
        The base resolution.
    crs : pyproj.CRS
    rings : int
        See :func:`land_cells`.
    boundary : shapely geometry or None
        The user's area in ``crs``.
    split : ndarray of uint64
        The split cells (at the base resolution or finer).
    empty_children : ndarray of uint64
        The children of split cells without customers (shared out like the land).

    Returns
    -------
    dict
        ``geometry`` (one polygon per unit), ``xy`` (the units' cell centers), ``edges``
        (index pairs of units whose shares touch), ``land_cells`` (the empty cells shared
        out), ``unreached`` (land cells no unit reaches along the land, left out) and
        ``land`` (``"band"`` or ``"boundary"``).
    """
    split_base = split[[h3.get_resolution(int(c)) == resolution for c in split]]
    base = distinct(np.concatenate([to_resolution(units, resolution), split_base]))
    empty, source = land_cells(base, resolution, crs, rings=rings, boundary=boundary)
    cells = distinct(np.concatenate([units, empty, empty_children]))
    n = len(cells)
    latlng = _latlng(cells)
    xy = cell_centers(cells, crs, latlng)
    levels = np.full(n, resolution, dtype=np.int64)
    if len(split):
        levels = np.array([h3.get_resolution(c) for c in cells.tolist()], dtype=np.int64)
    parts = []
    for level in np.unique(levels):
        rows = np.flatnonzero(levels == level)
        parts.append(rows[neighbour_pairs(cells[rows], latlng[rows])])
    zone = np.empty(0, dtype=np.int64)
    snap = 0.0
    if len(split_base):
        finest = int(levels.max())
        snap = SEAM_SHARE * h3.average_hexagon_edge_length(finest, unit="m")
        around = np.concatenate([h3.grid_disk(int(c), 1) for c in split_base])
        zone = np.flatnonzero((levels > resolution) | _member(cells, distinct(around)))
        parts.append(_mixed_pairs(cells, zone, crs, snap))
    pairs = np.vstack(parts) if parts else np.empty((0, 2), dtype=np.int64)
    seeds = np.searchsorted(cells, units)
    owner = nearest_owner(n, pairs, xy, seeds)
    seam = np.zeros(n, dtype=bool)
    seam[zone] = True
    geometry = region_outlines(cells, owner, len(units), crs, seam=seam, snap=snap)
    a, b = owner[pairs[:, 0]], owner[pairs[:, 1]]
    cross = (a != b) & (a >= 0) & (b >= 0)
    edges = np.unique(np.sort(np.column_stack([a[cross], b[cross]]), axis=1), axis=0)
    return {
        "geometry": geometry,
        "xy": xy[seeds],
        "edges": edges.astype(np.int64).reshape(-1, 2),
        "land_cells": int(len(empty) + len(empty_children)),
        "unreached": int((owner < 0).sum()),
        "land": source,
    }


def region_outlines(
    cells: np.ndarray,
    owner: np.ndarray,
    n_units: int,
    crs: CRS,
    *,
    seam: np.ndarray | None = None,
    snap: float = 0.0,
) -> np.ndarray:
    """One polygon per unit: the outline of the cells it owns, projected to ``crs``.

    Outlines come from H3 (exact: neighbouring cells share their edges), vertex by vertex, so
    shares across the antimeridian stay whole; coordinates are rounded to a millimetre, so
    two units' common border has the same vertices on both sides. Cells marked in ``seam``
    (next to cells of another resolution) are drawn widened by ``snap`` metres instead.
    """
    seam = np.zeros(len(cells), dtype=bool) if seam is None else seam
    order = np.argsort(owner, kind="stable")
    sorted_owner = owner[order]
    bounds = np.searchsorted(sorted_owner, np.arange(n_units + 1))
    rings: list[np.ndarray] = []
    shells: list[tuple[int, int, list[int]]] = []  # (unit, outer ring, hole rings)
    seams: dict[int, list[int]] = {}
    for u in range(n_units):
        mine = order[bounds[u] : bounds[u + 1]]
        exact = mine[~seam[mine]]
        if len(mine) > len(exact):
            seams[u] = mine[seam[mine]].tolist()
        if len(exact) == 0:
            continue
        shape = h3.cells_to_h3shape(cells[exact])
        polys = [shape] if isinstance(shape, h3.LatLngPoly) else list(shape)
        for poly in polys:
            outer = len(rings)
            rings.append(np.asarray(poly.outer, dtype=float))
            holes = []
            for hole in poly.holes:
                holes.append(len(rings))
                rings.append(np.asarray(hole, dtype=float))
            shells.append((u, outer, holes))
    to_crs = Transformer.from_crs(4326, crs, always_xy=True)
    sizes = np.array([len(r) for r in rings], dtype=np.int64)
    flat = np.vstack(rings) if rings else np.empty((0, 2))
    x, y = to_crs.transform(flat[:, 1], flat[:, 0])
    coords = np.round(np.column_stack([x, y]) / GRID_M) * GRID_M
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    pieces: list[list[shapely.Geometry]] = [[] for _ in range(n_units)]
    for u, outer, holes in shells:
        shell = coords[offsets[outer] : offsets[outer + 1]]
        inner = [coords[offsets[h] : offsets[h + 1]] for h in holes]
        pieces[u].append(shapely.Polygon(shell, inner))
    if seams:
        rows = np.concatenate([np.asarray(r, dtype=np.int64) for r in seams.values()])
        shapes = shapely.buffer(hex_polygons(cells[rows], crs)[0], snap, join_style="mitre")
        start = 0
        for u, members in seams.items():
            pieces[u].extend(shapes[start : start + len(members)].tolist())
            start += len(members)
    out = np.empty(n_units, dtype=object)
    for u in range(n_units):
        shapes_u = pieces[u]
        if len(shapes_u) == 1 and shapes_u[0].is_valid:
            out[u] = shapes_u[0]
        else:
            fixed = [s if s.is_valid else shapely.make_valid(s) for s in shapes_u]
            out[u] = shapely.union_all(fixed) if fixed else shapely.Polygon()
    return out
