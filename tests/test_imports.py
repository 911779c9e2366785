"""The package's rooms: public names where users find them, heavy libraries loaded on use."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import geoterr as gt

ROOT = Path(__file__).resolve().parents[1]


def test_public_names_resolve() -> None:
    for name in gt.__all__:
        assert getattr(gt, name) is not None, name


def test_room_paths_give_the_public_objects() -> None:
    import geoterr.datasets
    import geoterr.io
    import geoterr.maps
    import geoterr.units

    assert geoterr.units.build_units is gt.build_units
    assert geoterr.units.Units is gt.Units
    assert geoterr.units.units_from_files is gt.units_from_files
    assert geoterr.maps.plan_map is gt.plan_map
    assert geoterr.maps.before_after_map is gt.before_after_map
    assert geoterr.io.read_customers is gt.read_customers
    assert geoterr.io.save_plan is gt.save_plan and geoterr.io.load_plan is gt.load_plan
    assert geoterr.datasets.sample_path is gt.sample_path


def test_import_leaves_optional_libraries_unloaded() -> None:
    """`import geoterr` does not load folium, matplotlib or Dask: they are imported when a map,
    a figure or the Dask path is used (and then they are)."""
    code = (
        "import json, sys, geoterr as gt; "
        "heavy = ('folium', 'matplotlib', 'dask', 'distributed', 'openpyxl'); "
        "before = [m for m in heavy if m in sys.modules]; "
        "units = gt.build_units(gt.read_customers(gt.sample_path()), measures=['workload']); "
        "plan = gt.design(units, 3, balance={'workload': 0.2}, time_limit=20); "
        "plan.map(); "
        "print(json.dumps([before, 'folium' in sys.modules]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": str(ROOT), "PATH": ""},
    )
    assert result.returncode == 0, result.stderr
    before, after_map = json.loads(result.stdout.strip().splitlines()[-1])
    assert before == []
    assert after_map
