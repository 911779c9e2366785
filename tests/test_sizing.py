"""Sales-force sizing on a constructed instance with a known answer."""

from __future__ import annotations

import pytest
from conftest import grid_customers

import geoterr as gt


@pytest.fixture(scope="module")
def grid() -> gt.Units:
    """24 customers of workload 1 on a 6 x 4 grid: a rep carrying 4 needs 6 territories."""
    customers = gt.read_customers(grid_customers(6, 4), measures=["workload"])
    return gt.build_units(customers, measures=["workload"])


@pytest.mark.slow
def test_smallest_k_meeting_the_target(grid: gt.Units) -> None:
    sizing = gt.size_territories(
        grid, workload_per_rep=4, k_range="4:8", balance={"workload": 0.0}, time_limit=10
    )
    table = sizing.table
    assert list(table.index) == [4, 5, 6, 7, 8]
    # k=5 and k=7 cannot split 24 evenly: no exact balance; k=4 leaves 6 per rep.
    assert table.loc[4, "max_workload"] == pytest.approx(6)
    assert table.loc[6, "max_workload"] == pytest.approx(4)
    assert table.loc[6, "meets_target"] and not table.loc[4, "meets_target"]
    assert not table.loc[5, "meets_target"] and not table.loc[7, "meets_target"]
    assert sizing.recommended == 6 and "6 territories" in sizing.note
    assert table["workload_per_rep"].to_dict() == pytest.approx({k: 24 / k for k in range(4, 9)})
    figure = sizing.figure()
    assert len(figure.axes) == 3


def test_no_k_meets_an_impossible_target(grid: gt.Units) -> None:
    sizing = gt.size_territories(grid, workload_per_rep=4, k_range=[3, 4], time_limit=5)
    assert sizing.recommended is None
    assert "no k in 3..4 meets 4 per rep" in sizing.note and "needs 6" in sizing.note


@pytest.mark.slow
def test_default_range_around_the_workload(grid: gt.Units) -> None:
    sizing = gt.size_territories(grid, workload_per_rep=8, time_limit=5, keep_plans=True)
    assert list(sizing.table.index) == list(range(1, 8))  # ceil(24 / 8) = 3: 1 .. 7
    assert set(sizing.plans) <= set(range(1, 8))


def test_bad_sizing_arguments(grid: gt.Units) -> None:
    with pytest.raises(gt.InputError, match="give `workload_per_rep`"):
        gt.size_territories(grid)
    with pytest.raises(gt.InputError, match="`workload_per_rep` must be a positive number"):
        gt.size_territories(grid, workload_per_rep=0, k_range="2:3")
    with pytest.raises(gt.InputError, match="give LOW:HIGH"):
        gt.size_territories(grid, k_range="a:b")
    with pytest.raises(gt.InputError, match="`measure` 'hours' is not a measure"):
        gt.size_territories(grid, measure="hours", k_range="2:3")
