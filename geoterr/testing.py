"""Check that a plan keeps its promises: one checker for tests, notebooks and users.

:func:`assert_valid_plan` recomputes every promise of a :class:`~geoterr.Plan` from the units
themselves (not from the plan's own tables), so that a plan that calls itself feasible while
breaking a promise, or that breaks one without saying so, is caught with the numbers.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from geoterr._errors import InputError, format_ids
from geoterr._errors import format_number as _n
from geoterr.plan import Plan
from geoterr.units import COUNT, Units

__all__ = ["assert_valid_plan"]

# Relative slack of every balance and budget comparison (a share of the mean target).
RTOL = 1e-9


def assert_valid_plan(
    plan: Plan,
    units: Units | None = None,
    *,
    balance: Mapping[str, float | tuple[float, float]] | None = None,
    capacity: Sequence[float] | None = None,
    locked: Mapping[Hashable, Hashable] | pd.Series | None = None,
    max_moved: float | None = None,
    keep_territories: Sequence[str] | None = None,
    feasible: bool | None = None,
) -> None:
    """Assert that ``plan`` keeps every promise it makes, or names each one it breaks.

    Every check is recomputed from the units (their measures and contiguity graph), not read
    from the plan's own tables:

    - every unit is in exactly one territory (the assignment covers the units' ids once, with
      existing territory names), every customer in its unit's territory, and there are
      ``n_territories`` territories;
    - every territory is non-empty and connected in the units' graph;
    - every balanced measure is within its relative tolerance of the territory's target (the
      mean, or its share under ``capacity``) or within its absolute ``(low, high)`` bounds;
    - ``locked`` units are in their territory (or, without named territories, units locked
      together share one and different labels get different ones);
    - ``keep_territories`` are exactly their current territories (plus enclaves the design
      reports as joined);
    - a realignment moves no more than ``max_moved`` (customers, or a share of the first
      balanced measure), and ``plan.params["moved_units"]`` is the true count;
    - the plan's reported numbers are true (the territories' totals and ``contiguous``
      column, ``status`` agreeing with ``problems``, ``lower_bound`` not above
      ``objective`` for a feasible plan: the bound is for plans keeping every promise).

    A plan with status ``"feasible"`` must keep every promise; a ``"violated"`` plan must name
    each broken one in ``plan.problems``.

    Parameters
    ----------
    plan : Plan
        The plan to check.
    units : Units, optional
        The units it was designed on; default ``plan.units`` (give them for a plan read back
        with :func:`geoterr.load_plan`).
    balance : dict, optional
        Measure -> relative tolerance or ``(low, high)``; default ``plan.params["balance"]``
        (what the design was asked).
    capacity : sequence of float, optional
        Relative territory sizes; default ``plan.params["capacity"]``.
    locked : mapping or Series, optional
        Unit id -> territory, as given to :func:`geoterr.design`. Not stored in the plan: give
        it to have it checked.
    max_moved : int or float, optional
        The realignment budget; default ``plan.params["max_moved"]``. Needs the customers'
        ``territory_before`` column (a plan from ``design(current=...)``).
    keep_territories : sequence of str, optional
        Territories kept as they were; default ``plan.params["keep_territories"]``.
    feasible : bool, optional
        True: the plan must also have status ``"feasible"``; False: it must be
        ``"violated"``; None (default): either, as long as it is honest.

    Raises
    ------
    AssertionError
        Listing every check that failed, with the territories and the numbers.
    InputError
        When there are no units to check against, or a budget without a current plan.

    Examples
    --------
    >>> import geoterr as gt
    >>> from geoterr.testing import assert_valid_plan
    >>> units = gt.build_units(gt.read_customers(gt.sample_path()), "hex", n_units=120,
    ...                        measures=["workload"])
    >>> plan = gt.design(units, 4, balance={"workload": 0.05})
    >>> assert_valid_plan(plan, feasible=True)
    >>> broken = plan.assignment.copy()
    >>> broken.iloc[0] = "T99"
    >>> from dataclasses import replace
    >>> assert_valid_plan(replace(plan, assignment=broken))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    AssertionError: the plan is not valid: 1 units are assigned to territories...(T99)...
    """
    units = plan.units if units is None else units
    if units is None:
        msg = (
            "`units` is needed: this plan carries no units (read back with load_plan?); pass "
            "the units it was designed on, assert_valid_plan(plan, units)."
        )
        raise InputError(msg)
    params = plan.params
    balance = dict(params.get("balance") or {}) if balance is None else dict(balance)
    capacity = params.get("capacity") if capacity is None else capacity
    max_moved = params.get("max_moved") if max_moved is None else max_moved
    keep = params.get("keep_territories") if keep_territories is None else keep_territories

    errors = _structure(plan, units)  # always wrong, whatever the status says
    if errors:
        raise AssertionError("the plan is not valid: " + "; ".join(errors))
    labels = plan.assignment.reindex(units.gdf.index)
    names = [str(t) for t in plan.territories.index]
    errors += _reported_numbers(plan, units, labels, names, balance)
    broken: list[tuple[str, str]] = []  # (what plan.problems must mention, the promise)
    broken += _contiguity(units, labels, names)
    broken += _balance(plan, units, labels, names, balance, capacity)
    if locked is not None:
        broken += _locks(plan, units, labels, locked)
    before = _current_by_unit(plan, units) if (max_moved is not None or keep) else None
    if keep:
        assert before is not None
        broken += _kept(plan, labels, before, keep)
    if max_moved is not None:
        assert before is not None
        moved_errors, moved_broken = _budget(plan, units, labels, before, max_moved, balance)
        errors += moved_errors
        broken += moved_broken
    errors += _status(plan, broken, feasible)
    if errors:
        raise AssertionError("the plan is not valid: " + "; ".join(errors))


def _structure(plan: Plan, units: Units) -> list[str]:
    """Every unit once, in a territory the plan has; every customer in its unit's one."""
    errors = []
    assignment = plan.assignment
    ids = units.gdf.index
    if assignment.index.has_duplicates:
        twice = assignment.index[assignment.index.duplicated()].unique()
        errors.append(f"{len(twice)} units are assigned more than once ({format_ids(twice)})")
    missing = ids.difference(assignment.index)
    if len(missing):
        errors.append(f"{len(missing)} units are in no territory ({format_ids(missing)})")
    extra = assignment.index.difference(ids)
    if len(extra):
        errors.append(f"{len(extra)} assigned ids are not units ({format_ids(extra)})")
    unassigned = assignment.index[assignment.isna()]
    if len(unassigned):
        errors.append(
            f"{len(unassigned)} units have no territory (missing values: {format_ids(unassigned)})"
        )
    known = set(plan.territories.index)
    unknown = assignment.notna() & ~assignment.isin(known)
    if unknown.any():
        errors.append(
            f"{int(unknown.sum())} units are assigned to territories the plan does not have "
            f"({format_ids(sorted(map(str, assignment[unknown].unique())))})"
        )
    k = plan.params.get("n_territories")
    if k is not None and len(plan.territories) != k:
        errors.append(f"the plan has {len(plan.territories)} territories, asked for {k}")
    if plan.territories.index.has_duplicates:
        errors.append("territory names repeat in plan.territories")
    if not assignment.index.has_duplicates:
        errors += _customers(plan, units)
    return errors


def _customers(plan: Plan, units: Units) -> list[str]:
    """Each input customer kept once, in the territory of its unit."""
    if units.customers is None:
        return []
    if plan.customers is None:
        return ["the units have customers but plan.customers is None"]
    errors = []
    customers = plan.customers
    if not customers.index.equals(units.customers.index):
        lost = units.customers.index.difference(customers.index)
        added = customers.index.difference(units.customers.index)
        errors.append(
            f"plan.customers does not keep the customers' index ({len(lost)} lost: "
            f"{format_ids(lost)}; {len(added)} added: {format_ids(added)}; or reordered)"
        )
        return errors
    expected = plan.assignment.reindex(units.customer_unit.reindex(customers.index)).to_numpy()
    got = customers["territory"].to_numpy()
    wrong = ~((got == expected) & pd.notna(got))
    if wrong.any():
        errors.append(
            f"{int(wrong.sum())} customers are not in their unit's territory "
            f"({format_ids(customers.index[wrong])})"
        )
    return errors


def _members(labels: pd.Series, names: Sequence[str]) -> dict[str, pd.Index]:
    return {name: labels.index[(labels == name).to_numpy()] for name in names}


def _contiguity(units: Units, labels: pd.Series, names: Sequence[str]) -> list[tuple[str, str]]:
    """Every territory non-empty and in one piece of the units' graph."""
    broken = []
    for name, members in _members(labels, names).items():
        if not len(members):
            broken.append((f"territory {name} ", f"territory {name} is empty"))
            continue
        pieces = list(nx.connected_components(units.graph.subgraph(members)))
        if len(pieces) > 1:
            sizes = sorted((len(p) for p in pieces), reverse=True)
            broken.append(
                (
                    f"territory {name} ",
                    f"territory {name} is in {len(pieces)} pieces of {sizes} units "
                    "(not contiguous)",
                )
            )
    return broken


def _targets(
    plan: Plan,
    loads: np.ndarray,
    total: float,
    names: Sequence[str],
    measure: str,
    capacity: Sequence[float] | None,
) -> tuple[np.ndarray, list[str]]:
    """Each territory's target of a relatively balanced measure, and errors about them."""
    k = len(names)
    if capacity is None:
        return np.full(k, total / k), []
    cap = np.asarray(capacity, dtype=float)
    if cap.shape != (k,):
        return np.full(k, total / k), [f"`capacity` has {cap.size} sizes for {k} territories"]
    expected = total * cap / cap.sum()
    if plan.params.get("fixed_centers") or plan.params.get("current") is not None:
        return expected, []  # the territories are in the order of the centers
    # Without fixed centers the territories are renumbered after the design: which one got
    # which size is what the plan reports; it must be a permutation of the sizes asked.
    column = f"{measure}_deviation"
    if column not in plan.territories.columns:
        return expected, [f"plan.territories has no {column} column to read the targets from"]
    deviation = plan.territories[column].reindex(list(names)).to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        implied = loads / (1 + deviation)
    if not np.allclose(np.sort(implied), np.sort(expected), rtol=1e-6):
        return expected, [
            f"the territories' {measure} targets {[_n(t) for t in implied]} are not the shares "
            f"of capacity {list(cap)} ({[_n(t) for t in expected]})"
        ]
    return implied, []


def _balance(
    plan: Plan,
    units: Units,
    labels: pd.Series,
    names: Sequence[str],
    balance: Mapping[str, float | tuple[float, float]],
    capacity: Sequence[float] | None,
) -> list[tuple[str, str]]:
    """Every territory's total of every balanced measure within its range."""
    broken = []
    for measure, bound in balance.items():
        if measure not in units.gdf.columns:
            broken.append(("", f"the balanced measure {measure!r} is not a unit column"))
            continue
        values = units.gdf[measure].to_numpy(dtype=float)
        loads = (
            pd.Series(values, index=units.gdf.index)
            .groupby(labels.to_numpy())
            .sum()
            .reindex(list(names))
            .fillna(0.0)
            .to_numpy()
        )
        if isinstance(bound, tuple | list):
            low, high = float(bound[0]), float(bound[1])
            eps = RTOL * max((low + high) / 2, np.finfo(float).tiny)
            for name, load in zip(names, loads, strict=True):
                if not low - eps <= load <= high + eps:
                    broken.append(
                        (
                            f"territory {name} ",
                            f"territory {name} has {measure} {_n(load)}, outside "
                            f"[{_n(low)}, {_n(high)}]",
                        )
                    )
            continue
        tol = float(bound)
        target, errors = _targets(plan, loads, float(values.sum()), names, measure, capacity)
        broken += [("", e) for e in errors]
        eps = RTOL * max(float(np.abs(target).mean()), np.finfo(float).tiny)
        for name, load, goal in zip(names, loads, target, strict=True):
            if not goal * (1 - tol) - eps <= load <= goal * (1 + tol) + eps:
                broken.append(
                    (
                        f"territory {name} ",
                        f"territory {name} has {measure} {_n(load)}, {load / goal - 1:+.4%} "
                        f"from its target {_n(goal)}, outside +-{tol:.2%}",
                    )
                )
    return broken


def _locks(
    plan: Plan, units: Units, labels: pd.Series, locked: Mapping[Hashable, Hashable] | pd.Series
) -> list[tuple[str, str]]:
    """Locked units where they were locked."""
    pins = locked if isinstance(locked, pd.Series) else pd.Series(dict(locked), dtype=object)
    unknown = pins.index.difference(units.gdf.index)
    if len(unknown):
        return [("", f"`locked` names {len(unknown)} ids that are not units")]
    got = labels.reindex(pins.index)
    named = bool(plan.params.get("fixed_centers")) or plan.params.get("current") is not None
    if named:
        wrong = got.astype(str).to_numpy() != pins.astype(str).to_numpy()
        if wrong.any():
            where = ", ".join(
                f"{u} in {got[u]} not {pins[u]}" for u in pins.index[wrong][:5].tolist()
            )
            return [("locked", f"{int(wrong.sum())} locked units left their territory ({where})")]
        return []
    # Without named territories: the same label means the same territory, and a different
    # label a different territory.
    broken = []
    by_label = got.groupby(pins.to_numpy()).agg(lambda t: sorted(set(map(str, t))))
    split = by_label[by_label.map(len) > 1]
    if len(split):
        broken.append(
            (
                "locked",
                f"units locked together are in several territories ({dict(split.head(5))})",
            )
        )
    shared = got.groupby(got.to_numpy()).apply(lambda s: sorted(set(map(str, pins[s.index]))))
    mixed = shared[shared.map(len) > 1]
    if len(mixed):
        broken.append(
            (
                "locked",
                f"units locked to different territories share one ({dict(mixed.head(5))})",
            )
        )
    return broken


def _current_by_unit(plan: Plan, units: Units) -> pd.Series:
    """Each unit's territory before the realignment: the most common among its customers."""
    customers = plan.customers
    if customers is None or "territory_before" not in customers.columns:
        msg = (
            "`max_moved` and `keep_territories` need the plan's customers with their "
            "territory_before (a plan from design(current=...))."
        )
        raise InputError(msg)
    frame = pd.DataFrame(
        {
            "unit": units.customer_unit.reindex(customers.index).to_numpy(),
            "t": customers["territory_before"].to_numpy(),
        }
    ).dropna(subset=["t"])
    per_unit = frame.groupby("unit")["t"].agg(lambda t: t.astype(str).mode().iloc[0])
    return per_unit.reindex(units.gdf.index)


def _kept(
    plan: Plan, labels: pd.Series, before: pd.Series, keep: Sequence[str]
) -> list[tuple[str, str]]:
    """Kept territories exactly as they were (joined enclaves aside)."""
    broken = []
    joined = bool(plan.params.get("enclaves_joined"))
    for name in keep:
        was = before.index[(before == name).to_numpy()]
        now = labels.index[(labels == name).to_numpy()]
        left = was.difference(now)
        came = now.difference(was)
        if len(left) or (len(came) and not joined):
            broken.append(
                (
                    f"territory {name} ",
                    f"kept territory {name} changed: {len(left)} units left "
                    f"({format_ids(left)}), {len(came)} joined ({format_ids(came)})",
                )
            )
    return broken


def _budget(
    plan: Plan,
    units: Units,
    labels: pd.Series,
    before: pd.Series,
    max_moved: float,
    balance: Mapping[str, Any],
) -> tuple[list[str], list[tuple[str, str]]]:
    """Check that the realignment moves no more than its budget and counts its moves right."""
    moved = (before.notna() & (before.astype(str) != labels.astype(str))).to_numpy()
    errors = []
    reported = plan.params.get("moved_units")
    if reported is not None and reported != int(moved.sum()):
        errors.append(f"plan.params['moved_units'] is {reported} but {int(moved.sum())} moved")
    if isinstance(max_moved, int | np.integer) and not isinstance(max_moved, bool):
        amount = units.gdf[COUNT].to_numpy(dtype=float)
        budget, what = float(max_moved), "customers"
    else:
        primary = next(iter(balance))
        amount = units.gdf[primary].to_numpy(dtype=float)
        budget, what = float(max_moved) * float(amount.sum()), primary
    spent = float(amount[moved].sum())
    if spent > budget * (1 + RTOL) + RTOL:
        return errors, [
            (
                "max_moved",
                f"the plan moves {_n(spent)} {what} ({int(moved.sum())} units), more than the "
                f"budget max_moved {_n(budget)}",
            )
        ]
    return errors, []


def _reported_numbers(
    plan: Plan,
    units: Units,
    labels: pd.Series,
    names: Sequence[str],
    balance: Mapping[str, Any],
) -> list[str]:
    """Check that the plan's own table, bound and status tell the truth."""
    errors = []
    table = plan.territories
    members = _members(labels, names)
    for measure in balance:
        if measure not in table.columns or measure not in units.gdf.columns:
            continue
        true = np.array([units.gdf.loc[members[t], measure].sum() for t in names], dtype=float)
        said = table[measure].reindex(list(names)).to_numpy(dtype=float)
        off = ~np.isclose(said, true, rtol=1e-9, atol=1e-12)
        if off.any():
            which = [names[int(j)] for j in np.flatnonzero(off)]
            errors.append(
                f"plan.territories reports {measure} totals that are not the units' sums for "
                f"{format_ids(which)} (e.g. {_n(said[off][0])} instead of {_n(true[off][0])})"
            )
    if "contiguous" in table.columns:
        for name in names:
            ids = members[name]
            true_c = len(ids) > 0 and nx.is_connected(units.graph.subgraph(ids))
            if bool(table.loc[name, "contiguous"]) != true_c:
                errors.append(
                    f"plan.territories says {name} contiguous={bool(table.loc[name, 'contiguous'])}"
                    f" but it is {'' if true_c else 'not '}connected"
                )
    # The bound is for plans keeping every promise: a violated plan may cost less.
    if plan.status == "feasible" and plan.objective is not None and plan.lower_bound is not None:
        scale = max(abs(plan.objective), 1e-12)
        if plan.lower_bound > plan.objective + 1e-9 * scale:
            errors.append(
                f"the lower bound {_n(plan.lower_bound)} is above the objective "
                f"{_n(plan.objective)}"
            )
    return errors


def _status(plan: Plan, broken: list[tuple[str, str]], feasible: bool | None) -> list[str]:
    """Check that a feasible plan keeps every promise and a violated one names each it breaks."""
    errors = []
    if plan.status not in ("feasible", "violated"):
        errors.append(f"status {plan.status!r} is neither 'feasible' nor 'violated'")
    if (plan.status == "feasible") != (not plan.problems):
        errors.append(
            f"status {plan.status!r} disagrees with its {len(plan.problems)} problems "
            f"{list(plan.problems)}"
        )
    promises = [text for _, text in broken]
    if plan.status == "feasible" and broken:
        errors.append(
            f"the plan is marked 'feasible' but breaks {len(broken)} promises: "
            + "; ".join(promises)
        )
    if plan.status == "violated":
        unsaid = [text for key, text in broken if not any(key in p for p in plan.problems)]
        if unsaid:
            errors.append(
                f"the plan breaks {len(unsaid)} promises its problems do not name: "
                + "; ".join(unsaid)
                + f" (problems: {list(plan.problems)})"
            )
    if feasible is True and plan.status != "feasible":
        errors.append(
            f"the plan was expected feasible but is {plan.status!r}: "
            + "; ".join(list(plan.problems) or promises)
        )
    if feasible is False and plan.status != "violated":
        errors.append("the plan was expected to break a promise but is 'feasible'")
    return errors
