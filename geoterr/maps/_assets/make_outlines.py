"""Build ``outlines.geojson``: land, country borders and US state borders for the maps.

    python -m geoterr.maps._assets.make_outlines WORLD_ATLAS_DIR US_ATLAS_DIR

The sources are the npm packages ``world-atlas`` 2.0.2 (Natural Earth 1:50m countries and
land, public domain) and ``us-atlas`` 3.0.1 (US Census Bureau cartographic state
boundaries 2017 at 1:10m, public domain), both TopoJSON; get them with
``npm pack world-atlas@2.0.2 us-atlas@3.0.1`` and unpack each ``.tgz`` (the folder given is
the one holding ``countries-50m.json`` / ``states-10m.json``). The script decodes the
topologies itself (quantized, delta-encoded arcs), keeps

- ``land``: the land polygons (filled under the territories),
- ``country``: the arcs two countries share (land borders),
- ``state``: the arcs two US states share (state borders),
- ``world``: the land at 1:110m, coarser, filled beyond the part of the map around a plan,

simplifies them (``--tolerance`` degrees) and rounds coordinates to ``--digits`` decimals.
Coastlines are the land polygons' boundaries, so they are not stored twice. The maps clip
these to the plan's surroundings when a map is written
(:func:`geoterr.maps.outlines.outlines_near`).
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Polygon, mapping

SOURCES = {
    "world": ("world-atlas", "2.0.2", "countries-50m.json"),
    "coarse": ("world-atlas", "2.0.2", "land-110m.json"),
    "us": ("us-atlas", "3.0.1", "states-10m.json"),
}
COARSE_TOLERANCE = 0.1  # degrees, for the land far from a plan


def decode_arcs(topology: dict[str, Any]) -> list[np.ndarray]:
    """Return the topology's arcs as arrays of (lon, lat), undoing quantization and delta coding."""
    transform = topology.get("transform")
    arcs = []
    for arc in topology["arcs"]:
        xy = np.asarray(arc, dtype=float)
        if transform is not None:
            xy = np.cumsum(xy, axis=0) * transform["scale"] + transform["translate"]
        arcs.append(xy)
    return arcs


def _ring(arcs: list[np.ndarray], indices: Iterable[int]) -> np.ndarray:
    """Return a ring stitched from arcs; a negative index ``~i`` is arc ``i`` reversed."""
    parts: list[np.ndarray] = []
    for i in indices:
        arc = arcs[i] if i >= 0 else arcs[~i][::-1]
        parts.append(arc if not parts else arc[1:])
    return np.concatenate(parts)


def _polygon(arcs: list[np.ndarray], rings: list[list[int]]) -> Polygon:
    return Polygon(_ring(arcs, rings[0]), [_ring(arcs, r) for r in rings[1:]])


def decode_geometry(arcs: list[np.ndarray], geometry: dict[str, Any]) -> Any:
    """Return a TopoJSON (multi)polygon as a shapely geometry (None for other types)."""
    if geometry["type"] == "Polygon":
        return _polygon(arcs, geometry["arcs"])
    if geometry["type"] == "MultiPolygon":
        return MultiPolygon([_polygon(arcs, p) for p in geometry["arcs"]])
    return None


def _arc_users(geometries: list[dict[str, Any]]) -> Counter[int]:
    """How many geometries use each arc (in either direction)."""
    users: Counter[int] = Counter()
    for geometry in geometries:
        arcs = geometry.get("arcs") or []
        polygons = [arcs] if geometry["type"] == "Polygon" else arcs
        used = {i if i >= 0 else ~i for polygon in polygons for ring in polygon for i in ring}
        users.update(used)
    return users


def shared_borders(topology: dict[str, Any], name: str) -> MultiLineString:
    """Return the arcs that two geometries of ``topology["objects"][name]`` share, merged."""
    arcs = decode_arcs(topology)
    users = _arc_users(topology["objects"][name]["geometries"])
    lines = [LineString(arcs[i]) for i, n in sorted(users.items()) if n >= 2]
    merged = shapely.line_merge(MultiLineString(lines))
    return merged if isinstance(merged, MultiLineString) else MultiLineString([merged])


def land(topology: dict[str, Any]) -> Any:
    arcs = decode_arcs(topology)
    parts = [decode_geometry(arcs, g) for g in topology["objects"]["land"]["geometries"]]
    valid = [shapely.make_valid(p) for p in parts if p is not None]
    polygons = [
        g
        for part in valid
        for g in getattr(part, "geoms", [part])
        if isinstance(g, Polygon | MultiPolygon)
    ]
    return MultiPolygon([q for g in polygons for q in getattr(g, "geoms", [g])])


def _rounded(geom: Any, tolerance: float, digits: int) -> Any:
    simple = shapely.simplify(geom, tolerance, preserve_topology=True)
    return shapely.set_precision(simple, 10.0**-digits, mode="pointwise")


def build(world: Path, us: Path, *, tolerance: float, digits: int) -> dict[str, Any]:
    """Return the outlines as a GeoJSON FeatureCollection (see the module docstring)."""
    countries = json.loads((world / SOURCES["world"][2]).read_text(encoding="utf-8"))
    states = json.loads((us / SOURCES["us"][2]).read_text(encoding="utf-8"))
    coarse = json.loads((world / SOURCES["coarse"][2]).read_text(encoding="utf-8"))
    layers = {
        "land": (land(countries), tolerance),
        "country": (shared_borders(countries, "countries"), tolerance),
        "state": (shared_borders(states, "states"), tolerance),
        "world": (land(coarse), COARSE_TOLERANCE),
    }
    features = []
    for kind, (geom, simplify) in layers.items():
        parts = geom.geoms if hasattr(geom, "geoms") else [geom]
        for part in parts:
            simple = _rounded(part, simplify, digits if kind != "world" else 2)
            polygonal = kind in ("land", "world")
            if simple.is_empty or (polygonal and simple.area < simplify**2 * 4):
                continue
            features.append(
                {"type": "Feature", "properties": {"kind": kind}, "geometry": mapping(simple)}
            )
    sources = [
        f"{package} {version} ({file}, npm registry)" for package, version, file in SOURCES.values()
    ]
    return {
        "type": "FeatureCollection",
        "properties": {
            "sources": sources,
            "license": "public domain (Natural Earth; US Census Bureau)",
            "tolerance_degrees": tolerance,
        },
        "features": features,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("world", type=Path, help="unpacked world-atlas package folder")
    parser.add_argument("us", type=Path, help="unpacked us-atlas package folder")
    parser.add_argument("--tolerance", type=float, default=0.01)
    parser.add_argument("--digits", type=int, default=3)
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).resolve().parent / "outlines.geojson"
    )
    args = parser.parse_args()
    collection = build(args.world, args.us, tolerance=args.tolerance, digits=args.digits)
    text = json.dumps(collection, separators=(",", ":"))
    args.out.write_text(text + "\n", encoding="utf-8")
    kinds = Counter(f["properties"]["kind"] for f in collection["features"])
    print(f"{args.out}: {len(text) / 1e6:.2f} MB, features {dict(kinds)}")


if __name__ == "__main__":
    main()
