"""Saving a plan to a folder and reading it back.

A plan folder holds ``assignments.csv`` (every input customer with its id and territory),
``territories.geojson``, ``summary.csv``, ``map.html`` and ``plan.json``. Folders are written
next to the target and renamed into place, so a failed save leaves no half-written plan.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geoterr import __version__
from geoterr._csv_safety import restore, write_csv
from geoterr._errors import InputError
from geoterr.plan import Plan

__all__ = ["PLAN_FILES", "load_plan", "save_plan"]

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


def check_target(path: str | os.PathLike[str]) -> Path:
    """Check that a plan can be written to ``path`` (before spending time on a design).

    Returns
    -------
    Path
        The absolute folder path.

    Raises
    ------
    InputError
        If ``path`` is a file, the current folder, or a non-empty folder that is not a plan.
    """
    target = Path(path).resolve()
    if target == Path.cwd().resolve() or target.parent == target:
        msg = f"`path` {str(path)!r} is the current or root folder; give a new folder for the plan."
        raise InputError(msg)
    if target.exists():
        if not target.is_dir():
            msg = f"`path` {str(target)!r} is a file; give a folder for the plan."
            raise InputError(msg)
        if any(target.iterdir()) and not (target / "plan.json").exists():
            msg = (
                f"`path` {str(target)!r} is a non-empty folder that is not a geoterr plan; "
                "choose a new or empty folder so nothing there is overwritten."
            )
            raise InputError(msg)
    return target


def save_plan(
    plan: Plan,
    path: str | os.PathLike[str],
    *,
    map: bool = True,
    tiles: str | None = None,
    before: Any = None,
    reps: Any = None,
) -> Path:
    """Write ``plan`` to the folder ``path``, atomically.

    Parameters
    ----------
    plan : Plan
    path : path-like
        The folder. It is created; an existing plan folder there is replaced, any other
        non-empty folder is refused.
    map : bool
        Also write ``map.html``.
    tiles : str, optional
        Background tiles for the map (see :func:`geoterr.plan_map`).
    before : Plan, str or Series, optional
        What the territories were, for the map's moved customers (see
        :func:`geoterr.plan_map`). When it is an earlier plan, ``before_after.html`` (the two
        plans side by side, :func:`geoterr.before_after_map`) is written too.
    reps : DataFrame, GeoDataFrame or path, optional
        Reps with home locations, shown on the map(s).

    Returns
    -------
    Path
        The folder written.
    """
    target = check_target(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        if plan.customers is not None:
            table, coordinates = _customer_table(plan)
            write_csv(table, work / "assignments.csv", index=False)
        else:
            coordinates = []
            write_csv(
                plan.assignment.rename_axis("unit").reset_index(),
                work / "assignments.csv",
                index=False,
            )
        plan.territories.reset_index().to_file(work / "territories.geojson", driver="GeoJSON")
        write_csv(plan.summary(), work / "summary.csv")
        meta = {
            "geoterr_version": __version__,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "status": plan.status,
            "problems": list(plan.problems),
            "objective": plan.objective,
            "lower_bound": plan.lower_bound,
            "gap": plan.gap,
            "seconds": plan.seconds,
            "params": plan.params,
            "id_column": plan.id_column,
            "coordinate_columns": coordinates,
            "n_customers": None if plan.customers is None else len(plan.customers),
            "n_units": len(plan.assignment),
            "centers": plan.centers.reset_index().to_dict(orient="records"),
            "crs": None if plan.units is None else plan.units.crs.to_wkt(),
        }
        (work / "plan.json").write_text(json.dumps(_jsonable(meta), indent=2), encoding="utf-8")
        if map:
            from geoterr.maps import before_after_map, plan_map

            plan_map(plan, tiles=tiles, before=before, reps=reps).save(str(work / "map.html"))
            if isinstance(before, Plan):
                side_by_side = before_after_map(before, plan, tiles=tiles, reps=reps)
                side_by_side.save(str(work / "before_after.html"))
        os.chmod(work, 0o755)
        if target.exists():
            old = Path(
                tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent)
            )
            old.rmdir()
            target.rename(old)
            work.rename(target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            work.rename(target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return target


def load_plan(path: str | os.PathLike[str]) -> Plan:
    """Read a plan folder written by :meth:`Plan.save`.

    The plan comes back without its units (``plan.units`` is None): it can be inspected,
    mapped, compared and saved again, not re-optimised.

    Examples
    --------
    >>> import geoterr as gt, tempfile
    >>> units = gt.build_units(gt.read_customers(gt.sample_path()), measures=["workload"])
    >>> plan = gt.design(units, 6, balance={"workload": 0.05})
    >>> folder = plan.save(tempfile.mkdtemp() + "/plan", map=False)
    >>> gt.load_plan(folder).summary().equals(plan.summary())
    True
    """
    from geoterr.io import _infer_numeric

    folder = Path(path)
    meta_file = folder / "plan.json"
    if not meta_file.exists():
        msg = f"`path` {str(folder)!r} is not a geoterr plan folder (no plan.json)."
        raise InputError(msg)
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    table = _infer_numeric(
        # read as read_customers reads, so ids come back with their type
        restore(
            pd.read_csv(
                folder / "assignments.csv", dtype=str, keep_default_na=False, na_values=[""]
            )
        )
    )
    id_col = meta["id_column"]
    customers = None
    if id_col in table.columns:
        table = table.set_index(id_col)
        lat_col, lon_col = meta.get("coordinate_columns") or ["latitude", "longitude"]
        lat = table[lat_col].to_numpy(dtype=float)
        lon = table[lon_col].to_numpy(dtype=float)
        customers = gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(lon, lat), crs=4326)
        customers.attrs["geoterr"] = {"id": id_col, "lat": lat_col, "lon": lon_col, "degrees": True}
        assignment = table.groupby("unit", sort=False)["territory"].first()
    else:
        assignment = table.set_index("unit")["territory"]
    assignment.name = "territory"
    territories = gpd.read_file(folder / "territories.geojson").set_index("territory")
    summary = restore(pd.read_csv(folder / "summary.csv", index_col="territory"))
    territories = territories[[*summary.columns, "geometry"]]
    for column in summary.columns:  # keep the dtypes summary.csv round-trips exactly
        territories[column] = summary[column].to_numpy()
    centers = pd.DataFrame(meta["centers"]).set_index("territory")
    return Plan(
        assignment=assignment,
        customers=customers,
        territories=territories,
        centers=centers,
        params=meta["params"],
        status=meta["status"],
        problems=tuple(meta["problems"]),
        objective=meta["objective"],
        lower_bound=meta["lower_bound"],
        seconds=meta["seconds"],
        units=None,
    )
