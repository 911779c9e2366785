"""Basic units: the building blocks territories are made of.

Customers at one location form a unit. ``"points"`` units are those locations; ``"voronoi"``
units are the cells around them, clipped to a boundary. Each unit carries the sums of the
customers' measures, and a contiguity graph links neighbouring units.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from scipy.spatial import cKDTree

from geoterr._errors import InputError, format_ids
from geoterr._validate import Problems, check_measure
from geoterr.graph import (
    IslandPolicy,
    connect_components,
    delaunay_edges,
    graph_from_edges,
    spanning_edges,
    touching_pairs,
)
from geoterr.projection import local_crs

__all__ = ["Units", "build_units"]

COUNT = "customers"
# Columns geoterr itself writes on units or customers; never taken as measures.
RESERVED = frozenset({"x", "y", "geometry", "unit", "territory", COUNT})


@dataclass(frozen=True)
class Units:
    """Basic units with their measures and contiguity graph.

    Attributes
    ----------
    gdf : GeoDataFrame
        One row per unit (index = unit id, named ``unit``), in the projected CRS ``crs``:
        geometry (a cell polygon, or the point for ``"points"`` units), ``x`` and ``y`` (the
        unit's location in metres), ``customers`` (how many customers it holds) and the sum of
        every measure.
    graph : networkx.Graph
        Contiguity between units (nodes are unit ids).
    crs : pyproj.CRS
        The projected CRS used for distances and areas.
    customer_unit : Series
        Customer id -> unit id, for every customer (empty when units came without customers).
    customers : GeoDataFrame or None
        The customers the units were built from (EPSG:4326), every input row.
    kind : str
        ``"points"``, ``"voronoi"`` or ``"polygons"``.
    measures : tuple of str
        The measure columns summed per unit (``customers`` included).
    added_links : list
        Links added to make the graph connected: (unit, unit, metres).
    """

    gdf: gpd.GeoDataFrame
    graph: nx.Graph
    crs: CRS
    customer_unit: pd.Series
    customers: gpd.GeoDataFrame | None
    kind: str
    measures: tuple[str, ...]
    added_links: list[tuple[Hashable, Hashable, float]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.gdf)

    @property
    def xy(self) -> np.ndarray:
        """Unit locations in metres, shape (n, 2), in the order of ``gdf``."""
        return self.gdf[["x", "y"]].to_numpy(dtype=float)


def _measure_columns(customers: pd.DataFrame, measures: Sequence[str] | None) -> list[str]:
    if measures is not None:
        clash = [m for m in measures if m in RESERVED - {COUNT}]
        if clash:
            msg = (
                f"`measures` names {', '.join(map(repr, clash))}, which geoterr uses for its own "
                "columns; rename those columns in the customers table first."
            )
            raise InputError(msg)
        return [m for m in measures if m != COUNT]
    geo = customers.attrs.get("geoterr", {})
    skip = {v for v in geo.values() if isinstance(v, str)} | set(RESERVED)
    numeric = customers.select_dtypes(include="number").columns
    # Without an explicit list, only complete, non-negative numeric columns are summed
    # (a column with gaps is not a measure to balance on; name it to have it checked).
    return [
        str(c)
        for c in numeric
        if c not in skip and c != COUNT and customers[c].notna().all() and (customers[c] >= 0).all()
    ]


def _boundary(xy: np.ndarray, boundary: Any, crs: CRS) -> shapely.Geometry:
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
    # Default: the convex hull, cut back to a band around the customers so that cells do not
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
    band = shapely.union_all(shapely.buffer(shapely.points(xy), radius, quad_segs=6))
    # Close narrow gaps and smooth the outline: grow, then shrink back.
    band = band.buffer(radius, quad_segs=6).buffer(-radius, quad_segs=6)
    return shapely.intersection(hull, band)


def _locations(customers: gpd.GeoDataFrame, crs: CRS) -> tuple[np.ndarray, np.ndarray]:
    """Project customers; return each customer's location index and the distinct locations."""
    projected = customers.geometry.to_crs(crs)
    xy = np.column_stack([projected.x.to_numpy(), projected.y.to_numpy()])
    # Customers within a centimetre of each other are one location.
    keys = np.round(xy, 2)
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    # Number locations in input order, so unit ids follow the file.
    order = np.argsort(first)
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rank[inverse.ravel()], xy[first[order]]


def build_units(
    customers: gpd.GeoDataFrame,
    method: Literal["voronoi", "points"] = "voronoi",
    *,
    measures: Sequence[str] | None = None,
    boundary: Any = None,
    crs: Any = None,
    adjacency: Iterable[tuple[Hashable, Hashable]] | None = None,
    islands: IslandPolicy = "connect",
) -> Units:
    """Group customers into basic units and link neighbouring units.

    Parameters
    ----------
    customers : GeoDataFrame
        Customers as returned by :func:`geoterr.read_customers` (point geometry, index = id).
    method : {"voronoi", "points"}
        ``"points"``: each distinct location is a unit (customers at the same address share
        one); neighbours come from the Delaunay triangulation. ``"voronoi"``: the same units
        with the cell of the plane closest to each location, clipped to ``boundary``;
        neighbours are cells sharing a border.
    measures : sequence of str, optional
        Numeric customer columns to sum per unit; each is checked (present, numeric, no gaps,
        not negative). Default: every complete, non-negative numeric column except the
        coordinates. A ``customers`` count is always added.
    boundary : GeoDataFrame, GeoSeries or shapely geometry, optional
        The area the cells fill (a state, a country). Default: the customers' convex hull,
        cut back to a band around them. A shapely geometry is taken as WGS 84 degrees.
    crs : CRS-like, optional
        The projected CRS for distances. Default: an equal-area projection centred on the data.
    adjacency : iterable of (unit id, unit id), optional
        Use these links instead of computing them (known neighbours, ferry links...).
    islands : {"connect", "raise"}
        What to do when the graph falls apart: link each part to its nearest unit (and warn
        with the links), or raise.

    Returns
    -------
    Units

    Examples
    --------
    >>> import geoterr as gt
    >>> units = gt.build_units(gt.read_customers(gt.sample_path()), measures=["workload"])
    >>> len(units) <= 4500, "workload" in units.gdf.columns
    (True, True)
    """
    if not isinstance(customers, gpd.GeoDataFrame):
        msg = (
            f"`customers` must be a GeoDataFrame from `read_customers`, got "
            f"{type(customers).__name__}; call geoterr.read_customers(...) first."
        )
        raise InputError(msg)
    if method not in ("voronoi", "points"):
        msg = f"`method` must be 'voronoi' or 'points', got {method!r}."
        raise InputError(msg)
    if len(customers) == 0:
        msg = "`customers` is empty; units need at least one customer."
        raise InputError(msg)
    if customers.index.has_duplicates:
        dups = customers.index[customers.index.duplicated()].unique()
        msg = f"`customers` has duplicate ids ({format_ids(dups)}); ids must be unique."
        raise InputError(msg)
    columns = _measure_columns(customers, measures)
    problems = Problems("customers")
    values = {c: check_measure(customers, c, problems) for c in columns}
    bad_geom = customers.geometry.isna() | customers.geometry.is_empty
    if bad_geom.any():
        problems.add(
            f"{int(bad_geom.sum())} rows without a location "
            f"({format_ids(customers.index[bad_geom])})"
        )
    if problems:
        raise InputError(
            problems.text("Check the measure names, or clean the rows with read_customers.")
        )

    target = CRS.from_user_input(crs) if crs is not None else local_crs(customers.geometry)
    if not target.is_projected:
        msg = f"`crs` must be a projected CRS in metres, got {target.name}."
        raise InputError(msg)
    location, xy = _locations(customers, target)
    n = len(xy)
    first_customer = pd.Series(customers.index).groupby(location).first()
    unit_ids = pd.Index(first_customer.sort_index().to_numpy(), name="unit")

    table = pd.DataFrame(index=unit_ids)
    table["x"] = xy[:, 0]
    table["y"] = xy[:, 1]
    table[COUNT] = np.bincount(location, minlength=n)
    for column in columns:
        table[column] = np.bincount(location, weights=values[column].to_numpy(), minlength=n)

    edges = delaunay_edges(xy)
    if method == "points":
        geometry = shapely.points(xy)
        keep = np.ones(len(edges), dtype=bool)
    else:
        region = _boundary(xy, boundary, target)
        geometry = _voronoi_cells(xy, region)
        keep = touching_pairs(geometry, edges)
        # Keep the graph connected where the boundary cut cells apart: the shortest
        # links that join the parts again (a minimum spanning tree of the triangulation).
        tree = spanning_edges(xy, edges)
        keep |= np.isin(edges[:, 0] * n + edges[:, 1], tree[:, 0] * n + tree[:, 1])
    gdf = gpd.GeoDataFrame(table, geometry=geometry, crs=target)

    if adjacency is not None:
        graph = graph_from_edges(list(unit_ids), adjacency)
    else:
        graph = nx.Graph()
        graph.add_nodes_from(unit_ids)
        graph.add_edges_from((unit_ids[a], unit_ids[b]) for a, b in edges[keep])
    coords = dict(zip(unit_ids, map(tuple, xy), strict=True))
    added = connect_components(graph, coords, islands)
    customer_unit = pd.Series(unit_ids[location], index=customers.index, name="unit")
    return Units(
        gdf=gdf,
        graph=graph,
        crs=target,
        customer_unit=customer_unit,
        customers=customers,
        kind=method,
        measures=(COUNT, *columns),
        added_links=added,
    )


def _voronoi_cells(xy: np.ndarray, region: shapely.Geometry) -> np.ndarray:
    """Voronoi cells of the points, in the points' order, clipped to ``region``."""
    n = len(xy)
    if n == 1:
        return np.array([region])
    cells = shapely.voronoi_polygons(shapely.multipoints(xy), extend_to=region, ordered=True)
    parts = np.asarray(shapely.get_parts(cells))
    clipped = shapely.intersection(parts, region)
    # A cell cut into pieces by the boundary keeps the piece holding its point.
    points = shapely.points(xy)
    multi = shapely.get_type_id(clipped) == 6
    for i in np.flatnonzero(multi):
        pieces = shapely.get_parts(clipped[i])
        hold = [p for p in pieces if p.covers(points[i])]
        clipped[i] = hold[0] if hold else max(pieces, key=lambda p: p.area)
    empty = shapely.is_empty(clipped)
    if empty.any():  # a point outside the given boundary keeps a small disc
        clipped[empty] = shapely.buffer(points[empty], 10.0)
    return clipped


def unit_cells(units: Units) -> gpd.GeoSeries:
    """Polygons for drawing the units: their own cells, or Voronoi cells around points.

    Returns
    -------
    GeoSeries
        One polygon per unit, index = unit id, in ``units.crs``.
    """
    if units.kind == "points":
        xy = units.xy
        cells = _voronoi_cells(xy, _boundary(xy, None, units.crs))
        return gpd.GeoSeries(cells, index=units.gdf.index, crs=units.crs)
    return units.gdf.geometry
