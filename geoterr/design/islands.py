"""Design on units whose graph is in separate parts (``build_units(islands="separate")``).

Each part (an island, a region cut off by sea) gets whole territories of its own: the number
of territories is shared among the parts by their weight (at least one each), every part is
designed on its own against the *common* balance targets, and the plans are joined. A part
whose total cannot be split into its territories within the tolerance (a small island kept as
one territory) is designed as well as it can be and the plan says so, by name.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from collections.abc import Hashable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from geoterr._errors import GeoterrWarning, InfeasibleError, InputError, format_ids
from geoterr._errors import format_number as _n
from geoterr.design.constraints import MaxDistance
from geoterr.design.problem import Bound, make_problem, parse_balance
from geoterr.design.violations import broken_promises
from geoterr.plan import Outcome, Plan, build_plan, territory_name
from geoterr.units import Units
from geoterr.units.subset import subset_units

__all__ = ["allocate_territories", "design_parts"]

# Options of design() that need one plan over all units; not offered for separate parts.
WHOLE_PLAN_OPTIONS = ("centers", "capacity", "current", "max_moved", "keep_territories")


def allocate_territories(weights: np.ndarray, k: int, low: float, high: float) -> np.ndarray:
    """Territories per part: at least one each, summing to ``k``, near ``k`` x the part's share.

    Where possible a part gets a count ``c`` with ``c * low <= weight <= c * high``, so that
    its territories can stay within the range ``[low, high]`` of one territory's weight.
    """
    total = float(weights.sum())
    mean = total / k
    ideal = weights / mean if total > 0 else np.full(len(weights), k / len(weights))
    lo = np.maximum(1, np.ceil(weights / high - 1e-9)) if high > 0 else np.ones(len(weights))
    hi = np.floor(weights / low + 1e-9) if low > 0 else np.full(len(weights), k)
    hi = np.maximum(hi, lo)
    count = np.clip(np.round(ideal), lo, hi).astype(np.int64)
    count = np.maximum(count, 1)
    while count.sum() > k:
        # Take from the part with the most territories per unit of weight, within its range.
        over = count - ideal - np.where(count > lo, 0.0, 1e6) - np.where(count > 1, 0.0, 1e9)
        count[int(np.argmax(over))] -= 1
    while count.sum() < k:
        under = ideal - count - np.where(count < hi, 0.0, 1e6)
        count[int(np.argmax(under))] += 1
    return count


def design_parts(units: Units, n_territories: int, options: Mapping[str, Any]) -> Plan:
    """Design each part of a disconnected unit graph with its own territories; join the plans.

    Parameters
    ----------
    units : Units
        Built with ``islands="separate"``; the graph has more than one part.
    n_territories : int
    options : mapping
        The other arguments of :func:`geoterr.design`.
    """
    from geoterr.design import design

    start = time.perf_counter()
    used = [name for name in WHOLE_PLAN_OPTIONS if options.get(name) is not None]
    if options.get("move_penalty"):
        used.append("move_penalty")
    if used:
        msg = (
            f"{', '.join(f'`{u}`' for u in used)} need one plan over all units, but the units "
            "were built with islands='separate' and their graph is in parts; build them with "
            "islands='connect' (or give links with `adjacency=`)."
        )
        raise InputError(msg)
    parts = [sorted(p, key=units.gdf.index.get_loc) for p in units.parts]
    k = n_territories
    if isinstance(k, int | np.integer) and not isinstance(k, bool) and 0 < k < len(parts):
        sizes = ", ".join(str(len(p)) for p in parts[:8])
        msg = (
            f"the units are in {len(parts)} separate parts (units per part: {sizes}"
            f"{' ...' if len(parts) > 8 else ''}) and islands='separate' gives each its own "
            f"territories, but only {k} territories were asked for. Ask for at least "
            f"{len(parts)}, or build the units with islands='connect'."
        )
        raise InfeasibleError(msg)
    tolerances = parse_balance(options.get("balance"), units)
    inertia = options.get("objective", "distance") == "inertia"
    costs = options.get("costs")
    whole = make_problem(units, k, tolerances, inertia=inertia, costs=costs)
    if options.get("max_distance") is not None:
        whole = dataclasses.replace(whole, rules=(MaxDistance(options["max_distance"]),))
    low, up = whole.lower[0], whole.upper[0]  # one territory's range, each measure
    position = {u: i for i, u in enumerate(units.gdf.index)}
    part_loads = np.array([whole.loads[[position[u] for u in p]].sum(axis=0) for p in parts])
    counts = allocate_territories(part_loads[:, 0], k, float(low[0]), float(up[0]))

    labels = np.empty(len(units), dtype=np.int64)
    centers = np.empty((k, 2))
    center_units: list[Any] = []
    notes: list[str] = []
    pieces: list[dict[str, Any]] = []
    objective, scope = 0.0, "all plans"
    bound: float | None = 0.0
    limit = options.get("time_limit")
    locked = options.get("locked")
    offset = 0
    subs: list[dict[str, Any]] = []
    for part, count, load in zip(parts, counts, part_loads, strict=True):
        fits = bool(np.all(count * low <= load + 1e-9) and np.all(load <= count * up + 1e-9))
        # The common range when the part can hold it; otherwise balance within the part,
        # with the tolerance (absolute bounds become the tolerance they stand for).
        balance: dict[str, Bound] = (
            {m: (float(low[i]), float(up[i])) for i, m in enumerate(whole.names)}
            if fits
            else {m: _as_tolerance(b) for m, b in tolerances.items()}
        )
        sub_options = dict(options)
        sub_options["balance"] = balance
        if costs is not None:
            sub_options["costs"] = _costs_for(costs, units, part)
        if locked is not None:
            pins = pd.Series(locked) if isinstance(locked, Mapping) else locked
            sub_options["locked"] = pins[pins.index.isin(part)] if len(pins) else None
        if limit is not None:  # the time left, shared by the parts' sizes
            left = max(limit - (time.perf_counter() - start), 1.0)
            sub_options["time_limit"] = max(left * len(part) / len(units), 1.0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", GeoterrWarning)
            sub = design(subset_units(units, part, islands="connect"), int(count), **sub_options)
        subs.append(sub.params)
        names = list(sub.territories.index)
        rank = {name: offset + j for j, name in enumerate(names)}
        labels[[position[u] for u in part]] = sub.assignment.reindex(part).map(rank).to_numpy()
        centers[offset : offset + count] = sub.centers.loc[names, ["x", "y"]].to_numpy()
        if "unit" in sub.centers.columns:
            center_units.extend(sub.centers.loc[names, "unit"])
        objective += float(sub.objective or 0.0)
        if sub.lower_bound is None or bound is None:
            bound = None
        else:
            bound += sub.lower_bound
            if sub.lower_bound_scope != "all plans":
                scope = "plan centers"
        if not fits:
            notes.append(_misfit(part, int(count), load, whole.names, low, up, offset))
        pieces.append(
            {
                "units": len(part),
                "territories": int(count),
                "status": sub.status,
                "rounds": int(sub.params.get("rounds") or 0),
            }
        )
        offset += int(count)

    # Name territories from west to east over all parts.
    order = np.argsort(centers[:, 0], kind="stable")
    rank_of = np.empty(k, dtype=np.int64)
    rank_of[order] = np.arange(k)
    labels, centers = rank_of[labels], centers[order]
    if center_units:
        center_units = [center_units[i] for i in order]
    names = [territory_name(j, k) for j in range(k)]
    notes = [_rename(note, rank_of, names) for note in notes]
    center_arg = np.array([position[u] for u in center_units]) if costs is not None else centers
    problems = notes + broken_promises(whole, labels, names, center_arg)
    params = {
        **_merged_params(subs),
        "n_territories": k,
        "balance": tolerances,
        "islands": "separate",
        "parts": pieces,
        "lower_bound_scope": None if bound is None else scope,
    }
    plan = build_plan(
        units,
        whole,
        labels,
        centers,
        names=names,
        center_units=center_units or None,
        params=params,
        outcome=Outcome(
            problems=problems,
            objective=objective,
            lower_bound=bound,
            seconds=time.perf_counter() - start,
            lower_bound_scope=scope,
        ),
    )
    if plan.problems:
        warnings.warn(
            "the plan does not keep every promise: " + "; ".join(plan.problems),
            GeoterrWarning,
            stacklevel=3,
        )
    return plan


def _as_tolerance(bound: Bound) -> float:
    """Return a relative tolerance for a bound.

    ``(low, high)`` means +-(high - low) / (high + low).
    """
    if isinstance(bound, tuple):
        low, high = bound
        return (high - low) / (high + low) if high + low > 0 else 0.0
    return float(bound)


def _costs_for(costs: Any, units: Units, part: list[Hashable]) -> Any:
    if isinstance(costs, pd.DataFrame):
        return costs.loc[part, part]
    rows = [units.gdf.index.get_loc(u) for u in part]
    return np.asarray(costs)[np.ix_(rows, rows)]


def _misfit(
    part: list[Hashable],
    count: int,
    load: np.ndarray,
    names: list[str],
    low: np.ndarray,
    up: np.ndarray,
    offset: int,
) -> str:
    """Why a part's territories cannot keep the common range (names filled in later)."""
    bad = [
        f"{m} {_n(load[i])} (each territory needs {_n(low[i])} to {_n(up[i])})"
        for i, m in enumerate(names)
        if not count * low[i] <= load[i] + 1e-9 <= count * up[i] + 2e-9
    ]
    which = ", ".join(f"@{offset + j}@" for j in range(count))
    return (
        f"{'territory' if count == 1 else 'territories'} {which} "
        f"{'covers' if count == 1 else 'cover'} a separate part of "
        f"{len(part)} units ({format_ids(part, 5)}; islands='separate' keeps it apart) that "
        f"holds {'; '.join(bad)}, so {'it' if count == 1 else f'its {count} territories'} "
        "cannot be balanced with the rest; build the units with islands='connect' to let "
        "territories reach across"
    )


def _rename(note: str, rank_of: np.ndarray, names: list[str]) -> str:
    for j in range(len(rank_of)):
        note = note.replace(f"@{j}@", names[int(rank_of[j])])
    return note


def _merged_params(subs: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the parts' ``plan.params`` as one.

    What they share from the first part, counts summed over the parts, and the time limit reached if
    any part reached it.
    """
    merged = dict(subs[0])
    for key in ("rounds", "locked_units"):
        merged[key] = sum(int(s.get(key) or 0) for s in subs)
    merged["time_limit_reached"] = any(bool(s.get("time_limit_reached")) for s in subs)
    merged["cut_short"] = any(bool(s.get("cut_short")) for s in subs)
    return merged
