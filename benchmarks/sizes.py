"""geoterr's design at growing sizes: time, peak memory and the promises, against KMeans.

    python benchmarks/sizes.py [--sizes 5000:25,50000:100] [--tolerance 0.02] [--seed 1]

Each size runs in its own process (so the peak memory is that size's): synthetic Voronoi
units (``benchmarks/synthetic.py``: clustered customers, lognormal workload), then
``geoterr.design`` balancing the workload within the tolerance. Printed per size: seconds to
build the units and to design, the process's peak resident memory, the largest workload
deviation, the share of contiguous territories, compactness relative to weighted KMeans (see
``benchmarks/measures.py``) and the plan's gap.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measures import compactness, contiguous_share, kmeans_labels, max_deviation
from synthetic import synthetic_units

import geoterr as gt

OPTIONS: dict[str, object] = {}


def run(n: int, k: int, tolerance: float, seed: int) -> dict[str, object]:
    """One size: build, design, measure."""
    start = time.perf_counter()
    units = synthetic_units(n, seed)
    built = time.perf_counter() - start
    xy, w = units.xy, units.gdf["workload"].to_numpy()
    reference = compactness(xy, w, kmeans_labels(xy, w, k))
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gt.GeoterrWarning)
        plan = gt.design(units, k, balance={"workload": tolerance}, time_limit=300, **OPTIONS)
    seconds = time.perf_counter() - start
    names = {name: j for j, name in enumerate(plan.territories.index)}
    labels = plan.assignment.map(names).to_numpy()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "units": n,
        "k": k,
        "build s": round(built, 1),
        "design s": round(seconds, 1),
        "peak MB": round(peak_mb),
        "max dev %": round(100 * max_deviation(w, labels, k), 2),
        "contiguous": contiguous_share(units.graph, list(units.gdf.index), labels),
        "vs KMeans": round(compactness(xy, w, labels) / reference, 3),
        "gap %": None if plan.gap is None else round(100 * plan.gap, 3),
        "status": plan.status,
    }


def _child(queue: mp.Queue, n: int, k: int, tolerance: float, seed: int) -> None:
    queue.put(run(n, k, tolerance, seed))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="5000:25,50000:100")
    parser.add_argument("--tolerance", type=float, default=0.02)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rows = []
    for part in args.sizes.split(","):
        n, k = (int(v) for v in part.split(":"))
        queue: mp.Queue = mp.Queue()
        proc = mp.Process(target=_child, args=(queue, n, k, args.tolerance, args.seed))
        proc.start()
        rows.append(queue.get())
        proc.join()
        print(rows[-1], flush=True)
    header = list(rows[0])
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(str(row[h]) for h in header) + " |")


if __name__ == "__main__":
    main()
