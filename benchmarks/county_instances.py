"""Build county districting instances in the published folder format, for any state.

Usage::

    python benchmarks/county_instances.py OUT_DIR [--states AR,IA,KS] [--eligible]
        [--counties us_counties_2010.gpkg] [--edges us_counties_2010_queen_edges.csv]
        [--contiguity rook] [--distance geodesic] [--compare ../shared/data/hess_counties]

Writes, per state ``ST``, the files that :func:`geoterr.datasets.read_districting_instance`
reads and that the published instances of Validi, Buchanan and Lykhovyd (Operations Research
70(2), 2022) use:

- ``ST_nodes.csv``: idx, GEOID10, NAME, TOTPOP, C_X, C_Y (lon/lat of the county's centroid),
  X_m, Y_m (the centroid in metres, NAD83 / UTM zone of the state's middle);
- ``ST_edges.csv``: i, j (idx, i < j) of adjacent counties;
- ``ST_dist_km.csv``: the n x n matrix of distances between centroids in whole kilometres;

and one row per state in ``instances.csv`` (state, n, m, k, L, U, then the published columns
left empty: there is no known optimum). k is the state's number of US House seats after the
2010 census, L = ceil(0.995 P / k) and U = floor(1.005 P / k) with P the state's population.

The published instances were built from the 2010 TIGER county files; the shared
``us_counties_2010.gpkg`` holds the 1:500k cartographic boundaries, whose coastlines differ,
so coastal centroids (and their distances) may move by a few kilometres. Adjacency is
``rook`` (a shared boundary line) by default, which is what the published edge lists are;
``queen`` adds counties that meet at a corner. Distances are ellipsoidal (WGS84) geodesics by
default; ``haversine`` is the great circle on a sphere of radius 6371.0088 km.

``--compare DIR`` compares each built state that ``DIR`` also holds with it (nodes, edges,
bounds, distances), a check of the builder against the published instances.
"""

from __future__ import annotations

import argparse
import math
import sys
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Geod

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
COUNTIES = SHARED / "us_counties_2010.gpkg"
EDGES = SHARED / "us_counties_2010_queen_edges.csv"
PUBLISHED = SHARED / "hess_counties"

# State FIPS code and US House seats apportioned after the 2010 census, for the 48
# contiguous states (the counties file has no Alaska or Hawaii; DC has no voting seat).
SEATS_2010: dict[str, tuple[str, int]] = {
    "AL": ("01", 7), "AZ": ("04", 9), "AR": ("05", 4), "CA": ("06", 53), "CO": ("08", 7),
    "CT": ("09", 5), "DE": ("10", 1), "FL": ("12", 27), "GA": ("13", 14), "ID": ("16", 2),
    "IL": ("17", 18), "IN": ("18", 9), "IA": ("19", 4), "KS": ("20", 4), "KY": ("21", 6),
    "LA": ("22", 6), "ME": ("23", 2), "MD": ("24", 8), "MA": ("25", 9), "MI": ("26", 14),
    "MN": ("27", 8), "MS": ("28", 4), "MO": ("29", 8), "MT": ("30", 1), "NE": ("31", 3),
    "NV": ("32", 4), "NH": ("33", 2), "NJ": ("34", 12), "NM": ("35", 3), "NY": ("36", 27),
    "NC": ("37", 13), "ND": ("38", 1), "OH": ("39", 16), "OK": ("40", 5), "OR": ("41", 5),
    "PA": ("42", 18), "RI": ("44", 2), "SC": ("45", 7), "SD": ("46", 1), "TN": ("47", 9),
    "TX": ("48", 36), "UT": ("49", 4), "VT": ("50", 1), "VA": ("51", 11), "WA": ("53", 10),
    "WV": ("54", 3), "WI": ("55", 8), "WY": ("56", 1),
}  # fmt: skip
# With Alaska (1) and Hawaii (2) the seats add up to the House's 435.
CONTIGUOUS_SEATS = 432
TOLERANCE = 0.005
EARTH_RADIUS_KM = 6371.0088
INSTANCE_COLUMNS = [
    "state", "n", "m", "k", "L", "U",
    "objval_hess", "time_hess", "objval_cut", "time_cut",
    "objval_lcut", "time_lcut", "objval_shir", "time_shir",
]  # fmt: skip


@dataclass
class StateInstance:
    """One state's instance, as written to the folder.

    Attributes
    ----------
    state : str
        Two-letter postal code.
    nodes : pandas.DataFrame
        idx, GEOID10, NAME, TOTPOP, C_X, C_Y, X_m, Y_m, one row per county by GEOID10.
    edges : pandas.DataFrame
        i, j (idx, i < j), sorted.
    dist_km : numpy.ndarray
        n x n integer kilometres.
    k, lower, upper : int
        Districts and the population bounds.
    notes : list of str
        What the checks found; ``odd`` is set when the instance should not be used.
    """

    state: str
    nodes: pd.DataFrame
    edges: pd.DataFrame
    dist_km: np.ndarray
    k: int
    lower: int
    upper: int
    notes: list[str] = field(default_factory=list)
    odd: bool = False


def population_bounds(population: int, k: int, tolerance: float = TOLERANCE) -> tuple[int, int]:
    """Return (L, U) = (ceil((1 - t) P / k), floor((1 + t) P / k)).

    Computed in exact integer arithmetic for t = 0.005 (P * 995 / 1000k), so that a mean
    landing on a whole number is not pushed off it by floating point.
    """
    if tolerance == TOLERANCE:
        return -(-population * 995 // (1000 * k)), population * 1005 // (1000 * k)
    mean = population / k
    return math.ceil((1 - tolerance) * mean), math.floor((1 + tolerance) * mean)


def utm_crs(lon: float, lat: float) -> str:
    """The NAD83 (north) or WGS84 UTM zone holding (lon, lat), as an EPSG code."""
    zone = int((lon + 180) // 6) + 1
    return f"EPSG:{26900 + zone}" if lat >= 0 and 1 <= zone <= 23 else f"EPSG:{32600 + zone}"


def distance_km(lon: np.ndarray, lat: np.ndarray, method: str = "geodesic") -> np.ndarray:
    """Pairwise distances between points, in km (not rounded).

    Parameters
    ----------
    lon, lat : numpy.ndarray
        Degrees.
    method : {"geodesic", "haversine"}
        Ellipsoidal (WGS84) geodesic, or great circle on a sphere of radius 6371.0088 km.
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    n = len(lon)
    if method == "haversine":
        phi, lam = np.radians(lat), np.radians(lon)
        a = (
            np.sin((phi[:, None] - phi[None, :]) / 2) ** 2
            + np.cos(phi[:, None]) * np.cos(phi[None, :])
            * np.sin((lam[:, None] - lam[None, :]) / 2) ** 2
        )  # fmt: skip
        return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
    if method != "geodesic":
        msg = f"`method` must be 'geodesic' or 'haversine', not {method!r}."
        raise ValueError(msg)
    i, j = np.triu_indices(n, 1)
    _, _, metres = Geod(ellps="WGS84").inv(lon[i], lat[i], lon[j], lat[j])
    out = np.zeros((n, n))
    out[i, j] = out[j, i] = np.asarray(metres) / 1000
    return out


def read_counties(path: str | Path = COUNTIES) -> gpd.GeoDataFrame:
    """Read the county polygons (GEOID10, STATE, NAME, TOTPOP, geometry)."""
    counties = gpd.read_file(path)
    missing = {"GEOID10", "STATE", "NAME", "TOTPOP"} - set(counties.columns)
    if missing:
        msg = f"{path} lacks the columns {sorted(missing)}."
        raise ValueError(msg)
    return counties


def polygon_edges(counties: gpd.GeoDataFrame, contiguity: str) -> pd.DataFrame:
    """Adjacent pairs of GEOID10 (a < b) from the polygons themselves.

    Queen: the polygons touch or overlap. Rook: they also share a boundary longer than 1 m
    (in the UTM zone of their middle).
    """
    middle = counties.geometry.union_all().representative_point()
    local = counties[["GEOID10", "geometry"]].to_crs(utm_crs(middle.x, middle.y))
    pairs = gpd.sjoin(local, local, predicate="intersects")
    pairs = pairs[pairs["GEOID10_left"] < pairs["GEOID10_right"]]
    if contiguity == "rook":
        geometry = local.set_index("GEOID10").geometry
        shared = [
            geometry[a].boundary.intersection(geometry[b].boundary).length > 1.0
            for a, b in zip(pairs["GEOID10_left"], pairs["GEOID10_right"], strict=True)
        ]
        pairs = pairs[np.asarray(shared, dtype=bool)]
    return pd.DataFrame(
        {"GEOID10_a": pairs["GEOID10_left"].to_numpy(), "GEOID10_b": pairs["GEOID10_right"]}
    )


def read_edges(path: str | Path, contiguity: str) -> pd.DataFrame:
    """Adjacent pairs of GEOID10 from the shared edge list (rook = its ``rook`` column)."""
    edges = pd.read_csv(path, dtype={"GEOID10_a": str, "GEOID10_b": str})
    if contiguity == "rook":
        edges = edges[edges["rook"] == 1]
    return edges[["GEOID10_a", "GEOID10_b"]]


def components(n: int, edges: pd.DataFrame) -> int:
    """Number of connected components of the graph on 0..n-1 with edges (i, j)."""
    parent = list(range(n))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for i, j in zip(edges["i"], edges["j"], strict=True):
        parent[find(int(i))] = find(int(j))
    return len({find(a) for a in range(n)})


def build_state(
    counties: gpd.GeoDataFrame,
    all_edges: pd.DataFrame | None,
    state: str,
    contiguity: str = "rook",
    distance: str = "geodesic",
) -> StateInstance:
    """Build one state's instance and check it.

    Parameters
    ----------
    counties : geopandas.GeoDataFrame
        All counties (:func:`read_counties`).
    all_edges : pandas.DataFrame or None
        GEOID10_a, GEOID10_b pairs (:func:`read_edges`); None computes them from the
        polygons.
    state : str
        Postal code, a key of ``SEATS_2010``.
    contiguity : {"rook", "queen"}
        Which adjacency.
    distance : {"geodesic", "haversine"}
        See :func:`distance_km`.

    Returns
    -------
    StateInstance
        With ``odd`` set (and a note saying why) if the counties are not one connected
        graph, there are fewer counties than districts, or a population is missing.
    """
    fips, k = SEATS_2010[state]
    rows = counties[counties["STATE"] == fips].sort_values("GEOID10").reset_index(drop=True)
    if rows.empty:
        msg = f"no counties with STATE == {fips!r} ({state}) in the counties file."
        raise ValueError(msg)
    with warnings.catch_warnings():
        # The published C_X, C_Y are centroids taken in lon/lat: do the same.
        warnings.filterwarnings("ignore", "Geometry is in a geographic CRS", UserWarning)
        centroid = rows.geometry.centroid
    lon, lat = centroid.x.to_numpy(), centroid.y.to_numpy()
    projected = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=rows.crs).to_crs(
        utm_crs(float(np.mean(lon)), float(np.mean(lat)))
    )
    nodes = pd.DataFrame(
        {
            "idx": np.arange(len(rows)),
            "GEOID10": rows["GEOID10"].to_numpy(),
            "NAME": rows["NAME"].to_numpy(),
            "TOTPOP": rows["TOTPOP"].to_numpy(),
            "C_X": lon,
            "C_Y": lat,
            "X_m": projected.x.to_numpy(),
            "Y_m": projected.y.to_numpy(),
        }
    )
    if all_edges is None:
        all_edges = polygon_edges(rows, contiguity)
    position = pd.Series(nodes["idx"].to_numpy(), index=nodes["GEOID10"])
    inside = all_edges["GEOID10_a"].isin(position.index) & all_edges["GEOID10_b"].isin(
        position.index
    )
    a = position.reindex(all_edges.loc[inside, "GEOID10_a"]).to_numpy()
    b = position.reindex(all_edges.loc[inside, "GEOID10_b"]).to_numpy()
    edges = (
        pd.DataFrame({"i": np.minimum(a, b), "j": np.maximum(a, b)})
        .drop_duplicates()
        .sort_values(["i", "j"])
        .reset_index(drop=True)
    )
    dist = np.rint(distance_km(lon, lat, distance)).astype(np.int64)
    total = int(nodes["TOTPOP"].sum())
    lower, upper = population_bounds(total, k)
    inst = StateInstance(state, nodes, edges, dist, k, lower, upper)
    parts = components(len(nodes), edges)
    if parts > 1:
        inst.odd = True
        inst.notes.append(f"the county graph has {parts} components (islands?)")
    if len(nodes) < k:
        inst.odd = True
        inst.notes.append(f"{len(nodes)} counties for {k} districts")
    if nodes["TOTPOP"].isna().any() or (nodes["TOTPOP"] < 0).any():
        inst.odd = True
        inst.notes.append("missing or negative populations")
    big = nodes[nodes["TOTPOP"] > upper]
    if len(big):
        names = ", ".join(f"{r.NAME} {r.TOTPOP:,}" for r in big.itertuples())
        inst.notes.append(f"{len(big)} counties above U = {upper:,} ({names}): infeasible")
    return inst


def write_state(inst: StateInstance, out: Path) -> None:
    """Write the three state files and put the state's row in ``out/instances.csv``."""
    out.mkdir(parents=True, exist_ok=True)
    inst.nodes.to_csv(out / f"{inst.state}_nodes.csv", index=False)
    inst.edges.to_csv(out / f"{inst.state}_edges.csv", index=False)
    np.savetxt(out / f"{inst.state}_dist_km.csv", inst.dist_km, fmt="%d", delimiter=",")
    row = dict.fromkeys(INSTANCE_COLUMNS, "")
    row.update(
        state=inst.state,
        n=len(inst.nodes),
        m=len(inst.edges),
        k=inst.k,
        L=inst.lower,
        U=inst.upper,
    )
    table_path = out / "instances.csv"
    table = pd.DataFrame([row], columns=INSTANCE_COLUMNS)
    if table_path.exists():
        old = pd.read_csv(table_path, dtype=str, keep_default_na=False)
        table = pd.concat([old[old["state"] != inst.state], table.astype(str)])
    table.to_csv(table_path, index=False)


def compare(inst: StateInstance, reference: Path) -> dict[str, object]:
    """Compare a built state with the same state in a published folder.

    Returns counts of differing nodes, edges, the bounds and how close the distances are
    (share equal in whole km, largest difference, mean relative difference).
    """
    st = inst.state
    nodes = pd.read_csv(reference / f"{st}_nodes.csv", dtype={"GEOID10": str})
    edges = pd.read_csv(reference / f"{st}_edges.csv")
    dist = np.loadtxt(reference / f"{st}_dist_km.csv", delimiter=",")
    table = pd.read_csv(reference / "instances.csv").set_index("state").loc[st]
    same_ids = nodes["GEOID10"].tolist() == inst.nodes["GEOID10"].tolist()
    result: dict[str, object] = {"state": st, "n": len(nodes), "same GEOID10 order": same_ids}
    if not same_ids:
        return result
    ours = {tuple(e) for e in inst.edges[["i", "j"]].to_numpy().tolist()}
    theirs = {(min(i, j), max(i, j)) for i, j in zip(edges["i"], edges["j"], strict=True)}
    shift = distance_km(
        np.concatenate([nodes["C_X"], inst.nodes["C_X"]]),
        np.concatenate([nodes["C_Y"], inst.nodes["C_Y"]]),
    )
    moved = np.diag(shift[: len(nodes), len(nodes) :])
    off = ~np.eye(len(nodes), dtype=bool)
    diff = (inst.dist_km - dist)[off]
    result.update(
        {
            "NAME diff": int((nodes["NAME"] != inst.nodes["NAME"]).sum()),
            "TOTPOP diff": int((nodes["TOTPOP"] != inst.nodes["TOTPOP"]).sum()),
            "centroid moved km (max)": round(float(moved.max()), 2),
            "edges (pub/ours)": f"{len(theirs)}/{len(ours)}",
            "edges only pub": len(theirs - ours),
            "edges only ours": len(ours - theirs),
            "k, L, U same": (int(table["k"]), int(table["L"]), int(table["U"]))
            == (inst.k, inst.lower, inst.upper),
            "dist equal": round(float((diff == 0).mean()), 3),
            "dist max |diff| km": int(np.abs(diff).max()),
            "dist mean rel diff": round(float((np.abs(diff) / np.maximum(dist[off], 1)).mean()), 4),
        }
    )
    return result


def eligible_states(
    counties: gpd.GeoDataFrame, k_range: tuple[int, int] = (2, 9), max_counties: int = 200
) -> list[str]:
    """States with k in ``k_range`` (inclusive) and at most ``max_counties`` counties."""
    sizes = counties["STATE"].value_counts()
    return [
        st
        for st, (fips, k) in SEATS_2010.items()
        if k_range[0] <= k <= k_range[1] and 0 < sizes.get(fips, 0) <= max_counties
    ]


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: build the chosen states into OUT_DIR and print what the checks found."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--states", default="", help="comma-separated postal codes")
    parser.add_argument(
        "--eligible",
        action="store_true",
        help="also every state with 2..9 seats and at most 200 counties",
    )
    parser.add_argument(
        "--exclude", default="", help="comma-separated states to leave out (e.g. the published)"
    )
    parser.add_argument("--counties", type=Path, default=COUNTIES)
    parser.add_argument(
        "--edges", type=Path, default=EDGES, help="edge list; 'polygons' to compute from them"
    )
    parser.add_argument("--contiguity", choices=["rook", "queen"], default="rook")
    parser.add_argument("--distance", choices=["geodesic", "haversine"], default="geodesic")
    parser.add_argument("--keep-odd", action="store_true", help="write odd states anyway")
    parser.add_argument("--compare", type=Path, default=None, help="a published folder")
    args = parser.parse_args(argv)

    if sum(k for _, k in SEATS_2010.values()) != CONTIGUOUS_SEATS:
        msg = "SEATS_2010 does not add up to 432"
        raise AssertionError(msg)
    counties = read_counties(args.counties)
    states: list[str] = [s for s in args.states.split(",") if s]
    if args.eligible:
        states += [s for s in eligible_states(counties) if s not in states]
    excluded = set(filter(None, args.exclude.split(",")))
    states = [s for s in states if s not in excluded]
    unknown = [s for s in states if s not in SEATS_2010]
    if unknown:
        parser.error(f"unknown states {unknown}; known: {', '.join(SEATS_2010)}")
    if not states:
        parser.error("no states: give --states and/or --eligible")
    all_edges = None if str(args.edges) == "polygons" else read_edges(args.edges, args.contiguity)

    built: list[dict[str, object]] = []
    comparisons: list[dict[str, object]] = []
    for state in states:
        inst = build_state(counties, all_edges, state, args.contiguity, args.distance)
        written = args.keep_odd or not inst.odd
        if written:
            write_state(inst, args.out)
        built.append(
            {
                "state": state,
                "n": len(inst.nodes),
                "m": len(inst.edges),
                "k": inst.k,
                "L": inst.lower,
                "U": inst.upper,
                "written": written,
                "notes": "; ".join(inst.notes),
            }
        )
        if args.compare is not None and (args.compare / f"{state}_nodes.csv").exists():
            comparisons.append(compare(inst, args.compare))
    with pd.option_context("display.width", 250, "display.max_colwidth", 150):
        print(pd.DataFrame(built).to_string(index=False))
        if comparisons:
            print()
            print(pd.DataFrame(comparisons).to_string(index=False))


def _check_published(states: Iterable[str] = ("WV", "OK")) -> None:
    """Build ``states`` into a temporary folder and compare them with the published ones."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        main([tmp, "--states", ",".join(states), "--compare", str(PUBLISHED)])


if __name__ == "__main__":
    main(sys.argv[1:])
