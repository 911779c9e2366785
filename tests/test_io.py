"""read_customers: formats, column detection and every bad-input case."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import make_customers

import geoterr as gt


def write(df: pd.DataFrame, path: Path) -> Path:
    df.to_csv(path, index=False)
    return path


def test_sample_reads_with_ids_and_crs() -> None:
    customers = gt.read_customers(gt.sample_path(), measures=["workload"])
    raw = pd.read_csv(gt.sample_path())
    assert len(customers) == len(raw) == 4500
    assert customers.index.name == "account_id"
    assert list(customers.index) == list(raw["account_id"])
    assert customers.crs.to_epsg() == 4326
    assert np.allclose(customers.geometry.y, raw["latitude"])
    # every input column kept
    assert set(raw.columns) - {"account_id"} <= set(customers.columns)


@pytest.mark.parametrize("fmt", ["csv", "geojson", "gpkg", "parquet", "frame", "geoframe"])
def test_formats_agree(tmp_path: Path, fmt: str) -> None:
    df = make_customers(30)
    gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df.longitude, df.latitude), crs=4326)
    source: object
    if fmt == "csv":
        source = write(df, tmp_path / "c.csv")
    elif fmt == "geojson":
        source = tmp_path / "c.geojson"
        gdf.drop(columns=["latitude", "longitude"]).to_file(source, driver="GeoJSON")
    elif fmt == "gpkg":
        source = tmp_path / "c.gpkg"
        gdf.drop(columns=["latitude", "longitude"]).to_file(source, layer="customers")
    elif fmt == "parquet":
        source = tmp_path / "c.parquet"
        gdf.to_parquet(source)
    elif fmt == "frame":
        source = df
    else:
        source = gdf.to_crs(3857)  # a projected GeoDataFrame comes back in degrees
    out = gt.read_customers(source, measures=["workload"])
    assert list(out.index) == list(df["account_id"])
    assert np.allclose(out.geometry.x, df["longitude"], atol=1e-6)
    assert np.allclose(out.geometry.y, df["latitude"], atol=1e-6)
    assert out["workload"].tolist() == df["workload"].tolist()


def test_crm_export_column_names(tmp_path: Path) -> None:
    df = make_customers(20).rename(
        columns={
            "account_id": "AccountNumber",
            "latitude": "BillingLatitude",
            "longitude": "BillingLongitude",
        }
    )
    out = gt.read_customers(write(df, tmp_path / "crm.csv"))
    assert out.index.name == "AccountNumber"
    assert out.attrs["geoterr"] == {
        "id": "AccountNumber",
        "lat": "BillingLatitude",
        "lon": "BillingLongitude",
        "degrees": True,
    }


def test_explicit_columns_and_projected_crs() -> None:
    df = make_customers(10)
    pts = gpd.GeoSeries(gpd.points_from_xy(df.longitude, df.latitude), crs=4326).to_crs(3857)
    table = pd.DataFrame({"cid": df.account_id, "east": pts.x, "north": pts.y})
    out = gt.read_customers(table, id_col="cid", lat="north", lon="east", crs="EPSG:3857")
    assert np.allclose(out.geometry.y, df.latitude, atol=1e-6)


def test_postal_codes_stay_text(tmp_path: Path) -> None:
    df = make_customers(5).assign(zip=["02134", "10001", "02139", "60601", "94105"])
    out = gt.read_customers(write(df, tmp_path / "c.csv"))
    assert out["zip"].tolist()[0] == "02134"


def one_paragraph(message: str) -> None:
    assert "\n" not in message
    assert "Traceback" not in message


def test_swapped_coordinates(tmp_path: Path) -> None:
    df = make_customers(20).rename(columns={"latitude": "longitude", "longitude": "latitude"})
    with pytest.raises(gt.InputError, match="look swapped") as err:
        gt.read_customers(write(df, tmp_path / "c.csv"))
    one_paragraph(str(err.value))
    assert "C0000" in str(err.value)


def test_missing_and_non_numeric_coordinates(tmp_path: Path) -> None:
    df = make_customers(20).astype({"latitude": object})
    df.loc[3, "latitude"] = None
    df.loc[7, "latitude"] = "n/a"
    df.loc[9, "longitude"] = np.nan
    with pytest.raises(gt.InputError) as err:
        gt.read_customers(write(df, tmp_path / "c.csv"))
    msg = str(err.value)
    one_paragraph(msg)
    assert "missing latitude" in msg and "C0003" in msg
    assert "not a number" in msg and "C0007" in msg and "'n/a'" in msg
    assert "missing longitude" in msg and "C0009" in msg
    assert "on_invalid='drop'" in msg


def test_out_of_range_and_null_island() -> None:
    df = make_customers(10)
    df.loc[2, "latitude"] = 95.0
    df.loc[4, ["latitude", "longitude"]] = 0.0
    with pytest.raises(gt.InputError) as err:
        gt.read_customers(df)
    msg = str(err.value)
    assert "latitude outside [-90, 90]" in msg and "C0002" in msg
    assert "(0, 0)" in msg and "C0004" in msg


def test_projected_values_without_crs() -> None:
    df = make_customers(10)
    df["latitude"] *= 100_000
    df["longitude"] *= 100_000
    with pytest.raises(gt.InputError, match="look projected.*crs="):
        gt.read_customers(df)


def test_duplicate_and_missing_ids(tmp_path: Path) -> None:
    df = make_customers(10)
    df.loc[5, "account_id"] = "C0001"
    df.loc[6, "account_id"] = ""
    with pytest.raises(gt.InputError) as err:
        gt.read_customers(write(df, tmp_path / "c.csv"))
    msg = str(err.value)
    one_paragraph(msg)
    assert "C0001" in msg and "more than one row" in msg
    assert "without an id" in msg and "line 8" in msg  # line 8 of the file (header is line 1)
    # on_invalid="drop" drops rows without an id and every row of a shared id, and says so
    with pytest.warns(gt.GeoterrWarning, match="dropped 3 of 10 rows") as caught:
        out = gt.read_customers(write(df, tmp_path / "c.csv"), on_invalid="drop")
    assert "C0001" not in out.index and out.index.is_unique and len(out) == 7
    assert "(no id)" in str(caught[0].message)


def test_negative_and_missing_measures() -> None:
    df = make_customers(10)
    df.loc[1, "workload"] = -3
    df.loc[2, "workload"] = np.nan
    with pytest.raises(gt.InputError) as err:
        gt.read_customers(df, measures=["workload"])
    msg = str(err.value)
    assert "negative workload" in msg and "C0001" in msg
    assert "missing workload" in msg and "C0002" in msg
    with pytest.raises(gt.InputError, match="no column 'visits'"):
        gt.read_customers(df, measures=["visits"])


def test_drop_invalid_warns_with_ids() -> None:
    df = make_customers(10)
    df.loc[1, "workload"] = -3
    df.loc[4, "latitude"] = np.nan
    with pytest.warns(gt.GeoterrWarning, match=r"dropped 2 of 10 rows.*C0001, C0004"):
        out = gt.read_customers(df, measures=["workload"], on_invalid="drop")
    assert len(out) == 8
    assert "C0001" not in out.index and "C0004" not in out.index


def test_empty_inputs(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(gt.InputError, match="is empty"):
        gt.read_customers(tmp_path / "empty.csv")
    (tmp_path / "header.csv").write_text("account_id,latitude,longitude\n")
    with pytest.raises(gt.InputError, match="no rows"):
        gt.read_customers(tmp_path / "header.csv")
    with pytest.raises(gt.InputError, match="does not exist"):
        gt.read_customers(tmp_path / "nope.csv")
    with pytest.raises(gt.InputError, match="no latitude and longitude column"):
        gt.read_customers(pd.DataFrame({"account_id": ["a"], "city": ["x"]}))


def test_without_ids_numbers_rows_with_a_warning() -> None:
    df = make_customers(5).drop(columns=["account_id"])
    with pytest.warns(gt.GeoterrWarning, match="no customer id column"):
        out = gt.read_customers(df)
    assert list(out.index) == [1, 2, 3, 4, 5]


def test_input_not_mutated() -> None:
    df = make_customers(10)
    before = df.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gt.read_customers(df)
    pd.testing.assert_frame_equal(df, before)


def test_error_names_argument() -> None:
    with pytest.raises(gt.InputError, match=re.escape("`on_invalid`")):
        gt.read_customers(make_customers(3), on_invalid="skip")  # type: ignore[arg-type]


def test_decimal_commas_and_thousands(tmp_path: Path) -> None:
    path = tmp_path / "eu.csv"
    path.write_text("id;lat;lon;workload\nA;45,637;7,7;3,5\nB;45,1;7,25;1,0\n")
    out = gt.read_customers(path, measures=["workload"])
    assert out.geometry.x.tolist() == pytest.approx([7.7, 7.25])
    assert out["workload"].tolist() == [3.5, 1.0]
    path = tmp_path / "us.csv"
    path.write_text('id,lat,lon,revenue\nA,45.6,7.7,"1,234,500.5"\nB,45.1,7.2,"12,000"\n')
    out = gt.read_customers(path, measures=["revenue"])
    assert out["revenue"].tolist() == [1234500.5, 12000.0]


def test_bom_blank_rows_and_spaces_in_headers(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(
        "\ufeffAccount ID,Latitude ,Longitude\nA1,40.1,-100.2\nA2,40.2,-100.1\n,,\n,,\n".encode()
    )
    with pytest.warns(gt.GeoterrWarning, match="ignored 2 empty rows"):
        out = gt.read_customers(path, id_col="Account ID")
    assert list(out.index) == ["A1", "A2"]


def test_long_and_exponent_ids_stay_text(tmp_path: Path) -> None:
    path = tmp_path / "ids.csv"
    path.write_text(
        "id,lat,lon\n98765432109876543210,40,-100\n98765432109876543211,40.1,-100\n1E1,40.2,-100\n"
    )
    out = gt.read_customers(path)
    assert list(out.index) == ["98765432109876543210", "98765432109876543211", "1E1"]


def test_table_wide_problems_are_not_dropped() -> None:
    with pytest.raises(gt.InputError, match="no column 'wrkload'.*column names"):
        gt.read_customers(make_customers(5), measures=["wrkload"], on_invalid="drop")
