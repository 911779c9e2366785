"""Compare plans: who moves, what changes hands, and how balance and travel change.

:func:`compare` takes a base plan (today's territories, often from
:func:`geoterr.plan_from_column`) and one or more alternatives (designs, plan folders, the
plans of a :func:`geoterr.sweep` run with ``keep_plans=True``) and returns the realignment
tables a sales manager reads: the customers that move (from -> to), the revenue and workload
that change hands, each territory before and after, the reps affected, and the balance
indices of every plan side by side.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from geoterr._errors import GeoterrWarning, InputError, format_ids
from geoterr.evaluation import Evaluation, evaluate, plan_measures
from geoterr.plan import Plan
from geoterr.units import COUNT

__all__ = ["Comparison", "compare", "match_territories"]


@dataclass(frozen=True)
class Comparison:
    """What :func:`compare` found.

    Attributes
    ----------
    names : tuple of str
        The plans' names, the base first.
    scenarios : DataFrame
        One row per plan (index ``plan``): status, territories, customers, customers moved
        against the base and their share, each measure that changed hands, balance indices
        of each measure, mean distance, travel and compactness.
    moved : DataFrame
        One row per customer that changed territory in a scenario: ``plan``, customer id,
        ``from``, ``to`` and the customer's measures.
    flows : DataFrame
        ``plan``, ``from``, ``to``: customers and measure totals that changed hands.
    territories : DataFrame
        ``plan``, ``territory``: for ``customers`` and every measure ``<m>_before``,
        ``<m>_after`` and ``<m>_delta``; ``gained`` and ``lost`` customers; ``rep_before``,
        ``rep_after`` when reps are known.
    reps_affected : DataFrame
        The territories (and their reps) that gain or lose customers, per scenario.
    only_in : DataFrame
        Customers present in one plan and not in another: customer id, ``in``,
        ``missing_from``. Empty when all plans hold the same customers.
    evaluations : dict
        Plan name -> its :class:`~geoterr.evaluation.Evaluation`.
    matches : DataFrame
        With ``match=True``: ``plan``, ``territory`` (its own name), ``matched`` (the base
        territory whose name it takes) and ``shared`` customers.
    """

    names: tuple[str, ...]
    scenarios: pd.DataFrame
    moved: pd.DataFrame
    flows: pd.DataFrame
    territories: pd.DataFrame
    reps_affected: pd.DataFrame
    only_in: pd.DataFrame
    evaluations: dict[str, Evaluation] = field(repr=False)
    matches: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)


def match_territories(base: Plan, plan: Plan) -> dict[str, str]:
    """Name each territory of ``plan`` after the base territory it shares most customers with.

    A one-to-one matching that maximises the customers kept in a territory of the same name
    (an assignment problem); territories left over keep their names (with `` (new)`` when
    their name is taken).

    Returns
    -------
    dict
        Territory of ``plan`` -> its new name.
    """
    from scipy.optimize import linear_sum_assignment  # imported here: 0.5 s at import geoterr

    assert base.customers is not None and plan.customers is not None
    before = base.customers["territory"].astype(str)
    after = plan.customers["territory"].astype(str)
    common = before.index.intersection(after.index, sort=False)
    overlap = pd.crosstab(after.loc[common], before.loc[common])
    rows, cols = linear_sum_assignment(-overlap.to_numpy())
    mapping = {
        str(overlap.index[r]): str(overlap.columns[c])
        for r, c in zip(rows, cols, strict=True)
        if int(overlap.to_numpy()[r, c]) > 0
    }
    taken = set(mapping.values())
    for name in map(str, plan.territories.index):
        if name not in mapping:
            mapping[name] = f"{name} (new)" if name in taken else name
    return mapping


def _renamed(plan: Plan, mapping: dict[str, str]) -> Plan:
    assert plan.customers is not None
    customers = plan.customers.copy()
    customers["territory"] = customers["territory"].astype(str).map(mapping)
    territories = plan.territories.rename(index=lambda n: mapping.get(str(n), n))
    centers = plan.centers.rename(index=lambda n: mapping.get(str(n), n))
    assignment = plan.assignment.astype(str).map(mapping)
    return dataclasses.replace(
        plan,
        customers=customers,
        territories=territories,
        centers=centers,
        assignment=assignment,
    )


def _expand(plans: Sequence[Any], names: Sequence[str] | None) -> tuple[list[Plan], list[str]]:
    """Plans and names from the arguments; a sweep table contributes its plans."""
    out: list[Plan] = []
    labels: list[str] = []
    for i, item in enumerate(plans):
        if isinstance(item, Plan):
            out.append(item)
            labels.append(f"plan {i + 1}")
        elif isinstance(item, pd.DataFrame) and "plan" in item.columns:
            for row, (_, scenario) in enumerate(item.iterrows()):
                if isinstance(scenario["plan"], Plan):
                    out.append(scenario["plan"])
                    k = scenario.get("n_territories")
                    labels.append(f"scenario {row + 1}" + (f" (k={k})" if k is not None else ""))
        else:
            msg = (
                f"argument {i + 1} of compare is a {type(item).__name__}; give plans "
                "(geoterr.design, geoterr.load_plan, geoterr.plan_from_column) or a "
                "geoterr.sweep table run with keep_plans=True."
            )
            raise InputError(msg)
    if len(out) < 2:
        msg = f"compare needs at least two plans, got {len(out)}."
        raise InputError(msg)
    if names is not None:
        names = [str(n) for n in names]
        if len(names) != len(out) or len(set(names)) != len(names):
            msg = f"`names` must give {len(out)} different names (one per plan), got {names!r}."
            raise InputError(msg)
        labels = names
    elif len(out) == 2 and labels == ["plan 1", "plan 2"]:
        labels = ["before", "after"]
    for plan, label in zip(out, labels, strict=True):
        if plan.customers is None:
            msg = f"plan {label!r} has no customers; compare needs plans designed from customers."
            raise InputError(msg)
    return out, labels


def _common_measures(plans: list[Plan], measures: Sequence[str] | None) -> list[str]:
    if measures is not None:
        for plan in plans:
            plan_measures(plan, measures)  # checks them on every plan
        return [m for m in ([measures] if isinstance(measures, str) else measures) if m != COUNT]
    first = plan_measures(plans[0])
    return [m for m in first if all(m in plan_measures(p) for p in plans[1:])]


def _only_in(base: pd.Index, other: pd.Index, names: tuple[str, str]) -> pd.DataFrame:
    rows = [(c, names[0], names[1]) for c in base.difference(other)]
    rows += [(c, names[1], names[0]) for c in other.difference(base)]
    return pd.DataFrame(rows, columns=["customer", "in", "missing_from"])


def compare(
    *plans: Any,
    names: Sequence[str] | None = None,
    measures: Sequence[str] | None = None,
    reps: Any = None,
    match: bool = False,
) -> Comparison:
    """Compare a base plan with one or more alternatives.

    Parameters
    ----------
    *plans : Plan or DataFrame
        The base plan first, then the alternatives; a :func:`geoterr.sweep` table run with
        ``keep_plans=True`` stands for its plans.
    names : sequence of str, optional
        One name per plan (default ``before``/``after`` for two plans, else ``plan 1``...).
    measures : sequence of str, optional
        Measures to compare (default: those every plan carries).
    reps : DataFrame, path or sequence, optional
        Reps (name, territory, home; see :func:`geoterr.rosters.rep_homes`) for all plans,
        or one table (or None) per plan.
    match : bool
        Rename each alternative's territories after the base territories they share most
        customers with (:func:`match_territories`), so that a plan designed from scratch
        (``T01``...) is compared with today's territories by what really moves.

    Returns
    -------
    Comparison

    Raises
    ------
    InputError
        For fewer than two plans, plans without customers or unknown measures. Customers
        found in one plan only are not an error: they are listed in ``only_in`` and a
        warning says how many.

    Examples
    --------
    >>> import geoterr as gt
    >>> customers = gt.read_customers(gt.sample_path())
    >>> units = gt.build_units(customers, measures=["workload", "annual_revenue"])
    >>> today = gt.plan_from_column(customers, "current_territory", units=units)
    >>> new = gt.design(units, 12, balance={"workload": 0.05}, current="current_territory",
    ...                 max_moved=1200)
    >>> result = gt.compare(today, new)
    >>> int(result.scenarios.loc["after", "moved"]) == len(result.moved) <= 1200
    True
    """
    plan_list, labels = _expand(plans, names)
    match_rows = []
    if match:
        for i in range(1, len(plan_list)):
            mapping = match_territories(plan_list[0], plan_list[i])
            match_rows += [
                {"plan": labels[i], "territory": own, "matched": new}
                for own, new in mapping.items()
            ]
            plan_list[i] = _renamed(plan_list[i], mapping)
    common = _common_measures(plan_list, measures)
    if reps is None or isinstance(reps, str) or hasattr(reps, "columns") or hasattr(reps, "open"):
        rep_list = [reps] * len(plan_list)
    else:
        rep_list = list(reps)
        if len(rep_list) != len(plan_list):
            msg = f"`reps` gives {len(rep_list)} tables for {len(plan_list)} plans."
            raise InputError(msg)
    evaluations = {
        label: evaluate(plan, measures=common, reps=r)
        for plan, label, r in zip(plan_list, labels, rep_list, strict=True)
    }
    base, base_name = plan_list[0], labels[0]
    assert base.customers is not None
    rows, moved, flows, territories, affected, only = [], [], [], [], [], []
    for plan, label in zip(plan_list, labels, strict=True):
        assert plan.customers is not None
        result = evaluations[label]
        row: dict[str, Any] = {
            "plan": label,
            "status": plan.status,
            "territories": len(result.territories),
            "customers": int(result.overall["customers"]),
        }
        if label != base_name:
            pair = _pair(base, plan, (base_name, label), common, evaluations)
            moved.append(pair["moved"])
            flows.append(pair["flows"])
            territories.append(pair["territories"])
            affected.append(pair["affected"])
            only.append(pair["only_in"])
            row.update(pair["row"])
        else:
            row.update({"moved": 0, "moved_share": 0.0, **{f"{m}_moved": 0.0 for m in common}})
        for m in [COUNT, *common]:
            for index in ("max_deviation", "cv", "max_min_ratio", "gini"):
                row[f"{m}_{index}"] = result.balance.loc[m, index]
        for key in ("mean_distance_km", "travel_km", "min_polsby_popper"):
            row[key] = result.overall[key]
        row["contiguous_territories"] = result.overall["contiguous_territories"]
        rows.append(row)
    only_in = pd.concat(only, ignore_index=True).drop_duplicates()
    if len(only_in):
        warnings.warn(
            f"the plans do not hold the same customers: {len(only_in)} customer rows are in "
            f"one plan only ({format_ids(only_in['customer'].unique())}); they are listed in "
            "`only_in` and left out of the moves.",
            GeoterrWarning,
            stacklevel=2,
        )
    return Comparison(
        names=tuple(labels),
        scenarios=pd.DataFrame(rows).set_index("plan"),
        moved=pd.concat(moved, ignore_index=True),
        flows=pd.concat(flows, ignore_index=True),
        territories=pd.concat(territories, ignore_index=True),
        reps_affected=pd.concat(affected, ignore_index=True),
        only_in=only_in.reset_index(drop=True),
        evaluations=evaluations,
        matches=pd.DataFrame(match_rows, columns=["plan", "territory", "matched"]),
    )


def _pair(
    base: Plan,
    plan: Plan,
    names: tuple[str, str],
    measures: list[str],
    evaluations: dict[str, Evaluation],
) -> dict[str, Any]:
    """Return moves, flows and before/after tables of one scenario against the base."""
    assert base.customers is not None and plan.customers is not None
    before_t = base.customers["territory"].astype(str)
    after_t = plan.customers["territory"].astype(str)
    id_name = plan.customers.index.name or "customer"
    common = before_t.index.intersection(after_t.index, sort=False)
    frame = pd.DataFrame(plan.customers.loc[common, measures]).astype(float)
    frame.insert(0, "to", after_t.loc[common].to_numpy())
    frame.insert(0, "from", before_t.loc[common].to_numpy())
    changed = frame[frame["from"] != frame["to"]]
    moved = changed.rename_axis(id_name).reset_index()
    moved.insert(0, "plan", names[1])
    flows = (
        changed.assign(customers=1)
        .groupby(["from", "to"], sort=True)[["customers", *measures]]
        .sum()
        .reset_index()
    )
    flows.insert(0, "plan", names[1])
    before, after = evaluations[names[0]].territories, evaluations[names[1]].territories
    all_names = list(dict.fromkeys([*before.index, *after.index]))
    table = pd.DataFrame({"territory": all_names})
    for m in [COUNT, *measures]:
        b = before[m].reindex(all_names).fillna(0).to_numpy(float)
        a = after[m].reindex(all_names).fillna(0).to_numpy(float)
        if m == COUNT:  # counts stay whole numbers
            b, a = b.astype(int), a.astype(int)
        table[f"{m}_before"], table[f"{m}_after"], table[f"{m}_delta"] = b, a, a - b
    gained = changed.groupby("to").size()
    lost = changed.groupby("from").size()
    table["gained"] = gained.reindex(all_names).fillna(0).astype(int).to_numpy()
    table["lost"] = lost.reindex(all_names).fillna(0).astype(int).to_numpy()
    for side, source in (("rep_before", before), ("rep_after", after)):
        if "rep" in source.columns:
            table[side] = source["rep"].reindex(all_names).to_numpy()
    table.insert(0, "plan", names[1])
    affected = table[(table["gained"] > 0) | (table["lost"] > 0)]
    keep = ["plan", "territory"] + [c for c in ("rep_before", "rep_after") if c in table]
    keep += ["lost", "gained"]
    for m in measures:
        out_m = changed.groupby("from")[m].sum().reindex(affected["territory"]).fillna(0)
        in_m = changed.groupby("to")[m].sum().reindex(affected["territory"]).fillna(0)
        affected = affected.assign(
            **{f"{m}_lost": out_m.to_numpy(), f"{m}_gained": in_m.to_numpy()}
        )
        keep += [f"{m}_lost", f"{m}_gained"]
    n = len(common)
    row = {"moved": len(changed), "moved_share": len(changed) / n if n else np.nan}
    for m in measures:
        row[f"{m}_moved"] = float(changed[m].sum())
    return {
        "moved": moved,
        "flows": flows,
        "territories": table,
        "affected": affected[keep].reset_index(drop=True),
        "only_in": _only_in(before_t.index, after_t.index, names),
        "row": row,
    }
