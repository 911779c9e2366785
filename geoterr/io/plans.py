"""Saving a plan to a folder and reading it back.

A plan folder holds ``assignments.csv`` (every input customer with its id and territory),
``territories.geojson``, ``summary.csv``, ``map.html`` and ``plan.json`` (and
``before_after.html`` and ``timings.json`` when asked). Folders are written next to the target
and put in place in one step (:mod:`geoterr.io.folders`), so a failed or killed save leaves no
half-written plan and loses no earlier one; they are read back strictly
(:mod:`geoterr.io.plan_readers`).
"""

from __future__ import annotations

import json
import math
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geoterr import __version__
from geoterr._errors import InputError, format_ids
from geoterr.io.csv_safety import write_csv
from geoterr.io.folders import (
    check_path_arg,
    check_target,
    interrupted_save,
    write_folder,
)
from geoterr.io.plan_extras import load_extras, save_extras
from geoterr.io.plan_readers import (
    FORMAT_VERSION,
    plan_file,
    read_assignments,
    read_centers,
    read_meta,
    read_summary,
    read_territories,
    strict_json,
)
from geoterr.plan import Plan

__all__ = ["PLAN_FILES", "check_target", "check_tiles", "load_plan", "save_plan"]

PLAN_FILES = ("assignments.csv", "territories.geojson", "summary.csv", "map.html", "plan.json")


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def _customer_table(plan: Plan) -> tuple[pd.DataFrame, list[str]]:
    """Every customer row as a table, and the names of its latitude and longitude columns.

    The input's own degree columns are kept as they are; when the customers came as geometry
    or projected coordinates, WGS 84 ``latitude``/``longitude`` columns are added.
    """
    assert plan.customers is not None
    customers = plan.customers
    table = pd.DataFrame(customers.drop(columns=customers.geometry.name))
    geo = customers.attrs.get("geoterr", {})
    lat, lon = geo.get("lat"), geo.get("lon")
    if not (geo.get("degrees") and lat in table.columns and lon in table.columns):
        lat, lon = "latitude", "longitude"
        while lat in table.columns or lon in table.columns:
            lat, lon = f"geoterr_{lat}", f"geoterr_{lon}"
        table[lat] = customers.geometry.y
        table[lon] = customers.geometry.x
    return table.reset_index(), [str(lat), str(lon)]


def check_tiles(tiles: Any, attr: Any = None) -> Any:
    """Background tiles for the maps, checked: ``None``, a provider name, or a URL template.

    Parameters
    ----------
    tiles : str or None
        A folium/xyzservices provider name (``"OpenStreetMap"``, ``"CartoDB positron"``) or
        a tile URL template such as ``"https://tiles.example.com/{z}/{x}/{y}.png"``.
    attr : str, optional
        The attribution shown on the map (required for a URL template; shown as text).

    Returns
    -------
    None, str or xyzservices.TileProvider
        What to give :func:`geoterr.plan_map` as ``tiles``.

    Raises
    ------
    InputError
        For an unknown name, a URL that is not a tile template, or a template without
        ``attr``.

    Examples
    --------
    >>> check_tiles("OpenStreetMap")
    'OpenStreetMap'
    >>> check_tiles("https://t.example.com/{z}/{x}/{y}.png", "Example tiles").url
    'https://t.example.com/{z}/{x}/{y}.png'
    """
    import html

    import xyzservices

    if attr is not None and (not isinstance(attr, str) or not attr.strip()):
        msg = f"`attr` must be a non-empty text (the tiles' attribution), got {attr!r}."
        raise InputError(msg)
    if tiles is None:
        if attr is not None:
            msg = "`attr` is the attribution of custom tiles: give `tiles` too."
            raise InputError(msg)
        return None
    if not isinstance(tiles, str) or not tiles.strip():
        msg = f"`tiles` must be a provider name or a tile URL template, got {tiles!r}."
        raise InputError(msg)
    if "://" in tiles:
        if not tiles.startswith(("https://", "http://")) or not all(
            part in tiles for part in ("{z}", "{x}", "{y}")
        ):
            msg = (
                f"`tiles` {tiles!r} is not a tile URL template: give an http(s) address with "
                "{z}, {x} and {y}, e.g. https://tile.example.com/{z}/{x}/{y}.png."
            )
            raise InputError(msg)
        if attr is None:
            msg = (
                f"custom tiles {tiles!r} need their attribution: pass `attr` with the text the "
                "tile provider asks for, e.g. '(c) OpenStreetMap contributors'."
            )
            raise InputError(msg)
        return xyzservices.TileProvider(
            name="custom", url=tiles, attribution=attr, html_attribution=html.escape(attr)
        )
    try:
        provider = xyzservices.providers.query_name(
            "OpenStreetMap Mapnik" if tiles.lower() == "openstreetmap" else tiles
        )
    except ValueError:
        msg = (
            f"`tiles` {tiles!r} is not a known tile provider; give a name such as "
            "OpenStreetMap or 'CartoDB positron' (see xyzservices.providers), or a URL "
            "template with --attr."
        )
        raise InputError(msg) from None
    if attr is not None:
        return xyzservices.TileProvider(
            {**provider, "attribution": attr, "html_attribution": html.escape(attr)}
        )
    if provider.requires_token():
        msg = f"tiles {tiles!r} need an API key; give their URL template with the key and --attr."
        raise InputError(msg)
    return tiles


def _check_save_args(plan: Any, options: dict[str, Any]) -> None:
    if not isinstance(plan, Plan):
        msg = f"`plan` must be a geoterr Plan, got {type(plan).__name__}."
        raise InputError(msg)
    for name in ("map", "overwrite", "timings"):
        if not isinstance(options[name], bool):
            msg = f"`{name}` must be True or False, got {options[name]!r}."
            raise InputError(msg)
    before = options["before"]
    if not (before is None or isinstance(before, Plan | str | pd.Series)):
        msg = (
            "`before` must be an earlier Plan, a customers column name or a Series "
            f"customer id -> territory, got {type(before).__name__}."
        )
        raise InputError(msg)
    reps = options["reps"]
    if not (reps is None or isinstance(reps, pd.DataFrame | str | os.PathLike)):
        msg = f"`reps` must be a DataFrame or the path of a reps CSV, got {type(reps).__name__}."
        raise InputError(msg)


def _meta(plan: Plan, coordinates: list[str]) -> dict[str, Any]:
    """plan.json: what made the plan and what it promises.

    Nothing that changes between identical runs (no clock, no timings).
    """
    return {
        "geoterr_version": __version__,
        "format_version": FORMAT_VERSION,
        "status": plan.status,
        "problems": list(plan.problems),
        "objective": plan.objective,
        "lower_bound": plan.lower_bound,
        "lower_bound_scope": plan.lower_bound_scope,
        "gap": plan.gap,
        "params": plan.params,
        "id_column": plan.id_column,
        "coordinate_columns": coordinates,
        "n_customers": None if plan.customers is None else len(plan.customers),
        "n_units": len(plan.assignment),
        "centers": plan.centers.reset_index().to_dict(orient="records"),
        "crs": None if plan.units is None else plan.units.crs.to_wkt(),
    }


def _write_json(path: Path, value: Any) -> None:
    path.write_text(
        json.dumps(_jsonable(value), indent=2, allow_nan=False) + "\n", encoding="utf-8"
    )


def _write_files(
    plan: Plan,
    work: Path,
    *,
    tiles: Any,
    before: Any,
    reps: Any,
    timings: bool,
    map: bool,  # noqa: A002 (the name of save_plan's public keyword)
) -> None:
    if plan.customers is not None:
        table, coordinates = _customer_table(plan)
        write_csv(table, work / "assignments.csv", index=False)
    else:
        coordinates = []
        write_csv(
            plan.assignment.rename_axis("unit").reset_index(), work / "assignments.csv", index=False
        )
    plan.territories.reset_index().to_file(work / "territories.geojson", driver="GeoJSON")
    write_csv(plan.summary(), work / "summary.csv")
    _write_json(work / "plan.json", _meta(plan, coordinates))
    if timings:
        created = datetime.now(UTC).isoformat(timespec="seconds")
        _write_json(work / "timings.json", {"seconds": plan.seconds, "created": created})
    if map:
        from geoterr.maps import before_after_map

        # Plan.map: the roster's reps by default and the regions layer (geoterr.io.plan_extras)
        plan.map(tiles=tiles, before=before, reps=reps).save(str(work / "map.html"))
        if isinstance(before, Plan):
            side_by_side = before_after_map(before, plan, tiles=tiles, reps=reps)
            side_by_side.save(str(work / "before_after.html"))


def save_plan(  # noqa: PLR0913 (public API: every option is a documented keyword)
    plan: Plan,
    path: str | os.PathLike[str],
    *,
    map: bool = True,  # noqa: A002 (public keyword: draw the map)
    tiles: str | None = None,
    before: Any = None,
    reps: Any = None,
    overwrite: bool = False,
    attr: str | None = None,
    timings: bool = False,
) -> Path:
    """Write ``plan`` to the folder ``path``, atomically.

    The files are written in a hidden folder next to ``path`` and put in place in one step:
    a failed or killed save leaves either no folder or a complete one, and an earlier plan
    is never lost. Leftovers of an earlier interrupted save are removed first.

    Parameters
    ----------
    plan : Plan
    path : path-like
        The folder: new or empty, or an earlier plan (with ``overwrite``). A folder that holds
        any file geoterr did not write is refused, so nothing of yours is ever deleted.
    map : bool
        Also write ``map.html``.
    tiles : str, optional
        Background tiles for the map: a provider name or a URL template (see
        :func:`check_tiles`).
    before : Plan, str or Series, optional
        What the territories were, for the map's moved customers (see
        :func:`geoterr.plan_map`). When it is an earlier plan, ``before_after.html`` (the two
        plans side by side, :func:`geoterr.before_after_map`) is written too.
    reps : DataFrame, GeoDataFrame or path, optional
        Reps with home locations, shown on the map(s).
    overwrite : bool
        Replace an earlier plan in ``path``.
    attr : str, optional
        The attribution of custom ``tiles`` (a URL template).
    timings : bool
        Also write ``timings.json`` (design seconds, when saved). Off by default so that the
        same input, options and seed give byte-identical files.

    Returns
    -------
    Path
        The folder written.

    Raises
    ------
    InputError
        For a target that cannot be used (see :func:`geoterr.io.folders.check_target`) or
        wrong options; nothing is written then.

    Examples
    --------
    >>> import tempfile
    >>> import geoterr as gt
    >>> units = gt.build_units(gt.read_customers(gt.sample_path()), measures=["workload"])
    >>> plan = gt.design(units, 4, balance={"workload": 0.05})
    >>> folder = gt.save_plan(plan, tempfile.mkdtemp() + "/plan", map=False)
    >>> sorted(p.name for p in folder.iterdir())[:3]
    ['assignments.csv', 'plan.json', 'summary.csv']
    >>> gt.load_plan(folder).assignment.equals(plan.assignment)
    True
    """
    options = {
        "map": map,
        "overwrite": overwrite,
        "timings": timings,
        "before": before,
        "reps": reps,
    }
    _check_save_args(plan, options)
    tile_source = check_tiles(tiles, attr)
    check_target(path, overwrite=overwrite)  # a bad target before the reps are read
    if map and reps is not None:
        from geoterr.maps.homes import rep_table

        rep_table(reps)  # refuse bad reps before writing anything

    def fill(work: Path) -> None:
        _write_files(
            plan, work, tiles=tile_source, before=before, reps=reps, timings=timings, map=map
        )
        save_extras(plan, work)

    return write_folder(path, fill, overwrite=overwrite)


def _missing_folder(folder: Path) -> InputError:
    aside = interrupted_save(folder.resolve())
    if aside is not None:
        return InputError(
            f"`path` {str(folder)!r} does not exist, but an interrupted save left the earlier "
            f"plan in {str(aside)!r}: rename it back to {folder.name!r} (or save to "
            f"{folder.name!r} again, which puts it back first)."
        )
    return InputError(
        f"`path` {str(folder)!r} does not exist; give a plan folder saved by geoterr."
    )


def load_plan(path: str | os.PathLike[str]) -> Plan:
    """Read a plan folder written by :meth:`Plan.save`.

    Every file is read as exactly the format geoterr writes and checked (see
    :mod:`geoterr.io.plan_readers`): a hand-edited, truncated or foreign folder raises an
    :class:`InputError` naming the file and the fix. The plan comes back without its units
    (``plan.units`` is None): it can be inspected, mapped, compared and saved again, not
    re-optimised.

    Raises
    ------
    InputError
        If ``path`` is not a complete, consistent plan folder this geoterr can read.

    Examples
    --------
    >>> import geoterr as gt, tempfile
    >>> units = gt.build_units(gt.read_customers(gt.sample_path()), measures=["workload"])
    >>> plan = gt.design(units, 6, balance={"workload": 0.05})
    >>> folder = plan.save(tempfile.mkdtemp() + "/plan", map=False)
    >>> gt.load_plan(folder).summary().equals(plan.summary())
    True
    """
    folder = check_path_arg(path)
    if not folder.is_dir():
        if folder.exists():
            msg = (
                f"`path` {str(folder)!r} is a file; give the plan folder (the one with plan.json)."
            )
            raise InputError(msg)
        raise _missing_folder(folder)
    if not (folder / "plan.json").exists() and not (folder / "plan.json").is_symlink():
        msg = f"`path` {str(folder)!r} is not a geoterr plan folder (no plan.json)."
        raise InputError(msg)
    meta = read_meta(folder)
    summary = read_summary(folder)
    names = summary.index
    territories = read_territories(folder)
    if set(territories.index) != set(map(str, names)):
        diff = sorted(set(territories.index) ^ set(map(str, names)))
        msg = (
            f"{str(folder / 'territories.geojson')!r} and summary.csv list different "
            f"territories ({format_ids(diff)}); save the plan again with geoterr."
        )
        raise InputError(msg)
    territories = territories.loc[[str(n) for n in names]].set_axis(names)
    for column in summary.columns:  # keep the dtypes summary.csv round-trips exactly
        territories[column] = summary[column].to_numpy()
    territories = territories[[*summary.columns, "geometry"]]
    table = read_assignments(folder, meta, names)
    _check_counts(folder, table, summary, meta)
    customers = None
    if meta["n_customers"] is not None:
        id_col = meta["id_column"]
        table = table.set_index(id_col)
        lat_col, lon_col = meta["coordinate_columns"] or ["latitude", "longitude"]
        lat = pd.to_numeric(table[lat_col]).to_numpy(dtype=float)
        lon = pd.to_numeric(table[lon_col]).to_numpy(dtype=float)
        customers = gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(lon, lat), crs=4326)
        customers.attrs["geoterr"] = {"id": id_col, "lat": lat_col, "lon": lon_col, "degrees": True}
        assignment = table.groupby("unit", sort=False)["territory"].first()
    else:
        assignment = table.set_index("unit")["territory"]
    assignment.name = "territory"
    plan = Plan(
        assignment=assignment,
        customers=customers,
        territories=territories,
        centers=read_centers(folder / "plan.json", meta, names),
        params=meta["params"],
        status=meta["status"],
        problems=tuple(meta["problems"]),
        objective=meta["objective"],
        lower_bound=meta["lower_bound"],
        seconds=_seconds(folder, meta),
        # files written before the field hold the scope only in params
        lower_bound_scope=meta.get("lower_bound_scope", meta["params"].get("lower_bound_scope")),
        units=None,
    )
    loaded: Plan = load_extras(folder, plan)
    return loaded


def _check_counts(
    folder: Path, table: pd.DataFrame, summary: pd.DataFrame, meta: dict[str, Any]
) -> None:
    """summary.csv's customer counts must be those of assignments.csv."""
    if meta["n_customers"] is None or "customers" not in summary.columns:
        return
    counts = table["territory"].astype(str).value_counts()
    stated = pd.Series(summary["customers"].to_numpy(), index=summary.index.astype(str))
    wrong = [t for t in stated.index if counts.get(t, 0) != stated[t]]
    if wrong:
        t = wrong[0]
        msg = (
            f"{str(folder)!r}: summary.csv and assignments.csv disagree on the customers of "
            f"{format_ids(wrong)} ({t}: {stated[t]} in summary.csv, {counts.get(t, 0)} in "
            "assignments.csv); one was edited by hand: save the plan again with geoterr."
        )
        raise InputError(msg)


def _seconds(folder: Path, meta: dict[str, Any]) -> float:
    """Return the design time.

    From timings.json when saved with ``timings=True`` (older plans: plan.json).
    """
    if (folder / "timings.json").exists() or (folder / "timings.json").is_symlink():
        timing = strict_json(plan_file(folder, "timings.json", limit=1_000_000))
        seconds = timing.get("seconds") if isinstance(timing, dict) else None
        if not isinstance(seconds, int | float) or isinstance(seconds, bool):
            msg = (
                f"{str(folder / 'timings.json')!r} has no number of seconds; delete it or "
                "save the plan again."
            )
            raise InputError(msg)
        return float(seconds)
    return float(meta.get("seconds", math.nan))
