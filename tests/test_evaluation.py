"""Metrics and evaluate(): hand-computed values on small fixtures, any plan, bad input."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st

import geoterr as gt
from geoterr.metrics import (
    balance_indices,
    gini,
    great_circle_km,
    moment_of_inertia,
    polsby_popper,
)

KM_PER_DEGREE = 2 * math.pi * 6371.0088 / 360  # on a great circle


def test_compactness_of_known_shapes() -> None:
    shapes = gpd.GeoSeries(
        [
            shapely.box(0, 0, 10, 10),  # square
            shapely.box(0, 0, 1, 4),  # 1 x 4 rectangle
            shapely.Point(0, 0)
            .buffer(2, quad_segs=256)
            .difference(shapely.Point(0, 0).buffer(1, quad_segs=256)),  # annulus R=2, r=1
            shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(9, 0, 10, 1)]),
        ]
    )
    mi = moment_of_inertia(shapes).to_numpy()
    # square: A^2 / (2 pi A^2/6) = 3/pi; rectangle: 16 / (2 pi * 4 * 17/12) = 24/(17 pi)
    assert mi[0] == pytest.approx(3 / math.pi, rel=1e-9)
    assert mi[1] == pytest.approx(24 / (17 * math.pi), rel=1e-9)
    # annulus: J = pi/2 (R^4 - r^4) = 15 pi / 2, A = 3 pi -> 9 pi^2 / (15 pi^2) = 0.6
    assert mi[2] == pytest.approx(0.6, rel=1e-3)
    # two unit squares 9 apart about the common centroid: J = 2 (1/6 + 4.5^2) = 40.83
    assert mi[3] == pytest.approx(4 / (2 * math.pi * 2 * (1 / 6 + 4.5**2)), rel=1e-9)
    pp = polsby_popper(shapes).to_numpy()
    assert pp[0] == pytest.approx(math.pi / 4)
    assert pp[1] == pytest.approx(4 * math.pi * 4 / 100)


def test_balance_indices_by_hand() -> None:
    values = balance_indices([90, 100, 110, 100])
    assert values["max_deviation"] == pytest.approx(0.1)
    assert values["cv"] == pytest.approx(math.sqrt(50) / 100)
    assert values["max_min_ratio"] == pytest.approx(110 / 90)
    # sum over ordered pairs |xi - xj| = 120; / (2 n^2 mean) = 120 / 3200
    assert values["gini"] == pytest.approx(0.0375)
    assert gini([5, 5, 5]) == 0.0
    assert gini([0, 0, 0, 4]) == pytest.approx(0.75)
    assert balance_indices([0, 3])["max_min_ratio"] == math.inf
    assert great_circle_km(0.0, 0.0, 1.0, 0.0) == pytest.approx(KM_PER_DEGREE)


@pytest.fixture
def four() -> gpd.GeoDataFrame:
    """Four customers on the equator, two territories: A (workload 1 + 5), B (2 + 0)."""
    table = pd.DataFrame(
        {
            "account_id": ["a1", "a2", "b1", "b2"],
            "latitude": [0.0, 0.0, 0.0, 0.0],
            "longitude": [10.0, 11.0, 13.0, 14.0],
            "workload": [1.0, 5.0, 2.0, 0.0],
            "visits": [1.0, 3.0, 2.0, 2.0],
            "current": ["A", "A", "B", "B"],
        }
    )
    return gt.read_customers(table, measures=["workload", "visits"])


def test_evaluate_small_plan_by_hand(four: gpd.GeoDataFrame) -> None:
    plan = gt.plan_from_column(four, "current", measures=["workload"])
    reps = pd.DataFrame(
        {
            "name": ["Ann", "Bob"],
            "territory": ["A", "B"],
            "home_latitude": [0.0, 0.0],
            "home_longitude": [10.0, 14.0],
        }
    )
    result = gt.evaluate(plan, reps=reps, visits="visits", targets={"workload": {"A": 5, "B": 4}})
    t = result.territories
    assert t.loc["A", "workload"] == 6 and t.loc["B", "workload"] == 2
    assert t.loc["A", "workload_deviation"] == pytest.approx(0.5)
    assert t.loc["B", "workload_deviation"] == pytest.approx(-0.5)
    assert t.loc["A", "workload_target_deviation"] == pytest.approx(0.2)
    assert t.loc["B", "workload_target_deviation"] == pytest.approx(-0.5)
    assert list(t["rep"]) == ["Ann", "Bob"] and set(t["origin"]) == {"rep home"}
    # A: visits 1 at 0 km and 3 at 1 degree; B: 2 at 1 degree (b1) and 2 at 0 km.
    assert t.loc["A", "mean_distance_km"] == pytest.approx(3 * KM_PER_DEGREE / 4, rel=1e-9)
    assert t.loc["A", "travel_km"] == pytest.approx(3 * KM_PER_DEGREE, rel=1e-9)
    assert t.loc["A", "round_trip_km"] == pytest.approx(6 * KM_PER_DEGREE, rel=1e-9)
    assert t.loc["B", "mean_distance_km"] == pytest.approx(KM_PER_DEGREE / 2, rel=1e-9)
    assert t.loc["A", "max_distance_km"] == pytest.approx(KM_PER_DEGREE, rel=1e-9)
    assert t.loc["A", "inertia_km2"] == pytest.approx(3 * KM_PER_DEGREE**2 / 4, rel=1e-9)
    b = result.balance.loc["workload"]
    assert b["max_deviation"] == pytest.approx(0.5)
    assert b["cv"] == pytest.approx(0.5)  # std 2 / mean 4
    assert b["max_min_ratio"] == pytest.approx(3.0)
    assert b["gini"] == pytest.approx(0.25)  # |6 - 2| * 2 / (2 * 4 * 4)
    assert result.overall["travel_km"] == pytest.approx(5 * KM_PER_DEGREE, rel=1e-9)
    assert result.overall["mean_distance_km"] == pytest.approx(5 * KM_PER_DEGREE / 8, rel=1e-9)
    assert bool(t["contiguous"].all()) and (t["parts"] == 1).all()
    assert (t["area_km2"] > 0).all() and t["polsby_popper"].between(0, 1).all()


def test_road_distances_replace_straight_lines(four: gpd.GeoDataFrame) -> None:
    plan = gt.plan_from_column(four, "current", measures=["workload"])
    road = pd.Series({"a1": 10.0, "a2": 30.0, "b1": 5.0, "b2": 0.0})
    result = gt.evaluate(plan, visits="visits", distances=road)
    assert result.territories.loc["A", "travel_km"] == pytest.approx(1 * 10 + 3 * 30)
    assert result.territories.loc["B", "mean_distance_km"] == pytest.approx((2 * 5) / 4)
    matrix = pd.DataFrame(
        {"A": [10.0, 30.0, 99, 99], "B": [99, 99, 5.0, 0.0]}, index=["a1", "a2", "b1", "b2"]
    )
    same = gt.evaluate(plan, visits="visits", distances=matrix)
    pd.testing.assert_series_equal(same.territories["travel_km"], result.territories["travel_km"])
    assert "road distances" in " ".join(result.notes)


@pytest.mark.slow
def test_evaluate_a_design_and_a_loaded_plan(units: gt.Units, tmp_path) -> None:
    plan = gt.design(units, 4, balance={"workload": 0.05}, time_limit=10)
    result = gt.evaluate(plan)
    t = result.territories
    assert t["customers"].sum() == len(plan.customers)
    assert np.allclose(t["workload"], plan.territories["workload"])
    assert t["workload_deviation"].abs().max() <= 0.05 + 1e-9
    assert set(t["origin"]) == {"center"} and t["contiguous"].all()
    loaded = gt.load_plan(plan.save(tmp_path / "p", map=False))
    again = gt.evaluate(loaded)
    pd.testing.assert_frame_equal(
        again.territories[["customers", "workload", "workload_deviation"]],
        t[["customers", "workload", "workload_deviation"]],
    )
    assert again.territories["area_km2"].to_numpy() == pytest.approx(t["area_km2"], rel=1e-3)


def test_current_territories_in_pieces_are_named(customers: gpd.GeoDataFrame) -> None:
    frame = customers.copy()
    west = frame.geometry.x < -98
    # Two halves far apart share territory "X": X is in pieces.
    frame["current"] = np.where(west | (frame.geometry.x > -97.4), "X", "Y")
    plan = gt.plan_from_column(frame, "current", measures=["workload"])
    assert plan.status == "violated" and "X" in plan.problems[0]
    result = gt.evaluate(plan)
    assert not result.territories.loc["X", "contiguous"]
    assert result.territories.loc["X", "parts"] >= 2
    assert result.territories["customers"].sum() == len(frame)


def test_bad_input_is_named(four: gpd.GeoDataFrame) -> None:
    with pytest.raises(gt.InputError, match="'nope' is not a customers column"):
        gt.plan_from_column(four, "nope")
    gaps = four.copy()
    gaps.loc["a2", "current"] = None
    with pytest.raises(gt.InputError, match=r"empty for 1 customers \(a2\)"):
        gt.plan_from_column(gaps, "current")
    plan = gt.plan_from_column(four, "current", measures=["workload"])
    with pytest.raises(gt.InputError, match="'revenue' are not numeric customer columns"):
        gt.evaluate(plan, measures=["revenue"])
    with pytest.raises(gt.InputError, match=r"no usable distance for 1 customers \(b2\)"):
        gt.evaluate(plan, distances=pd.Series({"a1": 1.0, "a2": 2.0, "b1": 3.0}))
    with pytest.raises(gt.InputError, match="no positive target for B"):
        gt.evaluate(plan, targets={"workload": {"A": 3}})
    bad_visits = plan.customers.copy()
    bad_visits.loc["b1", "visits"] = -1
    import dataclasses

    with pytest.raises(gt.InputError, match=r"`visits` column 'visits' .* \(b1\)"):
        gt.evaluate(dataclasses.replace(plan, customers=bad_visits), visits="visits")


@given(st.lists(st.floats(min_value=0.1, max_value=1e6, allow_nan=False), min_size=2, max_size=30))
def test_balance_indices_match_their_definitions(values: list[float]) -> None:
    x = np.array(values)
    indices = balance_indices(x)
    mean = x.mean()
    assert indices["max_deviation"] == pytest.approx(np.abs(x / mean - 1).max())
    assert indices["cv"] == pytest.approx(x.std() / mean, abs=1e-12)
    assert indices["max_min_ratio"] == pytest.approx(x.max() / x.min())
    pairs = np.abs(x[:, None] - x[None, :]).sum()
    assert indices["gini"] == pytest.approx(pairs / (2 * len(x) ** 2 * mean), abs=1e-12)
