"""Targets (quotas) split from a company total in proportion to potential or revenue history."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from geoterr._errors import InputError, format_ids
from geoterr.plan import Plan
from geoterr.rosters import plan_reps
from geoterr.sales import SalesRecords

__all__ = ["Targets", "split_targets"]


@dataclass(frozen=True)
class Targets:
    """Targets per territory and per rep.

    Attributes
    ----------
    total : float
        The company total that was split.
    basis : str
        What the split is proportional to.
    territories : DataFrame
        Index ``territory``: ``basis`` (its total), ``share`` and ``target``; ``rep`` when
        reps are known.
    reps : DataFrame or None
        Index ``rep``: ``territories``, ``basis``, ``share``, ``target``.
    """

    total: float
    basis: str
    territories: pd.DataFrame
    reps: pd.DataFrame | None = None

    @property
    def target(self) -> pd.Series:
        """Territory -> target."""
        return self.territories["target"]


def _basis(plan: Plan, basis: Any) -> tuple[pd.Series, str]:
    """Each customer's basis value (customer id -> number) and its description."""
    assert plan.customers is not None
    customers = plan.customers
    if isinstance(basis, str):
        if basis not in customers.columns:
            msg = (
                f"`basis` {basis!r} is not a customers column; name a potential column, give a "
                "Series customer -> value, or sales records (revenue history)."
            )
            raise InputError(msg)
        values = pd.to_numeric(customers[basis], errors="coerce")
        return values, f"customers column {basis!r}"
    if isinstance(basis, SalesRecords):
        history = basis.records.groupby("customer")["amount"].sum()
        ids = customers.index.map(str)
        values = pd.Series(history.reindex(ids).fillna(0.0).to_numpy(), index=customers.index)
        return values, "revenue history"
    if isinstance(basis, pd.Series):
        values = pd.to_numeric(basis.reindex(customers.index), errors="coerce")
        return values, str(basis.name or "given values")
    msg = (
        f"`basis` must be a customers column name, a Series customer -> value or "
        f"SalesRecords (geoterr.read_sales), got {type(basis).__name__}."
    )
    raise InputError(msg)


def split_targets(
    plan: Plan,
    total: float,
    *,
    basis: Any,
    reps: Any = None,
) -> Targets:
    """Split a company target over the territories in proportion to a basis.

    Parameters
    ----------
    plan : Plan
        A plan with customers.
    total : float
        The company target (revenue for the year, units...); must be positive.
    basis : str, Series or SalesRecords
        What each customer is worth for the split: a customers column (a potential or
        opportunity measure, last year's revenue), a Series customer id -> value, or sales
        records (their net amounts per customer: the revenue history).
    reps : DataFrame or path, optional
        Reps with name and territory (see :func:`geoterr.rosters.rep_homes`), for the
        targets per rep (default: a roster the plan carries).

    Returns
    -------
    Targets

    Raises
    ------
    InputError
        If ``total`` is not a positive number, the basis has missing or negative values
        (listed), or its total is not positive.

    Examples
    --------
    >>> import geoterr as gt
    >>> customers = gt.read_customers(gt.sample_path())
    >>> current = gt.plan_from_column(customers, "current_territory", measures=["workload"])
    >>> reps = gt.sample_path("reps.csv")
    >>> quota = split_targets(current, 60e6, basis="annual_revenue", reps=reps)
    >>> round(quota.territories["target"].sum()), float(round(quota.reps["share"].sum(), 6))
    (60000000, 1.0)
    """
    if plan.customers is None:
        msg = "the plan has no customers; targets are split from customer values."
        raise InputError(msg)
    try:
        value = float(total)
    except (TypeError, ValueError):
        value = math.nan
    if isinstance(total, bool) or not math.isfinite(value) or value <= 0:
        msg = f"`total` must be a positive number (the company target), got {total!r}."
        raise InputError(msg)
    values, label = _basis(plan, basis)
    bad = values.index[values.isna() | (values < 0)]
    if len(bad):
        msg = (
            f"`basis` ({label}) is missing, negative or not a number for {len(bad)} customers "
            f"({format_ids(bad)}); fix them (use 0 for no potential)."
        )
        raise InputError(msg)
    territory = plan.customers["territory"].astype(str)
    names = [str(n) for n in plan.territories.index]
    sums = values.groupby(territory).sum().reindex(names).fillna(0.0)
    whole = float(sums.sum())
    if not whole > 0:
        msg = f"`basis` ({label}) adds up to {whole:g}; a split needs a positive total."
        raise InputError(msg)
    table = pd.DataFrame(
        {"basis": sums, "share": sums / whole, "target": value * sums / whole},
        index=pd.Index(names, name="territory"),
    )
    rep_table = None
    homes = plan_reps(plan, reps)
    if homes is not None:
        table.insert(0, "rep", homes["rep"].reindex(names).fillna("(no rep)").to_numpy())
        rep_table = (
            table.groupby("rep")
            .agg(
                territories=("basis", "size"),
                basis=("basis", "sum"),
                share=("share", "sum"),
                target=("target", "sum"),
            )
            .sort_values("target", ascending=False)
        )
    return Targets(value, label, table, rep_table)


def per_period_targets(targets: Any, names: list[str], periods_per_year: int) -> np.ndarray:
    """Annual targets (Targets, Series or mapping territory -> number) per period."""
    if isinstance(targets, Targets):
        series = targets.target
    elif isinstance(targets, pd.Series):
        series = targets
    elif isinstance(targets, dict):
        series = pd.Series(targets, dtype=float)
    else:
        msg = (
            "`targets` must be split_targets(...), or a Series / dict territory -> annual "
            f"target, got {type(targets).__name__}."
        )
        raise InputError(msg)
    series = pd.to_numeric(series.rename(index=str), errors="coerce").reindex(names)
    bad = series.index[series.isna() | (series <= 0)]
    if len(bad):
        msg = f"`targets` has no positive annual target for territories {format_ids(bad)}."
        raise InputError(msg)
    return series.to_numpy(float) / periods_per_year
