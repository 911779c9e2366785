"""Where units are and how they touch, for each kind of unit.

Each function returns a :class:`Layout`: unit ids, locations, shapes, neighbour pairs and,
when built from customers, the unit of each customer. :func:`geoterr.build_units` adds the
measures and the graph.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import h3.api.numpy_int as h3
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geoterr._errors import InputError
from geoterr.units.graph import delaunay_edges, long_edges, spanning_edges, touching_pairs
from geoterr.units.hex_land import land_regions
from geoterr.units.hexes import (
    cell_names,
    check_resolution,
    child_cells,
    choose_resolution,
    hex_neighbours,
    hex_polygons,
    latlng_to_cells,
    split_heavy,
)
from geoterr.units.polygons import (
    Contiguity,
    Outside,
    join_customers,
    polygon_neighbours,
    prepare_polygons,
)
from geoterr.units.voronoi import boundary_region, voronoi_cells

__all__ = [
    "DEFAULT_HEX_UNITS",
    "Layout",
    "hex_layout",
    "hex_layout_for",
    "location_layout",
    "polygon_layout",
]

# Hex units: without a resolution, one is chosen for about this many occupied cells.
DEFAULT_HEX_UNITS = 5_000


@dataclass
class Layout:
    """Where units are and how they touch, before measures are added.

    ``member`` gives, for each customer, the position of its unit (None without customers).
    """

    ids: pd.Index
    xy: np.ndarray
    geometry: np.ndarray
    edges: np.ndarray
    member: np.ndarray | None
    settings: dict[str, Any] = field(default_factory=dict)


def location_layout(
    points: gpd.GeoSeries,
    crs: CRS,
    method: str,
    *,
    boundary: Any = None,
    prune: float | None = None,
) -> Layout:
    """Units at the distinct customer locations: ``"points"`` or ``"voronoi"`` cells."""
    member, xy = _locations(points, crs)
    n = len(xy)
    first_customer = pd.Series(points.index).groupby(member).first()
    ids = pd.Index(first_customer.sort_index().to_numpy(), name="unit")
    if method == "points" and prune is not None and not prune > 0:
        msg = f"`prune` must be a positive factor or None, got {prune!r}."
        raise InputError(msg)
    edges = delaunay_edges(xy)
    settings: dict[str, Any] = {}
    keep = np.ones(len(edges), dtype=bool)
    region = boundary_region(xy, boundary, crs)
    # Locations in separate pieces of the region (islands, or land apart in the user's
    # boundary) are not neighbours: the islands policy of build_units decides what joins them.
    across = _across_pieces(xy, edges, region)
    if method == "points":
        geometry = shapely.points(xy)
        if prune is not None:  # long edges cross empty space
            keep = ~long_edges(xy, edges, prune)
    else:
        geometry, clipped = voronoi_cells(xy, region)
        # Whole Voronoi cells of Delaunay neighbours share a border; only pairs with a cell the
        # boundary cut need the test.
        test = clipped[edges[:, 0]] | clipped[edges[:, 1]]
        keep[test] = touching_pairs(geometry, edges[test])
    keep &= ~across
    if not keep.all():
        # Dropped edges inside one piece of the region that the graph needs to stay connected
        # come back: the shortest links that join it again (the minimum spanning forest).
        within = edges[~across]
        tree = spanning_edges(xy, within)
        keep |= ~across & np.isin(edges[:, 0] * n + edges[:, 1], tree[:, 0] * n + tree[:, 1])
    if method == "points" and prune is not None:
        settings["pruned_edges"] = int((~keep).sum())
    return Layout(ids, xy, geometry, edges[keep], member, settings)


def _piece_of(xy: np.ndarray, region: shapely.Geometry) -> np.ndarray:
    """Which piece (polygon) of ``region`` each location lies in, or is nearest to."""
    pieces = np.asarray(shapely.get_parts(region))
    if len(pieces) <= 1 or len(xy) == 0:
        return np.zeros(len(xy), dtype=np.int64)
    tree = shapely.STRtree(pieces)
    where, which = tree.query_nearest(shapely.points(xy), all_matches=False)
    piece = np.zeros(len(xy), dtype=np.int64)
    piece[where] = which
    return piece


def _across_pieces(xy: np.ndarray, edges: np.ndarray, region: shapely.Geometry) -> np.ndarray:
    """Mark the edges whose ends lie in different pieces of the region (across the sea)."""
    if len(edges) == 0:
        return np.zeros(0, dtype=bool)
    piece = _piece_of(xy, region)
    return np.asarray(piece[edges[:, 0]] != piece[edges[:, 1]], dtype=bool)


def _locations(points: gpd.GeoSeries, crs: CRS) -> tuple[np.ndarray, np.ndarray]:
    """Each customer's location index and the distinct locations, numbered in input order."""
    projected = points.to_crs(crs)
    xy = np.column_stack([projected.x.to_numpy(), projected.y.to_numpy()])
    # Customers within a centimetre of each other are one location.
    keys = np.round(xy, 2)
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    order = np.argsort(first)
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rank[inverse.ravel()], xy[first[order]]


def _lat_lng(points: gpd.GeoSeries) -> tuple[np.ndarray, np.ndarray]:
    lonlat = points if points.crs is not None and points.crs.equals(4326) else points.to_crs(4326)
    return lonlat.y.to_numpy(dtype=float), lonlat.x.to_numpy(dtype=float)


def hex_layout_for(
    points: gpd.GeoSeries,
    crs: CRS,
    *,
    resolution: int | None = None,
    n_units: int | None = None,
    fill_gaps: int = 2,
    boundary: Any = None,
    loads: np.ndarray | None = None,
    caps: np.ndarray | None = None,
) -> Layout:
    """Hexagon units for customer points (see :func:`hex_layout`).

    With ``caps``, cells that hold more than ``caps`` of the customers' ``loads`` (n, m) are split
    into children.
    """
    lat, lng = _lat_lng(points)
    if resolution is None:
        resolution = choose_resolution(lat, lng, DEFAULT_HEX_UNITS if n_units is None else n_units)
    else:
        resolution = check_resolution(resolution)
    cells = latlng_to_cells(lat, lng, resolution)
    split = np.empty(0, dtype=np.uint64)
    if caps is not None and loads is not None:
        cells, split = split_heavy(cells, lat, lng, loads, caps)
    layout = hex_layout(
        np.unique(cells), resolution, crs, fill_gaps=fill_gaps, boundary=boundary, split=split
    )
    layout.member = np.searchsorted(layout.settings.pop("cells"), cells)
    return layout


def hex_layout(
    occupied: np.ndarray,
    resolution: int,
    crs: CRS,
    *,
    fill_gaps: int = 2,
    boundary: Any = None,
    split: np.ndarray | None = None,
) -> Layout:
    """Hexagon units for the occupied cells, each with its share of the land around it.

    The land is every cell inside ``boundary``, or by default the band around the customers
    that Voronoi cells fill, with every gap up to ``2 * fill_gaps`` cells wide; each of its
    empty cells joins the unit nearest to it along the land (:mod:`geoterr.units.hex_land`), and
    units whose shares touch are neighbours. With ``fill_gaps=0`` (and no ``boundary``) units
    are the occupied cells alone and neighbours share an edge. Every cell in ``split`` (heavy
    cells replaced by their children) is covered by its seven children. Units are ordered by
    cell index, so the same cells give the same units however they were found (in memory or
    by Dask). ``settings["cells"]`` holds the sorted cell integers of the units.
    """
    if isinstance(fill_gaps, bool) or not isinstance(fill_gaps, int | np.integer) or fill_gaps < 0:
        msg = f"`fill_gaps` must be a whole number of rings >= 0, got {fill_gaps!r}."
        raise InputError(msg)
    split = np.empty(0, dtype=np.uint64) if split is None else split
    children = np.setdiff1d(child_cells(split), np.union1d(occupied, split))
    if boundary is not None or fill_gaps > 0:
        region = None
        if boundary is not None:
            region = boundary_region(np.zeros((0, 2)), boundary, crs)
        shared = land_regions(
            occupied,
            resolution,
            crs,
            rings=int(fill_gaps),
            boundary=region,
            split=split,
            empty_children=children,
        )
        settings = {
            "resolution": resolution,
            "empty_units": 0,
            "land_cells": shared["land_cells"],
            "land": shared["land"],
            "unreached_cells": shared["unreached"],
            "fill_gaps": None if boundary is not None else int(fill_gaps),
            "split_cells": len(split),
            "cells": occupied,
        }
        ids = pd.Index(cell_names(occupied), name="unit")
        return Layout(ids, shared["xy"], shared["geometry"], shared["edges"], None, settings)
    cells = np.union1d(occupied, children)
    geometry, xy = hex_polygons(cells, crs)
    if len(split):
        # Children do not tile their parent exactly: neighbours of mixed sizes are found by
        # shape, within a twentieth of the smallest cells' edge.
        finest = max(h3.get_resolution(int(c)) for c in cells)
        snap = 0.05 * h3.average_hexagon_edge_length(finest, unit="m")
        edges = polygon_neighbours(geometry, "queen", snap)
    else:
        edges = hex_neighbours(cells)
    ids = pd.Index(cell_names(cells), name="unit")
    settings = {
        "resolution": resolution,
        "empty_units": len(children),
        "land_cells": 0,
        "land": None,
        "fill_gaps": 0,
        "split_cells": len(split),
        "cells": cells,
    }
    return Layout(ids, xy, geometry, edges, None, settings)


def polygon_layout(
    points: gpd.GeoSeries | None,
    polygons: Any,
    crs: CRS,
    *,
    polygon_id: Hashable | None = None,
    contiguity: Contiguity = "queen",
    snap: float = 0.0,
    outside: Outside = "raise",
) -> Layout:
    """Units from the user's polygons; customers joined by point in polygon."""
    geoms = prepare_polygons(polygons, polygon_id, crs)
    shapes = geoms.to_numpy()
    # The unit's location: its centroid, or a point surely inside when the centroid is not.
    spot = shapely.centroid(shapes)
    outside_shape = ~shapely.contains(shapes, spot)
    spot[outside_shape] = shapely.point_on_surface(shapes[outside_shape])
    xy = shapely.get_coordinates(spot)
    member = None
    if points is not None:
        member = join_customers(points.to_crs(crs), geoms, outside)
    edges = polygon_neighbours(shapes, contiguity, snap)
    settings = {"contiguity": contiguity, "snap": snap}
    return Layout(geoms.index, xy, shapes, edges, member, settings)
