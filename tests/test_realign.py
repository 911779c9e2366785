"""Realignment from the current plan, kept territories, and choke-point diagnosis."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import make_customers

import geoterr as gt
from geoterr.testing import assert_valid_plan


@pytest.fixture(scope="module")
def sample_units() -> gt.Units:
    return gt.build_units(gt.read_customers(gt.sample_path()), measures=["workload"])


def _design(units: gt.Units, **kwargs: object) -> gt.Plan:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gt.GeoterrWarning)
        return gt.design(units, 12, balance={"workload": 0.05}, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def free(sample_units: gt.Units) -> gt.Plan:
    """The sample realigned without a budget (shared by the tests that compare with it)."""
    return _design(sample_units, current="current_territory")


@pytest.mark.slow
def test_budget_is_kept_and_moves_are_listed(sample_units: gt.Units, free: gt.Plan) -> None:
    limited = _design(sample_units, current="current_territory", max_moved=600)
    assert limited.status == "feasible", limited.problems
    # the names are the current ones, and the moved list is exact
    customers = limited.customers
    assert customers is not None
    assert set(limited.territories.index) == set(customers["current_territory"])
    changed = customers["current_territory"] != customers["territory"]
    assert changed.sum() == len(limited.moved) <= 600
    assert limited.moved.index.equals(customers.index[changed])
    assert limited.params["moved_customers"] == len(limited.moved)
    # without a budget the optimizer moves many more
    assert len(free.moved) > 600


@pytest.mark.slow
def test_share_budget_and_penalty(sample_units: gt.Units, free: gt.Plan) -> None:
    plan = _design(sample_units, current="current_territory", max_moved=0.2)
    assert plan.params["moved_share"] <= 0.2 + 1e-9
    # the share of the workload moved, recomputed from the units, and the lower bound
    # no higher than the objective
    assert_valid_plan(plan)
    costly = _design(sample_units, current="current_territory", move_penalty=200.0)
    assert len(costly.moved) < len(free.moved)


def test_too_small_budget_is_explained() -> None:
    # four stripes holding 10, 20, 30 and 40 % of the workload: balancing them moves about
    # a fifth of it, far more than a budget of 1 %
    frame = make_customers(400, seed=6)
    share = frame["longitude"].rank(pct=True)
    frame["current"] = np.select([share <= 0.1, share <= 0.3, share <= 0.6], ["A", "B", "C"], "D")
    units = gt.build_units(gt.read_customers(frame), measures=["workload"])
    with pytest.raises(gt.InfeasibleError, match=r"max_moved \(1\.0% of workload\)"):
        gt.design(units, 4, balance={"workload": 0.05}, current="current", max_moved=0.01)


@pytest.mark.slow
def test_kept_territory_is_unchanged(sample_units: gt.Units) -> None:
    kept = "T10 Plains & Rockies"  # its workload is 2.1 % under the mean today
    # a one-unit enclave of T09 inside T10 can only join T10: said before any solve
    with pytest.raises(gt.InfeasibleError, match="enclosed by the kept territory T10") as info:
        _design(sample_units, current="current_territory", keep_territories=[kept])
    assert "enclaves='join'" in str(info.value) and "5,319.68 to 5,879.65" in str(info.value)
    plan = _design(
        sample_units, current="current_territory", keep_territories=[kept], enclaves="join"
    )
    assert plan.status == "feasible", plan.problems
    customers = plan.customers
    assert customers is not None
    before = customers["current_territory"] == kept
    after = customers["territory"] == kept
    # the kept territory keeps all its customers and gains only the enclave's
    assert (after[before]).all()
    joined = customers.index[after & ~before]
    assert set(customers.loc[joined, "unit"]) == {"AC00360"}
    assert plan.params["enclaves_joined"] == ["1 unit (AC00360) joined the kept territory " + kept]
    # Florida is 22 % under the mean today: it cannot be kept within +-5 %
    with pytest.raises(gt.InfeasibleError, match="T05 Florida cannot be kept"):
        _design(sample_units, current="current_territory", keep_territories=["T05 Florida"])


@pytest.mark.slow
def test_realignment_arguments_are_checked(sample_units: gt.Units) -> None:
    with pytest.raises(gt.InputError, match="need `current`"):
        _design(sample_units, max_moved=10)
    with pytest.raises(gt.InputError, match="not current territories"):
        _design(sample_units, current="current_territory", keep_territories=["Atlantis"])
    with pytest.raises(gt.InputError, match="column 'nope'"):
        _design(sample_units, current="nope")
    with pytest.raises(gt.InputError, match="max_moved"):
        _design(sample_units, current="current_territory", max_moved=1.5)


def test_choke_point_is_reported_fast() -> None:
    # a 5 x 5 grid with a two-unit tail: the tail's end (70) cannot be covered, since the
    # territory through the tail's first unit (70) has room for only 66.5 more
    rows = [(f"g{i}{j}", 40 + i * 0.1, -90 + j * 0.1, 10.0) for i in range(5) for j in range(5)]
    rows += [("t0", 39.9, -90.1, 70.0), ("t1", 39.8, -90.2, 70.0)]
    df = pd.DataFrame(rows, columns=["id", "lat", "lon", "workload"])
    edges = [(f"g{i}{j}", f"g{i + 1}{j}") for i in range(4) for j in range(5)]
    edges += [(f"g{i}{j}", f"g{i}{j + 1}") for i in range(5) for j in range(4)]
    edges += [("g00", "t0"), ("t0", "t1")]
    units = gt.build_units(gt.read_customers(df), "points", measures=["workload"], adjacency=edges)
    with pytest.raises(gt.InfeasibleError, match="unit t0 is a choke point") as info:
        gt.design(units, 3, balance={"workload": 0.05})
    assert "t1" in str(info.value) and "tolerance of at least" in str(info.value)
    # with that tolerance a plan exists
    needed = float(str(info.value).split("tolerance of at least ")[1].split("%")[0]) / 100
    plan = gt.design(units, 3, balance={"workload": needed + 0.01})
    assert plan.status == "feasible"
