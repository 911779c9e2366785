"""geoterr.testing.assert_valid_plan: passes honest plans, and catches each kind of broken one
(built by editing a good plan, so that each check is shown to fail on its own)."""

from __future__ import annotations

import doctest
import warnings
from dataclasses import replace

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from conftest import grid_customers

import geoterr as gt
import geoterr.testing
from geoterr.testing import assert_valid_plan


@pytest.fixture(scope="module")
def units() -> gt.Units:
    """A 6 x 4 grid of points, one customer each, workload 1..24 in a pattern."""
    frame = grid_customers(6, 4)
    frame["workload"] = 1.0 + np.arange(24) % 3
    return gt.build_units(gt.read_customers(frame), "points", measures=["workload"])


@pytest.fixture(scope="module")
def plan(units: gt.Units) -> gt.Plan:
    return gt.design(units, 4, balance={"workload": 0.1}, time_limit=30)


def moved_between(plan: gt.Plan, units: gt.Units) -> tuple[object, str]:
    """A unit on a territory border and a neighbouring territory to move it to."""
    labels = plan.assignment
    for u, v in units.graph.edges:
        if labels[u] != labels[v]:
            return u, str(labels[v])
    msg = "no border"
    raise AssertionError(msg)


def with_assignment(plan: gt.Plan, assignment: pd.Series) -> gt.Plan:
    """The plan with another assignment: customers follow their units, the territories'
    totals and contiguity are recomputed (the status and problems are left as they were)."""
    assert plan.customers is not None and plan.units is not None
    units = plan.units
    customers = plan.customers.copy()
    customers["territory"] = assignment.reindex(customers["unit"]).to_numpy()
    table = plan.territories.copy()
    totals = units.gdf.groupby(assignment)["workload"].sum()
    table["workload"] = totals.reindex(table.index).fillna(0.0)
    table["contiguous"] = [
        bool((assignment == t).any())
        and nx.is_connected(units.graph.subgraph(assignment.index[assignment == t]))
        for t in table.index
    ]
    return replace(plan, assignment=assignment, customers=customers, territories=table)


def test_a_designed_plan_passes(plan: gt.Plan) -> None:
    assert plan.status == "feasible"
    assert_valid_plan(plan, feasible=True)
    with pytest.raises(AssertionError, match="expected to break a promise"):
        assert_valid_plan(plan, feasible=False)


def test_a_unit_missing_or_twice_or_in_no_territory(plan: gt.Plan) -> None:
    with pytest.raises(AssertionError, match=r"1 units are in no territory \(G"):
        assert_valid_plan(replace(plan, assignment=plan.assignment.iloc[1:]))
    twice = pd.concat([plan.assignment, plan.assignment.iloc[:2]])
    with pytest.raises(AssertionError, match="2 units are assigned more than once"):
        assert_valid_plan(replace(plan, assignment=twice))
    gap = plan.assignment.copy()
    gap.iloc[3] = None
    with pytest.raises(AssertionError, match="1 units have no territory"):
        assert_valid_plan(replace(plan, assignment=gap))
    other = plan.assignment.copy()
    other.iloc[0] = "T99"
    with pytest.raises(AssertionError, match=r"territories the plan does not have \(T99\)"):
        assert_valid_plan(replace(plan, assignment=other))


def test_a_customer_outside_its_units_territory(plan: gt.Plan) -> None:
    assert plan.customers is not None
    customers = plan.customers.copy()
    first = customers.index[0]
    elsewhere = next(t for t in plan.territories.index if t != customers.loc[first, "territory"])
    customers.loc[first, "territory"] = elsewhere
    with pytest.raises(AssertionError, match=rf"1 customers are not in their unit's.*{first}"):
        assert_valid_plan(replace(plan, customers=customers))


def test_a_territory_in_pieces_or_empty(plan: gt.Plan, units: gt.Units) -> None:
    labels = plan.assignment.copy()
    # swap two far corners' territories: both territories come apart
    a, b = units.gdf.index[0], units.gdf.index[-1]
    labels[a], labels[b] = labels[b], labels[a]
    with pytest.raises(AssertionError, match=r"marked 'feasible'.*is in 2 pieces"):
        assert_valid_plan(with_assignment(plan, labels), balance={})
    empty = plan.assignment.copy()
    empty[empty == "T01"] = "T02"
    with pytest.raises(AssertionError, match="territory T01 is empty"):
        assert_valid_plan(with_assignment(plan, empty), balance={})


def test_relative_balance(plan: gt.Plan, units: gt.Units) -> None:
    unit, to = moved_between(plan, units)
    labels = plan.assignment.copy()
    frm = labels[unit]
    labels[unit] = to
    loads = units.gdf.groupby(labels)["workload"].sum()
    mean = units.gdf["workload"].sum() / 4
    # the same plan passes a tolerance wide enough and fails the one asked (numbers shown)
    wide = float((loads / mean - 1).abs().max()) + 1e-6
    broken = with_assignment(plan, labels)
    assert (loads / mean - 1).abs().max() > 0.1  # one unit weighs 1 to 3 of about 12
    with pytest.raises(AssertionError, match=rf"territory ({frm}|{to}) has workload .*%"):
        assert_valid_plan(broken, balance={"workload": 0.1})
    with pytest.raises(AssertionError, match=r"outside \+-0\.00%"):
        assert_valid_plan(plan, balance={"workload": 0.0})
    # (contiguity may break too when the unit was a bridge; only balance is asked here)
    try:
        assert_valid_plan(broken, balance={"workload": wide})
    except AssertionError as error:
        assert "workload" not in str(error), error


def test_absolute_bounds(plan: gt.Plan, units: gt.Units) -> None:
    loads = units.gdf.groupby(plan.assignment)["workload"].sum()
    assert_valid_plan(plan, balance={"workload": (float(loads.min()), float(loads.max()))})
    with pytest.raises(AssertionError, match=r"has workload .* outside \[.*\]"):
        assert_valid_plan(plan, balance={"workload": (float(loads.min()) + 1, 1000.0)})


def test_capacity(units: gt.Units) -> None:
    plan = gt.design(units, 3, balance={"workload": 0.1}, capacity=[1, 1, 0.5], time_limit=30)
    assert_valid_plan(plan, feasible=True)  # from plan.params["capacity"]
    with pytest.raises(AssertionError, match="workload"):
        assert_valid_plan(plan, capacity=[1, 1, 1])


def test_locked_units(units: gt.Units) -> None:
    a, b = units.gdf.index[0], units.gdf.index[-1]
    plan = gt.design(units, 4, balance={"workload": 0.1}, locked={a: "x", b: "y"}, time_limit=30)
    assert_valid_plan(plan, locked={a: "x", b: "y"}, feasible=True)
    with pytest.raises(AssertionError, match="units locked together are in several"):
        assert_valid_plan(plan, locked={a: "x", b: "x"})
    with pytest.raises(AssertionError, match="units locked to different territories share"):
        assert_valid_plan(plan, locked={a: "x", units.gdf.index[1]: "y"})


def test_locked_to_named_territories(plan: gt.Plan, units: gt.Units) -> None:
    centers = plan.centers[["longitude", "latitude"]]
    first = units.gdf.index[0]
    home = str(plan.assignment[first])
    fixed = gt.design(
        units, 4, balance={"workload": 0.1}, centers=centers, locked={first: home}, time_limit=30
    )
    assert_valid_plan(fixed, locked={first: home}, feasible=True)
    other = next(t for t in fixed.territories.index if t != home)
    with pytest.raises(AssertionError, match=rf"1 locked units left.*{first} in {home} not"):
        assert_valid_plan(fixed, locked={first: other})


def test_realignment_budget_and_kept_territories(plan: gt.Plan, units: gt.Units) -> None:
    assert plan.units is not None and plan.units.customers is not None
    customers = plan.units.customers.copy()
    # the current plan: three territories of two columns each, for four territories now
    column = np.round((customers["longitude"] + 100) / 0.1).astype(int) // 2
    customers["current"] = "C" + column.astype(str)
    current = gt.build_units(customers, "points", measures=["workload"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gt.GeoterrWarning)
        re = gt.design(
            current, 4, balance={"workload": 0.1}, current="current", max_moved=10, time_limit=30
        )
    assert re.params["moved_units"] <= 10
    # (its lower bound is wrong: test_realignment_bound_is_below_the_objective)
    re = replace(re, lower_bound=None)
    assert_valid_plan(re)
    moved = re.params["moved_units"]
    assert moved > 0  # the new territory takes units from the others
    with pytest.raises(AssertionError, match=rf"moves {moved} customers .*budget"):
        assert_valid_plan(re, max_moved=moved - 1)
    with pytest.raises(AssertionError, match=r"moved_units'\] is 0 but"):
        assert_valid_plan(replace(re, params={**re.params, "moved_units": 0}))
    kept = next(t for t in ("C0", "C1", "C2") if (re.assignment[current.gdf.index] != t).any())
    changed = (re.customers["territory_before"] == kept) != (re.customers["territory"] == kept)
    assert changed.any()
    with pytest.raises(AssertionError, match=rf"kept territory {kept} changed"):
        assert_valid_plan(re, keep_territories=[kept])
    with pytest.raises(gt.InputError, match="territory_before"):
        assert_valid_plan(plan, max_moved=3)


def test_realignment_bound_is_below_the_objective(units: gt.Units) -> None:
    assert units.customers is not None
    customers = units.customers.copy()
    column = np.round((customers["longitude"] + 100) / 0.1).astype(int) // 2
    customers["current"] = "C" + column.astype(str)
    current = gt.build_units(customers, "points", measures=["workload"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gt.GeoterrWarning)
        re = gt.design(
            current, 4, balance={"workload": 0.1}, current="current", max_moved=10, time_limit=30
        )
    assert_valid_plan(re)


def test_a_violated_plan_must_name_what_it_breaks(plan: gt.Plan, units: gt.Units) -> None:
    labels = plan.assignment.copy()
    a, b = units.gdf.index[0], units.gdf.index[-1]
    labels[a], labels[b] = labels[b], labels[a]
    broken = with_assignment(plan, labels)
    pieces = [
        f"territory {t} is in 2 pieces (not contiguous)" for t in {str(labels[a]), str(labels[b])}
    ]
    honest = replace(broken, status="violated", problems=tuple(pieces))
    assert_valid_plan(honest, balance={})
    with pytest.raises(AssertionError, match="expected feasible but is 'violated'"):
        assert_valid_plan(honest, balance={}, feasible=True)
    silent = replace(broken, status="violated", problems=(pieces[0],))
    assert len(pieces) == 2
    with pytest.raises(AssertionError, match="1 promises its problems do not name"):
        assert_valid_plan(silent, balance={})
    with pytest.raises(AssertionError, match="disagrees with its 1 problems"):
        assert_valid_plan(replace(plan, problems=("territory T01 is empty",)))


def test_the_plans_own_numbers_must_be_true(plan: gt.Plan) -> None:
    table = plan.territories.copy()
    table.loc[table.index[0], "workload"] += 1
    with pytest.raises(AssertionError, match="reports workload totals that are not"):
        assert_valid_plan(replace(plan, territories=table))
    table = plan.territories.copy()
    table.loc[table.index[0], "contiguous"] = False
    with pytest.raises(AssertionError, match="contiguous=False but it is connected"):
        assert_valid_plan(replace(plan, territories=table))
    assert plan.objective is not None
    with pytest.raises(AssertionError, match="lower bound .* is above the objective"):
        assert_valid_plan(replace(plan, lower_bound=plan.objective * 1.01))
    with pytest.raises(AssertionError, match="has 4 territories, asked for 5"):
        assert_valid_plan(replace(plan, params={**plan.params, "n_territories": 5}))


def test_a_plan_without_units_needs_them(plan: gt.Plan, units: gt.Units) -> None:
    bare = replace(plan, units=None)
    with pytest.raises(gt.InputError, match="`units` is needed"):
        assert_valid_plan(bare)
    assert_valid_plan(bare, units)


def test_docstring_example_runs() -> None:
    result = doctest.testmod(geoterr.testing, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 5 and result.failed == 0
