"""Choosing a projected CRS for distance and area work."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
from pyproj import CRS

__all__ = ["crs_for_extent", "laea_distortion", "local_crs", "to_lonlat"]


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
    """Return the projection of :func:`local_crs` from summaries of the data.

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
    """Return the largest scale error of a :func:`local_crs` projection at the given points.

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


def to_lonlat(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``gdf`` in EPSG:4326, with shapes across the antimeridian or around a pole kept valid.

    A plain reprojection of a territory that crosses longitude 180 (Fiji, the Aleutians, the
    Chukotka coast) joins its vertices the long way round: an invalid polygon 360 degrees wide,
    drawn as a band round the world. One that holds a pole gets a ring that never closes.
    Those shapes are rebuilt from the projected ones: the outline is densified, its
    longitudes are unwrapped (so that they run on continuously past 180), a ring that winds
    round a pole is closed along it, and the result is cut at the antimeridian into pieces
    inside [-180, 180] (a MultiPolygon). Shapes that need none of this are reprojected as
    they are.

    Parameters
    ----------
    gdf : GeoDataFrame
        Polygons in a projected CRS (or already in degrees: returned reprojected).

    Returns
    -------
    GeoDataFrame
        The same rows in EPSG:4326.

    Examples
    --------
    >>> import shapely
    >>> laea = CRS.from_proj4("+proj=laea +lat_0=-17 +lon_0=180 +datum=WGS84 +units=m")
    >>> square = gpd.GeoDataFrame(geometry=[shapely.box(-50e3, -50e3, 50e3, 50e3)], crs=laea)
    >>> out = to_lonlat(square)
    >>> bool(out.is_valid.all()), round(float(out.total_bounds[2] - out.total_bounds[0]))
    (True, 360)
    >>> out.geometry.iloc[0].geom_type
    'MultiPolygon'
    """
    import warnings

    import shapely

    from geoterr._errors import GeoterrWarning

    out = gdf.to_crs(4326)
    if gdf.crs is None or gdf.crs.is_geographic or len(gdf) == 0:
        return out
    geoms = out.geometry
    present = geoms.notna() & ~geoms.is_empty
    width = (geoms.bounds["maxx"] - geoms.bounds["minx"]).fillna(0)
    broken = present & ((width > 180) | ~geoms.is_valid)
    if not broken.any():
        return out
    from pyproj import Transformer

    to_deg = Transformer.from_crs(gdf.crs, 4326, always_xy=True)
    fixed = geoms.copy()
    still = []
    for label in geoms.index[broken]:
        shape = gdf.geometry.loc[label]
        rebuilt = _lonlat_shape(shape, to_deg)
        if rebuilt is None or not rebuilt.is_valid:
            rebuilt = shapely.make_valid(rebuilt if rebuilt is not None else geoms.loc[label])
            still.append(label)
        fixed.loc[label] = rebuilt
    if still:
        warnings.warn(
            f"{len(still)} shapes ({', '.join(map(str, still[:10]))}) cross the antimeridian or "
            "a pole in a way geoterr could not rebuild exactly; their outlines in degrees are "
            "approximate (the plan itself is not affected).",
            GeoterrWarning,
            stacklevel=2,
        )
    return out.set_geometry(fixed)


def _lonlat_shape(shape: Any, to_deg: Any) -> Any:
    """Return a projected (multi)polygon in lon/lat degrees, cut at the antimeridian.

    None when it cannot be cut.
    """
    import shapely

    if not isinstance(shape, shapely.Polygon | shapely.MultiPolygon):
        return None
    parts = list(shape.geoms) if isinstance(shape, shapely.MultiPolygon) else [shape]
    xmin, ymin, xmax, ymax = shape.bounds
    step = max(float(np.hypot(xmax - xmin, ymax - ymin)) / 500.0, 100.0)
    pieces = []
    for part in parts:
        dense = shapely.segmentize(part, step)
        outer = _ring_lonlat(dense.exterior, to_deg)
        if outer is None:
            return None
        for hole in dense.interiors:
            inner = _ring_lonlat(hole, to_deg)
            if inner is None:
                return None
            outer = outer.difference(inner)
        pieces.append(outer)
    unwrapped = shapely.union_all(pieces)
    cut = []
    for shift in (-720.0, -360.0, 0.0, 360.0, 720.0):
        window = shapely.box(-180.0 + shift, -90.0, 180.0 + shift, 90.0)
        piece = unwrapped.intersection(window)
        if not piece.is_empty:
            cut.append(shapely.affinity.translate(piece, xoff=-shift))
    polygons = [
        p
        for c in cut
        for p in (c.geoms if hasattr(c, "geoms") else [c])
        if isinstance(p, shapely.Polygon) and not p.is_empty
    ]
    return (
        shapely.MultiPolygon(polygons) if len(polygons) > 1 else polygons[0] if polygons else None
    )


def _ring_lonlat(ring: Any, to_deg: Any) -> Any:
    """One projected ring as a polygon in unwrapped lon/lat.

    A ring round a pole is closed along the pole (the polar cap it bounds).
    """
    import shapely

    xy = np.asarray(ring.coords)
    lon, lat = to_deg.transform(xy[:, 0], xy[:, 1])
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    if not (np.isfinite(lon).all() and np.isfinite(lat).all()):
        return None
    lon = np.degrees(np.unwrap(np.radians(lon)))
    turns = round((lon[-1] - lon[0]) / 360.0)
    coords = np.column_stack([lon, lat])
    if turns != 0:  # the ring winds round a pole: close it along the pole
        pole = 90.0 if lat.mean() > 0 else -90.0
        coords = np.vstack([coords, [[lon[-1], pole], [lon[0], pole]]])
    polygon = shapely.Polygon(coords)
    if not polygon.is_valid:
        polygon = shapely.make_valid(polygon)
    return polygon
