"""Per-territory measures: totals, balance, area, compactness, distances."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from geoterr.units.graph import label_pieces

__all__ = [
    "DistanceWeighting",
    "balance_indices",
    "gini",
    "great_circle_km",
    "moment_of_inertia",
    "polsby_popper",
    "territory_table",
]

EARTH_RADIUS_KM = 6371.0088


def polsby_popper(geometry: gpd.GeoSeries) -> pd.Series:
    """Polsby-Popper compactness, 4 pi area / perimeter^2: 1 for a disc, near 0 for a thin strip.

    The geometry must be in a projected CRS.
    """
    area = geometry.area
    perimeter = geometry.length
    with np.errstate(divide="ignore", invalid="ignore"):
        value = 4 * np.pi * area / perimeter**2
    result: pd.Series = value.where(perimeter > 0, np.nan)
    return result


@dataclass(frozen=True)
class DistanceWeighting:
    """How the per-territory table weighs distances.

    Attributes
    ----------
    weight : str
        The measure that weighs each unit's distance to its center.
    inertia : bool
        Whether the objective uses squared distances.
    """

    weight: str
    inertia: bool = False


def territory_table(
    unit_gdf: gpd.GeoDataFrame,
    cells: gpd.GeoSeries,
    assignment: pd.Series,
    names: Sequence[str],
    targets: Mapping[str, np.ndarray],
    centers: pd.DataFrame,
    graph: nx.Graph,
    *,
    distances: DistanceWeighting,
) -> gpd.GeoDataFrame:
    """Build the per-territory table with one polygon per territory.

    Parameters
    ----------
    unit_gdf : GeoDataFrame
        Units (projected) with ``x``, ``y`` and the measure columns.
    cells : GeoSeries
        One polygon per unit (projected), same index.
    assignment : Series
        Unit id -> territory name.
    names : sequence of str
        The territory names, in order.
    targets : mapping
        Balanced measure -> each territory's target (in the order of ``names``); the
        deviation from it is reported as ``<measure>_deviation``.
    centers : DataFrame
        Territory -> ``x``, ``y`` (metres).
    graph : networkx.Graph
        Unit contiguity, for the ``contiguous`` column.
    distances : DistanceWeighting
        The measure that weighs distances in ``mean_distance_km``, and whether the objective
        uses squared distances (reported as ``objective``).

    Returns
    -------
    GeoDataFrame
        Index ``territory``; columns ``units``, every measure, ``<measure>_deviation`` (share of
        the mean) for balanced measures, ``area_km2``, ``polsby_popper``,
        ``mean_distance_km`` (``weight``-weighted distance of units to the center),
        ``objective`` and ``contiguous``; in the units' CRS.
    """
    weight, inertia = distances.weight, distances.inertia
    names = list(names)
    measures = [c for c in unit_gdf.columns if c not in ("x", "y", "geometry")]
    frame = pd.DataFrame(unit_gdf[measures]).assign(territory=assignment.reindex(unit_gdf.index))
    totals = frame.groupby("territory").sum().reindex(names).fillna(0)
    table = pd.DataFrame(index=pd.Index(names, name="territory"))
    table["units"] = frame.groupby("territory").size().reindex(names).fillna(0).astype(int)
    for column in measures:
        table[column] = totals[column]
    for column, target in targets.items():
        with np.errstate(divide="ignore", invalid="ignore"):
            table[f"{column}_deviation"] = table[column].to_numpy() / np.asarray(target) - 1
    members = assignment.groupby(assignment).groups  # territory -> its unit ids, in one pass
    geoms = [
        union_of_cells(cells.loc[members[name]].to_numpy()) if name in members else None
        for name in names
    ]
    gdf = gpd.GeoDataFrame(table, geometry=geoms, crs=unit_gdf.crs)
    gdf["area_km2"] = gdf.geometry.area / 1e6
    gdf["polsby_popper"] = polsby_popper(gdf.geometry)
    xy = unit_gdf[["x", "y"]].to_numpy()
    center_xy = centers.loc[assignment.reindex(unit_gdf.index), ["x", "y"]].to_numpy()
    dist = np.linalg.norm(xy - center_xy, axis=1) / 1000.0
    w = unit_gdf[weight].to_numpy(dtype=float)
    per_unit = pd.DataFrame(
        {
            "territory": assignment.reindex(unit_gdf.index).to_numpy(),
            "wd": w * dist,
            "w": w,
            "obj": w * (dist**2 if inertia else dist),
        }
    )
    grouped = per_unit.groupby("territory").sum().reindex(names)
    gdf["mean_distance_km"] = grouped["wd"] / grouped["w"].where(grouped["w"] > 0)
    gdf["objective"] = grouped["obj"]
    gdf["contiguous"] = pieces_in_graph(graph, assignment).reindex(names).fillna(0).eq(1).to_numpy()
    return gdf


def pieces_in_graph(graph: nx.Graph, assignment: pd.Series) -> pd.Series:
    """Return how many separate pieces of ``graph`` each territory of ``assignment`` is in.

    Two units share a piece when a path of the graph inside their territory joins them (one
    pass over the edges for all territories). Units not in the graph are left out, so a
    territory with no unit in the graph is missing from the result.

    Examples
    --------
    >>> import networkx as nx, pandas as pd
    >>> path = nx.path_graph(["a", "b", "c", "d"])
    >>> pieces_in_graph(path, pd.Series({"a": "T1", "b": "T2", "c": "T1", "d": "T1"})).to_dict()
    {'T1': 2, 'T2': 1}
    """
    nodes = pd.Index([u for u in graph.nodes if u in assignment.index])
    labels = assignment.reindex(nodes).to_numpy()
    position = {u: i for i, u in enumerate(nodes)}
    pairs = np.array(
        [(position[a], position[b]) for a, b in graph.edges if a in position and b in position],
        dtype=np.int64,
    ).reshape(-1, 2)
    piece = label_pieces(len(nodes), pairs[:, 0], pairs[:, 1], labels)
    counted: pd.Series = pd.Series(labels).groupby(piece).first().value_counts()
    return counted


def union_of_cells(shapes: np.ndarray) -> shapely.Geometry:
    """Return the union of unit shapes, valid.

    Cells that tile the plane without overlaps (Voronoi and hexagon cells, most user polygons)
    are joined along their shared edges (``shapely.coverage_union_all``, about ten times faster
    than a general union); the result is kept when it is valid and its area is the cells' sum,
    else the general union is used. When that union fails on shapes a projection bent out of
    shape, they are repaired and joined again, and a union that comes out invalid (cells of
    mixed sizes that touch along slivers) is repaired to its polygons.

    Examples
    --------
    >>> import numpy as np, shapely
    >>> cells = np.array([shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)])
    >>> union_of_cells(cells).area, union_of_cells(cells).geom_type
    (2.0, 'Polygon')
    >>> union_of_cells(np.array([shapely.box(0, 0, 2, 1), shapely.box(1, 0, 3, 1)])).area
    3.0
    """
    joined = _coverage_union(shapes)
    if joined is not None:
        return joined
    try:
        union = shapely.union_all(shapes)
    except shapely.errors.GEOSException:
        union = shapely.union_all(shapely.make_valid(shapes))
    if union.is_valid:
        return union
    repaired = shapely.make_valid(union)
    polygons = [
        g for g in getattr(repaired, "geoms", [repaired]) if g.geom_type.endswith("Polygon")
    ]
    return shapely.union_all(polygons) if polygons else repaired


def _coverage_union(shapes: np.ndarray) -> shapely.Geometry | None:
    """Return the union of cells that form a coverage, or None when they may not."""
    total = float(shapely.area(shapes).sum())
    try:
        joined = shapely.coverage_union_all(shapes)
    except shapely.errors.GEOSException:
        return None
    polygonal = joined.geom_type in ("Polygon", "MultiPolygon")
    if polygonal and joined.is_valid and abs(joined.area - total) <= 1e-9 * max(total, 1e-300):
        return joined
    return None


def moment_of_inertia(geometry: gpd.GeoSeries) -> pd.Series:
    """Moment-of-inertia compactness: area^2 / (2 pi J), J the polar moment about the centroid.

    1 for a disc (the most compact shape), 6 / (2 pi) = 0.955 for a square, towards 0 for a
    long strip or a shape in far-apart pieces (every piece counts about the common
    centroid). Holes are taken out. The geometry must be in a projected CRS.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> square = gpd.GeoSeries([shapely.box(0, 0, 10, 10)])
    >>> round(float(moment_of_inertia(square).iloc[0]), 4)
    0.9549
    """
    values = []
    for geom in geometry:
        if geom is None or geom.is_empty or geom.area <= 0:
            values.append(np.nan)
            continue
        c = geom.centroid
        polar = sum(_ring_polar(ring, c.x, c.y) for ring in _rings(geom))
        values.append(geom.area**2 / (2 * np.pi * polar) if polar > 0 else np.nan)
    return pd.Series(values, index=geometry.index, dtype=float)


def _rings(geom: shapely.Geometry) -> list[tuple[np.ndarray, float]]:
    """(coordinates, +1 exterior / -1 hole) of every ring of a (multi)polygon."""
    parts = getattr(geom, "geoms", [geom])
    rings = []
    for part in parts:
        if part.geom_type != "Polygon":
            continue
        rings.append((np.asarray(part.exterior.coords), 1.0))
        rings.extend((np.asarray(r.coords), -1.0) for r in part.interiors)
    return rings


def _ring_polar(ring: tuple[np.ndarray, float], cx: float, cy: float) -> float:
    """Polar second moment of the area inside a ring about (cx, cy) (shoelace formulas)."""
    xy, sign = ring
    x, y = xy[:, 0] - cx, xy[:, 1] - cy
    x0, y0, x1, y1 = x[:-1], y[:-1], x[1:], y[1:]
    cross = x0 * y1 - x1 * y0
    ix = np.sum(cross * (y0**2 + y0 * y1 + y1**2)) / 12
    iy = np.sum(cross * (x0**2 + x0 * x1 + x1**2)) / 12
    return sign * abs(float(ix + iy))


def gini(values: Sequence[float] | np.ndarray | pd.Series) -> float:
    """Gini index of non-negative values: 0 when all are equal, towards 1 when one holds all.

    Examples
    --------
    >>> gini([1, 1, 1, 1])
    0.0
    >>> gini([0, 0, 0, 4])
    0.75
    """
    x = np.sort(np.asarray(values, dtype=float))
    n = len(x)
    if n == 0 or not np.isfinite(x).all() or x.sum() <= 0:
        return float("nan")
    ranks = np.arange(1, n + 1)
    return float(np.sum((2 * ranks - n - 1) * x) / (n * x.sum()))


def balance_indices(values: Sequence[float] | np.ndarray | pd.Series) -> dict[str, float]:
    """How evenly a measure is spread over territories.

    Returns
    -------
    dict
        ``max_deviation`` (largest absolute relative deviation from the mean), ``cv``
        (coefficient of variation, population standard deviation / mean), ``max_min_ratio``
        (largest / smallest; inf when the smallest is 0) and ``gini``.

    Examples
    --------
    >>> {k: round(v, 4) for k, v in balance_indices([90, 100, 110, 100]).items()}
    {'max_deviation': 0.1, 'cv': 0.0707, 'max_min_ratio': 1.2222, 'gini': 0.0375}
    """
    x = np.asarray(values, dtype=float)
    if len(x) == 0:
        nan = float("nan")
        return {"max_deviation": nan, "cv": nan, "max_min_ratio": nan, "gini": nan}
    mean = float(x.mean())
    low, high = float(x.min()), float(x.max())
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = high / low if low > 0 else (float("inf") if high > 0 else float("nan"))
    return {
        "max_deviation": float(np.abs(x / mean - 1).max()) if mean else float("nan"),
        "cv": float(x.std() / mean) if mean else float("nan"),
        "max_min_ratio": float(ratio),
        "gini": gini(x),
    }


def great_circle_km(
    lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray
) -> np.ndarray:
    """Great-circle (haversine) distance in km between points given in degrees.

    Examples
    --------
    >>> round(float(great_circle_km(0.0, 0.0, 1.0, 0.0)), 2)
    111.2
    """
    lon1, lat1, lon2, lat2 = (
        np.radians(np.asarray(v, dtype=float)) for v in (lon1, lat1, lon2, lat2)
    )
    a = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    return np.asarray(2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0, 1))))
