"""build_units: unit kinds, measures, traceability and the contiguity graph."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import make_customers

import geoterr as gt


@pytest.mark.parametrize("method", ["points", "voronoi"])
def test_every_customer_in_one_unit(customers: gpd.GeoDataFrame, method: str) -> None:
    units = gt.build_units(customers, method, measures=["workload", "annual_revenue"])
    assert units.customer_unit.index.equals(customers.index)
    assert units.customer_unit.isin(units.gdf.index).all()
    assert units.gdf["customers"].sum() == len(customers)
    assert units.gdf["workload"].sum() == pytest.approx(customers["workload"].sum())
    per_unit = customers["workload"].groupby(units.customer_unit).sum()
    assert np.allclose(per_unit.reindex(units.gdf.index), units.gdf["workload"])
    assert nx.is_connected(units.graph)
    assert set(units.graph.nodes) == set(units.gdf.index)
    assert units.crs.is_projected


def test_shared_locations_make_one_unit() -> None:
    df = make_customers(20)
    df.loc[5, ["latitude", "longitude"]] = df.loc[4, ["latitude", "longitude"]].to_numpy()
    units = gt.build_units(gt.read_customers(df), measures=["workload"])
    assert len(units) == 19
    assert units.customer_unit["C0005"] == units.customer_unit["C0004"] == "C0004"
    assert units.gdf.loc["C0004", "customers"] == 2


def test_voronoi_cells_tile_without_overlap(units: gt.Units) -> None:
    cells = units.gdf.geometry
    assert cells.is_valid.all()
    assert (cells.geom_type == "Polygon").all()
    union_area = shapely.union_all(cells.to_numpy()).area
    assert union_area == pytest.approx(cells.area.sum(), rel=1e-6)
    # each cell holds its own location
    pts = gpd.points_from_xy(units.gdf.x, units.gdf.y)
    assert all(c.buffer(1e-6).covers(p) for c, p in zip(cells, pts, strict=True))


def test_voronoi_neighbours_share_a_border(units: gt.Units) -> None:
    cells = units.gdf.geometry
    touching = sum(cells.loc[a].buffer(1e-6).intersects(cells.loc[b]) for a, b in units.graph.edges)
    # all but the few links added to keep the graph connected share a border
    assert touching >= 0.95 * units.graph.number_of_edges()


def test_user_boundary_clips_cells(customers: gpd.GeoDataFrame) -> None:
    box = shapely.box(-99.5, 36.5, -96.5, 39.0)
    units = gt.build_units(customers, boundary=box, measures=["workload"])
    region = gpd.GeoSeries([box], crs=4326).to_crs(units.crs).iloc[0]
    assert units.gdf.geometry.union_all().area == pytest.approx(region.area, rel=1e-3)


def test_islands_connect_or_raise() -> None:
    df = make_customers(40, seed=1)
    far = pd.DataFrame(
        {
            "account_id": ["ISL1", "ISL2"],
            "name": ["a", "b"],
            "latitude": [45.0, 45.01],
            "longitude": [-80.0, -80.01],
            "workload": [1.0, 1.0],
            "annual_revenue": [1.0, 1.0],
        }
    )
    customers = gt.read_customers(pd.concat([df, far], ignore_index=True))
    edges = [(a, b) for a, b in zip(df.account_id[:-1], df.account_id[1:], strict=True)]
    edges.append(("ISL1", "ISL2"))
    with pytest.warns(gt.GeoterrWarning, match="linked each to its nearest unit"):
        units = gt.build_units(customers, measures=["workload"], adjacency=edges)
    assert nx.is_connected(units.graph)
    assert len(units.added_links) == 1
    with pytest.raises(gt.InputError, match="separate parts.*ISL1"):
        gt.build_units(customers, measures=["workload"], adjacency=edges, islands="raise")


def test_user_adjacency_is_checked(customers: gpd.GeoDataFrame) -> None:
    with pytest.raises(gt.InputError, match="not units.*NOPE"):
        gt.build_units(customers, measures=["workload"], adjacency=[("C0000", "NOPE")])


def test_bad_arguments(customers: gpd.GeoDataFrame) -> None:
    with pytest.raises(gt.InputError, match="`method`"):
        gt.build_units(customers, "hexes")  # type: ignore[arg-type]
    with pytest.raises(gt.InputError, match="no column 'visits'"):
        gt.build_units(customers, measures=["visits"])
    with pytest.raises(gt.InputError, match="read_customers"):
        gt.build_units(pd.DataFrame(customers))  # type: ignore[arg-type]
    with pytest.raises(gt.InputError, match="projected"):
        gt.build_units(customers, crs=4326)


def test_keywords_the_method_does_not_use_are_refused(customers: gpd.GeoDataFrame) -> None:
    """A hex keyword on Voronoi units (a forgotten method="hex") is not silently ignored."""
    with pytest.raises(gt.InputError, match=r"method='voronoi' does not use `resolution`") as err:
        gt.build_units(customers, resolution=6)
    assert "pass method='hex' if that was meant" in str(err.value)
    with pytest.raises(gt.InputError) as err:  # every unused keyword at once, with its method
        gt.build_units(customers, "hex", prune=None, snap=5.0, contiguity="rook")
    text = str(err.value)
    assert "`prune` (used by method 'points' only)" in text
    assert "`contiguity`, `snap` (used by method 'polygons' only)" in text
    with pytest.raises(gt.InputError, match="`boundary` .*'voronoi', 'points', 'hex'"):
        gt.build_units(None, "polygons", polygons=gpd.GeoDataFrame(), boundary=object())
    with pytest.raises(gt.InputError, match="`polygons` .*'polygons' only"):
        gt.build_units(customers, "points", polygons=gpd.GeoDataFrame(geometry=[]))
    with pytest.raises(gt.InputError, match="`resolution` and `n_units` were both given"):
        gt.build_units(customers, "hex", resolution=5, n_units=100)
    # Keywords left at their defaults, or given to the method that uses them, are fine.
    points = gt.build_units(customers, "points", prune=2.0, fill_gaps=2, max_load="auto")
    assert points.kind == "points"


def test_default_measures_skip_incomplete_columns() -> None:
    df = make_customers(30)
    df["score"] = np.where(np.arange(30) % 3 == 0, np.nan, 1.0)
    units = gt.build_units(gt.read_customers(df))
    assert "workload" in units.measures and "score" not in units.measures


def test_tiny_inputs() -> None:
    for n in (1, 2, 3):
        units = gt.build_units(gt.read_customers(make_customers(n)), measures=["workload"])
        assert len(units) == n
        assert nx.is_connected(units.graph)
