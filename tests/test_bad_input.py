"""The bad-input corpus: what a careless or hostile user feeds geoterr, and what they see.

Every case asserts the specific exception (or the CLI's exit code), that the message names
the argument, the rows and the fix, and, for the CLI, that nothing was written. The table in
``docs/bad_input.md`` lists the same cases.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import grid_customers, make_customers

import geoterr as gt
from geoterr.cli import main

GOOD = "id,name,lat,lon,workload\n" + "".join(
    f"A{i},Zürich {i},{47 + 0.01 * (i % 5):.2f},{8 + 0.01 * (i // 5):.2f},{i % 7 + 1}\n"
    for i in range(20)
)


def write(path: Path, text: str | bytes, encoding: str = "utf-8") -> Path:
    path.write_bytes(text if isinstance(text, bytes) else text.encode(encoding))
    return path


def refused(
    call: Callable[[], Any], error: type[Exception] = gt.InputError, *fragments: str
) -> str:
    """Run ``call``; assert it raises ``error`` whose message holds every fragment."""
    with pytest.raises(error) as info:
        call()
    msg = str(info.value)
    assert "\n" not in msg.strip(), msg  # one paragraph
    for fragment in fragments:
        assert re.search(fragment, msg), (fragment, msg)
    return msg


def quiet(call: Callable[[], Any]) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gt.GeoterrWarning)
        return call()


# ---------------------------------------------------------------- customer files


def test_empty_file(tmp_path: Path) -> None:
    f = write(tmp_path / "c.csv", "")
    refused(lambda: gt.read_customers(f), gt.InputError, "empty", "header and at least one row")


def test_header_only(tmp_path: Path) -> None:
    f = write(tmp_path / "c.csv", "id,lat,lon\n")
    refused(lambda: gt.read_customers(f), gt.InputError, "no rows", "at least one customer")


def test_blank_lines_only_after_header(tmp_path: Path) -> None:
    f = write(tmp_path / "c.csv", "id,lat,lon\n\n\n")
    with pytest.warns(gt.GeoterrWarning, match="empty rows"):
        refused(lambda: gt.read_customers(f), gt.InputError, "no rows")


def test_byte_order_mark_is_read(tmp_path: Path) -> None:
    f = write(tmp_path / "c.csv", GOOD, "utf-8-sig")
    out = gt.read_customers(f)
    assert out.index.name == "id" and out["name"].iloc[0] == "Zürich 0"


def test_semicolons_and_decimal_commas(tmp_path: Path) -> None:
    text = "id;lat;lon\nA;47,1;8,2\nB;47,2;8,3\n"
    out = gt.read_customers(write(tmp_path / "c.csv", text))
    assert out.geometry.y.round(1).tolist() == [47.1, 47.2]


def test_tab_separated(tmp_path: Path) -> None:
    out = gt.read_customers(write(tmp_path / "c.tsv", GOOD.replace(",", "\t")))
    assert len(out) == 20


def test_ragged_rows(tmp_path: Path) -> None:
    f = write(tmp_path / "c.csv", "id,lat,lon\nA,47,8\nB,47,8,9,10\n")
    refused(lambda: gt.read_customers(f), gt.InputError, "could not be read", "as many fields")


def test_text_in_latitude(tmp_path: Path) -> None:
    f = write(tmp_path / "c.csv", GOOD.replace("A3,Zürich 3,47.03", "A3,Zürich 3,north"))
    refused(lambda: gt.read_customers(f), gt.InputError, "not a number", "'north'", "A3", "drop")


def test_nan_and_inf_in_numbers(tmp_path: Path) -> None:
    text = GOOD.replace("A4,Zürich 4,47.04,8.00,5", "A4,Zürich 4,47.04,nan,5")
    text = text.replace("A6,Zürich 6,47.01,8.01,7", "A6,Zürich 6,47.01,8.01,inf")
    f = write(tmp_path / "c.csv", text)
    msg = refused(lambda: gt.read_customers(f, measures=["workload"]), gt.InputError, "A4", "A6")
    assert "longitude" in msg and "workload" in msg  # both problems at once


def test_latitude_out_of_range(tmp_path: Path) -> None:
    df = make_customers(20)
    df.loc[3, "latitude"] = 123.0
    refused(lambda: gt.read_customers(df), gt.InputError, r"outside \[-90, 90\]", "C0003")


def test_swapped_coordinates() -> None:
    df = make_customers(20).rename(columns={"latitude": "longitude", "longitude": "latitude"})
    refused(lambda: gt.read_customers(df), gt.InputError, "swapped", "lat=")


def test_null_island() -> None:
    df = make_customers(20)
    df.loc[5, ["latitude", "longitude"]] = 0.0
    refused(lambda: gt.read_customers(df), gt.InputError, r"\(0, 0\)", "C0005")


def test_projected_without_crs() -> None:
    df = make_customers(20)
    df["latitude"] *= 111_000
    df["longitude"] *= 111_000
    refused(lambda: gt.read_customers(df), gt.InputError, "projected", "crs=")


def test_unknown_crs() -> None:
    refused(
        lambda: gt.read_customers(make_customers(5), crs="EPSG:999999"),
        gt.InputError,
        "`crs`",
        "not a CRS",
    )


def test_degrees_labelled_web_mercator(tmp_path: Path) -> None:
    features = [
        {
            "type": "Feature",
            "properties": {"id": f"a{i}"},
            "geometry": {"type": "Point", "coordinates": [8 + 0.1 * i, 47 + 0.1 * i]},
        }
        for i in range(5)
    ]
    doc = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3857"}},
        "features": features,
    }
    f = write(tmp_path / "c.geojson", json.dumps(doc))
    refused(lambda: gt.read_customers(f), gt.InputError, "look like degrees", "EPSG:4326")
    # the override the message offers works
    with pytest.warns(gt.GeoterrWarning, match="instead"):
        out = gt.read_customers(f, crs="EPSG:4326")
    assert out.geometry.x.round(1).tolist() == [8.0, 8.1, 8.2, 8.3, 8.4]


def test_no_coordinate_columns() -> None:
    df = make_customers(5).drop(columns=["latitude"])
    refused(lambda: gt.read_customers(df), gt.InputError, "no latitude", "lat=")


def test_duplicate_ids_do_not_hide_other_problems(tmp_path: Path) -> None:
    df = make_customers(10)
    df.loc[5, "account_id"] = "C0001"
    df.loc[7, "latitude"] = 95.0
    df.loc[8, "workload"] = -1
    f = tmp_path / "c.csv"
    df.to_csv(f, index=False)
    msg = refused(
        lambda: gt.read_customers(f, measures=["workload"]), gt.InputError, "more than one row"
    )
    assert "latitude" in msg and "negative workload" in msg and "line 3" in msg


def test_drop_invalid_drops_duplicates_too(tmp_path: Path) -> None:
    df = make_customers(10)
    df.loc[5, "account_id"] = "C0001"
    df.loc[7, "latitude"] = 95.0
    f = tmp_path / "c.csv"
    df.to_csv(f, index=False)
    with pytest.warns(gt.GeoterrWarning, match="dropped 3 of 10 rows"):
        out = gt.read_customers(f, on_invalid="drop")
    assert out.index.is_unique and "C0001" not in out.index and "C0007" not in out.index


def test_ids_keep_their_spaces(tmp_path: Path) -> None:
    f = write(tmp_path / "c.csv", "id,lat,lon\n lead,47,8\nother ,47.1,8\nx,47,8.1\n")
    assert list(gt.read_customers(f).index) == [" lead", "other ", "x"]


def test_ids_differing_only_by_spaces(tmp_path: Path) -> None:
    f = write(tmp_path / "c.csv", "id,lat,lon\n lead,47,8\nlead,47.1,8\nx,47,8.1\n")
    refused(lambda: gt.read_customers(f), gt.InputError, "only by spaces", "' lead'")


def test_duplicate_header_refused(tmp_path: Path) -> None:
    f = write(tmp_path / "c.csv", "id,latitude,longitude,latitude\nA,47,8,46\n")
    refused(lambda: gt.read_customers(f), gt.InputError, "'latitude' in columns 2, 4", "Rename")


def test_layer_refused_for_csv(tmp_path: Path) -> None:
    f = write(tmp_path / "c.csv", GOOD)
    refused(lambda: gt.read_customers(f, layer="x"), gt.InputError, "`layer`", "one table")


def test_cp1252_detected_and_said(tmp_path: Path) -> None:
    f = write(tmp_path / "c.csv", GOOD.replace("Zürich", "Zürich – Ost"), "cp1252")
    with pytest.warns(gt.GeoterrWarning, match="cp1252"):
        out = gt.read_customers(f)
    assert out["name"].iloc[0] == "Zürich – Ost 0"
    assert out.attrs["geoterr"]["encoding"] == "cp1252"


def test_latin1_given(tmp_path: Path) -> None:
    f = write(tmp_path / "c.csv", GOOD, "latin-1")
    out = gt.read_customers(f, encoding="latin-1")
    assert out["name"].iloc[1] == "Zürich 1"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le"])
def test_utf16(tmp_path: Path, encoding: str) -> None:
    f = write(tmp_path / "c.txt", GOOD.replace(",", "\t"), encoding)
    with pytest.warns(gt.GeoterrWarning, match="utf-16"):
        out = gt.read_customers(f)
    assert out["name"].iloc[2] == "Zürich 2"


def test_unknown_encoding(tmp_path: Path) -> None:
    f = write(tmp_path / "c.csv", GOOD)
    refused(lambda: gt.read_customers(f, encoding="klingon"), gt.InputError, "`encoding`")


def test_wrong_encoding_given(tmp_path: Path) -> None:
    f = write(tmp_path / "c.csv", GOOD, "cp1252")
    refused(
        lambda: gt.read_customers(f, encoding="utf-8"), gt.InputError, "not valid utf-8", "leave"
    )


def test_xlsx_and_xlsx_named_csv(tmp_path: Path) -> None:
    frame = pd.read_csv(write(tmp_path / "src.csv", GOOD))
    frame.to_excel(tmp_path / "c.xlsx", index=False, sheet_name="accounts")
    out = gt.read_customers(tmp_path / "c.xlsx")
    assert len(out) == 20 and out["workload"].dtype.kind in "if"
    (tmp_path / "renamed.csv").write_bytes((tmp_path / "c.xlsx").read_bytes())
    with pytest.warns(gt.GeoterrWarning, match="is an Excel workbook"):
        again = gt.read_customers(tmp_path / "renamed.csv")
    assert again.index.equals(out.index)
    refused(
        lambda: gt.read_customers(tmp_path / "c.xlsx", layer="nope"),
        gt.InputError,
        "not a sheet",
        "'accounts'",
    )


def test_text_named_xlsx(tmp_path: Path) -> None:
    f = write(tmp_path / "c.xlsx", GOOD)
    refused(lambda: gt.read_customers(f), gt.InputError, "not an Excel", "save it again")


def test_old_xls(tmp_path: Path) -> None:
    f = write(tmp_path / "c.xls", b"\xd0\xcf\x11\xe0" + b"\x00" * 100)
    refused(lambda: gt.read_customers(f), gt.InputError, ".xls", "Save As")


def test_unknown_type_and_missing_file(tmp_path: Path) -> None:
    f = write(tmp_path / "c.docx", "x")
    refused(lambda: gt.read_customers(f), gt.InputError, "unknown type")
    refused(lambda: gt.read_customers(tmp_path / "nope.csv"), gt.InputError, "does not exist")


def test_binary_garbage(tmp_path: Path) -> None:
    f = write(tmp_path / "c.csv", bytes(range(256)) * 4)
    refused(lambda: gt.read_customers(f), gt.InputError, "customers")


def test_wrong_argument_types() -> None:
    refused(lambda: gt.read_customers(42), gt.InputError, "file path, a DataFrame")  # type: ignore[arg-type]
    refused(
        lambda: gt.read_customers(make_customers(5), measures=5),  # type: ignore[arg-type]
        gt.InputError,
        "`measures`",
    )
    refused(
        lambda: gt.read_customers(make_customers(5), lat=3),  # type: ignore[arg-type]
        gt.InputError,
        "`lat`",
    )


def test_unknown_measure_column() -> None:
    refused(
        lambda: gt.read_customers(make_customers(5), measures=["visits"]),
        gt.InputError,
        "no column 'visits'",
    )


# ---------------------------------------------------------------- units


def test_units_from_frame_without_crs() -> None:
    customers = gt.read_customers(make_customers(20))
    bare = gpd.GeoDataFrame(
        pd.DataFrame(customers.drop(columns="geometry")), geometry=list(customers.geometry)
    )
    assert bare.crs is None
    refused(lambda: gt.build_units(bare), gt.InputError, "no CRS", "crs=|set_crs")


def test_units_from_plain_frame() -> None:
    refused(lambda: gt.build_units(make_customers(5)), gt.InputError, "read_customers")  # type: ignore[arg-type]


def test_units_warn_on_negative_column_left_out() -> None:
    df = make_customers(20)
    df.loc[4, "workload"] = -2
    customers = gt.read_customers(df)
    with pytest.warns(gt.GeoterrWarning, match="'workload'.*negative.*C0004"):
        units = gt.build_units(customers, method="points")
    assert "workload" not in units.measures


def test_units_unknown_crs_and_geographic_crs() -> None:
    customers = gt.read_customers(make_customers(20))
    refused(lambda: gt.build_units(customers, crs="nonsense"), gt.InputError, "`crs`")
    refused(lambda: gt.build_units(customers, crs=4326), gt.InputError, "projected")


def test_units_measure_with_gaps() -> None:
    df = make_customers(20)
    df.loc[2, "workload"] = np.nan
    customers = gt.read_customers(df)
    refused(
        lambda: gt.build_units(customers, measures=["workload"]), gt.InputError, "missing workload"
    )


# ---------------------------------------------------------------- design options


@pytest.fixture(scope="module")
def grid_units() -> gt.Units:
    return gt.build_units(gt.read_customers(grid_customers()), "points", measures=["workload"])


def test_zero_territories(grid_units: gt.Units) -> None:
    refused(lambda: gt.design(grid_units, 0), gt.InputError, "`n_territories`")


def test_more_territories_than_units(grid_units: gt.Units) -> None:
    refused(lambda: gt.design(grid_units, 21), gt.InfeasibleError, "only 20 units", "fewer")


def test_one_territory(grid_units: gt.Units) -> None:
    plan = gt.design(grid_units, 1, balance={"workload": 0.0}, time_limit=10)
    assert plan.status == "feasible" and plan.assignment.nunique() == 1


def test_one_customer() -> None:
    one = gt.read_customers(make_customers(1))
    units = gt.build_units(one, "points", measures=["workload"])
    assert gt.design(units, 1, time_limit=10).status == "feasible"
    refused(lambda: gt.design(units, 2), gt.InfeasibleError, "only 1 units")


def test_one_location() -> None:
    df = make_customers(10)
    df["latitude"], df["longitude"] = 38.0, -98.0
    units = gt.build_units(gt.read_customers(df), "points", measures=["workload"])
    assert len(units) == 1
    refused(lambda: gt.design(units, 3), gt.InfeasibleError, "only 1 units")


@pytest.mark.parametrize("tol", [1.5, -0.1, float("nan")])
def test_tolerance_out_of_range(grid_units: gt.Units, tol: float) -> None:
    refused(lambda: gt.design(grid_units, 2, balance={"workload": tol}), gt.InputError, r"\[0, 1\)")


def test_tolerance_as_text(grid_units: gt.Units) -> None:
    refused(
        lambda: gt.design(grid_units, 2, balance={"workload": "5%"}),  # type: ignore[dict-item]
        gt.InputError,
        "must be a number",
        "write 0.05",
    )
    refused(
        lambda: gt.design(grid_units, 2, balance={"workload": ("1", "5")}),  # type: ignore[dict-item]
        gt.InputError,
        "two numbers",
    )
    refused(lambda: gt.design(grid_units, 2, balance=0.05), gt.InputError, "must map")  # type: ignore[arg-type]


def test_balance_named_twice(grid_units: gt.Units) -> None:
    refused(
        lambda: gt.design(grid_units, 2, balance="workload:0.05,workload:0.2"),
        gt.InputError,
        "twice",
    )


def test_unknown_balance_measure(grid_units: gt.Units) -> None:
    refused(
        lambda: gt.design(grid_units, 2, balance={"revenue": 0.1}),
        gt.InputError,
        "not a unit measure",
        "measures=",
    )


def test_heavy_unit() -> None:
    df = grid_customers()
    df.loc[0, "workload"] = 30.0
    units = gt.build_units(gt.read_customers(df), "points", measures=["workload"])
    refused(
        lambda: gt.design(units, 4, balance={"workload": 0.05}),
        gt.InfeasibleError,
        "G00",
        "What could work",
    )


def test_wrong_option_types(grid_units: gt.Units) -> None:
    refused(lambda: gt.design(grid_units, 2, time_limit="10"), gt.InputError, "time_limit=10")  # type: ignore[arg-type]
    refused(lambda: gt.design(grid_units, 2, time_limit=0), gt.InputError, "`time_limit`")
    refused(lambda: gt.design(grid_units, 2, max_iter=0), gt.InputError, "`max_iter`")
    refused(lambda: gt.design(grid_units, 2, random_state="x"), gt.InputError, "`random_state`")  # type: ignore[arg-type]
    refused(lambda: gt.design(grid_units, 2.5), gt.InputError, "`n_territories`")  # type: ignore[arg-type]
    refused(lambda: gt.design(grid_units.gdf, 2), gt.InputError, "build_units")  # type: ignore[arg-type]


def test_tiny_time_limit(grid_units: gt.Units) -> None:
    """A time limit too short for anything: a plan with a warning, or a SolverError; fast."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            plan = gt.design(grid_units, 3, time_limit=1e-3)
        assert plan.params["time_limit_reached"]
        assert any("time limit" in str(w.message) for w in caught)
    except gt.SolverError as exc:
        assert "time limit" in str(exc) and "time_limit=" in str(exc)


@pytest.mark.parametrize(
    ("centers", "fragment"),
    [
        ([[40.0, -100.0], [40.1, -99.7]], r"\(latitude, longitude\)"),  # swapped
        ([[-100.0, 40.0], [-99.7, 95.0]], r"outside longitude"),
        ([[-100.0, 40.0], [np.nan, 40.1]], "missing or infinite"),
        ([[-100.0, 40.0], [np.inf, 40.1]], "missing or infinite"),
    ],
)
def test_bad_centers(grid_units: gt.Units, centers: list[list[float]], fragment: str) -> None:
    refused(
        lambda: gt.design(grid_units, 2, centers=np.array(centers), time_limit=10),
        gt.InputError,
        "`centers`",
        fragment,
    )


def test_center_on_the_far_side(grid_units: gt.Units) -> None:
    params = {p.name: p.value for p in grid_units.crs.coordinate_operation.params}
    lon0, lat0 = params["Longitude of natural origin"], params["Latitude of natural origin"]
    antipode = [lon0 + 180 if lon0 < 0 else lon0 - 180, -lat0]
    refused(
        lambda: gt.design(grid_units, 2, centers=np.array([[-100.0, 40.0], antipode])),
        gt.InputError,
        "far side of the globe",
    )
    with pytest.warns(gt.GeoterrWarning, match="far from every unit"):
        gt.design(grid_units, 2, centers=np.array([[-100.0, 40.0], [10.0, 50.0]]), time_limit=10)


def test_bad_costs(grid_units: gt.Units) -> None:
    n = len(grid_units)
    costs = np.ones((n, n))
    costs[3, 4] = np.nan
    refused(lambda: gt.design(grid_units, 2, costs=costs), gt.InputError, "`costs`", "G03")
    refused(lambda: gt.design(grid_units, 2, costs=np.ones((3, 3))), gt.InputError, "shape")
    refused(
        lambda: gt.design(grid_units, 2, costs=np.full((n, n), 1e200)),
        gt.InputError,
        "too large",
        "larger unit",
    )
    refused(
        lambda: gt.design(grid_units, 2, costs=np.full((n, n), "x")),
        gt.InputError,
        "must hold numbers",
    )


def test_measures_too_large_to_sum() -> None:
    df = grid_customers()
    df["workload"] = 1e307
    units = gt.build_units(gt.read_customers(df), "points", measures=["workload"])
    refused(lambda: gt.design(units, 2, balance={"workload": 0.1}), gt.InputError, "larger unit")


def test_prove_that_cannot_apply(grid_units: gt.Units) -> None:
    with pytest.warns(gt.GeoterrWarning, match="prove=True cannot apply.*costs="):
        gt.design(grid_units, 2, prove=True, time_limit=10)


def test_measures_not_finite_in_hand_made_units(grid_units: gt.Units) -> None:
    gdf = grid_units.gdf.copy()
    gdf.loc[gdf.index[2], "workload"] = np.inf
    broken = gt.Units(**{**grid_units.__dict__, "gdf": gdf})
    refused(
        lambda: gt.design(broken, 2, balance={"workload": 0.1}),
        gt.InputError,
        "infinite workload",
        "G02",
    )


# ---------------------------------------------------------------- the CLI


def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main([*args, "--out", str(tmp_path / "plan"), "--quiet"])
    return code, " ".join(capsys.readouterr().err.split())  # messages are wrapped


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["missing.csv", "-k", "2"], "does not exist"),
        (["good.csv", "-k", "2", "--balance", "workload:0.05,workload:0.2"], "twice"),
        (["good.csv", "-k", "2", "--layer", "sheet"], "one table"),
        (["good.csv", "-k", "2", "--encoding", "klingon"], "not a known encoding"),
        (["good.csv", "-k", "0"], "n_territories"),
        (["good.csv", "-k", "2", "--crs", "EPSG:999999"], "not a coordinate reference system"),
        (["duphead.csv", "-k", "2"], "more than once"),
    ],
)
def test_cli_refuses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], fragment: str
) -> None:
    write(tmp_path / "good.csv", GOOD)
    write(tmp_path / "duphead.csv", "id,lat,lat,lon\nA,47,47,8\n")
    args = [str(tmp_path / a) if a.endswith(".csv") else a for a in args]
    code, err = cli(tmp_path, capsys, "design", *args)
    assert code == 1
    assert "geoterr: error:" in err and fragment in err, err
    assert "Traceback" not in err and "unexpected error" not in err
    assert not (tmp_path / "plan").exists()


def test_cli_reads_cp1252_and_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = write(tmp_path / "c.csv", GOOD, "cp1252")
    code, err = cli(tmp_path, capsys, "design", str(f), "-k", "2", "--time-limit", "20")
    assert code == 0, err
    assert "read it as cp1252" in err
    table = pd.read_csv(tmp_path / "plan" / "assignments.csv")
    assert table["name"].iloc[0] == "Zürich 0"


def test_cli_drop_invalid_drops_duplicates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = GOOD.replace("A5,", "A1,").replace("A7,Zürich 7,47.02", "A7,Zürich 7,123")
    f = write(tmp_path / "c.csv", text)
    code, err = cli(tmp_path, capsys, "design", str(f), "-k", "1")
    assert code == 1 and "more than one row" in err and "latitude" in err
    assert not (tmp_path / "plan").exists()
    code, err = cli(tmp_path, capsys, "design", str(f), "-k", "1", "--drop-invalid")
    assert code == 0, err
    assert "dropped 3 of 20 rows" in err
    table = pd.read_csv(tmp_path / "plan" / "assignments.csv")
    assert len(table) == 17 and "A1" not in set(table["id"])
