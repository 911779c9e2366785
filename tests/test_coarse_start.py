"""The coarse start of large designs (geoterr.design.coarse_start).

The units are merged into grid cells, the balanced assignment LP is solved on the cells round
after round, and the full rounds start from its centers. Checked here: the grid's cell count
and its determinism, that merging keeps every total, that the coarse rounds lower the full
LP's objective against their own start, and which designs take the start at all.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from conftest import make_customers

import geoterr as gt
from geoterr.design import coarse_start as cs
from geoterr.design import strategy as st
from geoterr.design.center_steps import CenterSteps
from geoterr.design.highs_model import HighsAssignment, fractional_assignment
from geoterr.design.pipeline import Clock
from geoterr.design.problem import Problem, make_problem
from geoterr.design.seeds import best_point, bisection_centers


def _problem(n: int, k: int) -> Problem:
    customers = gt.read_customers(make_customers(n, seed=3, clustered=True))
    units = gt.build_units(customers, "points")
    return make_problem(units, k, {"workload": 0.05}, inertia=False)


def test_grid_cells_come_near_the_count_asked_and_repeat() -> None:
    rng = np.random.default_rng(0)
    towns = rng.uniform(0, 500_000, size=(30, 2))
    xy = towns[rng.integers(0, 30, 20_000)] + rng.normal(0, 8_000, size=(20_000, 2))
    cells = cs.grid_cells(xy, 2_000)
    count = len(np.unique(cells))
    assert 1_800 <= count <= 2_200
    assert cells.min() == 0 and cells.max() == count - 1
    assert np.array_equal(cells, cs.grid_cells(xy.copy(), 2_000))


def test_merging_keeps_every_total_and_each_cell_inside_its_units() -> None:
    problem = _problem(3_000, 6)
    cells = cs.grid_cells(problem.xy, 300)
    coarse = cs.coarse_problem(problem, cells)
    assert coarse.n == len(np.unique(cells))
    assert np.allclose(coarse.loads.sum(axis=0), problem.loads.sum(axis=0))
    assert np.isclose(coarse.weight.sum(), problem.weight.sum())
    for c in (0, coarse.n // 2, coarse.n - 1):
        members = problem.xy[cells == c]
        assert np.all(coarse.xy[c] >= members.min(axis=0) - 1e-6)
        assert np.all(coarse.xy[c] <= members.max(axis=0) + 1e-6)


def test_coarse_centers_lower_the_full_lp_against_their_start() -> None:
    problem = _problem(4_000, 8)
    start = bisection_centers(problem.xy, problem.weight, problem.k)
    moved = cs.coarse_centers(problem, start)
    assert moved.shape == start.shape
    lp = HighsAssignment(problem)
    before = lp.solve(problem.costs(start))
    after = lp.solve(problem.costs(moved))
    assert before is not None and after is not None
    assert after[1] < before[1]


def test_coarse_rounds_stop_at_their_share_of_the_time_limit() -> None:
    problem = _problem(2_000, 5)
    start = bisection_centers(problem.xy, problem.weight, problem.k)
    clock = Clock(limit=1e-9)
    assert np.array_equal(cs.coarse_centers(problem, start, clock), start)
    assert clock.cut
    free = Clock(limit=None)
    assert not np.array_equal(cs.coarse_centers(problem, start, free), start)
    assert not free.cut


def test_only_plain_large_designs_take_the_coarse_start() -> None:
    problem = _problem(500, 4)
    assert not cs.coarse_applies(problem, fixed_centers=False)  # too small
    big = dataclasses.replace(problem)
    old = cs.MIN_UNITS
    try:
        cs.MIN_UNITS = 100
        assert cs.coarse_applies(big, fixed_centers=False)
        assert not cs.coarse_applies(big, fixed_centers=True)
        locked = big.locked.copy()
        locked[0] = 1
        assert not cs.coarse_applies(dataclasses.replace(big, locked=locked), fixed_centers=False)
        current = np.zeros(big.n, dtype=np.int64)
        moved = dataclasses.replace(big, current=current, move_amount=np.ones(big.n))
        assert not cs.coarse_applies(moved, fixed_centers=False)
        matrix = dataclasses.replace(big, cost_matrix=np.zeros((big.n, big.n)))
        assert not cs.coarse_applies(matrix, fixed_centers=False)
    finally:
        cs.MIN_UNITS = old


def test_polish_steps_go_past_the_best_points_then_shorter() -> None:
    problem = _problem(500, 4)
    used = bisection_centers(problem.xy, problem.weight, problem.k)
    moved = used + np.array([1_000.0, -500.0])
    labels = np.zeros(problem.n, dtype=np.int64)
    steps = CenterSteps(2.0)
    ahead = steps.next_centers(problem, labels, used, moved, improved=True)
    assert np.allclose(ahead, used + 2.0 * (moved - used)) and steps.stretched
    plain = steps.next_centers(problem, labels, used, moved, improved=False)
    assert plain is moved and steps.step == 1.5 and not steps.stretched
    again = steps.next_centers(problem, labels, used, moved, improved=True)
    assert np.allclose(again, used + 1.5 * (moved - used))
    assert CenterSteps(1.0).next_centers(problem, labels, used, moved, improved=True) is moved


def test_large_designs_polish_at_most_the_default_rounds_and_keep_their_promises(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Taken from 3,000 units (MIN_UNITS lowered): the over-relaxed rounds end within
    POLISH_ROUNDS by default, within max_iter when given, and the plan keeps every range."""
    monkeypatch.setattr(cs, "MIN_UNITS", 1_000)
    customers = gt.read_customers(make_customers(3_000, seed=5, clustered=True))
    units = gt.build_units(customers, "points")
    steps: list[float] = []
    original = CenterSteps.next_centers

    def spy(self: CenterSteps, *args: object, **kwargs: object) -> np.ndarray:
        steps.append(self.step)
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(CenterSteps, "next_centers", spy)
    plan = gt.design(units, 8, balance={"workload": 0.03}, random_state=0)
    assert plan.status == "feasible"
    assert 1 <= plan.params["rounds"] <= st.POLISH_ROUNDS
    assert steps and steps[0] == st.CENTER_STEP and min(steps) > 1.0
    loads = plan.territories["workload"].to_numpy()
    assert np.all(np.abs(loads / loads.mean() - 1) <= 0.03 + 1e-9)
    short = gt.design(units, 8, balance={"workload": 0.03}, random_state=0, max_iter=2)
    assert short.params["rounds"] <= 2


def test_shared_centers_read_the_sparse_shares_as_the_dense_ones() -> None:
    """Each center from the rows with a share above 1e-9, weighted by weight x share."""
    problem = _problem(400, 5)
    rng = np.random.default_rng(2)
    dense = rng.random((problem.n, problem.k)) * (rng.random((problem.n, problem.k)) < 0.3)
    dense[:, 4] = 0.0  # a territory with no share keeps its center
    dense[:3, 0] = 1e-12  # below the cut
    units, terrs = np.nonzero(dense)
    share = fractional_assignment(units, terrs, dense[units, terrs], dense.shape)
    start = bisection_centers(problem.xy, problem.weight, problem.k)
    for inertia in (False, True):
        got = cs.shared_centers(problem.xy, problem.weight, share, start, inertia=inertia)
        expected = start.copy()
        for j in range(problem.k):
            rows = np.flatnonzero(dense[:, j] > 1e-9)
            w = problem.weight[rows] * dense[rows, j]
            if w.sum() > 0:
                expected[j] = best_point(problem.xy[rows], w, inertia=inertia)
        assert np.array_equal(got, expected)
