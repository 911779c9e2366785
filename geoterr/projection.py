"""Choosing a projected CRS for distance and area work."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
from pyproj import CRS

__all__ = ["crs_for_extent", "local_crs"]


def local_crs(gdf: gpd.GeoSeries | gpd.GeoDataFrame) -> CRS:
    """Return an equal-area projection centred on the data.

    A Lambert azimuthal equal-area projection centred on the middle of the data's extent keeps
    areas exact and distances within about 1 % over a region the size of a country, and works
    anywhere on Earth (no UTM zone edges, no poles problem).

    Parameters
    ----------
    gdf : GeoSeries or GeoDataFrame
        Data with a CRS.

    Returns
    -------
    pyproj.CRS
        A projected CRS in metres.
    """
    lonlat = gdf.to_crs(4326) if gdf.crs is not None and not gdf.crs.equals(4326) else gdf
    minx, miny, maxx, maxy = lonlat.total_bounds
    box = lonlat.geometry.bounds  # works for points and polygons alike
    lon = np.radians(((box["minx"] + box["maxx"]) / 2).to_numpy(dtype=float))
    return crs_for_extent(
        (minx, miny, maxx, maxy), float(np.sin(lon).mean()), float(np.cos(lon).mean())
    )


def crs_for_extent(
    bounds: tuple[float, float, float, float], mean_sin: float, mean_cos: float
) -> CRS:
    """The projection of :func:`local_crs` from summaries of the data.

    Parameters
    ----------
    bounds : (min lon, min lat, max lon, max lat)
        In degrees.
    mean_sin, mean_cos : float
        Means of sin and cos of the longitudes (for data across the antimeridian).
    """
    minx, miny, maxx, maxy = bounds
    if not np.all(np.isfinite([minx, miny, maxx, maxy])):
        minx = miny = maxx = maxy = 0.0
    lon0 = (minx + maxx) / 2.0
    if maxx - minx > 180 and np.isfinite(mean_sin) and np.isfinite(mean_cos):
        lon0 = float(np.degrees(np.arctan2(mean_sin, mean_cos)))  # across the antimeridian
    lat0 = (miny + maxy) / 2.0
    return CRS.from_proj4(
        f"+proj=laea +lat_0={lat0:.4f} +lon_0={lon0:.4f} +x_0=0 +y_0=0 +datum=WGS84 +units=m"
    )
