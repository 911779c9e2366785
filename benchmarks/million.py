"""One million customers to hexagon units to a full plan, with the time and memory of each step.

Usage::

    python benchmarks/million.py PLACES [--customers 1000000] [--territories 200]
        [--n-units 8000] [--max-share 0.06] [--tolerance 0.05] [--time-limit 240]

Customers are drawn around the places in ``PLACES`` (see :mod:`world_customers`); units are
H3 hexagons at the resolution nearest ``--n-units`` occupied cells, with every cell holding
more than ``--max-share`` of a territory's workload split into its children
(``build_units(max_load=...)``); the plan balances workload within ``--tolerance``.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from world_customers import world_customers

import geoterr as gt


def peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("places")
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--territories", type=int, default=200)
    parser.add_argument("--n-units", type=int, default=8000)
    parser.add_argument("--max-share", type=float, default=0.06)
    parser.add_argument("--tolerance", type=float, default=0.05)
    parser.add_argument("--time-limit", type=float, default=240.0)
    args = parser.parse_args()
    warnings.simplefilter("ignore", gt.GeoterrWarning)

    total = time.perf_counter()
    start = time.perf_counter()
    table = world_customers(args.places, args.customers)
    customers = gt.read_customers(table)
    read = time.perf_counter() - start
    cap = args.max_share * float(customers["workload"].sum()) / args.territories
    start = time.perf_counter()
    units = gt.build_units(
        customers,
        "hex",
        n_units=args.n_units,
        measures=["workload", "annual_revenue"],
        max_load={"workload": cap},
    )
    build = time.perf_counter() - start
    start = time.perf_counter()
    plan = gt.design(
        units, args.territories, balance={"workload": args.tolerance}, time_limit=args.time_limit
    )
    design = time.perf_counter() - start
    table_t = plan.territories
    print(f"customers            {len(customers):,}")
    print(
        f"units                {len(units):,} (resolution {units.settings['resolution']}, "
        f"{units.settings['split_cells']:,} cells split, {units.settings['empty_units']:,} empty)"
    )
    print(f"read + validate      {read:.1f} s")
    print(f"build units          {build:.1f} s")
    print(f"design               {design:.1f} s ({plan.params['rounds']} rounds)")
    print(f"total                {time.perf_counter() - total:.1f} s")
    print(f"peak memory          {peak_gb():.2f} GB")
    print(f"status               {plan.status} ({len(plan.problems)} problems)")
    print(f"max deviation        {table_t['workload_deviation'].abs().max():.2%}")
    print(f"contiguous           {table_t['contiguous'].mean():.0%}")
    print(f"gap                  {plan.gap if plan.gap is None else f'{plan.gap:.2%}'}")
    print(f"customers in plan    {plan.customers['territory'].notna().sum():,}")
    for problem in plan.problems[:5]:
        print(f"  problem: {problem}")


if __name__ == "__main__":
    main()
