"""design: balance, contiguity, determinism, infeasibility and solver options."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from conftest import grid_customers, make_customers

import geoterr as gt
from geoterr.testing import assert_valid_plan


def test_grid_is_split_evenly() -> None:
    units = gt.build_units(gt.read_customers(grid_customers(5, 4)), measures=["workload"])
    plan = gt.design(units, 4, balance={"workload": 0.0})
    assert_valid_plan(plan, units, balance={"workload": 0.0})
    assert plan.status == "feasible"
    assert sorted(plan.summary()["workload"]) == [5.0, 5.0, 5.0, 5.0]


@pytest.mark.slow
@pytest.mark.parametrize("objective", ["distance", "inertia"])
def test_balanced_and_contiguous(units: gt.Units, objective: str) -> None:
    balance = {"workload": 0.05}
    plan = gt.design(units, 6, balance=balance, objective=objective)  # type: ignore[arg-type]
    assert_valid_plan(plan, units, balance=balance)
    assert plan.status == "feasible"
    assert plan.territories["contiguous"].all()
    assert plan.lower_bound is not None and plan.objective is not None
    assert plan.lower_bound <= plan.objective * (1 + 1e-9)


def test_several_measures(units: gt.Units) -> None:
    balance = {"workload": 0.05, "annual_revenue": 0.10, "customers": 0.15}
    plan = gt.design(units, 5, balance=balance)
    assert_valid_plan(plan, units, balance=balance)
    assert plan.status == "feasible"
    dev = plan.summary()[[f"{m}_deviation" for m in balance]].abs().max()
    assert (dev.to_numpy() <= np.array(list(balance.values())) + 1e-9).all()


@pytest.mark.slow
def test_clustered_customers() -> None:
    customers = gt.read_customers(make_customers(300, seed=3, clustered=True))
    units = gt.build_units(customers, measures=["workload"])
    plan = gt.design(units, 8, balance={"workload": 0.03})
    assert_valid_plan(plan, units, balance={"workload": 0.03})


@pytest.mark.slow
def test_same_seed_same_plan(units: gt.Units) -> None:
    a = gt.design(units, 5, balance={"workload": 0.05}, random_state=7)
    b = gt.design(units, 5, balance={"workload": 0.05}, random_state=7)
    assert a.assignment.equals(b.assignment)


def test_customers_keep_every_row(customers: gpd.GeoDataFrame, units: gt.Units) -> None:
    plan = gt.design(units, 4, balance="workload:5%")
    assert plan.customers is not None
    assert plan.customers.index.equals(customers.index)
    assert (plan.customers["territory"] == plan.assignment[plan.customers["unit"]].to_numpy()).all()
    totals = plan.customers.groupby("territory")["workload"].sum()
    assert np.allclose(totals.reindex(plan.territories.index), plan.territories["workload"])


@pytest.mark.slow
def test_cbc_solver(units: gt.Units) -> None:
    plan = gt.design(units, 4, balance={"workload": 0.05}, solver="cbc")
    assert_valid_plan(plan, units, balance={"workload": 0.05})
    assert plan.params["solver"] in ("COIN_CMD", "PULP_CBC_CMD")


def test_heavy_unit_is_explained() -> None:
    df = make_customers(50)
    df.loc[3, "workload"] = 300.0  # more than a quarter of the total, +51 % of the mean
    units = gt.build_units(gt.read_customers(df), measures=["workload"])
    with pytest.raises(gt.InfeasibleError) as err:
        gt.design(units, 4, balance={"workload": 0.05})
    msg = str(err.value)
    assert "C0003" in msg and "tolerance of at least 5" in msg and "at most 2 territories" in msg


def test_more_territories_than_units() -> None:
    units = gt.build_units(gt.read_customers(make_customers(3)), measures=["workload"])
    with pytest.raises(gt.InfeasibleError, match="only 3 units"):
        gt.design(units, 4)


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"balance": {"revenue": 0.1}}, "not a unit measure"),
        ({"balance": {"workload": 1.5}}, "share in"),
        ({"balance": "workload=5"}, "measure:tolerance"),
        ({"objective": "time"}, "`objective`"),
        ({"solver": "nosuchsolver"}, "not available"),
        ({"time_limit": 0}, "`time_limit`"),
    ],
)
def test_bad_arguments(units: gt.Units, kwargs: dict, pattern: str) -> None:
    with pytest.raises(gt.GeoterrError, match=pattern):
        gt.design(units, 3, **kwargs)
    with pytest.raises(gt.InputError, match="n_territories"):
        gt.design(units, 0)


def test_impossible_tolerance_is_reported_not_hidden() -> None:
    # A path 1 - 5 - 1 split in two: every contiguous split leaves a territory with 1,
    # below the lower bound 1.75 (mean 3.5 - 50 %). G01 is a choke point: the end unit
    # behind it (1) fits no whole territory and the territory through G01 (5) has room for
    # only 0.25 more. This must be refused with the reason, before any solving.
    df = grid_customers(3, 1)
    df["workload"] = [1.0, 5.0, 1.0]
    path = [("G00", "G01"), ("G01", "G02")]
    units = gt.build_units(gt.read_customers(df), "points", measures=["workload"], adjacency=path)
    with pytest.raises(gt.InfeasibleError, match="unit G01 is a choke point") as info:
        gt.design(units, 2, balance={"workload": 0.5})
    assert "tolerance of at least" in str(info.value)


def test_absolute_bounds(units: gt.Units) -> None:
    total = units.gdf["workload"].sum()
    low, high = total / 4 * 0.95, total / 4 * 1.05
    plan = gt.design(units, 4, balance={"workload": (low, high)})
    assert_valid_plan(plan, units, balance={"workload": 0.05})
    assert plan.summary()["workload"].between(low, high).all()
    with pytest.raises(gt.InfeasibleError, match="hold between"):
        gt.design(units, 4, balance={"workload": (0.0, total / 5)})


def test_capacity_gives_a_smaller_territory(units: gt.Units) -> None:
    plan = gt.design(units, 3, balance={"workload": 0.05}, capacity=[1, 1, 0.5])
    assert plan.status == "feasible"
    work = plan.summary()["workload"]
    total = units.gdf["workload"].sum()
    targets = np.array([0.4, 0.4, 0.2]) * total
    # the deviation column is measured against each territory's own target
    assert (plan.summary()["workload_deviation"].abs() <= 0.05 + 1e-9).all()
    assert sorted(work / total) == pytest.approx(sorted(targets / total), abs=0.02)
    with pytest.raises(gt.InputError, match="`capacity`"):
        gt.design(units, 3, capacity=[1, 1])


def test_fixed_centers_are_kept_and_name_territories(units: gt.Units) -> None:
    import pandas as pd

    homes = pd.DataFrame(
        {"latitude": [37.3, 38.2, 37.5], "longitude": [-98.7, -98.0, -97.3]},
        index=pd.Index(["R01", "R02", "R03"], name="rep"),
    )
    plan = gt.design(units, 3, balance={"workload": 0.05}, centers=homes)
    assert list(plan.territories.index) == ["R01", "R02", "R03"]
    assert np.allclose(plan.centers[["latitude", "longitude"]], homes, atol=1e-6)
    assert_valid_plan(plan, units, balance={"workload": 0.05})
    with pytest.raises(gt.InputError, match="gives 3 centers"):
        gt.design(units, 4, centers=homes)


@pytest.mark.slow
def test_cost_matrix_centers_are_units(units: gt.Units) -> None:
    import pandas as pd

    xy = units.xy / 1000.0
    manhattan = np.abs(xy[:, None, :] - xy[None, :, :]).sum(axis=2)
    costs = pd.DataFrame(manhattan, index=units.gdf.index, columns=units.gdf.index)
    plan = gt.design(units, 4, balance={"workload": 0.05}, costs=costs, objective="inertia")
    assert_valid_plan(plan, units, balance={"workload": 0.05})
    assert plan.centers["unit"].isin(units.gdf.index).all()
    # the objective is measured with the user's matrix
    centre_of = dict(zip(plan.centers.index, plan.centers["unit"], strict=True))
    d = np.array([costs.loc[u, centre_of[t]] for u, t in plan.assignment.items()])
    weight = units.gdf["workload"] + 1e-3 * units.gdf["workload"].mean()
    assert plan.objective == pytest.approx(float((weight.to_numpy() * d**2).sum()), rel=1e-9)
    with pytest.raises(gt.InputError, match="`costs` must be"):
        gt.design(units, 4, costs=np.ones((3, 3)))


@pytest.mark.slow
def test_locked_units_stay_with_named_centers(units: gt.Units) -> None:
    import pandas as pd

    homes = pd.DataFrame(
        {"latitude": [37.3, 38.2, 37.5], "longitude": [-98.7, -98.0, -97.3]},
        index=pd.Index(["R01", "R02", "R03"], name="rep"),
    )
    # pin the unit farthest from R03's home to R03
    far = units.gdf.index[int(np.argmin(units.gdf["x"]))]
    plan = gt.design(units, 3, balance={"workload": 0.1}, centers=homes, locked={far: "R03"})
    assert_valid_plan(plan, locked={far: "R03"})
    assert plan.assignment[far] == "R03"
    assert plan.params["locked_units"] == 1
    with pytest.raises(gt.InputError, match="centers' names"):
        gt.design(units, 3, centers=homes, locked={far: "R09"})


def test_locked_groups_stay_together_and_apart(units: gt.Units) -> None:
    ids = list(units.gdf.sort_values("x").index)
    west, east = ids[:3], ids[-3:]
    locked = {**dict.fromkeys(west, "A"), **dict.fromkeys(east, "B")}
    plan = gt.design(units, 4, balance={"workload": 0.05}, locked=locked)
    assert_valid_plan(plan, units, balance={"workload": 0.05})
    assert plan.assignment[west].nunique() == 1
    assert plan.assignment[east].nunique() == 1
    assert plan.assignment[west[0]] != plan.assignment[east[0]]
    with pytest.raises(gt.InputError, match="not units"):
        gt.design(units, 4, locked={"nope": "A"})


def test_no_time_for_a_first_plan_is_said_plainly(units: gt.Units) -> None:
    with pytest.raises(gt.SolverError, match=r"time limit \(0.001 s\) ran out before a first plan"):
        gt.design(units, 5, balance={"workload": 0.05}, time_limit=0.001)
