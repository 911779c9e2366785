"""The max_distance constraint: on every path the strategy takes, or a reason with numbers."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import grid_customers, make_customers, run_cli

import geoterr as gt
from geoterr._errors import InfeasibleError, InputError
from geoterr.design.constraints import MaxDistance, unsupported
from geoterr.design.problem import make_problem, parse_balance
from geoterr.design.strategy import choose


def _farthest(plan: gt.Plan, units: gt.Units) -> float:
    """The largest distance (km) of a unit to its territory's center, measured here."""
    centers = plan.centers.loc[plan.assignment.reindex(units.gdf.index), ["x", "y"]].to_numpy()
    return float(np.linalg.norm(units.xy - centers, axis=1).max() / 1000.0)


@pytest.fixture(scope="module")
def kansas() -> gt.Units:
    customers = gt.read_customers(make_customers(300, seed=3), measures=["workload"])
    return gt.build_units(customers, measures=["workload"])


def test_free_centers_keep_the_limit_or_say_by_how_much(kansas: gt.Units) -> None:
    plain = gt.design(kansas, 6, balance={"workload": 0.1}, time_limit=30)
    reach = _farthest(plain, kansas)
    # A limit the plan without it already keeps is kept.
    plan = gt.design(kansas, 6, balance={"workload": 0.1}, max_distance=reach, time_limit=30)
    assert plan.status == "feasible", plan.problems
    assert _farthest(plan, kansas) <= reach * (1 + 1e-6)
    assert plan.params["max_distance"] == reach
    # A tighter one is kept, or the plan says which units break it and what it keeps.
    limit = 0.85 * reach
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gt.GeoterrWarning)
        plan = gt.design(kansas, 6, balance={"workload": 0.1}, max_distance=limit, time_limit=30)
    farthest = _farthest(plan, kansas)
    if plan.status == "feasible":
        assert farthest <= limit * (1 + 1e-6)
    else:
        words = " ".join(plan.problems)
        assert f"farther than max_distance {gt._errors.format_number(limit)}" in words
        assert f"this plan keeps max_distance {gt._errors.format_number(farthest)}" in words


def test_fixed_centers_keep_the_limit_or_say_which_units_cannot(kansas: gt.Units) -> None:
    homes = pd.DataFrame(
        {"latitude": [37.3, 37.3, 38.2, 38.2], "longitude": [-98.6, -97.4, -98.6, -97.4]},
        index=["Ann", "Bob", "Cy", "Di"],
    )
    plan = gt.design(kansas, 4, balance={"workload": 0.15}, centers=homes, max_distance=150.0)
    assert plan.status == "feasible", plan.problems
    assert _farthest(plan, kansas) <= 150.0 * (1 + 1e-6)
    with pytest.raises(InfeasibleError) as caught:
        gt.design(kansas, 4, balance={"workload": 0.15}, centers=homes, max_distance=20.0)
    message = str(caught.value)
    assert "have no center within it" in message
    assert "Raise max_distance to at least" in message
    assert kansas.gdf.index[0] in message or "more" in message


def test_cost_matrix_and_exact_model_keep_the_limit() -> None:
    customers = gt.read_customers(grid_customers(6, 5), measures=["workload"])
    units = gt.build_units(customers, method="points", measures=["workload"])
    xy = units.xy
    minutes = np.linalg.norm(xy[:, None, :] - xy[None, :, :], axis=2) / 1000.0
    costs = pd.DataFrame(minutes, index=units.gdf.index, columns=units.gdf.index)
    limit = 25.0
    plan = gt.design(
        units, 3, balance={"workload": 0.0}, costs=costs, max_distance=limit, prove=True
    )
    assert plan.status == "feasible", plan.problems
    center = plan.centers.loc[plan.assignment, "unit"].to_numpy()
    reach = costs.to_numpy()[np.arange(len(units)), [units.gdf.index.get_loc(c) for c in center]]
    assert reach.max() <= limit + 1e-9


def test_the_limit_switches_off_models_that_ignore_it(kansas: gt.Units) -> None:
    problem = make_problem(kansas, 4, parse_balance({"workload": 0.1}, kansas), inertia=False)
    import dataclasses

    limited = dataclasses.replace(problem, rules=(MaxDistance(100.0),))
    assert unsupported(limited, "columns") == ["max_distance"]
    assert unsupported(limited, "assignment") == []
    strategy = choose(limited, fixed_centers=False, solver=None, max_iter=5)
    assert not strategy.columns


@pytest.mark.parametrize("bad", [0, -5, float("nan"), float("inf"), "far", True])
def test_bad_limit_is_refused(kansas: gt.Units, bad: object) -> None:
    with pytest.raises(InputError, match="max_distance"):
        gt.design(kansas, 4, max_distance=bad)  # type: ignore[arg-type]


def test_cli_max_distance(tmp_path: Path) -> None:
    make_customers(150, seed=5).to_csv(tmp_path / "c.csv", index=False)
    done = run_cli(
        "design", "c.csv", "-k", "3", "--max-distance", "5", "--out", "plan", "--no-map",
        "--time-limit", "20", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode != 0
    assert "max_distance" in done.stderr
    assert "Traceback" not in done.stderr
    done = run_cli(
        "design", "c.csv", "-k", "3", "--max-distance", "400", "--out", "plan2", "--no-map",
        "--time-limit", "20", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    saved = gt.load_plan(tmp_path / "plan2")
    assert saved.params["max_distance"] == 400.0


def test_small_cost_matrix_realignment_never_reaches_the_exact_model() -> None:
    """The exact model ignores max_moved: a realignment must not reach it (it did)."""
    frame = grid_customers(5, 4)
    frame["current"] = np.where(frame["longitude"] < -99.75, "West", "East")
    customers = gt.read_customers(frame, measures=["workload"])
    units = gt.build_units(customers, method="points", measures=["workload"])
    xy = units.xy
    km = np.linalg.norm(xy[:, None, :] - xy[None, :, :], axis=2) / 1000.0
    costs = pd.DataFrame(km, index=units.gdf.index, columns=units.gdf.index)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plan = gt.design(
            units, 2, balance={"workload": 0.0}, costs=costs, current="current",
            max_moved=2, prove=True,
        )  # fmt: skip
    assert plan.params["moved_customers"] <= 2
    assert any("does not honour max_moved" in str(w.message) for w in caught)


def test_thin_graph_note_names_the_cut_vertices() -> None:
    import dataclasses

    from geoterr.design.diagnose import thin_graph_note

    grid = gt.build_units(gt.read_customers(grid_customers(6, 2), measures=["workload"]))
    problem = make_problem(grid, 3, parse_balance({"workload": 0.05}, grid), inertia=False)
    assert thin_graph_note(problem) is None
    n = problem.n  # the same units linked as one path: every inner unit is a cut vertex
    path = [np.array([v for v in (i - 1, i + 1) if 0 <= v < n]) for i in range(n)]
    thin = dataclasses.replace(problem, neighbours=path)
    note = thin_graph_note(thin)
    assert note is not None
    assert "10 of 12 units (83%) are cut vertices" in note
