"""Property-based checks over random customer sets: what every returned plan promises."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from conftest import check_plan
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import geoterr as gt


@st.composite
def instances(draw: st.DrawFn) -> tuple[pd.DataFrame, int, float]:
    n = draw(st.integers(min_value=4, max_value=60))
    seed = draw(st.integers(min_value=0, max_value=10_000))
    rng = np.random.default_rng(seed)
    lonlat = rng.uniform([-100, 40], [-99, 41], size=(n, 2))
    workload = rng.integers(1, draw(st.integers(min_value=2, max_value=50)), n).astype(float)
    df = pd.DataFrame(
        {
            "id": [f"P{i}" for i in range(n)],
            "lat": lonlat[:, 1],
            "lon": lonlat[:, 0],
            "workload": workload,
        }
    )
    k = draw(st.integers(min_value=1, max_value=min(6, n)))
    tol = draw(st.sampled_from([0.0, 0.02, 0.1, 0.3]))
    return df, k, tol


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(), st.sampled_from(["points", "voronoi"]))
def test_every_plan_keeps_or_names_its_promises(
    case: tuple[pd.DataFrame, int, float], method: str
) -> None:
    df, k, tol = case
    units = gt.build_units(gt.read_customers(df), method, measures=["workload"])  # type: ignore[arg-type]
    balance = {"workload": tol}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", gt.GeoterrWarning)
            plan = gt.design(units, k, balance=balance, time_limit=20)
    except gt.InfeasibleError as exc:
        assert "No balanced plan exists" in str(exc) or "units" in str(exc)
        return
    check_plan(plan, units, balance)
    # every customer in exactly one territory
    assert plan.customers is not None
    assert plan.customers.index.equals(units.customers.index)
    assert plan.customers["territory"].isin(plan.territories.index).all()


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(), st.integers(min_value=0, max_value=30), st.integers(0, 10_000))
def test_realignment_keeps_its_budget_and_locks(
    case: tuple[pd.DataFrame, int, float], budget: int, seed: int
) -> None:
    df, k, tol = case
    units = gt.build_units(gt.read_customers(df), "points", measures=["workload"])
    rng = np.random.default_rng(seed)
    # the current plan: a random territory per unit, some new units without one
    labels = [f"C{j}" for j in rng.integers(0, k, len(units))]
    current = pd.Series(labels, index=units.gdf.index).mask(rng.random(len(units)) < 0.1)
    pinned = units.gdf.index[0]
    locked = {pinned: current[pinned]} if isinstance(current[pinned], str) else None
    balance = {"workload": max(tol, 0.1)}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", gt.GeoterrWarning)
            plan = gt.design(
                units,
                k,
                balance=balance,
                current=current,
                max_moved=budget,
                locked=locked,
                time_limit=5,  # bounds the test's time; a cut-short plan must still be honest
            )
    except gt.InfeasibleError as exc:
        assert "max_moved" in str(exc) or "No " in str(exc)
        return
    except gt.InputError as exc:  # fewer current territories than k is fine; more is not
        assert "current" in str(exc)
        return
    check_plan(plan, units, balance)
    assert plan.customers is not None
    moved = plan.moved
    # only customers that had a territory count as moved, and each really changed
    assert (moved["territory_before"] != moved["territory"]).all()
    assert plan.params["moved_customers"] == len(moved)
    if len(moved) > budget:
        assert any("budget" in p for p in plan.problems)
    else:
        assert not any("budget" in p for p in plan.problems)
    if locked is not None:
        assert plan.assignment[pinned] == locked[pinned]
