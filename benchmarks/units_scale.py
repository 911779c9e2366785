"""Time and peak memory of building units, against the number of customers.

Usage::

    python benchmarks/units_scale.py PLACES [--sizes 10000,100000,1000000]
        [--kinds points,voronoi,hex] [--places-as-customers]

``PLACES`` is a GeoNames-style file with latitude, longitude and population (the project's
shared ``world_places_geonames.csv.gz``). Customers are drawn around the places
(:mod:`world_customers`); with ``--places-as-customers`` the places themselves are the
customers (one run per kind, the 235k-row stress test). Each measurement runs in a fresh
process, so the peak memory (max RSS) is that of one build: reading the table,
``read_customers`` and ``build_units``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def one_run(places: str, n: int, kind: str, as_places: bool) -> dict[str, float]:
    """Build units once in this process; return the timings and the peak memory."""
    import warnings

    import pandas as pd

    import geoterr as gt

    sys.path.insert(0, str(HERE))
    from world_customers import world_customers

    warnings.simplefilter("ignore", gt.GeoterrWarning)
    start = time.perf_counter()
    if as_places:
        table = pd.read_csv(places)
        measures = ["population"]
    else:
        table = world_customers(places, n)
        measures = ["workload", "annual_revenue"]
    customers = gt.read_customers(table)
    read = time.perf_counter() - start
    start = time.perf_counter()
    # hexagons: about one occupied cell per 10 customers, at most 20,000
    options = {"n_units": min(20_000, max(n, len(table)) // 10)} if kind == "hex" else {}
    units = gt.build_units(customers, kind, measures=measures, **options)  # type: ignore[arg-type]
    build = time.perf_counter() - start
    return {
        "customers": len(customers),
        "units": len(units),
        "edges": units.graph.number_of_edges(),
        "links": len(units.added_links),
        "read_s": read,
        "build_s": build,
        "peak_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("places")
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--kinds", default="points,voronoi,hex")
    parser.add_argument("--places-as-customers", action="store_true")
    hidden = argparse.SUPPRESS
    parser.add_argument("--one", nargs=3, metavar=("N", "KIND", "AS_PLACES"), help=hidden)
    args = parser.parse_args()
    if args.one:  # the child process
        n, kind, as_places = int(args.one[0]), args.one[1], args.one[2] == "1"
        print(json.dumps(one_run(args.places, n, kind, as_places)))
        return
    sizes = [0] if args.places_as_customers else [int(s) for s in args.sizes.split(",")]
    print(
        f"{'kind':8} {'customers':>10} {'units':>8} {'edges':>9} {'links':>6} "
        f"{'read s':>7} {'build s':>8} {'peak GB':>8}"
    )
    for kind in args.kinds.split(","):
        for n in sizes:
            flag = "1" if args.places_as_customers else "0"
            out = subprocess.run(
                [sys.executable, __file__, args.places, "--one", str(n), kind, flag],
                capture_output=True,
                text=True,
                check=False,
            )
            if out.returncode != 0:
                print(f"{kind:8} {n:>10,} failed: {out.stderr.strip().splitlines()[-1]}")
                continue
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(
                f"{kind:8} {r['customers']:>10,} {r['units']:>8,} {r['edges']:>9,} "
                f"{r['links']:>6} {r['read_s']:>7.1f} {r['build_s']:>8.1f} {r['peak_gb']:>8.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
