"""The promise corpus (issue 11): every path a user is shown gives a plan that keeps every
promise (each unit in one territory, contiguous, inside every tolerance), or the specific
reason with its numbers and what would work.

Small versions of the cases run here; the full cases (on the whole sample, the published
DTDP graphs) are in ``benchmarks/promises.py``. Hexagon units are covered by their own tests.
"""

from __future__ import annotations

import dataclasses
import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import make_customers, run_main

import geoterr as gt
from geoterr.cli import balance_default, status_line
from geoterr.testing import assert_valid_plan

SAMPLE = gt.sample_path()
WORKLOAD = {"workload": 0.05}


def quiet(function, *args, **kwargs):  # type: ignore[no-untyped-def]
    """Call ``function`` with geoterr's warnings silenced (they are checked elsewhere)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gt.GeoterrWarning)
        return function(*args, **kwargs)


@pytest.fixture(scope="module")
def sample_customers() -> pd.DataFrame:
    return gt.read_customers(SAMPLE, measures=["workload", "annual_revenue"])


@pytest.fixture(scope="module")
def sample_units(sample_customers: pd.DataFrame) -> gt.Units:
    return gt.build_units(sample_customers, measures=["workload", "annual_revenue"])


def striped_customers(n: int = 600, seed: int = 4) -> pd.DataFrame:
    """Customers in four current territories, west to east stripes holding 16, 24, 30 and
    30 % of them: a realignment must move about a tenth of the workload."""
    df = make_customers(n, seed=seed)
    share = df["longitude"].rank(pct=True)
    df["current_territory"] = np.select(
        [share <= 0.16, share <= 0.40, share <= 0.70], ["A", "B", "C"], "D"
    )
    return df


@pytest.fixture(scope="module")
def striped_units() -> gt.Units:
    customers = gt.read_customers(striped_customers(), measures=["workload"])
    return gt.build_units(customers, measures=["workload"])


def works_budget(text: str) -> int:
    found = re.search(r"max_moved=(\d+) works", text)
    assert found, text
    return int(found.group(1))


# --- case 2: realignment budgets -------------------------------------------------------------


@pytest.mark.slow
def test_budget_too_small_for_any_plan_gives_the_numbers(striped_units: gt.Units) -> None:
    with pytest.raises(gt.InfeasibleError, match=r"within max_moved \(5 customers\)") as info:
        gt.design(striped_units, 4, balance=WORKLOAD, current="current_territory", max_moved=5)
    text = str(info.value)
    assert "no plan can move less than" in text
    least = int(re.search(r"no plan can move less than (\d+) customers", text).group(1))  # type: ignore[union-attr]
    assert least > 5
    # the budget said to work does work
    budget = works_budget(text)
    plan = quiet(
        gt.design,
        striped_units,
        4,
        balance=WORKLOAD,
        current="current_territory",
        max_moved=budget,
        time_limit=10,
    )
    assert plan.status == "feasible", plan.problems
    assert_valid_plan(plan, striped_units, balance=WORKLOAD)
    assert least <= plan.params["moved_customers"] <= budget


@pytest.fixture(scope="module")
def broken_plan(striped_units: gt.Units) -> gt.Plan:
    """A realignment whose budget (30 customers) is too small for the tolerance.

    The search uses its whole time limit before it returns the broken plan, and says both.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", gt.GeoterrWarning)
        plan = gt.design(
            striped_units,
            4,
            balance=WORKLOAD,
            current="current_territory",
            max_moved=30,
            time_limit=6,
        )
    said = [str(w.message) for w in caught]
    assert any("what would work" in text for text in said), said
    assert any("design stopped by the time limit (6 s)" in text for text in said), said
    assert plan.params["time_limit_reached"]
    return plan


@pytest.mark.slow
def test_budget_between_bound_and_plan_says_what_works(
    striped_units: gt.Units, broken_plan: gt.Plan
) -> None:
    plan = broken_plan
    assert plan.status == "violated"
    assert_valid_plan(plan, striped_units, balance=WORKLOAD)
    assert plan.params["moved_customers"] <= 30
    advice = plan.problems[-1]
    assert advice.startswith("what would work: within max_moved (30 customers)")
    assert works_budget(advice) > 30
    # every territory's row in the files says the plan breaks a promise
    assert plan.summary()["status"].str.startswith("violated").all()


@pytest.mark.slow
def test_sample_budget_300_reports_a_budget_that_works(sample_units: gt.Units) -> None:
    plan = quiet(
        gt.design, sample_units, 12, balance=WORKLOAD, current="current_territory", max_moved=300
    )
    if plan.status == "feasible":
        assert_valid_plan(plan, sample_units, balance=WORKLOAD)
        return
    budget = works_budget(plan.problems[-1])
    again = quiet(
        gt.design,
        sample_units,
        12,
        balance=WORKLOAD,
        current="current_territory",
        max_moved=budget,
    )
    assert again.status == "feasible", again.problems
    assert_valid_plan(again, sample_units, balance=WORKLOAD)
    # One customer short of that budget, the plan sends its least useful move home: within
    # the budget, it misses the tolerance by at most one unit's workload.
    short = quiet(
        gt.design,
        sample_units,
        12,
        balance=WORKLOAD,
        current="current_territory",
        max_moved=budget - 1,
    )
    assert_valid_plan(short, sample_units, balance=WORKLOAD)
    assert short.params["moved_customers"] <= budget - 1
    mean = sample_units.gdf["workload"].sum() / 12
    slack = 0.05 + sample_units.gdf["workload"].max() / mean
    assert np.abs(short.territories["workload"] / mean - 1).max() <= slack + 1e-9


# --- case 3: kept territories and their enclaves ---------------------------------------------


@pytest.mark.slow
def test_enclave_of_a_kept_territory_is_diagnosed_before_solving(sample_units: gt.Units) -> None:
    kept = ["T10 Plains & Rockies"]
    with pytest.raises(gt.InfeasibleError, match="enclosed by the kept territory") as info:
        gt.design(
            sample_units,
            12,
            balance=WORKLOAD,
            current="current_territory",
            max_moved=600,
            keep_territories=kept,
        )
    text = str(info.value)
    assert "AC00360" in text and "T09 Upper Midwest" in text
    assert "too light for a territory of its own" in text and "enclaves='join'" in text
    with pytest.raises(gt.InputError, match="`enclaves`"):
        gt.design(
            sample_units,
            12,
            balance=WORKLOAD,
            current="current_territory",
            keep_territories=kept,
            enclaves="absorb",  # type: ignore[arg-type]
        )


@pytest.mark.slow
def test_readme_realignment_example_is_feasible(sample_units: gt.Units) -> None:
    # the README's example, with the option that lets the enclave join the kept territory
    plan = quiet(
        gt.design,
        sample_units,
        12,
        balance=WORKLOAD,
        current="current_territory",
        max_moved=600,
        keep_territories=["T10 Plains & Rockies"],
        enclaves="join",
    )
    assert plan.status == "feasible", plan.problems
    assert_valid_plan(plan, sample_units, balance=WORKLOAD)
    assert plan.params["moved_customers"] <= 600 and len(plan.moved) <= 600
    customers = plan.customers
    assert customers is not None
    was = customers["current_territory"] == "T10 Plains & Rockies"
    assert (customers.loc[was, "territory"] == "T10 Plains & Rockies").all()


# --- case 4: islands on point and Voronoi units ----------------------------------------------


def with_islands() -> pd.DataFrame:
    """The sample plus 60 customers on Hawaii and 40 on Puerto Rico."""
    rng = np.random.default_rng(11)
    base = pd.read_csv(SAMPLE)

    def place(n: int, lat: float, lon: float, spread: float, tag: str) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "account_id": [f"{tag}{i:03d}" for i in range(n)],
                "latitude": lat + rng.normal(0, spread, n),
                "longitude": lon + rng.normal(0, spread, n),
                "workload": rng.integers(1, 30, n).astype(float),
            }
        )

    islands = [place(60, 20.8, -156.9, 0.4, "HI"), place(40, 18.2, -66.4, 0.15, "PR")]
    return pd.concat([base, *islands], ignore_index=True)


@pytest.fixture(scope="module")
def island_customers() -> pd.DataFrame:
    return gt.read_customers(with_islands(), measures=["workload"])


@pytest.mark.slow
@pytest.mark.parametrize("method", ["voronoi", "points"])
def test_islands_follow_the_policy_on_every_unit_kind(
    island_customers: pd.DataFrame, method: str
) -> None:
    with pytest.raises(gt.InputError, match="3 separate parts") as info:
        gt.build_units(island_customers, method, measures=["workload"], islands="raise")
    assert "HI000" in str(info.value) and "PR000" in str(info.value)
    with pytest.warns(gt.GeoterrWarning, match="3 separate parts; linked each"):
        units = gt.build_units(island_customers, method, measures=["workload"])
    assert len(units.added_links) == 2 and len(units.parts) == 1
    linked = {str(u)[:2] for link in units.added_links for u in link[:2]}
    assert {"HI", "PR"} <= linked
    apart = gt.build_units(island_customers, method, measures=["workload"], islands="separate")
    assert sorted(len(p) for p in apart.parts)[:2] == [40, 60]


@pytest.mark.slow
def test_islands_linked_give_a_feasible_plan(island_customers: pd.DataFrame) -> None:
    units = quiet(gt.build_units, island_customers, measures=["workload"])
    plan = gt.design(units, 12, balance=WORKLOAD)
    assert plan.status == "feasible", plan.problems
    assert_valid_plan(plan, units, balance=WORKLOAD)


@pytest.mark.slow
def test_islands_kept_apart_say_why_they_cannot_balance(island_customers: pd.DataFrame) -> None:
    units = gt.build_units(island_customers, measures=["workload"], islands="separate")
    plan = quiet(gt.design, units, 12, balance=WORKLOAD)
    assert plan.status == "violated"
    text = " ".join(plan.problems)
    assert "separate part of 60 units" in text and "islands='connect'" in text


# --- case 5: the CLI's default measure and what it prints ------------------------------------


def test_cli_default_measure() -> None:
    assert balance_default(pd.DataFrame({"workload": [1.0, 0.0]})) == WORKLOAD
    assert balance_default(pd.DataFrame({"workload": [1.0, -2.0]})) == {"customers": 0.05}
    assert balance_default(pd.DataFrame({"workload": ["a", "b"]})) == {"customers": 0.05}
    assert balance_default(pd.DataFrame({"visits": [3]})) == {"customers": 0.05}


@pytest.mark.slow
def test_cli_says_what_it_balances_and_shows_no_gap_for_a_broken_plan(tmp_path: Path) -> None:
    striped_customers().to_csv(tmp_path / "c.csv", index=False)
    ok = run_main(
        "design", "c.csv", "-k", "4", "--current", "current_territory", "--out", "p",
        cwd=tmp_path,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert "balancing workload within +-5.0% (the default" in ok.stderr
    assert "status: feasible (balanced: workload within +-5.0%)" in ok.stdout
    summary = pd.read_csv(tmp_path / "p" / "summary.csv")
    assert (summary["status"] == "ok").all()
    broken = run_main(
        "design", "c.csv", "-k", "4", "--current", "current_territory", "--max-moved", "30",
        "--time-limit", "8", "--no-map", "--out", "q", cwd=tmp_path,
    )  # fmt: skip
    assert broken.returncode == 3, broken.stderr
    assert "status: VIOLATED" in broken.stdout and "gap to the LP bound" not in broken.stdout
    assert "max_moved=" in broken.stderr  # the warning says what would work
    summary = pd.read_csv(tmp_path / "q" / "summary.csv")
    assert summary["status"].str.startswith("violated").all()
    meta = json.loads((tmp_path / "q" / "plan.json").read_text())
    assert meta["status"] == "violated" and meta["problems"]


def test_status_line_never_shows_a_gap_for_a_violated_plan(broken_plan: gt.Plan) -> None:
    plan = dataclasses.replace(broken_plan, lower_bound=broken_plan.objective)  # a 0 % gap
    assert plan.status == "violated" and plan.gap == 0
    line = status_line(plan, "out")
    assert line.startswith("status: VIOLATED") and "0.00%" not in line
    assert "gap to the LP bound" not in line and "balanced: workload within +-5.0%" in line


# --- case 6: three activities on a planar graph of 500 units ---------------------------------


def three_activity_units(n: int = 500, seed: int = 0) -> gt.Units:
    """Random planar (Delaunay) units with three activities in the ranges of the delivery
    territory design instances: workload 15-100, customers 4-20, demand 15-400."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 100_000, size=(n, 2))
    df = pd.DataFrame(
        {
            "id": [f"U{i:03d}" for i in range(n)],
            "x": xy[:, 0],
            "y": xy[:, 1],
            "workload": rng.integers(15, 101, n).astype(float),
            "n_customers": rng.integers(4, 21, n).astype(float),
            "demand": rng.integers(15, 401, n).astype(float),
        }
    )
    measures = ["workload", "n_customers", "demand"]
    customers = gt.read_customers(
        df, id_col="id", lat="y", lon="x", crs="EPSG:3857", measures=measures
    )
    return gt.build_units(customers, "points", measures=measures, crs="EPSG:3857", prune=None)


@pytest.mark.slow
def test_three_activities_on_500_units_are_balanced() -> None:
    units = three_activity_units()
    balance = {"workload": 0.05, "n_customers": 0.05, "demand": 0.05}
    plan = gt.design(units, 10, balance=balance, time_limit=60)
    assert plan.status == "feasible", plan.problems
    assert_valid_plan(plan, units, balance=balance)


# --- the README's examples -------------------------------------------------------------------


@pytest.mark.slow
def test_readme_python_quickstart(sample_units: gt.Units, tmp_path: Path) -> None:
    balance = {"workload": 0.05, "annual_revenue": 0.15}
    plan = gt.design(sample_units, 12, balance=balance)
    assert plan.status == "feasible", plan.problems
    assert_valid_plan(plan, sample_units, balance=balance)
    assert (plan.summary()["status"] == "ok").all()
    assert plan.gap is not None and plan.gap >= 0
    folder = plan.save(tmp_path / "my_plan", map=False)
    back = gt.load_plan(folder)
    assert back.status == "feasible" and back.summary().equals(plan.summary())


@pytest.mark.slow
def test_readme_redesign_from_the_current_plan(sample_units: gt.Units) -> None:
    plan = quiet(gt.design, sample_units, 12, balance=WORKLOAD, current="current_territory")
    assert plan.status == "feasible", plan.problems
    assert_valid_plan(plan, sample_units, balance=WORKLOAD)
    assert len(plan.moved) == plan.params["moved_customers"]


@pytest.mark.slow
def test_readme_cli_design(tmp_path: Path) -> None:
    result = run_main(
        "design", str(SAMPLE), "--territories", "12", "--balance", "workload:0.05",
        "--no-map", "--out", "plan", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "status: feasible (balanced: workload within +-5.0%)" in result.stdout
    summary = pd.read_csv(tmp_path / "plan" / "summary.csv")
    assert (summary["status"] == "ok").all() and summary["contiguous"].all()
    assert summary["workload_deviation"].abs().max() <= 0.05 + 1e-9


@pytest.mark.slow
def test_readme_cli_crm_export(tmp_path: Path) -> None:
    crm = pd.read_csv(SAMPLE).rename(
        columns={
            "account_id": "AccountNumber",
            "latitude": "BillingLatitude",
            "longitude": "BillingLongitude",
            "workload": "Workload",
            "annual_revenue": "AnnualRevenue",
        }
    )
    crm.to_csv(tmp_path / "crm_export.csv", index=False)
    result = run_main(
        "design", "crm_export.csv", "-k", "8", "--balance", "Workload:3%,AnnualRevenue:10%",
        "--id-col", "AccountNumber", "--lat", "BillingLatitude", "--lon", "BillingLongitude",
        "--no-map", "--out", "plan", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = pd.read_csv(tmp_path / "plan" / "summary.csv")
    assert (summary["status"] == "ok").all()
    assert summary["Workload_deviation"].abs().max() <= 0.03 + 1e-9
    assert summary["AnnualRevenue_deviation"].abs().max() <= 0.10 + 1e-9


@pytest.mark.slow
def test_readme_cli_realignment(tmp_path: Path) -> None:
    reps = Path(SAMPLE).with_name("reps.csv")
    result = run_main(
        "design", str(SAMPLE), "-k", "12", "--current", "current_territory", "--max-moved",
        "600", "--reps", str(reps), "--figure", "plan.png", "--out", "plan", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "plan.png").exists()
    assert "balanced: workload within +-5.0%" in result.stdout
    table = pd.read_csv(tmp_path / "plan" / "assignments.csv")
    assert (table["current_territory"] != table["territory"]).sum() <= 600
