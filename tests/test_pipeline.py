"""design() as a pipeline: the strategy's choices, progress output, a quiet solver."""

from __future__ import annotations

import logging
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import grid_customers, make_customers

import geoterr as gt
from geoterr.design.constraints import active, allowed_pairs, pair_rows, unsupported
from geoterr.design.first_step import set_up
from geoterr.design.model import resolve_solver
from geoterr.design.pipeline import Options
from geoterr.design.strategy import choose


@pytest.fixture(scope="module")
def small() -> gt.Units:
    customers = gt.read_customers(make_customers(120, seed=7), measures=["workload"])
    return gt.build_units(customers, measures=["workload"])


def test_verbose_prints_progress_and_restores_the_logger(
    small: gt.Units, capsys: pytest.CaptureFixture[str]
) -> None:
    package = logging.getLogger("geoterr")
    before = (package.level, list(package.handlers))
    gt.design(small, 3, time_limit=20, verbose=True)
    err = capsys.readouterr().err
    assert "designing 3 territories from" in err
    assert "round 1:" in err
    assert (package.level, list(package.handlers)) == before
    gt.design(small, 3, time_limit=20)
    assert "round 1:" not in capsys.readouterr().err


def test_solver_banner_never_reaches_stdout() -> None:
    code = (
        "import geoterr as gt\n"
        "c = gt.read_customers(gt.sample_path())\n"
        "u = gt.build_units(c, measures=['workload'])\n"
        "p = gt.design(u, 4, balance={'workload': 0.1}, time_limit=30)\n"
        "print('status', p.status)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    assert done.stdout == "status feasible\n", done.stdout


def test_the_problem_given_to_the_steps_is_not_changed(small: gt.Units) -> None:
    frame = make_customers(120, seed=7)
    frame["current"] = np.where(frame["longitude"] < -98, "West", "East")
    customers = gt.read_customers(frame, measures=["workload"])
    units = gt.build_units(customers, measures=["workload"])
    setup = set_up(units, 2, Options(current="current", max_moved=10, time_limit=20))
    assert [c.name for c in active(setup.problem)] == ["contiguity", "balance", "max_moved"]
    (row,) = pair_rows(setup.problem)
    assert row.upper == 10 and row.lp_upper < 10
    plan = gt.design(units, 2, current="current", max_moved=10, time_limit=20)
    assert plan.params["moved_customers"] <= 10
    # The plan's numbering (west to east) did not renumber the set-up's problem.
    assert setup.problem.current.max() == 1


def test_strategy_by_size_and_constraints(small: gt.Units) -> None:
    solver = resolve_solver("highs", 10)
    setup = set_up(small, 3, Options(time_limit=10))
    strategy = setup.strategy
    assert strategy.exact_every_round  # 120 units x 3 territories <= 5,000 pairs
    assert not strategy.columns and not strategy.can_prove  # straight-line centers
    grid = gt.build_units(gt.read_customers(grid_customers(6, 5), measures=["workload"]))
    xy = grid.xy
    km = np.linalg.norm(xy[:, None, :] - xy[None, :, :], axis=2) / 1000.0
    costs = pd.DataFrame(km, index=grid.gdf.index, columns=grid.gdf.index)
    with_matrix = set_up(grid, 3, Options(costs=costs, time_limit=10)).strategy
    assert with_matrix.columns and with_matrix.can_prove and with_matrix.swaps
    fixed = choose(setup.problem, fixed_centers=True, solver=solver, max_iter=30)
    assert fixed.max_iter == 1 and not fixed.swaps and not fixed.can_prove


def test_locks_are_allowed_pairs(small: gt.Units) -> None:
    first = small.gdf.index[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gt.GeoterrWarning)
        setup = set_up(small, 3, Options(locked={first: "A"}, time_limit=10))
    mask = allowed_pairs(setup.problem, None)
    assert mask[0].sum() == 1 and mask[1:].all()
    assert unsupported(setup.problem, "exact") == ["locked"]


def test_a_refused_budget_says_the_least_tolerance_it_could_keep() -> None:
    import re

    frame = make_customers(150, seed=11)
    frame["current"] = np.where(frame["longitude"] < -98.6, "West", "East")
    units = gt.build_units(gt.read_customers(frame, measures=["workload"]), measures=["workload"])
    with pytest.raises(gt.InfeasibleError) as caught:
        gt.design(units, 2, balance={"workload": 0.02}, current="current", max_moved=1)
    found = re.search(r"a tolerance of ([0-9.]+) % is the least that could work", str(caught.value))
    assert found, str(caught.value)
    least = float(found.group(1)) / 100
    # The bound is a bound: a tolerance below it is refused the same way.
    with pytest.raises(gt.InfeasibleError, match="within max_moved"):
        gt.design(units, 2, balance={"workload": 0.9 * least}, current="current", max_moved=1)
