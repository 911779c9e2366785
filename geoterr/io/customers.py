"""Reading customers: files or frames in, a validated GeoDataFrame out.

The result is always in EPSG:4326, indexed by the customer id, and keeps every input column.
"""

from __future__ import annotations

import csv
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from geoterr._errors import GeoterrWarning, InputError, format_ids
from geoterr._validate import Problems, check_measure, normalise_name
from geoterr.io.locations import points_from_columns, points_from_geometry, user_crs
from geoterr.io.tables import EXCEL_SUFFIXES, is_workbook, read_text_table, read_workbook

__all__ = ["COORDINATE_FIX", "read_customers"]

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


TEXT_SUFFIXES = (".csv", ".txt", ".csv.gz", ".tsv", ".tsv.gz", ".txt.gz")
GEO_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".fgb")


def _checked_file(source: Any, encoding: str | None) -> tuple[Path, str]:
    """Return the path of a customers file and its suffix, refused when it cannot be read.

    Refuses a source that is not a path, a missing or empty file, and ``encoding`` for a file
    that is not text.
    """
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
    if encoding is not None and (suffix not in TEXT_SUFFIXES):
        msg = (
            f"`encoding` applies to CSV and text files, not to {suffix!r} files; "
            "leave it out for this file."
        )
        raise InputError(msg)
    return path, suffix


def _is_workbook_file(path: Path, suffix: str) -> bool:
    """Tell whether a text or Excel file is an Excel workbook, whatever its name says.

    A workbook named like a text file is read as a workbook, with a warning; a file named
    like a workbook that is not one is refused.
    """
    if not (path.is_file() and suffix in (*TEXT_SUFFIXES, *EXCEL_SUFFIXES)):
        return False
    with path.open("rb") as handle:
        workbook = is_workbook(handle.read(4))
    if workbook:
        if suffix in TEXT_SUFFIXES:
            warnings.warn(
                f"`customers` file {path.name!r} is an Excel workbook (.xlsx) named "
                f"{suffix}; reading it as a workbook.",
                GeoterrWarning,
                stacklevel=5,
            )
        return True
    if suffix in EXCEL_SUFFIXES:
        msg = (
            f"`customers` file {str(path)!r} is named {suffix} but is not an Excel "
            "workbook; save it again from Excel, or name it after its real type."
        )
        raise InputError(msg)
    return False


def _check_not_workbook_kinds(path: Path, suffix: str, layer: str | None) -> None:
    """Refuse a ``layer`` for a text file, and an old Excel .xls workbook."""
    if suffix in TEXT_SUFFIXES and layer is not None:
        msg = (
            f"`layer` ({layer!r}) picks a layer of a GeoPackage or a sheet of an .xlsx "
            "workbook; a CSV file has one table. Leave --layer/`layer=` out."
        )
        raise InputError(msg)
    if suffix == ".xls":
        msg = (
            f"`customers` file {str(path)!r} is an old Excel .xls workbook; save it as .xlsx "
            "or CSV (File > Save As) and read that."
        )
        raise InputError(msg)


def _read_table(
    source: Any, layer: str | None, encoding: str | None = None
) -> tuple[pd.DataFrame, str | None]:
    """Return the table of ``source`` and, for text files, the encoding it was read with."""
    if isinstance(source, pd.DataFrame):  # GeoDataFrame included
        return source.copy(), None
    path, suffix = _checked_file(source, encoding)
    if _is_workbook_file(path, suffix):
        return _infer_numeric(_drop_empty_rows(read_workbook(path, layer))), None
    _check_not_workbook_kinds(path, suffix, layer)
    try:
        if suffix in TEXT_SUFFIXES:
            sep = "\t" if suffix.startswith(".tsv") else None
            table, used = read_text_table(path, sep=sep, encoding=encoding)
            if used not in ("utf-8", "utf-8-sig") and encoding is None:
                warnings.warn(
                    f"`customers` file {path.name!r} is not UTF-8; read it as {used}. If "
                    "accents look wrong, pass the right `encoding=` (CLI: --encoding).",
                    GeoterrWarning,
                    stacklevel=4,
                )
            return _infer_numeric(_drop_empty_rows(table)), used
        if suffix == ".parquet":
            try:
                return gpd.read_parquet(path), None
            except (ValueError, KeyError):
                return pd.read_parquet(path), None
        if suffix in GEO_SUFFIXES:
            return gpd.read_file(path, layer=layer), None
    except (OSError, ValueError, UnicodeDecodeError, csv.Error) as exc:
        if isinstance(exc, InputError):
            raise
        msg = f"`customers` file {str(path)!r} could not be read: {exc}."
        raise InputError(msg) from None
    msg = (
        f"`customers` file {str(path)!r} has an unknown type {suffix!r}; "
        "use CSV, Excel (.xlsx), GeoJSON, GeoPackage, Parquet or Shapefile."
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


def _set_ids(
    frame: pd.DataFrame, id_col: str | None, from_file: bool, problems: Problems
) -> tuple[pd.DataFrame, str]:
    """Index ``frame`` by the customer id, recording rows without an id or with a shared one.

    Ids are kept exactly as written (``" lead"`` stays ``" lead"``); values that are blank
    count as missing. Duplicate and missing ids go to ``problems`` with their positions, so
    that the other problems of the file are reported with them (and ``on_invalid="drop"``
    drops those rows too).
    """
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
        blank = ids.astype("string").str.strip().eq("").fillna(False).to_numpy(dtype=bool)
        ids = ids.astype(object).where(~blank, None)
        frame[column] = ids
    where = [f"line {i + 2}" for i in frame.index] if from_file else list(map(str, frame.index))
    where_of = np.asarray(where, dtype=object)
    missing = ids.isna().to_numpy()
    if missing.any():
        problems.add(
            f"{int(missing.sum())} rows without an id in {column!r} "
            f"({format_ids(where_of[missing])})",
            positions=missing,
        )
    dup = (ids.duplicated(keep=False) & ids.notna()).to_numpy()
    if dup.any():
        values = pd.unique(ids[dup])
        problems.add(
            f"{len(values)} ids used by more than one row in {column!r} ({format_ids(values)}, "
            f"{format_ids(where_of[dup], limit=6)})",
            positions=dup,
        )
    text = ids.dropna().astype(str)
    padded = text[text != text.str.strip()]
    if len(padded):
        stripped = set(text.str.strip()[text == text.str.strip()])
        clash = [v for v in padded if v.strip() in stripped]
        if clash:
            problems.add(
                f"{len(clash)} ids differ from another id only by spaces around them "
                f"({format_ids(repr(v) for v in clash)}): they would be two customers",
                positions=ids.isin(clash).to_numpy(),
            )
    return frame.set_index(column, drop=True), column


ID_FIX = (
    "Each customer needs one unique id (if these are not the ids, name the id column with "
    "`id_col=`, CLI: --id-col)."
)


def read_customers(  # noqa: PLR0913 (public API: every option is a documented keyword)
    customers: str | Path | pd.DataFrame,
    *,
    id_col: str | None = None,
    lat: str | None = None,
    lon: str | None = None,
    crs: Any = None,
    measures: Sequence[str] = (),
    layer: str | None = None,
    on_invalid: Literal["raise", "drop"] = "raise",
    encoding: str | None = None,
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
        The layer to read from a multi-layer file (GeoPackage), or the sheet of an ``.xlsx``
        workbook. Refused for CSV files, which hold one table.
    on_invalid : {"raise", "drop"}
        ``"raise"`` (default) stops with one error listing every problem of the file (ids,
        coordinates, measures) at once; ``"drop"`` removes the rows with bad coordinates or
        measures, without an id, or with an id shared by other rows (all of them: geoterr
        cannot tell which is right), and warns with their count and ids.
    encoding : str, optional
        The encoding of a CSV file. By default it is detected: UTF-8 (with or without a
        byte-order mark), UTF-16, then Windows-1252 and Latin-1, with a warning naming the
        one used when it is not UTF-8 (then also in ``attrs["geoterr"]["encoding"]``). Excel
        workbooks (``.xlsx``, also when named ``.csv``) are read with openpyxl.

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
    frame, used_encoding = _read_table(customers, layer, _check_encoding(encoding))
    if len(frame) == 0:
        msg = "`customers` has no rows; it needs at least one customer with coordinates."
        raise InputError(msg)
    _check_names(lat=lat, lon=lon, id_col=id_col)
    problems = Problems("customers")
    frame, id_name = _set_ids(frame, id_col, isinstance(customers, str | Path), problems)
    drop = on_invalid == "drop"

    geo = isinstance(frame, gpd.GeoDataFrame) and lat is None and lon is None
    if geo:
        gdf = points_from_geometry(frame, crs, problems)
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
        gdf = points_from_columns(frame, lat_col, lon_col, crs, problems)

    for column in _measure_list(measures):
        values = check_measure(gdf, column, problems)
        if column in gdf.columns:
            gdf[column] = values.to_numpy()
    fix = ID_FIX + " " + COORDINATE_FIX if problems.bad_positions else COORDINATE_FIX
    gdf = problems.raise_or_drop(gdf, drop=drop, fix=fix)
    gdf.index.name = id_name
    if gdf.geometry.name != "geometry" and "geometry" not in gdf.columns:
        gdf = gdf.rename_geometry("geometry")  # type: ignore[operator]
    degrees = not geo and (crs is None or user_crs(crs).equals(CRS.from_epsg(4326)))
    gdf.attrs["geoterr"] = {"id": id_name, "lat": lat_col, "lon": lon_col, "degrees": degrees}
    if used_encoding not in (None, "utf-8", "utf-8-sig") or encoding is not None:
        gdf.attrs["geoterr"]["encoding"] = used_encoding
    return gdf


def _check_encoding(encoding: object) -> str | None:
    if encoding is None or isinstance(encoding, str):
        return encoding
    msg = f"`encoding` must be the name of an encoding such as 'cp1252', got {encoding!r}."
    raise InputError(msg)


def _check_names(**given: object) -> None:
    """Column-name arguments must be strings (or None)."""
    bad = [
        f"`{k}` must be a column name (a string), got {v!r}"
        for k, v in given.items()
        if v is not None and not isinstance(v, str)
    ]
    if bad:
        raise InputError("; ".join(bad) + ".")


def _measure_list(measures: object) -> list[str]:
    """``measures`` as a list of column names: a sequence of strings (a lone string is one)."""
    if isinstance(measures, str):
        return [measures]
    if not isinstance(measures, Sequence | set | frozenset | pd.Index) or not all(
        isinstance(m, str) for m in measures
    ):
        msg = f"`measures` must be a list of column names, e.g. ['workload'], got {measures!r}."
        raise InputError(msg)
    return list(measures)
