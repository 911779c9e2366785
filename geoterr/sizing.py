"""Sales-force sizing: how many territories (reps) the workload needs.

The workload approach: a rep can carry a target workload (hours, visits a year); the number of
reps is at least the total workload over that target, and more when balance or geography
leave some territories heavier than the mean. :func:`size_territories` designs a plan for each
number of territories in a range and reports, for each, the workload per rep, the balance,
the travel and whether every territory stays within the target.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geoterr._errors import InputError, format_number
from geoterr.evaluation import evaluate
from geoterr.plan import Plan
from geoterr.sweeps import run_scenario
from geoterr.units import COUNT, Units, build_units

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["Sizing", "size_territories"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sizing:
    """The sizing table and its answer.

    Attributes
    ----------
    table : DataFrame
        One row per number of territories ``k``: ``status``, ``message``, ``workload_per_rep``
        (the mean), ``max_workload``, ``min_workload``, ``max_deviation``, ``cv``, ``gini``,
        ``mean_distance_km``, ``travel_km``, ``min_polsby_popper``, ``contiguous_share``,
        ``seconds`` and ``meets_target``.
    measure : str
        The workload measure.
    total : float
        The total workload.
    workload_per_rep : float or None
        The target workload one rep can carry.
    recommended : int or None
        The smallest ``k`` whose plan keeps its promises with every territory at most the
        target (None without a target, or when no ``k`` in the range meets it).
    note : str
        The answer in words.
    plans : dict
        ``k`` -> Plan, when asked for.
    """

    table: pd.DataFrame
    measure: str
    total: float
    workload_per_rep: float | None
    recommended: int | None
    note: str
    plans: dict[int, Plan] = field(default_factory=dict, repr=False)

    def figure(self) -> Figure:
        """Return a chart of k against workload per rep, balance and travel (matplotlib Figure)."""
        from matplotlib.figure import Figure

        table = self.table
        fig = Figure(figsize=(11, 3.6), layout="constrained")
        axes = fig.subplots(1, 3)
        k = table.index.to_numpy()
        axes[0].plot(k, table["workload_per_rep"], "o-", label="mean")
        axes[0].plot(k, table["max_workload"], "s--", label="heaviest territory")
        if self.workload_per_rep is not None:
            axes[0].axhline(self.workload_per_rep, color="crimson", lw=1, label="target per rep")
        axes[0].set(title=f"{self.measure} per rep", xlabel="territories (k)")
        axes[0].legend(fontsize=8)
        axes[1].plot(k, 100 * table["max_deviation"], "o-", label="max deviation")
        axes[1].plot(k, 100 * table["cv"], "s--", label="coefficient of variation")
        axes[1].set(title="balance (%)", xlabel="territories (k)")
        axes[1].set_ylim(bottom=0)
        axes[1].legend(fontsize=8)
        axes[2].plot(k, table["mean_distance_km"], "o-")
        axes[2].set(title="mean distance to customers (km)", xlabel="territories (k)")
        for ax in axes:
            ax.grid(alpha=0.3)
            if self.recommended is not None:
                ax.axvline(self.recommended, color="grey", ls=":", lw=1)
        return fig


def _k_values(k_range: Any, total: float, workload_per_rep: float | None) -> list[int]:
    if k_range is None:
        if workload_per_rep is None:
            msg = "give `workload_per_rep` (a rep's target workload) or `k_range` (e.g. 10:16)."
            raise InputError(msg)
        k0 = max(1, math.ceil(total / workload_per_rep))
        return list(range(max(1, k0 - 2), k0 + 5))
    if isinstance(k_range, str):
        low, _, high = k_range.partition(":")
        try:
            values = list(range(int(low), int(high or low) + 1))
        except ValueError:
            msg = f"`k_range` {k_range!r}: give LOW:HIGH, e.g. 10:16."
            raise InputError(msg) from None
    elif isinstance(k_range, tuple) and len(k_range) == 2:
        values = list(range(int(k_range[0]), int(k_range[1]) + 1))
    else:
        values = [int(k) for k in k_range]
    if not values or min(values) < 1:
        msg = f"`k_range` must hold whole numbers of territories >= 1, got {k_range!r}."
        raise InputError(msg)
    return sorted(set(values))


def size_territories(
    source: Units | gpd.GeoDataFrame,
    *,
    workload_per_rep: float | None = None,
    k_range: Any = None,
    measure: str = "workload",
    balance: Mapping[str, Any] | str | None = None,
    time_limit: float = 10.0,
    random_state: int | None = 0,
    keep_plans: bool = False,
    **design_options: Any,
) -> Sizing:
    """Design plans for a range of territory counts and find the smallest that carries the load.

    Parameters
    ----------
    source : Units or GeoDataFrame
        Units, or customers (:func:`geoterr.read_customers`; Voronoi units are built once).
    workload_per_rep : float, optional
        The workload one rep can carry. A ``k`` meets it when its plan keeps every promise
        and no territory holds more.
    k_range : str, tuple or sequence of int, optional
        The numbers of territories to try: ``"10:16"``, ``(10, 16)`` (both inclusive) or a
        list. Default: from two below ``ceil(total / workload_per_rep)`` to four above.
    measure : str
        The workload measure (a units column).
    balance : dict or str, optional
        Balance for every design (default: ``measure`` within 5 %).
    time_limit : float
        Seconds per design (modest: sizing compares many designs).
    random_state : int, optional
    keep_plans : bool
        Keep every plan in ``Sizing.plans``.
    **design_options
        More arguments of :func:`geoterr.design` (``objective``, ``solver``, ...).

    Returns
    -------
    Sizing

    Raises
    ------
    InputError
        For a bad range, target or measure.

    Examples
    --------
    >>> import geoterr as gt
    >>> customers = gt.read_customers(gt.sample_path())
    >>> sizing = gt.size_territories(customers, workload_per_rep=6000, k_range="12:13")
    >>> sizing.recommended
    12
    """
    started = time.perf_counter()
    if isinstance(source, gpd.GeoDataFrame):
        if measure not in source.columns:
            msg = f"`measure` {measure!r} is not a customers column."
            raise InputError(msg)
        extra = [m for m in (balance or {}) if m not in (measure, COUNT)]
        if isinstance(balance, str):
            extra = []
        units = build_units(source, measures=[measure, *extra])
    elif isinstance(source, Units):
        units = source
    else:
        msg = f"`source` must be Units or customers (a GeoDataFrame), got {type(source).__name__}."
        raise InputError(msg)
    if measure not in units.gdf.columns:
        msg = f"`measure` {measure!r} is not a measure of the units ({', '.join(units.measures)})."
        raise InputError(msg)
    total = float(units.gdf[measure].sum())
    if workload_per_rep is not None:
        if isinstance(workload_per_rep, bool) or not float(workload_per_rep) > 0:
            msg = f"`workload_per_rep` must be a positive number, got {workload_per_rep!r}."
            raise InputError(msg)
        workload_per_rep = float(workload_per_rep)
    ks = _k_values(k_range, total, workload_per_rep)
    balance = balance if balance is not None else {measure: 0.05}
    rows, plans = [], {}
    for i, k in enumerate(ks):
        scenario = {
            "n_territories": k,
            "balance": balance,
            "time_limit": time_limit,
            "random_state": random_state,
            **design_options,
        }
        row = run_scenario(units, scenario, keep_plan=True)
        plan = row.pop("plan", None)
        out = {"k": k, "status": row["status"], "message": row.get("message", "")}
        out.update(_plan_figures(plan, measure, total, k))
        out["seconds"] = row["seconds"]
        rows.append(out)
        if keep_plans and plan is not None:
            plans[k] = plan
        log.info(
            "sizing: k=%d %s, heaviest territory %s (%d of %d, %.1f s)",
            k,
            row["status"],
            format_number(out["max_workload"]) if np.isfinite(out["max_workload"]) else "-",
            i + 1,
            len(ks),
            row["seconds"],
        )
    table = pd.DataFrame(rows).set_index("k")
    if workload_per_rep is not None:
        table["meets_target"] = (table["status"] == "feasible") & (
            table["max_workload"] <= workload_per_rep * (1 + 1e-9)
        )
    else:
        table["meets_target"] = False
    recommended, note = _answer(table, total, workload_per_rep, measure)
    log.info("sizing: %s (%.1f s)", note, time.perf_counter() - started)
    return Sizing(table, measure, total, workload_per_rep, recommended, note, plans)


def _plan_figures(plan: Plan | None, measure: str, total: float, k: int) -> dict[str, Any]:
    nan = float("nan")
    figures: dict[str, Any] = {"workload_per_rep": total / k}
    if plan is None:
        return {
            **figures,
            **dict.fromkeys(("max_workload", "min_workload", "max_deviation", "cv", "gini"), nan),
            **dict.fromkeys(
                ("mean_distance_km", "travel_km", "min_polsby_popper", "contiguous_share"), nan
            ),
        }
    loads = plan.territories[measure].to_numpy(float)
    figures.update(max_workload=float(loads.max()), min_workload=float(loads.min()))
    if plan.customers is not None and measure in plan.customers.columns:
        result = evaluate(plan, measures=[measure])
        figures.update(
            max_deviation=result.balance.loc[measure, "max_deviation"],
            cv=result.balance.loc[measure, "cv"],
            gini=result.balance.loc[measure, "gini"],
            mean_distance_km=result.overall["mean_distance_km"],
            travel_km=result.overall["travel_km"],
        )
    else:
        from geoterr.metrics import balance_indices

        indices = balance_indices(loads)
        figures.update(
            max_deviation=indices["max_deviation"],
            cv=indices["cv"],
            gini=indices["gini"],
            mean_distance_km=float(plan.territories["mean_distance_km"].mean()),
            travel_km=nan,
        )
    figures.update(
        min_polsby_popper=float(plan.territories["polsby_popper"].min()),
        contiguous_share=float(plan.territories["contiguous"].mean()),
    )
    return figures


def _answer(
    table: pd.DataFrame, total: float, target: float | None, measure: str
) -> tuple[int | None, str]:
    if target is None:
        return None, f"{len(table)} designs compared; give workload_per_rep for an answer"
    lower = math.ceil(total / target)
    meeting = table.index[table["meets_target"]]
    if len(meeting):
        k = int(meeting.min())
        return k, (
            f"{k} territories carry the {measure} ({format_number(total)} in all) with every "
            f"territory at most {format_number(target)} (the workload alone needs {lower})"
        )
    k_max = int(table.index.max())
    last = table.loc[k_max].to_dict()
    return None, (
        f"no k in {int(table.index.min())}..{k_max} meets {format_number(target)} per rep: at "
        f"k={k_max} the plan is {last['status']} and its heaviest territory holds "
        f"{format_number(last['max_workload'])}; the workload alone needs {lower}: try a "
        "larger range or a wider balance tolerance"
    )


def parse_range(text: str) -> Sequence[int]:
    """``"10:16"`` -> [10, ..., 16] (for the command line)."""
    return _k_values(text, 0.0, None)
