"""Voronoi cells around unit locations, clipped to a region.

The region is a boundary the user gives (a state, a country) or, by default, a band around the
locations that follows the settled area without reaching far over sea or empty land.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS
from scipy.spatial import cKDTree

from geoterr._errors import InputError

__all__ = ["boundary_region", "voronoi_cells"]


def boundary_region(xy: np.ndarray, boundary: Any, crs: CRS) -> shapely.Geometry:
    """Return the area cells may fill, in ``crs``.

    Parameters
    ----------
    xy : ndarray of shape (n, 2)
        Unit locations in ``crs``.
    boundary : GeoDataFrame, GeoSeries, shapely geometry or None
        The user's area (a shapely geometry is taken as WGS 84 degrees); ``None`` for the
        default band around the locations.
    crs : pyproj.CRS
        The projected CRS of ``xy``.
    """
    if boundary is not None:
        if isinstance(boundary, gpd.GeoDataFrame | gpd.GeoSeries):
            if boundary.crs is None:
                msg = "`boundary` has no CRS; set one (e.g. boundary.set_crs(4326))."
                raise InputError(msg)
            return shapely.union_all(boundary.to_crs(crs).geometry.to_numpy())
        if isinstance(boundary, shapely.Geometry):  # taken as WGS 84 degrees
            return gpd.GeoSeries([boundary], crs=4326).to_crs(crs).iloc[0]
        msg = (
            "`boundary` must be a GeoDataFrame, GeoSeries or shapely polygon, "
            f"got {type(boundary).__name__}."
        )
        raise InputError(msg)
    # Default: the convex hull, cut back to a band around the locations so that cells do not
    # reach far over sea or empty land. The band is wide compared with the usual spacing of
    # locations, so it rarely splits the region.
    n = len(xy)
    extent = float(np.linalg.norm(xy.max(axis=0) - xy.min(axis=0))) if n else 0.0
    if n >= 2:
        dist, _ = cKDTree(xy).query(xy, k=2)
        spacing = float(np.quantile(dist[:, 1], 0.9))
    else:
        spacing = 0.0
    radius = max(4.0 * spacing, 0.03 * extent, 1000.0)
    hull = shapely.convex_hull(shapely.multipoints(xy)).buffer(radius / 4)
    # Discs around locations a fraction of the radius apart add nothing to the band: buffer
    # one location per grid square of radius / 8 (an error far below the smoothing below).
    snapped = np.unique(np.round(xy / (radius / 8)), axis=0) * (radius / 8)
    band = shapely.union_all(shapely.buffer(shapely.points(snapped), radius, quad_segs=6))
    # Close narrow gaps and smooth the outline: grow, then shrink back.
    band = band.buffer(radius, quad_segs=6).buffer(-radius, quad_segs=6)
    return shapely.intersection(hull, band)


def voronoi_cells(xy: np.ndarray, region: shapely.Geometry) -> tuple[np.ndarray, np.ndarray]:
    """Voronoi cells of the points, in the points' order, clipped to ``region``.

    Returns
    -------
    cells : ndarray of shapely polygons
    clipped : ndarray of bool
        The cells the region's outline cut (the others are whole Voronoi cells).
    """
    n = len(xy)
    if n == 1:
        return np.array([region]), np.ones(1, dtype=bool)
    cells = shapely.voronoi_polygons(shapely.multipoints(xy), extend_to=region, ordered=True)
    parts = np.asarray(shapely.get_parts(cells))
    # Only cells that reach outside the region need the (costly) intersection.
    shapely.prepare(region)
    inside = np.asarray(shapely.contains_properly(region, parts), dtype=bool)
    clipped = ~inside
    out = parts.copy()
    out[clipped] = shapely.intersection(parts[clipped], region)
    # A cell cut into pieces by the boundary keeps the piece holding its point.
    points = shapely.points(xy)
    multi = shapely.get_type_id(out) == 6
    for i in np.flatnonzero(multi):
        pieces = shapely.get_parts(out[i])
        hold = [p for p in pieces if p.covers(points[i])]
        out[i] = hold[0] if hold else max(pieces, key=lambda p: p.area)
    empty = shapely.is_empty(out)
    if empty.any():  # a point outside the given boundary keeps a small disc
        out[empty] = shapely.buffer(points[empty], 10.0)
    return out, clipped
