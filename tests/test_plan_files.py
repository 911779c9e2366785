"""Plan.save / load_plan: the files, the round trip and atomic writes."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

import geoterr as gt
from geoterr import plan_files


@pytest.fixture
def plan(units: gt.Units) -> gt.Plan:
    return gt.design(units, 4, balance={"workload": 0.05})


def test_files_and_round_trip(plan: gt.Plan, tmp_path: Path) -> None:
    folder = plan.save(tmp_path / "plan")
    assert sorted(p.name for p in folder.iterdir()) == sorted(plan_files.PLAN_FILES)
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
        raise RuntimeError("disk full")

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
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        set(plan_files.PLAN_FILES) - {"map.html"}
    )
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
