"""The same input and seed give the same plan files on any machine, however fast or loaded.

Every step of the design stops by counts (rounds, cut rounds, simplex iterations, search
steps); the seconds are only safety nets. A slower machine is played here by a clock that runs
faster than the real one: the design then believes each step took 2.5 times as long.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import geoterr as gt
from geoterr.datasets import read_districting_instance

KANSAS = Path(__file__).parent / "data" / "kansas"
# The optimum of this instance, proven by geoterr's exact model (design/exact.py, HiGHS, 42 s
# from no start; see data/kansas/README.md).
KANSAS_OPTIMUM = 23_733.8436


def fast_clock(speed: float) -> Callable[[], float]:
    """A ``time.perf_counter`` whose seconds pass ``speed`` times as fast as real ones."""
    real = time.perf_counter
    start = real()
    return lambda: start + (real() - start) * speed


@pytest.fixture
def slow_machine(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(time, "perf_counter", fast_clock(2.5))
    yield


def files(plan: gt.Plan, folder: Path) -> dict[str, bytes]:
    plan.save(folder)
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def kansas(time_limit: float) -> gt.Plan:
    inst = read_districting_instance(KANSAS, "KS")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gt.GeoterrWarning)
        return inst.design(time_limit=time_limit, random_state=0)


@pytest.fixture(scope="module")
def kansas_plan() -> gt.Plan:
    return kansas(time_limit=300)


@pytest.mark.slow
def test_a_slower_machine_gives_the_same_files(
    kansas_plan: gt.Plan, tmp_path: Path, slow_machine: None
) -> None:
    # Before the steps stopped by counts, this design ended 0.5 % higher (2.6041e10 against
    # 2.5913e10) when its clock ran 2.5 times as fast: the final exact repair hit its 10 s.
    plan = kansas(time_limit=300)
    assert not plan.params["cut_short"] and not kansas_plan.params["cut_short"]
    assert files(plan, tmp_path / "slow") == files(kansas_plan, tmp_path / "normal")


@pytest.mark.slow
def test_kansas_reaches_its_proven_optimum(kansas_plan: gt.Plan) -> None:
    # From seed 0 the rounds settle 8.9 % above it (25,851.6); the territories LP, started
    # with a compact territory around every county, names the optimum's centers.
    inst = read_districting_instance(KANSAS, "KS")
    value = inst.objective(kansas_plan.assignment, kansas_plan.centers["unit"])
    assert kansas_plan.status == "feasible"
    assert value == pytest.approx(KANSAS_OPTIMUM, rel=1e-6)


@pytest.mark.slow
def test_kansas_with_prove_is_certified_optimal() -> None:
    # The exact model runs first and proves the plan optimal in one solve, so the
    # territories LP's bound (three rounds and most of the time here, for a bound below
    # zero, when it ran first) is not needed: nothing is cut short.
    inst = read_districting_instance(KANSAS, "KS")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gt.GeoterrWarning)
        plan = inst.design(time_limit=600, random_state=0, prove=True)
    assert inst.objective(plan.assignment, plan.centers["unit"]) == pytest.approx(
        KANSAS_OPTIMUM, rel=1e-6
    )
    assert plan.lower_bound_scope == "all plans"
    assert plan.gap is not None and 0 <= plan.gap < 1e-6
    assert not plan.params["cut_short"]
