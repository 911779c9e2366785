"""Tracking, sales records and targets on a small table with known totals."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

import geoterr as gt

DATA = Path(__file__).resolve().parents[1] / "data"

# Revenue per territory and quarter, 2024Q1 .. 2025Q2 (B has no sale in 2024Q2).
A = [100, 120, 90, 110, 80, 60]
B = [50, 0, 70, 70, 75, 90]
QUARTERS = ["2024Q1", "2024Q2", "2024Q3", "2024Q4", "2025Q1", "2025Q2"]
MONTHS = ["2024-01", "2024-04", "2024-07", "2024-10", "2025-01", "2025-04"]


@pytest.fixture
def plan() -> gt.Plan:
    table = pd.DataFrame(
        {
            "account_id": ["a1", "a2", "b1", "b2"],
            "latitude": [0.0, 0.0, 0.0, 0.0],
            "longitude": [10.0, 11.0, 13.0, 14.0],
            "workload": [1.0, 1.0, 1.0, 1.0],
            "potential": [150.0, 50.0, 100.0, 100.0],
            "rep": ["Ann", "Ann", "Bob", "Bob"],
            "current": ["A", "A", "B", "B"],
        }
    )
    customers = gt.read_customers(table, measures=["workload"])
    return gt.plan_from_column(customers, "current", measures=["workload"])


def clean_sales() -> pd.DataFrame:
    rows = []
    for q, (month, a, b) in enumerate(zip(MONTHS, A, B, strict=True)):
        # Each territory's quarter split over its two customers; units = amount / 10.
        for cid, amount in (("a1", a * 0.75), ("a2", a * 0.25), ("b1", b), ("b2", 0)):
            if amount:
                rows.append((f"I{len(rows)}", cid, f"{month}-15", amount, amount / 10, 4 - q % 2))
    sales = pd.DataFrame(
        rows, columns=["invoice_id", "account_id", "date", "amount", "units", "satisfaction"]
    )
    # A credit note inside A's 2024Q3: 100 of sales and -10 back, still 90.
    i = sales.index[(sales["account_id"] == "a1") & (sales["date"] == "2024-07-15")][0]
    sales.loc[i, "amount"] += 10
    credit = pd.DataFrame([("C1", "a1", "2024-08-01", -10.0, -1.0, np.nan)], columns=sales.columns)
    return pd.concat([sales, credit], ignore_index=True)


def with_problems() -> pd.DataFrame:
    bad = pd.DataFrame(
        [
            ("X1", "zz", "2024-02-01", "5", "", ""),  # unknown customer
            ("I0", "a1", "2024-01-15", "75", "7.5", "4"),  # duplicate invoice id
            ("X2", "a2", "2030-01-01", "5", "", ""),  # future
            ("X3", "b1", "2024-02-01", "abc", "", ""),  # not a number
            ("X4", "b1", "2024-13-45", "5", "", ""),  # bad date
            ("X5", "", "2024-02-01", "5", "", ""),  # no customer id
        ],
        columns=["invoice_id", "account_id", "date", "amount", "units", "satisfaction"],
    )
    return pd.concat([clean_sales().astype(str).replace("nan", ""), bad], ignore_index=True)


def test_totals_growth_attainment_and_flags(plan: gt.Plan) -> None:
    targets = pd.Series({"A": 400.0, "B": 240.0})  # per quarter 100 and 60
    result = gt.track(
        plan,
        clean_sales(),
        by="quarter",
        targets=targets,
        trend_periods=2,
        rep_column="rep",
        regions={"A": "North", "B": "North"},
        potential="potential",
        today="2026-01-01",
    )
    assert result.periods == tuple(QUARTERS)
    t = result.territories.set_index(["territory", "period"])
    assert t.xs("A", level="territory")["revenue"].tolist() == pytest.approx(A)
    assert t.xs("B", level="territory")["revenue"].tolist() == pytest.approx(B)
    assert t.loc[("A", "2024Q2"), "growth_prev"] == pytest.approx(0.2)
    assert t.loc[("A", "2025Q1"), "growth_yoy"] == pytest.approx(-0.2)
    assert t.loc[("A", "2025Q2"), "growth_yoy"] == pytest.approx(-0.5)
    assert np.isnan(t.loc[("B", "2024Q3"), "growth_prev"])  # after an empty quarter
    assert t.loc[("A", "2025Q2"), "attainment"] == pytest.approx(0.6)
    assert t.loc[("B", "2025Q2"), "attainment"] == pytest.approx(1.5)
    assert t.loc[("A", "2024Q1"), "penetration"] == pytest.approx(100 / 50)  # 200 a year / 4
    assert t.loc[("A", "2024Q3"), "credit_notes"] == 1
    assert t.loc[("A", "2024Q3"), "credit_amount"] == pytest.approx(-10)
    assert t.loc[("A", "2024Q1"), "volume"] == pytest.approx(10)
    assert t.loc[("A", "2024Q1"), "satisfaction"] == pytest.approx(4)
    assert t.loc[("B", "2024Q2"), "empty"] and t.loc[("B", "2024Q2"), "records"] == 0
    assert result.empty_periods.to_dict("records") == [{"territory": "B", "period": "2024Q2"}]
    lag = result.laggards
    assert lag.loc["A", "bottom_quartile"] and not lag.loc["B", "bottom_quartile"]
    assert lag.loc["A", "falling_trend"] and lag.loc["A", "falling_periods"] == 2
    assert not lag.loc["B", "falling_trend"]
    assert list(lag.index[lag["laggard"]]) == ["A"]
    reps = result.reps.set_index(["rep", "period"])
    assert reps.loc[("Ann", "2024Q1"), "revenue"] == pytest.approx(100)
    north = result.regions.set_index("period")
    assert north["revenue"].tolist() == pytest.approx([a + b for a, b in zip(A, B, strict=True)])
    assert north.loc["2025Q2", "attainment"] == pytest.approx(150 / 160)
    assert result.summary().loc["A", "revenue"] == pytest.approx(sum(A))
    assert set(result.issues["problem"]) == {"credit note"}


def test_months_and_years(plan: gt.Plan) -> None:
    months = gt.track(plan, clean_sales(), by="month", today="2026-01-01")
    assert len(months.periods) == 16  # 2024-01 .. 2025-04, the months between are rows
    m = months.territories.set_index(["territory", "period"])
    assert m.loc[("A", "2024-02"), "empty"] and m.loc[("A", "2024-08"), "credit_notes"] == 1
    assert m.loc[("A", "2024-07"), "revenue"] == pytest.approx(100)
    years = gt.track(plan, clean_sales(), by="year", today="2026-01-01")
    y = years.territories.set_index(["territory", "period"])
    assert y.loc[("A", "2024"), "revenue"] == pytest.approx(sum(A[:4]))
    assert y.loc[("A", "2025"), "growth_yoy"] == pytest.approx(sum(A[4:]) / sum(A[:4]) - 1)


def test_every_bad_record_is_reported(plan: gt.Plan) -> None:
    with pytest.warns(gt.GeoterrWarning, match="6 of 24 sales records are left out"):
        result = gt.track(plan, with_problems(), by="quarter", today="2026-01-01")
    issues = result.issues
    found = dict(zip(issues["problem"], issues["customer"].astype(str), strict=False))
    assert {
        "unknown customer",
        "duplicate",
        "future date",
        "amount not a number",
        "bad date",
        "missing customer id",
        "credit note",
    } == set(issues["problem"])
    assert found["unknown customer"] == "zz" and found["amount not a number"] == "b1"
    left_out = issues[issues["action"] == "left out"]
    assert len(left_out) == 6 and left_out["row"].is_unique
    # The good records still add up to the known totals.
    t = result.territories.set_index(["territory", "period"])
    assert t.xs("A", level="territory")["revenue"].tolist() == pytest.approx(A)
    with pytest.raises(
        gt.InputError,
        match=r"6 of 24 sales records cannot be counted: .*"
        r"unknown customer: 1 \(rows 18\)",
    ):
        gt.read_sales(
            with_problems(),
            known_customers=["a1", "a2", "b1", "b2"],
            today="2026-01-01",
            on_invalid="raise",
        )


def test_currencies(plan: gt.Plan) -> None:
    sales = clean_sales().assign(cur=["USD"] * 15 + ["EUR"] * 3)
    with pytest.raises(gt.InputError, match=r"2 currencies in column 'cur' \(USD: 15 records"):
        gt.track(plan, sales, currency="cur", today="2026-01-01")
    with pytest.warns(gt.GeoterrWarning, match="currency not USD: 3"):
        result = gt.track(plan, sales, currency="cur", keep_currency="usd", today="2026-01-01")
    assert (result.issues["problem"] == "currency not USD").sum() == 3


@pytest.mark.slow
def test_sample_history_has_its_laggards() -> None:
    customers = gt.read_customers(DATA / "customers.csv")
    today = gt.plan_from_column(customers, "current_territory", measures=["workload"])
    result = gt.track(today, DATA / "sales.csv", by="quarter", today="2026-06-30")
    assert len(result.periods) == 8 and result.issues["action"].eq("kept").all()
    falling = set(result.laggards.index[result.laggards["falling_trend"]])
    assert falling == {"T06 Gulf & Tennessee", "T12 Pacific Northwest"}
    t = result.territories.groupby("period")["revenue"].sum()
    assert t["2024Q4"] > t["2024Q3"] and t["2025Q4"] > t["2025Q2"]  # the year-end season


def test_targets_split_and_bad_totals(plan: gt.Plan) -> None:
    reps = pd.DataFrame({"name": ["Ann", "Bob"], "territory": ["A", "B"]})
    quota = gt.split_targets(plan, 1000, basis="potential", reps=reps)
    assert quota.territories["target"].to_dict() == pytest.approx({"A": 500.0, "B": 500.0})
    assert quota.reps.loc["Ann", "share"] == pytest.approx(0.5)
    history = gt.read_sales(clean_sales(), today="2026-01-01")
    by_history = gt.split_targets(plan, 1000, basis=history)
    assert by_history.territories.loc["A", "share"] == pytest.approx(sum(A) / (sum(A) + sum(B)))
    for total in (0, -5, float("nan"), "x"):
        with pytest.raises(gt.InputError, match="`total` must be a positive number"):
            gt.split_targets(plan, total, basis="potential")
    negative = pd.Series({"a1": 1.0, "a2": -1.0, "b1": 1.0, "b2": 1.0})
    with pytest.raises(gt.InputError, match=r"negative or not a number for 1 customers \(a2\)"):
        gt.split_targets(plan, 100, basis=negative)
    with pytest.raises(gt.InputError, match="adds up to 0"):
        gt.split_targets(plan, 100, basis=pd.Series(0.0, index=["a1", "a2", "b1", "b2"]))
    attained = gt.track(plan, clean_sales(), targets=quota, today="2026-01-01")
    assert attained.territories["target"].iloc[0] == pytest.approx(125.0)


def test_bad_arguments(plan: gt.Plan, customers: gpd.GeoDataFrame) -> None:
    with pytest.raises(gt.InputError, match="`by` must be one of month, quarter, year"):
        gt.track(plan, clean_sales(), by="week")  # type: ignore[arg-type]
    with pytest.raises(gt.InputError, match="no amount column"):
        gt.track(plan, clean_sales().drop(columns="amount"))
    with pytest.raises(gt.InputError, match="no positive annual target for territories B"):
        gt.track(plan, clean_sales(), targets={"A": 10.0}, today="2026-01-01")
    with pytest.raises(gt.InputError, match="does not exist"):
        gt.read_sales("no/such/file.csv")


def test_a_roster_and_regions_the_plan_carries(plan: gt.Plan) -> None:
    # Plans may carry their reps and regions (the reps module's roster): they are used.
    object.__setattr__(
        plan, "roster", pd.DataFrame({"name": ["Ann", "Bob"], "territory": ["A", "B"]})
    )
    object.__setattr__(
        plan, "regions", pd.DataFrame({"territory": ["A", "B"], "region": ["N", "S"]})
    )
    result = gt.track(plan, clean_sales(), today="2026-01-01")
    assert set(result.reps["rep"]) == {"Ann", "Bob"}
    assert set(result.regions["region"]) == {"N", "S"}
    assert gt.evaluate(plan).territories.loc["A", "rep"] == "Ann"
    object.__setattr__(plan, "roster", pd.DataFrame({"who": ["x"]}))  # unusable: ignored
    assert "rep" not in gt.evaluate(plan).territories.columns
