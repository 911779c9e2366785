"""H3 hexagon units: cells at one resolution, the empty cells between customers, neighbours.

H3 (Uber's hierarchical hexagonal grid, https://h3geo.org) covers the Earth with hexagons (and
twelve pentagons per resolution) of nearly equal area; resolution 0 has 122 cells, each finer
resolution about seven times more. Cells are identified by 64-bit integers; geoterr names hex
units by their usual 15-character hexadecimal string (``"872a1072bffffff"``).
"""

from __future__ import annotations

from typing import Any

import h3.api.numpy_int as h3
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from geoterr._errors import InputError

__all__ = [
    "AUTO_SPLIT",
    "MAX_RESOLUTION",
    "auto_caps",
    "cell_names",
    "cells_in_region",
    "check_target",
    "child_cells",
    "choose_resolution",
    "close_gaps",
    "descend",
    "distinct",
    "heavy_cells",
    "hex_neighbours",
    "hex_polygons",
    "latlng_to_cells",
    "resolution_for",
    "split_heavy",
    "to_resolution",
]

MAX_RESOLUTION = 15
# max_load="auto": cells holding more than this many times the mean over the occupied cells
# (of the customer count or of any measure) are split.
AUTO_SPLIT = 20.0
# The finest resolution tried when one is chosen from a wanted number of units (cells of
# about 300 m2; finer cells would be pointless for territories).
FINEST_CHOICE = 12


def distinct(cells: np.ndarray) -> np.ndarray:
    """Sorted distinct cells (uint64); a sort, much faster than hashing for large arrays."""
    ordered = np.sort(np.asarray(cells, dtype=np.uint64))
    if len(ordered) < 2:
        return ordered
    return np.asarray(ordered[np.concatenate([[True], ordered[1:] != ordered[:-1]])])


def check_resolution(resolution: Any) -> int:
    """Return the resolution as an int, or an error naming the argument."""
    if isinstance(resolution, bool) or not isinstance(resolution, int | np.integer):
        msg = f"`resolution` must be a whole number from 0 to 15, got {resolution!r}."
        raise InputError(msg)
    if not 0 <= int(resolution) <= MAX_RESOLUTION:
        msg = f"`resolution` must be from 0 to 15, got {resolution}."
        raise InputError(msg)
    return int(resolution)


def latlng_to_cells(lat: np.ndarray, lng: np.ndarray, resolution: int) -> np.ndarray:
    """Return the H3 cell (uint64) holding each point, at ``resolution``."""
    convert = h3.latlng_to_cell
    return np.fromiter(
        (convert(a, b, resolution) for a, b in zip(lat.tolist(), lng.tolist(), strict=True)),
        dtype=np.uint64,
        count=len(lat),
    )


def cell_names(cells: np.ndarray) -> np.ndarray:
    """Hexadecimal names of cells (object array of str)."""
    return np.array([format(int(c), "x") for c in cells], dtype=object)


def check_target(n_units: Any) -> int:
    """Return the wanted number of units as an int, or an error naming the argument."""
    if isinstance(n_units, bool) or not isinstance(n_units, int | np.integer) or n_units < 1:
        msg = f"`n_units` must be a positive whole number, got {n_units!r}."
        raise InputError(msg)
    return int(n_units)


def choose_resolution(lat: np.ndarray, lng: np.ndarray, n_units: int) -> int:
    """Return the resolution whose number of occupied cells is nearest ``n_units`` (in ratio)."""
    n_units = check_target(n_units)
    return resolution_for(np.unique(latlng_to_cells(lat, lng, FINEST_CHOICE)), n_units)


def resolution_for(fine: np.ndarray, n_units: int) -> int:
    """Return the resolution for ``n_units`` from the distinct occupied cells at ``FINEST_CHOICE``.

    Coarser cells are the parents of the distinct fine cells, so each resolution costs only
    its distinct cells.
    """
    best, best_miss = FINEST_CHOICE, np.inf
    for res in range(FINEST_CHOICE + 1):
        parents = fine if res == FINEST_CHOICE else {h3.cell_to_parent(c, res) for c in fine}
        count = len(parents)
        miss = abs(np.log(count / n_units))
        if miss < best_miss:
            best, best_miss = res, miss
        if count >= n_units:  # finer resolutions only move further away
            break
    return best


def auto_caps(caps: np.ndarray, sums: np.ndarray) -> np.ndarray:
    """Return the caps with every NaN (``max_load="auto"``) set to a multiple of the mean.

    The multiple is ``AUTO_SPLIT`` times the mean of that measure over the occupied cells; ``sums``
    has one row per occupied cell.

    Examples
    --------
    >>> auto_caps(np.array([np.nan, 5.0]), np.array([[1.0, 2.0], [3.0, 4.0]])).tolist()
    [40.0, 5.0]
    """
    caps = np.asarray(caps, dtype=float).copy()
    auto = np.isnan(caps)
    if auto.any() and len(sums):
        caps[auto] = AUTO_SPLIT * np.asarray(sums, dtype=float).mean(axis=0)[auto]
    return caps


def split_heavy(
    cells: np.ndarray,
    lat: np.ndarray,
    lng: np.ndarray,
    loads: np.ndarray,
    caps: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Split cells holding more than ``caps`` of a measure into their children, repeatedly.

    Parameters
    ----------
    cells : ndarray of uint64
        Each customer's cell, all at one resolution.
    lat, lng : ndarray
        The customers' coordinates.
    loads : ndarray of shape (n, m)
        The customers' values of the capped measures.
    caps : ndarray of shape (m,)
        The most a unit may hold of each (NaN: set by :func:`auto_caps` from the cells).

    Returns
    -------
    cells : ndarray of uint64
        Each customer's cell after splitting (mixed resolutions): see :func:`descend`.
    split : ndarray of uint64
        The cells that were split (no longer units; their seven children are), sorted.
    """
    split: set[int] = set()
    placed = np.array(cells, dtype=np.uint64)
    while True:
        distinct, where = np.unique(placed, return_inverse=True)
        stats = pd.DataFrame({"cell": where, "lat": lat, "lng": lng})
        for j in range(len(caps)):
            stats[f"load{j}"] = loads[:, j]
        table = stats.groupby("cell").agg(
            **{f"load{j}": (f"load{j}", "sum") for j in range(len(caps))},
            lat_min=("lat", "min"),
            lat_max=("lat", "max"),
            lng_min=("lng", "min"),
            lng_max=("lng", "max"),
        )
        if np.isnan(caps).any():  # first pass: the cells at the resolution asked for
            caps = auto_caps(caps, table[[f"load{j}" for j in range(len(caps))]].to_numpy())
        more = heavy_cells(distinct, table, caps)
        if len(more) == 0:
            return placed, np.sort(np.fromiter(split, dtype=np.uint64, count=len(split)))
        # Only the customers of the newly split cells move (one level down, or more).
        fresh = {int(c) for c in more}
        placed = descend(placed, lat, lng, fresh)
        split |= fresh


def heavy_cells(cells: np.ndarray, table: pd.DataFrame, caps: np.ndarray) -> np.ndarray:
    """Return the cells to split: over a cap, with customers at more than one spot, not the finest.

    ``table`` has, per cell (in the order of ``cells``), ``load0``... (the capped measures'
    sums) and the ``lat_min``, ``lat_max``, ``lng_min``, ``lng_max`` of its customers. A
    cell whose customers all sit at one spot cannot get lighter and stays whole.
    """
    totals = table[[f"load{j}" for j in range(len(caps))]].to_numpy(dtype=float)
    spread = (table["lat_min"] != table["lat_max"]) | (table["lng_min"] != table["lng_max"])
    finest = np.array([h3.get_resolution(int(c)) for c in cells]) >= MAX_RESOLUTION
    over = np.any(totals > caps, axis=1) & spread.to_numpy() & ~finest
    return np.asarray(cells[over])


def descend(cells: np.ndarray, lat: np.ndarray, lng: np.ndarray, split: set[int]) -> np.ndarray:
    """Move each customer out of split cells, down to the child holding it.

    Until its cell is not split. The result depends only on the customer and the split cells, so
    every path (in memory, or partition by partition) places a customer in the same cell.
    """
    cells = np.array(cells, dtype=np.uint64)
    if not split:
        return cells
    marks = np.fromiter(split, dtype=np.uint64, count=len(split))
    todo = np.flatnonzero(np.isin(cells, marks))
    while len(todo):
        cells[todo] = [
            _child_holding(int(c), y, x)
            for c, y, x in zip(cells[todo], lat[todo], lng[todo], strict=True)
        ]
        todo = todo[np.isin(cells[todo], marks)]
    return cells


def to_resolution(cells: np.ndarray, resolution: int) -> np.ndarray:
    """Each cell's ancestor at ``resolution`` (cells at it or coarser stay as they are)."""
    return np.fromiter(
        (
            c if h3.get_resolution(c) <= resolution else h3.cell_to_parent(c, resolution)
            for c in (int(v) for v in cells)
        ),
        dtype=np.uint64,
        count=len(cells),
    )


def child_cells(cells: np.ndarray) -> np.ndarray:
    """Return the children (one resolution finer) of every cell, sorted and distinct."""
    if len(cells) == 0:
        return np.empty(0, dtype=np.uint64)
    parts = [
        np.asarray(h3.cell_to_children(int(c), h3.get_resolution(int(c)) + 1), dtype=np.uint64)
        for c in cells
    ]
    return np.unique(np.concatenate(parts))


def _child_holding(cell: int, lat: float, lng: float) -> int:
    """Return the child of ``cell`` holding a point.

    H3 children do not tile their parent exactly: a point near the edge can lie in another parent's
    child; then the nearest child.
    """
    res = h3.get_resolution(cell) + 1
    child = int(h3.latlng_to_cell(lat, lng, res))
    if h3.cell_to_parent(child, res - 1) == cell:
        return child
    children = [int(c) for c in h3.cell_to_children(cell, res)]
    centers = np.array([h3.cell_to_latlng(c) for c in children])
    return children[int(np.argmin(np.hypot(centers[:, 0] - lat, centers[:, 1] - lng)))]


def _disk(cells: np.ndarray, rings: int) -> np.ndarray:
    """Every cell within ``rings`` steps of some cell of ``cells`` (distinct, sorted)."""
    if len(cells) == 0:
        return cells
    parts = [np.asarray(h3.grid_disk(int(c), rings), dtype=np.uint64) for c in cells]
    return distinct(np.concatenate(parts))


def close_gaps(occupied: np.ndarray, rings: int, known: np.ndarray | None = None) -> np.ndarray:
    """Return the empty cells in gaps of the occupied cells at most ``2 * rings`` cells wide.

    A morphological closing on the hexagon grid: grow the occupied set by ``rings`` rings,
    then keep the grown cells whose whole ``rings``-disk lies in the grown set. The empty cells
    kept sit between occupied cells (in straits, holes, narrow empty land), not around the
    outside, so territories stay connected on the ground without a fringe of empty cells.

    ``known`` (sorted) are cells already taken as land: they are not tested again, nor
    returned.

    Returns
    -------
    ndarray of uint64
        The added empty cells, sorted.
    """
    if rings <= 0 or len(occupied) == 0:
        return np.empty(0, dtype=np.uint64)
    grown = _disk(occupied, rings)
    candidates = np.setdiff1d(grown, occupied, assume_unique=True)
    if known is not None and len(known) and len(candidates):
        pos = np.minimum(np.searchsorted(known, candidates), len(known) - 1)
        candidates = candidates[known[pos] != candidates]
    if len(candidates) == 0:
        return candidates
    disks = [np.asarray(h3.grid_disk(int(c), rings), dtype=np.uint64) for c in candidates]
    flat = np.concatenate(disks)
    pos = np.minimum(np.searchsorted(grown, flat), len(grown) - 1)
    found = grown[pos] == flat
    starts = np.concatenate([[0], np.cumsum([len(d) for d in disks])[:-1]])
    keep = np.logical_and.reduceat(found, starts)
    return candidates[keep]


def cells_in_region(region_lonlat: shapely.Geometry, resolution: int) -> np.ndarray:
    """Return the cells whose centers lie inside a polygon given in WGS 84 degrees (sorted)."""
    polys = shapely.get_parts(region_lonlat)
    found: list[np.ndarray] = []
    for poly in polys:
        if not isinstance(poly, shapely.Polygon) or poly.is_empty:
            continue
        outer = [(y, x) for x, y in poly.exterior.coords]
        holes = [[(y, x) for x, y in ring.coords] for ring in poly.interiors]
        shape = h3.LatLngPoly(outer, *holes)
        found.append(np.asarray(h3.h3shape_to_cells(shape, resolution), dtype=np.uint64))
    if not found:
        return np.empty(0, dtype=np.uint64)
    return distinct(np.concatenate(found))


def hex_neighbours(cells: np.ndarray) -> np.ndarray:
    """Index pairs ``i < j`` of cells (sorted, distinct) that share an edge."""
    if len(cells) < 2:
        return np.empty((0, 2), dtype=np.int64)
    rings = [np.asarray(h3.grid_disk(int(c), 1), dtype=np.uint64) for c in cells]
    src = np.repeat(np.arange(len(cells)), [len(r) for r in rings])
    near = np.concatenate(rings)
    pos = np.minimum(np.searchsorted(cells, near), len(cells) - 1)
    hit = (cells[pos] == near) & (pos > src)  # a unit cell, each pair once, not the cell itself
    return np.column_stack([src[hit], pos[hit]]).astype(np.int64)


def hex_polygons(cells: np.ndarray, crs: CRS) -> tuple[np.ndarray, np.ndarray]:
    """Cell polygons and cell centers projected to ``crs``.

    Vertices are projected one by one, so cells across the antimeridian stay whole.

    Returns
    -------
    polygons : ndarray of shapely polygons
    centers : ndarray of shape (n, 2)
    """
    to_crs = Transformer.from_crs(4326, crs, always_xy=True)
    n = len(cells)
    centers = np.array([h3.cell_to_latlng(int(c)) for c in cells], dtype=float).reshape(n, 2)
    cx, cy = to_crs.transform(centers[:, 1], centers[:, 0])
    rings = [np.asarray(h3.cell_to_boundary(int(c)), dtype=float) for c in cells]
    sizes = np.fromiter((len(r) for r in rings), dtype=np.int64, count=n)
    flat = np.vstack(rings) if n else np.empty((0, 2))
    fx, fy = to_crs.transform(flat[:, 1], flat[:, 0])
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    polygons = np.empty(n, dtype=object)
    for size in np.unique(sizes):  # hexagons, and the twelve pentagons per resolution
        rows = np.flatnonzero(sizes == size)
        idx = offsets[rows][:, None] + np.arange(size)
        coords = np.stack([fx[idx], fy[idx]], axis=-1)
        polygons[rows] = shapely.polygons(coords)
    # Far from the projection's center (across an ocean on a world map) a cell can come out
    # twisted; repair those rather than fail when territories are drawn.
    twisted = ~shapely.is_valid(polygons)
    if twisted.any():
        polygons[twisted] = shapely.make_valid(polygons[twisted])
    return polygons, np.column_stack([cx, cy])
