"""Speed of performance tracking and of the HTML report.

    python benchmarks/tracking.py [--records 1000000] [--customers 50000] [--territories 50]
    python benchmarks/tracking.py --report-only

Tracking: ``--customers`` synthetic customers (uniform over the contiguous US box, territories
in longitude x latitude bands, assigned through :func:`geoterr.plan_from_column` on
``"points"`` units) and ``--records`` simulated sales over 8 quarters (2024-2025) written to a
CSV with an invoice id, a customer id, a date, an amount (about 0.5 % credit notes, a few
bad rows: unknown customers, amounts that are not numbers, bad dates), units and a
satisfaction score on one record in ten. Timed: reading and checking the CSV
(:func:`geoterr.read_sales`) and :func:`geoterr.track` by quarter with annual targets, reps
and regions, then the same by month.

Report: the shipped sample (4,500 customers): the demo design (12 territories, workload
within 5 %) against today's territories, the simulated sales history, targets split from the
annual revenue; timed: :func:`geoterr.write_report` (evaluation, comparison, charts, map,
workbook). Printed: seconds and the sizes of ``report.html`` and ``report.xlsx``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import geoterr as gt

ROOT = Path(__file__).resolve().parents[1]


def synthetic_plan(n: int, k: int, seed: int) -> gt.Plan:
    rng = np.random.default_rng(seed)
    lon = rng.uniform(-123, -70, n)
    lat = rng.uniform(30, 48, n)
    columns = max(1, round(float(np.sqrt(k * 2))))
    rows = max(1, k // columns)
    band = np.minimum((lon + 123) / 53 * columns, columns - 1).astype(int)
    layer = np.minimum((lat - 30) / 18 * rows, rows - 1).astype(int)
    table = pd.DataFrame(
        {
            "account_id": [f"C{i:06d}" for i in range(n)],
            "latitude": lat.round(5),
            "longitude": lon.round(5),
            "workload": rng.integers(1, 30, n).astype(float),
            "annual_revenue": rng.lognormal(10, 1, n).round(0),
            "territory_now": [f"T{b:02d}-{r}" for b, r in zip(band, layer, strict=True)],
        }
    )
    customers = gt.read_customers(table, measures=["workload", "annual_revenue"])
    units = gt.build_units(customers, method="points", measures=["workload"])
    return gt.plan_from_column(customers, "territory_now", units=units)


def synthetic_sales(ids: np.ndarray, m: int, seed: int, path: Path) -> None:
    rng = np.random.default_rng(seed)
    days = rng.integers(0, 731, m)
    dates = (np.datetime64("2024-01-01") + days.astype("timedelta64[D]")).astype(str)
    amount = rng.lognormal(6, 1, m).round(2)
    credit = rng.random(m) < 0.005
    amount[credit] *= -0.3
    text = amount.astype(str)
    customer = ids[rng.integers(0, len(ids), m)]
    bad = rng.choice(m, 30, replace=False)
    customer[bad[:10]] = "UNKNOWN"
    text[bad[10:20]] = "n/a"
    dates[bad[20:]] = "2024-02-31"
    satisfaction = np.where(rng.random(m) < 0.1, rng.integers(1, 6, m).astype(str), "")
    pd.DataFrame(
        {
            "invoice_id": np.char.add("I", np.arange(m).astype(str)),
            "account_id": customer,
            "date": dates,
            "amount": text,
            "units": rng.integers(1, 20, m),
            "satisfaction": satisfaction,
        }
    ).to_csv(path, index=False)


def bench_tracking(n: int, m: int, k: int, seed: int) -> None:
    start = time.perf_counter()
    plan = synthetic_plan(n, k, seed)
    folder = Path(tempfile.mkdtemp())
    path = folder / "sales.csv"
    synthetic_sales(plan.customers.index.to_numpy(dtype=str), m, seed, path)
    print(
        f"setup: {n:,} customers in {len(plan.territories)} territories, {m:,} records "
        f"({path.stat().st_size / 1e6:.0f} MB CSV) in {time.perf_counter() - start:.1f} s"
    )
    names = [str(t) for t in plan.territories.index]
    targets = pd.Series(1e6, index=names)
    reps = pd.DataFrame({"name": [f"Rep {t}" for t in names], "territory": names})
    regions = {t: t.split("-")[0][:2] for t in names}
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gt.GeoterrWarning)  # the planted bad rows
        c0 = time.process_time()
        t0 = time.perf_counter()
        sales = gt.read_sales(path, known_customers=plan.customers.index, today="2026-01-01")
        t1 = time.perf_counter()
        result = gt.track(plan, sales, by="quarter", targets=targets, reps=reps, regions=regions)
        t2 = time.perf_counter()
        c2 = time.process_time()
        monthly = gt.track(plan, sales, by="month", targets=targets)
        t3 = time.perf_counter()
    print(
        f"read_sales: {t1 - t0:.2f} s ({len(sales.records):,} counted, "
        f"{(sales.issues['action'] == 'left out').sum()} left out, "
        f"{(sales.issues['problem'] == 'credit note').sum():,} credit notes)"
    )
    print(
        f"track by quarter: {t2 - t1:.2f} s ({len(result.territories):,} territory-quarters, "
        f"{len(result.periods)} quarters, {result.laggards['laggard'].sum()} laggards)"
    )
    print(f"track by month: {t3 - t2:.2f} s ({len(monthly.periods)} months)")
    print(f"total, file to tables by quarter: {t2 - t0:.2f} s ({c2 - c0:.2f} s CPU)")


def bench_report(seed: int) -> None:
    customers = gt.read_customers(gt.sample_path())
    units = gt.build_units(customers, measures=["workload", "annual_revenue", "visits_per_year"])
    today = gt.plan_from_column(customers, "current_territory", units=units)
    plan = gt.design(units, 12, balance={"workload": 0.05}, random_state=seed)
    reps = ROOT / "data" / "reps.csv"
    start = time.perf_counter()
    targets = gt.split_targets(today, 560e6, basis="annual_revenue", reps=reps)
    tracking = gt.track(today, ROOT / "data" / "sales.csv", targets=targets, reps=reps)
    t1, c1 = time.perf_counter(), time.process_time()
    out = Path(tempfile.mkdtemp())
    files = gt.write_report(plan, out, before=today, tracking=tracking, targets=targets)
    t2, c2 = time.perf_counter(), time.process_time()
    html, xlsx = (files[k].stat().st_size / 1e6 for k in ("html", "xlsx"))
    print(
        f"report: tracking {t1 - start:.2f} s, write_report {t2 - t1:.2f} s ({c2 - c1:.2f} s CPU)"
    )
    print(f"report.html {html:.2f} MB, report.xlsx {xlsx:.2f} MB ({out})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--territories", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--report-only", action="store_true")
    args = parser.parse_args()
    if not args.report_only:
        bench_tracking(args.customers, args.records, args.territories, args.seed)
    bench_report(args.seed)


if __name__ == "__main__":
    main()
