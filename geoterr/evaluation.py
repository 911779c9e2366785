"""Measure a plan: balance, compactness, contiguity and travel, per territory and overall.

:func:`evaluate` works on any :class:`~geoterr.Plan` with customers: a design, a plan folder
read back with :func:`geoterr.load_plan`, or the territories customers are in today, read from
a column with :func:`plan_from_column`.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geoterr._errors import GeoterrWarning, InputError, format_ids
from geoterr._validate import first_column
from geoterr.metrics import (
    DistanceWeighting,
    balance_indices,
    great_circle_km,
    moment_of_inertia,
    polsby_popper,
    territory_table,
)
from geoterr.plan import Plan
from geoterr.rosters import plan_reps, rep_homes
from geoterr.units import COUNT, Units, build_units, unit_cells
from geoterr.units.projection import local_crs

__all__ = ["Evaluation", "evaluate", "plan_from_column", "rep_homes"]

VISIT_COLUMNS = ("visits_per_year", "visits", "visit_frequency")


@dataclass(frozen=True)
class Evaluation:
    """What :func:`evaluate` measured.

    Attributes
    ----------
    territories : DataFrame
        One row per territory (index ``territory``): ``rep``, ``customers``, each measure with
        ``<measure>_deviation`` (share above or below the mean) and, with targets,
        ``<measure>_target`` and ``<measure>_target_deviation``; ``area_km2``,
        ``polsby_popper``, ``moment_of_inertia``, ``parts`` (separate pieces of its shape),
        ``contiguous``; ``origin`` (``"rep home"`` or ``"center"``), ``visits``,
        ``mean_distance_km`` (visit-weighted), ``max_distance_km``, ``travel_km`` (visits x
        one-way distance, summed), ``round_trip_km`` (twice that).
    overall : Series
        Plan-wide figures: totals, means, travel and the balance indices of each measure
        (``<measure>_max_deviation``, ``_cv``, ``_max_min_ratio``, ``_gini``).
    balance : DataFrame
        One row per measure: ``mean``, ``min``, ``max``, ``max_deviation``, ``cv``,
        ``max_min_ratio``, ``gini``.
    customers : DataFrame
        One row per customer: ``territory``, ``visits``, ``distance_km`` from its origin.
    notes : tuple of str
        What the figures rest on (distances used, reps missing, ...).
    """

    territories: pd.DataFrame
    overall: pd.Series
    balance: pd.DataFrame
    customers: pd.DataFrame
    notes: tuple[str, ...] = field(default=())


def plan_from_column(
    customers: gpd.GeoDataFrame,
    column: str,
    *,
    units: Units | None = None,
    measures: Sequence[str] | None = None,
    method: str = "voronoi",
) -> Plan:
    """Return the plan that customers are in today, from a column naming each one's territory.

    The territories' shapes are the union of the units (Voronoi cells by default) of their
    customers; a location shared by customers of different territories goes to its
    commonest territory for the shape (with a warning), while every measure counts each
    customer in its own territory. Territories in several pieces are the plan's problems.

    Parameters
    ----------
    customers : GeoDataFrame
        From :func:`geoterr.read_customers`.
    column : str
        The customers column holding the territory (e.g. ``"current_territory"``).
    units : Units, optional
        Units built from these customers (default: built with ``method``).
    measures : sequence of str, optional
        Measures to total (default: every complete numeric column, see
        :func:`geoterr.build_units`).
    method : str
        Unit kind for the shapes when ``units`` is not given.

    Returns
    -------
    Plan
        With ``params["source"] == "column"``; no objective or bound.

    Raises
    ------
    InputError
        If the column is missing or some customers have no territory (listed).

    Examples
    --------
    >>> import geoterr as gt
    >>> customers = gt.read_customers(gt.sample_path())
    >>> current = plan_from_column(customers, "current_territory", measures=["workload"])
    >>> len(current.territories), int(current.territories["customers"].sum())
    (12, 4500)
    """
    start = time.perf_counter()
    if not isinstance(customers, gpd.GeoDataFrame):
        msg = (
            f"`customers` must be a GeoDataFrame from geoterr.read_customers, got "
            f"{type(customers).__name__}."
        )
        raise InputError(msg)
    if column not in customers.columns:
        msg = (
            f"`column` {column!r} is not a customers column; columns: "
            f"{', '.join(map(str, customers.columns))}."
        )
        raise InputError(msg)
    missing = customers.index[customers[column].isna() | customers[column].astype(str).eq("")]
    if len(missing):
        msg = (
            f"`customers` column {column!r} is empty for {len(missing)} customers "
            f"({format_ids(missing)}); give each customer a territory, or leave those rows out."
        )
        raise InputError(msg)
    if units is None:
        units = build_units(customers, method=method, measures=measures)  # type: ignore[arg-type]
    elif not units.customer_unit.index.equals(customers.index):
        msg = "`units` were not built from these `customers`; build them from the same table."
        raise InputError(msg)
    labels = customers[column].astype(str)
    unit_of = units.customer_unit.reindex(customers.index)
    counts = pd.crosstab(unit_of, labels)
    mixed = int((counts > 0).sum(axis=1).gt(1).sum())
    if mixed:
        warnings.warn(
            f"{mixed} units hold customers of more than one territory in column {column!r}; "
            "each unit's shape goes to its commonest territory, the measures count every "
            "customer in its own.",
            GeoterrWarning,
            stacklevel=2,
        )
    assignment = counts.idxmax(axis=1).reindex(units.gdf.index)
    names = sorted(labels.unique())
    assignment = assignment.fillna(names[0]).rename("territory")
    assignment.index.name = units.gdf.index.name
    weight = next((m for m in units.measures if m != COUNT), COUNT)
    centers = _weighted_centers(units, assignment, names, weight)
    table = territory_table(
        units.gdf,
        unit_cells(units),
        assignment,
        names,
        {},
        centers,
        units.graph,
        distances=DistanceWeighting(weight=weight, inertia=False),
    )
    # Totals by the customers' own territories (a shared location may split them).
    frame = pd.DataFrame(customers.drop(columns=customers.geometry.name))
    for measure in units.measures:
        values = np.ones(len(frame)) if measure == COUNT else frame[measure].to_numpy(float)
        table[measure] = pd.Series(values, index=frame.index).groupby(labels).sum().reindex(names)
    plan_customers = customers.copy()
    if column != "territory" and "territory" in plan_customers.columns:
        plan_customers = plan_customers.rename(columns={"territory": "territory_input"})
    plan_customers["unit"] = unit_of.to_numpy()
    plan_customers["territory"] = labels.to_numpy()
    broken = [str(n) for n in names if not table.loc[n, "contiguous"]]
    problems = (f"territories in pieces: {', '.join(broken)}",) if broken else ()
    return Plan(
        assignment=assignment,
        customers=plan_customers,
        territories=table.to_crs(4326),
        centers=centers,
        params={"source": "column", "column": column, "n_territories": len(names)},
        status="violated" if problems else "feasible",
        problems=problems,
        objective=None,
        lower_bound=None,
        seconds=time.perf_counter() - start,
        units=units,
    )


def _weighted_centers(
    units: Units, assignment: pd.Series, names: list[str], weight: str
) -> pd.DataFrame:
    """Each territory's ``weight``-weighted centroid of its units (x, y, lon, lat)."""
    w = units.gdf[weight].to_numpy(float) + 1e-12
    frame = pd.DataFrame(
        {"t": assignment.to_numpy(), "w": w, "wx": w * units.gdf["x"], "wy": w * units.gdf["y"]}
    )
    sums = frame.groupby("t")[["w", "wx", "wy"]].sum().reindex(names)
    x, y = (sums["wx"] / sums["w"]).to_numpy(), (sums["wy"] / sums["w"]).to_numpy()
    points = gpd.GeoSeries(gpd.points_from_xy(x, y), crs=units.crs).to_crs(4326)
    return pd.DataFrame(
        {"x": x, "y": y, "longitude": points.x.to_numpy(), "latitude": points.y.to_numpy()},
        index=pd.Index(names, name="territory"),
    )


def plan_measures(plan: Plan, measures: Sequence[str] | None = None) -> list[str]:
    """Return the measures to report: those given (checked), else the plan's customers carry."""
    assert plan.customers is not None
    customers = plan.customers
    if measures is not None:
        measures = [measures] if isinstance(measures, str) else list(measures)
        bad = [
            m
            for m in measures
            if m != COUNT
            and (m not in customers.columns or not pd.api.types.is_numeric_dtype(customers[m]))
        ]
        if bad:
            msg = (
                f"`measures` {', '.join(map(repr, bad))} are not numeric customer columns; "
                f"numeric columns: {', '.join(map(str, customers.select_dtypes('number')))}."
            )
            raise InputError(msg)
        return [m for m in measures if m != COUNT]
    skip = {"x", "y", "unit", "territory", COUNT}
    return [
        str(c)
        for c in plan.territories.columns
        if c in customers.columns
        and c not in skip
        and pd.api.types.is_numeric_dtype(customers[c])
        and not str(c).endswith("_deviation")
    ]


def _customers_of(plan: Plan) -> gpd.GeoDataFrame:
    if plan.customers is None:
        msg = (
            "the plan has no customers (it was designed on units only); evaluate a plan "
            "designed from customers, or build one with plan_from_column."
        )
        raise InputError(msg)
    return plan.customers


def _visits(customers: pd.DataFrame, visits: str | None) -> tuple[np.ndarray, str]:
    if visits is None:
        visits = first_column(customers, VISIT_COLUMNS)
        if visits is None:
            return np.ones(len(customers)), "one visit per customer"
    if visits not in customers.columns:
        msg = f"`visits` {visits!r} is not a customers column."
        raise InputError(msg)
    values = pd.to_numeric(customers[visits], errors="coerce")
    bad = customers.index[values.isna() | (values < 0)]
    if len(bad):
        msg = (
            f"`visits` column {visits!r} has missing, negative or non-numeric values for "
            f"{len(bad)} customers ({format_ids(bad)}); fix them or pass another column."
        )
        raise InputError(msg)
    return values.to_numpy(float), f"visits from {visits!r}"


def _road_distances(
    distances: pd.Series | pd.DataFrame, customers: pd.DataFrame, territory: pd.Series
) -> np.ndarray:
    """Each customer's distance (km) from its territory's origin, from the user's matrix."""
    if isinstance(distances, pd.Series):
        values = distances.reindex(customers.index)
    elif isinstance(distances, pd.DataFrame):
        table = distances
        if not set(territory.unique()) <= set(map(str, table.columns)):
            table = table.T
        table = table.set_axis(table.columns.map(str), axis=1)
        lost = sorted(set(territory.unique()) - set(table.columns))
        if lost:
            msg = (
                f"`distances` has no column for territories {format_ids(lost)}; give a "
                "customer x territory table (km from each territory's origin)."
            )
            raise InputError(msg)
        rows = table.index.get_indexer(customers.index)
        cols = table.columns.get_indexer(pd.Index(territory.to_numpy()))
        raw = table.to_numpy(float)
        values = pd.Series(
            np.where(rows >= 0, raw[np.maximum(rows, 0), cols], np.nan), index=customers.index
        )
    else:
        msg = (
            f"`distances` must be a Series (customer -> km) or a DataFrame (customer x "
            f"territory, km), got {type(distances).__name__}."
        )
        raise InputError(msg)
    values = pd.to_numeric(values, errors="coerce")
    bad = customers.index[values.isna() | (values < 0)]
    if len(bad):
        msg = (
            f"`distances` has no usable distance for {len(bad)} customers ({format_ids(bad)}); "
            "give a non-negative number of km for each customer."
        )
        raise InputError(msg)
    return values.to_numpy(float)


def _origins(
    plan: Plan, names: list[str], reps: pd.DataFrame | None
) -> tuple[pd.DataFrame, list[str]]:
    """Per territory: origin longitude, latitude, its kind and the rep's name."""
    centers = plan.centers.reindex(names)
    out = pd.DataFrame(
        {
            "rep": None,
            "origin": "center",
            "longitude": centers.get("longitude"),
            "latitude": centers.get("latitude"),
        },
        index=pd.Index(names, name="territory"),
    )
    notes = []
    if reps is not None:
        known = reps.reindex(names)
        out["rep"] = known["rep"]
        home = known["latitude"].notna() & known["longitude"].notna()
        out.loc[home, ["longitude", "latitude"]] = known.loc[home, ["longitude", "latitude"]]
        out.loc[home, "origin"] = "rep home"
        without = [n for n in names if n not in reps.index]
        if without:
            notes.append(f"no rep for {format_ids(without)}: travel from the territory center")
        unknown = [t for t in reps.index if t not in names]
        if unknown:
            notes.append(f"reps for territories not in the plan ignored: {format_ids(unknown)}")
    missing = out["longitude"].isna() | out["latitude"].isna()
    if missing.any():
        # A plan without stored centers: the customers' centroid stands in.
        customers = _customers_of(plan)
        grouped = (
            pd.DataFrame(
                {
                    "lon": customers.geometry.x,
                    "lat": customers.geometry.y,
                    "t": customers["territory"],
                }
            )
            .groupby("t")[["lon", "lat"]]
            .mean()
        )
        fill = grouped.reindex(out.index[missing])
        out.loc[missing, "longitude"] = fill["lon"].to_numpy()
        out.loc[missing, "latitude"] = fill["lat"].to_numpy()
    return out, notes


def _shape_columns(plan: Plan, names: list[str]) -> pd.DataFrame:
    """Area, Polsby-Popper, moment of inertia, pieces and contiguity per territory."""
    shapes = plan.territories.geometry.reindex(names)
    crs = plan.units.crs if plan.units is not None else local_crs(_customers_of(plan).geometry)
    projected = gpd.GeoSeries(shapes.to_numpy(), index=shapes.index, crs=shapes.crs).to_crs(crs)
    out = pd.DataFrame(index=pd.Index(names, name="territory"))
    out["area_km2"] = projected.area.to_numpy() / 1e6
    out["polsby_popper"] = polsby_popper(projected).to_numpy()
    out["moment_of_inertia"] = moment_of_inertia(projected).to_numpy()
    out["parts"] = [0 if g is None or g.is_empty else len(getattr(g, "geoms", [g])) for g in shapes]
    if "contiguous" in plan.territories.columns:
        out["contiguous"] = plan.territories["contiguous"].reindex(names).astype(bool).to_numpy()
    else:
        out["contiguous"] = out["parts"].eq(1).to_numpy()
    return out


def _targets(
    targets: Mapping[str, Any] | None, measures: list[str], names: list[str]
) -> dict[str, pd.Series]:
    if targets is None:
        return {}
    if not isinstance(targets, Mapping):
        msg = "`targets` must map a measure to a target (a number, or territory -> number)."
        raise InputError(msg)
    out = {}
    for measure, target in targets.items():
        if measure not in [COUNT, *measures]:
            msg = f"`targets` names {measure!r}, which is not a measure ({', '.join(measures)})."
            raise InputError(msg)
        if isinstance(target, Mapping | pd.Series):
            series = pd.Series(target).rename(index=str).reindex(names).astype(float)
        else:
            series = pd.Series(float(target), index=names)
        if series.isna().any() or (series <= 0).any():
            bad = series.index[series.isna() | (series <= 0)]
            msg = f"`targets[{measure!r}]` has no positive target for {format_ids(bad)}."
            raise InputError(msg)
        out[str(measure)] = series
    return out


def evaluate(
    plan: Plan,
    *,
    measures: Sequence[str] | None = None,
    targets: Mapping[str, Any] | None = None,
    reps: Any = None,
    visits: str | None = None,
    distances: pd.Series | pd.DataFrame | None = None,
) -> Evaluation:
    """Measure a plan per territory and overall.

    Parameters
    ----------
    plan : Plan
        Any plan with customers: from :func:`geoterr.design`, :func:`geoterr.load_plan` or
        :func:`plan_from_column`.
    measures : sequence of str, optional
        Numeric customer columns to total (default: the measures in the plan's table).
    targets : mapping, optional
        Measure -> a target per territory (a number for all, or a mapping territory ->
        number): adds ``<measure>_target`` and ``<measure>_target_deviation``.
    reps : DataFrame or path, optional
        Reps with name, territory and home (see :func:`rep_homes`); travel is then measured
        from their homes. Default: a roster the plan carries, else none (travel from the
        territory centers).
    visits : str, optional
        Customers column with visits per period weighing travel (default:
        ``visits_per_year`` or ``visits`` when present, else one per customer).
    distances : Series or DataFrame, optional
        Road distances in km replacing straight lines: a Series customer id -> km from its
        territory's origin, or a table customer x territory.

    Returns
    -------
    Evaluation

    Raises
    ------
    InputError
        For a plan without customers, unknown measures, bad visits, targets or distances.

    Examples
    --------
    >>> import geoterr as gt
    >>> customers = gt.read_customers(gt.sample_path())
    >>> current = gt.plan_from_column(customers, "current_territory", measures=["workload"])
    >>> result = gt.evaluate(current, reps=gt.sample_path("reps.csv"))
    >>> result.territories.loc["T01 New England", "origin"]
    'rep home'
    >>> bool(result.balance.loc["workload", "max_deviation"] > 0.05)  # not in balance today
    True
    """
    customers = _customers_of(plan)
    measures = plan_measures(plan, measures)
    territory = customers["territory"].astype(str)
    names = [str(n) for n in plan.territories.index]
    stray = sorted(set(territory) - set(names))
    names += stray
    frame = pd.DataFrame(customers.drop(columns=customers.geometry.name))
    table = pd.DataFrame(index=pd.Index(names, name="territory"))
    table["customers"] = territory.value_counts().reindex(names).fillna(0).astype(int)
    all_measures = [COUNT, *measures]
    goals = _targets(targets, measures, names)
    for m in all_measures:
        if m != COUNT:
            sums = frame[m].astype(float).groupby(territory).sum()
            table[m] = sums.reindex(names).fillna(0.0)
        mean = table[m].mean()
        table[f"{m}_deviation"] = table[m] / mean - 1 if mean else np.nan
        if m in goals:
            table[f"{m}_target"] = goals[m]
            table[f"{m}_target_deviation"] = table[m] / goals[m] - 1
    table = table.join(_shape_columns(plan, names))
    origins, notes = _origins(plan, names, plan_reps(plan, reps))
    weights, visit_note = _visits(frame, visits)
    notes.append(visit_note)
    if distances is not None:
        dist = _road_distances(distances, frame, territory)
        notes.append("road distances from the given matrix")
    else:
        at = origins.reindex(territory.to_numpy())
        dist = great_circle_km(
            at["longitude"].to_numpy(),
            at["latitude"].to_numpy(),
            customers.geometry.x.to_numpy(),
            customers.geometry.y.to_numpy(),
        )
        notes.append("straight-line (great-circle) distances")
    per = pd.DataFrame(
        {"territory": territory.to_numpy(), "visits": weights, "distance_km": dist},
        index=customers.index,
    )
    grouped = per.assign(vd=weights * dist, vd2=weights * dist**2).groupby("territory")
    totals = pd.DataFrame(grouped[["visits", "vd", "vd2"]].sum().reindex(names))
    table.insert(0, "rep", origins["rep"])
    table["origin"] = origins["origin"]
    table["visits"] = totals["visits"].fillna(0.0)
    safe = totals["visits"].where(totals["visits"] > 0)
    table["mean_distance_km"] = totals["vd"] / safe
    table["max_distance_km"] = grouped["distance_km"].max().reindex(names)
    table["travel_km"] = totals["vd"].fillna(0.0)
    table["round_trip_km"] = 2 * table["travel_km"]
    table["inertia_km2"] = totals["vd2"] / safe
    if table["rep"].isna().all():
        table = table.drop(columns="rep")
    balance = pd.DataFrame(
        {
            m: {
                "mean": table[m].mean(),
                "min": table[m].min(),
                "max": table[m].max(),
                **balance_indices(table[m]),
            }
            for m in all_measures
        }
    ).T
    balance.index.name = "measure"
    overall = _overall(table, balance, all_measures, per)
    return Evaluation(table, overall, balance, per, tuple(notes))


def _overall(
    table: pd.DataFrame, balance: pd.DataFrame, measures: list[str], per: pd.DataFrame
) -> pd.Series:
    visits = per["visits"].sum()
    values: dict[str, Any] = {
        "territories": len(table),
        "customers": int(table["customers"].sum()),
    }
    for m in measures:
        if m != COUNT:
            values[m] = float(table[m].sum())
        for index in ("max_deviation", "cv", "max_min_ratio", "gini"):
            values[f"{m}_{index}"] = float(balance.at[m, index])  # type: ignore[arg-type]
    values.update(
        contiguous_territories=int(table["contiguous"].sum()),
        area_km2=float(table["area_km2"].sum()),
        mean_polsby_popper=float(table["polsby_popper"].mean()),
        min_polsby_popper=float(table["polsby_popper"].min()),
        mean_moment_of_inertia=float(table["moment_of_inertia"].mean()),
        visits=float(visits),
        mean_distance_km=float((per["visits"] * per["distance_km"]).sum() / visits)
        if visits > 0
        else float("nan"),
        travel_km=float(table["travel_km"].sum()),
        round_trip_km=float(table["round_trip_km"].sum()),
    )
    return pd.Series(values, name="value", dtype=object)
