"""Customer locations: points from latitude/longitude columns or from a geometry column.

Every row without a usable location is reported at once (with its id), and coordinates that
look swapped, in metres without a CRS, or outside the range of degrees get an error that
says which and how to fix it.
"""

from __future__ import annotations

import warnings
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from geoterr._errors import GeoterrWarning, InputError, format_ids
from geoterr._validate import Problems, numeric_column

__all__ = ["points_from_columns", "points_from_geometry", "user_crs"]


def user_crs(crs: Any) -> CRS:
    """``crs`` as a pyproj CRS, or an InputError naming it (an unknown one was a crash)."""
    from pyproj.exceptions import CRSError

    try:
        return CRS.from_user_input(crs)
    except (CRSError, TypeError, ValueError):
        msg = (
            f"`crs` {crs!r} is not a CRS pyproj knows; give e.g. 'EPSG:3857' (web Mercator) "
            "or 'EPSG:32633' (UTM 33N), the CRS the coordinates are in."
        )
        raise InputError(msg) from None


def points_from_columns(
    frame: pd.DataFrame, lat_col: str, lon_col: str, crs: Any, problems: Problems
) -> gpd.GeoDataFrame:
    """Return ``frame`` with points from its latitude and longitude columns, in EPSG:4326.

    Rows with a missing or unusable coordinate get no point and are noted in ``problems``;
    coordinates in a projected ``crs`` are transformed.
    """
    y = numeric_column(frame, lat_col, problems, label=f"latitude ({lat_col!r})")
    x = numeric_column(frame, lon_col, problems, label=f"longitude ({lon_col!r})")
    source_crs = user_crs(crs) if crs is not None else CRS.from_epsg(4326)
    ok = x.notna() & y.notna() & np.isfinite(x) & np.isfinite(y)
    if source_crs.is_geographic:
        _check_degrees(frame.index, y, x, ok, problems)
    gdf = gpd.GeoDataFrame(
        frame, geometry=gpd.points_from_xy(x.where(ok), y.where(ok)), crs=source_crs
    )
    if not source_crs.equals(CRS.from_epsg(4326)):
        _check_degrees_as_metres(x[ok], y[ok], source_crs, "`crs`")
        gdf = gdf.to_crs(4326)
        lon4326, lat4326 = gdf.geometry.x, gdf.geometry.y
        outside = ok & ~(lat4326.between(-90, 90) & lon4326.between(-180, 180))
        if outside.any():
            where = f"whose coordinates fall outside the world in {source_crs.name}"
            problems.add_rows(frame.index, outside, where)
    return gdf


def _check_degrees(
    index: pd.Index, lat: pd.Series, lon: pd.Series, ok: pd.Series, problems: Problems
) -> None:
    bad_lat = ok & ~lat.between(-90, 90)
    bad_lon = ok & ~lon.between(-180, 180)
    if bad_lat.any() or bad_lon.any():
        bad = bad_lat | bad_lon
        swapped_fits = bad & lon.between(-90, 90) & lat.between(-180, 180)
        if bad_lat.any() and swapped_fits[bad].all():
            share = bad_lat.sum() / max(int(ok.sum()), 1)
            problems.add(
                f"latitude and longitude look swapped: {int(bad_lat.sum())} rows "
                f"({share:.0%} of the located rows) have a latitude outside [-90, 90] whose "
                f"longitude would be a valid latitude ({format_ids(index[bad])}); exchange the "
                "two columns or pass `lat=` and `lon=` with the right names",
                list(index[bad]),
            )
        elif (lat.abs() > 180)[ok].mean() > 0.5 or (lon.abs() > 180)[ok].mean() > 0.5:
            problems.add(
                f"coordinates look projected (metres, not degrees): {int(bad.sum())} rows are "
                f"outside [-90, 90] x [-180, 180] ({format_ids(index[bad])}); pass their CRS "
                "with `crs=` (CLI: --crs), e.g. 'EPSG:3857'",
                list(index[bad]),
            )
        else:
            if bad_lat.any():
                problems.add(
                    f"{int(bad_lat.sum())} rows with latitude outside [-90, 90] "
                    f"({format_ids(index[bad_lat])})",
                    list(index[bad_lat]),
                )
            if bad_lon.any():
                problems.add(
                    f"{int(bad_lon.sum())} rows with longitude outside [-180, 180] "
                    f"({format_ids(index[bad_lon])})",
                    list(index[bad_lon]),
                )
    null_island = ok & (lat == 0) & (lon == 0)
    if null_island.any():
        problems.add(
            f"{int(null_island.sum())} rows at (0, 0), a failed geocode "
            f"({format_ids(index[null_island])})",
            list(index[null_island]),
        )


def points_from_geometry(frame: pd.DataFrame, crs: Any, problems: Problems) -> gpd.GeoDataFrame:
    """Return ``frame`` (with a geometry column) as points in EPSG:4326.

    A missing CRS is taken as degrees when the coordinates fit, else ``crs=`` is asked for;
    shapes other than points, and rows without one, are noted in ``problems``.
    """
    gdf = gpd.GeoDataFrame(frame)
    if gdf.crs is None:
        if crs is None:
            bounds = gdf.total_bounds
            if np.all(np.abs(bounds[[0, 2]]) <= 180) and np.all(np.abs(bounds[[1, 3]]) <= 90):
                warnings.warn(
                    "`customers` has no CRS; its coordinates look like degrees, so EPSG:4326 "
                    "is assumed. Pass `crs=` to say otherwise.",
                    GeoterrWarning,
                    stacklevel=4,
                )
                crs = 4326
            else:
                msg = (
                    "`customers` has no CRS and projected coordinates; pass their CRS with `crs=`."
                )
                raise InputError(msg)
        gdf = gdf.set_crs(user_crs(crs))
    elif crs is not None and not user_crs(crs).equals(gdf.crs):
        warnings.warn(
            f"`customers` says its CRS is {gdf.crs.name}; using `crs` {crs!r} instead, as asked.",
            GeoterrWarning,
            stacklevel=4,
        )
        gdf = gdf.set_crs(crs, allow_override=True)
    missing = gdf.geometry.isna() | gdf.geometry.is_empty
    if missing.any():
        problems.add(
            f"{int(missing.sum())} rows without a location ({format_ids(gdf.index[missing])})",
            list(gdf.index[missing]),
        )
    kinds = gdf.geometry.geom_type
    not_point = kinds.notna() & (kinds != "Point") & ~missing
    if not_point.any():
        problems.add(
            f"{int(not_point.sum())} rows are not points but "
            f"{', '.join(kinds[not_point].unique())} "
            f"({format_ids(gdf.index[not_point])}); customers must be points: use "
            "`gdf.representative_point()` or give polygons to `build_units` instead",
            list(gdf.index[not_point]),
        )
    good = ~missing & ~not_point
    if gdf.crs.is_projected and good.any():
        points = gdf.geometry[good]
        _check_degrees_as_metres(
            pd.Series(points.x.to_numpy()),
            pd.Series(points.y.to_numpy()),
            gdf.crs,
            "the CRS of `customers`",
        )
    gdf = gdf.to_crs(4326)
    lon = pd.Series(np.nan, index=gdf.index)
    lat = pd.Series(np.nan, index=gdf.index)
    lon[good] = gdf.geometry[good].x
    lat[good] = gdf.geometry[good].y
    _check_degrees(gdf.index, lat, lon, good & lat.notna(), problems)
    return gdf


# Projected coordinates all this close to the projection's origin (metres) are degrees
# mislabelled as metres: a GeoJSON whose `crs` says EPSG:3857 while it holds longitudes and
# latitudes puts every customer within 200 m of (0, 0).
DEGREE_BOX = (180.0, 90.0)


def _check_degrees_as_metres(x: pd.Series, y: pd.Series, source: CRS, said: str) -> None:
    """Refuse coordinates said to be projected that are plainly degrees."""
    if len(x) == 0 or not source.is_projected:
        return
    if not (np.all(np.abs(x) <= DEGREE_BOX[0]) and np.all(np.abs(y) <= DEGREE_BOX[1])):
        return
    spread = float(np.hypot(np.ptp(x.to_numpy()), np.ptp(y.to_numpy())))
    msg = (
        f"{said} is {source.name} (metres), but the coordinates look like degrees: taken as "
        f"metres, every customer lies within {spread:,.0f} m of the others, next to (0, 0) "
        f"(x in [{x.min():g}, {x.max():g}], y in [{y.min():g}, {y.max():g}]). Pass "
        "crs='EPSG:4326' (CLI: --crs EPSG:4326), or fix the CRS written in the file."
    )
    raise InputError(msg)
