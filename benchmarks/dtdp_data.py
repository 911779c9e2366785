"""Delivery territory design graphs for the benchmarks: reading, distances and scoring.

The published graphs are in ``../shared/data/dtdp`` (CC BY-NC: read by path, never copied);
``benchmarks/dtdp_generate.py`` makes more of the same family.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

import geoterr as gt

ACTIVITIES = ["workload", "n_customers", "demand"]
TOLERANCE = 0.05


def find_dtdp() -> Path | None:
    """The shared DTDP folder: ``shared/data/dtdp`` next to a parent of this file."""
    for parent in Path(__file__).resolve().parents:
        folder = parent / "shared" / "data" / "dtdp"
        if folder.is_dir():
            return folder
    return None


def dtdp_units(path: Path) -> gt.Units:
    """A DTDP graph as point units with its own edges (x, y taken as kilometres)."""
    graph = nx.read_graphml(path)
    df = pd.DataFrame(
        [
            {"id": node, "x": 1000.0 * float(a["x"]), "y": 1000.0 * float(a["y"])}
            | {m: float(a[m]) for m in ACTIVITIES}
            for node, a in graph.nodes(data=True)
        ]
    )
    customers = gt.read_customers(
        df, id_col="id", lat="y", lon="x", crs="EPSG:3857", measures=ACTIVITIES
    )
    return gt.build_units(
        customers, "points", measures=ACTIVITIES, crs="EPSG:3857", adjacency=list(graph.edges())
    )


def shortest_paths(path: Path, units: gt.Units) -> pd.DataFrame:
    """Shortest-path distances over the whole graph (edge ``distance``), unit x unit."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import dijkstra

    graph = nx.read_graphml(path)
    ids = list(units.gdf.index)
    position = {str(u): i for i, u in enumerate(ids)}
    rows, cols, lengths = [], [], []
    for a, b, data in graph.edges(data=True):
        rows.append(position[a])
        cols.append(position[b])
        lengths.append(float(data["distance"]))
    n = len(ids)
    matrix = coo_matrix((lengths, (rows, cols)), shape=(n, n)).tocsr()
    return pd.DataFrame(dijkstra(matrix, directed=False), index=ids, columns=ids)


def score(plan: gt.Plan, units: gt.Units, distances: pd.DataFrame) -> dict[str, float]:
    """The published measures of a plan: largest diameter, infeasibility, contiguity."""
    labels = plan.assignment.reindex(units.gdf.index)
    matrix = distances.to_numpy()
    diameters, pieces = [], 0
    loads = units.gdf[ACTIVITIES].groupby(labels.to_numpy()).sum()
    mean = loads.mean(axis=0)
    excess = (loads - (1 + TOLERANCE) * mean).clip(lower=0) + ((1 - TOLERANCE) * mean - loads).clip(
        lower=0
    )
    for name in loads.index:
        members = np.flatnonzero(labels.to_numpy() == name)
        diameters.append(float(matrix[np.ix_(members, members)].max()))
        sub = units.graph.subgraph(units.gdf.index[members])
        pieces += nx.number_connected_components(sub) - 1
    return {
        "diameter": max(diameters),
        "infeasibility": float((excess / mean).to_numpy().sum()),
        "detached": pieces,
    }
