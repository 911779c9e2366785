"""Published county instances: geoterr must reach the published contiguous optimum."""

from __future__ import annotations

import warnings
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest

import geoterr as gt

DATA = Path(__file__).parent / "data" / "hess"


@pytest.mark.parametrize("state", ["WV", "NM"])
def test_reaches_published_optimum(state: str) -> None:
    row = pd.read_csv(DATA / "instances.csv").set_index("state").loc[state]
    nodes = pd.read_csv(DATA / f"{state}_nodes.csv", dtype={"GEOID10": str})
    edges = pd.read_csv(DATA / f"{state}_edges.csv")
    dist = np.loadtxt(DATA / f"{state}_dist_km.csv", delimiter=",")
    customers = gt.read_customers(nodes, id_col="idx", lat="C_Y", lon="C_X", measures=["TOTPOP"])
    units = gt.build_units(
        customers, "points", measures=["TOTPOP"], adjacency=zip(edges.i, edges.j, strict=True)
    )
    costs = pd.DataFrame(dist, index=nodes.idx, columns=nodes.idx)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gt.GeoterrWarning)
        plan = gt.design(
            units,
            int(row["k"]),
            balance={"TOTPOP": (float(row["L"]), float(row["U"]))},
            costs=costs,
            objective="inertia",
            time_limit=120,
        )
    assert plan.status == "feasible"
    pop = units.gdf["TOTPOP"]
    center = dict(zip(plan.centers.index, plan.centers["unit"], strict=True))
    value = 0.0
    for territory in plan.territories.index:
        members = list(plan.assignment.index[plan.assignment == territory])
        assert nx.is_connected(units.graph.subgraph(members))
        assert row["L"] <= pop[members].sum() <= row["U"]
        value += float((pop[members] * dist[members, center[territory]] ** 2).sum()) / 1e6
    assert value <= float(row["objval_cut"]) * 1.005
