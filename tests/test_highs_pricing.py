"""The HiGHS assignment LP with pairs priced in (geoterr.design.highs_model.HighsAssignment).

Large instances start the LP with each unit's few cheapest territories and add the pairs of
negative reduced cost until none is left. Here pricing is forced on small instances (every
model would otherwise hold all pairs) and the result is compared with the same LP holding
every pair and with an independent LP (scipy's linprog over all n x k pairs): the optimum is
the same, and every row of the model is kept.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_customers
from scipy.optimize import linprog

import geoterr as gt
from geoterr.design import highs_model
from geoterr.design.constraints.move_budget import LP_BUDGET_SHARE
from geoterr.design.highs_model import HighsAssignment
from geoterr.design.problem import Problem, make_problem


def _problem(n: int, k: int, balance: dict[str, float], seed: int) -> Problem:
    customers = gt.read_customers(
        make_customers(n, seed=seed, clustered=True), measures=["workload", "annual_revenue"]
    )
    units = gt.build_units(customers, "points", measures=["workload", "annual_revenue"])
    return make_problem(units, k, dict(balance), inertia=False)


def _centers(problem: Problem, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return problem.xy[rng.choice(problem.n, size=problem.k, replace=False)].astype(float)


def _reference(problem: Problem, costs: np.ndarray, budget: float | None) -> float | None:
    """The same LP over every allowed pair, built independently for scipy's linprog."""
    n, k, m = problem.n, problem.k, problem.loads.shape[1]
    allowed = problem.allowed().ravel()
    cols = np.flatnonzero(allowed)
    unit, terr = np.divmod(cols, k)
    one = np.zeros((n, len(cols)))
    one[unit, np.arange(len(cols))] = 1.0
    loads = np.zeros((k * m, len(cols)))
    for c in range(m):
        loads[terr * m + c, np.arange(len(cols))] = problem.loads[unit, c]
    a_ub = [loads, -loads]
    b_ub = [problem.upper.ravel(), -problem.lower.ravel()]
    if budget is not None:
        moving = (problem.current[unit] >= 0) & (problem.current[unit] != terr)
        a_ub.append(np.where(moving, problem.move_amount[unit], 0.0)[None, :])
        b_ub.append(np.array([budget]))
    result = linprog(
        costs.ravel()[cols],
        A_ub=np.vstack(a_ub),
        b_ub=np.concatenate(b_ub),
        A_eq=one,
        b_eq=np.ones(n),
        bounds=(0, 1),
        method="highs",
    )
    return float(result.fun) if result.status == 0 else None


def _assert_kept(problem: Problem, x: np.ndarray, budget: float | None = None) -> None:
    """Every unit assigned once (fractions summing to 1), every range and pin kept."""
    tol = 1e-6
    assert np.all(x >= -tol) and np.all(x <= 1 + tol)
    assert np.allclose(x.sum(axis=1), 1.0, atol=tol)
    loads = x.T @ problem.loads  # (k, m)
    scale = np.abs(problem.target).mean(axis=0)
    assert np.all(loads <= problem.upper + tol * scale), (loads - problem.upper).max()
    assert np.all(loads >= problem.lower - tol * scale), (problem.lower - loads).max()
    assert np.all(x[~problem.allowed()] <= tol)  # locked units and closed territories
    if budget is not None:
        moving = (problem.current[:, None] >= 0) & (
            problem.current[:, None] != np.arange(problem.k)
        )
        spent = float((x * np.where(moving, problem.move_amount[:, None], 0.0)).sum())
        assert spent <= budget * (1 + 1e-7)


def _assert_solves_to_the_optimum(engine: HighsAssignment, costs: np.ndarray) -> None:
    """The engine's solve for these costs is the LP over all pairs and keeps every row."""
    solved = engine.solve(costs)
    assert solved is not None
    expected = _reference(engine.problem, costs, None)
    assert expected is not None
    assert solved[1] == pytest.approx(expected, rel=1e-6)
    _assert_kept(engine.problem, solved[0].toarray())


def _priced(monkeypatch: pytest.MonkeyPatch, start: int = 1, add: int = 1) -> None:
    """Force pricing: no model holds all pairs, each unit starts with ``start`` pairs."""
    monkeypatch.setattr(highs_model, "ALL_PAIRS", 0)
    monkeypatch.setattr(highs_model, "START_PAIRS", start)
    monkeypatch.setattr(highs_model, "ADD_PER_UNIT", add)


@pytest.mark.parametrize("seed", [0, 1])
def test_priced_lp_has_the_full_lps_optimum(monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
    problem = _problem(150, 6, {"workload": 0.03, "annual_revenue": 0.05}, seed)
    costs = problem.costs(_centers(problem, seed))
    full = HighsAssignment(problem).solve(costs)
    assert full is not None
    _priced(monkeypatch)
    engine = HighsAssignment(problem)
    priced = engine.solve(costs)
    assert priced is not None
    x, value = priced[0].toarray(), priced[1]
    # pricing really ran: the model began with one pair per unit and grew, but not to all
    assert problem.n < len(engine.col_unit) < problem.n * problem.k
    expected = _reference(problem, costs, None)
    assert expected is not None
    assert value == pytest.approx(expected, rel=1e-6)
    assert value == pytest.approx(full[1], rel=1e-6)
    assert float((costs * x).sum()) == pytest.approx(value, rel=1e-9)
    _assert_kept(problem, x)
    # re-solved warm with other centers (the design's rounds), pricing again
    _assert_solves_to_the_optimum(engine, problem.costs(_centers(problem, seed + 10)))


def _realignment(problem: Problem, seed: int) -> None:
    """A current plan (the LP's for some centers, rounded: nearly balanced), each unit's move
    costing 1 of a budget of 15 % of the units."""
    first = HighsAssignment(problem).solve(problem.costs(_centers(problem, seed)))
    assert first is not None
    problem.current = np.argmax(first[0].toarray(), axis=1).astype(np.int64)
    problem.move_amount = np.ones(problem.n)
    problem.budget = 0.15 * problem.n


def test_priced_lp_keeps_locked_units(monkeypatch: pytest.MonkeyPatch) -> None:
    problem = _problem(120, 5, {"workload": 0.05}, 2)
    costs = problem.costs(_centers(problem, 3))
    # five units pinned away from their cheapest territory
    problem.locked[:5] = (np.argmin(costs[:5], axis=1) + 1) % problem.k
    _priced(monkeypatch)
    priced = HighsAssignment(problem).solve(costs)
    assert priced is not None
    _assert_kept(problem, priced[0].toarray())
    expected = _reference(problem, costs, None)
    assert expected is not None
    assert priced[1] == pytest.approx(expected, rel=1e-6)


def test_priced_lp_keeps_the_move_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    problem = _problem(120, 5, {"workload": 0.05}, 2)
    costs = problem.costs(_centers(problem, 3))
    # the current plan: every unit in its cheapest territory (so the start holds it), out of
    # balance; a budget between the fewest moves that balance it and the moves the LP
    # makes without a budget, so that it binds
    problem.current = np.argmin(costs, axis=1).astype(np.int64)
    problem.move_amount = np.ones(problem.n)
    moving = (problem.current[:, None] != np.arange(problem.k)).astype(float)
    fewest = _reference(problem, moving, None)
    free = HighsAssignment(problem).solve(costs)
    assert fewest is not None and free is not None
    free_moves = float((free[0].toarray() * moving).sum())
    assert fewest < free_moves - 1
    problem.budget = (fewest + free_moves) / 2 / LP_BUDGET_SHARE
    _priced(monkeypatch, start=2, add=2)
    engine = HighsAssignment(problem)
    priced = engine.solve(costs)
    assert priced is not None
    x, value = priced[0].toarray(), priced[1]
    assert problem.n * 2 < len(engine.col_unit)  # pairs were priced in
    # the LP keeps a reserve of the budget for repairs unless balance needs it
    budget = problem.budget * (LP_BUDGET_SHARE if engine.extra_at_lp else 1.0)
    _assert_kept(problem, x, budget)
    expected = _reference(problem, costs, budget)
    assert expected is not None
    assert value == pytest.approx(expected, rel=1e-6)
    assert free[1] < value * (1 - 1e-6)  # the budget binds: without it the LP is cheaper


def test_priced_lp_with_a_budget_finds_the_full_lps_optimum(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    problem = _problem(120, 5, {"workload": 0.05}, 2)
    _realignment(problem, 2)
    problem.locked[:5] = (problem.current[:5] + 1) % problem.k
    costs = problem.costs(_centers(problem, 3))
    full = HighsAssignment(problem).solve(costs)
    assert full is not None  # every pair from the start: fine
    _priced(monkeypatch, start=2, add=2)
    priced = HighsAssignment(problem).solve(costs)
    assert priced is not None
    assert priced[1] == pytest.approx(full[1], rel=1e-6)


def test_priced_lp_reports_no_solution_when_balance_cannot_hold(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    problem = _problem(60, 3, {"workload": 0.02}, 4)
    # pin the three heaviest units to one territory: its range cannot hold them... unless
    # it can, so make sure by pinning enough units to exceed the upper bound
    order = np.argsort(-problem.loads[:, 0])
    total = np.cumsum(problem.loads[order, 0])
    heavy = order[: int(np.searchsorted(total, problem.upper[0, 0])) + 1]
    problem.locked[heavy] = 0
    costs = problem.costs(_centers(problem, 4))
    assert _reference(problem, costs, None) is None
    _priced(monkeypatch)
    assert HighsAssignment(problem).solve(costs) is None


def test_pricing_in_blocks_gives_the_same_lp(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of 7 units (many blocks and a short last one) give the very numbers of one block."""
    problem = _problem(150, 6, {"workload": 0.03}, 2)
    costs = problem.costs(_centers(problem, 2))
    _priced(monkeypatch, start=2)
    whole = HighsAssignment(problem).solve(costs)
    monkeypatch.setattr(highs_model, "ROW_BLOCK", 7)
    blocks = HighsAssignment(problem).solve(costs)
    assert whole is not None and blocks is not None
    assert np.array_equal(whole[0].toarray(), blocks[0].toarray())
    assert whole[1] == blocks[1]


def test_scaled_costs_read_as_the_scaled_array() -> None:
    rng = np.random.default_rng(5)
    raw = rng.lognormal(size=(40, 9))
    factor = highs_model.cost_factor(raw)
    scaled = highs_model.ScaledCosts(raw, factor)
    full = raw * factor
    assert np.array_equal(scaled[3:17], full[3:17])
    rows, cols = rng.integers(0, 40, 25), rng.integers(0, 9, 25)
    assert np.array_equal(scaled[rows, cols], full[rows, cols])
    assert scaled.max() == float(full.max()) == pytest.approx(highs_model.COST_TOP)
    assert scaled.min() == float(full.min())


def test_later_solves_start_from_the_last_basis(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rounds of moving centers: one cheapest start basis, then warm solves, each the optimum."""
    problem = _problem(150, 6, {"workload": 0.03, "annual_revenue": 0.05}, 3)
    _priced(monkeypatch, start=2)
    engine = HighsAssignment(problem)
    starts = []
    first_basis = HighsAssignment._cheapest_basis

    def counted(self: HighsAssignment, costs: highs_model.ScaledCosts) -> None:
        starts.append(1)
        first_basis(self, costs)

    monkeypatch.setattr(HighsAssignment, "_cheapest_basis", counted)
    centers = _centers(problem, 3)
    rng = np.random.default_rng(3)
    for _ in range(4):
        _assert_solves_to_the_optimum(engine, problem.costs(centers))
        centers = centers + rng.normal(scale=0.05, size=centers.shape)
    assert len(starts) == 1


def test_row_argmax_of_the_sparse_assignment_is_numpys() -> None:
    """Ties go to the lowest territory and empty rows to 0, as np.argmax on the dense array."""
    rng = np.random.default_rng(1)
    for _ in range(200):
        n, k = int(rng.integers(1, 30)), int(rng.integers(1, 8))
        dense = rng.integers(0, 3, (n, k)).astype(float) * (rng.random((n, k)) < 0.5)
        units, terrs = np.nonzero(dense)
        x = highs_model.fractional_assignment(units, terrs, dense[units, terrs], (n, k))
        assert np.array_equal(x.toarray(), dense)
        assert highs_model.row_argmax(x).tolist() == np.argmax(dense, axis=1).tolist()


def test_scaled_costs_find_the_factor_of_cost_factor() -> None:
    rng = np.random.default_rng(4)
    for raw in (rng.normal(size=(50, 6)) * 1e5, np.zeros((3, 2)), -rng.random((4, 4))):
        scaled = highs_model.ScaledCosts(raw)
        assert scaled.factor == highs_model.cost_factor(raw)
        assert scaled.max() == float((raw * scaled.factor).max())
        assert scaled.min() == float((raw * scaled.factor).min())
