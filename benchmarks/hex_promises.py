"""Hexagon units keep the promise: balanced, contiguous plans drawn in one piece (issue 11).

Usage::

    python benchmarks/hex_promises.py [--places data/places_extract.csv]
        [--customers 100000] [--territories 50] [--cases cli,res4,res5,res6,sweep,separate,100k]
        [--time-limit 60] [--seed 0]

The cases: the command line ``geoterr design data/customers.csv -k 12 --units hex --n-units
2000 --balance workload:0.05``; the sample at resolutions 4, 5 and 6 (12 territories,
workload +-5 %); the README's ``gt.sweep(customers, [{"n_territories": k, "method": "hex",
"resolution": 6} for k in (10, 12)])``; the README's ``build_units(customers, "hex",
resolution=6, islands="separate")`` designed into 12 territories; and ``--customers``
synthetic customers (:func:`us_customers`) in ``--territories`` territories on hexagons at
the default resolution, workload +-5 %. Each case prints one row: status, the worst deviation
of the balanced measure, the most pieces (polygons) any territory is drawn in, the number of
graph parts and links, and the seconds (units and design).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

import geoterr as gt

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "customers.csv"
PLACES = ROOT / "data" / "places_extract.csv"
SEGMENTS = (
    ("Enterprise", 0.08, 24.0, 3.0),
    ("Mid-Market", 0.27, 8.0, 2.0),
    ("SMB", 0.65, 2.0, 1.0),
)


def us_customers(places_path: str | Path, n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` synthetic customers around the GeoNames places of ``places_path``.

    A place is drawn with probability proportional to the square root of its population and
    the customer lies around it with a normal scatter of 0.05 degrees in latitude and in
    longitude. Segments Enterprise / Mid-Market / SMB have shares 8 / 27 / 65 %; visits per year
    are Poisson with means 24 / 8 / 2, and workload = (visits + 1) x hours per visit
    (3 / 2 / 1 h).

    Returns
    -------
    DataFrame
        account_id, latitude, longitude, segment, visits_per_year, workload.
    """
    rng = np.random.default_rng(seed)
    places = pd.read_csv(places_path, usecols=["latitude", "longitude", "population"])
    weight = np.sqrt(places["population"].clip(lower=1).to_numpy(dtype=float))
    pick = rng.choice(len(places), size=n, p=weight / weight.sum())
    lat = places["latitude"].to_numpy()[pick] + rng.normal(0.0, 0.05, n)
    lon = places["longitude"].to_numpy()[pick] + rng.normal(0.0, 0.05, n)
    names = np.array([s[0] for s in SEGMENTS], dtype=object)
    segment = rng.choice(len(SEGMENTS), size=n, p=[s[1] for s in SEGMENTS])
    visits = rng.poisson(np.array([s[2] for s in SEGMENTS])[segment])
    hours = np.array([s[3] for s in SEGMENTS])[segment]
    return pd.DataFrame(
        {
            "account_id": [f"U{i:07d}" for i in range(n)],
            "latitude": np.round(lat, 6),
            "longitude": np.round(lon, 6),
            "segment": names[segment],
            "visits_per_year": visits,
            "workload": (visits + 1) * hours,
        }
    )


def pieces(territories: gpd.GeoDataFrame) -> int:
    """The most polygons any territory is drawn in."""
    return int(max(len(shapely.get_parts(g)) for g in territories.geometry))


def worst(plan: gt.Plan) -> float:
    summary = plan.summary()
    columns = [c for c in summary.columns if c.endswith("_deviation")]
    return float(summary[columns].abs().to_numpy().max())


def row(case: str, **values: Any) -> dict[str, Any]:
    out = {"case": case, **values}
    print(
        f"| {case} | {out.get('status', '-')} | {out.get('worst', float('nan')):.2%} | "
        f"{out.get('pieces', '-')} | {out.get('units', '-')} | {out.get('parts', '-')} | "
        f"{out.get('links', '-')} | {out.get('units_s', float('nan')):.1f} | "
        f"{out.get('design_s', float('nan')):.1f} |",
        flush=True,
    )
    return out


def cli_case(time_limit: float) -> dict[str, Any]:
    """The issue's command line, run as a user would."""
    with tempfile.TemporaryDirectory() as out:
        args = [
            sys.executable, "-m", "geoterr.cli", "design", str(SAMPLE), "-k", "12",
            "--units", "hex", "--n-units", "2000", "--balance", "workload:0.05",
            "--time-limit", str(time_limit), "--out", out,
        ]  # fmt: skip
        start = time.perf_counter()
        done = subprocess.run(args, capture_output=True, text=True, env=os.environ, check=False)
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            return row("cli --n-units 2000", status=f"exit {done.returncode}", design_s=seconds)
        summary = pd.read_csv(Path(out) / "summary.csv")
        shapes = gpd.read_file(Path(out) / "territories.geojson")
        status = "violated" if "violated" in done.stdout + done.stderr else "feasible"
        return row(
            "cli --n-units 2000",
            status=status,
            worst=float(summary["workload_deviation"].abs().max()),
            pieces=pieces(shapes),
            design_s=seconds,
        )


def design_case(
    case: str, customers: gpd.GeoDataFrame, k: int, time_limit: float, **unit_options: Any
) -> dict[str, Any]:
    start = time.perf_counter()
    units = gt.build_units(customers, "hex", measures=["workload"], **unit_options)
    built = time.perf_counter() - start
    start = time.perf_counter()
    plan = gt.design(units, k, balance={"workload": 0.05}, time_limit=time_limit)
    return row(
        case,
        status=plan.status,
        worst=worst(plan),
        pieces=pieces(plan.territories),
        units=len(units),
        parts=len(units.parts),
        links=len(units.added_links),
        units_s=built,
        design_s=time.perf_counter() - start,
    )


def sweep_case(customers: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    """The README's sweep, as written (the design's default balance: customers +-5 %)."""
    start = time.perf_counter()
    table = gt.sweep(
        customers, [{"n_territories": k, "method": "hex", "resolution": 6} for k in (10, 12)]
    )
    seconds = time.perf_counter() - start
    return [
        row(
            f"README sweep k={r['n_territories']}",
            status=r["status"],
            worst=float(r["max_deviation"]),
            units=r.get("units", "-"),
            design_s=seconds / len(table),
        )
        for r in table.to_dict("records")
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--places", default=str(PLACES))
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--territories", type=int, default=50)
    parser.add_argument("--cases", default="cli,res4,res5,res6,sweep,separate,100k")
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    cases = args.cases.split(",")
    warnings.simplefilter("ignore", gt.GeoterrWarning)
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    print("| case | status | worst dev | pieces | units | parts | links | units s | design s |")
    print("|---|---|---|---|---|---|---|---|---|")
    sample = gt.read_customers(str(SAMPLE))
    if "cli" in cases:
        cli_case(args.time_limit)
    for res in (4, 5, 6):
        if f"res{res}" in cases:
            design_case(f"sample res {res}", sample, 12, args.time_limit, resolution=res)
    if "sweep" in cases:
        sweep_case(sample)
    if "separate" in cases:
        design_case(
            "sample res 6 islands='separate'",
            sample,
            12,
            args.time_limit,
            resolution=6,
            islands="separate",
        )
    if "100k" in cases:
        table = us_customers(args.places, args.customers, args.seed)
        start = time.perf_counter()
        customers = gt.read_customers(table)
        read = time.perf_counter() - start
        print(f"read {len(customers):,} customers in {read:.1f} s")
        design_case(
            f"{args.customers:,} customers k={args.territories}",
            customers,
            args.territories,
            args.time_limit,
        )
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
