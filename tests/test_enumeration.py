"""The optimum of small instances by enumerating every territory (geoterr.design.enumeration)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_global_bound import grids_with_optima

import geoterr as gt
from geoterr.datasets import read_districting_instance
from geoterr.design import strategy as st
from geoterr.design.enumeration import enumerated_optimum
from geoterr.design.problem import Problem, pieces_per_territory
from geoterr.design.violations import plan_score

PUBLISHED = Path(__file__).resolve().parents[2] / "shared" / "data" / "hess_counties"


def test_enumeration_finds_the_brute_force_optimum() -> None:
    solved = 0
    for problem, optimum in grids_with_optima(6):
        found, late = enumerated_optimum(problem)
        assert found is not None and not late
        if not np.isfinite(optimum):
            assert found.labels is None  # no plan: the enumeration proves it too
            continue
        assert found.labels is not None and found.centers is not None
        assert found.value == pytest.approx(optimum, rel=1e-9)
        # the plan itself: contiguous, in range, each center in its territory, costing that
        assert np.all(pieces_per_territory(problem, found.labels) == 1)
        assert plan_score(problem, found.labels, found.centers) == pytest.approx((0.0, optimum))
        assert np.all(found.labels[found.centers] == np.arange(problem.k))
        solved += 1
    assert solved >= 3


def _path_problem(loads: list[float], k: int, low: float, high: float) -> Problem:
    """Units on a line, each next to the one before, served from unit centers."""
    n = len(loads)
    xy = np.column_stack([np.arange(n, dtype=float), np.zeros(n)])
    w = np.asarray(loads, dtype=float)
    return Problem(
        ids=pd.Index([f"u{i}" for i in range(n)]),
        xy=xy,
        weight=w,
        loads=w[:, None],
        names=["w"],
        bounds=[(low, high)],
        target=np.full((k, 1), w.sum() / k),
        lower=np.full((k, 1), low),
        upper=np.full((k, 1), high),
        neighbours=[np.array([j for j in (i - 1, i + 1) if 0 <= j < n]) for i in range(n)],
        k=k,
        inertia=False,
        cost_matrix=np.abs(xy[:, None, 0] - xy[None, :, 0]),
    )


def test_an_impossible_split_is_proven() -> None:
    # loads 2, 2, 1, 1 on a line into 2 territories of exactly 3: the only group that fits
    # is the middle pair, which leaves the two ends apart
    problem = _path_problem([2, 2, 1, 1], 2, 3, 3)
    assert not np.isfinite(_brute_force_path(problem))
    found, _ = enumerated_optimum(problem)
    assert found is not None and found.labels is None and found.groups == 1
    # with a range of 2 to 4 the split 2 + 2 | 1 + 1 fits: one plan, found
    loose = _path_problem([2, 2, 1, 1], 2, 2, 4)
    found, _ = enumerated_optimum(loose)
    assert found is not None and found.labels is not None
    assert found.value == pytest.approx(_brute_force_path(loose))


def _brute_force_path(problem: Problem) -> float:
    """The best split of a line into k runs within the range (every cut position)."""
    from itertools import combinations

    n, k = problem.n, problem.k
    cost = problem.costs(np.arange(n))
    best = np.inf
    for cuts in combinations(range(1, n), k - 1):
        runs = np.split(np.arange(n), cuts)
        if all(
            problem.lower[0, 0] <= problem.loads[r, 0].sum() <= problem.upper[0, 0] for r in runs
        ):
            best = min(best, sum(float(cost[np.ix_(r, r)].sum(axis=0).min()) for r in runs))
    return best


def test_too_many_groups_conclude_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(st, "ENUM_STEPS", 5)
    problem, _ = next(grids_with_optima(1))
    found, late = enumerated_optimum(problem)
    assert found is None and not late


@pytest.mark.skipif(not PUBLISHED.exists(), reason="needs ../shared/data/hess_counties")
def test_maine_is_certified_optimal_by_default() -> None:
    # 16 counties into 2: 122 possible districts; the exact model took over 200 s for this proof
    inst = read_districting_instance(PUBLISHED, "ME")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gt.GeoterrWarning)
        plan = inst.design(time_limit=60)
    value = inst.objective(plan.assignment, plan.centers["unit"])
    assert value == pytest.approx(float(inst.published), rel=1e-6)
    assert plan.lower_bound_scope == "all plans"
    assert plan.gap is not None and 0 <= plan.gap < 1e-9
    assert not plan.params["cut_short"]
