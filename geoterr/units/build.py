"""Basic units: the building blocks territories are made of.

Four kinds of unit, one contiguity graph:

- ``"points"``: each distinct customer location; neighbours from the Delaunay triangulation,
  without the long edges that jump empty space (where the graph stays connected without them);
- ``"voronoi"``: the same locations with the cell of the plane closest to each, clipped to a
  boundary; neighbours share a border;
- ``"hex"``: H3 hexagons (:mod:`geoterr.units.hexes`), each with its share of the empty land
  around it (:mod:`geoterr.units.hex_land`);
- ``"polygons"``: the user's areas (postal codes, counties, sales areas)
  (:mod:`geoterr.units.polygons`), customers joined by point in polygon.

Each unit carries the sums of its customers' measures (and any custom aggregation), and every
customer can be traced to its unit (``Units.customer_unit``).
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
from pyproj import CRS

from geoterr._errors import GeoterrWarning, InputError
from geoterr._validate import Problems, check_measure
from geoterr.units.checks import (
    COUNT,
    METHODS,
    Aggregation,
    Method,
    check_aggregate,
    check_customers,
    check_max_load,
    check_method_options,
    complete_nonnegative,
    measure_columns,
    user_crs,
)
from geoterr.units.graph import IslandPolicy, connect_components, graph_from_edges, graph_from_pairs
from geoterr.units.layouts import Layout, hex_layout_for, location_layout, polygon_layout
from geoterr.units.polygons import Contiguity, Outside
from geoterr.units.projection import laea_distortion, local_crs
from geoterr.units.voronoi import boundary_region, voronoi_cells

__all__ = [
    "Units",
    "assemble_units",
    "build_units",
    "check_max_load",
    "check_method_options",
    "unit_cells",
    "unit_table",
    "warn_distortion",
]


@dataclass(frozen=True)
class Units:
    """Basic units with their measures and contiguity graph.

    Attributes
    ----------
    gdf : GeoDataFrame
        One row per unit (index = unit id, named ``unit``), in the projected CRS ``crs``:
        geometry (a cell or polygon, or the point for ``"points"`` units), ``x`` and ``y``
        (the unit's location in metres), ``customers`` (how many customers it holds), the sum
        of every measure and the custom aggregations.
    graph : networkx.Graph
        Contiguity between units (nodes are unit ids).
    crs : pyproj.CRS
        The projected CRS used for distances and areas.
    customer_unit : Series
        Customer id -> unit id, for every customer (empty when units came without customers).
    customers : GeoDataFrame or None
        The customers the units were built from (EPSG:4326), every input row.
    kind : str
        ``"points"``, ``"voronoi"``, ``"hex"`` or ``"polygons"``.
    measures : tuple of str
        The measure columns summed per unit (``customers`` included), which can be balanced.
    added_links : list
        Links added to make the graph connected: (unit, unit, metres).
    islands : str
        The islands policy the units were built with (``"separate"`` makes
        :func:`geoterr.design` give each part of the graph its own territories).
    settings : dict
        How the units were built (hex resolution, number of empty units, contiguity ...).

    Examples
    --------
    >>> import geoterr as gt
    >>> units = gt.build_units(gt.read_customers(gt.sample_path()), measures=["workload"])
    >>> len(units) == len(units.gdf), units.graph.number_of_nodes() == len(units)
    (True, True)
    """

    gdf: gpd.GeoDataFrame
    graph: nx.Graph
    crs: CRS
    customer_unit: pd.Series
    customers: gpd.GeoDataFrame | None
    kind: str
    measures: tuple[str, ...]
    added_links: list[tuple[Hashable, Hashable, float]] = field(default_factory=list)
    islands: str = "connect"
    settings: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        """Return the number of units."""
        return len(self.gdf)

    @property
    def xy(self) -> np.ndarray:
        """Unit locations in metres, shape (n, 2), in the order of ``gdf``."""
        return np.asarray(self.gdf[["x", "y"]].to_numpy(dtype=float))

    @property
    def parts(self) -> list[set[Hashable]]:
        """The connected parts of the graph, largest first (one part when connected)."""
        return sorted(nx.connected_components(self.graph), key=len, reverse=True)


# Above this scale error of the projection, distances far from its center are called out.
MAX_DISTORTION = 0.10


def warn_distortion(shapes: gpd.GeoSeries, crs: CRS) -> None:
    """Warn when ``crs`` (chosen by geoterr) stretches distances much at ``shapes``."""
    box = shapes.to_crs(4326).bounds if not shapes.crs.equals(4326) else shapes.bounds
    lon = ((box["minx"] + box["maxx"]) / 2).to_numpy()
    lat = ((box["miny"] + box["maxy"]) / 2).to_numpy()
    error = laea_distortion(lon, lat, crs)
    if error > MAX_DISTORTION:
        warnings.warn(
            f"the data spans so much of the globe that one map projection stretches distances "
            f"by up to {error:,.0%} far from its center; plans stay valid, but distances there "
            "are approximate. Build units per region (a continent, a country) for exact ones, "
            "or pass your own `crs=`.",
            GeoterrWarning,
            stacklevel=3,
        )


def _caps(
    max_load: Mapping[str, float] | str | None, values: Mapping[str, pd.Series], n: int
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Return the customers' loads (n, m) and the caps (m,) of ``max_load``."""
    caps = check_max_load(max_load, values)
    if not caps:
        return None, None
    loads = [np.ones(n) if m == COUNT else values[m].to_numpy(dtype=float) for m, _ in caps]
    return np.column_stack(loads), np.array([c for _, c in caps])


def unit_table(
    n: int,
    member: np.ndarray | None,
    values: Mapping[str, pd.Series],
    customers: pd.DataFrame | None = None,
    aggregate: Aggregation | None = None,
) -> pd.DataFrame:
    """Per-unit customer counts, measure sums and custom aggregations (positions 0..n-1)."""
    table = pd.DataFrame(index=pd.RangeIndex(n))
    if member is None:
        table[COUNT] = 0
        for column, series in values.items():
            table[column] = series.to_numpy(dtype=float)
        return table
    table[COUNT] = np.bincount(member, minlength=n)
    for column, series in values.items():
        table[column] = np.bincount(member, weights=series.to_numpy(dtype=float), minlength=n)
    if aggregate:
        assert customers is not None
        spec = check_aggregate(aggregate, customers, values)
        grouped = pd.DataFrame(customers.drop(columns="geometry", errors="ignore"))
        grouped = grouped.groupby(member).agg(**spec)
        table = table.join(grouped)
        for name, (column, how) in spec.items():
            # Units without customers get what the function gives for no customers
            # (0 for a count or a sum, nothing for a maximum).
            empty = customers[column].iloc[:0].agg(how)
            if np.ndim(empty) == 0 and pd.notna(empty):
                table[name] = table[name].fillna(empty)
    return table


def build_units(  # noqa: PLR0913 (public API: every option is a documented keyword)
    customers: gpd.GeoDataFrame | None,
    method: Method = "voronoi",
    *,
    measures: Sequence[str] | None = None,
    aggregate: Aggregation | None = None,
    boundary: Any = None,
    crs: Any = None,
    adjacency: Iterable[tuple[Hashable, Hashable]] | None = None,
    islands: IslandPolicy = "connect",
    prune: float | None = 4.0,
    resolution: int | None = None,
    n_units: int | None = None,
    fill_gaps: int = 2,
    max_load: Mapping[str, float] | Literal["auto"] | None = "auto",
    polygons: gpd.GeoDataFrame | None = None,
    polygon_id: Hashable | None = None,
    contiguity: Contiguity = "queen",
    snap: float = 0.0,
    outside: Outside = "raise",
) -> Units:
    """Group customers into basic units and link neighbouring units.

    Parameters
    ----------
    customers : GeoDataFrame or None
        Customers as returned by :func:`geoterr.read_customers` (point geometry, index = id).
        ``None`` only with ``"polygons"``: the polygons' own numeric columns are the measures.
    method : {"voronoi", "points", "hex", "polygons"}
        ``"points"``: each distinct location is a unit (customers at the same address share
        one); neighbours come from the Delaunay triangulation, without edges across empty
        space (see ``prune``). ``"voronoi"``: the same units with the cell of the plane
        closest to each location, clipped to ``boundary``; neighbours share a border.
        ``"hex"``: H3 hexagons at ``resolution`` (or a resolution giving about ``n_units``
        occupied cells): each occupied cell with its share of the empty land around it (the
        band Voronoi cells fill and the gaps of ``fill_gaps``, or every cell inside
        ``boundary``), each empty cell going to the unit nearest along the land
        (:mod:`geoterr.units.hex_land`); neighbours' shares share an edge. ``"polygons"``: the
        areas in ``polygons``, customers joined by point in polygon; areas without customers
        are kept (they still connect territories); neighbours by ``contiguity``.
    measures : sequence of str, optional
        Numeric columns to sum per unit; each is checked (present, numeric, no gaps, not
        negative). Default: every complete, non-negative numeric column except the
        coordinates. A ``customers`` count is always added.
    aggregate : mapping, optional
        More unit columns, as new name -> (customer column, function): a pandas aggregation
        name (``"max"``, ``"nunique"``...) or a function of the unit's values, e.g.
        ``{"key_accounts": ("segment", lambda s: (s == "key").sum())}``. Complete,
        non-negative numeric results can be balanced like measures.
    boundary : GeoDataFrame, GeoSeries or shapely geometry, optional
        The area the cells fill (a state, a country): ``"voronoi"`` cells are clipped to it,
        and with ``"hex"`` every cell inside it becomes a unit. Default: a band around the
        customers. A shapely geometry is taken as WGS 84 degrees.
    crs : CRS-like, optional
        The projected CRS for distances. Default: an equal-area projection centred on the data.
    adjacency : iterable of (unit id, unit id), optional
        Use these links instead of computing them (known neighbours, ferry links...).
    islands : {"connect", "separate", "raise"}
        When the graph falls apart (islands, gaps): link the parts with their shortest
        connections (and warn with the links), keep the parts apart so that each gets its own
        territories, or raise.
    prune : float or None
        ``"points"``: drop Delaunay edges longer than this many times the local spacing of
        locations (they cross lakes, deserts or sea), except where the graph needs them to
        stay connected. ``None`` keeps every edge.
    resolution : int, optional
        ``"hex"``: the H3 resolution (0-15; 7 is about 5 km2 a cell, 5 about 250 km2).
    n_units : int, optional
        ``"hex"``: choose the resolution whose occupied cells are nearest this number
        (default 5,000 when neither is given).
    fill_gaps : int
        ``"hex"`` without ``boundary``: the land shared out holds, besides the band around
        the customers, every gap up to ``2 * fill_gaps`` cells wide between occupied cells.
        0: no land; units are the occupied cells alone, neighbours when they share an edge.
    max_load : mapping, "auto" or None
        ``"hex"``: measure -> the most one unit may hold, e.g. ``{"workload": 2000}``; a
        heavier cell (a dense city) is split into its seven children, again where needed,
        so that the design is not stuck with units heavier than a territory may be. Cells
        whose customers all share one location stay whole. ``"auto"`` (default) caps the
        customer count and every measure at 20 times its mean over the occupied cells (a
        city cell at a resolution chosen for the countryside gets split); ``None`` never
        splits.
    polygons : GeoDataFrame, optional
        ``"polygons"``: the areas, with a CRS; ids from ``polygon_id`` or the index.
    polygon_id : column name, optional
        The column of ``polygons`` with the area ids (default: the index).
    contiguity : {"queen", "rook"}
        ``"polygons"``: neighbours touch anywhere (queen) or share a border (rook).
    snap : float
        ``"polygons"``: areas closer than this many metres count as touching.
    outside : {"raise", "nearest"}
        ``"polygons"``: customers outside every area are an error naming them, or join the
        nearest area.

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
    if method not in METHODS:
        msg = f"`method` must be one of {', '.join(map(repr, METHODS))}, got {method!r}."
        raise InputError(msg)
    check_method_options(
        method,
        {
            "boundary": boundary,
            "prune": prune,
            "resolution": resolution,
            "n_units": n_units,
            "fill_gaps": fill_gaps,
            "max_load": max_load,
            "polygons": polygons,
            "polygon_id": polygon_id,
            "contiguity": contiguity,
            "snap": snap,
            "outside": outside,
        },
    )
    if method == "polygons" and not isinstance(polygons, gpd.GeoDataFrame | gpd.GeoSeries):
        msg = (
            "method='polygons' needs `polygons=`, a GeoDataFrame (or GeoSeries) of areas, got "
            f"{type(polygons).__name__}; read it with geopandas.read_file(...)."
        )
        raise InputError(msg)
    if polygons is not None and getattr(polygons, "crs", True) is None:
        msg = (
            "`polygons` has no CRS; set it, e.g. polygons.set_crs('EPSG:4326') for degrees or "
            "the projected CRS of coordinates in metres, then build the units."
        )
        raise InputError(msg)
    if customers is None:
        if method != "polygons":
            msg = "`customers` is None: only method='polygons' builds units without customers."
            raise InputError(msg)
        if aggregate:
            msg = "`aggregate` needs customers to aggregate; give `customers` or drop it."
            raise InputError(msg)
        assert polygons is not None
        areas = (
            pd.DataFrame(polygons.drop(columns="geometry"))
            if isinstance(polygons, gpd.GeoDataFrame)
            else pd.DataFrame(index=polygons.index)
        )
        columns = measure_columns(areas, measures, skip=[str(polygon_id)])
        problems = Problems("polygons")
        values = {c: check_measure(areas, c, problems) for c in columns}
        if problems:
            raise InputError(problems.text("Name numeric columns of the polygons in `measures`."))
        points = None
    else:
        columns = measure_columns(customers, measures)
        values = check_customers(customers, columns)
        points = customers.geometry
    if crs is not None:
        target = user_crs(crs)
    elif method == "polygons":  # the areas define the map (and the Dask path knows them)
        assert polygons is not None
        target = local_crs(polygons.geometry)
    else:
        target = local_crs(points)
    if not target.is_projected:
        msg = f"`crs` must be a projected CRS in metres, got {target.name}."
        raise InputError(msg)
    if crs is None:
        warn_distortion(points if points is not None else polygons.geometry, target)  # type: ignore[union-attr]

    if method in ("points", "voronoi"):
        assert points is not None
        layout = location_layout(points, target, method, boundary=boundary, prune=prune)
    elif method == "hex":
        assert points is not None
        loads, caps = _caps(max_load, values, len(points))
        layout = hex_layout_for(
            points,
            target,
            resolution=resolution,
            n_units=n_units,
            fill_gaps=fill_gaps,
            boundary=boundary,
            loads=loads,
            caps=caps,
        )
    else:
        layout = polygon_layout(
            points,
            polygons,
            target,
            polygon_id=polygon_id,
            contiguity=contiguity,
            snap=snap,
            outside=outside,
        )
    if customers is None:
        values = {c: v.set_axis(pd.RangeIndex(len(v))) for c, v in values.items()}
    table = unit_table(len(layout.ids), layout.member, values, customers, aggregate)
    return assemble_units(
        layout,
        table,
        target,
        kind=method,
        customers=customers,
        measures=columns,
        adjacency=adjacency,
        islands=islands,
    )


def assemble_units(
    layout: Layout,
    table: pd.DataFrame,
    crs: CRS,
    *,
    kind: str,
    customers: gpd.GeoDataFrame | None,
    measures: Sequence[str],
    adjacency: Iterable[tuple[Hashable, Hashable]] | None = None,
    islands: IslandPolicy = "connect",
) -> Units:
    """Units from a layout and its per-unit table: the graph, the islands policy, the trace."""
    table = table.set_axis(layout.ids)
    table.insert(0, "x", layout.xy[:, 0])
    table.insert(1, "y", layout.xy[:, 1])
    gdf = gpd.GeoDataFrame(table, geometry=layout.geometry, crs=crs)
    ids = np.asarray(layout.ids, dtype=object)
    if adjacency is not None:
        graph = graph_from_edges(list(layout.ids), adjacency)
    else:
        graph = graph_from_pairs(ids, layout.edges)
    added = connect_components(graph, ids, layout.xy, islands)
    extra = [
        str(c)
        for c in table.columns
        if c not in ("x", "y", COUNT, *measures)
        and pd.api.types.is_numeric_dtype(table[c])
        and complete_nonnegative(table[c])
    ]
    if customers is not None and layout.member is not None:
        customer_unit = pd.Series(layout.ids[layout.member], index=customers.index, name="unit")
    else:
        customer_unit = pd.Series([], dtype=object, name="unit")
    return Units(
        gdf=gdf,
        graph=graph,
        crs=crs,
        customer_unit=customer_unit,
        customers=customers,
        kind=kind,
        measures=(COUNT, *measures, *extra),
        added_links=added,
        islands=islands,
        settings=layout.settings,
    )


def unit_cells(units: Units) -> gpd.GeoSeries:
    """Polygons for drawing the units: their own cells, or Voronoi cells around points.

    Returns
    -------
    GeoSeries
        One polygon per unit, index = unit id, in ``units.crs``.
    """
    if units.kind == "points":
        xy = units.xy
        cells, _ = voronoi_cells(xy, boundary_region(xy, None, units.crs))
        return gpd.GeoSeries(cells, index=units.gdf.index, crs=units.crs)
    return units.gdf.geometry
