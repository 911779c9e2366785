"""Customer tables larger than memory: aggregate them to units with Dask.

The customers are read partition by partition (Parquet or CSV files, a glob, a folder, or a
``dask.dataframe``); each partition is checked, placed in its unit (an H3 cell or a polygon)
and summed; only the per-unit sums come back. The units are then built exactly as
:func:`geoterr.build_units` builds them from the same sums, so both paths give the same units.

Dask runs where the caller says: on the threads of this process by default, or on a
``dask.distributed`` cluster when a ``Client`` is active (``Client("tcp://scheduler:8786")``,
or a ``LocalCluster`` on one machine). Needs the optional dependencies: ``pip install
geoterr[dask]``.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import geopandas as gpd
import h3
import numpy as np
import pandas as pd

from geoterr._errors import InputError, format_ids
from geoterr.units.build import Units, assemble_units, warn_distortion
from geoterr.units.checks import COUNT, RESERVED, check_max_load, check_method_options
from geoterr.units.graph import IslandPolicy
from geoterr.units.hexes import (
    FINEST_CHOICE,
    auto_caps,
    check_resolution,
    check_target,
    descend,
    heavy_cells,
    latlng_to_cells,
    resolution_for,
)
from geoterr.units.layouts import DEFAULT_HEX_UNITS, hex_layout, polygon_layout
from geoterr.units.polygons import Contiguity, join_customers, prepare_polygons
from geoterr.units.projection import crs_for_extent, local_crs

__all__ = ["units_from_files"]

# How many ids of bad rows each partition reports (the error shows the first ones).
BAD_IDS = 10


def _dask() -> Any:
    try:
        import dask
        import dask.dataframe as dd
    except ImportError as exc:  # pragma: no cover - depends on the install
        msg = "the Dask path needs the optional dependencies: pip install 'geoterr[dask]'"
        raise ImportError(msg) from exc
    return dask, dd


def _read(source: Any, columns: list[str], blocksize: str | int | None) -> Any:
    """Return a dask DataFrame of the columns needed, from files or an existing frame."""
    _, dd = _dask()
    if isinstance(source, dd.DataFrame):
        frame = source
    else:
        paths = [os.fspath(p) for p in source] if isinstance(source, list | tuple) else source
        first = paths[0] if isinstance(paths, list) else os.fspath(paths)
        if first.endswith((".csv", ".csv.gz", ".txt")):
            frame = dd.read_csv(paths, blocksize=None if first.endswith(".gz") else blocksize)
        else:
            frame = dd.read_parquet(paths)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        msg = (
            f"`source` has no column {', '.join(map(repr, missing))} (columns are: "
            f"{', '.join(map(str, frame.columns))}); name the right ones with `lat=`, `lon=`, "
            "`id_col=` and `measures=`."
        )
        raise InputError(msg)
    return frame[columns]


def _mark(part: pd.DataFrame, lat: str, lon: str, measures: list[str]) -> pd.DataFrame:
    """Return the partition with numeric coordinates and a flag column per check.

    ``_bad0`` for the location, ``_bad1``... for the measures: True where the row fails it.
    """
    y = pd.to_numeric(part[lat], errors="coerce")
    x = pd.to_numeric(part[lon], errors="coerce")
    flags = {"_bad0": ~(y.between(-90, 90) & x.between(-180, 180))}
    for i, m in enumerate(measures, start=1):
        v = pd.to_numeric(part[m], errors="coerce")
        flags[f"_bad{i}"] = ~np.isfinite(v) | (v < 0)
    return part.assign(**{lat: y.astype(float), lon: x.astype(float)}, **flags)


def _report(part: pd.DataFrame, checks: int, id_column: str | None) -> pd.DataFrame:
    """One row per partition: how many rows fail each check, and the first ids."""
    ids = part[id_column] if id_column else pd.Series(part.index, index=part.index)
    row: dict[str, list[Any]] = {}
    for i in range(checks):
        wrong = part[f"_bad{i}"].to_numpy(dtype=bool)
        row[f"_bad{i}"] = [int(wrong.sum())]
        row[f"_bad{i}_ids"] = [ids[wrong].astype(str).tolist()[:BAD_IDS]]
    return pd.DataFrame(row)


def _raise_bad(reports: pd.DataFrame, lat: str, lon: str, measures: list[str]) -> None:
    problems = []
    checks = [f"a missing or impossible {lat}/{lon}"]
    checks += [f"a missing, negative or non-numeric {m}" for m in measures]
    for i, what in enumerate(checks):
        count = int(reports[f"_bad{i}"].sum())
        if count:
            ids = [v for row in reports[f"_bad{i}_ids"] for v in row]
            problems.append(f"{count:,} rows with {what} ({format_ids(ids)})")
    if problems:
        msg = (
            f"`source` has problems: {'; '.join(problems)}. Fix those rows in the files (or "
            "filter them out of the dask DataFrame) and run again; no customer is dropped "
            "silently."
        )
        raise InputError(msg)


# The spelling of read_customers and of the CLI (--lat, --lon, --id-col) -> the old one.
OLD_NAMES = {"lat": "latitude", "lon": "longitude", "id_col": "id_column"}
DEFAULT_NAMES = {"lat": "latitude", "lon": "longitude", "id_col": None}


def _coordinate_names(
    given: dict[str, str | None], old: dict[str, str | None]
) -> tuple[str, str, str | None]:
    """Return the coordinate and id columns, taking the old keywords with a DeprecationWarning."""
    names = dict(given)
    used = [key for key, value in old.items() if value is not None]
    for key in used:
        if given[key] != DEFAULT_NAMES[key]:
            msg = (
                f"`{OLD_NAMES[key]}` is the old name of `{key}`; both were given "
                f"({OLD_NAMES[key]}={old[key]!r}, {key}={given[key]!r}): pass only `{key}`."
            )
            raise InputError(msg)
        names[key] = old[key]
    if used:
        warnings.warn(
            f"units_from_files: {', '.join(f'`{OLD_NAMES[k]}`' for k in used)} "
            f"{'is' if len(used) == 1 else 'are'} now {', '.join(f'`{k}`' for k in used)}, as "
            "in read_customers and the CLI (--lat, --lon, --id-col); the old names will be "
            "removed in a later release.",
            DeprecationWarning,
            stacklevel=3,
        )
    return str(names["lat"]), str(names["lon"]), names["id_col"]


def units_from_files(  # noqa: PLR0913 (public API: every option is a documented keyword)
    source: Any,
    method: str = "hex",
    *,
    measures: Sequence[str] = (),
    lat: str = "latitude",
    lon: str = "longitude",
    id_col: str | None = None,
    resolution: int | None = None,
    n_units: int | None = None,
    fill_gaps: int = 2,
    boundary: Any = None,
    max_load: Mapping[str, float] | str | None = "auto",
    polygons: gpd.GeoDataFrame | None = None,
    polygon_id: Hashable | None = None,
    contiguity: Contiguity = "queen",
    snap: float = 0.0,
    islands: IslandPolicy = "connect",
    customer_units: str | os.PathLike[str] | None = None,
    blocksize: str | int | None = "64MB",
    latitude: str | None = None,
    longitude: str | None = None,
    id_column: str | None = None,
) -> Units:
    """Build hexagon or polygon units from a customer table too large for memory.

    Parameters
    ----------
    source : path, glob, list of paths, or dask DataFrame
        Partitioned Parquet (a folder or files) or CSV files (``"customers/*.csv"``).
    method : {"hex", "polygons"}
        The kind of unit, as in :func:`geoterr.build_units` (points and Voronoi units need
        every location in memory; use them on aggregated data instead).
    measures : sequence of str
        Numeric columns to sum per unit (each checked: present, numeric, finite, >= 0).
    lat, lon : str
        The coordinate columns, in WGS 84 degrees (as in :func:`geoterr.read_customers` and
        the CLI's ``--lat``/``--lon``).
    id_col : str, optional
        The customer id column: named in error messages, and written with each customer's
        unit to ``customer_units``. Default: the row labels of each partition.
    resolution, n_units, fill_gaps, boundary, max_load
        ``"hex"``: as in :func:`geoterr.build_units` (``max_load="auto"`` by default, as
        there); choosing the resolution from ``n_units`` costs one more pass over the data,
        and ``max_load`` one pass per level of splitting (one when nothing is split).
    polygons, polygon_id, contiguity, snap
        ``"polygons"``: as in :func:`geoterr.build_units`; the polygons go to every worker.
        Customers outside every polygon are an error naming them.
    islands : {"connect", "separate", "raise"}
    customer_units : path, optional
        A folder to write the unit of every customer to (Parquet, one file per partition:
        ``id_col`` or the row label, and ``unit``), so every customer can be traced.
    blocksize : str or int
        CSV partition size.
    latitude, longitude, id_column : str, optional
        Deprecated spellings of ``lat``, ``lon`` and ``id_col`` (they still work, with a
        ``DeprecationWarning``).

    Returns
    -------
    Units
        Without customers in memory (``units.customers`` is None; ``units.customer_unit`` is
        empty; ``units.settings["customer_units"]`` names the folder when written).

    Raises
    ------
    InputError
        Bad arguments or bad rows (with the count and ids of bad rows over all partitions).

    Examples
    --------
    >>> import geoterr as gt
    >>> units = gt.units_from_files(
    ...     gt.sample_path(), "hex", measures=["workload"], id_col="account_id", n_units=300
    ... )
    >>> int(units.gdf["workload"].sum()) == int(
    ...     gt.read_customers(gt.sample_path())["workload"].sum()
    ... )
    True
    """
    latitude, longitude, id_column = _coordinate_names(
        {"lat": lat, "lon": lon, "id_col": id_col},
        {"lat": latitude, "lon": longitude, "id_col": id_column},
    )
    dask, _ = _dask()
    if method not in ("hex", "polygons"):
        msg = f"`method` must be 'hex' or 'polygons' for the Dask path, got {method!r}."
        raise InputError(msg)
    check_method_options(
        method,
        {
            "resolution": resolution,
            "n_units": n_units,
            "fill_gaps": fill_gaps,
            "boundary": boundary,
            "max_load": max_load,
            "polygons": polygons,
            "polygon_id": polygon_id,
            "contiguity": contiguity,
            "snap": snap,
        },
    )
    measures = [measures] if isinstance(measures, str) else list(measures)
    clash = [m for m in measures if m in RESERVED]
    if clash:
        msg = f"`measures` names {', '.join(map(repr, clash))}, which geoterr uses itself."
        raise InputError(msg)
    columns = [latitude, longitude, *measures] + ([id_column] if id_column else [])
    frame = _read(source, list(dict.fromkeys(columns)), blocksize)
    # Each partition is checked once; the good rows go on, the bad ones are counted and named.
    marked = frame.map_partitions(_mark, latitude, longitude, measures)
    flags = [f"_bad{i}" for i in range(len(measures) + 1)]
    checked = marked[~marked[flags].any(axis=1)][list(frame.columns)]
    reports = marked.map_partitions(
        _report, len(flags), id_column, meta=_report(marked._meta, len(flags), id_column)
    )
    ys, xs = checked[latitude], checked[longitude]
    rad = np.radians(xs)
    summary = [xs.min(), ys.min(), xs.max(), ys.max(), np.sin(rad).mean(), np.cos(rad).mean()]

    if method == "hex":
        if resolution is None:
            target = DEFAULT_HEX_UNITS if n_units is None else check_target(n_units)
            fine = checked.map_partitions(
                lambda p: pd.Series(np.unique(_cells(p, latitude, longitude, FINEST_CHOICE))),
                meta=pd.Series(dtype=np.uint64),
            )
            found, report_table = dask.compute(fine, reports)
            _raise_bad(report_table, latitude, longitude, measures)
            resolution = resolution_for(np.unique(found.to_numpy(dtype=np.uint64)), target)
        res = check_resolution(resolution)
        caps = check_max_load(max_load, measures)
        split = _split_cells(dask, checked, latitude, longitude, res, caps) if caps else set()
        placed = checked.map_partitions(
            _place,
            latitude,
            longitude,
            res,
            frozenset(split),
            meta=checked._meta.assign(unit=np.uint64(0)),
        )
    else:
        if polygons is None:
            msg = "method='polygons' needs `polygons=` (a GeoDataFrame of areas)."
            raise InputError(msg)
        # Joined in the projection build_units uses for polygons (from their own extent), so
        # that a customer near a border joins the same polygon on both paths.
        areas = prepare_polygons(polygons, polygon_id, local_crs(polygons.geometry))
        placed = checked.map_partitions(
            lambda p: p.assign(unit=_polygon_of(p, latitude, longitude, id_column, areas)),
            meta=checked._meta.assign(unit=np.int64(0)),
        )
    sums = placed.groupby("unit")[measures].sum() if measures else None
    counts = placed.groupby("unit").size()
    tasks: list[Any] = [counts, reports, *summary]
    if sums is not None:
        tasks.append(sums)
    if customer_units is not None:
        keep = [id_column, "unit"] if id_column else ["unit"]
        names = None if method == "hex" else areas.index
        dtype = "string" if names is None or names.dtype == object else names.dtype
        named = placed[keep].map_partitions(
            _unit_names, names, dtype, meta=placed[keep]._meta.assign(unit=pd.Series(dtype=dtype))
        )
        tasks.append(
            named.to_parquet(os.fspath(customer_units), compute=False, write_index=not id_column)
        )
    out = dask.compute(*tasks)
    counts, report_table = out[0], out[1]
    _raise_bad(report_table, latitude, longitude, measures)
    minx, miny, maxx, maxy, mean_sin, mean_cos = (float(v) for v in out[2:8])
    crs = (
        crs_for_extent((minx, miny, maxx, maxy), mean_sin, mean_cos)
        if method == "hex"
        else areas.crs
    )
    totals = out[8] if sums is not None else pd.DataFrame(index=counts.index)
    if method == "hex":  # corners and edge midpoints of the data's extent
        lon_box = np.array([minx, (minx + maxx) / 2, maxx] * 3)
        lat_box = np.repeat([miny, (miny + maxy) / 2, maxy], 3)
        corners = gpd.GeoSeries(gpd.points_from_xy(lon_box, lat_box), crs=4326)
        warn_distortion(corners, crs)

    if method == "hex":
        occupied = np.sort(counts.index.to_numpy(dtype=np.uint64))
        layout = hex_layout(
            occupied,
            res,
            crs,
            fill_gaps=fill_gaps,
            boundary=boundary,
            split=np.sort(np.fromiter(split, dtype=np.uint64, count=len(split))),
        )
        position = np.searchsorted(layout.settings.pop("cells"), occupied)
    else:
        layout = polygon_layout(
            None, polygons, crs, polygon_id=polygon_id, contiguity=contiguity, snap=snap
        )
        occupied = counts.index.to_numpy(dtype=np.int64)
        position = occupied
    table = pd.DataFrame(index=pd.RangeIndex(len(layout.ids)))
    table[COUNT] = np.zeros(len(table), dtype=np.int64)
    table.loc[position, COUNT] = counts.loc[occupied].to_numpy()
    for m in measures:
        table[m] = 0.0
        table.loc[position, m] = totals.loc[occupied, m].to_numpy(dtype=float)
    if customer_units is not None:
        layout.settings["customer_units"] = os.fspath(customer_units)
    return assemble_units(
        layout, table, crs, kind=method, customers=None, measures=measures, islands=islands
    )


def _place(
    part: pd.DataFrame, lat: str, lon: str, resolution: int, split: frozenset[int]
) -> pd.DataFrame:
    """Return the partition with each customer's unit cell (below the split cells)."""
    y, x = part[lat].to_numpy(dtype=float), part[lon].to_numpy(dtype=float)
    return part.assign(unit=descend(latlng_to_cells(y, x, resolution), y, x, set(split)))


def _split_cells(
    dask: Any, frame: Any, lat: str, lon: str, resolution: int, caps: list[tuple[str, float]]
) -> set[int]:
    """Return the cells to split for ``max_load``: one pass over the data per level of splitting."""
    split: set[int] = set()
    limits = np.array([c for _, c in caps])
    while True:
        placed = frame.map_partitions(
            _place,
            lat,
            lon,
            resolution,
            frozenset(split),
            meta=frame._meta.assign(unit=np.uint64(0)),
        )
        loads = {f"load{j}": 1.0 if m == COUNT else placed[m] for j, (m, _) in enumerate(caps)}
        grouped = placed.assign(**loads).groupby("unit")
        sums, low, high = dask.compute(
            grouped[list(loads)].sum(), grouped[[lat, lon]].min(), grouped[[lat, lon]].max()
        )
        table = sums.join(low.rename(columns={lat: "lat_min", lon: "lng_min"}))
        table = table.join(high.rename(columns={lat: "lat_max", lon: "lng_max"}))
        if np.isnan(limits).any():  # max_load="auto": from the cells of the first pass
            limits = auto_caps(limits, sums[list(loads)].to_numpy(dtype=float))
        more = heavy_cells(table.index.to_numpy(dtype=np.uint64), table, limits)
        if len(more) == 0:
            return split
        split.update(int(c) for c in more)


def _cells(part: pd.DataFrame, lat: str, lon: str, resolution: int) -> np.ndarray:
    return latlng_to_cells(
        part[lat].to_numpy(dtype=float), part[lon].to_numpy(dtype=float), resolution
    )


def _unit_names(part: pd.DataFrame, names: pd.Index | None, dtype: Any) -> pd.DataFrame:
    """Return the partition with each customer's unit as the id :class:`Units` uses.

    The H3 name of its cell (``names`` None), or the id of its polygon (``names[position]``).
    """
    if names is None:
        unit = [h3.int_to_str(int(cell)) for cell in part["unit"].to_numpy()]
    else:
        unit = list(names[part["unit"].to_numpy(dtype=np.int64)])
    return part.assign(unit=pd.Series(unit, index=part.index, dtype=dtype))


def _polygon_of(
    part: pd.DataFrame, lat: str, lon: str, id_column: str | None, areas: gpd.GeoSeries
) -> np.ndarray:
    ids = part[id_column] if id_column else part.index
    points = gpd.GeoSeries(
        gpd.points_from_xy(part[lon].to_numpy(), part[lat].to_numpy()), index=ids, crs=4326
    )
    return join_customers(points.to_crs(areas.crs), areas, "raise")
