"""Strict readers of the files in a plan folder.

Each file is read as exactly the format geoterr writes, by Python's own parsers: no GDAL
driver detection (a hand-made ``territories.geojson`` cannot make geoterr open another file
or a URL), no links, no special files. Every value is checked; a problem raises an
:class:`~geoterr.InputError` naming the file, what is wrong and the fix.
"""

from __future__ import annotations

import json
import math
import stat
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely.geometry
from shapely.geometry.base import BaseGeometry

from geoterr._errors import InputError, format_ids
from geoterr.io.csv_safety import restore

__all__ = ["FORMAT_VERSION", "read_assignments", "read_meta", "read_summary", "read_territories"]

#: The plan-folder format this geoterr writes (plan.json ``format_version``; 1 when absent).
FORMAT_VERSION = 2

_FIX = "save the plan again with geoterr (or restore the folder from where it came)"
_CRS84 = {"urn:ogc:def:crs:OGC:1.3:CRS84", "urn:ogc:def:crs:EPSG::4326", "EPSG:4326"}


def _bad(path: Path, what: str, fix: str = _FIX) -> InputError:
    return InputError(f"{str(path)!r} {what}; {fix}.")


def plan_file(folder: Path, name: str, *, limit: int | None = None) -> Path:
    """``folder/name`` when it is a regular file (not a link, folder or device)."""
    path = folder / name
    try:
        info = path.lstat()
    except FileNotFoundError:
        raise _bad(path, "is missing: the folder is not a complete geoterr plan", _FIX) from None
    except OSError as exc:
        raise _bad(path, f"cannot be read ({exc.strerror})", "check its permissions") from None
    if not stat.S_ISREG(info.st_mode):
        kind = "a link" if stat.S_ISLNK(info.st_mode) else "not a regular file"
        raise _bad(path, f"is {kind}; geoterr reads only the plain files it writes", _FIX)
    if limit is not None and info.st_size > limit:
        raise _bad(path, f"is {info.st_size:,} bytes, far more than geoterr writes", _FIX)
    return path


def _text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _bad(path, f"is not UTF-8 text (byte {exc.start})", _FIX) from None
    except OSError as exc:
        raise _bad(path, f"cannot be read ({exc.strerror})", "check its permissions") from None


def _walk(value: Any, where: str = "") -> Iterator[str]:
    """Where non-finite numbers sit in a parsed JSON value."""
    if isinstance(value, float) and not math.isfinite(value):
        yield where or "the top level"
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _walk(item, f"{where}[{i}]")


def strict_json(path: Path) -> Any:
    """Parse ``path`` as JSON: no NaN, Infinity or overflowing numbers (1e999)."""
    text = _text(path)
    try:
        value = json.loads(text, parse_constant=lambda word: float("nan"))
    except json.JSONDecodeError as exc:
        what = f"is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        # the parser reached the end of the text, or a string runs on to it
        if exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string"):
            what = "ends too early: it was cut off (truncated)"
        raise _bad(path, what) from None
    except (ValueError, RecursionError) as exc:
        raise _bad(path, f"is not JSON geoterr can read ({type(exc).__name__}: {exc})") from None
    places = list(_walk(value))
    if places:
        raise _bad(path, f"holds NaN or infinite numbers at {format_ids(places, 5)}")
    return value


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_META_TYPES: dict[str, tuple[str, Any]] = {
    "geoterr_version": ("a text", lambda v: isinstance(v, str)),
    "status": ("'feasible' or 'violated'", lambda v: v in ("feasible", "violated")),
    "problems": (
        "a list of texts",
        lambda v: isinstance(v, list) and all(isinstance(p, str) for p in v),
    ),
    "objective": ("a number or null", lambda v: v is None or _number(v)),
    "lower_bound": ("a number or null", lambda v: v is None or _number(v)),
    "params": (
        "an object (its balance an object or null)",
        lambda v: isinstance(v, dict) and isinstance(v.get("balance") or {}, dict),
    ),
    "id_column": ("a text", lambda v: isinstance(v, str) and v != ""),
    "coordinate_columns": (
        "two column names or []",
        lambda v: isinstance(v, list) and len(v) in (0, 2) and all(isinstance(c, str) for c in v),
    ),
    "n_customers": (
        "a count or null",
        lambda v: v is None or (isinstance(v, int) and v >= 0 and not isinstance(v, bool)),
    ),
    "n_units": ("a count", lambda v: isinstance(v, int) and not isinstance(v, bool) and v > 0),
    "centers": (
        "a list of objects",
        lambda v: isinstance(v, list) and all(isinstance(c, dict) for c in v),
    ),
}


def read_meta(folder: Path) -> dict[str, Any]:
    """plan.json, checked: an object with every key geoterr writes, of the right types."""
    path = plan_file(folder, "plan.json", limit=64_000_000)
    meta = strict_json(path)
    if not isinstance(meta, dict) or "geoterr_version" not in meta:
        raise _bad(
            path,
            "is not a geoterr plan.json (no geoterr_version)",
            "give the folder of a plan saved by geoterr",
        )
    version = meta.get("format_version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _bad(path, f"has format_version {version!r}, not a positive whole number")
    if version > FORMAT_VERSION:
        from geoterr import __version__

        raise _bad(
            path,
            f"was written by geoterr {meta['geoterr_version']} in plan format {version}; this "
            f"geoterr ({__version__}) reads formats up to {FORMAT_VERSION}",
            "upgrade geoterr (pip install -U geoterr) to read it",
        )
    missing = [key for key in _META_TYPES if key not in meta]
    if missing:
        raise _bad(path, f"lacks the key(s) {', '.join(missing)}")
    wrong = [
        f"{key} (expected {kind}, got {meta[key]!r:.40})"
        for key, (kind, ok) in _META_TYPES.items()
        if not ok(meta[key])
    ]
    if "seconds" in meta and not _number(meta["seconds"]):
        wrong.append(f"seconds (expected a number, got {meta['seconds']!r:.40})")
    scope = meta.get("lower_bound_scope")
    if scope not in (None, "plan centers", "all plans"):
        wrong.append(
            f"lower_bound_scope (expected 'plan centers', 'all plans' or null, got {scope!r:.40})"
        )
    if "crs" in meta and not (meta["crs"] is None or isinstance(meta["crs"], str)):
        wrong.append("crs (expected a text or null)")
    if wrong:
        raise _bad(path, f"has wrong values: {'; '.join(wrong)}")
    return meta


def read_centers(path: Path, meta: dict[str, Any], names: pd.Index) -> pd.DataFrame:
    """plan.json's centers: one per territory, with finite numbers."""
    rows = meta["centers"]
    if len(rows) != len(names):
        raise _bad(path, f"has {len(rows)} centers for {len(names)} territories")
    needed = ("x", "y", "longitude", "latitude")
    if not all(
        row.get("territory") is not None and all(_number(row.get(k)) for k in needed)
        for row in rows
    ):
        raise _bad(path, f"has centers without a territory or without {', '.join(needed)}")
    if not all(abs(row["longitude"]) <= 180 and abs(row["latitude"]) <= 90 for row in rows):
        raise _bad(path, "has centers outside longitude/latitude range")
    try:
        centers = pd.DataFrame(rows)
    except (ValueError, TypeError) as exc:
        raise _bad(path, f"has centers geoterr cannot read ({exc})") from None
    keys = centers["territory"].astype(str)
    unknown = sorted(set(keys) ^ set(map(str, names)))
    if unknown or keys.duplicated().any():
        raise _bad(
            path,
            "has no center, or more than one, for some territories, or centers of unknown ones "
            f"({format_ids(unknown or keys[keys.duplicated()])})",
        )
    by_name = dict(zip(map(str, names), names, strict=True))
    centers["territory"] = [by_name[k] for k in keys]
    return centers.set_index("territory")


def _csv(path: Path, **options: Any) -> pd.DataFrame:
    try:
        with warnings.catch_warnings():
            # rows longer than the header: pandas would drop cells (or make them the index)
            warnings.simplefilter("error", pd.errors.ParserWarning)
            table: pd.DataFrame = pd.read_csv(
                path, encoding="utf-8", encoding_errors="strict", index_col=False, **options
            )
            return table
    except pd.errors.ParserWarning:
        raise _bad(path, "has rows with more cells than its header") from None
    except pd.errors.EmptyDataError:
        raise _bad(path, "is empty") from None
    except UnicodeDecodeError as exc:
        raise _bad(path, f"is not UTF-8 text (byte {exc.start})") from None
    except (pd.errors.ParserError, ValueError, OverflowError) as exc:
        raise _bad(
            path,
            f"is not a CSV table geoterr wrote ({type(exc).__name__}: {exc})".replace("\n", " "),
        ) from None
    except OSError as exc:
        raise _bad(path, f"cannot be read ({exc.strerror})", "check its permissions") from None


#: summary.csv columns geoterr always writes as numbers (and each ``*_deviation``).
_NUMBER_COLUMNS = frozenset(
    {"units", "customers", "area_km2", "polsby_popper", "mean_distance_km", "objective"}
)


def read_summary(folder: Path) -> pd.DataFrame:
    """summary.csv: one row per territory, numbers finite."""
    path = plan_file(folder, "summary.csv")
    table = restore(_csv(path))  # text cells were neutralised for spreadsheets on saving
    if "territory" not in table.columns:
        raise _bad(path, "has no territory column")
    if table.empty:
        raise _bad(path, "lists no territory")
    names = table["territory"]
    if names.isna().any() or names.astype(str).duplicated().any():
        raise _bad(
            path,
            "has empty or repeated territory names "
            f"({format_ids(names[names.isna() | names.astype(str).duplicated()])})",
        )
    table = table.set_index("territory")
    wrong = [
        str(c)
        for c in table.columns
        if (c in _NUMBER_COLUMNS or str(c).endswith("_deviation"))
        and not (
            pd.api.types.is_numeric_dtype(table[c]) and not pd.api.types.is_bool_dtype(table[c])
        )
    ]
    if "contiguous" in table.columns and not pd.api.types.is_bool_dtype(table["contiguous"]):
        wrong.append("contiguous (True/False)")
    if wrong:
        raise _bad(path, f"has text or empty cells where numbers belong: {', '.join(wrong)}")
    numbers = table.select_dtypes("number")
    infinite = [str(c) for c in numbers.columns if np.isinf(numbers[c].to_numpy(dtype=float)).any()]
    if infinite:
        raise _bad(path, f"holds infinite numbers in {', '.join(infinite)}")
    for column in ("units", "customers"):
        if column in numbers.columns and (numbers[column].isna() | (numbers[column] < 0)).any():
            raise _bad(path, f"has missing or negative {column} counts")
    return table


def _shape(feature: Any, i: int, path: Path) -> tuple[Any, BaseGeometry | None]:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise _bad(path, f"feature {i} is not a GeoJSON Feature")
    properties = feature.get("properties")
    if not isinstance(properties, dict) or not isinstance(properties.get("territory"), str | int):
        raise _bad(path, f"feature {i} has no territory name")
    geometry = feature.get("geometry")
    if geometry is None:
        return properties["territory"], None
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        raise _bad(
            path, f"feature {i} ({properties['territory']}) is not a Polygon or MultiPolygon"
        )
    try:
        shape = shapely.geometry.shape(geometry)
        x0, y0, x1, y1 = shape.bounds
    except Exception as exc:  # shapely raises many kinds for malformed coordinates
        raise _bad(
            path,
            f"feature {i} ({properties['territory']}) has malformed coordinates "
            f"({type(exc).__name__})",
        ) from None
    if not shape.is_empty and not (-180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90):
        raise _bad(
            path,
            f"feature {i} ({properties['territory']}) has coordinates outside "
            "longitude/latitude range",
        )
    return properties["territory"], shape


def read_territories(folder: Path) -> gpd.GeoDataFrame:
    """territories.geojson as a GeoJSON FeatureCollection in longitude/latitude (EPSG:4326)."""
    path = plan_file(folder, "territories.geojson")
    data = strict_json(path)
    if (
        not isinstance(data, dict)
        or data.get("type") != "FeatureCollection"
        or not isinstance(data.get("features"), list)
    ):
        raise _bad(path, "is not a GeoJSON FeatureCollection")
    crs = data.get("crs")
    if crs is not None:
        name = (
            crs.get("properties", {}).get("name")
            if isinstance(crs, dict) and isinstance(crs.get("properties"), dict)
            else None
        )
        if not isinstance(name, str) or name not in _CRS84:
            raise _bad(
                path,
                f"declares the CRS {name or crs!r:.60}; geoterr writes longitude/latitude "
                "(CRS84) only",
            )
    rows = [_shape(feature, i, path) for i, feature in enumerate(data["features"])]
    names = [str(name) for name, _ in rows]
    if len(set(names)) < len(names):
        raise _bad(
            path,
            "has repeated territories "
            f"({format_ids(sorted({n for n in names if names.count(n) > 1}))})",
        )
    return gpd.GeoDataFrame(
        {"geometry": [shape for _, shape in rows]},
        index=pd.Index(names, name="territory"),
        crs=4326,
    )


def read_assignments(folder: Path, meta: dict[str, Any], names: pd.Index) -> pd.DataFrame:
    """assignments.csv: every customer once, each in a known territory, with coordinates."""
    from geoterr.io.customers import _infer_numeric

    path = plan_file(folder, "assignments.csv")
    # read as read_customers reads, so ids come back with their type
    table = restore(_csv(path, dtype=str, keep_default_na=False, na_values=[""]))
    id_col, n = meta["id_column"], meta["n_customers"]
    needed = ["unit", "territory"]
    if n is not None:
        needed += [id_col, *(meta["coordinate_columns"] or ["latitude", "longitude"])]
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise _bad(path, f"lacks the column(s) {', '.join(missing)}")
    if table.empty:
        raise _bad(path, "has no customers (no rows)")
    if n is not None and len(table) != n:
        raise _bad(
            path,
            f"has {len(table):,} customers but plan.json says {n:,}: rows were added or removed",
        )
    key = id_col if n is not None else "unit"
    empty = table.index[table[needed].isna().any(axis=1)]
    if len(empty):
        raise _bad(path, f"has empty ids, units or territories on rows {format_ids(empty + 2)}")
    repeated = table[key][table[key].duplicated()]
    if len(repeated):
        raise _bad(path, f"has customers listed more than once ({format_ids(repeated.unique())})")
    unknown = sorted(set(table["territory"]) - set(map(str, names)))
    if unknown:
        raise _bad(path, f"names territories that are not in summary.csv ({format_ids(unknown)})")
    if n is not None:
        lat_col, lon_col = meta["coordinate_columns"] or ["latitude", "longitude"]
        lat = pd.to_numeric(table[lat_col], errors="coerce").to_numpy(dtype=float)
        lon = pd.to_numeric(table[lon_col], errors="coerce").to_numpy(dtype=float)
        bad = ~(np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180))
        if bad.any():
            raise _bad(
                path,
                f"has missing or impossible coordinates for {format_ids(table.loc[bad, id_col])}",
            )
    return _infer_numeric(table)
