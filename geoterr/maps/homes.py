"""Reps on the map: their table (name, territory, home) and the territory each one covers.

:func:`rep_table` reads what the user gives (a frame, a GeoDataFrame of homes, or a CSV path)
into one shape the map, the figure and the CLI use; :func:`rep_names` gives each territory
its rep's name, from that table or from a customers column.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import pandas as pd

from geoterr._errors import InputError
from geoterr._validate import first_column

if TYPE_CHECKING:
    from geoterr.plan import Plan

__all__ = ["rep_names", "rep_table"]


def rep_table(reps: Any) -> pd.DataFrame:
    """Reps as ``name``, ``territory``, ``latitude``, ``longitude`` and their other columns.

    Parameters
    ----------
    reps : DataFrame, GeoDataFrame or path
        One row per rep: a name (``name``/``rep``/``rep_name``), a territory
        (``territory``/``current_territory``) and a home location (``home_latitude`` and
        ``home_longitude``, ``latitude``/``longitude``, ``lat``/``lon``, or point geometry),
        like ``data/reps.csv``.

    Raises
    ------
    InputError
        Naming the columns that could not be found.
    """
    if isinstance(reps, str | os.PathLike):
        reps = pd.read_csv(reps)
    table = pd.DataFrame(reps).copy()
    name = first_column(table, ("name", "rep", "rep_name", "rep_id"))
    territory = first_column(table, ("territory", "current_territory"))
    geometry = getattr(reps, "geometry", None) if hasattr(reps, "crs") else None
    lat: str | None
    lon: str | None
    if geometry is not None:
        points = geometry.to_crs(4326) if reps.crs is not None else geometry
        table["latitude"], table["longitude"] = points.y.to_numpy(), points.x.to_numpy()
        lat, lon = "latitude", "longitude"
        table = table.drop(columns=[geometry.name])
    else:
        lat = first_column(table, ("home_latitude", "latitude", "lat"))
        lon = first_column(table, ("home_longitude", "longitude", "lon", "lng"))
    missing = [
        what
        for what, col in (("a name", name), ("a home latitude", lat), ("a home longitude", lon))
        if col is None
    ]
    if missing:
        msg = (
            f"`reps` has no column for {', '.join(missing)} (columns: "
            f"{', '.join(map(str, table.columns))}); expected e.g. name, territory, "
            "home_latitude, home_longitude as in data/reps.csv."
        )
        raise InputError(msg)
    out = pd.DataFrame(
        {
            "name": table[name].astype(str),
            "territory": table[territory].astype(str) if territory else None,
            "latitude": pd.to_numeric(table[lat], errors="coerce"),
            "longitude": pd.to_numeric(table[lon], errors="coerce"),
        },
        index=table.index,
    )
    used = {name, territory, lat, lon}
    for column in table.columns:
        if column not in used:
            out[f"_{column}"] = table[column]
    return out


def rep_names(plan: Plan, reps: pd.DataFrame | None, rep_column: str | None) -> dict[str, str]:
    """Territory -> rep name: from the reps table, else the commonest ``rep_column`` value."""
    names: dict[str, str] = {}
    if rep_column is not None and plan.customers is not None:
        if rep_column not in plan.customers.columns:
            msg = f"`rep_column` {rep_column!r} is not a customers column."
            raise InputError(msg)
        column = plan.customers[rep_column]
        for territory, values in column.groupby(plan.customers["territory"]):
            mode = values.dropna().astype(str).mode()
            if len(mode):
                names[str(territory)] = str(mode.iloc[0])
    if reps is not None:
        for _, row in reps.dropna(subset=["territory"]).iterrows():
            names[str(row["territory"])] = str(row["name"])
    return names
