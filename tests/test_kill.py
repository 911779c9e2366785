"""``kill -9`` during a real command-line save and replace: the plan folder is absent or
complete, an earlier plan is never lost, and the next save cleans up what was left."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import make_customers

import geoterr as gt
from geoterr.io.folders import write_file_atomically
from geoterr.io.plans import PLAN_FILES

# Real processes killed at every moment of a save: the slow tier.
pytestmark = pytest.mark.slow

HERE = Path(__file__).parent
COMMAND = ["design", "c.csv", "-k", "4", "--out", "plan", "--overwrite", "-q"]
POINTS = [
    "work folder made",
    "before plan.json",
    "writing the map",
    "before the swap",
    "after the exchange",
    "between the renames",
    "removing the old plan",
    "before the figure is put in place",
]
# The moments a save into a new folder goes through (the others need an earlier plan).
NEW_SAVE_POINTS = ["work folder made", "writing the map", "before the swap", POINTS[-1]]


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _complete(folder: Path) -> gt.Plan:
    assert set(PLAN_FILES) <= {p.name for p in folder.iterdir()}
    return gt.load_plan(folder)


def _hidden(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


@pytest.fixture(scope="module")
def earlier(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An earlier plan (3 territories) of the customers in c.csv."""
    root = tmp_path_factory.mktemp("earlier")
    make_customers(40, seed=2).to_csv(root / "c.csv", index=False)
    customers = gt.read_customers(root / "c.csv", measures=["workload"])
    plan = gt.design(gt.build_units(customers, measures=["workload"]), 3)
    return Path(plan.save(root / "plan"))


@pytest.mark.parametrize("replace", [False, True], ids=["new save", "replace"])
def test_kill_at_every_moment_of_a_save(tmp_path: Path, earlier: Path, replace: bool) -> None:
    argv = ["design", "c.csv", "-k", "4", "--figure", "fig.png", "--out", "plan", "-q"]
    if replace:
        argv.append("--overwrite")
    points = POINTS if replace else NEW_SAVE_POINTS
    for point in points:
        folder = tmp_path / point.replace(" ", "_")
        folder.mkdir()
        shutil.copy(earlier.parent / "c.csv", folder / "c.csv")
        (folder / "argv.json").write_text(json.dumps(argv))
        if replace:
            shutil.copytree(earlier, folder / "plan")
    result = subprocess.run(
        [sys.executable, str(HERE / "kill_driver.py"), str(tmp_path), *points],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith('{"point"')]
    ended = {r["point"]: r["killed"] for r in map(json.loads, lines)}
    assert set(ended) == set(points)
    old = _snapshot(earlier)
    for point in points:
        folder = tmp_path / point.replace(" ", "_")
        target = folder / "plan"
        if replace and point == "between the renames":
            # Only where the system cannot exchange two folders in one step (not Linux):
            # the earlier plan waits aside, load_plan says where, the next save puts it back.
            assert not target.exists()
            with pytest.raises(gt.InputError, match="interrupted save left the earlier plan"):
                gt.load_plan(target)
            (aside,) = [p for p in folder.iterdir() if p.name.endswith(".old")]
            assert _snapshot(aside) == old
        elif replace:
            assert target.is_dir(), f"{point}: the plan folder is missing"
            if _snapshot(target) != old:
                assert len(_complete(target).territories) == 4, point
        elif point == POINTS[-1]:  # the plan is in place, the figure not yet
            assert len(_complete(target).territories) == 4
            assert not (folder / "fig.png").exists()
        else:  # killed before the folder was put in place
            assert ended[point] and not target.exists(), point
        # The next save (here through the API) puts things right and leaves nothing behind.
        plan = gt.load_plan(target if target.exists() else earlier)
        plan.save(target, map=False, overwrite=True)
        write_file_atomically(folder / "fig.png", lambda p: p.write_bytes(b"png"))
        assert _hidden(folder) == [], (point, _hidden(folder))
    # The moments that need an earlier plan were reached in the replace run.
    if replace:
        assert all(ended.values()), ended
    else:
        assert ended["work folder made"] and ended["before the swap"]


def test_kill_from_outside_during_a_replace(tmp_path: Path, earlier: Path) -> None:
    """A real ``kill -9`` from another process, as soon as the save has begun and later."""
    shutil.copy(earlier.parent / "c.csv", tmp_path / "c.csv")
    old = _snapshot(earlier)
    for delay in (0.0, 0.15):
        target = tmp_path / "plan"
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(earlier, target)
        process = subprocess.Popen(
            [sys.executable, "-m", "geoterr.cli", *COMMAND],
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )
        deadline = time.monotonic() + 300
        while process.poll() is None and time.monotonic() < deadline:
            if any(p.name.endswith(".tmp") for p in tmp_path.iterdir()):  # saving has begun
                time.sleep(delay)
                break
            time.sleep(0.002)
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
        assert target.is_dir()
        if _snapshot(target) != old:
            assert len(_complete(target).territories) == 4
        gt.load_plan(target).save(target, map=False, overwrite=True)
        assert _hidden(tmp_path) == []
