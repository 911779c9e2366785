"""Reading customers: files or frames in, a validated GeoDataFrame out.

The result is always in EPSG:4326, indexed by the customer id, and keeps every input column.
"""

from __future__ import annotations

import csv
import warnings
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from geoterr._errors import GeoterrWarning, InputError, format_ids
from geoterr._validate import Problems, check_measure, normalise_name, numeric_column

__all__ = ["COORDINATE_FIX", "read_customers", "sample_path"]

# Normalised column names (letters and digits only, lower case) taken as coordinates or ids,
# best first. Names ending in "latitude"/"longitude" (e.g. Salesforce ``Location__Latitude__s``)
# are accepted after these.
LAT_NAMES = (
    "latitude",
    "lat",
    "billinglatitude",
    "shippinglatitude",
    "mailinglatitude",
    "y",
    "ycoord",
    "ycoordinate",
    "latdd",
    "latdeg",
)
LON_NAMES = (
    "longitude",
    "lon",
    "lng",
    "long",
    "billinglongitude",
    "shippinglongitude",
    "mailinglongitude",
    "x",
    "xcoord",
    "xcoordinate",
    "londd",
    "londeg",
)
ID_NAMES = (
    "accountid",
    "customerid",
    "custid",
    "clientid",
    "accountnumber",
    "customernumber",
    "accountno",
    "customerno",
    "id",
    "account",
    "customer",
    "uid",
    "key",
)

COORDINATE_FIX = (
    "Fix or remove those rows, or drop them with `on_invalid='drop'` (CLI: --drop-invalid); "
    "for coordinates, name the right columns with `lat=` and `lon=` (CLI: --lat/--lon) or "
    "give the CRS of projected ones with `crs=`."
)


def sample_path(name: str = "customers.csv") -> Path:
    """Return the path of a shipped sample file.

    Parameters
    ----------
    name : str
        ``"customers.csv"`` (4,500 simulated accounts placed around GeoNames places) or
        ``"reps.csv"`` (12 sales reps). See ``data/README.md`` for provenance.

    Returns
    -------
    Path
        A path that can be passed to :func:`read_customers` or :func:`pandas.read_csv`.

    Examples
    --------
    >>> import geoterr as gt
    >>> gt.sample_path().name
    'customers.csv'
    """
    path = Path(str(resources.files("geoterr.sample_data") / name))
    if not path.exists():
        msg = f"`name` {name!r} is not a shipped sample file; use 'customers.csv' or 'reps.csv'."
        raise InputError(msg)
    return path


def _read_table(source: Any, layer: str | None) -> pd.DataFrame:
    if isinstance(source, pd.DataFrame):  # GeoDataFrame included
        return source.copy()
    if not isinstance(source, str | Path):
        msg = (
            f"`customers` must be a file path, a DataFrame or a GeoDataFrame, "
            f"got {type(source).__name__}."
        )
        raise InputError(msg)
    path = Path(source)
    if not path.exists():
        msg = f"`customers` file {str(path)!r} does not exist; check the path."
        raise InputError(msg)
    suffix = "".join(path.suffixes[-2:]).lower() if path.suffix == ".gz" else path.suffix.lower()
    if path.is_file() and path.stat().st_size == 0:
        msg = f"`customers` file {str(path)!r} is empty; it needs a header and at least one row."
        raise InputError(msg)
    try:
        if suffix in {".csv", ".txt", ".csv.gz", ".tsv"}:
            sep = "\t" if suffix == ".tsv" else None
            table = pd.read_csv(
                path,
                sep=sep,
                engine="python",
                dtype=str,
                keep_default_na=False,
                na_values=[""],
                encoding="utf-8-sig",  # Excel writes a byte-order mark
                skip_blank_lines=False,  # keep row i on file line i + 2 for messages
            )
            table.columns = [str(c).strip() for c in table.columns]
            return _infer_numeric(_drop_empty_rows(table))
        if suffix == ".parquet":
            try:
                return gpd.read_parquet(path)
            except (ValueError, KeyError):
                return pd.read_parquet(path)
        if suffix in {".geojson", ".json", ".gpkg", ".shp", ".fgb"}:
            return gpd.read_file(path, layer=layer)
    except pd.errors.EmptyDataError:
        msg = f"`customers` file {str(path)!r} is empty; it needs a header and at least one row."
        raise InputError(msg) from None
    except (OSError, ValueError, UnicodeDecodeError, csv.Error) as exc:
        msg = f"`customers` file {str(path)!r} could not be read: {exc}."
        raise InputError(msg) from None
    msg = (
        f"`customers` file {str(path)!r} has an unknown type {suffix!r}; "
        "use CSV, GeoJSON, GeoPackage, Parquet or Shapefile."
    )
    raise InputError(msg)


def _drop_empty_rows(table: pd.DataFrame) -> pd.DataFrame:
    """Drop rows with no value at all (spreadsheet exports end with some), with a warning."""
    empty = table.isna().all(axis=1).to_numpy()
    if empty.any():
        lines = [f"line {i + 2}" for i in np.flatnonzero(empty)]
        warnings.warn(
            f"ignored {int(empty.sum())} empty rows of the customers file ({format_ids(lines)})",
            GeoterrWarning,
            stacklevel=5,
        )
        # Keep the original row numbers (file line - 2) as the index for later messages.
        table = table[~empty]
    return table


# Plain decimal numbers that survive a round trip through float64 exactly enough to be
# measures: no exponent, at most 15 significant integer digits (longer ones are ids).
PLAIN_NUMBER = r"^-?\d{1,15}(\.\d+)?$"


def _infer_numeric(table: pd.DataFrame) -> pd.DataFrame:
    """Turn text columns whose every value is a plain number into numbers.

    Columns with leading zeros (postal codes, account numbers such as ``007``), exponents
    (``1E1``) or more than 15 digits (long account numbers) stay text. Coordinates and
    measures are checked again, with row ids, by the validators.
    """
    for column in table.columns:
        text = table[column].dropna().astype(str).str.strip()
        if text.empty:
            continue
        values = pd.to_numeric(text, errors="coerce")
        leading_zero = text.str.match(r"^-?0\d").any()
        plain = text.str.match(PLAIN_NUMBER).all()
        if plain and values.notna().all() and not leading_zero:
            converted = pd.to_numeric(table[column], errors="coerce")
            if converted.isna().any() and (values == values.round()).all():
                converted = converted.astype("Int64")  # ids with gaps stay integers
            table[column] = converted
    return table


def _find_column(
    frame: pd.DataFrame,
    given: str | None,
    names: Sequence[str],
    suffix: str | None,
    role: str,
    option: str,
) -> str | None:
    if given is not None:
        if given not in frame.columns:
            msg = (
                f"`{option}` column {given!r} is not in the customers table "
                f"(columns are: {', '.join(map(str, frame.columns))})."
            )
            raise InputError(msg)
        return given
    by_norm: dict[str, list[str]] = {}
    for col in frame.columns:
        by_norm.setdefault(normalise_name(col), []).append(str(col))
    found = [c for n in names for c in by_norm.get(n, [])]
    if suffix:
        found += [
            str(c)
            for c in frame.columns
            if normalise_name(c).endswith((suffix, suffix + "s")) and str(c) not in found
        ]
    if not found:
        return None
    if len(found) > 1 and normalise_name(found[0]) not in names[:3]:
        warnings.warn(
            f"several columns could hold the {role} ({', '.join(found)}); using {found[0]!r}. "
            f"Pass `{option}=` to choose another.",
            GeoterrWarning,
            stacklevel=4,
        )
    return found[0]


def _set_ids(frame: pd.DataFrame, id_col: str | None, from_file: bool) -> tuple[pd.DataFrame, str]:
    problems = Problems("customers")
    column = _find_column(frame, id_col, ID_NAMES, None, "customer id", "id_col")
    if column is None:
        if frame.index.name is not None and not isinstance(frame.index, pd.RangeIndex):
            column = str(frame.index.name)
            frame = frame.reset_index()
        else:
            column = "customer_id"
            warnings.warn(
                "no customer id column found; numbering the rows from 1 as `customer_id`. "
                "Pass `id_col=` to use your own ids (they make exports traceable).",
                GeoterrWarning,
                stacklevel=3,
            )
            frame = frame.assign(customer_id=np.arange(1, len(frame) + 1))
    ids = frame[column]
    if ids.dtype == object or pd.api.types.is_string_dtype(ids):
        ids = ids.astype("string").str.strip().astype(object)
        ids = ids.where(ids != "", None)
        frame[column] = ids
    missing = ids.isna().to_numpy()
    if missing.any():
        labels = frame.index[missing]
        rows = [f"line {i + 2}" for i in labels] if from_file else [f"row {i}" for i in labels]
        problems.add(f"{int(missing.sum())} rows without an id in {column!r} ({format_ids(rows)})")
    dup = ids.duplicated(keep=False) & ids.notna()
    if dup.any():
        values = pd.unique(ids[dup])
        problems.add(
            f"{len(values)} ids used by more than one row in {column!r} ({format_ids(values)})"
        )
    if problems:
        raise InputError(
            problems.text(
                "Each customer needs one unique id: fix the file, or name the right id column "
                "with `id_col=` (CLI: --id-col)."
            )
        )
    frame = frame.set_index(column, drop=True)
    return frame, column


def read_customers(
    customers: str | Path | pd.DataFrame,
    *,
    id_col: str | None = None,
    lat: str | None = None,
    lon: str | None = None,
    crs: Any = None,
    measures: Sequence[str] = (),
    layer: str | None = None,
    on_invalid: Literal["raise", "drop"] = "raise",
) -> gpd.GeoDataFrame:
    """Read and validate geocoded customers.

    Parameters
    ----------
    customers : path, DataFrame or GeoDataFrame
        A CSV (``.csv``, ``.tsv``, ``.csv.gz``), GeoJSON, GeoPackage, Shapefile or Parquet
        file, or a table already in memory. A GeoDataFrame's point geometry is used as is.
    id_col : str, optional
        The column holding the customer id. Found automatically from common names
        (``account_id``, ``customer_id``, ``AccountNumber``, ``Id``...).
    lat, lon : str, optional
        The coordinate columns. Found automatically from common names (``lat``/``latitude``/
        ``y``, ``lon``/``lng``/``longitude``/``x``, CRM exports such as ``BillingLatitude``).
    crs : CRS-like, optional
        The CRS of the coordinates when they are not WGS 84 degrees (for example
        ``"EPSG:3857"``), or of a GeoDataFrame without one.
    measures : sequence of str
        Numeric columns that must be present, numeric and non-negative (for example
        ``["workload", "annual_revenue"]``).
    layer : str, optional
        The layer to read from a multi-layer file (GeoPackage).
    on_invalid : {"raise", "drop"}
        ``"raise"`` (default) stops with one error listing every bad row; ``"drop"`` removes
        rows with bad coordinates or measures and warns with their count and ids. Missing or
        duplicate ids always raise: a row without its own id cannot be traced back.

    Returns
    -------
    GeoDataFrame
        One row per customer, index = customer id (named after the id column), every input
        column kept, point geometry in EPSG:4326. ``attrs["geoterr"]`` records the id and
        coordinate columns used.

    Raises
    ------
    InputError
        With one paragraph naming every problem, the rows concerned and the fix.

    Examples
    --------
    >>> import geoterr as gt
    >>> customers = gt.read_customers(gt.sample_path())
    >>> len(customers), customers.index.name, customers.crs.to_epsg()
    (4500, 'account_id', 4326)
    """
    if on_invalid not in ("raise", "drop"):
        msg = f"`on_invalid` must be 'raise' or 'drop', got {on_invalid!r}."
        raise InputError(msg)
    frame = _read_table(customers, layer)
    if len(frame) == 0:
        msg = "`customers` has no rows; it needs at least one customer with coordinates."
        raise InputError(msg)
    frame, id_name = _set_ids(frame, id_col, isinstance(customers, str | Path))
    drop = on_invalid == "drop"
    problems = Problems("customers")

    geo = isinstance(frame, gpd.GeoDataFrame) and lat is None and lon is None
    if geo:
        gdf = _points_from_geometry(frame, crs, problems)
        lat_col: str | None = "geometry"
        lon_col: str | None = "geometry"
    else:
        frame = pd.DataFrame(frame)
        lat_col = _find_column(frame, lat, LAT_NAMES, "latitude", "latitude", "lat")
        lon_col = _find_column(frame, lon, LON_NAMES, "longitude", "longitude", "lon")
        if lat_col is None or lon_col is None:
            missing = " and ".join(
                n for n, c in (("latitude", lat_col), ("longitude", lon_col)) if c is None
            )
            msg = (
                f"`customers` has no {missing} column (columns are: "
                f"{', '.join(map(str, frame.columns))}). Name them with `lat=` and `lon=` "
                "(CLI: --lat/--lon), or geocode the addresses first."
            )
            raise InputError(msg)
        gdf = _points_from_columns(frame, lat_col, lon_col, crs, problems)

    for column in measures:
        values = check_measure(gdf, column, problems)
        if column in gdf.columns:
            gdf[column] = values
    gdf = problems.raise_or_drop(gdf, drop=drop, fix=COORDINATE_FIX)
    gdf.index.name = id_name
    if gdf.geometry.name != "geometry" and "geometry" not in gdf.columns:
        gdf = gdf.rename_geometry("geometry")  # type: ignore[operator]
    degrees = not geo and (crs is None or CRS.from_user_input(crs).equals(CRS.from_epsg(4326)))
    gdf.attrs["geoterr"] = {"id": id_name, "lat": lat_col, "lon": lon_col, "degrees": degrees}
    return gdf


def _points_from_columns(
    frame: pd.DataFrame, lat_col: str, lon_col: str, crs: Any, problems: Problems
) -> gpd.GeoDataFrame:
    y = numeric_column(frame, lat_col, problems, label=f"latitude ({lat_col!r})")
    x = numeric_column(frame, lon_col, problems, label=f"longitude ({lon_col!r})")
    source_crs = CRS.from_user_input(crs) if crs is not None else CRS.from_epsg(4326)
    ok = x.notna() & y.notna() & np.isfinite(x) & np.isfinite(y)
    if source_crs.is_geographic:
        _check_degrees(frame.index, y, x, ok, problems)
    gdf = gpd.GeoDataFrame(
        frame, geometry=gpd.points_from_xy(x.where(ok), y.where(ok)), crs=source_crs
    )
    if not source_crs.equals(CRS.from_epsg(4326)):
        gdf = gdf.to_crs(4326)
        lon4326, lat4326 = gdf.geometry.x, gdf.geometry.y
        outside = ok & ~(lat4326.between(-90, 90) & lon4326.between(-180, 180))
        if outside.any():
            problems.add(
                f"{int(outside.sum())} rows whose coordinates fall outside the world in "
                f"{source_crs.name} ({format_ids(frame.index[outside])})",
                list(frame.index[outside]),
            )
    return gdf


def _check_degrees(
    index: pd.Index, lat: pd.Series, lon: pd.Series, ok: pd.Series, problems: Problems
) -> None:
    bad_lat = ok & ~lat.between(-90, 90)
    bad_lon = ok & ~lon.between(-180, 180)
    if bad_lat.any() or bad_lon.any():
        bad = bad_lat | bad_lon
        swapped_fits = bad & lon.between(-90, 90) & lat.between(-180, 180)
        if bad_lat.any() and swapped_fits[bad].all():
            share = bad_lat.sum() / max(int(ok.sum()), 1)
            problems.add(
                f"latitude and longitude look swapped: {int(bad_lat.sum())} rows "
                f"({share:.0%} of the located rows) have a latitude outside [-90, 90] whose "
                f"longitude would be a valid latitude ({format_ids(index[bad])}); exchange the "
                "two columns or pass `lat=` and `lon=` with the right names",
                list(index[bad]),
            )
        elif (lat.abs() > 180)[ok].mean() > 0.5 or (lon.abs() > 180)[ok].mean() > 0.5:
            problems.add(
                f"coordinates look projected (metres, not degrees): {int(bad.sum())} rows are "
                f"outside [-90, 90] x [-180, 180] ({format_ids(index[bad])}); pass their CRS "
                "with `crs=` (CLI: --crs), e.g. 'EPSG:3857'",
                list(index[bad]),
            )
        else:
            if bad_lat.any():
                problems.add(
                    f"{int(bad_lat.sum())} rows with latitude outside [-90, 90] "
                    f"({format_ids(index[bad_lat])})",
                    list(index[bad_lat]),
                )
            if bad_lon.any():
                problems.add(
                    f"{int(bad_lon.sum())} rows with longitude outside [-180, 180] "
                    f"({format_ids(index[bad_lon])})",
                    list(index[bad_lon]),
                )
    null_island = ok & (lat == 0) & (lon == 0)
    if null_island.any():
        problems.add(
            f"{int(null_island.sum())} rows at (0, 0), a failed geocode "
            f"({format_ids(index[null_island])})",
            list(index[null_island]),
        )


def _points_from_geometry(frame: pd.DataFrame, crs: Any, problems: Problems) -> gpd.GeoDataFrame:
    gdf = gpd.GeoDataFrame(frame)
    if gdf.crs is None:
        if crs is None:
            bounds = gdf.total_bounds
            if np.all(np.abs(bounds[[0, 2]]) <= 180) and np.all(np.abs(bounds[[1, 3]]) <= 90):
                warnings.warn(
                    "`customers` has no CRS; its coordinates look like degrees, so EPSG:4326 "
                    "is assumed. Pass `crs=` to say otherwise.",
                    GeoterrWarning,
                    stacklevel=4,
                )
                crs = 4326
            else:
                msg = (
                    "`customers` has no CRS and projected coordinates; pass their CRS with `crs=`."
                )
                raise InputError(msg)
        gdf = gdf.set_crs(crs)
    missing = gdf.geometry.isna() | gdf.geometry.is_empty
    if missing.any():
        problems.add(
            f"{int(missing.sum())} rows without a location ({format_ids(gdf.index[missing])})",
            list(gdf.index[missing]),
        )
    kinds = gdf.geometry.geom_type
    not_point = kinds.notna() & (kinds != "Point") & ~missing
    if not_point.any():
        problems.add(
            f"{int(not_point.sum())} rows are not points but "
            f"{', '.join(kinds[not_point].unique())} "
            f"({format_ids(gdf.index[not_point])}); customers must be points: use "
            "`gdf.representative_point()` or give polygons to `build_units` instead",
            list(gdf.index[not_point]),
        )
    gdf = gdf.to_crs(4326)
    good = ~missing & ~not_point
    lon = pd.Series(np.nan, index=gdf.index)
    lat = pd.Series(np.nan, index=gdf.index)
    lon[good] = gdf.geometry[good].x
    lat[good] = gdf.geometry[good].y
    _check_degrees(gdf.index, lat, lon, good & lat.notna(), problems)
    return gdf
