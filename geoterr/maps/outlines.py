"""Land, coastlines, country and US state borders around a plan, drawn offline under maps.

The outlines come with geoterr (``geoterr/maps/_assets/outlines.geojson``, built by
``geoterr/maps/_assets/make_outlines.py`` from the npm packages ``world-atlas`` (Natural Earth
1:50m, public domain) and ``us-atlas`` (US Census Bureau 1:10m state boundaries, public
domain)). A map carries only the part around its plan, clipped to a window around the plan
and simplified to the plan's scale, plus the world's land at 1:110m beyond that window (so
the continents stay when the user zooms out): a map of one country gains about 0.2 MB.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import shapely
from shapely.geometry import box, mapping

__all__ = ["outlines_near"]

KINDS = ("world", "land", "coast", "country", "state")


@lru_cache(maxsize=1)
def _outlines() -> dict[str, np.ndarray]:
    """Return the shipped outlines by kind, read once per process.

    ``land`` polygons, ``country`` and ``state`` lines, ``world`` the coarse land.
    """
    path = resources.files("geoterr.maps._assets") / "outlines.geojson"
    text = path.read_text(encoding="utf-8")
    kinds = np.asarray([f["properties"]["kind"] for f in json.loads(text)["features"]])
    # GEOS parses the geometries (a FeatureCollection becomes a GeometryCollection in order).
    geoms = shapely.get_parts(shapely.from_geojson(text))
    if len(geoms) != len(kinds):  # pragma: no cover - a damaged asset
        msg = f"{path}: {len(kinds)} features but {len(geoms)} geometries; reinstall geoterr"
        raise RuntimeError(msg)
    out = {k: geoms[kinds == k] for k in ("land", "country", "state")}
    out["world"] = np.asarray([shapely.union_all(geoms[kinds == "world"])], dtype=object)
    return out


def window(bounds: tuple[float, float, float, float], margin: float = 1.0) -> Any:
    """Return the box around ``bounds`` (lon/lat) widened by ``margin`` times its size.

    Widened on each side (at least 2 degrees), within the world.
    """
    x0, y0, x1, y1 = bounds
    dx = max((x1 - x0) * margin, 2.0)
    dy = max((y1 - y0) * margin, 2.0)
    return box(max(x0 - dx, -180.0), max(y0 - dy, -90.0), min(x1 + dx, 180.0), min(y1 + dy, 90.0))


def outlines_near(
    bounds: tuple[float, float, float, float],
    *,
    margin: float = 1.0,
    tolerance: float | None = None,
    digits: int | None = None,
) -> dict[str, Any]:
    """Land, coastlines, country and state borders around ``bounds``, as shapely geometries.

    Parameters
    ----------
    bounds : (float, float, float, float)
        ``(min lon, min lat, max lon, max lat)`` of the plan.
    margin : float
        How far around ``bounds`` to keep, as a multiple of its width and height.
    tolerance : float, optional
        Simplification in degrees; default 1/4000 of the window's diagonal.
    digits : int, optional
        Decimals kept in the coordinates; default: enough for ``tolerance`` (2 to 5).

    Returns
    -------
    dict
        ``land`` (a MultiPolygon, for a fill), and ``coast``, ``country``, ``state`` (line
        geometries), each clipped to the window; ``world``, the world's land at 1:110m
        outside the window; empty geometries where there is nothing.

    Examples
    --------
    >>> parts = outlines_near((-100.0, 37.0, -95.0, 40.0), margin=0)  # Kansas and around
    >>> sorted(parts)
    ['coast', 'country', 'land', 'state', 'world']
    >>> parts["state"].length > 10 and parts["country"].is_empty and parts["coast"].is_empty
    True
    """
    area = window(bounds, margin)
    x0, y0, x1, y1 = area.bounds
    if tolerance is None:
        tolerance = math.hypot(x1 - x0, y1 - y0) / 4000
    if digits is None:
        digits = min(5, max(2, math.ceil(-math.log10(max(tolerance, 1e-9)))))
    data = _outlines()
    out: dict[str, Any] = {}
    for kind in ("land", "country", "state"):
        geoms = data[kind]
        near = geoms[shapely.intersects(geoms, area)]
        clipped = shapely.clip_by_rect(near, x0, y0, x1, y1)
        if kind == "land":
            out["coast"] = shapely.clip_by_rect(
                shapely.union_all(shapely.boundary(near)), x0, y0, x1, y1
            )
        out[kind] = shapely.union_all(clipped)
    # Beyond the window, the coarse land (zoomed out, the map still shows the continents).
    world = shapely.difference(data["world"][0], area)
    out["world"] = shapely.make_valid(world)
    for kind in KINDS:
        if kind == "world":
            continue
        geom = out[kind]
        if tolerance > 0:
            geom = shapely.simplify(geom, tolerance, preserve_topology=kind == "land")
        out[kind] = shapely.set_precision(geom, 10.0**-digits, mode="pointwise")
    return out


def geojson_of(parts: dict[str, Any]) -> dict[str, Any]:
    """:func:`outlines_near`'s result as GeoJSON geometries (None for an empty kind)."""
    return {kind: None if geom.is_empty else dict(mapping(geom)) for kind, geom in parts.items()}
