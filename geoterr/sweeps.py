"""Scenario sweeps: many designs (numbers of territories, tolerances, unit sizes) side by side.

Each scenario is one call of :func:`geoterr.design` (and, when the sweep starts from customers
and the scenario says how, of :func:`geoterr.build_units`). Scenarios run one after another in
this process, or in parallel on a ``dask.distributed`` cluster: a ``Client``, a scheduler
address (``"tcp://10.0.0.5:8786"``) or ``"local"`` for a ``LocalCluster`` on this machine.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geoterr._errors import GeoterrError, GeoterrWarning, InfeasibleError, InputError
from geoterr.design import design
from geoterr.units import Units, build_units

__all__ = ["UNIT_OPTIONS", "sweep"]

# Scenario keys that go to build_units; every other key goes to design.
UNIT_OPTIONS = frozenset(
    {
        "method",
        "measures",
        "aggregate",
        "boundary",
        "crs",
        "adjacency",
        "islands",
        "prune",
        "resolution",
        "n_units",
        "fill_gaps",
        "polygons",
        "polygon_id",
        "contiguity",
        "snap",
        "outside",
    }
)


def run_scenario(
    source: Units | gpd.GeoDataFrame, scenario: Mapping[str, Any], keep_plan: bool = False
) -> dict[str, Any]:
    """Run one scenario; return a row of results (never raises for a scenario's own failure).

    The row has the scenario's settings, ``status`` (``"feasible"``, ``"violated"``,
    ``"infeasible"`` or ``"error"``), ``message``, ``units``, ``max_deviation`` (the largest
    relative deviation over the balanced measures), ``min_polsby_popper``,
    ``contiguous_share``, ``objective``, ``gap`` and ``seconds``; and ``plan`` when asked.
    """
    start = time.perf_counter()
    settings = dict(scenario)
    row: dict[str, Any] = dict(settings)
    unit_args = {k: v for k, v in settings.items() if k in UNIT_OPTIONS}
    design_args = {k: v for k, v in settings.items() if k not in UNIT_OPTIONS}
    n_territories = design_args.pop("n_territories")
    design_args.setdefault("verbose", False)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", GeoterrWarning)
            units = source if isinstance(source, Units) else build_units(source, **unit_args)
            plan = design(units, n_territories, **design_args)
    except GeoterrError as exc:
        kind = "infeasible" if isinstance(exc, InfeasibleError) else "error"
        row.update(status=kind, message=str(exc), seconds=time.perf_counter() - start)
        return row
    table = plan.territories
    deviations = [c for c in table.columns if c.endswith("_deviation")]
    row.update(
        status=plan.status,
        message="; ".join(plan.problems) or "; ".join(str(w.message) for w in caught),
        units=len(units),
        max_deviation=float(table[deviations].abs().to_numpy().max()) if deviations else np.nan,
        min_polsby_popper=float(table["polsby_popper"].min()),
        contiguous_share=float(table["contiguous"].mean()),
        objective=plan.objective,
        gap=plan.gap,
        seconds=time.perf_counter() - start,
    )
    if keep_plan:
        row["plan"] = plan
    return row


def sweep(
    source: Units | gpd.GeoDataFrame,
    scenarios: Sequence[Mapping[str, Any]],
    *,
    client: Any = None,
    keep_plans: bool = False,
) -> pd.DataFrame:
    """Run many designs and compare them in one table.

    Parameters
    ----------
    source : Units or GeoDataFrame
        Units to design on, or customers (from :func:`geoterr.read_customers`) when the
        scenarios build their own units (e.g. several hexagon resolutions).
    scenarios : sequence of dict
        Each needs ``n_territories``; the other keys are arguments of :func:`geoterr.design`
        (``balance``, ``objective``, ``time_limit``...) or, when ``source`` is customers, of
        :func:`geoterr.build_units` (``method``, ``resolution``, ``measures``...).
    client : dask.distributed.Client, str or None
        Where to run: None runs the scenarios one after another here; a ``Client`` or a
        scheduler address runs them on that cluster (the source is sent to the workers once);
        ``"local"`` starts a ``LocalCluster`` on this machine for the sweep.
    keep_plans : bool
        Keep each scenario's :class:`~geoterr.Plan` in a ``plan`` column.

    Returns
    -------
    DataFrame
        One row per scenario, in the given order (see :func:`run_scenario` for the columns).
        A scenario that fails says why in ``status`` and ``message``; the others still run.

    Examples
    --------
    >>> import geoterr as gt
    >>> units = gt.build_units(gt.read_customers(gt.sample_path()), measures=["workload"])
    >>> table = gt.sweep(units, [{"n_territories": k, "balance": {"workload": 0.05}}
    ...                          for k in (4, 6)])
    >>> table["status"].tolist()
    ['feasible', 'feasible']
    """
    if not isinstance(source, Units | gpd.GeoDataFrame):
        msg = (
            "`source` must be Units (from build_units) or customers (from read_customers), "
            f"got {type(source).__name__}."
        )
        raise InputError(msg)
    scenarios = list(scenarios)
    problems = []
    for i, scenario in enumerate(scenarios):
        if not isinstance(scenario, Mapping) or "n_territories" not in scenario:
            problems.append(f"scenario {i} has no 'n_territories'")
        elif isinstance(source, Units) and UNIT_OPTIONS & set(scenario):
            problems.append(
                f"scenario {i} sets {', '.join(sorted(UNIT_OPTIONS & set(scenario)))}, which "
                "build units: pass customers as `source` to build units per scenario"
            )
    if problems:
        msg = f"`scenarios` has problems: {'; '.join(problems)}."
        raise InputError(msg)
    if client is None:
        rows = [run_scenario(source, s, keep_plans) for s in scenarios]
    else:
        rows = _on_cluster(source, scenarios, client, keep_plans)
    return pd.DataFrame(rows)


def _on_cluster(
    source: Any, scenarios: list[Mapping[str, Any]], client: Any, keep_plans: bool
) -> list[dict[str, Any]]:
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - depends on the install
        msg = "running a sweep on a cluster needs: pip install 'geoterr[dask]'"
        raise ImportError(msg) from exc
    own: list[Any] = []
    if isinstance(client, str):
        if client == "local":
            cluster = LocalCluster(processes=True, threads_per_worker=1, dashboard_address=None)
            own.append(cluster)
            client = Client(cluster)
        else:
            client = Client(client)
        own.insert(0, client)
    elif not isinstance(client, Client):
        msg = (
            "`client` must be a dask.distributed Client, a scheduler address or 'local', got "
            f"{type(client).__name__}."
        )
        raise InputError(msg)
    try:
        data = client.scatter(source, broadcast=True)
        futures = client.map(
            run_scenario,
            [data] * len(scenarios),
            scenarios,
            [keep_plans] * len(scenarios),
            pure=False,
        )
        return list(client.gather(futures))
    finally:
        for item in own:
            item.close()
