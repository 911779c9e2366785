"""The local search's border pairs (geoterr.design.local_search.Search.border)."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from geoterr.design import local_search
from geoterr.design.local_search import Search
from geoterr.design.problem import Problem


def _grid_search(seed: int, k: int = 6) -> Search:
    """A 12 x 15 grid with random labels, loads and a few forbidden pairs."""
    rng = np.random.default_rng(seed)
    graph = nx.grid_2d_graph(12, 15)
    nodes = sorted(graph)
    pos = {v: i for i, v in enumerate(nodes)}
    n = len(nodes)
    xy = np.array(nodes, dtype=float) * 1000.0
    loads = rng.integers(1, 9, n).astype(float)[:, None]
    mean = loads.sum() / k
    problem = Problem(
        ids=pd.Index([f"u{i}" for i in range(n)]),
        xy=xy,
        weight=loads[:, 0],
        loads=loads,
        names=["w"],
        bounds=[(0.9 * mean, 1.1 * mean)],
        target=np.full((k, 1), mean),
        lower=np.full((k, 1), 0.9 * mean),
        upper=np.full((k, 1), 1.1 * mean),
        neighbours=[np.array(sorted(pos[u] for u in graph[v])) for v in nodes],
        k=k,
        inertia=False,
    )
    labels = rng.integers(0, k, n)
    permit = rng.random((n, k)) > 0.1
    costs = rng.random((n, k))
    return Search(problem, labels, costs, permit=permit)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("share", [1.0, 0.25, 0.0])
def test_border_of_some_territories_is_the_full_border_filtered(
    monkeypatch: pytest.MonkeyPatch, seed: int, share: float
) -> None:
    """Found from the bad territories' own edges (share 1: always; 0: never, from all edges),
    the pairs are those of the whole border that leave or join a bad territory, in order."""
    monkeypatch.setattr(local_search, "BORDER_SHARE", share)
    search = _grid_search(seed)
    rng = np.random.default_rng(seed + 100)
    units, targets = search.border()
    assert len(units) > 0
    for _ in range(5):
        bad = rng.random(search.problem.k) < 0.3
        origin = search.labels[units]
        keep = bad[origin] | bad[targets]
        got_units, got_targets = search.border(bad)
        assert got_units.tolist() == units[keep].tolist()
        assert got_targets.tolist() == targets[keep].tolist()
    # every pair is a real border crossing the constraints permit
    assert np.all(search.labels[units] != targets)
    assert np.all(search.permit[units, targets])
