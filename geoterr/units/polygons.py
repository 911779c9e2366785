"""Units from the user's own polygons: postal areas, counties, existing sales areas.

Customers join the polygon they lie in (point in polygon); polygons are neighbours when they
touch (queen: a shared corner is enough; rook: a shared border of positive length), optionally
across small gaps between polygons that do not quite meet (``snap``).
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geoterr._errors import GeoterrWarning, InputError, format_ids

__all__ = ["Contiguity", "join_customers", "polygon_neighbours", "prepare_polygons"]

Contiguity = Literal["queen", "rook"]
Outside = Literal["raise", "nearest"]


def prepare_polygons(polygons: object, id_column: Hashable | None, crs: CRS) -> gpd.GeoSeries:
    """Check the user's polygons; return their geometry in ``crs``, indexed by unit id.

    Raises
    ------
    InputError
        Not a GeoDataFrame, no CRS, missing, duplicate or empty ids, or empty geometry,
        naming the rows.
    """
    if not isinstance(polygons, gpd.GeoDataFrame | gpd.GeoSeries):
        msg = (
            "`polygons` must be a GeoDataFrame (or GeoSeries) of areas, got "
            f"{type(polygons).__name__}; read it with geopandas.read_file(...)."
        )
        raise InputError(msg)
    if polygons.crs is None:
        msg = "`polygons` has no CRS; set the one the coordinates are in (e.g. .set_crs(4326))."
        raise InputError(msg)
    if len(polygons) == 0:
        msg = "`polygons` is empty; give at least one area."
        raise InputError(msg)
    if id_column is not None:
        if not isinstance(polygons, gpd.GeoDataFrame) or id_column not in polygons.columns:
            msg = f"`polygon_id` {id_column!r} is not a column of `polygons`."
            raise InputError(msg)
        ids = pd.Index(polygons[id_column], name="unit")
    else:
        ids = pd.Index(polygons.index, name="unit")
    problems = []
    if ids.hasnans:
        problems.append(f"{int(ids.isna().sum())} areas have no id")
    if ids.has_duplicates:
        problems.append(f"duplicate ids {format_ids(ids[ids.duplicated()].unique())}")
    geoms = polygons.geometry.to_numpy()
    bad = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    kinds = shapely.get_type_id(geoms)
    bad |= ~np.isin(kinds, [3, 6])  # Polygon, MultiPolygon
    if bad.any():
        problems.append(
            f"{int(bad.sum())} areas are not polygons or are empty ({format_ids(ids[bad])})"
        )
    if problems:
        msg = (
            f"`polygons` has problems: {'; '.join(problems)}. Give each area a unique id "
            "(`polygon_id=` names the column; default the index) and a polygon."
        )
        raise InputError(msg)
    out = gpd.GeoSeries(geoms, index=ids, crs=polygons.crs).to_crs(crs)
    invalid = ~out.is_valid
    if invalid.any():  # repair self-touching rings and the like rather than fail later
        out[invalid] = shapely.make_valid(out[invalid].to_numpy())
    return out


def join_customers(
    points: gpd.GeoSeries, polygons: gpd.GeoSeries, outside: Outside = "raise"
) -> np.ndarray:
    """Return the position (in ``polygons``) of the polygon each customer lies in.

    A customer on a shared border joins the first polygon in table order. Customers outside
    every polygon are an error naming them, or (``outside="nearest"``) join the nearest one.

    Parameters
    ----------
    points : GeoSeries
        Customer points in the polygons' CRS, index = customer id.
    polygons : GeoSeries
        From :func:`prepare_polygons`.
    outside : {"raise", "nearest"}
    """
    if outside not in ("raise", "nearest"):
        msg = f"`outside` must be 'raise' or 'nearest', got {outside!r}."
        raise InputError(msg)
    tree = shapely.STRtree(polygons.to_numpy())
    pt_idx, poly_idx = tree.query(points.to_numpy(), predicate="intersects")
    where = np.full(len(points), -1, dtype=np.int64)
    # First polygon in table order for points on a border: assign the larger indexes first.
    order = np.lexsort((-poly_idx, pt_idx))
    where[pt_idx[order]] = poly_idx[order]
    lost = np.flatnonzero(where < 0)
    if len(lost):
        if outside == "raise":
            msg = (
                f"`customers`: {len(lost)} customers lie outside every polygon "
                f"({format_ids(points.index[lost])}). Check their coordinates and the polygons' "
                "coverage, or pass `outside='nearest'` to join each to the nearest polygon."
            )
            raise InputError(msg)
        near = tree.query_nearest(points.to_numpy()[lost], return_distance=False, all_matches=False)
        where[lost[near[0]]] = near[1]
        warnings.warn(
            f"{len(lost)} customers lie outside every polygon and joined the nearest polygon: "
            f"{format_ids(points.index[lost])} (outside='nearest').",
            GeoterrWarning,
            stacklevel=4,
        )
    return where


def polygon_neighbours(
    geoms: np.ndarray, contiguity: Contiguity = "queen", snap: float = 0.0
) -> np.ndarray:
    """Index pairs ``i < j`` of polygons that are neighbours.

    Parameters
    ----------
    geoms : ndarray of shapely polygons
        In a projected CRS (metres).
    contiguity : {"queen", "rook"}
        Queen: polygons that touch at all; rook: that share a border longer than a point
        (and, with ``snap``, longer than ``2 * snap``).
    snap : float
        Polygons closer than this many metres count as touching (for areas digitised with
        small gaps between them).
    """
    if contiguity not in ("queen", "rook"):
        msg = f"`contiguity` must be 'queen' or 'rook', got {contiguity!r}."
        raise InputError(msg)
    if not snap >= 0:
        msg = f"`snap` must be a distance in metres >= 0, got {snap!r}."
        raise InputError(msg)
    tree = shapely.STRtree(geoms)
    if snap > 0:
        a, b = tree.query(geoms, predicate="dwithin", distance=snap)
    else:
        a, b = tree.query(geoms, predicate="intersects")
    keep = a < b
    pairs = np.column_stack([a[keep], b[keep]]).astype(np.int64)
    if contiguity == "rook" and len(pairs):
        first, second = geoms[pairs[:, 0]], geoms[pairs[:, 1]]
        if snap > 0:
            shared = shapely.intersection(shapely.boundary(first), shapely.buffer(second, snap))
            pairs = pairs[shapely.length(shared) > 2 * snap]
        else:
            shared = shapely.intersection(shapely.boundary(first), shapely.boundary(second))
            pairs = pairs[shapely.length(shared) > 0]
    return pairs
