"""Plan.save / load_plan: the files, the round trip and atomic writes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

import geoterr as gt
from geoterr.io.plans import PLAN_FILES


@pytest.fixture
def plan(units: gt.Units) -> gt.Plan:
    return gt.design(units, 4, balance={"workload": 0.05})


def test_files_and_round_trip(plan: gt.Plan, tmp_path: Path) -> None:
    folder = plan.save(tmp_path / "plan")
    assert sorted(p.name for p in folder.iterdir()) == sorted(PLAN_FILES)
    assignments = pd.read_csv(folder / "assignments.csv")
    assert plan.customers is not None
    assert list(assignments["account_id"]) == list(plan.customers.index)
    assert assignments["territory"].notna().all()
    assert {"name", "latitude", "longitude", "workload", "unit"} <= set(assignments.columns)
    meta = json.loads((folder / "plan.json").read_text())
    assert meta["status"] == "feasible" and meta["params"]["random_state"] == 0
    assert meta["gap"] == pytest.approx(plan.gap)

    back = gt.load_plan(folder)
    pd.testing.assert_frame_equal(back.summary(), plan.summary())
    assert back.assignment.sort_index().equals(plan.assignment.sort_index())
    assert back.customers is not None
    assert list(back.customers.index) == list(plan.customers.index)
    assert back.status == plan.status and back.gap == pytest.approx(plan.gap)
    assert back.territories.geometry.is_valid.all()


def test_failed_save_leaves_nothing(
    plan: gt.Plan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        msg = "disk full"
        raise RuntimeError(msg)

    monkeypatch.setattr("geoterr.maps.plan_map", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        plan.save(tmp_path / "plan")
    assert list(tmp_path.iterdir()) == []


def test_existing_plan_is_replaced_only_when_asked(plan: gt.Plan, tmp_path: Path) -> None:
    folder = plan.save(tmp_path / "plan")
    with pytest.raises(gt.InputError, match="already holds a plan; pass overwrite=True"):
        plan.save(folder, map=False)
    assert (folder / "map.html").exists()  # the earlier plan is untouched
    plan.save(folder, map=False, overwrite=True)
    assert sorted(p.name for p in folder.iterdir()) == sorted(set(PLAN_FILES) - {"map.html"})
    (folder / "old_extra.txt").write_text("not geoterr's")
    with pytest.raises(gt.InputError, match=r"did not write \(old_extra.txt\)"):
        plan.save(folder, map=False, overwrite=True)
    assert (folder / "old_extra.txt").read_text() == "not geoterr's"
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    with pytest.raises(gt.InputError, match="not a geoterr plan"):
        plan.save(other)
    assert (other / "notes.txt").read_text() == "keep me"


def test_load_plan_needs_plan_json(tmp_path: Path) -> None:
    with pytest.raises(gt.InputError, match="no plan.json"):
        gt.load_plan(tmp_path)


def test_round_trip_keeps_other_coordinate_names_and_columns(tmp_path: Path) -> None:
    from conftest import make_customers

    df = make_customers(60).rename(columns={"latitude": "Lat", "longitude": "Lng"})
    df["territory"] = "old"  # the CRM's own territory column
    df["x"] = 1.0  # a numeric column named like geoterr's unit coordinates
    customers = gt.read_customers(df, lat="Lat", lon="Lng")
    units = gt.build_units(customers)
    assert "x" not in units.measures and units.gdf["x"].nunique() > 1
    with pytest.warns(gt.GeoterrWarning, match="territory_input"):
        plan = gt.design(units, 3, balance={"workload": 0.1})
    assert plan.customers is not None
    assert (plan.customers["territory_input"] == "old").all()
    folder = plan.save(tmp_path / "p", map=False)
    back = gt.load_plan(folder)
    assert back.customers is not None
    assert np.allclose(back.customers.geometry.y, df["Lat"])
    assert "latitude" not in pd.read_csv(folder / "assignments.csv").columns


@pytest.mark.slow
def test_geometry_input_gets_degree_columns(tmp_path: Path) -> None:
    from conftest import make_customers

    df = make_customers(40)
    gdf = gpd.GeoDataFrame(
        df.drop(columns=["latitude", "longitude"]),
        geometry=gpd.points_from_xy(df.longitude, df.latitude),
        crs=4326,
    ).rename_geometry("geom")
    units = gt.build_units(gt.read_customers(gdf), measures=["workload"])
    folder = gt.design(units, 3, balance={"workload": 0.1}).save(tmp_path / "p", map=False)
    table = pd.read_csv(folder / "assignments.csv")
    assert np.allclose(table["latitude"], df["latitude"])
    assert np.allclose(gt.load_plan(folder).customers.geometry.x, df["longitude"])


def test_current_folder_is_refused(
    plan: gt.Plan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(gt.InputError, match="current or root folder"):
        plan.save(".")


# --- issue 12: no data loss, leftovers, reproducible files ------------------------------


@pytest.mark.slow
def test_input_file_inside_the_output_folder_is_kept(tmp_path: Path) -> None:
    """`geoterr design plan/customers.csv --out plan` deleted the customers file."""
    from conftest import make_customers
    from conftest import run_cli as run

    folder = tmp_path / "plan"
    folder.mkdir()
    make_customers(30).to_csv(folder / "customers.csv", index=False)
    (folder / "plan.json").write_text(json.dumps({"geoterr_version": "0.1.0"}))
    data = (folder / "customers.csv").read_bytes()
    for extra in ([], ["--overwrite"]):
        result = run(
            "design", "plan/customers.csv", "-k", "3", "--out", "plan", *extra, cwd=tmp_path
        )
        assert result.returncode == 1 and "did not write (customers.csv)" in result.stderr
        assert "designing" not in result.stderr
    assert (folder / "customers.csv").read_bytes() == data
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan"]


def _leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


def test_leftovers_of_killed_saves_are_cleaned(plan: gt.Plan, tmp_path: Path) -> None:
    dead = 2**22 + 12345  # above the usual pid_max: no such process
    work = tmp_path / f".plan.{dead}.abcd_123.tmp"  # a killed save's work folder
    work.mkdir()
    (work / "assignments.csv").write_text("customer data")
    (tmp_path / ".plan.zyxw9876.tmp").mkdir()  # an older geoterr's (no pid), empty
    (tmp_path / f".map.html.{dead}.qwertyui.tmp").write_text("half a page")  # `map --out`
    alive = tmp_path / f".plan.{os.getpid()}.aaaaaaaa.tmp"  # a save in progress: kept
    alive.mkdir()
    mine = tmp_path / f".plan.{dead}.bbbbbbbb.tmp"  # holds a file geoterr does not write
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    plan.save(tmp_path / "plan", map=False)
    assert _leftovers(tmp_path) == sorted([alive.name, mine.name, f".map.html.{dead}.qwertyui.tmp"])
    from geoterr.io.folders import write_file_atomically

    write_file_atomically(tmp_path / "map.html", lambda p: p.write_text("<p>map</p>"))
    assert _leftovers(tmp_path) == sorted([alive.name, mine.name])


def test_plan_left_aside_by_an_interrupted_replace_is_put_back(
    plan: gt.Plan, tmp_path: Path
) -> None:
    folder = plan.save(tmp_path / "plan", map=False)
    first = (folder / "assignments.csv").read_bytes()
    aside = tmp_path / f".plan.{2**22 + 1}.oldoldol.old"
    folder.rename(aside)  # as a kill between the two renames of a replace left it
    with pytest.raises(gt.InputError, match="already holds a plan"):
        plan.save(folder, map=False)  # put back first, then refused like any earlier plan
    assert (folder / "assignments.csv").read_bytes() == first and not aside.exists()


@pytest.mark.slow
@pytest.mark.parametrize("exchange", [True, False])
def test_replace_without_gaps(
    plan: gt.Plan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exchange: bool
) -> None:
    from geoterr.io import folders as plan_folder

    if not exchange:  # systems without renameat2: two renames
        monkeypatch.setattr(plan_folder, "_exchange", lambda a, b: False)
    folder = plan.save(tmp_path / "plan")
    plan.save(folder, map=False, overwrite=True)
    assert not (folder / "map.html").exists() and (folder / "plan.json").exists()
    assert _leftovers(tmp_path) == []


def test_failed_replace_keeps_the_earlier_plan(
    plan: gt.Plan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = plan.save(tmp_path / "plan")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}

    def broken(*args: object, **kwargs: object) -> None:
        msg = "disk full"
        raise RuntimeError(msg)

    monkeypatch.setattr("geoterr.maps.plan_map", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        plan.save(folder, overwrite=True)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert _leftovers(tmp_path) == []


@pytest.mark.slow
def test_same_input_and_seed_give_byte_identical_files(units: gt.Units, tmp_path: Path) -> None:
    folders = []
    for i in range(2):
        plan = gt.design(units, 4, balance={"workload": 0.05}, random_state=3)
        folders.append(plan.save(tmp_path / f"run{i}", before=plan))
    names = sorted(p.name for p in folders[0].iterdir())
    assert names == sorted(p.name for p in folders[1].iterdir())
    assert "timings.json" not in names
    assert "map.html" in names  # the map pages are compared too
    for name in names:
        assert (folders[0] / name).read_bytes() == (folders[1] / name).read_bytes(), name
    meta = json.loads((folders[0] / "plan.json").read_text())
    assert "created" not in meta and "seconds" not in meta


def test_timings_on_request(plan: gt.Plan, tmp_path: Path) -> None:
    folder = plan.save(tmp_path / "plan", map=False, timings=True)
    timing = json.loads((folder / "timings.json").read_text())
    assert timing["seconds"] == pytest.approx(plan.seconds) and "created" in timing
    assert gt.load_plan(folder).seconds == pytest.approx(plan.seconds)
    assert np.isnan(gt.load_plan(plan.save(tmp_path / "p2", map=False)).seconds)


def test_custom_tiles_with_attribution(plan: gt.Plan, tmp_path: Path) -> None:
    url = "https://tiles.example.com/{z}/{x}/{y}.png"
    folder = plan.save(tmp_path / "plan", tiles=url, attr="<b>Example</b> tiles", before=plan)
    for page in ("map.html", "before_after.html"):
        text = (folder / page).read_text()
        # the attribution reaches Leaflet (which shows it as HTML) escaped: shown as text
        assert url in text and "\\u0026lt;b\\u0026gt;Example\\u0026lt;/b\\u0026gt; tiles" in text
        assert "<b>Example</b>" not in text


@pytest.mark.slow
def test_older_plan_folders_still_load(plan: gt.Plan, tmp_path: Path) -> None:
    folder = plan.save(tmp_path / "plan", map=False)
    meta = json.loads((folder / "plan.json").read_text())
    del meta["format_version"]
    meta.update(created="2026-01-01T00:00:00+00:00", seconds=1.5)  # as format 1 wrote them
    (folder / "plan.json").write_text(json.dumps(meta))
    assert gt.load_plan(folder).seconds == 1.5


def test_killed_map_rewrite_inside_the_plan_does_not_block_a_replace(
    plan: gt.Plan, tmp_path: Path
) -> None:
    folder = plan.save(tmp_path / "plan", map=False)
    (folder / f".map.html.{2**22 + 7}.abcdefgh.tmp").write_text("half a page")  # `geoterr map`
    plan.save(folder, map=False, overwrite=True)
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]
