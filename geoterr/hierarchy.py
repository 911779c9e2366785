"""Regions above territories: bottom-up (group territories) and top-down (regions first).

Bottom-up, the territories of a plan are themselves basic units: their polygons, totals and
shared borders make a :class:`~geoterr.units.Units` on which :func:`geoterr.design` draws
``n_regions`` contiguous, balanced regions, so a territory never straddles two regions.
Calling :func:`design_regions` again groups the regions into areas, and so on (any depth).
Top-down, :func:`design_top_down` designs the regions on the units first and then the
territories inside each region.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from geoterr._errors import GeoterrWarning, InputError, format_ids
from geoterr.units import COUNT, Units
from geoterr.units.graph import connect_components
from geoterr.units.projection import local_crs
from geoterr.units.subset import subset_units

__all__ = [
    "design_regions",
    "design_top_down",
    "split_counts",
]

NOT_SUMMED = (
    "polsby_popper",
    "mean_distance_km",
    "objective",
    "contiguous",
    "size",
    "children",
    "territories",
)


def _summable(table: pd.DataFrame) -> list[str]:
    return [
        str(c)
        for c in table.columns
        if c != "geometry"
        and c not in NOT_SUMMED
        and not str(c).endswith("_deviation")
        and pd.api.types.is_numeric_dtype(table[c])
        and not pd.api.types.is_bool_dtype(table[c])
    ]


def _top_level(plan: Any) -> tuple[str, gpd.GeoDataFrame]:
    """Return the level to group next and its items (EPSG:4326 polygons with totals)."""
    if plan.regions is None or len(plan.regions) == 0:
        return "territory", plan.territories
    regions = plan.regions
    top = regions[regions["parent"].isna()]
    return str(top["level"].iloc[0]), top


def _item_graph(
    plan: Any, level: str, items: gpd.GeoDataFrame, projected: gpd.GeoSeries
) -> nx.Graph:
    """Return the adjacency between territories or between regions.

    Territories from the unit graph when the plan has its units; regions when their polygons touch.
    """
    graph = nx.Graph()
    graph.add_nodes_from(items.index)
    if level == "territory" and plan.units is not None:
        label = plan.assignment.astype(str)
        for u, v in plan.units.graph.edges():
            a, b = label.get(u), label.get(v)
            if a is not None and b is not None and a != b:
                graph.add_edge(a, b)
        return graph
    geoms = projected.buffer(1.0).to_numpy()  # 1 m: shared borders survive simplification
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    ids = list(items.index)
    for i, j in zip(left, right, strict=True):
        if i < j:
            graph.add_edge(ids[i], ids[j])
    return graph


def level_units(plan: Any) -> tuple[str, Units]:
    """Return the plan's top level (territories, or the highest regions) as basic units."""
    level, items = _top_level(plan)
    crs = plan.units.crs if plan.units is not None else local_crs(items)
    projected = items.geometry.to_crs(crs)
    points = projected.representative_point()
    table = pd.DataFrame(index=pd.Index(items.index.astype(str), name="unit"))
    table["x"], table["y"] = points.x.to_numpy(), points.y.to_numpy()
    measures = [c for c in _summable(items) if c not in ("x", "y")]
    for column in measures:
        table[column] = items[column].to_numpy(float)
    if COUNT not in table.columns:
        table[COUNT] = 1.0
    gdf = gpd.GeoDataFrame(table, geometry=projected.to_numpy(), crs=crs)
    projected.index = gdf.index
    graph = _item_graph(plan, level, gdf, projected)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GeoterrWarning)  # links between islands: expected
        added = connect_components(graph, gdf.index.to_numpy(), gdf[["x", "y"]].to_numpy())
    units = Units(
        gdf=gdf,
        graph=graph,
        crs=crs,
        customer_unit=pd.Series([], dtype=object, name="unit"),
        customers=None,
        kind="polygons",
        measures=(COUNT, *[m for m in measures if m != COUNT]),
        added_links=added,
    )
    return level, units


def _default_balance(plan: Any, units: Units) -> dict[str, float]:
    balance = plan.params.get("balance") or {}
    measure = next((m for m in balance if m in units.gdf.columns), COUNT)
    return {measure: 0.1}


def _names(level: str, n: int, names: Sequence[str] | None) -> list[str]:
    if names is not None:
        names = [str(x) for x in names]
        if len(names) != n or len(set(names)) != n:
            msg = f"`names` must give {n} different {level} names, got {names!r}."
            raise InputError(msg)
        return names
    width = max(1, len(str(n)))
    return [f"{level.title()} {j + 1:0{width}d}" for j in range(n)]


def _managers(managers: Any, names: list[str]) -> list[Any]:
    if managers is None:
        return [None] * len(names)
    if isinstance(managers, Mapping):
        unknown = [m for m in managers if str(m) not in names]
        if unknown:
            msg = (
                f"`managers` names unknown regions {format_ids(unknown)}; regions: "
                f"{format_ids(names)}."
            )
            raise InputError(msg)
        return [managers.get(n) for n in names]
    given: list[Any] = list(managers)
    if len(given) != len(names):
        msg = f"`managers` gives {len(given)} names for {len(names)} regions."
        raise InputError(msg)
    return given


# Without a `balance`, regions of whole territories are balanced as tightly as these
# tolerances allow, tried in order (a few large territories cannot split 10 % evenly).
DEFAULT_TOLERANCES = (0.1, 0.2, 0.35, 0.5, 1.0)


def _design_level(
    units: Units,
    n: int,
    balance: Any,
    plan: Any,
    time_limit: float | None,
    random_state: int | None,
    options: Mapping[str, Any],
    parts: str = "territories",
) -> Any:
    from geoterr._errors import InfeasibleError
    from geoterr.design import design

    if balance is not None or n == 1:
        chosen = balance if balance is not None else _default_balance(plan, units)
        return design(
            units, n, balance=chosen, time_limit=time_limit, random_state=random_state, **options
        )
    measure = next(iter(_default_balance(plan, units)))
    last: InfeasibleError | None = None
    for tolerance in DEFAULT_TOLERANCES:
        try:
            sub = design(
                units,
                n,
                balance={measure: tolerance},
                time_limit=time_limit,
                random_state=random_state,
                **options,
            )
        except InfeasibleError as exc:
            last = exc
            continue
        if tolerance > DEFAULT_TOLERANCES[0]:
            warnings.warn(
                f"{n} groups of whole {parts} cannot hold {measure} within "
                f"{DEFAULT_TOLERANCES[0]:.0%} of the mean; they are balanced within "
                f"{tolerance:.0%} instead (pass `balance` to choose).",
                GeoterrWarning,
                stacklevel=4,
            )
        return sub
    assert last is not None
    raise last


def design_regions(
    plan: Any,
    n_regions: int,
    *,
    balance: Any = None,
    level: str = "region",
    names: Sequence[str] | None = None,
    managers: Mapping[str, Any] | Sequence[Any] | None = None,
    time_limit: float | None = 30.0,
    random_state: int | None = 0,
    **options: Any,
) -> Any:
    """Group a plan's territories (or its top regions) into contiguous, balanced regions.

    The territories are turned into units (polygon, totals, shared borders) and designed
    with :func:`geoterr.design` into ``n_regions`` groups, so every region is a union of
    whole territories, contiguous, and balanced on ``balance``. Called on a plan that has
    regions, it groups the highest level again (e.g. ``level="area"`` above regions).

    Parameters
    ----------
    plan : Plan
    n_regions : int
        How many regions; at most the number of territories (or regions) below.
    balance : dict or str, optional
        As in :func:`geoterr.design`. Default: the plan's first balanced measure within 10 %,
        or the tightest of 20 %, 35 %, 50 % and 100 % that whole territories allow (with a
        warning saying which).
    level : str
        Name of the new level (a column of that name is added to territories and customers).
    names : sequence of str, optional
        Region names (default ``Region 1``, ``Region 2``...).
    managers : mapping or sequence, optional
        Region -> manager (or one per region in order).
    time_limit, random_state, **options
        Passed to :func:`geoterr.design`.

    Returns
    -------
    Plan
        A copy with a ``level`` column on territories, customers and roster, and
        ``plan.regions`` (one row per region: level, parent, manager, measures, polygon). A
        region the design could not keep contiguous or balanced is listed in
        ``plan.problems`` (status ``"violated"``).

    Raises
    ------
    InputError
        More regions than territories, or a level name already used.

    Examples
    --------
    >>> import geoterr as gt
    >>> units = gt.build_units(gt.read_customers(gt.sample_path()), measures=["workload"])
    >>> plan = gt.design_regions(gt.design(units, 6, balance={"workload": 0.05}), 3)
    >>> sorted(plan.territories["region"].value_counts().index)
    ['Region 1', 'Region 2', 'Region 3']
    """
    below, units = level_units(plan)
    n_items = len(units)
    if isinstance(n_regions, bool) or not isinstance(n_regions, int | np.integer) or n_regions < 1:
        msg = f"`n_regions` must be a positive whole number, got {n_regions!r}."
        raise InputError(msg)
    if n_regions > n_items:
        msg = (
            f"`n_regions` is {n_regions} but the plan has only {n_items} "
            f"{'territories' if below == 'territory' else below + 's'}; a region holds whole "
            f"ones, so ask for at most {n_items} regions."
        )
        raise InputError(msg)
    used = {"territory", "unit", "rep", "rep_name", *(plan.territories.columns)}
    if level in used or level == below:
        msg = f"`level` {level!r} is already a territory column; name the new level differently."
        raise InputError(msg)
    parts = "territories" if below == "territory" else f"{below}s"
    sub = _design_level(
        units, int(n_regions), balance, plan, time_limit, random_state, options, parts
    )
    region_names = _names(level, int(n_regions), names)
    rename = dict(zip(sub.territories.index.astype(str), region_names, strict=True))
    membership = sub.assignment.astype(str).map(rename)
    problems = [f"{level}s: {p}" for p in sub.problems]
    return attach_level(
        plan, level, below, membership, region_names, _managers(managers, region_names), problems
    )


def attach_level(
    plan: Any,
    level: str,
    below: str,
    membership: pd.Series,
    names: list[str],
    managers: list[Any],
    problems: Sequence[str] = (),
) -> Any:
    """Add a level above ``below``: ``membership`` maps each item of ``below`` to a group."""
    territories = plan.territories.copy()
    if below == "territory":
        of_territory = membership.reindex(territories.index.astype(str))
    else:
        of_territory = territories[below].astype(str).map(membership)
    territories[level] = of_territory.to_numpy()
    items = territories if below == "territory" else plan.regions[plan.regions["level"] == below]
    sums = (
        pd.DataFrame(items[_summable(items)])
        .groupby(membership.reindex(items.index.astype(str)).to_numpy())
        .sum()
    )
    geoms = [
        shapely.union_all(
            items.geometry[membership.reindex(items.index.astype(str)).to_numpy() == n].to_numpy()
        )
        for n in names
    ]
    table = gpd.GeoDataFrame(sums.reindex(names), geometry=geoms, crs=4326)
    table.index.name = "region"
    table.insert(0, "level", level)
    table.insert(1, "parent", None)
    table.insert(2, "manager", managers)
    table.insert(3, "children", [int((membership == n).sum()) for n in names])
    table.insert(4, "territories", [int((territories[level] == n).sum()) for n in names])
    table["contiguous"] = [_connected(g) for g in geoms]
    if plan.regions is not None:
        old = plan.regions.copy()
        top = old["parent"].isna() & (old["level"] == below)
        old.loc[top, "parent"] = old.index[top].astype(str).map(membership)
        regions = pd.concat([old, table])
    else:
        regions = table
    regions = gpd.GeoDataFrame(regions, geometry="geometry", crs=4326)
    customers = plan.customers
    if customers is not None:
        customers = customers.copy()
        customers[level] = (
            customers["territory"].astype(str).map(territories[level].to_dict()).to_numpy()
        )
    roster = plan.roster
    if roster is not None:
        roster = roster.copy()
        roster[level] = roster["territory"].map(territories[level].to_dict())
    params = dict(plan.params)
    params["levels"] = [
        *params.get("levels", []),
        {"level": level, "below": below, "n": len(names)},
    ]
    all_problems = tuple(plan.problems) + tuple(problems)
    return dataclasses.replace(
        plan,
        territories=territories,
        customers=customers,
        roster=roster,
        regions=regions,
        params=params,
        problems=all_problems,
        status="feasible" if not all_problems else "violated",
    )


def _connected(geom: Any) -> bool:
    """One piece, allowing for slivers left by outline simplification."""
    if geom is None or geom.is_empty:
        return False
    return len(shapely.get_parts(geom.buffer(1e-6))) == 1


def split_counts(total: int, weights: Sequence[float], *, minimum: int = 1) -> list[int]:
    """Split ``total`` into whole numbers in proportion to ``weights`` (largest remainders).

    Each part is at least ``minimum``.

    Examples
    --------
    >>> split_counts(12, [5, 3, 2])
    [6, 4, 2]
    """
    w = np.asarray(weights, dtype=float)
    n = len(w)
    if total < minimum * n:
        msg = f"cannot split {total} into {n} parts of at least {minimum} each."
        raise InputError(msg)
    quota = w / w.sum() * total if w.sum() > 0 else np.full(n, total / n)
    counts = np.floor(quota).astype(int)
    order = np.argsort(-(quota - counts), kind="stable")
    counts[order[: total - counts.sum()]] += 1
    while (counts < minimum).any():
        low = int(np.argmin(counts))
        high = int(np.argmax(counts - quota + (counts <= minimum) * -1e9))
        counts[low] += 1
        counts[high] -= 1
    return [int(c) for c in counts]


def _rename_plan(plan: Any, prefix: str) -> Any:
    """Return a sub-plan whose territories are called ``prefix T01`` ..."""
    rename = {str(t): f"{prefix} {t}" for t in plan.territories.index}
    territories = plan.territories.rename(index=rename)
    territories.index.name = "territory"
    centers = plan.centers.rename(index=rename)
    customers = plan.customers
    if customers is not None:
        customers = customers.assign(territory=customers["territory"].astype(str).map(rename))
    return dataclasses.replace(
        plan,
        assignment=plan.assignment.astype(str).map(rename),
        territories=territories,
        centers=centers,
        customers=customers,
    )


def design_top_down(
    units: Units,
    n_regions: int,
    n_territories: int | Mapping[str, int],
    *,
    balance: Any = None,
    region_balance: Any = None,
    names: Sequence[str] | None = None,
    managers: Mapping[str, Any] | Sequence[Any] | None = None,
    time_limit: float | None = 60.0,
    **options: Any,
) -> Any:
    """Design regions first, then territories inside each region.

    Parameters
    ----------
    units : Units
    n_regions : int
        How many regions (designed with :func:`geoterr.design` on the units).
    n_territories : int or mapping
        The total number of territories, shared among regions in proportion to their share
        of the first balanced measure (at least one each), or region name -> number.
    balance : dict or str, optional
        The territories' balance (inside each region, targets are the region's mean).
    region_balance : dict or str, optional
        The regions' balance (default: ``balance``).
    names, managers
        As in :func:`design_regions`.
    time_limit : float, optional
        Seconds for the region design, and again for each region's territories.
    **options
        Passed to every :func:`geoterr.design` call.

    Returns
    -------
    Plan
        Territories named ``<region> T01`` ..., with a ``region`` column and ``plan.regions``.

    Examples
    --------
    >>> import geoterr as gt
    >>> units = gt.build_units(gt.read_customers(gt.sample_path()), measures=["workload"])
    >>> plan = gt.design_top_down(units, 2, 6, balance={"workload": 0.05})
    >>> plan.territories.groupby("region").size().tolist()
    [3, 3]
    """
    from geoterr.design import design
    from geoterr.plan import Plan

    top = design(
        units,
        n_regions,
        balance=region_balance if region_balance is not None else balance,
        time_limit=time_limit,
        **options,
    )
    region_names = _names("region", int(n_regions), names)
    rename = dict(zip(top.territories.index.astype(str), region_names, strict=True))
    region_of_unit = top.assignment.astype(str).map(rename)
    if isinstance(n_territories, Mapping):
        unknown = [r for r in n_territories if str(r) not in region_names]
        missing = [r for r in region_names if r not in n_territories]
        if unknown or missing:
            msg = (
                f"`n_territories` must give a number for each region {format_ids(region_names)}"
                f"{'; unknown: ' + format_ids(unknown) if unknown else ''}"
                f"{'; missing: ' + format_ids(missing) if missing else ''}."
            )
            raise InputError(msg)
        counts = [int(n_territories[r]) for r in region_names]
    else:
        if n_territories < n_regions:
            msg = (
                f"`n_territories` is {n_territories} but there are {n_regions} regions; every "
                "region needs at least one territory."
            )
            raise InputError(msg)
        measure = top.params["balance"] and next(iter(top.params["balance"]))
        weights = top.territories[measure or COUNT].reindex(list(rename)).to_numpy(float)
        counts = split_counts(int(n_territories), weights)
    parts = []
    for name, k in zip(region_names, counts, strict=True):
        ids = list(region_of_unit.index[region_of_unit == name])
        sub = design(subset_units(units, ids), k, balance=balance, time_limit=time_limit, **options)
        parts.append(_rename_plan(sub, name))
    customers = None
    if units.customers is not None:
        customers = pd.concat([p.customers for p in parts if p.customers is not None])
        customers = customers.loc[units.customers.index]
    territories = gpd.GeoDataFrame(pd.concat([p.territories for p in parts]), crs=4326)
    problems = [f"{n}: {q}" for n, p in zip(region_names, parts, strict=True) for q in p.problems]
    problems += [f"regions: {q}" for q in top.problems]
    bounds = [p.lower_bound for p in parts]
    params = {
        **parts[0].params,
        "n_territories": int(sum(counts)),
        "top_down": {"n_regions": int(n_regions), "territories_per_region": counts},
    }
    plan = Plan(
        assignment=pd.concat([p.assignment for p in parts]).reindex(units.gdf.index),
        customers=customers,
        territories=territories,
        centers=pd.concat([p.centers for p in parts]),
        params=params,
        status="feasible" if not problems else "violated",
        problems=tuple(problems),
        objective=float(sum(p.objective or 0.0 for p in parts)),
        lower_bound=None
        if any(b is None for b in bounds)
        else float(sum(b or 0.0 for b in bounds)),
        seconds=float(top.seconds + sum(p.seconds for p in parts)),
        units=units,
    )
    membership = pd.Series(
        [r for r, p in zip(region_names, parts, strict=True) for _ in p.territories.index],
        index=[str(t) for p in parts for t in p.territories.index],
    )
    return attach_level(
        plan, "region", "territory", membership, region_names, _managers(managers, region_names)
    )
