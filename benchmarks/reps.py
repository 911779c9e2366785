"""Speed of the rep assignment and of the whole reps / segments / regions round trip.

1. ``assign_reps`` for N territories x N reps (default 500 x 500) with skills and continuity,
   on a synthetic plan of 100 customers per territory (grid cells over the contiguous US).
2. The shipped sample designed around its 12 reps with three segment layers
   (Enterprise, Mid-Market, SMB), 3 regions in each layer, ten key accounts, saved with its
   map and exported for Salesforce: end to end, from reading the CSVs.

Run: ``python benchmarks/reps.py`` (``--n 500 --customers-per 100``).
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

import geoterr as gt
from geoterr.plan import Plan

# Which segment each sample rep serves in the layered run (4 Enterprise, 5 Mid-Market and 3
# SMB reps, so every layer holds at least three territories for its three regions).
SAMPLE_SEGMENTS = {
    "R01": "Enterprise",
    "R02": "Mid-Market",
    "R03": "SMB",
    "R04": "Enterprise",
    "R05": "Mid-Market",
    "R06": "SMB",
    "R07": "Enterprise",
    "R08": "Mid-Market",
    "R09": "Mid-Market",
    "R10": "SMB",
    "R11": "Enterprise",
    "R12": "Mid-Market",
}


def synthetic_plan(n: int, per: int, seed: int = 0) -> Plan:
    """A plan of ``n`` grid-cell territories with ``per`` customers each on average."""
    rng = np.random.default_rng(seed)
    cols = int(np.ceil(np.sqrt(n * 1.6)))
    rows = int(np.ceil(n / cols))
    m = n * per
    cell = rng.integers(0, n, m)
    lon = -124 + (cell % cols + rng.uniform(0, 1, m)) * (57 / cols)
    lat = 25 + (cell // cols + rng.uniform(0, 1, m)) * (24 / rows)
    names = np.array([f"T{i:04d}" for i in range(n)])
    customers = gpd.GeoDataFrame(
        {
            "territory": names[cell],
            "visits_per_year": rng.integers(1, 13, m),
            "workload": rng.uniform(1, 30, m),
        },
        geometry=gpd.points_from_xy(lon, lat),
        crs=4326,
        index=pd.Index([f"C{i:07d}" for i in range(m)], name="account_id"),
    )
    totals = customers.groupby("territory").agg(
        customers=("workload", "size"), workload=("workload", "sum")
    )
    totals = totals.reindex(names).fillna(0)
    territories = gpd.GeoDataFrame(
        totals, geometry=gpd.points_from_xy(np.zeros(n), np.zeros(n)), crs=4326
    )
    territories.index.name = "territory"
    return Plan(
        assignment=pd.Series(names, index=names, name="territory"),
        customers=customers,
        territories=territories,
        centers=pd.DataFrame(index=pd.Index(names, name="territory")),
        params={"balance": {"workload": 0.1}},
        status="feasible",
        problems=(),
        objective=None,
        lower_bound=None,
        seconds=0.0,
    )


def synthetic_reps(plan: Plan, seed: int = 1) -> tuple[pd.DataFrame, dict[str, str]]:
    """As many reps as territories; 30 % speak Spanish, 15 % are medical specialists; every
    rep has a current territory; 10 % of territories need Spanish, 5 % medical."""
    rng = np.random.default_rng(seed)
    names = list(plan.territories.index)
    n = len(names)
    skills = []
    for _ in range(n):
        s = []
        if rng.random() < 0.3:
            s.append("spanish")
        if rng.random() < 0.15:
            s.append("medical")
        skills.append(";".join(s))
    reps = pd.DataFrame(
        {
            "rep_id": [f"R{i:04d}" for i in range(n)],
            "name": [f"Rep {i}" for i in range(n)],
            "home_latitude": rng.uniform(25, 49, n),
            "home_longitude": rng.uniform(-124, -67, n),
            "capacity_fte": 1.0,
            "skills": skills,
            "current_territory": rng.permutation(names),
        }
    )
    picked = rng.permutation(n)
    requires = {names[i]: "spanish" for i in picked[: n // 10]}
    requires.update({names[i]: "medical" for i in picked[n // 10 : n // 10 + n // 20]})
    return reps, requires


def bench_assign(n: int, per: int) -> dict[str, object]:
    plan = synthetic_plan(n, per)
    reps, requires = synthetic_reps(plan)
    started, cpu = time.perf_counter(), time.process_time()
    staffed = gt.assign_reps(plan, reps, requires=requires, continuity=0.3)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    info = staffed.params["reps"]
    return {
        "territories x reps": f"{n} x {n}",
        "customers": n * per,
        "seconds": round(seconds, 2),
        "cpu seconds": round(cpu, 2),
        "kept": info["kept"],
        "skills kept": all(
            set(requires.get(t, "").split(";")) - {""} <= set(str(s).split(";"))
            for t, s in zip(staffed.roster["territory"], staffed.roster["skills"], strict=True)
        ),
    }


def bench_sample() -> dict[str, object]:
    started, cpu = time.perf_counter(), time.process_time()
    customers = gt.read_customers(gt.sample_path(), measures=["workload", "annual_revenue"])
    reps = gt.read_reps(gt.sample_path("reps.csv"))
    reps["skills"] = [frozenset([SAMPLE_SEGMENTS[r]]) for r in reps.index]
    keys = customers.nlargest(10, "annual_revenue").index
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        layered = _sample_layers(customers, reps, keys)
    designed = time.perf_counter() - started
    out = Path(tempfile.mkdtemp())
    layered.save(out / "plan")
    gt.export_plan(gt.load_layers(out / "plan"), out / "sf", format="salesforce")
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    summary = layered.summary()
    geo = summary[summary["layer"] != "Key accounts"]
    region_dev = {}
    for name, plan in layered.layers.items():
        work = plan.regions["workload"]
        region_dev[name] = round(float((work / work.mean() - 1).abs().max()), 3)
    return {
        "layers": {k: len(p.territories) for k, p in layered.layers.items()},
        "status": layered.status,
        "max workload deviation": round(float(geo["workload_deviation"].abs().max()), 4),
        "contiguous": bool(geo["contiguous"].all()),
        "regions: max workload deviation": region_dev,
        "warnings": [str(w.message) for w in caught],
        "design seconds": round(designed, 1),
        "end to end seconds (save, map, load, export)": round(seconds, 1),
        "end to end cpu seconds": round(cpu, 1),
    }


def _sample_layers(customers: pd.DataFrame, reps: pd.DataFrame, keys: pd.Index) -> gt.LayeredPlan:
    return gt.design_layers(
        customers,
        segment="segment",
        reps=reps,
        key_accounts=list(keys),
        key_account_reps={k: "R01" if i % 2 else "R07" for i, k in enumerate(keys)},
        measures=["workload", "annual_revenue"],
        balance={"workload": 0.05},
        n_regions=3,
        time_limit=30,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--customers-per", type=int, default=100)
    parser.add_argument("--skip-sample", action="store_true")
    args = parser.parse_args()
    print("assign_reps:", bench_assign(args.n, args.customers_per))
    if not args.skip_sample:
        print("sample round trip:", bench_sample())


if __name__ == "__main__":
    main()
