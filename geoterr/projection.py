"""Choosing a projected CRS for distance and area work."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
from pyproj import CRS

__all__ = ["crs_for_extent", "laea_distortion", "local_crs"]


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


def laea_distortion(lon: np.ndarray, lat: np.ndarray, crs: CRS) -> float:
    """The largest scale error of a :func:`local_crs` projection at the given points.

    In a Lambert azimuthal equal-area projection a point at angular distance ``c`` from the
    center is stretched by ``1 / cos(c / 2)`` along the circles around the center (and shrunk
    as much along the radii): about 4 % at 30 degrees, 15 % at 60, 41 % at 90.

    Returns
    -------
    float
        ``max(1 / cos(c / 2)) - 1`` over the points (0 for a CRS that is not such a
        projection).
    """
    operation = crs.coordinate_operation
    if operation is None or "Azimuthal Equal Area" not in operation.method_name or len(lon) == 0:
        return 0.0
    params = {p.name: p.value for p in operation.params}
    lat0 = np.radians(params.get("Latitude of natural origin", 0.0))
    lon0 = np.radians(params.get("Longitude of natural origin", 0.0))
    phi, lam = np.radians(lat), np.radians(lon)
    cos_c = np.sin(lat0) * np.sin(phi) + np.cos(lat0) * np.cos(phi) * np.cos(lam - lon0)
    c = np.arccos(np.clip(cos_c, -1.0, 1.0))
    return float(1.0 / max(np.cos(c.max() / 2), 1e-9) - 1.0)
