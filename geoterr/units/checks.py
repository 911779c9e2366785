"""Checks of what building units is given.

The customers and their measures, the method's options, the per-unit caps (``max_load``)
and custom aggregations.

Each check names the argument, says what is wrong (with row ids where rows are at fault) and
how to fix it, and reports every problem at once. :func:`geoterr.units.build.build_units`
calls them before any unit is made.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import Any, Literal

import geopandas as gpd
import pandas as pd
from pyproj import CRS

from geoterr._errors import GeoterrWarning, InputError, format_ids
from geoterr._validate import Problems, check_measure

__all__ = [
    "COUNT",
    "METHODS",
    "RESERVED",
    "Aggregation",
    "Method",
    "check_aggregate",
    "check_customers",
    "check_max_load",
    "check_method_options",
    "complete_nonnegative",
    "measure_columns",
    "user_crs",
]

COUNT = "customers"
# Columns geoterr itself writes on units or customers; never taken as measures.
RESERVED = frozenset({"x", "y", "geometry", "unit", "territory", COUNT})
METHODS = ("voronoi", "points", "hex", "polygons")
Method = Literal["voronoi", "points", "hex", "polygons"]
Aggregation = Mapping[str, tuple[str, str | Callable[[pd.Series], Any]]]


def measure_columns(
    table: pd.DataFrame, measures: Sequence[str] | None, skip: Iterable[str] = ()
) -> list[str]:
    """Return the numeric columns to sum per unit: the ones named, or every complete one."""
    if measures is not None:
        if isinstance(measures, str):
            measures = [measures]
        if not isinstance(measures, Sequence) or not all(isinstance(m, str) for m in measures):
            msg = f"`measures` must be a list of column names, e.g. ['workload'], got {measures!r}."
            raise InputError(msg)
        clash = [m for m in measures if m in RESERVED - {COUNT}]
        if clash:
            msg = (
                f"`measures` names {', '.join(map(repr, clash))}, which geoterr uses for its own "
                "columns; rename those columns in the customers table first."
            )
            raise InputError(msg)
        return [m for m in measures if m != COUNT]
    geo = table.attrs.get("geoterr", {})
    skip = {v for v in geo.values() if isinstance(v, str)} | set(RESERVED) | set(skip)
    numeric = table.select_dtypes(include="number").columns
    # Without an explicit list, only complete, non-negative numeric columns are summed
    # (a column with gaps is not a measure to balance on; name it to have it checked).
    candidates = [c for c in numeric if c not in skip and c != COUNT]
    _warn_left_out(table, candidates)
    return [str(c) for c in candidates if complete_nonnegative(table[c])]


def _warn_left_out(table: pd.DataFrame, candidates: Sequence[Hashable]) -> None:
    """Warn about numeric columns that are not measures only because of negative values.

    A typo in one row would otherwise make ``design`` say the measure does not exist.
    """
    notes = []
    for column in candidates:
        values = table[column]
        negative = (values < 0).fillna(False).to_numpy(dtype=bool)
        if negative.any() and negative.mean() < 0.5:
            notes.append(
                f"{column!r} ({int(negative.sum())} negative values: "
                f"{format_ids(table.index[negative], limit=5)})"
            )
    if notes:
        warnings.warn(
            f"build_units left out numeric column(s) {'; '.join(notes)} as measures because "
            "measures cannot be negative; fix those rows, or name the measures with "
            "`measures=[...]` to have them checked.",
            GeoterrWarning,
            stacklevel=4,
        )


# Keywords of build_units (and units_from_files) that only some kinds of unit use: the
# methods that use each, and its default (a keyword left at its default is not "given").
METHOD_OPTIONS: dict[str, tuple[tuple[str, ...], Any]] = {
    "boundary": (("voronoi", "points", "hex"), None),
    "prune": (("points",), 4.0),
    "resolution": (("hex",), None),
    "n_units": (("hex",), None),
    "fill_gaps": (("hex",), 2),
    "max_load": (("hex",), "auto"),
    "polygons": (("polygons",), None),
    "polygon_id": (("polygons",), None),
    "contiguity": (("polygons",), "queen"),
    "snap": (("polygons",), 0.0),
    "outside": (("polygons",), "raise"),
}


def _left_at_default(value: Any, default: Any) -> bool:
    if default is None or value is None:
        return value is default
    try:
        return bool(value == default)
    except (TypeError, ValueError):  # an array or a frame compared with a default
        return False


def check_method_options(method: str, options: Mapping[str, Any]) -> None:
    """Refuse keywords that ``method`` would ignore, all of them in one message.

    A keyword such as ``resolution`` given with ``method="voronoi"`` is nearly always a
    mistake (the method was forgotten, or a setting copied from another call), and ignoring it
    would hand back units that are not what was asked for; so it is refused, with the methods
    that do use it. ``resolution`` and ``n_units`` together are refused too (``n_units`` only
    chooses a resolution).

    Parameters
    ----------
    method : str
        The kind of unit being built.
    options : mapping
        Keyword -> value as given; keywords not in ``METHOD_OPTIONS`` are not checked.

    Raises
    ------
    InputError
        Naming every keyword ``method`` does not use and the methods that use it.

    Examples
    --------
    >>> check_method_options("hex", {"resolution": 6, "prune": 4.0})  # prune at its default
    >>> check_method_options("voronoi", {"resolution": 6})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    geoterr._errors.InputError: method='voronoi' does not use `resolution` (used by ... 'hex' ...
    """
    unused = [
        name
        for name, value in options.items()
        if name in METHOD_OPTIONS
        and method not in METHOD_OPTIONS[name][0]
        and not _left_at_default(value, METHOD_OPTIONS[name][1])
    ]
    problems = []
    if unused:
        groups: dict[tuple[str, ...], list[str]] = {}
        for name in unused:
            groups.setdefault(METHOD_OPTIONS[name][0], []).append(f"`{name}`")
        parts = [
            f"{', '.join(names)} (used by method {', '.join(map(repr, users))} only)"
            for users, names in groups.items()
        ]
        them = "it" if len(unused) == 1 else "them"
        users = next(iter(groups)) if len(groups) == 1 else ()
        fix = (
            f"pass method={users[0]!r} if that was meant, or drop {them}"
            if len(users) == 1
            else f"drop {them}, or pass a method that uses {them}"
        )
        problems.append(f"method={method!r} does not use {' or '.join(parts)}: {fix}.")
    elif options.get("resolution") is not None and options.get("n_units") is not None:
        problems.append(
            "`resolution` and `n_units` were both given, but `n_units` only chooses a "
            "resolution: give one of them."
        )
    if problems:
        raise InputError(" ".join(problems))


def user_crs(crs: Any) -> CRS:
    """``crs`` as a pyproj CRS, or an InputError naming it."""
    from pyproj.exceptions import CRSError

    try:
        return CRS.from_user_input(crs)
    except (CRSError, TypeError, ValueError):
        msg = f"`crs` {crs!r} is not a CRS pyproj knows; give e.g. 'EPSG:32633' (UTM 33N)."
        raise InputError(msg) from None


def complete_nonnegative(values: pd.Series) -> bool:
    """Return a column that can be balanced: no gaps, nothing negative."""
    return bool(values.notna().all() and (values >= 0).all())


def check_customers(customers: Any, columns: list[str]) -> dict[str, pd.Series]:
    """Check the customers table and its measure ``columns``; return each column's values.

    The table must be a GeoDataFrame with a CRS and unique ids; the problems of its rows (bad
    measure values, missing locations) are reported together, with row ids, in one InputError.
    """
    if not isinstance(customers, gpd.GeoDataFrame):
        msg = (
            f"`customers` must be a GeoDataFrame from `read_customers`, got "
            f"{type(customers).__name__}; call geoterr.read_customers(...) first."
        )
        raise InputError(msg)
    if len(customers) == 0:
        msg = "`customers` is empty; units need at least one customer."
        raise InputError(msg)
    if customers.crs is None:
        msg = (
            "`customers` has no CRS, so geoterr cannot tell degrees from metres. Read it with "
            "geoterr.read_customers(..., crs=...) or set it: customers.set_crs('EPSG:4326') "
            "for longitude/latitude, or the projected CRS of coordinates in metres "
            "(e.g. customers.set_crs('EPSG:32633'))."
        )
        raise InputError(msg)
    if customers.index.has_duplicates:
        dups = customers.index[customers.index.duplicated()].unique()
        msg = f"`customers` has duplicate ids ({format_ids(dups)}); ids must be unique."
        raise InputError(msg)
    problems = Problems("customers")
    values = {c: check_measure(customers, c, problems) for c in columns}
    bad_geom = customers.geometry.isna() | customers.geometry.is_empty
    if bad_geom.any():
        problems.add(
            f"{int(bad_geom.sum())} rows without a location "
            f"({format_ids(customers.index[bad_geom])})"
        )
    if problems:
        raise InputError(
            problems.text("Check the measure names, or clean the rows with read_customers.")
        )
    return values


def check_max_load(
    max_load: Mapping[str, float] | str | None, measures: Iterable[str]
) -> list[tuple[str, float]]:
    """``max_load`` as (measure or ``"customers"``, cap) pairs, checked.

    ``"auto"`` caps the customer count and every measure, each at a cap of NaN: it is set
    from the data once the cells are known (:func:`geoterr.units.hexes.auto_caps`).
    """
    if max_load is None:
        return []
    if isinstance(max_load, str) and max_load == "auto":
        return [(COUNT, float("nan")), *((m, float("nan")) for m in measures if m != COUNT)]
    if not isinstance(max_load, Mapping) or not max_load:
        msg = f"`max_load` must map measures to the most one unit may hold, got {max_load!r}."
        raise InputError(msg)
    known = [COUNT, *measures]
    problems, caps = [], []
    for name, cap in max_load.items():
        if name not in known:
            problems.append(f"{name!r} is not a measure (measures: {', '.join(known)})")
        elif isinstance(cap, bool) or not isinstance(cap, int | float) or not cap > 0:
            problems.append(f"the cap for {name!r} must be a positive number, got {cap!r}")
        else:
            caps.append((name, float(cap)))
    if problems:
        msg = f"`max_load` has problems: {'; '.join(problems)}."
        raise InputError(msg)
    return caps


def check_aggregate(
    aggregate: Aggregation, customers: pd.DataFrame, taken: Iterable[str] = ()
) -> dict[str, tuple[Any, Any]]:
    """Check ``aggregate`` (new column -> (customer column, function)); return it as a dict.

    ``taken`` are the measure names the new columns must not reuse.
    """
    taken = set(taken)
    if not isinstance(aggregate, Mapping):
        msg = (
            "`aggregate` must map new unit columns to (customer column, function), e.g. "
            "{'key_accounts': ('segment', lambda s: (s == 'key').sum())}."
        )
        raise InputError(msg)
    spec: dict[str, tuple[Any, Any]] = {}
    problems = []
    for name, rule in aggregate.items():
        if not (isinstance(rule, tuple) and len(rule) == 2):
            problems.append(f"{name!r}: give (column, function), got {rule!r}")
            continue
        column, how = rule
        if column not in customers.columns:
            problems.append(f"{name!r}: no customer column {column!r}")
        elif name in RESERVED or name in taken:
            problems.append(f"{name!r}: the name is taken by a measure; choose another")
        else:
            spec[str(name)] = (column, how)
    if problems:
        msg = f"`aggregate` has problems: {'; '.join(problems)}."
        raise InputError(msg)
    return spec
