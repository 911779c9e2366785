"""Extra files of a plan folder: the rep roster and the regions.

:func:`geoterr.io.plans.save_plan` and :func:`geoterr.io.plans.load_plan` call these
hooks, so the roster (``roster.csv``) and the regions (``regions.geojson``) travel with the
plan and the map shows them.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from geoterr.io.csv_safety import restore, write_csv

__all__ = ["EXTRA_FILES", "load_extras", "save_extras"]

EXTRA_FILES = ("roster.csv", "regions.geojson")


def save_extras(plan: Any, folder: Path) -> None:
    """Write ``roster.csv`` and ``regions.geojson`` into the (temporary) plan folder.

    The map draws them through :meth:`geoterr.Plan.map`.
    """
    roster = getattr(plan, "roster", None)
    regions = getattr(plan, "regions", None)
    if roster is not None:
        write_csv(roster, folder / "roster.csv", index=False)
    if regions is not None:
        regions.reset_index().to_file(folder / "regions.geojson", driver="GeoJSON")


def load_extras(folder: Path, plan: Any) -> Any:
    """``plan`` with the roster and regions read back from ``folder`` (when present).

    Both are read as exactly what :func:`save_extras` writes (CSV by pandas, GeoJSON parsed as
    strict JSON, never handed to GDAL); a damaged file raises an :class:`InputError` naming it.
    """
    from geoterr.io.plan_readers import plan_file

    folder = Path(folder)
    changes: dict[str, Any] = {}
    if (folder / "roster.csv").exists() or (folder / "roster.csv").is_symlink():
        changes["roster"] = _read_roster(plan_file(folder, "roster.csv"))
    if (folder / "regions.geojson").exists() or (folder / "regions.geojson").is_symlink():
        changes["regions"] = _read_regions(plan_file(folder, "regions.geojson"))
    return dataclasses.replace(plan, **changes) if changes else plan


def _read_roster(path: Path) -> pd.DataFrame:
    from geoterr.io.plan_readers import _bad

    try:
        roster = restore(pd.read_csv(path, dtype={"rep": str, "territory": str}))
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise _bad(path, f"cannot be read as a CSV table ({type(exc).__name__})") from None
    if not {"rep", "territory"} <= set(roster.columns):
        raise _bad(path, "has no rep and territory columns")
    if "kept" in roster.columns:
        roster["kept"] = roster["kept"].map(
            {True: True, False: False, "True": True, "False": False}
        )
    return roster


def _read_regions(path: Path) -> gpd.GeoDataFrame:
    import shapely.geometry

    from geoterr.io.plan_readers import _bad, strict_json

    data = strict_json(path)
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(features, list) or data.get("type") != "FeatureCollection":
        raise _bad(path, "is not a GeoJSON FeatureCollection")
    rows, shapes = [], []
    for i, feature in enumerate(features):
        properties = feature.get("properties") if isinstance(feature, dict) else None
        if not isinstance(properties, dict) or not isinstance(properties.get("region"), str | int):
            raise _bad(path, f"feature {i} has no region name")
        try:
            geometry = feature.get("geometry")
            shapes.append(None if geometry is None else shapely.geometry.shape(geometry))
        except Exception as exc:  # shapely raises many kinds for malformed coordinates
            raise _bad(
                path, f"feature {i} has malformed coordinates ({type(exc).__name__})"
            ) from None
        rows.append(properties)
    regions = gpd.GeoDataFrame(pd.DataFrame(rows), geometry=shapes, crs=4326)
    regions["region"] = regions["region"].astype(str)
    regions = regions.set_index("region")
    if "parent" in regions.columns:
        regions["parent"] = regions["parent"].where(regions["parent"].notna(), None)
    return regions
