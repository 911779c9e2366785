"""Bad reps, segments, key accounts, regions and cost matrices: clear errors, nothing written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import make_customers

import geoterr as gt
from geoterr._errors import GeoterrWarning, InputError
from geoterr.cli import main

SAMPLE_REPS = gt.sample_path("reps.csv")


@pytest.fixture(scope="module")
def plan4() -> gt.Plan:
    customers = gt.read_customers(make_customers(120, seed=4), measures=["workload"])
    units = gt.build_units(customers, method="points", measures=["workload"])
    return gt.design(units, 4, balance={"workload": 0.1}, time_limit=20)


def reps_frame(n: int = 4) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rep_id": [f"R{i}" for i in range(n)],
            "name": [f"Rep {i}" for i in range(n)],
            "home_latitude": np.linspace(37.2, 38.3, n),
            "home_longitude": np.linspace(-98.8, -97.2, n),
            "capacity_fte": [1.0] * n,
        }
    )


def test_missing_home_coordinates_name_the_lines() -> None:
    reps = reps_frame()
    reps.loc[[1, 3], "home_latitude"] = np.nan
    with pytest.raises(InputError, match=r"2 reps have no home coordinates \(lines 3, 5"):
        gt.read_reps(reps)


def test_swapped_coordinates_out_of_range() -> None:
    reps = reps_frame()
    reps.loc[2, ["home_latitude", "home_longitude"]] = [-97.5, 37.6]
    with pytest.raises(InputError, match=r"line.* 4\).*look swapped"):
        gt.read_reps(reps)


def test_swapped_coordinates_in_range_are_caught_against_customers(plan4: gt.Plan) -> None:
    reps = reps_frame()
    # latitude -88, longitude 37.5 are valid degrees, but far from every customer (Kansas);
    # swapped they sit among them
    reps.loc[0, ["home_latitude", "home_longitude"]] = [-88.0, 37.5]
    with pytest.raises(InputError, match=r"swapped.*reps R0\); swap the two columns"):
        gt.assign_reps(plan4, reps)
    with pytest.raises(InputError, match=r"swap the two columns"):
        gt.design_for_reps(plan4.units, reps)
    reps.loc[0, ["home_latitude", "home_longitude"]] = [37.5, -88.0]
    assert gt.assign_reps(plan4, reps).territories["rep"].notna().all()


def test_duplicate_ids_and_bad_fte_reported_together() -> None:
    reps = reps_frame()
    reps.loc[2, "rep_id"] = "R0"
    reps.loc[1, "capacity_fte"] = 0
    reps.loc[3, "capacity_fte"] = -0.5
    with pytest.raises(InputError) as info:
        gt.read_reps(reps)
    text = str(info.value)
    assert "duplicate rep ids ('R0' on lines 2, 4)" in text
    assert "2 reps have a missing, zero or negative FTE" in text
    assert "lines 3, 5" in text


def test_unused_skill_warns(plan4: gt.Plan) -> None:
    reps = reps_frame().assign(skills=["spanish", "", "sapnish", ""])
    t = str(plan4.territories.index[0])
    with pytest.warns(GeoterrWarning, match=r"'sapnish' \(reps R2\)"):
        gt.assign_reps(plan4, reps, requires={t: "spanish"})


def test_cost_matrix_ids_must_match(plan4: gt.Plan) -> None:
    names = [str(t) for t in plan4.territories.index]
    cost = pd.DataFrame(1.0, index=["R0", "R1", "R2", "X9"], columns=[*names[:3], "T99"])
    with pytest.raises(InputError) as info:
        gt.assign_reps(plan4, reps_frame(), costs=cost)
    text = str(info.value)
    assert "no rep ids (rows) for R3" in text
    assert "unknown rep ids (rows) X9" in text
    assert f"no territories (columns) for {names[3]}" in text
    assert "unknown territories (columns) T99" in text


def test_segment_without_reps_and_key_accounts_not_in_file() -> None:
    customers = gt.read_customers(gt.sample_path(), measures=["workload"])
    reps = gt.read_reps(SAMPLE_REPS)
    reps["skills"] = [frozenset(["SMB"])] * 6 + [frozenset(["Mid-Market"])] * 6
    with pytest.raises(InputError, match=r"no rep serves segment\(s\) Enterprise"):
        gt.design_layers(customers, segment="segment", reps=reps, measures=["workload"])
    with pytest.raises(
        InputError, match=r"2 accounts that are not in the customer file \(XX1, XX2"
    ):
        gt.design_layers(
            customers,
            segment="segment",
            n_territories=6,
            key_accounts=["AC00001", "XX1", "XX2"],
            key_account_reps={"AC00001": "R01"},
        )
    with pytest.raises(InputError, match=r"1 key accounts have no rep \(AC00002\)"):
        gt.design_layers(
            customers,
            segment="segment",
            n_territories=6,
            key_accounts=["AC00001", "AC00002"],
            key_account_reps={"AC00001": "R01"},
        )


def test_more_regions_than_territories(plan4: gt.Plan) -> None:
    with pytest.raises(InputError, match=r"`n_regions` is 5 but the plan has only 4 territories"):
        gt.design_regions(plan4, 5)


def test_cli_bad_reps_file_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reps = pd.read_csv(SAMPLE_REPS)
    reps.loc[3, "rep_id"] = "R01"
    reps.loc[5, "capacity_fte"] = 0
    bad = tmp_path / "reps.csv"
    reps.to_csv(bad, index=False)
    out = tmp_path / "plan"
    code = main([
        "design", str(gt.sample_path()), "-k", "12", "--reps", str(bad), "--out", str(out),
    ])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1
    assert "Traceback" not in err
    assert "duplicate rep ids" in err and "FTE" in err
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [bad]


def test_cli_export_bad_account_column_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    customers = gt.read_customers(make_customers(80, seed=1), measures=["workload"])
    plan = gt.design(gt.build_units(customers, method="points"), 3, time_limit=10)
    folder = plan.save(tmp_path / "plan", map=False)
    out = tmp_path / "sf"
    code = main([
        "export", str(folder), "--format", "salesforce", "--account-column", "sf_id",
        "--out", str(out),
    ])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1
    assert "`account_column` 'sf_id' is not a customers column" in err
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan"]


def test_roster_with_bad_homes_in_both_columns_says_both_at_once() -> None:
    from geoterr.rosters import rep_homes

    roster = pd.DataFrame(
        {
            "name": ["Ann", "Bo", "Cy"],
            "territory": ["T1", "T2", "T3"],
            "home_latitude": ["40.1", "north", "41.0"],
            "home_longitude": ["-90.2", "-91.0", "west"],
        }
    )
    with pytest.raises(InputError) as info:
        rep_homes(roster)
    text = str(info.value)
    assert "'home_latitude' has values that are not numbers in rows 1" in text
    assert "'home_longitude' has values that are not numbers in rows 2" in text
    good = roster.assign(home_latitude=["40.1", "40.5", "41.0"], home_longitude="-90")
    homes = rep_homes(good)
    assert homes.loc["T2", "rep"] == "Bo" and homes.loc["T2", "latitude"] == pytest.approx(40.5)
