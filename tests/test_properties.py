"""Property-based checks over random customer sets: what every returned plan promises."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from conftest import check_plan
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import geoterr as gt


@st.composite
def instances(draw: st.DrawFn) -> tuple[pd.DataFrame, int, float]:
    n = draw(st.integers(min_value=4, max_value=60))
    seed = draw(st.integers(min_value=0, max_value=10_000))
    rng = np.random.default_rng(seed)
    lonlat = rng.uniform([-100, 40], [-99, 41], size=(n, 2))
    workload = rng.integers(1, draw(st.integers(min_value=2, max_value=50)), n).astype(float)
    df = pd.DataFrame(
        {
            "id": [f"P{i}" for i in range(n)],
            "lat": lonlat[:, 1],
            "lon": lonlat[:, 0],
            "workload": workload,
        }
    )
    k = draw(st.integers(min_value=1, max_value=min(6, n)))
    tol = draw(st.sampled_from([0.0, 0.02, 0.1, 0.3]))
    return df, k, tol


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(), st.sampled_from(["points", "voronoi"]))
def test_every_plan_keeps_or_names_its_promises(
    case: tuple[pd.DataFrame, int, float], method: str
) -> None:
    df, k, tol = case
    units = gt.build_units(gt.read_customers(df), method, measures=["workload"])  # type: ignore[arg-type]
    balance = {"workload": tol}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", gt.GeoterrWarning)
            plan = gt.design(units, k, balance=balance, time_limit=20)
    except gt.InfeasibleError as exc:
        assert "No balanced plan exists" in str(exc) or "units" in str(exc)
        return
    check_plan(plan, units, balance)
    # every customer in exactly one territory
    assert plan.customers is not None
    assert plan.customers.index.equals(units.customers.index)
    assert plan.customers["territory"].isin(plan.territories.index).all()
