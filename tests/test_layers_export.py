"""Segment layers, key accounts, the layered plan's files, and the CRM exports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import make_customers, map_frames
from hypothesis import given
from hypothesis import strategies as st
from test_maps import browser  # noqa: F401 - the headless Chromium fixture

import geoterr as gt
from geoterr.cli import main
from geoterr.crm_export import SALESFORCE_COLUMNS, developer_name, valid_developer_name
from geoterr.layers import KEY_ACCOUNTS

SEGMENTS = ["Enterprise", "Mid-Market", "SMB"]


def segmented(n: int = 240, seed: int = 5) -> pd.DataFrame:
    table = make_customers(n, seed=seed)
    rng = np.random.default_rng(seed)
    table["segment"] = rng.choice(SEGMENTS, n, p=[0.2, 0.3, 0.5])
    table["sf_account_id"] = [f"001{i:012d}" for i in range(n)]
    return table


def layer_reps() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    segments = ["Enterprise", "Enterprise", "Mid-Market", "Mid-Market", "SMB", "SMB", "SMB"]
    return pd.DataFrame(
        {
            "rep_id": [f"R{i}" for i in range(7)],
            "name": [f"Rep {i}" for i in range(7)],
            "home_latitude": rng.uniform(37.1, 38.4, 7),
            "home_longitude": rng.uniform(-98.9, -97.1, 7),
            "capacity_fte": 1.0,
            "segments": segments,
            "sf_user_id": [f"005{i:012d}" for i in range(7)],
        }
    )


@pytest.fixture(scope="module")
def customers() -> pd.DataFrame:
    return gt.read_customers(segmented(), measures=["workload"])


@pytest.fixture(scope="module")
def layered(customers: pd.DataFrame) -> gt.LayeredPlan:
    keys = list(customers.index[[0, 5, 9]])
    return gt.design_layers(
        customers,
        segment="segment",
        reps=layer_reps(),
        key_accounts=keys,
        key_account_reps={keys[0]: "R0", keys[1]: "Rep 2", keys[2]: "R0"},
        measures=["workload"],
        balance={"workload": 0.15},
        method="points",
        n_regions=2,
        region_balance={"workload": 0.6},
        time_limit=10,
    )


@pytest.mark.slow
def test_every_customer_in_exactly_one_layer(
    layered: gt.LayeredPlan, customers: pd.DataFrame
) -> None:
    combined = layered.customers
    assert combined.index.is_unique
    assert set(combined.index) == set(customers.index)
    seen = pd.Series(0, index=customers.index)
    for name, plan in layered.layers.items():
        assert plan.customers is not None
        assert (plan.customers["segment"] == name).all()
        seen[plan.customers.index] += 1
    assert layered.key_accounts is not None
    seen[layered.key_accounts.index] += 1
    assert (seen == 1).all()
    # each layer around its own reps
    assert set(layered.layers) == set(SEGMENTS)
    assert len(layered.layers["SMB"].territories) == 3
    assert set(layered.layers["Enterprise"].territories["rep"]) == {"R0", "R1"}


def test_key_accounts_go_to_named_reps(layered: gt.LayeredPlan) -> None:
    keys = layered.key_accounts
    assert keys is not None
    assert list(keys["rep"]) == ["R0", "R2", "R0"]
    assert list(keys["rep_name"]) == ["Rep 0", "Rep 2", "Rep 0"]
    combined = layered.customers
    assert (combined.loc[keys.index, "layer"] == KEY_ACCOUNTS).all()
    roster = layered.roster
    assert roster is not None
    assert set(roster.loc[roster["layer"] == KEY_ACCOUNTS, "rep"]) == {"R0", "R2"}


def test_key_account_summary_adds_up_measures_only(
    layered: gt.LayeredPlan, customers: pd.DataFrame
) -> None:
    summary = layered.summary()
    keys = summary[summary["layer"] == KEY_ACCOUNTS].set_index("rep")
    held = customers.loc[layered.key_accounts.index]  # type: ignore[union-attr]
    assert keys.loc["R0", "workload"] == pytest.approx(held["workload"].iloc[[0, 2]].sum())
    # coordinates are not measures: summed latitudes would be nonsense
    assert keys.reindex(columns=["latitude", "longitude"]).isna().all().all()


@pytest.mark.slow
def test_layered_plan_saves_loads_and_maps(tmp_path: Path, layered: gt.LayeredPlan) -> None:
    folder = layered.save(tmp_path / "lp")
    names = {p.name for p in folder.iterdir()}
    assert {"assignments.csv", "summary.csv", "roster.csv", "key_accounts.csv", "map.html"} <= names
    table = pd.read_csv(folder / "assignments.csv")
    assert table["account_id"].is_unique
    assert {"layer", "territory", "rep", "region"} <= set(table.columns)
    back = gt.load_layers(folder)
    assert set(back.layers) == set(layered.layers)
    assert back.customers.index.sort_values().equals(layered.customers.index.sort_values())
    page = (folder / "map.html").read_text()
    for name in [*SEGMENTS, KEY_ACCOUNTS]:
        assert f"> {name}</label>" in page
    assert page.count("<iframe") == 4
    assert page.count("visibility:hidden") == 3


def test_salesforce_export(tmp_path: Path, layered: gt.LayeredPlan) -> None:
    folder = layered.export(
        tmp_path / "sf",
        format="salesforce",
        account_column="sf_account_id",
        user_column="sf_user_id",
        territory2_model_id="0MA000000000001",
        territory2_type_id="0M5000000000001",
    )
    files = {}
    for obj, columns in SALESFORCE_COLUMNS.items():
        files[obj] = pd.read_csv(folder / f"{obj}.csv", dtype=str, keep_default_na=False)
        assert tuple(files[obj].columns) == columns
    territory2 = files["Territory2"]
    dev = territory2["DeveloperName"]
    assert dev.str.lower().is_unique
    assert all(valid_developer_name(d) for d in dev)
    assert (territory2["Territory2ModelId"] == "0MA000000000001").all()
    parents = set(territory2["ParentTerritory2Id"]) - {""}
    assert parents <= set(dev)
    # parents come before their children (Data Loader order)
    position = {d: i for i, d in enumerate(dev)}
    for d, p in zip(dev, territory2["ParentTerritory2Id"], strict=True):
        if p:
            assert position[p] < position[d]
    objects = files["ObjectTerritory2Association"]
    assert len(objects) == len(layered.customers)
    assert objects["ObjectId"].is_unique  # one association per account (one layer each)
    assert set(objects["Territory2Id"]) <= set(dev)
    assert (objects["AssociationCause"] == "Territory2Manual").all()
    users = files["UserTerritory2Association"]
    assert users["UserId"].str.startswith("005").all()
    assert set(users["Territory2Id"]) <= set(dev)
    # second pass: record ids replace the DeveloperName references
    ids = pd.DataFrame({"Id": [f"0MI{i:012d}" for i in range(len(dev))], "DeveloperName": dev})
    again = layered.export(tmp_path / "sf", format="salesforce", territory_ids=ids, overwrite=True)
    t2 = pd.read_csv(again / "Territory2.csv", dtype=str, keep_default_na=False)
    assert t2.columns[0] == "Id"
    assert set(t2["ParentTerritory2Id"]) - {""} <= set(ids["Id"])
    ob = pd.read_csv(again / "ObjectTerritory2Association.csv", dtype=str)
    assert ob["Territory2Id"].str.startswith("0MI").all()


def test_generic_export(tmp_path: Path, layered: gt.LayeredPlan) -> None:
    folder = gt.export_plan(layered, tmp_path / "crm", format="generic")
    accounts = pd.read_csv(folder / "accounts.csv")
    assert len(accounts) == len(layered.customers)
    assert accounts.groupby("layer")["account_id"].apply(lambda s: s.is_unique).all()
    assert {"account_id", "layer", "territory", "rep", "region"} <= set(accounts.columns)
    geo = accounts[accounts["layer"] != KEY_ACCOUNTS]
    assert geo["region"].notna().all()


def test_export_refuses_foreign_folder_and_bad_format(
    tmp_path: Path, layered: gt.LayeredPlan
) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(gt.InputError, match="non-empty folder that is not a geoterr"):
        gt.export_plan(layered, tmp_path / "mine")
    with pytest.raises(gt.InputError, match="'generic' or 'salesforce'"):
        gt.export_plan(layered, tmp_path / "x", format="hubspot")
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


@given(st.text(max_size=120))
def test_developer_names_always_valid_and_unique(text: str) -> None:
    taken: set[str] = set()
    names = [developer_name(text, taken) for _ in range(3)]
    assert all(valid_developer_name(n) for n in names)
    assert len({n.lower() for n in names}) == 3


def test_developer_name_rules() -> None:
    assert valid_developer_name("A1_b")
    for bad in ("1abc", "_a", "a_", "a__b", "a b", "a-b", "x" * 81, ""):
        assert not valid_developer_name(bad), bad
    assert developer_name("Région Île-de-France") == "R_gion_le_de_France"


class Result:
    def __init__(self, code: int, err: str) -> None:
        self.returncode, self.stderr = code, err


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> Result:
    """Run the command line in this process (faster than a subprocess)."""
    code = main(list(args))
    return Result(code, capsys.readouterr().err)


@pytest.mark.slow
def test_cli_design_reps_segments_regions_and_export(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "customers.csv"
    segmented().to_csv(source, index=False)
    reps = tmp_path / "reps.csv"
    layer_reps().to_csv(reps, index=False)
    out = tmp_path / "plan"
    result = cli(
        capsys,
        "design", str(source), "-k", "7", "--reps", str(reps), "--segments", "segment",
        "--regions", "2", "--balance", "workload:0.15", "--units", "points",
        "--time-limit", "10", "--no-map", "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(out / "assignments.csv")
    assert {"layer", "rep", "region"} <= set(table.columns)
    assert table["rep"].notna().all()
    sf = tmp_path / "sf"
    result = cli(
        capsys,
        "export", str(out), "--format", "salesforce", "--account-column", "sf_account_id",
        "--user-column", "sf_user_id", "--out", str(sf),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert len(pd.read_csv(sf / "ObjectTerritory2Association.csv")) == len(table)


@pytest.mark.slow
def test_cli_design_around_reps_and_assign(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "customers.csv"
    segmented().to_csv(source, index=False)
    reps = tmp_path / "reps.csv"
    layer_reps().drop(columns="segments").to_csv(reps, index=False)
    out = tmp_path / "plan"
    result = cli(
        capsys,
        "design", str(source), "-k", "7", "--reps", str(reps), "--units", "points",
        "--balance", "workload:0.1", "--time-limit", "10", "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(out / "assignments.csv")
    assert set(table["territory"]) == {f"Rep {i}" for i in range(7)}
    assert (table["rep_name"] == table["territory"]).all()
    assert "Rep 3" in (out / "map.html").read_text()
    bare = tmp_path / "bare"
    result = cli(
        capsys,
        "design", str(source), "-k", "8", "--units", "points", "--time-limit", "10",
        "--no-map", "--out", str(bare),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    staffed = tmp_path / "staffed"
    result = cli(
        capsys,
        "assign", str(bare), "--reps", str(reps), "--regions", "2", "--no-map",
        "--out", str(staffed),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    roster = pd.read_csv(staffed / "roster.csv")
    assert (roster["name"] == "open territory").sum() == 1
    assert {
        "rep",
        "territory",
        "region",
        "customers",
        "workload",
        "travel_km",
        "fte",
        "kept",
    } <= set(roster.columns)


def test_layered_map_in_browser(browser: Any, layered: gt.LayeredPlan, tmp_path: Path) -> None:  # noqa: F811
    """Every layer's map runs (regions layer included), offline, without script errors."""
    path = tmp_path / "layers.html"
    layered.map().save(path)
    page = browser.new_page(viewport={"width": 1000, "height": 700})
    errors: list[str] = []
    requests: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    def block(route: Any) -> None:
        requests.append(route.request.url)
        route.abort()

    page.route("http*://**", block)
    page.goto(path.as_uri())
    frames = map_frames(
        page, 4, ready="document.querySelector('.leaflet-control-layers-overlays label')"
    )
    overlays = [
        f.evaluate(
            "[...document.querySelectorAll('.leaflet-control-layers-overlays label')]"
            ".map(l => l.textContent.trim())"
        )
        for f in frames
    ]
    page.check("input[value='3']")
    visible = page.evaluate("[...document.querySelectorAll('iframe')].map(f => f.style.visibility)")
    page.close()
    assert errors == [] and requests == []
    assert len(overlays) == 4
    for names in overlays[:3]:
        assert {"Territories", "Customers", "Rep homes", "Regions"} <= set(names)
    assert "Key accounts: Rep 0" in overlays[3]
    assert visible == ["hidden", "hidden", "hidden", "visible"]
