"""Territory centers: fixed ones given by the user, moves between rounds, pinned units."""

from __future__ import annotations

import time
from collections.abc import Hashable, Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geoterr._errors import InputError, format_ids
from geoterr.design.checks import check_center_lonlat, check_center_xy
from geoterr.design.model import solve_lp
from geoterr.design.problem import Problem
from geoterr.design.seeds import update_centers, update_medoids
from geoterr.plan import territory_name
from geoterr.units import Units

__all__ = ["fixed_centers", "move_centers", "pin_units", "swap_centers"]


def move_centers(problem: Problem, labels: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Medoid units with a cost matrix, otherwise median (distance) or centroid (inertia)."""
    if problem.cost_matrix is not None:
        return update_medoids(
            problem.cost_matrix, problem.weight, labels, centers, inertia=problem.inertia
        )
    return update_centers(problem.xy, problem.weight, labels, centers, inertia=problem.inertia)


def swap_centers(
    problem: Problem,
    labels: np.ndarray,
    centers: np.ndarray,
    solver: Any,
    engine: Any,
    deadline: float | None,
) -> np.ndarray:
    """Center units by swaps.

    A territory's center moves to another of its units when the balanced assignment LP to the new
    centers costs less (first improvement, until none).

    The medoid step only looks at the current territory; the LP also sees how the other
    territories would reshape, which gets out of local optima on tight, small instances.
    """

    def value(trial: np.ndarray) -> float:
        lp = solve_lp(problem, problem.costs(trial), solver, engine, deadline)
        return np.inf if lp is None else lp.objective

    best = value(centers)
    improved = True
    while improved and not (deadline is not None and time.perf_counter() > deadline):
        improved = False
        for j in range(problem.k):
            for c in np.flatnonzero(labels == j).tolist():
                if c in centers:
                    continue
                trial = centers.copy()
                trial[j] = c
                got = value(trial)
                if got < best * (1 - 1e-9):
                    best, centers, improved = got, trial, True
            if deadline is not None and time.perf_counter() > deadline:
                break
    return centers


def pin_units(
    locked: Mapping[Hashable, Hashable] | pd.Series,
    units: Units,
    problem: Problem,
    centers: np.ndarray,
    names: list[str] | None,
) -> np.ndarray:
    """Territory index of every pinned unit (-1 for free units)."""
    pins = pd.Series(locked) if not isinstance(locked, pd.Series) else locked
    position = {u: i for i, u in enumerate(units.gdf.index)}
    unknown = [u for u in pins.index if u not in position]
    if unknown:
        msg = f"`locked` names {len(unknown)} ids that are not units ({format_ids(unknown)})."
        raise InputError(msg)
    out = np.full(problem.n, -1, dtype=np.int64)
    rows = np.array([position[u] for u in pins.index], dtype=np.int64)
    if names is not None:
        index = {n: j for j, n in enumerate(names)}
        bad = sorted({str(t) for t in pins if str(t) not in index})
        if bad:
            msg = (
                f"`locked` names territories {format_ids(bad)}, but the territories are the "
                f"centers' names: {format_ids(names)}."
            )
            raise InputError(msg)
        out[rows] = [index[str(t)] for t in pins]
        return out
    groups = list(dict.fromkeys(pins.tolist()))
    if len(groups) > problem.k:
        msg = (
            f"`locked` has {len(groups)} different territories but only {problem.k} are asked for."
        )
        raise InputError(msg)
    # Give each group the center nearest its units (one center per group).
    from scipy.optimize import linear_sum_assignment

    centre_xy = problem.center_xy(centers)
    group_xy = np.array([problem.xy[rows[pins.to_numpy() == g]].mean(axis=0) for g in groups])
    cost = np.linalg.norm(group_xy[:, None, :] - centre_xy[None, :, :], axis=2)
    g_idx, c_idx = linear_sum_assignment(cost)
    territory = dict(zip([groups[g] for g in g_idx], c_idx.tolist(), strict=True))
    out[rows] = [territory[g] for g in pins]
    return out


def fixed_centers(centers: Any, units: Units, problem: Problem) -> tuple[np.ndarray, list[str]]:
    """Read user-given centers: points (degrees) or, with a cost matrix, unit ids.

    Returns the centers as the optimizer holds them ((k, 2) metres, or unit positions) and the
    territory names.
    """
    names: list[str] | None = None
    if isinstance(centers, pd.DataFrame) and not isinstance(centers.index, pd.RangeIndex):
        names = [str(i) for i in centers.index]
    if problem.cost_matrix is not None:
        ids = list(centers.index if isinstance(centers, pd.DataFrame) else centers)
        position = {u: i for i, u in enumerate(units.gdf.index)}
        unknown = [u for u in ids if u not in position]
        if unknown:
            msg = (
                f"`centers` must be unit ids when `costs` is given; unknown: {format_ids(unknown)}."
            )
            raise InputError(msg)
        result = np.array([position[u] for u in ids], dtype=np.int64)
        names = names or [str(u) for u in ids]
    else:
        if isinstance(centers, gpd.GeoDataFrame | gpd.GeoSeries):
            if centers.crs is None:
                msg = "`centers` has no CRS; set one (e.g. centers.set_crs(4326))."
                raise InputError(msg)
            pts = centers.geometry.to_crs(units.crs)
            result = np.column_stack([pts.x, pts.y])
        else:
            if isinstance(centers, pd.DataFrame):
                lat = next((c for c in centers.columns if "lat" in str(c).lower()), None)
                lon = next(
                    (
                        c
                        for c in centers.columns
                        if "lon" in str(c).lower() or "lng" in str(c).lower()
                    ),
                    None,
                )
                if lat is None or lon is None:
                    msg = "`centers` needs latitude and longitude columns (or a geometry)."
                    raise InputError(msg)
                lonlat = (
                    centers[[lon, lat]].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
                )
            else:
                try:
                    lonlat = np.asarray(centers, dtype=float)
                except (TypeError, ValueError):
                    msg = (
                        "`centers` must be (longitude, latitude) pairs of numbers, got "
                        f"{centers!r}."
                    )
                    raise InputError(msg) from None
            if lonlat.ndim != 2 or lonlat.shape[1] != 2:
                msg = "`centers` must be (longitude, latitude) pairs in degrees."
                raise InputError(msg)
            check_center_lonlat(lonlat, units, names or range(1, len(lonlat) + 1))
            pts = gpd.GeoSeries(gpd.points_from_xy(lonlat[:, 0], lonlat[:, 1]), crs=4326)
            pts = pts.to_crs(units.crs)
            result = np.column_stack([pts.x, pts.y])
        check_center_xy(result, names or range(1, len(result) + 1), units)
        names = names or [territory_name(j, len(result)) for j in range(len(result))]
    if len(result) != problem.k:
        msg = f"`centers` gives {len(result)} centers but `n_territories` is {problem.k}."
        raise InputError(msg)
    if len(set(names)) != len(names):
        msg = f"`centers` names must be unique, got {format_ids(names)}."
        raise InputError(msg)
    return result, names
