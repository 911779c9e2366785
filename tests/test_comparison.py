"""compare(): a known move set, several scenarios, renamed plans, different customer sets."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

import geoterr as gt


@pytest.fixture
def two(customers: gpd.GeoDataFrame) -> tuple[gt.Plan, gt.Plan, gpd.GeoDataFrame]:
    """Today's plan (three bands by longitude) and one where four known customers moved."""
    frame = customers.copy()
    x = frame.geometry.x
    frame["old"] = np.select([x < -98.33, x < -97.67], ["W", "C"], "E")
    frame["new"] = frame["old"]
    frame["rep"] = frame["old"].map({"W": "Wes", "C": "Cy", "E": "Eve"})
    west, centre = frame.index[frame["old"] == "W"], frame.index[frame["old"] == "C"]
    moves = {west[0]: "C", west[1]: "C", centre[0]: "E", centre[1]: "W"}
    for cid, to in moves.items():
        frame.loc[cid, "new"] = to
    units = gt.build_units(frame, measures=["workload", "annual_revenue"])
    old = gt.plan_from_column(frame, "old", units=units)
    new = gt.plan_from_column(frame, "new", units=units)
    return old, new, frame.assign(moved_to=frame.index.map(moves))


def test_known_moves(two: tuple[gt.Plan, gt.Plan, gpd.GeoDataFrame]) -> None:
    old, new, frame = two
    result = gt.compare(old, new)
    moved = result.moved.set_index("account_id")
    expected = frame.dropna(subset=["moved_to"])
    assert set(moved.index) == set(expected.index)
    assert (moved["to"] == expected.loc[moved.index, "moved_to"]).all()
    assert (moved["from"] == expected.loc[moved.index, "old"]).all()
    assert result.scenarios.loc["after", "moved"] == 4
    assert result.scenarios.loc["after", "workload_moved"] == pytest.approx(
        expected["workload"].sum()
    )
    # Flows: W -> C carries two customers, C -> E and C -> W one each.
    flows = result.flows.set_index(["from", "to"])
    assert flows.loc[("W", "C"), "customers"] == 2
    assert flows.loc[("C", "E"), "customers"] == 1 and flows.loc[("C", "W"), "customers"] == 1
    assert flows.loc[("W", "C"), "annual_revenue"] == pytest.approx(
        expected.loc[expected["old"] == "W", "annual_revenue"].sum()
    )
    # Before/after per territory with deltas that add up.
    t = result.territories.set_index("territory")
    for name in "WCE":
        before = frame.loc[frame["old"] == name, "workload"].sum()
        after = frame.loc[frame["new"] == name, "workload"].sum()
        assert t.loc[name, "workload_before"] == pytest.approx(before)
        assert t.loc[name, "workload_after"] == pytest.approx(after)
        assert t.loc[name, "workload_delta"] == pytest.approx(after - before)
    assert t["customers_delta"].sum() == 0
    assert t.loc["W", "lost"] == 2 and t.loc["W", "gained"] == 1
    assert t.loc["C", "lost"] == 2 and t.loc["C", "gained"] == 2
    assert t.loc["E", "gained"] == 1 and t.loc["E", "lost"] == 0
    assert set(result.reps_affected["territory"]) == {"W", "C", "E"}
    # Balance indices of both plans side by side.
    for plan in ("before", "after"):
        assert result.scenarios.loc[plan, "workload_cv"] == pytest.approx(
            result.evaluations[plan].balance.loc["workload", "cv"]
        )
    assert result.only_in.empty


def test_reps_named_in_the_realignment_table(two: tuple[gt.Plan, gt.Plan, gpd.GeoDataFrame]):
    old, new, _ = two
    reps = pd.DataFrame(
        {
            "name": ["Wes", "Cy", "Eve"],
            "territory": ["W", "C", "E"],
            "home_latitude": [37.7] * 3,
            "home_longitude": [-98.7, -98.0, -97.3],
        }
    )
    result = gt.compare(old, new, reps=reps)
    affected = result.reps_affected.set_index("territory")
    assert affected.loc["W", "rep_before"] == "Wes" and affected.loc["E", "rep_after"] == "Eve"


def test_several_scenarios_and_renamed_plans(
    two: tuple[gt.Plan, gt.Plan, gpd.GeoDataFrame],
) -> None:
    old, new, frame = two
    renamed = frame.assign(third=frame["new"].map({"W": "T1", "C": "T2", "E": "T3"}))
    third = gt.plan_from_column(renamed, "third", units=old.units)
    result = gt.compare(old, new, third, names=["today", "small", "renamed"])
    assert list(result.scenarios.index) == ["today", "small", "renamed"]
    assert result.scenarios.loc["renamed", "moved"] == len(frame)  # every name changed
    matched = gt.compare(old, new, third, names=["today", "small", "renamed"], match=True)
    assert matched.scenarios.loc["renamed", "moved"] == 4  # the same four customers
    pairs = matched.matches[matched.matches["plan"] == "renamed"]
    assert dict(zip(pairs["territory"], pairs["matched"], strict=True)) == {
        "T1": "W",
        "T2": "C",
        "T3": "E",
    }


def test_different_customer_sets_are_named(
    two: tuple[gt.Plan, gt.Plan, gpd.GeoDataFrame],
) -> None:
    old, _, frame = two
    fewer = frame.drop(index=frame.index[:3])
    smaller = gt.plan_from_column(fewer, "new", measures=["workload"])
    with pytest.warns(gt.GeoterrWarning, match=r"3 customer rows are in one plan only"):
        result = gt.compare(old, smaller)
    assert set(result.only_in["customer"]) == set(frame.index[:3])
    assert set(result.only_in["missing_from"]) == {"after"}
    assert not set(result.moved["account_id"]) & set(frame.index[:3])


def test_bad_arguments(two: tuple[gt.Plan, gt.Plan, gpd.GeoDataFrame]) -> None:
    old, new, _ = two
    with pytest.raises(gt.InputError, match="at least two plans"):
        gt.compare(old)
    with pytest.raises(gt.InputError, match="argument 2 of compare is a str"):
        gt.compare(old, "plan")
    with pytest.raises(gt.InputError, match="`names` must give 2 different names"):
        gt.compare(old, new, names=["a", "a"])


@pytest.mark.slow
def test_a_sweep_stands_for_its_plans(two: tuple[gt.Plan, gt.Plan, gpd.GeoDataFrame]) -> None:
    old, _, _ = two
    assert old.units is not None
    table = gt.sweep(
        old.units,
        [{"n_territories": k, "balance": {"workload": 0.1}, "time_limit": 5} for k in (3, 4)],
        keep_plans=True,
    )
    result = gt.compare(old, table, match=True)
    assert list(result.scenarios.index) == ["plan 1", "scenario 1 (k=3)", "scenario 2 (k=4)"]
    assert result.scenarios.loc["scenario 2 (k=4)", "territories"] == 4
    assert (result.scenarios["workload_max_deviation"].iloc[1:] <= 0.1 + 1e-9).all()
