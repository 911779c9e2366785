"""Extra files of a plan folder: the rep roster and the regions.

:func:`geoterr.plan_files.save_plan` and :func:`geoterr.plan_files.load_plan` call these
hooks, so the roster (``roster.csv``) and the regions (``regions.geojson``) travel with the
plan and the map shows them.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

__all__ = ["EXTRA_FILES", "load_extras", "save_extras"]

EXTRA_FILES = ("roster.csv", "regions.geojson")


def save_extras(
    plan: Any,
    folder: Path,
    *,
    map: bool = True,
    tiles: str | None = None,
    before: Any = None,
    reps: Any = None,
) -> None:
    """Write ``roster.csv`` and ``regions.geojson`` into the (temporary) plan folder, and
    redraw ``map.html`` with the regions layer and the roster's reps."""
    roster = getattr(plan, "roster", None)
    regions = getattr(plan, "regions", None)
    if roster is not None:
        roster.to_csv(folder / "roster.csv", index=False)
    if regions is not None:
        regions.reset_index().to_file(folder / "regions.geojson", driver="GeoJSON")
    redraw = regions is not None or (roster is not None and reps is None)
    if map and redraw and (folder / "map.html").exists():
        plan.map(tiles=tiles, before=before, reps=reps).save(str(folder / "map.html"))


def load_extras(folder: Path, plan: Any) -> Any:
    """``plan`` with the roster and regions read back from ``folder`` (when present)."""
    folder = Path(folder)
    changes: dict[str, Any] = {}
    if (folder / "roster.csv").exists():
        roster = pd.read_csv(folder / "roster.csv", dtype={"rep": str, "territory": str})
        roster["kept"] = roster["kept"].map(
            {True: True, False: False, "True": True, "False": False}
        )
        changes["roster"] = roster
    if (folder / "regions.geojson").exists():
        regions = gpd.read_file(folder / "regions.geojson").set_index("region")
        regions["parent"] = regions["parent"].where(regions["parent"].notna(), None)
        changes["regions"] = regions
    return dataclasses.replace(plan, **changes) if changes else plan
