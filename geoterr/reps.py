"""Sales reps: reading a roster, travel from their homes, designing around them.

:func:`read_reps` checks a reps file; :func:`travel_costs` gives the visit-weighted travel
from each home to each territory; :func:`design_for_reps` designs the territories around the
reps' homes in one call. Assigning reps to finished territories is
:func:`geoterr.rep_assign.assign_reps`. Both return a :class:`~geoterr.plan.Plan` whose
``roster`` says who covers what.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from geoterr._errors import (
    InputError,
    format_ids,
)

__all__ = [
    "OPEN_TERRITORY",
    "design_for_reps",
    "read_reps",
    "rep_homes",
    "travel_costs",
]

OPEN_TERRITORY = "open territory"
EARTH_KM = 6371.0088
ROSTER_COLUMNS = (
    "rep",
    "name",
    "territory",
    "customers",
    "workload",
    "revenue",
    "travel_km",
    "fte",
    "size",
    "current_territory",
    "kept",
    "status",
)
_ID = ("rep_id", "id", "rep", "user_id")
_NAME = ("name", "rep_name", "full_name")
_LAT = ("home_latitude", "latitude", "lat", "home_lat")
_LON = ("home_longitude", "longitude", "lon", "lng", "home_lon")
_FTE = ("capacity_fte", "fte", "capacity")
_SKILLS = ("skills", "segments", "segment", "serves")
_CURRENT = ("current_territory", "territory")


def _pick(table: pd.DataFrame, given: str | None, options: Sequence[str], what: str) -> Any:
    if given is not None:
        if given not in table.columns:
            msg = (
                f"`reps` has no column {given!r} for {what}; columns: "
                f"{', '.join(map(str, table.columns))}."
            )
            raise InputError(msg)
        return given
    lower = {str(c).lower(): c for c in table.columns}
    return next((lower[o] for o in options if o in lower), None)


def _skill_set(value: Any) -> frozenset[str]:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return frozenset()
    if isinstance(value, list | tuple | set | frozenset):
        return frozenset(str(v).strip() for v in value if str(v).strip())
    parts = str(value).replace("|", ";").replace(",", ";").split(";")
    return frozenset(p.strip() for p in parts if p.strip())


def read_reps(
    reps: Any,
    *,
    id_col: str | None = None,
    name_col: str | None = None,
    lat: str | None = None,
    lon: str | None = None,
    fte_col: str | None = None,
    skills_col: str | None = None,
    current_col: str | None = None,
) -> pd.DataFrame:
    """Read and check a reps table: one row per rep with a home location.

    Parameters
    ----------
    reps : path, DataFrame or GeoDataFrame
        A CSV (or frame) like ``data/reps.csv``. Columns are found from common names unless
        given: an id (``rep_id``), a ``name``, the home (``home_latitude`` /
        ``home_longitude``, ``latitude`` / ``longitude`` or point geometry), the capacity in
        FTE (``capacity_fte``, default 1), skills or segments served (``skills``,
        ``segments``; several separated by ``;``) and the current territory
        (``current_territory``).
    id_col, name_col, lat, lon, fte_col, skills_col, current_col : str, optional
        Column names when they are not the usual ones.

    Returns
    -------
    DataFrame
        Index ``rep`` (the rep id as text), columns ``name``, ``latitude``, ``longitude``,
        ``fte``, ``skills`` (frozensets), ``current_territory``, then the other input columns.

    Raises
    ------
    InputError
        Every problem at once: missing columns, homes missing or out of range (with a hint
        when latitude and longitude look swapped), duplicate ids, FTE missing, zero or
        negative.

    Examples
    --------
    >>> import geoterr as gt
    >>> reps = gt.read_reps(gt.sample_path("reps.csv"))
    >>> len(reps), float(reps.loc["R12", "fte"])
    (12, 0.5)
    """
    if isinstance(reps, str | os.PathLike):
        reps = pd.read_csv(reps, dtype=str, keep_default_na=False, na_values=[""])
    if not isinstance(reps, pd.DataFrame):
        msg = f"`reps` must be a CSV path or a DataFrame, got {type(reps).__name__}."
        raise InputError(msg)
    table = pd.DataFrame(reps).copy()
    geometry = getattr(reps, "geometry", None) if hasattr(reps, "crs") else None
    if geometry is not None:
        points = geometry.to_crs(4326) if reps.crs is not None else geometry
        table = table.drop(columns=[geometry.name])
        table["latitude"], table["longitude"] = points.y.to_numpy(), points.x.to_numpy()
    cols = {
        "id": _pick(table, id_col, _ID, "the rep id"),
        "name": _pick(table, name_col, _NAME, "the rep name"),
        "lat": _pick(table, lat, _LAT, "the home latitude"),
        "lon": _pick(table, lon, _LON, "the home longitude"),
        "fte": _pick(table, fte_col, _FTE, "the FTE"),
        "skills": _pick(table, skills_col, _SKILLS, "skills"),
        "current": _pick(table, current_col, _CURRENT, "the current territory"),
    }
    missing = [w for w in ("id", "lat", "lon") if cols[w] is None]
    if cols["id"] is None and cols["name"] is not None:
        cols["id"] = cols["name"]
        missing.remove("id")
    if missing:
        msg = (
            f"`reps` has no column for the rep {' and '.join(missing)} (columns: "
            f"{', '.join(map(str, table.columns))}); expected rep_id, name, home_latitude, "
            "home_longitude as in data/reps.csv, or pass id_col=, lat=, lon=."
        )
        raise InputError(msg)
    return _checked_reps(table, cols)


def _checked_reps(table: pd.DataFrame, cols: dict[str, Any]) -> pd.DataFrame:
    rows = pd.Series(np.arange(2, len(table) + 2), index=table.index)  # file line numbers
    ids = table[cols["id"]].astype("string").str.strip()
    latitude = pd.to_numeric(table[cols["lat"]], errors="coerce")
    longitude = pd.to_numeric(table[cols["lon"]], errors="coerce")
    problems = []
    if ids.isna().any() or (ids == "").any():
        bad = rows[ids.isna() | (ids == "")]
        problems.append(f"{len(bad)} reps have no id (lines {format_ids(bad)}); give every rep one")
    dup = ids[ids.duplicated(keep=False) & ids.notna()]
    if len(dup):
        where = "; ".join(
            f"{rep!r} on lines {format_ids(rows[dup.index[dup == rep]])}" for rep in dup.unique()
        )
        problems.append(f"duplicate rep ids ({where}); each rep needs its own id")
    no_home = latitude.isna() | longitude.isna()
    if no_home.any():
        problems.append(
            f"{int(no_home.sum())} reps have no home coordinates (lines "
            f"{format_ids(rows[no_home])}, reps {format_ids(ids[no_home])}); fill "
            f"{cols['lat']} and {cols['lon']} in degrees"
        )
    outside = ~no_home & ((latitude.abs() > 90) | (longitude.abs() > 180))
    if outside.any():
        swapped = outside & (longitude.abs() <= 90) & (latitude.abs() <= 180)
        hint = " (they look swapped: latitude and longitude exchanged)" if swapped.any() else ""
        problems.append(
            f"{int(outside.sum())} reps have a home outside latitude [-90, 90] or longitude "
            f"[-180, 180] (lines {format_ids(rows[outside])}){hint}; fix {cols['lat']} and "
            f"{cols['lon']} or pass lat= and lon="
        )
    if cols["fte"] is not None:
        fte = pd.to_numeric(table[cols["fte"]], errors="coerce")
        bad_fte = fte.isna() | ~(fte > 0) | ~np.isfinite(fte)
        if bad_fte.any():
            values = table[cols["fte"]][bad_fte].astype(str).tolist()
            problems.append(
                f"{int(bad_fte.sum())} reps have a missing, zero or negative FTE in "
                f"{cols['fte']!r} (lines {format_ids(rows[bad_fte])}: {format_ids(values)}); "
                "give each rep a positive capacity (1 = full time, 0.5 = half time) or drop "
                "the rep"
            )
    else:
        fte = pd.Series(1.0, index=table.index)
    if problems:
        raise InputError("`reps` cannot be used: " + "; ".join(problems) + ".")
    out = pd.DataFrame(index=pd.Index(ids.astype(str).to_numpy(), name="rep"))
    out["name"] = (
        table[cols["name"]].astype(str).to_numpy() if cols["name"] else out.index.to_numpy()
    )
    out["latitude"] = latitude.to_numpy(dtype=float)
    out["longitude"] = longitude.to_numpy(dtype=float)
    out["fte"] = fte.to_numpy(dtype=float)
    skills = table[cols["skills"]] if cols["skills"] else pd.Series(None, index=table.index)
    out["skills"] = pd.Series([_skill_set(v) for v in skills], index=out.index, dtype=object)
    current = table[cols["current"]] if cols["current"] else pd.Series(None, index=table.index)
    out["current_territory"] = [None if pd.isna(v) else str(v) for v in current]
    used = {c for c in cols.values() if c is not None}
    for column in table.columns:
        if column not in used and column not in out.columns:
            out[column] = table[column].to_numpy()
    return out


def check_homes_near(reps: pd.DataFrame, lonlat: np.ndarray, *, what: str = "customers") -> None:
    """Refuse rep homes far outside the customers' extent that would fit it swapped.

    Raises
    ------
    InputError
        Naming the reps whose home lies more than 10 degrees outside the customers' bounding
        box while the swapped coordinates lie inside it.
    """
    if len(lonlat) == 0:
        return
    lo, hi = lonlat.min(axis=0) - 10, lonlat.max(axis=0) + 10

    def inside(x: pd.Series, y: pd.Series) -> pd.Series:
        result: pd.Series = (x >= lo[0]) & (x <= hi[0]) & (y >= lo[1]) & (y <= hi[1])
        return result

    lon, lat = reps["longitude"], reps["latitude"]
    swapped = ~inside(lon, lat) & inside(lat, lon)
    if swapped.any():
        msg = (
            f"`reps` has {int(swapped.sum())} homes far from every one of the {what} that "
            f"would sit among them with latitude and longitude swapped (reps "
            f"{format_ids(reps.index[swapped])}); swap the two columns for these reps."
        )
        raise InputError(msg)


def rep_homes(plan: Any) -> pd.DataFrame | None:
    """Return the reps of a plan's roster as :func:`geoterr.plan_map` draws them (``reps=``).

    Vacancies are listed as ``open territory`` without a home, so the map names them.
    """
    roster = getattr(plan, "roster", None)
    if roster is None or len(roster) == 0:
        return None
    frame = pd.DataFrame(
        {
            "name": roster["name"].astype(str),
            "territory": roster["territory"],
            "home_latitude": roster.get("home_latitude"),
            "home_longitude": roster.get("home_longitude"),
            "rep_id": roster["rep"],
        }
    )
    return frame.reset_index(drop=True)


# --- travel ------------------------------------------------------------------------------


def _unit_vectors(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Points on the unit sphere, (n, 3)."""
    lam, phi = np.radians(lon), np.radians(lat)
    return np.column_stack([np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)])


def great_circle_km(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Great-circle km between every unit vector of ``a`` (m, 3) and of ``b`` (n, 3).

    The chord length from one matrix product, then ``2 R asin(chord / 2)``.
    """
    return 2.0 * EARTH_KM * _half_angles(a, b)


def _half_angles(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``asin(chord / 2)`` (half the central angle), computed in place."""
    d = a @ b.T
    np.multiply(d, -2.0, out=d)
    d += 2.0
    np.clip(d, 0.0, 4.0, out=d)
    np.sqrt(d, out=d)
    d *= 0.5
    np.arcsin(d, out=d)
    return np.asarray(d)


def _plan_points(plan: Any, visits: str | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lon/lat of each customer or unit, its territory, its visit weight)."""
    if plan.customers is not None and len(plan.customers):
        c = plan.customers
        lonlat = np.column_stack([c.geometry.x.to_numpy(), c.geometry.y.to_numpy()])
        territory = c["territory"].astype(str).to_numpy()
        if visits is None:
            visits = "visits_per_year" if "visits_per_year" in c.columns else None
        if visits is not None and visits not in c.columns:
            msg = f"`visits` {visits!r} is not a customers column."
            raise InputError(msg)
        weight = (
            np.ones(len(c))
            if visits is None
            else pd.to_numeric(c[visits], errors="coerce").fillna(0).to_numpy(float)
        )
        return lonlat, territory, weight
    centers = plan.territories.geometry.representative_point()
    lonlat = np.column_stack([centers.x.to_numpy(), centers.y.to_numpy()])
    weight = plan.territories["customers"].to_numpy(float)
    return lonlat, plan.territories.index.astype(str).to_numpy(), weight


def travel_costs(
    plan: Any, reps: pd.DataFrame, *, visits: str | None = None, chunk: int = 2_000_000
) -> pd.DataFrame:
    """Visit-weighted travel (km) from each rep's home to each territory's customers.

    Parameters
    ----------
    plan : Plan
    reps : DataFrame
        From :func:`read_reps`.
    visits : str, optional
        Customers column with visits per customer (default ``visits_per_year`` when present,
        else one per customer).
    chunk : int
        Rep x customer distances computed at a time (memory).

    Returns
    -------
    DataFrame
        Rep x territory: the sum over the territory's customers of visits x great-circle km
        from the rep's home.
    """
    lonlat, territory, weight = _plan_points(plan, visits)
    names = [str(t) for t in plan.territories.index]
    column = pd.Index(names).get_indexer(pd.Index(territory))
    keep = column >= 0
    lonlat, column, weight = lonlat[keep], column[keep], weight[keep]
    keep = weight > 0  # customers without visits add no travel
    lonlat, column, weight = lonlat[keep], column[keep], weight[keep]
    members = sparse.csr_matrix(
        (weight, (np.arange(len(column)), column)), shape=(len(column), len(names))
    )
    out = np.zeros((len(reps), len(names)))
    homes = _unit_vectors(reps["longitude"].to_numpy(float), reps["latitude"].to_numpy(float))
    points = _unit_vectors(lonlat[:, 0], lonlat[:, 1])
    step = max(1, chunk // max(len(lonlat), 1))
    for start in range(0, len(reps), step):
        stop = min(start + step, len(reps))
        out[start:stop] = np.asarray(members.T @ _half_angles(homes[start:stop], points).T).T
    out *= 2.0 * EARTH_KM
    return pd.DataFrame(out, index=reps.index, columns=pd.Index(names, name="territory"))


# --- assignment ---------------------------------------------------------------------------


def _as_reps(reps: Any) -> pd.DataFrame:
    """Reps already read by :func:`read_reps` are used as they are; anything else is read."""
    if (
        isinstance(reps, pd.DataFrame)
        and reps.index.name == "rep"
        and {"name", "latitude", "longitude", "fte", "skills"} <= set(reps.columns)
    ):
        return reps
    return read_reps(reps)


def _territory_names(reps: pd.DataFrame) -> list[str]:
    """Territories named after their rep: the name, or ``id name`` when names repeat."""
    names = reps["name"].astype(str)
    if names.is_unique and not names.str.strip().eq("").any():
        return names.tolist()
    return [f"{r} {n}".strip() for r, n in zip(reps.index, names, strict=True)]


def design_for_reps(
    units: Any,
    reps: Any,
    *,
    balance: Any = None,
    capacity: bool = True,
    **options: Any,
) -> Any:
    """Design one territory per rep around the reps' homes, in one call.

    The reps' homes are the territories' fixed centers, their FTEs the territories' relative
    sizes (a 0.5 FTE rep gets half the workload), and each territory is named after its rep.

    Parameters
    ----------
    units : Units
        From :func:`geoterr.build_units`.
    reps : path or DataFrame
        As :func:`read_reps` reads them.
    balance : dict or str, optional
        As in :func:`geoterr.design`; targets are shared in proportion to the FTEs.
    capacity : bool
        Size territories by FTE (default); False gives every rep an equal share.
    **options
        Passed to :func:`geoterr.design` (``objective``, ``time_limit``, ``costs`` ...).

    Returns
    -------
    Plan
        With ``rep`` on territories and customers and a ``roster``.

    Examples
    --------
    >>> import geoterr as gt
    >>> units = gt.build_units(gt.read_customers(gt.sample_path()), measures=["workload"])
    >>> plan = gt.design_for_reps(units, gt.sample_path("reps.csv"), balance={"workload": 0.05})
    >>> plan.status, plan.territories.index[0]
    ('feasible', 'Avery Collins')
    """
    from geoterr.design import design

    reps = _as_reps(reps)
    for reserved in ("centers", "capacity", "n_territories"):
        if reserved in options:
            msg = f"design_for_reps sets `{reserved}` from the reps; do not pass it."
            raise InputError(msg)
    if units.customers is not None and len(units.customers):
        c = units.customers
        check_homes_near(reps, np.column_stack([c.geometry.x, c.geometry.y]))
    names = _territory_names(reps)
    centers = pd.DataFrame(
        {"latitude": reps["latitude"].to_numpy(), "longitude": reps["longitude"].to_numpy()},
        index=pd.Index(names, name="territory"),
    )
    fte = reps["fte"].tolist()
    plan = design(
        units,
        len(reps),
        balance=balance,
        centers=centers,
        capacity=fte if capacity else None,
        **options,
    )
    from geoterr.rep_assign import with_reps

    pairs = {str(r): t for r, t in zip(reps.index, names, strict=True)}
    settings = {"designed_around_reps": True}
    return with_reps(plan, reps, pairs, settings=settings, judge_kept=False)
