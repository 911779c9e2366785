"""design: balance, contiguity, determinism, infeasibility and solver options."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from conftest import check_plan, grid_customers, make_customers

import geoterr as gt


def test_grid_is_split_evenly() -> None:
    units = gt.build_units(gt.read_customers(grid_customers(5, 4)), measures=["workload"])
    plan = gt.design(units, 4, balance={"workload": 0.0})
    check_plan(plan, units, {"workload": 0.0})
    assert plan.status == "feasible"
    assert sorted(plan.summary()["workload"]) == [5.0, 5.0, 5.0, 5.0]


@pytest.mark.parametrize("objective", ["distance", "inertia"])
def test_balanced_and_contiguous(units: gt.Units, objective: str) -> None:
    balance = {"workload": 0.05}
    plan = gt.design(units, 6, balance=balance, objective=objective)  # type: ignore[arg-type]
    check_plan(plan, units, balance)
    assert plan.status == "feasible"
    assert plan.territories["contiguous"].all()
    assert plan.lower_bound is not None and plan.objective is not None
    assert plan.lower_bound <= plan.objective * (1 + 1e-9)


def test_several_measures(units: gt.Units) -> None:
    balance = {"workload": 0.05, "annual_revenue": 0.10, "customers": 0.15}
    plan = gt.design(units, 5, balance=balance)
    check_plan(plan, units, balance)
    assert plan.status == "feasible"
    dev = plan.summary()[[f"{m}_deviation" for m in balance]].abs().max()
    assert (dev.to_numpy() <= np.array(list(balance.values())) + 1e-9).all()


def test_clustered_customers() -> None:
    customers = gt.read_customers(make_customers(300, seed=3, clustered=True))
    units = gt.build_units(customers, measures=["workload"])
    plan = gt.design(units, 8, balance={"workload": 0.03})
    check_plan(plan, units, {"workload": 0.03})


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


def test_cbc_solver(units: gt.Units) -> None:
    plan = gt.design(units, 4, balance={"workload": 0.05}, solver="cbc")
    check_plan(plan, units, {"workload": 0.05})
    assert plan.params["solver"] in ("COIN_CMD", "PULP_CBC_CMD")


def test_heavy_unit_is_explained() -> None:
    df = make_customers(50)
    df.loc[3, "workload"] = 500.0  # more than a third of the total
    units = gt.build_units(gt.read_customers(df), measures=["workload"])
    with pytest.raises(gt.InfeasibleError) as err:
        gt.design(units, 4, balance={"workload": 0.05})
    msg = str(err.value)
    assert "C0003" in msg and "tolerance of at least" in msg and "fewer territories" in msg


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
    # below the lower bound 1.75 (mean 3.5 - 50 %); the plan must say so, not hide it.
    df = grid_customers(3, 1)
    df["workload"] = [1.0, 5.0, 1.0]
    path = [("G00", "G01"), ("G01", "G02")]
    units = gt.build_units(gt.read_customers(df), "points", measures=["workload"], adjacency=path)
    with pytest.warns(gt.GeoterrWarning, match="does not keep every promise"):
        plan = gt.design(units, 2, balance={"workload": 0.5})
    assert plan.status == "violated"
    check_plan(plan, units, {"workload": 0.5})
