"""Reps read from a table: who covers each territory and where they start from.

:func:`rep_homes` reads a rep roster (a frame or a CSV like ``data/reps.csv``) into one row per
territory; :func:`plan_reps` picks the roster to use for a plan (the one given, else one the
plan carries). :func:`geoterr.evaluate`, targets and tracking measure travel from these homes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from geoterr._errors import InputError, format_ids
from geoterr._validate import first_column
from geoterr.plan import Plan

__all__ = ["plan_reps", "rep_homes"]

REP_NAME = ("name", "rep", "rep_name", "rep_id")
REP_TERRITORY = ("territory", "current_territory")
REP_LAT = ("home_latitude", "latitude", "lat")
REP_LON = ("home_longitude", "longitude", "lon", "lng")


def rep_homes(reps: Any) -> pd.DataFrame:
    """Reps as a table indexed by territory: ``rep``, ``longitude``, ``latitude``.

    Parameters
    ----------
    reps : DataFrame or path
        One row per rep with a name (``name``/``rep``/``rep_name``/``rep_id``), a territory
        (``territory``/``current_territory``) and, optionally, a home location
        (``home_latitude``/``home_longitude`` or ``latitude``/``longitude``), like
        ``data/reps.csv``. When a territory has several reps, their names are joined and the
        first home is its origin.

    Returns
    -------
    DataFrame

    Raises
    ------
    InputError
        When the name or territory column is missing, or a home coordinate is not a number.

    Examples
    --------
    >>> import geoterr as gt
    >>> rep_homes(gt.sample_path("reps.csv")).loc["T01 New England", "rep"]
    'Avery Collins'
    """
    table = pd.read_csv(reps) if not isinstance(reps, pd.DataFrame) else pd.DataFrame(reps)
    name, territory = first_column(table, REP_NAME), first_column(table, REP_TERRITORY)
    lat, lon = first_column(table, REP_LAT), first_column(table, REP_LON)
    if name is None or territory is None:
        msg = (
            f"`reps` needs a rep name and a territory column (columns: "
            f"{', '.join(map(str, table.columns))}); expected e.g. name, territory, "
            "home_latitude, home_longitude as in data/reps.csv."
        )
        raise InputError(msg)
    out = pd.DataFrame({"territory": table[territory].astype(str), "rep": table[name].astype(str)})
    problems = []
    for column, source in (("latitude", lat), ("longitude", lon)):
        values = pd.to_numeric(table[source], errors="coerce") if source else np.nan
        out[column] = values
        if source is not None:
            bad = table.index[out[column].isna() & table[source].notna()]
            if len(bad):
                problems.append(
                    f"`reps` column {source!r} has values that are not numbers in rows "
                    f"{format_ids(bad)}; give degrees."
                )
    if problems:
        raise InputError("\n".join(problems))
    out = out[out["territory"].ne("nan")]
    joined = out.groupby("territory", sort=False)["rep"].agg(" / ".join)
    first = out.groupby("territory", sort=False)[["latitude", "longitude"]].first()
    return first.assign(rep=joined)[["rep", "latitude", "longitude"]]


def plan_reps(plan: Plan, reps: Any = None) -> pd.DataFrame | None:
    """Return the reps to use: ``reps`` when given, else a roster the plan carries, else None.

    A carried roster that does not have a rep name and a territory column is not used.
    """
    if reps is not None:
        return rep_homes(reps)
    for attribute in ("roster", "reps"):
        carried = getattr(plan, attribute, None)
        if isinstance(carried, pd.DataFrame) and len(carried):
            try:
                return rep_homes(carried)
            except InputError:
                continue
    return None
