"""Performance tracking: sales per territory, rep and region, per month, quarter or year.

:func:`track` joins sales records to a plan's customers and reports, for every territory and
period: revenue, volume, growth against the previous period and the same period last year,
attainment against target, penetration of potential and satisfaction; the same rolled up to
reps and regions; and the territories falling behind (bottom quartile of attainment, or a
falling trend over the last periods). Records that cannot be counted are listed in
``issues``, periods without sales are rows with ``empty`` set, never gaps.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from geoterr._errors import GeoterrWarning, InputError, format_ids
from geoterr.plan import Plan
from geoterr.rosters import plan_reps
from geoterr.sales import LEFT_OUT, SalesRecords, _arrow, read_sales
from geoterr.targets import per_period_targets

__all__ = ["PERIODS", "Tracking", "track"]

PERIODS = {"month": 12, "quarter": 4, "year": 1}
ADDITIVE = (
    "revenue",
    "records",
    "customers_buying",
    "credit_notes",
    "credit_amount",
    "volume",
    "satisfaction_sum",
    "satisfaction_count",
    "potential",
    "target",
)


@dataclass(frozen=True)
class Tracking:
    """What :func:`track` measured.

    Attributes
    ----------
    by : str
        ``"month"``, ``"quarter"`` or ``"year"``.
    periods : tuple of str
        The periods, oldest first (``2025-01``, ``2025Q1`` or ``2025``).
    territories : DataFrame
        One row per territory and period: ``territory``, ``period``, ``revenue``,
        ``records``, ``customers_buying``, ``credit_notes`` (how many negative records) and
        ``credit_amount``, ``volume``, ``satisfaction`` (mean score), ``potential``,
        ``target``, ``growth_prev`` (against the previous period), ``growth_yoy`` (against
        the same period a year before), ``attainment`` (revenue / target), ``penetration``
        (revenue / potential) and ``empty`` (no records). Columns without data are left out.
    reps, regions : DataFrame or None
        The same per rep and per region (when reps or regions are known), with ``rep`` or
        ``region`` in place of ``territory``.
    laggards : DataFrame
        One row per territory for the last period: ``revenue``, ``attainment``,
        ``growth_yoy``, ``falling_periods`` (how many periods in a row it fell),
        ``bottom_quartile``, ``falling_trend``, ``laggard`` and ``reason``.
    issues : DataFrame
        Every sales record left out or worth a look, with the problem (see
        :func:`geoterr.read_sales`).
    empty_periods : DataFrame
        ``territory``, ``period`` for each period a territory had no sales.
    notes : tuple of str
        How figures were made (trend basis, targets per period ...).
    """

    by: str
    periods: tuple[str, ...]
    territories: pd.DataFrame
    reps: pd.DataFrame | None
    regions: pd.DataFrame | None
    laggards: pd.DataFrame
    issues: pd.DataFrame
    empty_periods: pd.DataFrame
    notes: tuple[str, ...] = field(default=())

    def summary(self, level: str = "territory") -> pd.DataFrame:
        """Totals over all periods per territory (or ``"rep"``, ``"region"``)."""
        table = {"territory": self.territories, "rep": self.reps, "region": self.regions}[level]
        if table is None:
            msg = f"no {level} table: give reps or regions to track."
            raise InputError(msg)
        sums = table.groupby(level, sort=False)[
            [c for c in ("revenue", "records", "credit_notes", "target", "potential") if c in table]
        ].sum(min_count=1)
        if "target" in sums:
            sums["attainment"] = sums["revenue"] / sums["target"]
        if "potential" in sums:
            sums["penetration"] = sums["revenue"] / sums["potential"]
        return sums


def _period_codes(dates: pd.Series, per_year: int) -> np.ndarray:
    year = dates.dt.year.to_numpy(dtype=np.int64)
    month = dates.dt.month.to_numpy(dtype=np.int64)
    return np.asarray(year * per_year + (month - 1) // (12 // per_year))


def _period_label(code: int, per_year: int) -> str:
    year, index = divmod(int(code), per_year)
    if per_year == 12:
        return f"{year}-{index + 1:02d}"
    if per_year == 4:
        return f"{year}Q{index + 1}"
    return str(year)


def _parse_period(value: Any, per_year: int, name: str) -> int:
    try:
        stamp = pd.Timestamp(str(value)) if not str(value).upper().count("Q") else None
        if stamp is None:
            period = pd.Period(str(value), freq="Q")
            stamp = period.start_time
    except ValueError:
        msg = f"`{name}` {value!r} is not a date or period (e.g. 2025-01-01, 2025Q1)."
        raise InputError(msg) from None
    return int(_period_codes(pd.Series([stamp]), per_year)[0])


def _group_of(
    plan: Plan, names: list[str], mapping: Any, column: str | None, what: str
) -> pd.Series | None:
    """Territory -> rep or region, from a mapping/Series or the commonest customers value."""
    assert plan.customers is not None
    if column is not None:
        if column not in plan.customers.columns:
            msg = f"`{what}_column` {column!r} is not a customers column."
            raise InputError(msg)
        values = plan.customers[column].astype("string")
        mode: pd.Series = values.groupby(plan.customers["territory"].astype(str)).agg(
            lambda s: s.mode().iloc[0] if s.notna().any() else pd.NA
        )
        return mode.reindex(names).fillna(f"(no {what})").astype(str)
    if mapping is None:
        return None
    if isinstance(mapping, Mapping | pd.Series):
        series = pd.Series(mapping).rename(index=str).astype(str)
        unknown = sorted(set(series.index) - set(names))
        if unknown and not set(series.index) & set(names):
            _warn(
                f"`{what}s` names territories {format_ids(unknown)}, none of which is in the "
                f"plan (territories: {format_ids(names)}); there is no per-{what} table. Give "
                f"the {what}s of this plan's territories."
            )
            return None
        return series.reindex(names).fillna(f"(no {what})")
    msg = f"`{what}s` must map territory -> {what} (a dict or Series)."
    raise InputError(msg)


def _checked_track_options(plan: Plan, by: str, trend_periods: Any) -> gpd.GeoDataFrame:
    """Refuse a plan without customers, an unknown ``by`` or a bad ``trend_periods``.

    Returns the plan's customers.
    """
    if plan.customers is None:
        msg = "the plan has no customers; tracking joins sales to customers."
        raise InputError(msg)
    if by not in PERIODS:
        msg = f"`by` must be one of {', '.join(PERIODS)}, got {by!r}."
        raise InputError(msg)
    if not isinstance(trend_periods, int) or trend_periods < 1:
        msg = f"`trend_periods` must be a positive whole number, got {trend_periods!r}."
        raise InputError(msg)
    return plan.customers


def _add_optional_sums(
    table: pd.DataFrame, records: pd.DataFrame, use: np.ndarray, cell: np.ndarray, size: int
) -> None:
    """Add the sums of the optional record columns (units, potential, satisfaction) to ``table``.

    ``cell`` is the (territory, period) cell of each used record, ``size`` the number of cells.
    """
    for column, target in (("units", "volume"), ("potential", "potential")):
        if column in records:
            values = records[column].to_numpy(float)[use]
            ok = ~np.isnan(values)
            table[target] = np.bincount(cell[ok], values[ok], size)
    if "satisfaction" in records:
        scores = records["satisfaction"].to_numpy(float)[use]
        ok = ~np.isnan(scores)
        table["satisfaction_sum"] = np.bincount(cell[ok], scores[ok], size)
        table["satisfaction_count"] = np.bincount(cell[ok], minlength=size)


def track(  # noqa: PLR0913 (public API: every option is a documented keyword)
    plan: Plan,
    sales: Any,
    *,
    by: Literal["month", "quarter", "year"] = "quarter",
    targets: Any = None,
    potential: str | pd.Series | None = None,
    reps: Any = None,
    rep_column: str | None = None,
    regions: Mapping[str, str] | pd.Series | None = None,
    region_column: str | None = None,
    trend_periods: int = 3,
    min_fall: float = 0.02,
    start: Any = None,
    end: Any = None,
    today: Any = None,
    **read_options: Any,
) -> Tracking:
    """Track sales per territory, rep and region, period by period.

    Parameters
    ----------
    plan : Plan
        The plan whose territories are tracked (its customers give each record a territory).
    sales : SalesRecords, DataFrame or path
        Sales records (see :func:`geoterr.read_sales`; ``read_options`` are passed to it).
    by : {"month", "quarter", "year"}
    targets : Targets, Series or dict, optional
        Annual targets per territory (:func:`geoterr.split_targets`); each period gets its
        share (a quarter a fourth). Gives ``attainment`` and the bottom-quartile flag.
    potential : str or Series, optional
        Annual potential per customer (a customers column or Series customer -> value), for
        ``penetration`` when the records carry no potential column.
    reps : DataFrame or path, optional
        Reps with name and territory (default: a roster the plan carries).
    rep_column : str, optional
        Instead of ``reps``: a customers column naming the rep (a territory's commonest).
    regions : mapping or Series, optional
        Territory -> region (default: a ``regions`` mapping the plan carries, if any).
    region_column : str, optional
        Instead of ``regions``: a customers column naming the region (commonest per
        territory).
    trend_periods : int
        A territory whose revenue fell in each of the last ``trend_periods`` periods
        (against the same period a year before when there is a year of history, else
        against the previous period) by more than ``min_fall`` is flagged as falling.
    min_fall : float
        The relative fall that counts (default 2 %, so that noise is not a trend).
    start, end : date or period, optional
        The window (default: the first and last period with sales). Records outside it are
        reported as issues.
    today : date-like, optional
        Records after it are issues (default: now).

    Returns
    -------
    Tracking

    Raises
    ------
    InputError
        For a plan without customers, an unknown ``by``, bad targets, or sales records that
        cannot be read (see :func:`geoterr.read_sales`).

    Examples
    --------
    >>> import geoterr as gt
    >>> customers = gt.read_customers(gt.sample_path())
    >>> current = gt.plan_from_column(customers, "current_territory", measures=["workload"])
    >>> result = gt.track(current, gt.sample_path("sales.csv"), by="quarter", today="2026-01-01")
    >>> len(result.periods), len(result.territories)
    (8, 96)
    >>> sorted(result.laggards.index[result.laggards["falling_trend"]])
    ['T06 Gulf & Tennessee', 'T12 Pacific Northwest']
    """
    customers = _checked_track_options(plan, by, trend_periods)
    per_year = PERIODS[by]
    ids = pd.Index(customers.index.map(str))
    names = [str(n) for n in plan.territories.index]
    if not isinstance(sales, SalesRecords):
        sales = read_sales(sales, known_customers=ids, today=today, **read_options)
    records, issues, notes = sales.records, sales.issues, []
    position = (
        pc.index_in(_arrow(records["customer"]), value_set=pa.array(list(ids), type=pa.string()))
        .fill_null(-1)
        .to_numpy()
    )
    unknown = position < 0
    if unknown.any():  # records checked without this plan's customers
        extra = records.loc[unknown, ["row", "customer", "date", "amount"]].assign(
            problem="unknown customer", action=LEFT_OUT
        )
        issues = pd.concat([issues, extra.astype({"date": str, "amount": str})], ignore_index=True)
        _warn(
            f"{int(unknown.sum())} sales records are for customers not in the plan "
            f"({format_ids(records.loc[unknown, 'customer'].unique())}); left out."
        )
    territory_code = pd.Index(names).get_indexer(pd.Index(customers["territory"].astype(str)))
    codes = _period_codes(records["date"], per_year)
    first = _parse_period(start, per_year, "start") if start is not None else None
    last = _parse_period(end, per_year, "end") if end is not None else None
    if len(records) == 0 or unknown.all():
        msg = "no sales record could be counted; see the issues listed in the warning."
        raise InputError(msg)
    first = int(codes[~unknown].min()) if first is None else first
    last = int(codes[~unknown].max()) if last is None else last
    if last < first:
        msg = f"`end` ({_period_label(last, per_year)}) is before `start`."
        raise InputError(msg)
    outside = ~unknown & ((codes < first) | (codes > last))
    if outside.any():
        extra = records.loc[outside, ["row", "customer", "date", "amount"]].assign(
            problem="outside the window", action=LEFT_OUT
        )
        issues = pd.concat([issues, extra.astype({"date": str, "amount": str})], ignore_index=True)
    use = ~unknown & ~outside
    n_periods = last - first + 1
    t = territory_code[position[use]]
    p = codes[use] - first
    cell = t * n_periods + p
    size = len(names) * n_periods
    amount = records["amount"].to_numpy(float)[use]
    table = pd.DataFrame(
        {
            "territory": np.repeat(names, n_periods),
            "period": [_period_label(first + i, per_year) for i in range(n_periods)] * len(names),
            "revenue": np.bincount(cell, amount, size),
            "records": np.bincount(cell, minlength=size),
        }
    )
    buying = np.unique(cell.astype(np.int64) * len(ids) + position[use])
    table["customers_buying"] = np.bincount(buying // len(ids), minlength=size)
    negative = amount < 0
    table["credit_notes"] = np.bincount(cell[negative], minlength=size)
    table["credit_amount"] = np.bincount(cell[negative], amount[negative], size)
    _add_optional_sums(table, records, use, cell, size)
    if "potential" not in table and potential is not None:
        annual = _customer_potential(plan, potential)
        by_territory = annual.groupby(customers["territory"].astype(str)).sum().reindex(names)
        table["potential"] = np.repeat(by_territory.fillna(0).to_numpy() / per_year, n_periods)
        notes.append(f"potential: annual customer potential / {per_year} per period")
    if targets is not None:
        table["target"] = np.repeat(per_period_targets(targets, names, per_year), n_periods)
        notes.append(f"targets: annual target / {per_year} per period")
    key_table = _derive(table, "territory", per_year)
    levels: dict[str, pd.DataFrame | None] = {}
    homes = plan_reps(plan, reps) if rep_column is None else None
    rep_of = _group_of(plan, names, None if homes is None else homes["rep"], rep_column, "rep")
    if regions is None and region_column is None:
        regions = _carried_regions(plan)
    region_of = _group_of(plan, names, regions, region_column, "region")
    for level, mapping in (("rep", rep_of), ("region", region_of)):
        levels[level] = None if mapping is None else _roll_up(table, mapping, level, per_year)
    lag, basis = _laggards(key_table, "territory", trend_periods, per_year, min_fall)
    notes.append(basis)
    empty = key_table.loc[key_table["empty"], ["territory", "period"]].reset_index(drop=True)
    if len(empty):
        notes.append(f"{len(empty)} territory periods without any sales (rows with empty=True)")
    return Tracking(
        by=by,
        periods=tuple(_period_label(first + i, per_year) for i in range(n_periods)),
        territories=key_table,
        reps=levels["rep"],
        regions=levels["region"],
        laggards=lag,
        issues=issues.reset_index(drop=True),
        empty_periods=empty,
        notes=tuple(notes),
    )


def _carried_regions(plan: Plan) -> pd.Series | None:
    """Territory -> region from a ``regions`` attribute of the plan, when it has one."""
    carried = getattr(plan, "regions", None)
    if isinstance(carried, Mapping):
        return pd.Series(carried, dtype=object)
    if isinstance(carried, pd.Series):
        return carried
    if isinstance(carried, pd.DataFrame) and {"territory", "region"} <= set(carried.columns):
        return carried.set_index("territory")["region"]
    return None


def _warn(message: str) -> None:
    warnings.warn(message, GeoterrWarning, stacklevel=3)


def _customer_potential(plan: Plan, potential: str | pd.Series) -> pd.Series:
    assert plan.customers is not None
    if isinstance(potential, str):
        if potential not in plan.customers.columns:
            msg = f"`potential` {potential!r} is not a customers column."
            raise InputError(msg)
        values: pd.Series = pd.to_numeric(plan.customers[potential], errors="coerce")
    else:
        values = pd.to_numeric(pd.Series(potential).reindex(plan.customers.index), errors="coerce")
    bad = values.index[values.isna() | (values < 0)]
    if len(bad):
        msg = (
            f"`potential` is missing or negative for {len(bad)} customers ({format_ids(bad)}); "
            "use 0 for none."
        )
        raise InputError(msg)
    return values


def _derive(table: pd.DataFrame, key: str, per_year: int) -> pd.DataFrame:
    """Ratios and growth from the additive columns (rows sorted by key, then period)."""
    out = table.copy()
    group = out.groupby(key, sort=False)["revenue"]
    with np.errstate(divide="ignore", invalid="ignore"):
        prev = group.shift(1)
        year_ago = group.shift(per_year)
        out["growth_prev"] = np.where(prev > 0, out["revenue"] / prev - 1, np.nan)
        out["growth_yoy"] = np.where(year_ago > 0, out["revenue"] / year_ago - 1, np.nan)
        if "target" in out:
            out["attainment"] = out["revenue"] / out["target"]
        if "potential" in out:
            out["penetration"] = np.where(
                out["potential"] > 0, out["revenue"] / out["potential"], np.nan
            )
        if "satisfaction_sum" in out:
            out["satisfaction"] = out["satisfaction_sum"] / out["satisfaction_count"].where(
                out["satisfaction_count"] > 0
            )
            out = out.drop(columns=["satisfaction_sum", "satisfaction_count"])
    out["empty"] = out["records"].eq(0)
    return out


def _roll_up(table: pd.DataFrame, mapping: pd.Series, level: str, per_year: int) -> pd.DataFrame:
    """Territory rows summed per rep or region, then ratios again."""
    frame = table.assign(**{level: table["territory"].map(mapping)})
    columns = [c for c in ADDITIVE if c in frame]
    rolled = frame.groupby([level, "period"], sort=True)[columns].sum().reset_index()
    return _derive(rolled, level, per_year)


def _laggards(
    table: pd.DataFrame, key: str, n: int, per_year: int, min_fall: float
) -> tuple[pd.DataFrame, str]:
    """Return the flags per key for the last period.

    The flags are the bottom quartile of attainment and a falling trend.
    """
    periods = table["period"].unique()
    last = periods[-1]
    use_yoy = len(periods) >= per_year + n and per_year > 1
    growth = "growth_yoy" if use_yoy else "growth_prev"
    basis = (
        f"falling trend: revenue more than {min_fall:.0%} below the same period a year before "
        f"in each of the last {n} periods"
        if use_yoy
        else f"falling trend: revenue more than {min_fall:.0%} below the previous period in "
        f"each of the last {n} periods"
    )
    rows = []
    for name, group in table.groupby(key, sort=False):
        falls = (group[growth] < -min_fall).to_numpy()
        streak = 0
        for fell in falls[::-1]:
            if not fell:
                break
            streak += 1
        end = group.iloc[-1]
        rows.append(
            {
                key: name,
                "period": last,
                "revenue": end["revenue"],
                "attainment": end.get("attainment", np.nan),
                "growth_yoy": end["growth_yoy"],
                "growth_prev": end["growth_prev"],
                "falling_periods": streak,
            }
        )
    out = pd.DataFrame(rows).set_index(key)
    if out["attainment"].notna().any():
        cut = out["attainment"].quantile(0.25)
        out["bottom_quartile"] = out["attainment"] <= cut
    else:
        out["bottom_quartile"] = False
    out["falling_trend"] = out["falling_periods"] >= n
    out["laggard"] = out["bottom_quartile"] | out["falling_trend"]
    reasons = []
    for _, row in out.iterrows():
        parts = []
        if row["bottom_quartile"]:
            parts.append(f"attainment {row['attainment']:.0%} in the bottom quartile")
        if row["falling_trend"]:
            parts.append(f"revenue fell {int(row['falling_periods'])} periods in a row")
        reasons.append("; ".join(parts))
    out["reason"] = reasons
    return out, basis
