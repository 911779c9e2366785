"""The Dask path: partitioned files to units, the same units as in memory; scenario sweeps."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import make_customers

import geoterr as gt

pytest.importorskip("dask.dataframe", reason="pip install -e '.[dask]'")
distributed = pytest.importorskip("distributed", reason="pip install -e '.[dask]'")

COUNTIES = Path(__file__).parent / "data" / "counties" / "counties_6_states.gpkg"


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return make_customers(3000, clustered=True, seed=4)


def write_parts(df: pd.DataFrame, folder: Path, kind: str, parts: int = 4) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, chunk in enumerate(np.array_split(np.arange(len(df)), parts)):
        piece = df.iloc[chunk]
        if kind == "csv":
            piece.to_csv(folder / f"part{i}.csv", index=False)
        else:
            piece.to_parquet(folder / f"part{i}.parquet", index=False)
    return folder


def assert_same_units(a: gt.Units, b: gt.Units, measures: list[str]) -> None:
    assert a.kind == b.kind
    assert a.crs == b.crs
    assert list(a.gdf.index) == list(b.gdf.index)
    assert (a.gdf["customers"] == b.gdf["customers"]).all()
    for m in measures:
        assert np.allclose(a.gdf[m], b.gdf[m], rtol=1e-12, atol=1e-9)
    assert np.allclose(a.xy, b.xy)
    assert {frozenset(e) for e in a.graph.edges} == {frozenset(e) for e in b.graph.edges}
    assert a.settings.get("resolution") == b.settings.get("resolution")


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["parquet", "csv"])
def test_hex_units_from_files_match_memory(table: pd.DataFrame, tmp_path: Path, kind: str) -> None:
    folder = write_parts(table, tmp_path / kind, kind)
    source = str(folder / ("*.csv" if kind == "csv" else ""))
    measures = ["workload", "annual_revenue"]
    far = gt.units_from_files(source, "hex", measures=measures, n_units=150, id_col="account_id")
    near = gt.build_units(gt.read_customers(table), "hex", measures=measures, n_units=150)
    assert_same_units(far, near, measures)
    assert far.customers is None and far.customer_unit.empty


def test_customer_units_are_written(table: pd.DataFrame, tmp_path: Path) -> None:
    folder = write_parts(table, tmp_path / "in", "parquet")
    out = tmp_path / "trace"
    units = gt.units_from_files(
        folder,
        "hex",
        resolution=5,
        measures=["workload"],
        id_col="account_id",
        customer_units=out,
    )
    trace = pd.read_parquet(out)
    assert len(trace) == len(table)
    assert trace["account_id"].is_unique
    assert set(trace["account_id"]) == set(table["account_id"])
    memory = gt.build_units(gt.read_customers(table), "hex", resolution=5)
    names = trace.set_index("account_id")["unit"]  # the unit ids Units uses (H3 names)
    assert list(trace.columns) == ["account_id", "unit"]
    assert (names.loc[memory.customer_unit.index] == memory.customer_unit).all()
    assert set(names) <= set(units.gdf.index)
    assert units.settings["customer_units"] == str(out)


def test_polygon_units_from_files_match_memory(tmp_path: Path) -> None:
    counties = gpd.read_file(COUNTIES)
    ma = counties[counties["STATE"] == "25"]
    rng = np.random.default_rng(1)
    lon = rng.uniform(-73.3, -70.1, 4000)
    lat = rng.uniform(41.3, 42.8, 4000)
    inside = gpd.points_from_xy(lon, lat, crs=4326).within(ma.to_crs(4326).union_all())
    df = pd.DataFrame(
        {
            "account_id": [f"P{i:04d}" for i in range(int(inside.sum()))],
            "latitude": lat[inside],
            "longitude": lon[inside],
            "workload": rng.integers(1, 9, int(inside.sum())).astype(float),
        }
    )
    folder = write_parts(df, tmp_path / "ma", "parquet", parts=3)
    far = gt.units_from_files(
        folder,
        "polygons",
        polygons=ma,
        polygon_id="GEOID10",
        measures=["workload"],
        islands="separate",
    )
    near = gt.build_units(
        gt.read_customers(df),
        "polygons",
        polygons=ma,
        polygon_id="GEOID10",
        measures=["workload"],
        islands="separate",
    )
    assert_same_units(far, near, ["workload"])
    assert far.gdf["customers"].sum() == len(df)


def test_bad_rows_in_any_partition_are_named(table: pd.DataFrame, tmp_path: Path) -> None:
    bad = table.copy()
    bad.loc[10, "workload"] = -1.0
    bad.loc[2900, "latitude"] = np.nan
    folder = write_parts(bad, tmp_path / "bad", "parquet")
    with pytest.raises(gt.InputError, match=r"1 rows with a missing or impossible.*C2900") as err:
        gt.units_from_files(folder, "hex", resolution=5, measures=["workload"], id_col="account_id")
    assert "C0010" in str(err.value) and "negative" in str(err.value)
    with pytest.raises(gt.InputError, match="no column 'visits'"):
        gt.units_from_files(folder, "hex", resolution=5, measures=["visits"])
    with pytest.raises(gt.InputError, match="`method`"):
        gt.units_from_files(folder, "voronoi")


def test_old_coordinate_keywords_still_work(table: pd.DataFrame, tmp_path: Path) -> None:
    """`latitude/longitude/id_column` are the old spelling of `lat/lon/id_col` (as in
    read_customers and the CLI): still taken, with a DeprecationWarning."""
    df = table.rename(columns={"latitude": "y", "longitude": "x", "account_id": "key"})
    folder = write_parts(df, tmp_path / "old", "parquet")
    new = gt.units_from_files(folder, "hex", resolution=5, measures=["workload"], lat="y", lon="x")
    now = "`latitude`, `longitude`, `id_column` are now `lat`, `lon`, `id_col`"
    with pytest.warns(DeprecationWarning, match=now) as caught:
        old = gt.units_from_files(
            folder,
            "hex",
            resolution=5,
            measures=["workload"],
            latitude="y",
            longitude="x",
            id_column="key",
        )
    ours = [w for w in caught if "units_from_files" in str(w.message)]  # (dask warns too)
    assert len(ours) == 1 and ours[0].filename == __file__
    assert_same_units(old, new, ["workload"])
    with pytest.raises(gt.InputError, match="`latitude` is the old name of `lat`; both"):
        gt.units_from_files(folder, "hex", resolution=5, lat="y", latitude="y")
    with pytest.raises(gt.InputError, match="method='polygons' does not use `resolution`"):
        gt.units_from_files(folder, "polygons", resolution=5, lat="y", lon="x")


@pytest.fixture(scope="module")
def client() -> Iterator[object]:
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


@pytest.mark.slow
def test_sweep_on_a_local_cluster_matches_a_plain_run(table: pd.DataFrame, client: object) -> None:
    customers = gt.read_customers(table)
    scenarios = [
        {"n_territories": k, "resolution": res, "balance": {"workload": tol}, "time_limit": 30}
        for k, res, tol in [(3, 5, 0.05), (4, 4, 0.1), (5000, 5, 0.05)]
    ]
    kw = {"method": "hex", "measures": ["workload"], "islands": "connect", "fill_gaps": 4}
    scenarios = [{**s, **kw} for s in scenarios]
    here = gt.sweep(customers, scenarios)
    there = gt.sweep(customers, scenarios, client=client)
    assert list(there["n_territories"]) == [3, 4, 5000]
    assert list(there["status"]) == list(here["status"])
    assert there["status"].iloc[0] == "feasible"
    assert there["status"].iloc[2] == "infeasible"  # more territories than units
    assert "only" in there["message"].iloc[2] and "units" in there["message"].iloc[2]
    ok = there["status"] == "feasible"
    assert np.allclose(there.loc[ok, "objective"], here.loc[ok, "objective"])
    assert (
        there.loc[ok, "max_deviation"] <= there.loc[ok, "n_territories"].map(lambda _: 0.1) + 1e-9
    ).all()
    assert (there.loc[ok, "contiguous_share"] == 1.0).all()


def test_sweep_checks_scenarios(table: pd.DataFrame) -> None:
    units = gt.build_units(gt.read_customers(table.iloc[:300]), measures=["workload"])
    with pytest.raises(gt.InputError, match="scenario 0 has no 'n_territories'"):
        gt.sweep(units, [{"balance": {"workload": 0.1}}])
    with pytest.raises(gt.InputError, match="scenario 0 sets resolution"):
        gt.sweep(units, [{"n_territories": 3, "resolution": 6}])
    result = gt.sweep(units, [{"n_territories": 3}], keep_plans=True)
    assert isinstance(result["plan"].iloc[0], gt.Plan)


@pytest.mark.slow
def test_split_hexagons_match_memory(table: pd.DataFrame, tmp_path: Path) -> None:
    folder = write_parts(table, tmp_path / "split", "parquet", parts=3)
    caps = {"workload": 300.0, "customers": 40}
    far = gt.units_from_files(
        folder, "hex", resolution=5, measures=["workload"], max_load=caps, id_col="account_id"
    )
    near = gt.build_units(
        gt.read_customers(table), "hex", resolution=5, measures=["workload"], max_load=caps
    )
    assert near.settings["split_cells"] > 0
    assert far.settings["split_cells"] == near.settings["split_cells"]
    assert_same_units(far, near, ["workload"])
    occupied = near.gdf["customers"] > 1
    assert (near.gdf.loc[occupied, "workload"] <= 300).all()
    assert (near.gdf["customers"] <= 40).all()
