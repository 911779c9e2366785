"""The bound for all plans (geoterr.design.global_bound) and its scope on the Plan."""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import Iterator
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

import geoterr as gt
from geoterr.design.global_bound import global_bound
from geoterr.design.problem import Problem


def _grid_problem(rng: np.random.Generator) -> Problem:
    """A 3 x 4 grid with random loads, k = 3, ranges of +-25 % and straight-line costs."""
    graph = nx.grid_2d_graph(3, 4)
    nodes = sorted(graph)
    n = len(nodes)
    xy = np.array(nodes, dtype=float)
    loads = rng.integers(1, 6, n).astype(float)[:, None]
    mean = loads.sum() / 3
    low, high = 0.75 * mean, 1.25 * mean
    pos = {v: i for i, v in enumerate(nodes)}
    return Problem(
        ids=pd.Index([f"u{i}" for i in range(n)]),
        xy=xy,
        weight=loads[:, 0],
        loads=loads,
        names=["w"],
        bounds=[(low, high)],
        target=np.full((3, 1), mean),
        lower=np.full((3, 1), low),
        upper=np.full((3, 1), high),
        neighbours=[np.array(sorted(pos[u] for u in graph[v])) for v in nodes],
        k=3,
        inertia=False,
        cost_matrix=np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)),
    )


def _brute_force(problem: Problem) -> float:
    """The best plan by enumeration: every connected set in range, then best 3-partition."""
    n = problem.n
    graph = nx.Graph([(i, int(j)) for i in range(n) for j in problem.neighbours[i]])
    cost = problem.costs(np.arange(n))
    best_set: dict[int, float] = {}
    for size in range(1, n + 1):
        for members in itertools.combinations(range(n), size):
            load = problem.loads[list(members), 0].sum()
            if problem.lower[0, 0] <= load <= problem.upper[0, 0] and nx.is_connected(
                graph.subgraph(members)
            ):
                mask = sum(1 << i for i in members)
                best_set[mask] = float(cost[list(members)][:, list(members)].sum(axis=0).min())
    full, best = (1 << n) - 1, np.inf
    for a, ca in best_set.items():
        if not a & 1:
            continue  # the set holding unit 0 first: each partition once
        for b, cb in best_set.items():
            if a & b or (c := full ^ a ^ b) not in best_set:
                continue
            best = min(best, ca + cb + best_set[c])
    return best


def grids_with_optima(count: int, seed: int = 3) -> Iterator[tuple[Problem, float]]:
    """Random small grids (:func:`_grid_problem`) with their optima by brute force."""
    rng = np.random.default_rng(seed)
    for _ in range(count):
        problem = _grid_problem(rng)
        yield problem, _brute_force(problem)


def test_bound_is_never_above_the_optimum() -> None:
    # brute force on small grids: the bound holds for every plan, so for the best one, and
    # it is no trivial bound (the territories LP is tight on such instances)
    tight = 0
    for problem, optimum in grids_with_optima(4):
        found = global_bound(problem, [])
        if not np.isfinite(optimum):
            continue
        assert found is not None
        assert found.value <= optimum * (1 + 1e-7)
        assert found.value >= 0.8 * optimum
        tight += found.value >= optimum * (1 - 1e-6)
    assert tight >= 1


def test_scope_is_a_field_that_round_trips(tmp_path: Path) -> None:
    units = gt.build_units(gt.read_customers(gt.sample_path()), measures=["workload"])
    plan = gt.design(units, 3, balance={"workload": 0.1})
    assert plan.lower_bound is not None and plan.lower_bound_scope == "plan centers"
    assert plan.certified is not None and "these centers" in plan.certified
    proven = dataclasses.replace(plan, lower_bound_scope="all plans")
    assert proven.certified is not None and "whatever its centers" in proven.certified
    folder = proven.save(tmp_path / "p", map=False)
    assert gt.load_plan(folder).lower_bound_scope == "all plans"
    # a plan file written before the field: the scope is read from params
    meta = json.loads((folder / "plan.json").read_text())
    del meta["lower_bound_scope"]
    (folder / "plan.json").write_text(json.dumps(meta))
    assert gt.load_plan(folder).lower_bound_scope == "plan centers"
