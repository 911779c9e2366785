"""Hexagon units keep the promise (issue 11, case 1): balanced, contiguous plans, drawn in one
piece, or the specific reason with its numbers.

Smaller versions of the cases; ``benchmarks/hex_promises.py`` runs the full ones.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import run_main

import geoterr as gt
from geoterr.testing import assert_valid_plan

PLACES = Path(gt.sample_path()).with_name("places_extract.csv")


@pytest.fixture(scope="module")
def sample() -> gpd.GeoDataFrame:
    return gt.read_customers(gt.sample_path())


def synthetic(n: int, seed: int = 0) -> gpd.GeoDataFrame:
    """Customers around the sample's GeoNames places (square root of population, 0.05 degree
    scatter), segments 8 / 27 / 65 %, workload (Poisson visits + 1) x hours."""
    rng = np.random.default_rng(seed)
    places = pd.read_csv(PLACES)
    weight = np.sqrt(places["population"].clip(lower=1).to_numpy(dtype=float))
    pick = rng.choice(len(places), size=n, p=weight / weight.sum())
    segment = rng.choice(3, size=n, p=[0.08, 0.27, 0.65])
    visits = rng.poisson(np.array([24.0, 8.0, 2.0])[segment])
    table = pd.DataFrame(
        {
            "account_id": [f"S{i:06d}" for i in range(n)],
            "latitude": places["latitude"].to_numpy()[pick] + rng.normal(0, 0.05, n),
            "longitude": places["longitude"].to_numpy()[pick] + rng.normal(0, 0.05, n),
            "workload": (visits + 1) * np.array([3.0, 2.0, 1.0])[segment],
        }
    )
    return gt.read_customers(table)


def assert_kept(plan: gt.Plan, units: gt.Units, balance: dict[str, float]) -> None:
    """Feasible (every unit once, each territory connected in the graph, within balance),
    each territory drawn as one polygon, territories (nearly) not overlapping."""
    assert_valid_plan(plan, units, balance=balance, feasible=True)
    shapes = plan.territories.to_crs(units.crs).geometry
    assert (shapes.geom_type == "Polygon").all(), shapes.geom_type.value_counts().to_dict()
    union = shapely.union_all(shapes.to_numpy())
    # (cells next to split cells are widened by a few metres across the seam)
    assert shapes.area.sum() == pytest.approx(union.area, rel=1e-3)


@pytest.mark.slow
def test_issue_command_line_is_feasible_and_drawn_in_one_piece(tmp_path: Path) -> None:
    """The issue's `geoterr design ... --units hex --n-units 2000 --balance workload:0.05`."""
    result = run_main(
        "design",
        str(gt.sample_path()),
        "-k",
        "12",
        "--units",
        "hex",
        "--n-units",
        "2000",
        "--balance",
        "workload:0.05",
        "--no-map",
        "--out",
        "plan",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "violated" not in result.stdout + result.stderr
    assert "separate parts" not in result.stderr  # the land joins every town: no links
    summary = pd.read_csv(tmp_path / "plan" / "summary.csv")
    assert summary["workload_deviation"].abs().max() <= 0.05 + 1e-9
    assert summary["contiguous"].all()
    shapes = gpd.read_file(tmp_path / "plan" / "territories.geojson")
    assert (shapes.geom_type == "Polygon").all()
    assignments = pd.read_csv(tmp_path / "plan" / "assignments.csv")
    assert len(assignments) == 4500 and assignments["territory"].notna().all()


@pytest.mark.slow
@pytest.mark.parametrize("resolution", [4, 5])
def test_sample_resolutions_are_feasible(sample: gpd.GeoDataFrame, resolution: int) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", gt.GeoterrWarning)  # no links, no broken promise
        units = gt.build_units(sample, "hex", resolution=resolution, measures=["workload"])
        plan = gt.design(units, 12, balance={"workload": 0.05}, time_limit=60)
    assert len(units.parts) == 1 and units.added_links == []
    assert_kept(plan, units, {"workload": 0.05})


@pytest.mark.slow
def test_islands_separate_gives_one_part_on_the_mainland(sample: gpd.GeoDataFrame) -> None:
    """The README's `build_units(customers, "hex", resolution=6, islands="separate")` gave
    1,323 parts: towns were islands. The land now joins them (resolution 5 here for time)."""
    units = gt.build_units(sample, "hex", resolution=5, islands="separate", measures=["workload"])
    assert len(units.parts) == 1
    plan = gt.design(units, 12, balance={"workload": 0.05}, time_limit=60)
    assert_kept(plan, units, {"workload": 0.05})


@pytest.mark.slow
def test_readme_sweep_on_hexagons_is_feasible(sample: gpd.GeoDataFrame) -> None:
    table = gt.sweep(
        sample, [{"n_territories": k, "method": "hex", "resolution": 4} for k in (10, 12)]
    )
    assert (table["status"] == "feasible").all(), table[["status", "message"]]
    assert (table["max_deviation"] <= 0.05 + 1e-9).all()


@pytest.mark.slow
def test_clustered_customers_get_their_city_cells_split() -> None:
    """Many customers around real places: the heaviest cells (cities) are split by default,
    and the plan keeps the tolerance with every territory in one piece."""
    customers = synthetic(12_000)
    units = gt.build_units(customers, "hex", n_units=800, measures=["workload"])
    whole = gt.build_units(customers, "hex", n_units=800, measures=["workload"], max_load=None)
    assert units.settings["split_cells"] > 0 and whole.settings["split_cells"] == 0
    cap = gt.units.hexes.AUTO_SPLIT * whole.gdf["workload"].mean()  # mean over occupied cells
    assert whole.gdf["workload"].max() > cap
    for unit in units.gdf.index[units.gdf["workload"] > cap]:  # only single addresses stay
        spots = customers.geometry[units.customer_unit == unit]
        assert len({(p.x, p.y) for p in spots}) == 1
    assert (units.gdf.geom_type == "Polygon").all()
    plan = gt.design(units, 15, balance={"workload": 0.05}, time_limit=60)
    assert_kept(plan, units, {"workload": 0.05})


def test_a_unit_heavier_than_a_territory_is_the_reason_with_numbers() -> None:
    """One address holding more than a territory may: no split can help; the design says
    which unit, how heavy, and the tolerance that would work."""
    customers = synthetic(2_000, seed=1)
    heavy = customers.index[0]
    customers.loc[heavy, "workload"] = customers["workload"].sum()  # half of everything
    units = gt.build_units(customers, "hex", n_units=200, measures=["workload"])
    with pytest.raises(gt.InfeasibleError, match=r"workload.*[0-9]"):
        gt.design(units, 6, balance={"workload": 0.05}, time_limit=30)
