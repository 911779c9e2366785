"""Hexagon and polygon units, pruned point graphs, custom aggregations, islands policies."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import h3
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import make_customers

import geoterr as gt
from geoterr.testing import assert_valid_plan
from geoterr.units.hex_land import cell_centers
from geoterr.units.hexes import close_gaps

COUNTIES = Path(__file__).parent / "data" / "counties"
ISLANDS = {"25019", "36085", "53055"}  # Nantucket, Richmond (Staten Island), San Juan


@pytest.fixture(scope="module")
def counties() -> gpd.GeoDataFrame:
    return gpd.read_file(COUNTIES / "counties_6_states.gpkg")


def two_towns(gap_degrees: float, n: int = 120) -> gpd.GeoDataFrame:
    """Two clusters of customers on one parallel, ``gap_degrees`` apart."""
    rng = np.random.default_rng(3)
    half = n // 2
    lon = np.concatenate([rng.uniform(-100.2, -100.0, half), rng.uniform(0, 0.2, n - half)])
    lon[half:] += -100.0 + gap_degrees
    lat = rng.uniform(40.0, 40.2, n)
    df = pd.DataFrame(
        {
            "account_id": [f"T{i:03d}" for i in range(n)],
            "latitude": lat,
            "longitude": lon,
            "workload": np.ones(n),
            "segment": np.where(np.arange(n) % 4 == 0, "key", "standard"),
        }
    )
    return gt.read_customers(df)


def assert_traceable(units: gt.Units, customers: gpd.GeoDataFrame) -> None:
    assert units.customer_unit.index.equals(customers.index)
    assert units.customer_unit.isin(units.gdf.index).all()
    assert units.gdf["customers"].sum() == len(customers)


# --- hexagons ---------------------------------------------------------------------------


def test_hex_units_hold_their_customers() -> None:
    customers = gt.read_customers(make_customers(400, clustered=True))
    with warnings.catch_warnings():  # the clusters lie far apart: links join them
        warnings.simplefilter("ignore", gt.GeoterrWarning)
        units = gt.build_units(customers, "hex", resolution=6, measures=["workload"])
    assert_traceable(units, customers)
    assert units.settings["resolution"] == 6
    for cid in customers.index[:50]:
        point = customers.geometry.loc[cid]
        cell = h3.latlng_to_cell(point.y, point.x, 6)
        assert units.customer_unit[cid] == cell
    assert all(h3.get_resolution(u) == 6 for u in units.gdf.index)
    per_unit = customers["workload"].groupby(units.customer_unit).sum()
    assert np.allclose(per_unit, units.gdf.loc[per_unit.index, "workload"])
    # Units without customers are the filled gaps, with zero measures.
    empty = units.gdf["customers"] == 0
    assert empty.sum() == units.settings["empty_units"]
    assert (units.gdf.loc[empty, "workload"] == 0).all()


def test_bare_hex_neighbours_share_an_edge() -> None:
    customers = gt.read_customers(make_customers(300))
    with pytest.warns(gt.GeoterrWarning, match="linked each"):  # bare cells: gaps between
        units = gt.build_units(customers, "hex", resolution=6, fill_gaps=0, measures=["workload"])
    cells = units.gdf.geometry
    links = {frozenset((a, b)) for a, b, _ in units.added_links}
    for a, b in units.graph.edges:
        if frozenset((a, b)) in links:
            continue
        assert h3.are_neighbor_cells(a, b)
        shared = cells.loc[a].buffer(1.0).intersection(cells.loc[b].buffer(1.0))
        assert shared.area > 0
    # and every pair of neighbouring unit cells is an edge
    ids = set(units.gdf.index)
    for a in units.gdf.index:
        for b in h3.grid_ring(a, 1):
            if b in ids:
                assert units.graph.has_edge(a, b)
    assert nx.is_connected(units.graph)


def assert_shares_tile(units: gt.Units) -> None:
    """Each hexagon unit is one polygon holding its own cell; units do not overlap; two units
    are neighbours exactly when their shapes share a border."""
    shapes = units.gdf.geometry
    assert (shapes.geom_type == "Polygon").all()
    centers = gpd.GeoSeries(gpd.points_from_xy(units.gdf["x"], units.gdf["y"]), crs=units.crs)
    assert shapes.contains(centers, align=False).all()
    arr = shapes.to_numpy()
    union = shapely.union_all(arr)
    assert shapes.area.sum() == pytest.approx(union.area, rel=1e-6)
    a, b = shapely.STRtree(arr).query(arr, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    borders = shapely.intersection(shapely.boundary(arr[a]), shapely.boundary(arr[b]))
    shared = shapely.length(borders) > 1.0
    ids = units.gdf.index
    touching = {tuple(sorted((ids[i], ids[j]))) for i, j in zip(a[shared], b[shared], strict=True)}
    edges = {tuple(sorted(e)) for e in units.graph.edges}
    assert edges == touching


def _cells(names: object) -> np.ndarray:
    return np.sort(np.array([h3.str_to_int(c) for c in names], dtype=np.uint64))


def test_hex_units_share_out_the_land() -> None:
    customers = gt.read_customers(make_customers(300, clustered=True))
    with warnings.catch_warnings():
        warnings.simplefilter("error", gt.GeoterrWarning)  # the land joins the clusters
        units = gt.build_units(customers, "hex", resolution=6, measures=["workload"])
    occupied = {h3.latlng_to_cell(p.y, p.x, 6) for p in customers.geometry}
    assert set(units.gdf.index) == occupied  # no empty units: the land is shared out
    assert (units.gdf["customers"] > 0).all() and units.settings["empty_units"] == 0
    assert units.settings["land"] == "band" and units.settings["land_cells"] > 0
    assert units.added_links == [] and nx.is_connected(units.graph)
    assert_shares_tile(units)
    # The land holds every gap up to four cells wide.
    union = shapely.union_all(units.gdf.geometry.to_numpy())
    spots = cell_centers(close_gaps(_cells(occupied), 2), units.crs)
    assert shapely.contains_xy(union, spots[:, 0], spots[:, 1]).all()


def test_hex_land_connects_towns_on_the_ground() -> None:
    customers = two_towns(0.1)  # about 8.5 km (4 cells) of empty land between the towns
    with warnings.catch_warnings():
        warnings.simplefilter("error", gt.GeoterrWarning)
        filled = gt.build_units(customers, "hex", resolution=7, measures=["workload"])
    assert filled.added_links == []  # the empty cells between the towns connect them
    assert nx.is_connected(filled.graph)
    assert filled.settings["land_cells"] > 0
    assert_shares_tile(filled)
    # one shape on the ground: the towns and the land between them
    assert shapely.union_all(filled.gdf.geometry.to_numpy()).geom_type == "Polygon"
    with pytest.warns(gt.GeoterrWarning, match="linked each to its nearest unit"):
        bare = gt.build_units(customers, "hex", resolution=7, fill_gaps=0, measures=["workload"])
    assert bare.settings["empty_units"] == 0 and bare.settings["land_cells"] == 0
    assert (bare.gdf["customers"] > 0).all()
    assert len(bare.added_links) >= 1
    assert set(bare.gdf.index) == set(filled.gdf.index)
    # Towns far apart (250 km, beyond the band around them) stay apart: linked, with a warning.
    with pytest.warns(gt.GeoterrWarning, match="linked each to its nearest unit"):
        far = gt.build_units(two_towns(3.0), "hex", resolution=7, measures=["workload"])
    assert len(far.added_links) == 1


@pytest.mark.parametrize("where", ["kansas", "pentagon"])
def test_land_neighbours_match_h3_rings(where: str) -> None:
    """The k-d tree search for neighbouring cells finds exactly H3's neighbours, also around
    a pentagon, and with holes in the set."""
    center = (
        h3.latlng_to_cell(38.0, -98.0, 6) if where == "kansas" else sorted(h3.get_pentagons(6))[3]
    )
    disk = sorted(h3.grid_disk(center, 12))
    keep = np.random.default_rng(1).random(len(disk)) < 0.7
    cells = _cells(np.asarray(disk, dtype=object)[keep])
    found = {tuple(p) for p in gt.units.hex_land.neighbour_pairs(cells).tolist()}
    assert found == {tuple(p) for p in gt.units.hexes.hex_neighbours(cells).tolist()}
    assert len(found) > len(cells)


def test_hex_land_across_the_antimeridian() -> None:
    rng = np.random.default_rng(2)
    lon = (179.6 + rng.normal(0, 0.6, 200) + 180.0) % 360.0 - 180.0  # Fiji, both sides
    table = pd.DataFrame(
        {
            "account_id": [f"F{i:03d}" for i in range(200)],
            "latitude": -17.5 + rng.normal(0, 0.4, 200),
            "longitude": lon,
            "workload": np.ones(200),
        }
    )
    units = gt.build_units(gt.read_customers(table), "hex", resolution=6, measures=["workload"])
    assert (units.gdf.geom_type == "Polygon").all() and len(units.parts) == 1
    # the band is a few thousand cells around the islands, not a band around the world
    assert 0 < units.settings["land_cells"] < 20_000
    assert units.gdf.area.sum() < 5e11  # m2


def test_hex_land_too_fine_for_sparse_customers_shares_only_the_gaps() -> None:
    customers = gt.read_customers(make_customers(50))
    with warnings.catch_warnings(record=True) as seen:  # and then links between the parts
        warnings.simplefilter("always", gt.GeoterrWarning)
        units = gt.build_units(customers, "hex", resolution=10, measures=["workload"])
    assert any("only the gaps" in str(w.message) for w in seen)
    assert units.settings["land"] == "gaps"
    assert len(units) == len({h3.latlng_to_cell(p.y, p.x, 10) for p in customers.geometry})


def test_heavy_hexagons_are_split() -> None:
    rng = np.random.default_rng(5)
    town = pd.DataFrame(
        {
            "account_id": [f"H{i:04d}" for i in range(1500)],
            "latitude": 39.0 + rng.normal(0, 0.05, 1500),  # a dense city ...
            "longitude": -95.0 + rng.normal(0, 0.05, 1500),
            "workload": np.ones(1500),
        }
    )
    town.loc[:99, "latitude"] = 39.3  # ... and 100 accounts at one address
    town.loc[:99, "longitude"] = -95.3
    customers = gt.read_customers(town)
    plain = gt.build_units(customers, "hex", resolution=5, measures=["workload"])
    units = gt.build_units(
        customers, "hex", resolution=5, measures=["workload"], max_load={"workload": 60}
    )
    assert plain.gdf["workload"].max() > 600
    assert units.settings["split_cells"] > 0
    assert_traceable(units, customers)
    assert units.gdf["workload"].sum() == pytest.approx(1500)
    one_spot = units.customer_unit["H0000"]
    heavy = units.gdf["workload"] > 60
    assert list(units.gdf.index[heavy]) == [one_spot]  # only the single address stays heavy
    # every unit descends from a cell at the base resolution, and customers keep theirs
    for cid in customers.index[::97]:
        p = customers.geometry.loc[cid]
        unit = units.customer_unit[cid]
        assert h3.get_resolution(unit) >= 5
        assert h3.cell_to_parent(unit, 5) in set(plain.gdf.index) | {
            h3.cell_to_parent(u, 5) for u in units.gdf.index
        }
        assert h3.grid_distance(unit, h3.latlng_to_cell(p.y, p.x, h3.get_resolution(unit))) <= 1
    assert nx.is_connected(units.graph) and units.added_links == []
    plan = gt.design(units, 6, balance={"workload": 0.15}, time_limit=30)
    assert_valid_plan(plan, units, balance={"workload": 0.15})
    with pytest.raises(gt.InputError, match="`max_load`.*'visits' is not a measure"):
        gt.build_units(customers, "hex", resolution=5, max_load={"visits": 3})


def test_hex_resolution_from_target_count() -> None:
    customers = gt.read_customers(make_customers(2000))
    units = gt.build_units(customers, "hex", n_units=200, fill_gaps=0, measures=["workload"])
    res = units.settings["resolution"]
    occupied = len(units)
    # the chosen resolution is the one nearest the target among its neighbours
    for other in (res - 1, res + 1):
        cells = {h3.latlng_to_cell(p.y, p.x, other) for p in customers.geometry}
        assert abs(np.log(occupied / 200)) <= abs(np.log(len(cells) / 200)) + 1e-12


def test_hex_boundary_is_shared_out() -> None:
    customers = gt.read_customers(make_customers(60))
    box = shapely.box(-99.2, 36.8, -96.8, 38.7)  # around every customer
    units = gt.build_units(customers, "hex", resolution=6, boundary=box, measures=["workload"])
    assert units.settings["land"] == "boundary"
    assert (units.gdf["customers"] > 0).all()
    inside = _cells(h3.geo_to_cells(box, 6))
    spots = cell_centers(inside, units.crs)
    union = shapely.union_all(units.gdf.geometry.to_numpy())
    assert shapely.contains_xy(union, spots[:, 0], spots[:, 1]).all()  # every cell shared out
    assert_shares_tile(units)
    assert_traceable(units, customers)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"resolution": 16}, "`resolution`"),
        ({"resolution": 2.5}, "`resolution`"),
        ({"n_units": 0}, "`n_units`"),
        ({"fill_gaps": -1}, "`fill_gaps`"),
    ],
)
def test_hex_bad_arguments(kwargs: dict[str, object], match: str) -> None:
    customers = gt.read_customers(make_customers(20))
    with pytest.raises(gt.InputError, match=match):
        gt.build_units(customers, "hex", measures=["workload"], **kwargs)  # type: ignore[arg-type]


# --- points -----------------------------------------------------------------------------


def test_points_graph_drops_edges_across_empty_space() -> None:
    customers = two_towns(2.0)  # about 170 km apart
    # two towns with nothing between them are apart: linked by the islands policy, with the
    # same warning as on every unit kind
    with pytest.warns(gt.GeoterrWarning, match="2 separate parts"):
        units = gt.build_units(customers, "points", measures=["workload"])
    town = (units.gdf["x"] > units.gdf["x"].median()).to_dict()
    across = [(a, b) for a, b in units.graph.edges if town[a] != town[b]]
    assert len(across) == 1  # the one link the graph needs to stay connected
    assert nx.is_connected(units.graph)
    assert units.settings["pruned_edges"] > 0
    with pytest.warns(gt.GeoterrWarning, match="2 separate parts"):
        everything = gt.build_units(customers, "points", measures=["workload"], prune=None)
    assert len(everything.added_links) == 1
    assert sum(town[a] != town[b] for a, b in everything.graph.edges) == 1
    with pytest.raises(gt.InputError, match="2 separate parts"):
        gt.build_units(customers, "points", measures=["workload"], islands="raise")


# --- polygons ---------------------------------------------------------------------------


def test_polygon_adjacency_matches_the_published_edges(counties: gpd.GeoDataFrame) -> None:
    edges = pd.read_csv(COUNTIES / "queen_edges_6_states.csv", dtype=str)
    for contiguity, rows in (("queen", edges), ("rook", edges[edges["rook"] == "1"])):
        units = gt.build_units(
            None,
            "polygons",
            polygons=counties,
            polygon_id="GEOID10",
            measures=["TOTPOP"],
            contiguity=contiguity,  # type: ignore[arg-type]
            islands="separate",
        )
        ours = {tuple(sorted(e)) for e in units.graph.edges}
        published = {
            tuple(sorted(e)) for e in zip(rows["GEOID10_a"], rows["GEOID10_b"], strict=True)
        }
        assert ours == published, contiguity
    assert units.gdf["TOTPOP"].sum() == counties["TOTPOP"].sum()
    assert units.gdf["customers"].sum() == 0


def test_customers_join_their_polygon(counties: gpd.GeoDataFrame) -> None:
    ma = counties[counties["STATE"] == "25"]
    rng = np.random.default_rng(0)
    inner = ma.to_crs(5070).geometry.representative_point().to_crs(4326)
    df = pd.DataFrame(
        {
            "account_id": [f"M{i:02d}" for i in range(len(inner))],
            "latitude": inner.y.to_numpy() + rng.normal(0, 1e-4, len(inner)),
            "longitude": inner.x.to_numpy(),
            "workload": np.arange(len(inner), dtype=float) + 1,
        }
    )
    customers = gt.read_customers(df)
    units = gt.build_units(
        customers,
        "polygons",
        polygons=ma,
        polygon_id="GEOID10",
        measures=["workload"],
        islands="separate",
    )
    assert_traceable(units, customers)
    expected = dict(zip(df["account_id"], ma["GEOID10"], strict=True))
    assert units.customer_unit.to_dict() == expected
    assert len(units) == len(ma)  # every county, with or without customers


def test_customers_outside_every_polygon(counties: gpd.GeoDataFrame) -> None:
    ma = counties[counties["STATE"] == "25"]
    df = pd.DataFrame(
        {
            "account_id": ["IN1", "SEA1", "SEA2"],
            "latitude": [42.36, 41.0, 42.0],
            "longitude": [-71.06, -69.0, -68.0],
            "workload": [1.0, 2.0, 3.0],
        }
    )
    customers = gt.read_customers(df)
    with pytest.raises(
        gt.InputError, match=r"2 customers lie outside every polygon \(SEA1, SEA2\)"
    ):
        gt.build_units(customers, "polygons", polygons=ma, polygon_id="GEOID10")
    with pytest.warns(gt.GeoterrWarning, match=r"2 customers .* nearest polygon: SEA1, SEA2"):
        units = gt.build_units(
            customers,
            "polygons",
            polygons=ma,
            polygon_id="GEOID10",
            outside="nearest",
            islands="separate",
        )
    assert_traceable(units, customers)
    assert units.customer_unit["SEA1"] == "25019"  # Nantucket is the nearest county


def test_bad_polygons(counties: gpd.GeoDataFrame) -> None:
    twice = pd.concat([counties.iloc[:3], counties.iloc[:1]])
    with pytest.raises(gt.InputError, match="duplicate ids"):
        gt.build_units(None, "polygons", polygons=twice, polygon_id="GEOID10")
    with pytest.raises(gt.InputError, match="`polygon_id`"):
        gt.build_units(None, "polygons", polygons=counties, polygon_id="FIPS")
    with pytest.raises(gt.InputError, match="needs `polygons=`, a GeoDataFrame"):
        gt.build_units(None, "polygons", polygons=pd.DataFrame(counties))  # type: ignore[arg-type]
    with pytest.raises(gt.InputError, match="only method='polygons'"):
        gt.build_units(None, "hex")
    with pytest.raises(gt.InputError, match="`aggregate` needs customers"):
        gt.build_units(None, "polygons", polygons=counties, aggregate={"n": ("NAME", "size")})


# --- islands policies on the real counties --------------------------------------------


def test_islands_connect_links_each_island(counties: gpd.GeoDataFrame) -> None:
    with pytest.warns(gt.GeoterrWarning, match="5 separate parts"):
        units = gt.build_units(
            None, "polygons", polygons=counties, polygon_id="GEOID10", measures=["TOTPOP"]
        )
    assert nx.is_connected(units.graph)
    assert len(units.added_links) == 4
    linked = {a for a, b, _ in units.added_links} | {b for a, b, _ in units.added_links}
    assert linked >= ISLANDS
    # Each island is linked to the unit nearest to it (unit locations are the centroids).
    xy = units.gdf[["x", "y"]]
    for island in ISLANDS:
        dist = np.hypot(*(xy - xy.loc[island]).to_numpy().T)
        nearest = xy.index[np.argsort(dist)[1]]
        assert units.graph.has_edge(island, nearest)


def test_islands_raise_names_them(counties: gpd.GeoDataFrame) -> None:
    with pytest.raises(gt.InputError, match="5 separate parts.*53055"):
        gt.build_units(None, "polygons", polygons=counties, polygon_id="GEOID10", islands="raise")


@pytest.mark.slow
def test_islands_separate_gives_each_part_its_territories(counties: gpd.GeoDataFrame) -> None:
    units = gt.build_units(
        None,
        "polygons",
        polygons=counties,
        polygon_id="GEOID10",
        measures=["TOTPOP"],
        islands="separate",
    )
    assert len(units.parts) == 5
    with pytest.warns(gt.GeoterrWarning, match="separate part"):
        plan = gt.design(units, 12, balance={"TOTPOP": 0.4}, time_limit=60)
    assert_valid_plan(plan, units, balance={})
    part_of = {u: i for i, part in enumerate(units.parts) for u in part}
    for name in plan.territories.index:
        members = plan.assignment.index[plan.assignment == name]
        assert len({part_of[u] for u in members}) == 1  # no territory reaches across parts
    for island in ISLANDS:
        own = plan.assignment[island]
        assert (plan.assignment == own).sum() == 1  # the island is a territory of its own
        assert any(own in p and "separate part" in p for p in plan.problems)
    assert [p["territories"] for p in plan.params["parts"]][:2] == [8, 1] or sum(
        p["territories"] for p in plan.params["parts"]
    ) == 12
    # the plan's params speak for every part, not the last one designed
    parts = plan.params["parts"]
    assert plan.params["rounds"] == sum(p["rounds"] for p in parts)
    assert len(parts) > 1 and all(p["rounds"] >= 1 for p in parts)
    with pytest.raises(gt.InfeasibleError, match="5 separate parts"):
        gt.design(units, 4)
    # absolute bounds: the islands still become their own territories, named in the problems
    mean = float(counties["TOTPOP"].sum()) / 12
    with pytest.warns(gt.GeoterrWarning, match="separate part"):
        bounded = gt.design(units, 12, balance={"TOTPOP": (0.6 * mean, 1.4 * mean)}, time_limit=60)
    assert bounded.status == "violated"
    assert all(any(bounded.assignment[i] in p for p in bounded.problems) for i in ISLANDS)


# --- custom aggregation ---------------------------------------------------------------


def test_custom_aggregations_become_unit_columns() -> None:
    customers = two_towns(0.1)
    units = gt.build_units(  # bare cells, split: children without customers are units
        customers,
        "hex",
        resolution=6,
        fill_gaps=0,
        max_load={"workload": 4},
        islands="separate",
        measures=["workload"],
        aggregate={
            "key_accounts": ("segment", lambda s: int((s == "key").sum())),
            "segments": ("segment", "nunique"),
            "biggest": ("workload", "max"),
        },
    )
    by_unit = customers.assign(unit=units.customer_unit).groupby("unit")
    occupied = units.gdf.index[units.gdf["customers"] > 0]
    key = by_unit["segment"].apply(lambda s: int((s == "key").sum()))
    assert (units.gdf.loc[occupied, "key_accounts"] == key.loc[occupied]).all()
    assert (units.gdf.loc[occupied, "segments"] == by_unit["segment"].nunique()[occupied]).all()
    empty = units.gdf["customers"] == 0
    assert (units.gdf.loc[empty, "key_accounts"] == 0).all()
    assert units.gdf.loc[empty, "biggest"].isna().all()  # no customer: no maximum
    assert "key_accounts" in units.measures and "biggest" not in units.measures
    plan = gt.design(units, 2, balance={"workload": 0.1, "key_accounts": 0.5}, time_limit=30)
    assert_valid_plan(plan, units, balance={"workload": 0.1, "key_accounts": 0.5})
    with pytest.raises(gt.InputError, match="no customer column 'tier'"):
        gt.build_units(customers, "hex", resolution=6, aggregate={"t": ("tier", "max")})
    with pytest.raises(gt.InputError, match="taken by a measure"):
        gt.build_units(
            customers,
            "hex",
            resolution=7,
            measures=["workload"],
            aggregate={"workload": ("workload", "max")},
        )


@pytest.mark.slow
@pytest.mark.parametrize("method", ["hex", "points", "voronoi"])
def test_round_trip_keeps_every_customer(method: str) -> None:
    customers = gt.read_customers(make_customers(300, clustered=True))
    kwargs = {"resolution": 5} if method == "hex" else {}
    units = gt.build_units(customers, method, measures=["workload"], **kwargs)  # type: ignore[arg-type]
    plan = gt.design(units, 4, balance={"workload": 0.1}, time_limit=30)
    assert_valid_plan(plan, units, balance={"workload": 0.1})
    assert plan.customers is not None
    assert plan.customers.index.equals(customers.index)
    assert (plan.customers["unit"] == units.customer_unit).all()
    assert (
        plan.customers["territory"] == plan.assignment.loc[units.customer_unit].to_numpy()
    ).all()


@pytest.mark.slow
@pytest.mark.parametrize("method", ["points", "voronoi", "hex"])
def test_real_places(method: str) -> None:
    """The 3,676 real GeoNames places of the sample: every kind, traceable and connected."""
    path = Path(gt.sample_path()).with_name("places_extract.csv")
    places = gt.read_customers(pd.read_csv(path), id_col="geonameid")
    kwargs = {"n_units": 1500, "max_load": {"population": 2_000_000}} if method == "hex" else {}
    with warnings.catch_warnings():  # far places (Florida Keys, Maine islands) get links
        warnings.simplefilter("ignore", gt.GeoterrWarning)
        units = gt.build_units(places, method, measures=["population"], **kwargs)  # type: ignore[arg-type]
    assert_traceable(units, places)
    assert units.gdf["population"].sum() == pytest.approx(places["population"].sum())
    assert nx.is_connected(units.graph)
    if method == "hex":
        occupied = units.gdf["customers"] > 1
        assert (units.gdf.loc[occupied, "population"] <= 2_000_000).all()
        assert 750 <= (units.gdf["customers"] > 0).sum() <= 3000
    else:
        assert len(units) == len(places)


def test_world_spanning_data_warns_about_distances() -> None:
    df = pd.DataFrame(
        {
            "account_id": ["PARIS", "LYON", "SYDNEY", "PERTH", "LIMA"],
            "latitude": [48.86, 45.76, -33.87, -31.95, -12.05],
            "longitude": [2.35, 4.84, 151.21, 115.86, -77.04],
            "workload": [1.0, 2.0, 3.0, 4.0, 5.0],
        }
    )
    customers = gt.read_customers(df)
    with pytest.warns(gt.GeoterrWarning, match=r"stretches distances by up to [\d,]+%"):
        gt.build_units(customers, "hex", resolution=3, fill_gaps=0, islands="separate")
