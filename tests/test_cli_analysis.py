"""The analysis commands end to end: evaluate, compare, size, track, report, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import make_customers
from conftest import run_main as run


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """customers.csv (current and new territories, 5 known moves) and sales.csv."""
    folder = tmp_path_factory.mktemp("analysis")
    table = make_customers(150, seed=5)
    table["current"] = np.where(table["longitude"] < -98, "West", "East")
    table["new"] = table["current"]
    moved = table.index[table["current"] == "West"][:5]
    table.loc[moved, "new"] = "East"
    table["moved"] = table.index.isin(moved)
    table.to_csv(folder / "customers.csv", index=False)
    rng = np.random.default_rng(1)
    sales = pd.DataFrame(
        {
            "invoice_id": [f"I{i}" for i in range(400)],
            "account_id": rng.choice(table["account_id"], 400),
            "date": (
                pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 720, 400), "D")
            ).strftime("%Y-%m-%d"),
            "amount": rng.uniform(10, 900, 400).round(2).astype(str),
            "currency": "USD",
        }
    )
    sales.loc[3, "amount"] = "n/a"
    sales.loc[7, "account_id"] = "NOBODY"
    sales.to_csv(folder / "sales.csv", index=False)
    sales.assign(currency=["USD"] * 390 + ["EUR"] * 10).to_csv(folder / "mixed.csv", index=False)
    return folder


def ok(result: object) -> None:
    assert result.returncode == 0, result.stderr  # type: ignore[attr-defined]
    assert "Traceback" not in result.stderr  # type: ignore[attr-defined]


def test_evaluate_a_column(files: Path) -> None:
    result = run("evaluate", "customers.csv:current", "--out", "ev", cwd=files)
    ok(result)
    table = pd.read_csv(files / "ev" / "territories.csv", index_col="territory")
    assert table["customers"].sum() == 150 and set(table.index) == {"East", "West"}
    balance = pd.read_csv(files / "ev" / "balance.csv", index_col="measure")
    assert {"max_deviation", "cv", "max_min_ratio", "gini"} <= set(balance.columns)
    assert "evaluating 2 territories" in result.stderr  # progress


def test_compare_writes_the_moves(files: Path) -> None:
    ok(run("compare", "customers.csv:current", "customers.csv:new", "--out", "cmp", cwd=files))
    moved = pd.read_csv(files / "cmp" / "moved.csv")
    expected = pd.read_csv(files / "customers.csv").query("moved")
    assert sorted(moved["account_id"]) == sorted(expected["account_id"])
    assert set(moved["from"]) == {"West"} and set(moved["to"]) == {"East"}
    territories = pd.read_csv(files / "cmp" / "territories.csv").set_index("territory")
    assert territories.loc["East", "customers_delta"] == 5


@pytest.mark.slow
def test_track_and_report(files: Path) -> None:
    result = run(
        "track",
        "customers.csv:current",
        "--sales",
        "sales.csv",
        "--by",
        "quarter",
        "--target-total",
        "100000",
        "--basis",
        "annual_revenue",
        "--out",
        "tr",
        cwd=files,
    )
    ok(result)
    assert "2 of 400 sales records are left out" in result.stderr
    issues = pd.read_csv(files / "tr" / "sales_issues.csv")
    assert set(issues["problem"]) == {"amount not a number", "unknown customer"}
    by = pd.read_csv(files / "tr" / "by_territory.csv")
    assert len(by) == 2 * 8 and by["target"].sum() == pytest.approx(2 * 100000)
    assert (files / "tr" / "laggards.csv").exists() and (files / "tr" / "targets.csv").exists()
    result = run(
        "report",
        "customers.csv:new",
        "--before",
        "customers.csv:current",
        "--sales",
        "sales.csv",
        "--title",
        "<b>Q4</b>",
        "--out",
        "rep",
        "-q",
        cwd=files,
    )
    ok(result)
    html = (files / "rep" / "report.html").read_text(encoding="utf-8")
    assert "&lt;b&gt;Q4&lt;/b&gt;" in html and "<b>Q4</b>" not in html
    sheets = pd.read_excel(files / "rep" / "report.xlsx", sheet_name=None)
    assert len(sheets["moved"]) == 5


@pytest.mark.slow
def test_size(files: Path) -> None:
    result = run(
        "size",
        "customers.csv",
        "--workload-per-rep",
        "800",
        "--range",
        "2:3",
        "--balance",
        "workload:0.1",
        "--time-limit",
        "5",
        "--out",
        "sz",
        cwd=files,
    )
    ok(result)
    table = pd.read_csv(files / "sz" / "sizing.csv", index_col="k")
    assert list(table.index) == [2, 3]
    assert (files / "sz" / "sizing.png").stat().st_size > 1000
    assert "sizing: k=2" in result.stderr


def test_bad_input_stops_cleanly(files: Path) -> None:
    result = run("evaluate", "nosuch.csv:current", "--out", "bad1", cwd=files)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "neither a plan folder" in result.stderr
    result = run(
        "track",
        "customers.csv:current",
        "--sales",
        "mixed.csv",
        "--currency-column",
        "currency",
        "--out",
        "bad2",
        cwd=files,
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "2 currencies in column 'currency'" in result.stderr
    assert "keep_currency" in result.stderr
    assert not (files / "bad2").exists() or not any((files / "bad2").iterdir())
    result = run(
        "track",
        "customers.csv:current",
        "--sales",
        "sales.csv",
        "--strict",
        "--out",
        "bad3",
        cwd=files,
    )
    assert result.returncode == 1 and "cannot be counted" in result.stderr
