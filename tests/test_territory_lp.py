"""The territories LP (column generation) and the shortest-path-tree model on small graphs,
checked against brute force."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pandas as pd
import pytest

import geoterr as gt
from geoterr.design.column_plan import column_plan
from geoterr.design.problem import Problem, make_problem
from geoterr.design.territory_lp import _Territories, column_centers
from geoterr.design.tree_model import along_graph_order, tree_plan
from geoterr.design.violations import broken_promises, plan_score
from geoterr.plan import Outcome, build_plan, territory_name
from geoterr.testing import assert_valid_plan


def _grid_problem(
    nx_: int, ny: int, k: int, tol: float, seed: int, wall: frozenset[tuple[int, int]] = frozenset()
) -> Problem:
    """A grid of units with random loads, rook adjacency and a Manhattan cost matrix.

    ``wall`` lists grid neighbours (positions a < b) that are not adjacent."""
    rng = np.random.default_rng(seed)
    xs, ys = np.meshgrid(np.arange(nx_), np.arange(ny))
    n = nx_ * ny
    frame = pd.DataFrame(
        {
            "account_id": [f"G{i:02d}" for i in range(n)],
            "latitude": 40 + 0.1 * ys.ravel(),
            "longitude": -100 + 0.1 * xs.ravel(),
            "workload": rng.integers(1, 10, n).astype(float),
        }
    )
    customers = gt.read_customers(frame, measures=["workload"])
    ids = customers.index
    edges = [
        (ids[a], ids[b])
        for a in range(n)
        for b in range(a + 1, n)
        if abs(xs.ravel()[a] - xs.ravel()[b]) + abs(ys.ravel()[a] - ys.ravel()[b]) == 1
        and (a, b) not in wall
    ]
    units = gt.build_units(customers, "points", measures=["workload"], adjacency=edges)
    cell = {i: (x, y) for i, x, y in zip(ids, xs.ravel(), ys.ravel(), strict=True)}
    pos = np.array([cell[u] for u in units.gdf.index], dtype=float)
    d = np.abs(pos[:, None, :] - pos[None, :, :]).sum(axis=2) * 10.0
    costs = pd.DataFrame(d, index=units.gdf.index, columns=units.gdf.index)
    problem = make_problem(units, k, {"workload": tol}, inertia=True, costs=costs)
    _UNITS[id(problem)] = units
    return problem


# The units of each grid problem, for building a Plan from its labels.
_UNITS: dict[int, gt.Units] = {}


def _tree_optimum(
    problem: Problem, candidates: list[int], order: np.ndarray | None = None
) -> float:
    """Brute force over every choice of centers and every assignment of units to them that
    the tree model allows (a neighbour closer to the center in the same territory, closer by
    ``order``, default the cost matrix)."""
    assert problem.cost_matrix is not None
    d = problem.cost_matrix
    cost = problem.weight[:, None] * d * d
    n, k = problem.n, problem.k
    best = np.inf
    for centers in itertools.combinations(candidates, k):
        for labels in itertools.product(range(k), repeat=n):
            lab = np.array(labels)
            if any(lab[c] != t for t, c in enumerate(centers)):
                continue
            loads = problem.loads_of(lab)
            if np.any(loads < problem.lower - 1e-9) or np.any(loads > problem.upper + 1e-9):
                continue
            if all(_tree_ok(problem, lab, centers, i, order) for i in range(n)):
                best = min(best, float(cost[np.arange(n), np.array(centers)[lab]].sum()))
    return best


def _tree_ok(
    problem: Problem,
    labels: np.ndarray,
    centers: tuple[int, ...],
    i: int,
    order: np.ndarray | None = None,
) -> bool:
    assert problem.cost_matrix is not None
    c = centers[labels[i]]
    if i == c:
        return True
    d = (problem.cost_matrix if order is None else order)[:, c]
    return any(
        labels[v] == labels[i] and (d[v], v != c, v) < (d[i], True, i) for v in problem.adjacency[i]
    )


def _check_plan(problem: Problem, labels: np.ndarray, centers: np.ndarray) -> None:
    """The labels as a Plan pass assert_valid_plan (every unit once, each territory connected
    and within its range), and each territory holds its center."""
    units = _UNITS[id(problem)]
    assert labels.shape == (problem.n,)
    assert all(labels[c] == t for t, c in enumerate(centers.tolist()))
    names = [territory_name(j, problem.k) for j in range(problem.k)]
    plan = build_plan(
        units,
        problem,
        labels,
        problem.center_xy(centers),
        names=names,
        params={
            "n_territories": problem.k,
            "balance": dict(zip(problem.names, problem.bounds, strict=True)),
        },
        outcome=Outcome(
            problems=broken_promises(problem, labels, names, centers),
            objective=plan_score(problem, labels, centers)[1],
            lower_bound=None,
            seconds=0.0,
        ),
    )
    assert_valid_plan(plan, feasible=True)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(4))
def test_tree_model_matches_brute_force(seed: int) -> None:
    problem = _grid_problem(3, 3, 2, 0.25, seed)
    candidates = list(range(problem.n))
    expected = _tree_optimum(problem, candidates)
    plan = tree_plan(problem, np.array(candidates), 30.0)
    assert np.isfinite(expected)  # (seeds chosen so that a plan exists)
    assert plan is not None and plan.optimal
    _check_plan(problem, plan.labels, plan.centers)
    for i in range(problem.n):
        assert _tree_ok(problem, plan.labels, tuple(plan.centers.tolist()), i)
    got = plan_score(problem, plan.labels, plan.centers)[1]
    assert got == pytest.approx(expected, rel=1e-6)


# A 3 x 3 grid with a wall between the first two columns in the top two rows: the corner
# units reach the middle column only around the wall.
WALL = frozenset({(0, 1), (3, 4)})


def test_along_graph_order_is_the_mean_of_the_two_distances() -> None:
    problem = _grid_problem(3, 3, 2, 0.25, 0, wall=WALL)
    assert problem.cost_matrix is not None
    order = along_graph_order(problem)
    d = problem.cost_matrix
    assert np.allclose(np.diag(order), 0)
    assert np.all(order >= d - 1e-9)  # a path is never shorter than the straight distance
    position = {u: i for i, u in enumerate(problem.ids)}
    first, second = position["G00"], position["G01"]  # on the two sides of the wall
    # around the wall: 0 -> 3 -> 6 -> 7 -> 4 -> 1, five steps of 10 where the straight one is 10
    assert order[first, second] == pytest.approx(0.5 * (10 + 50))


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(3))
def test_tree_model_with_another_order_matches_brute_force(seed: int) -> None:
    problem = _grid_problem(3, 3, 2, 0.25, seed, wall=WALL)
    order = along_graph_order(problem)
    candidates = list(range(problem.n))
    expected = _tree_optimum(problem, candidates, order)
    assert np.isfinite(expected)
    plan = tree_plan(problem, np.array(candidates), 30.0, order=order)
    assert plan is not None and plan.optimal
    _check_plan(problem, plan.labels, plan.centers)
    for i in range(problem.n):
        assert _tree_ok(problem, plan.labels, tuple(plan.centers.tolist()), i, order)
    assert plan_score(problem, plan.labels, plan.centers)[1] == pytest.approx(expected, rel=1e-6)


def test_tree_model_with_few_candidates_and_a_start() -> None:
    problem = _grid_problem(4, 3, 2, 0.2, 7)
    candidates = [0, 5, 6, 11]
    expected = _tree_optimum(problem, candidates)
    assert np.isfinite(expected)
    first = tree_plan(problem, np.array(candidates), 30.0)
    assert first is not None
    assert set(first.centers.tolist()) <= set(candidates)
    # the optimum offered as a start comes back unchanged
    again = tree_plan(problem, np.array(candidates), 30.0, start=(first.labels, first.centers))
    assert again is not None
    assert plan_score(problem, again.labels, again.centers)[1] == pytest.approx(expected, rel=1e-6)


@pytest.mark.slow
def test_descent_keeps_territories_connected_and_in_range() -> None:
    inside = 0
    for seed in range(30):
        rng = np.random.default_rng(seed)
        problem = _grid_problem(5, 4, 3, 0.15, seed)
        assert problem.cost_matrix is not None
        terr = _Territories(problem, problem.weight[:, None] * problem.cost_matrix**2)
        center = int(rng.integers(problem.n))
        w = rng.normal(size=problem.n) * 3
        members = terr.grow(center, w, rng, 0.5)
        result = terr.descend(members, center, w)
        assert result[center]
        assert terr._connected(result, center)
        if terr.fits(members):
            # a set inside its ranges stays inside and never gets dearer
            inside += 1
            assert terr.fits(result)
            assert w[result].sum() <= w[members].sum() + 1e-9
    assert inside >= 5


def test_connectivity_check_matches_networkx() -> None:
    problem = _grid_problem(5, 5, 2, 0.5, 3)
    terr = _Territories(problem, np.zeros((problem.n, problem.n)))
    graph = nx.Graph(list(zip(*problem.edges, strict=True)))
    rng = np.random.default_rng(0)
    answers = set()
    for _ in range(50):
        members = np.zeros(problem.n, dtype=bool)
        members[rng.choice(problem.n, size=12, replace=False)] = True
        center = int(np.flatnonzero(members)[0])
        expected = nx.is_connected(graph.subgraph(np.flatnonzero(members).tolist()))
        assert terr._connected(members, center) == expected
        answers.add(expected)
    assert answers == {True, False}  # both cases were met


@pytest.mark.slow
def test_column_generation_starts_from_a_plan_and_improves_it() -> None:
    problem = _grid_problem(6, 5, 3, 0.1, 11)
    # a start plan: the tree model over a few centers
    start = tree_plan(problem, np.array([0, 2, 4, 12, 15, 27]), 30.0)
    assert start is not None
    start_score = plan_score(problem, start.labels, start.centers)
    found = column_centers(problem, start.labels, 20.0, random_state=0)
    assert found.columns >= problem.k
    assert found.weight.sum() == pytest.approx(problem.k, rel=1e-6)
    assert found.pairs.shape == (problem.n, problem.n)
    assert found.pairs[found.centers, found.centers].all()
    # the LP holds the start's territories, so it is no dearer than the start
    assert found.value <= start_score[1] * (1 + 1e-9)
    plan = column_plan(problem, 30.0, start=(start.labels, start.centers), random_state=0)
    assert plan is not None
    _check_plan(problem, plan.labels, plan.centers)
    assert plan_score(problem, plan.labels, plan.centers) <= start_score


def test_column_generation_without_a_start_finds_a_plan() -> None:
    # From the slack columns alone, with many small territories (k = n / 2): every round
    # must price with its own duals, not stop after a round of repeated finds.
    problem = _grid_problem(4, 4, 8, 1.0, 0)
    found = column_centers(problem, None, 10.0, random_state=0)
    assert found.plan is not None
    _check_plan(problem, *found.plan)
    assert len(found.centers) == problem.k


def test_tree_model_keeps_a_candidate_no_territory_was_centred_on() -> None:
    problem = _grid_problem(4, 4, 2, 0.3, 1)
    alone = tree_plan(problem, np.array([0, 15]), 10.0)
    assert alone is not None
    pairs = np.ones((problem.n, problem.n), dtype=bool)
    pairs[:, 5] = False  # unit 5 was never a center of a territory found
    plan = tree_plan(problem, np.array([0, 5, 15]), 10.0, pairs=pairs)
    assert plan is not None
    _check_plan(problem, plan.labels, plan.centers)
    score = plan_score(problem, plan.labels, plan.centers)
    assert score <= plan_score(problem, alone.labels, alone.centers)


def test_start_territories_in_pieces_stay_out_of_the_lp() -> None:
    problem = _grid_problem(4, 4, 2, 0.6, 3)
    checkerboard = np.array([(i // 4 + i % 4) % 2 for i in range(problem.n)])
    assert np.all(problem.loads_of(checkerboard) <= problem.upper)  # in range, in pieces
    # no time for pricing: the LP holds only its own compact territories, one per unit that
    # has one, and none of the start's two
    found = column_centers(problem, checkerboard, 0.0, random_state=0)
    alone = column_centers(problem, None, 0.0, random_state=0)
    assert 0 < found.columns == alone.columns <= problem.n
    plan = column_plan(problem, 5.0, start=(checkerboard, np.array([0, 1])), random_state=0)
    assert plan is not None
    _check_plan(problem, plan.labels, plan.centers)


def _territories_lp_and_optimum(problem: Problem) -> tuple[float, float]:
    """By enumeration: every connected set of units inside its ranges, at its best center;
    the territories LP over all of them (scipy linprog) and the best plan (scipy milp)."""
    from scipy.optimize import Bounds, LinearConstraint, linprog, milp

    n = problem.n
    cost = problem.costs(np.arange(n))
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(zip(*problem.edges, strict=True))
    columns, prices = [], []
    for mask in range(1, 2**n):
        members = [i for i in range(n) if mask >> i & 1]
        load = problem.loads[members].sum(axis=0)
        if np.any(load < problem.lower[0] - 1e-9) or np.any(load > problem.upper[0] + 1e-9):
            continue
        if nx.is_connected(graph.subgraph(members)):
            columns.append(members)
            prices.append(float(cost[members].sum(axis=0)[members].min()))
    a = np.zeros((n + 1, len(columns)))
    for c, members in enumerate(columns):
        a[members, c] = 1.0
    a[n] = 1.0
    b = np.concatenate([np.ones(n), [problem.k]])
    lp = linprog(prices, A_eq=a, b_eq=b, bounds=(0, None), method="highs")
    ip = milp(
        prices,
        constraints=LinearConstraint(a, b, b),
        integrality=np.ones(len(columns)),
        bounds=Bounds(0, 1),
    )
    assert lp.status == 0 and ip.status == 0
    return float(lp.fun), float(ip.fun)


@pytest.mark.parametrize(
    ("nx_", "ny", "k", "tol", "seed"),
    [(4, 3, 2, 0.2, 0), (4, 3, 3, 0.3, 1), (4, 3, 2, 0.1, 2), (4, 3, 3, 0.2, 5)],
)
def test_column_generation_against_the_enumerated_lp_and_optimum(
    nx_: int, ny: int, k: int, tol: float, seed: int
) -> None:
    problem = _grid_problem(nx_, ny, k, tol, seed)
    lp_value, optimum = _territories_lp_and_optimum(problem)
    assert lp_value <= optimum * (1 + 1e-9)
    found = column_centers(problem, None, 10.0, random_state=0)
    # the LP over the territories found cannot beat the LP over all of them
    assert found.value >= lp_value * (1 - 1e-9)
    plan = column_plan(problem, 10.0, random_state=0)
    assert plan is not None
    _check_plan(problem, plan.labels, plan.centers)
    assert plan_score(problem, plan.labels, plan.centers)[1] >= optimum * (1 - 1e-9)
    # started from its own plan, it returns one no worse
    again = column_plan(problem, 10.0, start=(plan.labels, plan.centers), random_state=0)
    assert again is not None
    assert plan_score(problem, again.labels, again.centers) <= plan_score(
        problem, plan.labels, plan.centers
    )


def test_column_plan_reaches_the_optimum_on_a_tiny_grid() -> None:
    # With the start's territories and the greedy pricing alone, this LP ended at 8,513.05,
    # 2.4 % above the optimum (8,310.63, also the LP's true value): the LP now also starts
    # with a compact territory around every unit.
    problem = _grid_problem(4, 3, 2, 0.1, 2)
    _, optimum = _territories_lp_and_optimum(problem)
    plan = column_plan(problem, 10.0, random_state=0)
    assert plan is not None
    assert plan_score(problem, plan.labels, plan.centers)[1] == pytest.approx(optimum, rel=1e-9)


def test_column_plan_finds_a_plan_without_a_start() -> None:
    # From no start the LP once kept its slack columns and no plan came out, though one
    # exists (optimum 14,815.75): its compact territories now give it a plan to price from.
    problem = _grid_problem(4, 4, 2, 0.2, 3)
    plan = column_plan(problem, 10.0, random_state=0)
    assert plan is not None
    _check_plan(problem, plan.labels, plan.centers)
