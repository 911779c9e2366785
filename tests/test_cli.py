"""The geoterr command, end to end: in this process through ``geoterr.cli.main`` (the same
exit codes and messages), and in a subprocess as a user runs it for the entry point itself
(``--help``, usage errors) and the demo."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import make_customers, run_cli
from conftest import run_main as run

import geoterr as gt


def test_demo_writes_a_complete_plan(demo_dir: Path) -> None:
    for name in ("assignments.csv", "territories.geojson", "summary.csv", "map.html", "plan.json"):
        assert (demo_dir / name).stat().st_size > 0
    sample = pd.read_csv(gt.sample_path())
    assignments = pd.read_csv(demo_dir / "assignments.csv")
    assert len(assignments) == len(sample)
    assert sorted(assignments["account_id"]) == sorted(sample["account_id"])
    assert assignments["account_id"].is_unique
    assert assignments["territory"].notna().all()
    summary = pd.read_csv(demo_dir / "summary.csv")
    assert len(summary) == 12
    assert summary["workload_deviation"].abs().max() <= 0.05 + 1e-9
    assert summary["contiguous"].all()
    assert json.loads((demo_dir / "plan.json").read_text())["status"] == "feasible"


@pytest.mark.slow
def test_design_on_crm_export(tmp_path: Path) -> None:
    df = make_customers(400, seed=11, clustered=True).rename(
        columns={
            "account_id": "AccountNumber",
            "name": "Account Name",
            "latitude": "BillingLatitude",
            "longitude": "BillingLongitude",
            "workload": "Workload_Hours",
            "annual_revenue": "AnnualRevenue",
        }
    )
    df.to_csv(tmp_path / "crm_export.csv", index=False)
    out = tmp_path / "plan"
    result = run(
        "design",
        "crm_export.csv",
        "--territories",
        "6",
        "--balance",
        "Workload_Hours:0.03,AnnualRevenue:15%",
        "--out",
        str(out),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    summary = pd.read_csv(out / "summary.csv")
    assert summary["Workload_Hours_deviation"].abs().max() <= 0.03 + 1e-9
    assert summary["AnnualRevenue_deviation"].abs().max() <= 0.15 + 1e-9
    assignments = pd.read_csv(out / "assignments.csv")
    assert list(assignments["AccountNumber"]) == list(df["AccountNumber"])


def _bad_file(tmp_path: Path, kind: str) -> Path:
    df = make_customers(50)
    if kind == "swapped":
        df = df.rename(columns={"latitude": "longitude", "longitude": "latitude"})
    elif kind == "missing":
        df.loc[[4, 9], "latitude"] = None
    elif kind == "duplicates":
        df.loc[7, "account_id"] = "C0002"
    path = tmp_path / f"{kind}.csv"
    df.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        ("swapped", ["look swapped", "C0000"]),
        ("missing", ["missing latitude", "C0004", "C0009"]),
        ("duplicates", ["more than one row", "C0002"]),
    ],
)
def test_bad_files_fail_cleanly(tmp_path: Path, kind: str, words: list[str]) -> None:
    path = _bad_file(tmp_path, kind)
    out = tmp_path / "plan"
    result = run("design", str(path), "-k", "3", "--out", str(out), cwd=tmp_path)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("geoterr: error")]
    assert len(errors) == 1
    for word in words:
        assert word in result.stderr
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_infeasible_request_is_one_paragraph(tmp_path: Path) -> None:
    df = make_customers(20)
    df.loc[0, "workload"] = 1000.0
    df.to_csv(tmp_path / "c.csv", index=False)
    result = run(
        "design", "c.csv", "-k", "4", "--balance", "workload:0.05", "--out", "p", cwd=tmp_path
    )
    assert result.returncode == 1
    assert "No balanced plan exists" in result.stderr and "C0000" in result.stderr
    assert not (tmp_path / "p").exists()


@pytest.mark.slow
def test_help_and_usage_errors(tmp_path: Path) -> None:
    result = run_cli("design", "--help", cwd=tmp_path)
    assert result.returncode == 0 and "--balance" in result.stdout and "examples" in result.stdout
    result = run_cli("design", "x.csv", cwd=tmp_path)  # no --territories, no --out
    assert result.returncode == 2 and "required" in result.stderr


def test_bad_options_fail_before_any_work(tmp_path: Path) -> None:
    make_customers(30).to_csv(tmp_path / "c.csv", index=False)
    result = run("design", "c.csv", "-k", "3", "--out", ".", cwd=tmp_path)
    assert result.returncode == 1 and "current or root folder" in result.stderr
    assert "designing" not in result.stderr
    result = run("design", "c.csv", "-k", "3", "--balance", "workload", "--out", "p", cwd=tmp_path)
    assert result.returncode == 1 and "measure:tolerance" in result.stderr


@pytest.mark.slow
def test_maps_on_the_command_line(tmp_path: Path) -> None:
    df = make_customers(120, seed=5)
    df["current_territory"] = pd.cut(df["longitude"], 3, labels=["West", "Middle", "East"])
    df.to_csv(tmp_path / "c.csv", index=False)
    # three reps: `design --reps` designs one territory around each (and draws their homes)
    pd.read_csv(gt.sample_path("reps.csv")).head(3).to_csv(tmp_path / "reps.csv", index=False)
    reps = "reps.csv"
    result = run("design", "c.csv", "-k", "3", "--out", "old", "-q", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    # A redesign drawn against the earlier plan folder, with reps and a figure.
    result = run(
        "design",
        "c.csv",
        "-k",
        "3",
        "--balance",
        "workload:0.02",
        "--seed",
        "1",
        "--before",
        "old",
        "--reps",
        reps,
        "--figure",
        "new.svg",
        "--out",
        "new",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "new" / "map.html").read_text()
    assert "Moved customers" in page and "Avery Collins" in page
    assert (tmp_path / "new" / "before_after.html").stat().st_size > 100_000
    assert (tmp_path / "new.svg").read_text().lstrip().startswith("<?xml")
    # A realignment: the names are kept and the map shows who moved.
    result = run(
        "design",
        "c.csv",
        "-k",
        "3",
        "--current",
        "current_territory",
        "--max-moved",
        "15",
        "--figure",
        "realigned.png",
        "--out",
        "realigned",
        "-q",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assignments = pd.read_csv(tmp_path / "realigned" / "assignments.csv")
    assert set(assignments["territory"]) == {"West", "Middle", "East"}
    assert "Moved customers" in (tmp_path / "realigned" / "map.html").read_text()
    assert (tmp_path / "realigned.png").read_bytes()[:4] == b"\x89PNG"
    # Maps of saved plans, side by side, with tiles.
    result = run(
        "map",
        "new",
        "--before",
        "old",
        "--side-by-side",
        "compare.html",
        "--out",
        "m.html",
        "--tiles",
        "OpenStreetMap",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "tile.openstreetmap.org" in (tmp_path / "m.html").read_text()
    assert (tmp_path / "compare.html").read_text().count("geoterrPlanLayers(map_") == 2
    result = run("map", "new", "--side-by-side", "x.html", cwd=tmp_path)
    assert result.returncode == 1 and "needs --before" in result.stderr
    assert not (tmp_path / "x.html").exists()


def test_bad_before_fails_before_the_design(tmp_path: Path) -> None:
    make_customers(30).to_csv(tmp_path / "c.csv", index=False)
    result = run("design", "c.csv", "-k", "3", "--before", "nope", "--out", "p", cwd=tmp_path)
    assert result.returncode == 1 and "not a customers column nor a plan folder" in result.stderr
    assert "designing" not in result.stderr and not (tmp_path / "p").exists()


@pytest.mark.slow
def test_hexagon_and_polygon_units_on_the_command_line(tmp_path: Path) -> None:
    result = run(
        "design",
        str(gt.sample_path()),
        "-k",
        "6",
        "--units",
        "hex",
        "--n-units",
        "300",
        "--max-load",
        "workload:400",
        "--balance",
        "workload:0.1",
        "--no-map",
        "--out",
        "hexplan",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assignments = pd.read_csv(tmp_path / "hexplan" / "assignments.csv")
    assert len(assignments) == len(pd.read_csv(gt.sample_path()))
    assert assignments["unit"].str.fullmatch(r"[0-9a-f]{15}").all()  # H3 cell names
    summary = pd.read_csv(tmp_path / "hexplan" / "summary.csv")
    assert summary["workload_deviation"].abs().max() <= 0.1 + 1e-9
    missing = run(
        "design",
        str(gt.sample_path()),
        "-k",
        "6",
        "--units",
        "polygons",
        "--out",
        "p",
        cwd=tmp_path,
    )
    assert missing.returncode != 0
    assert "--polygons" in missing.stderr and "Traceback" not in missing.stderr
    bad = run(
        "design",
        str(gt.sample_path()),
        "-k",
        "6",
        "--units",
        "hex",
        "--max-load",
        "workload",
        "--out",
        "p",
        cwd=tmp_path,
    )
    assert bad.returncode != 0
    assert "--max-load 'workload'" in bad.stderr and "Traceback" not in bad.stderr
