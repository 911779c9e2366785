"""Shared fixtures (every plan is checked with geoterr.testing.assert_valid_plan)."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

import geoterr as gt

# Tests that drive a real browser, or read the plan folder of a real `geoterr demo` run,
# belong to the slow tier (python -m pytest -m "not slow" leaves them out).
SLOW_FIXTURES = ("browser", "demo_dir")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if any(name in getattr(item, "fixturenames", ()) for name in SLOW_FIXTURES):
            item.add_marker(pytest.mark.slow)


def make_customers(n: int = 200, *, seed: int = 0, clustered: bool = False) -> pd.DataFrame:
    """Random customers in a 2 x 1.5 degree box around Kansas, with workload and revenue."""
    rng = np.random.default_rng(seed)
    if clustered:
        centres = rng.uniform([-99, 37], [-97, 38.5], size=(5, 2))
        pick = rng.integers(0, 5, n)
        lonlat = centres[pick] + rng.normal(scale=0.15, size=(n, 2))
    else:
        lonlat = rng.uniform([-99, 37], [-97, 38.5], size=(n, 2))
    return pd.DataFrame(
        {
            "account_id": [f"C{i:04d}" for i in range(n)],
            "name": [f"Customer {i}" for i in range(n)],
            "latitude": lonlat[:, 1].round(5),
            "longitude": lonlat[:, 0].round(5),
            "workload": rng.integers(1, 20, n).astype(float),
            "annual_revenue": rng.lognormal(10, 0.5, n).round(2),
        }
    )


def grid_customers(nx_: int = 5, ny: int = 4) -> pd.DataFrame:
    """One customer per cell of an nx_ x ny grid, spaced 0.1 degree, workload 1."""
    xs, ys = np.meshgrid(np.arange(nx_), np.arange(ny))
    n = nx_ * ny
    return pd.DataFrame(
        {
            "account_id": [f"G{i:02d}" for i in range(n)],
            "latitude": 40 + 0.1 * ys.ravel(),
            "longitude": -100 + 0.1 * xs.ravel(),
            "workload": np.ones(n),
        }
    )


# Module scope: the library never mutates its inputs (a test that does must copy), so the
# tests of one module share one read and one set of units.
@pytest.fixture(scope="module")
def customers() -> gpd.GeoDataFrame:
    return gt.read_customers(make_customers(), measures=["workload", "annual_revenue"])


@pytest.fixture(scope="module")
def units(customers: gpd.GeoDataFrame) -> gt.Units:
    return gt.build_units(customers, measures=["workload", "annual_revenue"])


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the geoterr command in a subprocess, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "geoterr.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
        check=False,
    )


def run_main(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the geoterr command in this process (``geoterr.cli.main``), from ``cwd``, with its
    output captured: the same exit code, stdout and stderr as :func:`run_cli` without the
    seconds of a new interpreter importing geoterr. Keep :func:`run_cli` for what needs a
    real process (the entry point, signals, kills)."""
    from geoterr.cli import main

    out, err = io.StringIO(), io.StringIO()
    package_log = logging.getLogger("geoterr")
    level, handlers = package_log.level, list(package_log.handlers)
    here = os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as stop:  # argparse: --help, usage errors
                code = stop.code if isinstance(stop.code, int) else 1
    finally:
        os.chdir(here)
        package_log.setLevel(level)
        package_log.handlers[:] = handlers
    return subprocess.CompletedProcess(
        ["geoterr", *args], code, stdout=out.getvalue(), stderr=err.getvalue()
    )


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The plan folder written by `geoterr demo` (run once per test session)."""
    out = tmp_path_factory.mktemp("demo") / "plan"
    result = run_cli("demo", "--out", str(out), cwd=out.parent)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "designing 12 territories" in result.stderr  # progress messages
    return out


MAP_DRAWN = "(window.geoterrMaps || []).length > 0"


def map_frames(
    page: object, count: int, *, ready: str = MAP_DRAWN, timeout: float = 60.0
) -> list[object]:
    """Return the page's first ``count`` child frames once ``ready`` holds in each.

    ``ready`` is a JavaScript expression (by default: the frame has drawn a geoterr map).
    The frames are looked up afresh on every poll: Chromium may move a (sandboxed) frame into
    another process while it loads, which leaves the frame first listed detached for good.
    Fails with what the frames showed when they are not ready within ``timeout`` seconds.
    """
    import time

    deadline = time.monotonic() + timeout
    seen: list[str] = []
    while True:
        frames = [f for f in page.frames[1:] if not f.is_detached()]  # type: ignore[attr-defined]
        seen = []
        for frame in frames[:count]:
            try:
                seen.append(str(bool(frame.evaluate(ready))))
            except Exception as exc:  # a frame being replaced: poll again
                seen.append(type(exc).__name__)
        if len(frames) >= count and all(s == "True" for s in seen):
            return frames[:count]
        if time.monotonic() > deadline:
            urls = [f.url for f in page.frames]  # type: ignore[attr-defined]
            msg = f"{ready!r} not true in {count} frame(s) after {timeout:g} s: {urls}, {seen}"
            raise AssertionError(msg)
        page.wait_for_timeout(100)  # type: ignore[attr-defined]
