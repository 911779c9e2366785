"""Regions above territories: whole territories, contiguous, balanced, any depth."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pandas as pd
import pytest
from conftest import make_customers

import geoterr as gt
from geoterr.hierarchy import split_counts
from geoterr.testing import assert_valid_plan


@pytest.fixture(scope="module")
def units() -> gt.Units:
    customers = gt.read_customers(make_customers(250, seed=2), measures=["workload"])
    return gt.build_units(customers, measures=["workload"])


@pytest.fixture(scope="module")
def plan(units: gt.Units) -> gt.Plan:
    return gt.design(units, 9, balance={"workload": 0.05}, time_limit=10)


def territory_graph(plan: gt.Plan, units: gt.Units) -> nx.Graph:
    graph = nx.Graph()
    graph.add_nodes_from(plan.territories.index)
    for u, v in units.graph.edges():
        a, b = plan.assignment[u], plan.assignment[v]
        if a != b:
            graph.add_edge(a, b)
    return graph


def check_regions(
    plan: gt.Plan, units: gt.Units, level: str = "region", balance: dict | None = None
) -> None:
    """The territories keep their promises (assert_valid_plan, with ``balance`` if given);
    every territory in one region; every region a contiguous union of whole territories."""
    assert_valid_plan(plan, units, balance=balance)
    region = plan.territories[level]
    assert region.notna().all()
    customers = plan.customers
    assert customers is not None
    # a territory never straddles regions: all its customers share its region
    per_territory = customers.groupby("territory")[level].nunique()
    assert (per_territory == 1).all()
    assert (customers[level] == customers["territory"].map(region)).all()
    graph = territory_graph(plan, units)
    for name in region.unique():
        members = list(region.index[region == name])
        assert nx.is_connected(graph.subgraph(members)), name
    assert plan.regions is not None
    rows = plan.regions[plan.regions["level"] == level]
    assert set(rows.index) == set(region.unique())
    totals = plan.territories.groupby(level)["workload"].sum()
    pd.testing.assert_series_equal(
        rows["workload"].sort_index(), totals.sort_index(), check_names=False
    )
    assert rows["contiguous"].all()


@pytest.mark.slow
def test_bottom_up_regions(plan: gt.Plan, units: gt.Units) -> None:
    regional = gt.design_regions(
        plan, 3, balance={"workload": 0.1}, managers=["Ann", "Bo", "Cy"], time_limit=10
    )
    assert regional.status == "feasible"
    check_regions(regional, units)
    assert regional.regions is not None
    assert list(regional.regions["manager"]) == ["Ann", "Bo", "Cy"]
    work = regional.regions["workload"]
    assert (abs(work / work.mean() - 1) <= 0.1 + 1e-9).all()
    assert (regional.regions["territories"] == 3).all()


def test_any_depth(plan: gt.Plan, units: gt.Units) -> None:
    with pytest.warns(
        gt.GeoterrWarning, match=r"4 groups of whole territories .* balanced within \d+% instead"
    ):
        regional = gt.design_regions(plan, 4, time_limit=10)
    areas = gt.design_regions(regional, 2, level="area", balance={"workload": 0.5}, time_limit=10)
    check_regions(areas, units, "region")
    check_regions(areas, units, "area")
    regions = areas.regions
    assert regions is not None
    lower = regions[regions["level"] == "region"]
    # each region sits in one area, and its territories are in that area
    for name, row in lower.iterrows():
        assert (
            areas.territories.loc[areas.territories["region"] == name, "area"] == row.parent
        ).all()


def test_loaded_plan_uses_polygon_adjacency(tmp_path: Path, plan: gt.Plan, units: gt.Units) -> None:
    back = gt.load_plan(plan.save(tmp_path / "p", map=False))
    regional = gt.design_regions(back, 3, balance={"workload": 0.1}, time_limit=10)
    graph = territory_graph(plan, units)
    region = regional.territories["region"]
    for name in region.unique():
        assert nx.is_connected(graph.subgraph(list(region.index[region == name])))
    folder = regional.save(tmp_path / "r")
    again = gt.load_plan(folder)
    assert again.regions is not None
    assert list(again.regions.index) == list(regional.regions.index)  # type: ignore[union-attr]
    assert "Region 1" in (folder / "map.html").read_text()


@pytest.mark.slow
def test_top_down(units: gt.Units) -> None:
    plan = gt.design_top_down(units, 2, 7, balance={"workload": 0.1}, time_limit=10)
    counts = plan.territories.groupby("region").size()
    assert counts.sum() == 7
    per_region = plan.params["top_down"]["territories_per_region"]
    assert per_region == [int(counts[f"Region {i + 1}"]) for i in range(2)]
    # (top-down territories are balanced against their region's mean, which assert_valid_plan
    # does not know: every other promise is checked, the regions below)
    check_regions(plan, units, balance={})
    assert plan.assignment.index.equals(units.gdf.index)
    customers = plan.customers
    assert customers is not None and units.customers is not None
    assert customers.index.equals(units.customers.index)
    fixed = gt.design_top_down(units, 2, {"Region 1": 2, "Region 2": 3}, time_limit=10)
    assert fixed.territories.groupby("region").size().to_dict() == {"Region 1": 2, "Region 2": 3}


def test_split_counts() -> None:
    assert split_counts(10, [1, 1, 1]) in ([4, 3, 3], [3, 4, 3], [3, 3, 4])
    assert sum(split_counts(13, [0.7, 0.2, 0.1])) == 13
    assert min(split_counts(5, [100, 1, 1, 1, 1])) == 1
