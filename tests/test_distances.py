"""Problem.distances: the same numbers as np.linalg.norm, bit for bit, without its temporary.

The plans of every instance with coordinates depend on these numbers; a change in their last
bit would change plans, so the faster formula must give exactly what the norm gave.
"""

from __future__ import annotations

import numpy as np
from conftest import make_customers

import geoterr as gt
from geoterr.design.problem import make_problem


def test_distances_equal_the_norm_bit_for_bit() -> None:
    customers = gt.read_customers(make_customers(300, seed=4, clustered=True))
    units = gt.build_units(customers, "points", measures=["workload"])
    problem = make_problem(units, 7, {"workload": 0.05}, inertia=False)
    rng = np.random.default_rng(2)
    centers = problem.xy[rng.choice(problem.n, 7, replace=False)] + rng.normal(0, 500.0, (7, 2))
    norm = np.linalg.norm(problem.xy[:, None, :] - centers[None, :, :], axis=2) / 1000.0
    got = problem.distances(centers)
    assert got.shape == (problem.n, 7)
    assert np.array_equal(got, norm)
    assert got.min() >= 0 and got.max() > 1.0  # kilometres of a real spread, not zeros
