"""Assigning reps to the territories of a finished plan: the model, its diagnosis, the roster.

:func:`assign_reps` builds the rep x territory costs (:func:`geoterr.reps.travel_costs` or a
user matrix), the allowed pairs (skills, FTE capacity) and solves the assignment with
:func:`geoterr.rep_model.solve_assignment`; :func:`with_reps` writes the result into a copy of
the plan (``rep`` columns and the ``roster``).
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from collections.abc import Hashable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from geoterr._errors import (
    GeoterrWarning,
    InfeasibleError,
    InputError,
    format_ids,
)
from geoterr._errors import format_number as _n
from geoterr.reps import (
    OPEN_TERRITORY,
    _as_reps,
    _skill_set,
    check_homes_near,
    travel_costs,
)

__all__ = ["assign_reps", "with_reps"]


def _territory_requirements(plan: Any, requires: Any) -> dict[str, frozenset[str]]:
    """Territory -> the skills its rep must have."""
    names = [str(t) for t in plan.territories.index]
    if requires is None:
        return {t: frozenset() for t in names}
    if isinstance(requires, Mapping):
        unknown = [str(t) for t in requires if str(t) not in names]
        if unknown:
            msg = (
                f"`requires` names territories the plan does not have: {format_ids(unknown)}; "
                f"the plan's territories are {format_ids(names)}."
            )
            raise InputError(msg)
        given = {str(t): _skill_set(v) for t, v in requires.items()}
        return {t: given.get(t, frozenset()) for t in names}
    if isinstance(requires, str):
        if requires in plan.territories.columns:
            values = plan.territories[requires]
            return {str(t): _skill_set(v) for t, v in values.items()}
        if plan.customers is not None and requires in plan.customers.columns:
            c = plan.customers
            groups = c[requires].dropna().astype(str).groupby(c["territory"].astype(str))
            found = {str(t): frozenset(v.unique()) for t, v in groups}
            return {t: found.get(t, frozenset()) for t in names}
        msg = (
            f"`requires` {requires!r} is neither a territories column nor a customers column; "
            "give a column whose values are the skills (segments) a territory needs, or a "
            "mapping territory -> skills."
        )
        raise InputError(msg)
    msg = f"`requires` must be a column name or a mapping territory -> skills, got {requires!r}."
    raise InputError(msg)


def _user_costs(costs: Any, reps: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Return a user's rep x territory cost matrix, checked against the reps and territories."""
    if isinstance(costs, str | os.PathLike):
        costs = pd.read_csv(costs, index_col=0)
    if not isinstance(costs, pd.DataFrame):
        msg = "`costs` must be a DataFrame (index rep ids, columns territory names) or a CSV."
        raise InputError(msg)
    table: pd.DataFrame = costs.copy()
    table.index = table.index.astype(str)
    table.columns = table.columns.astype(str)
    problems = []
    for what, have, want in (
        ("rep ids (rows)", list(table.index), list(reps.index)),
        ("territories (columns)", list(table.columns), names),
    ):
        missing = [w for w in want if w not in set(have)]
        extra = [h for h in have if h not in set(want)]
        if missing:
            problems.append(f"no {what} for {format_ids(missing)}")
        if extra:
            problems.append(f"unknown {what} {format_ids(extra)}")
    if problems:
        msg = (
            "`costs` does not match the reps and territories: " + "; ".join(problems) + ". "
            "Its index must be the reps' ids and its columns the plan's territory names."
        )
        raise InputError(msg)
    table = table.loc[list(reps.index), names].apply(pd.to_numeric, errors="coerce")
    bad = table.isna() | (table < 0)
    if bad.to_numpy().any():
        pairs = [f"{r}/{t}" for r, t in zip(*np.nonzero(bad.to_numpy()), strict=True)]
        msg = (
            f"`costs` has {len(pairs)} missing or negative entries (rep/territory positions "
            f"{format_ids(pairs)}); give every pair a cost >= 0."
        )
        raise InputError(msg)
    return table


def _sizes(plan: Any, measure: str | None) -> tuple[str, np.ndarray]:
    """Each territory's size in FTE.

    Its share of ``measure`` times the plan's total capacity (the sum of ``design(capacity=...)``,
    else the number of territories).
    """
    table = plan.territories
    if measure is None:
        balance = plan.params.get("balance") or {}
        measure = next((m for m in balance if m in table.columns), "customers")
    if measure not in table.columns:
        msg = f"`capacity_measure` {measure!r} is not a territory measure."
        raise InputError(msg)
    values = table[measure].to_numpy(float)
    total = values.sum()
    capacity = plan.params.get("capacity")
    fte_total = float(np.sum(capacity)) if capacity else float(len(values))
    return measure, values * fte_total / total if total > 0 else np.ones(len(values))


def _tolerance(plan: Any, measure: str, given: float | None) -> float:
    if given is not None:
        return float(given)
    bound = (plan.params.get("balance") or {}).get(measure)
    return float(bound) if isinstance(bound, int | float) else 0.1


def _warn_unused_skills(reps: pd.DataFrame, needed: dict[str, frozenset[str]]) -> None:
    used = set().union(*needed.values()) if needed else set()
    offered: dict[str, list[str]] = {}
    for rep, skills in reps["skills"].items():
        for skill in skills:
            offered.setdefault(skill, []).append(str(rep))
    unused = {s: r for s, r in offered.items() if s not in used}
    if unused:
        listed = "; ".join(f"{s!r} (reps {format_ids(r)})" for s, r in sorted(unused.items()))
        how = "" if used else " (pass `requires=` to match skills to territories)"
        warnings.warn(
            f"`reps` lists skills no territory requires: {listed}{how}; check their spelling "
            "against the territories' requirements.",
            GeoterrWarning,
            stacklevel=3,
        )


def _left_out(
    reps: pd.DataFrame,
    needed: dict[str, frozenset[str]],
    names: list[str],
    sizes: np.ndarray,
    tolerance: float | None,
    group: list[int],
    partners: list[int],
) -> str:
    """Why the reps outside ``partners`` cannot take any territory of ``group``."""
    out = []
    smallest = float(sizes[group].min())
    for i in range(len(reps)):
        if i in partners:
            continue
        skills = reps["skills"].iloc[i]
        fte = float(reps["fte"].iloc[i])
        why = []
        if tolerance is not None and fte * (1 + tolerance) < smallest - 1e-9:
            why.append(f"{_n(fte)} FTE, they are {_n(smallest)} FTE or more")
        lacking = sorted(set().union(*(needed[names[j]] for j in group)) - skills)
        if lacking:
            why.append(f"lacks {', '.join(lacking)}")
        out.append(f"{reps.index[i]}: {'; '.join(why) or 'requirements'}")
    return f"; the other reps cannot take them ({'; '.join(out)})" if out else ""


def _explain(
    allowed: np.ndarray,
    reps: pd.DataFrame,
    names: list[str],
    needed: dict[str, frozenset[str]],
    sizes: np.ndarray,
    tolerance: float | None,
    must_fill: str,
) -> str:
    """Return the requirement behind an infeasible assignment, in words."""
    reasons = []
    fte = reps["fte"].to_numpy(float)
    for j, t in enumerate(names):
        if allowed[:, j].any() or must_fill != "territories":
            continue
        why = []
        skilled = np.array([needed[t] <= s for s in reps["skills"]])
        if needed[t] and not skilled.any():
            why.append(f"skills {', '.join(sorted(needed[t]))} that no rep has")
        elif needed[t]:
            why.append(f"skills {', '.join(sorted(needed[t]))}")
        if tolerance is not None:
            biggest = fte[skilled].max(initial=0.0) if skilled.any() else fte.max()
            if sizes[j] > biggest * (1 + tolerance) + 1e-9:
                why.append(
                    f"a rep of {_n(sizes[j] / (1 + tolerance))} FTE or more (its size is "
                    f"{_n(sizes[j])} FTE, the largest fitting rep has {_n(biggest)})"
                )
        reasons.append(f"territory {t} needs {' and '.join(why) or 'a rep'}")
    for i, rep in enumerate(reps.index):
        if not allowed[i].any() and must_fill == "reps":
            reasons.append(
                f"rep {rep} ({_n(fte[i])} FTE, skills "
                f"{', '.join(sorted(reps['skills'].iloc[i])) or 'none'}) fits no territory"
            )
    if not reasons:
        from geoterr.rep_model import unmatched_reason

        hall = unmatched_reason(allowed, [str(r) for r in reps.index], names, must_fill)
        if hall and must_fill == "territories":
            text, group, partners = hall
            reasons.append(text + _left_out(reps, needed, names, sizes, tolerance, group, partners))
        elif hall:
            reasons.append(hall[0])
    return "; ".join(reasons)


def assign_reps(  # noqa: PLR0913 (public API: every option is a documented keyword)
    plan: Any,
    reps: Any,
    *,
    costs: Any = None,
    visits: str | None = None,
    requires: str | Mapping[Hashable, Any] | None = None,
    continuity: float = 0.0,
    min_kept: int | None = None,
    capacity: bool | None = None,
    capacity_measure: str | None = None,
    capacity_tolerance: float | None = None,
    allow_unassigned: bool = False,
    solver: Any = "highs",
    time_limit: float | None = 60.0,
) -> Any:
    r"""Give each territory of a finished plan a rep, by an assignment model.

    The model (solved by HiGHS, or another solver through PuLP): binary :math:`x_{rt}` = rep
    :math:`r` covers territory :math:`t`, only for allowed pairs (skills and capacity below),

    .. math::

        \min \sum_{r,t} c_{rt} (1 - \kappa [t = \mathrm{current}(r)]) x_{rt}
        \quad \text{s.t.} \quad \sum_t x_{rt} = 1 \;\forall r, \quad
        \sum_r x_{rt} \le 1 \;\forall t, \quad
        \sum_{t = \mathrm{current}(r)} x_{rt} \ge m

    with :math:`c_{rt}` the visit-weighted travel (km) from rep :math:`r`'s home to the
    customers of :math:`t` (or the user's ``costs``), :math:`\kappa` the ``continuity``
    discount and :math:`m` = ``min_kept``. With as many reps as territories both sums are
    equalities; with fewer reps the territories left are vacancies named ``"open
    territory"``; with more reps, ``allow_unassigned=True`` lets reps go without a territory.

    Parameters
    ----------
    plan : Plan
        A designed or loaded plan.
    reps : path or DataFrame
        Reps as :func:`read_reps` reads them (id, name, home, ``capacity_fte``, ``skills``,
        ``current_territory``).
    costs : DataFrame or path, optional
        Rep x territory costs (e.g. drive hours) replacing travel: index = rep ids, columns =
        territory names, all present.
    visits : str, optional
        Customers column of visits per customer weighting the travel (default
        ``visits_per_year`` when present, else one per customer).
    requires : str or mapping, optional
        Hard skill (segment) matches: a mapping territory -> required skills, a territories
        column, or a customers column (a territory then needs every value its customers
        have, e.g. ``"segment"`` for a segment layer). A rep may cover a territory only if
        the rep's ``skills`` include all of them.
    continuity : float
        In [0, 1]: a rep's current territory costs this share less, so reps keep their
        territory unless another rep is that much closer (0 = travel only, 1 = keep
        whenever possible).
    min_kept : int, optional
        At least this many reps keep their current territory (hard).
    capacity : bool, optional
        When True, a rep of FTE ``f`` may only cover a territory of size at most
        ``f x (1 + capacity_tolerance)``, a territory's size being its share of
        ``capacity_measure`` times the plan's total capacity (1 = an average territory of
        an equal plan; a plan designed with ``capacity=[1, 1, 0.5]`` has a territory of
        size 0.5). Default: True when the plan was designed with ``capacity``, else False
        (the roster still shows each rep's ``fte`` against the territory's ``size``).
    capacity_measure : str, optional
        Default: the plan's first balanced measure (else the customer count).
    capacity_tolerance : float, optional
        Default: that measure's balance tolerance (else 0.1).
    allow_unassigned : bool
        With more reps than territories, leave the extra reps without a territory instead
        of stopping.
    solver : str or pulp solver
        ``"highs"`` (default) or any solver :func:`geoterr.design` accepts.
    time_limit : float, optional
        Seconds for the solver.

    Returns
    -------
    Plan
        A copy of ``plan`` with ``rep`` and ``rep_name`` on its territories and customers and
        a ``roster`` (rep, territory, customers, workload, revenue, travel, FTE, kept).
        ``plan.params["reps"]`` records the settings and how many reps kept their territory.

    Raises
    ------
    InputError
        Bad reps or costs; more reps than territories without ``allow_unassigned``.
    InfeasibleError
        No assignment keeps the skills, capacity and ``min_kept``: the message names the
        territories and the requirement no rep meets.

    Examples
    --------
    >>> import geoterr as gt
    >>> units = gt.build_units(gt.read_customers(gt.sample_path()), measures=["workload"])
    >>> plan = gt.design(units, 12, balance={"workload": 0.05})
    >>> staffed = gt.assign_reps(plan, gt.sample_path("reps.csv"))
    >>> int(staffed.territories["rep"].notna().sum())
    12
    """
    from geoterr.rep_model import solve_assignment

    reps = _as_reps(reps)
    names = [str(t) for t in plan.territories.index]
    n_r, n_t = len(reps), len(names)
    if n_r > n_t and not allow_unassigned:
        msg = (
            f"`reps` has {n_r} reps but the plan has only {n_t} territories; design "
            f"{n_r} territories (or drop {n_r - n_t} reps), or pass allow_unassigned=True "
            "(CLI: --allow-unassigned) to "
            f"leave {n_r - n_t} reps without a territory."
        )
        raise InputError(msg)
    if not 0.0 <= continuity <= 1.0:
        msg = f"`continuity` must be in [0, 1] (a share of travel saved), got {continuity!r}."
        raise InputError(msg)
    if plan.customers is not None and costs is None:
        c = plan.customers
        check_homes_near(reps, np.column_stack([c.geometry.x, c.geometry.y]))
    needed = _territory_requirements(plan, requires)
    _warn_unused_skills(reps, needed)
    travel = travel_costs(plan, reps, visits=visits)
    cost = travel if costs is None else _user_costs(costs, reps, names)
    measure, sizes = _sizes(plan, capacity_measure)
    if capacity is None:
        capacity = bool(plan.params.get("capacity"))
    tolerance = _tolerance(plan, measure, capacity_tolerance) if capacity else None
    allowed = np.array([[needed[t] <= skills for t in names] for skills in reps["skills"]])
    allowed = allowed.reshape(n_r, n_t)
    if tolerance is not None:
        fte = reps["fte"].to_numpy(float)
        allowed &= sizes[None, :] <= fte[:, None] * (1 + tolerance) + 1e-9
    current = reps["current_territory"].to_numpy(dtype=object)
    kept = np.array([[current[i] == t for t in names] for i in range(n_r)]).reshape(n_r, n_t)
    must_fill = "territories" if n_r >= n_t else "reps"
    reason = _explain(allowed, reps, names, needed, sizes, tolerance, must_fill)
    if reason:
        msg = (
            f"No rep assignment keeps every requirement: {reason}. Give reps the missing "
            "skills, design the territories around the reps' FTEs (design_for_reps or "
            "design(capacity=...)), raise `capacity_tolerance` or pass capacity=False."
        )
        raise InfeasibleError(msg)
    possible = int((kept & allowed).sum())
    if min_kept is not None and min_kept > possible:
        msg = (
            f"`min_kept` is {min_kept} but only {possible} reps can keep their current "
            "territory (a territory of that name exists and they meet its requirements); "
            f"ask for at most {possible}."
        )
        raise InfeasibleError(msg)
    discounted = cost.to_numpy(float) * np.where(kept, 1.0 - continuity, 1.0)
    choice = solve_assignment(
        discounted,
        allowed,
        kept,
        rep_rows="<=" if n_r > n_t else "==",
        territory_rows="==" if n_r >= n_t else "<=",
        min_kept=min_kept,
        solver=solver,
        time_limit=time_limit,
    )
    pairs = {str(reps.index[i]): names[j] for i, j in enumerate(choice) if j >= 0}
    open_ = [t for t in names if t not in set(pairs.values())]
    if open_:
        warnings.warn(
            f"{len(open_)} of {n_t} territories have no rep ({format_ids(open_)}): they are "
            f"named '{OPEN_TERRITORY}' in the roster, the outputs and the map.",
            GeoterrWarning,
            stacklevel=2,
        )
    settings = {
        "continuity": continuity,
        "min_kept": min_kept,
        "capacity_measure": measure if capacity else None,
        "capacity_tolerance": tolerance,
        "requires": requires if isinstance(requires, str) else None,
        "costs": "travel" if costs is None else "user matrix",
        "objective": float(sum(cost.iloc[i, j] for i, j in enumerate(choice) if j >= 0)),
    }
    return with_reps(plan, reps, pairs, travel=travel, sizes=sizes, settings=settings)


def with_reps(
    plan: Any,
    reps: pd.DataFrame,
    pairs: Mapping[str, str],
    *,
    travel: pd.DataFrame | None = None,
    sizes: np.ndarray | None = None,
    settings: dict[str, Any] | None = None,
    judge_kept: bool = True,
) -> Any:
    """Return a copy of ``plan`` whose territories have the reps ``pairs`` (rep id -> territory).

    Adds ``rep``, ``rep_name`` (``"open territory"`` for vacancies), ``fte`` and
    ``travel_km`` to the territories, ``rep`` and ``rep_name`` to the customers, and the
    ``roster``. ``judge_kept=False`` leaves the roster's ``kept`` empty (new territories,
    whose names cannot match the reps' current ones).
    """
    names = [str(t) for t in plan.territories.index]
    if travel is None:
        travel = travel_costs(plan, reps)
    if sizes is None:
        sizes = _sizes(plan, None)[1]
    rep_of = {t: r for r, t in pairs.items()}
    territories = plan.territories.copy()
    territories["rep"] = [rep_of.get(t) for t in names]
    territories["rep_name"] = [
        reps.loc[rep_of[t], "name"] if t in rep_of else OPEN_TERRITORY for t in names
    ]
    territories["fte"] = [reps.loc[rep_of[t], "fte"] if t in rep_of else np.nan for t in names]
    territories["travel_km"] = [travel.loc[rep_of[t], t] if t in rep_of else np.nan for t in names]
    customers = plan.customers
    if customers is not None:
        customers = customers.copy()
        by_territory = customers["territory"].astype(str)
        customers["rep"] = by_territory.map(lambda t: rep_of.get(t)).to_numpy(dtype=object)
        customers["rep_name"] = by_territory.map(territories["rep_name"].to_dict()).to_numpy()
    roster = _roster(territories, reps, pairs, travel, sizes)
    if not judge_kept:
        roster["kept"] = None
    n_kept = int(roster["kept"].fillna(False).astype(bool).sum())
    params = dict(plan.params)
    params["reps"] = {
        **(settings or {}),
        "n_reps": len(reps),
        "assigned": len(pairs),
        "vacancies": len(names) - len(pairs),
        "unassigned_reps": len(reps) - len(pairs),
        "kept": n_kept,
    }
    return dataclasses.replace(
        plan, territories=territories, customers=customers, roster=roster, params=params
    )


def _roster(
    territories: pd.DataFrame,
    reps: pd.DataFrame,
    pairs: Mapping[str, str],
    travel: pd.DataFrame,
    sizes: np.ndarray,
) -> pd.DataFrame:
    size_of = dict(zip(territories.index.astype(str), sizes, strict=True))
    revenue = next((c for c in ("annual_revenue", "revenue") if c in territories.columns), None)
    workload = "workload" if "workload" in territories.columns else None
    rows = []

    def measures(t: str | None) -> dict[str, Any]:
        if t is None:
            return {"customers": 0, "workload": np.nan, "revenue": np.nan}
        row: dict[Hashable, Any] = territories.loc[t].to_dict()
        return {
            "customers": int(row["customers"]) if "customers" in row else np.nan,
            "workload": float(row[workload]) if workload else np.nan,
            "revenue": float(row[revenue]) if revenue else np.nan,
        }

    names = [str(c) for c in travel.columns]
    for i, (rep, info) in enumerate(reps.iterrows()):
        t = pairs.get(str(rep))
        current = info["current_territory"]
        rows.append(
            {
                "rep": str(rep),
                "name": info["name"],
                "territory": t,
                **measures(t),
                "travel_km": float(travel.to_numpy()[i, names.index(t)])
                if t is not None
                else np.nan,
                "fte": float(info["fte"]),
                "size": float(size_of[t]) if t is not None else np.nan,
                "current_territory": current,
                "kept": (None if current is None else bool(t == current)),
                "status": "assigned" if t is not None else "unassigned",
                "home_latitude": float(info["latitude"]),
                "home_longitude": float(info["longitude"]),
            }
        )
    for t in territories.index.astype(str):
        if t not in set(pairs.values()):
            rows.append(
                {
                    "rep": None,
                    "name": OPEN_TERRITORY,
                    "territory": t,
                    **measures(t),
                    "travel_km": np.nan,
                    "fte": np.nan,
                    "size": float(size_of[t]),
                    "current_territory": None,
                    "kept": None,
                    "status": "vacant",
                    "home_latitude": np.nan,
                    "home_longitude": np.nan,
                }
            )
    roster = pd.DataFrame(rows)
    standard = ("name", "latitude", "longitude", "fte", "skills", "current_territory")
    roster["skills"] = roster["rep"].map(
        {str(r): ";".join(sorted(s)) for r, s in reps["skills"].items()}
    )
    for column in reps.columns:
        if column not in standard and column not in roster.columns:
            roster[column] = roster["rep"].map(reps[column].to_dict())
    if "region" in territories.columns:
        roster.insert(3, "region", roster["territory"].map(territories["region"].to_dict()))
    return roster
