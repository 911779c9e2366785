"""Per-territory measures: totals, balance, area, compactness, distances."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

__all__ = ["polsby_popper", "territory_table"]


def polsby_popper(geometry: gpd.GeoSeries) -> pd.Series:
    """Polsby-Popper compactness, 4 pi area / perimeter^2: 1 for a disc, near 0 for a thin strip.

    The geometry must be in a projected CRS.
    """
    area = geometry.area
    perimeter = geometry.length
    with np.errstate(divide="ignore", invalid="ignore"):
        value = 4 * np.pi * area / perimeter**2
    return value.where(perimeter > 0, np.nan)


def territory_table(
    unit_gdf: gpd.GeoDataFrame,
    cells: gpd.GeoSeries,
    assignment: pd.Series,
    names: Sequence[str],
    targets: Mapping[str, np.ndarray],
    centers: pd.DataFrame,
    graph: nx.Graph,
    *,
    weight: str,
    inertia: bool,
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
    weight : str
        The measure that weighs distances in ``mean_distance_km``.
    inertia : bool
        Whether the objective uses squared distances (reported as ``objective``).

    Returns
    -------
    GeoDataFrame
        Index ``territory``; columns ``units``, every measure, ``<measure>_deviation`` (share of
        the mean) for balanced measures, ``area_km2``, ``polsby_popper``,
        ``mean_distance_km`` (``weight``-weighted distance of units to the center),
        ``objective`` and ``contiguous``; in the units' CRS.
    """
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
    geoms = []
    for name in names:
        members = assignment.index[assignment == name]
        geoms.append(_union(cells.loc[members].to_numpy()) if len(members) else None)
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
    gdf["contiguous"] = [
        len(members) > 0 and nx.is_connected(graph.subgraph(members))
        for members in (assignment.index[assignment == n] for n in names)
    ]
    return gdf


def _union(shapes: np.ndarray) -> shapely.Geometry:
    """The union of unit shapes; shapes a projection bent out of shape are repaired first."""
    try:
        return shapely.union_all(shapes)
    except shapely.errors.GEOSException:
        return shapely.union_all(shapely.make_valid(shapes))
