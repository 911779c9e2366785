"""Instances of the delivery territory design family: Delaunay graphs with three activities.

    python benchmarks/dtdp_generate.py OUT_DIR [--units 500] [--count 3] [--seed 0]

Each instance: ``units`` distinct random points on the integer 100 x 100 grid, the edges of
their Delaunay triangulation (scipy.spatial.Delaunay) with ``distance`` = the Euclidean
length, and activities drawn uniformly in the published ranges (workload 15-100,
n_customers 4-20, demand 15-400), written as GraphML (networkx) with the node attributes
``x``, ``y``, ``workload``, ``n_customers``, ``demand``: the layout of the published graphs,
readable by ``benchmarks/dtdp.py``. The same seed gives the same files.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import networkx as nx
import numpy as np

#: Uniform ranges (inclusive) of the activities, as published.
RANGES = {"workload": (15, 100), "n_customers": (4, 20), "demand": (15, 400)}
SIDE = 100


def dtdp_graph(n_units: int, seed: int) -> nx.Graph:
    """A random instance of ``n_units`` points (at most the grid's 10,201 points).

    Examples
    --------
    >>> g = dtdp_graph(30, 0)
    >>> g.number_of_nodes(), nx.is_connected(g), sorted(g.nodes[0])
    (30, True, ['demand', 'n_customers', 'workload', 'x', 'y'])
    """
    from scipy.spatial import Delaunay

    rng = np.random.default_rng(seed)
    cells = rng.choice((SIDE + 1) ** 2, size=n_units, replace=False)
    xy = np.column_stack([cells // (SIDE + 1), cells % (SIDE + 1)]).astype(int)
    graph = nx.Graph()
    for i, (x, y) in enumerate(xy.tolist()):
        graph.add_node(i, x=x, y=y)
        for name, (low, high) in RANGES.items():
            graph.nodes[i][name] = int(rng.integers(low, high + 1))
    triangles = Delaunay(xy.astype(float)).simplices
    for tri in triangles.tolist():
        for a, b in ((tri[0], tri[1]), (tri[1], tri[2]), (tri[0], tri[2])):
            length = float(np.hypot(*(xy[a] - xy[b])))
            graph.add_edge(int(a), int(b), distance=length)
    return graph


def write_instances(folder: Path, n_units: int, count: int, seed: int) -> list[Path]:
    """Write ``count`` instances ``generated{n_units}_{i}.graphml``; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"generated{n_units}_{i}.graphml"
        nx.write_graphml(dtdp_graph(n_units, seed + i), path)
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--units", type=int, default=500)
    parser.add_argument("--count", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    for path in write_instances(args.out, args.units, args.count, args.seed):
        print(path)


if __name__ == "__main__":
    main()
