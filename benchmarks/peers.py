"""geoterr against its peers on the same instances: time, balance, compactness, contiguity.

Run from the repository root (the peers come with the ``bench`` extra)::

    pip install -e '.[bench]'
    python benchmarks/peers.py                                   # N:k = 1000:10 and 5000:25
    python benchmarks/peers.py --sizes 1000:10,5000:25,50000:100 --cap 120 --csv peers.csv
    python benchmarks/peers.py --sizes 1000:10 --counties ../shared/data/us_counties_2010.gpkg
    python benchmarks/peers.py --methods geoterr,gerrychain,metis --tolerance 0.05

Instances. ``--sizes N:k,...`` gives synthetic instances (``synthetic.synthetic_units(N,
seed)``: Voronoi cells, clustered density, lognormal ``workload``) split into k territories.
``--counties PATH`` adds the US counties of a GeoPackage (one point unit per county at a
point inside its polygon, the queen adjacency from the edge list next to it when there is one,
islands linked by ``build_units``) in ``--county-k`` territories, twice: balancing ``TOTPOP``
as it is (no plan can exist: Los Angeles County alone holds more than a territory's share, and
geoterr should say so at once) and balancing ``sqrt(TOTPOP)`` (feasible).

Methods (``--methods``, default all; each capped at ``--cap`` seconds):

- ``geoterr``: ``gt.design`` with the workload within ``--tolerance``, ``time_limit`` = 0.9 x cap.
- ``kmeans``: weighted KMeans (scikit-learn), the compactness reference; run in this process.
- ``skater``, ``azp``, ``region-kmeans``, ``ward``: the spopt regionalisers on the unit graph
  (libpysal weights), clustering on the workload (``--spopt-attrs workload``, default) or on
  the unit coordinates (``--spopt-attrs xy``). None of them balances a measure; SKATER gets a
  floor of half the mean number of units per territory (a unit count, not workload).
- ``gerrychain``: ``recursive_tree_part`` on the unit graph, epsilon = tolerance.
- ``metis``: pymetis k-way partition, integer-scaled workload as vertex weights, imbalance
  factor = tolerance (METIS bounds the heaviest part only), contiguous parts requested.
- ``hess``: a plain location-allocation MIP in PuLP solved by HiGHS: each unit to one of k
  open centers, every territory's workload within the tolerance, minimise the sum of workload
  x distance; no contiguity. Every unit is a candidate center up to 1000 units, above that a
  random sample of ``--hess-candidates`` (default 200).

Every method but kmeans runs in its own process, killed when it is still working ``--cap``
seconds after it started (reported as a timeout). A missing peer library is skipped with a
message naming ``pip install -e '.[bench]'``.

Columns of the table printed per instance (``--csv FILE`` writes the same, one row per
instance and method, as ``instance, method, seconds, max_deviation`` (%), ``compactness,
contiguous, gap`` (a fraction), ``note``):

- ``method``: as above.
- ``seconds``: wall time of the method's own call (model building included, process start and
  imports not).
- ``max dev``: the largest absolute deviation of a territory's workload from the mean
  workload per territory, in % (``measures.max_deviation``; a missing territory counts 100 %).
- ``compact``: ``measures.compactness`` of the method's territories divided by that of
  weighted KMeans on the same instance. Compactness is the sum over units of workload x
  straight-line distance (km) to the workload-weighted centroid of the unit's territory, so
  1.00 is as compact as KMeans, which ignores balance and contiguity; lower is better.
- ``contiguous``: the share of territories whose units are connected in the unit graph
  (``units.graph``, links added for islands included).
- ``gap``: geoterr's ``plan.gap`` (objective vs. the LP lower bound for the plan's centers);
  for ``hess`` the MIP gap HiGHS reports when stopped; ``-`` otherwise.
- ``note``: timeouts (``timeout 120 s``), errors, infeasibility reasons, warnings, and the
  number of territories when a method did not deliver exactly k.
"""

from __future__ import annotations

import argparse
import importlib.util
import multiprocessing as mp
import os
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measures import (
    compactness,
    contiguous_share,
    kmeans_labels,
    max_deviation,
    relative_compactness,
)
from synthetic import synthetic_units

import geoterr as gt

METHODS = (
    "geoterr",
    "kmeans",
    "skater",
    "azp",
    "region-kmeans",
    "ward",
    "gerrychain",
    "metis",
    "hess",
)
# The library each peer needs (installed by the ``bench`` extra).
NEEDS = {
    "skater": "spopt",
    "azp": "spopt",
    "region-kmeans": "spopt",
    "ward": "spopt",
    "gerrychain": "gerrychain",
    "metis": "pymetis",
}
SETUP_SECONDS = 300.0  # for a worker process to start and import its library
NOTE_CHARS = 90
HESS_ALL_UNITS = 1000  # up to this many units, every unit is a candidate center in ``hess``
_PROGRESS: list[Any] = []  # in a worker process: the connection to the parent


@dataclass(frozen=True)
class Instance:
    """Units to split into ``k`` territories balancing the measure ``load``."""

    name: str
    units: gt.Units
    k: int
    load: str


@dataclass(frozen=True)
class Settings:
    """Options shared by every method."""

    tolerance: float
    cap: float
    seed: int
    spopt_attrs: str
    hess_candidates: int


@dataclass
class Result:
    """What one method returned: labels in the order of ``units.gdf`` (None if it failed)."""

    labels: np.ndarray | None
    seconds: float
    gap: float | None = None
    note: str = ""


# --------------------------------------------------------------------------- instances


def parse_sizes(text: str) -> list[tuple[int, int]]:
    """Parse ``"1000:10,5000:25"`` into ``[(1000, 10), (5000, 25)]`` (``""``: none)."""
    pairs = []
    for item in filter(None, (s.strip() for s in text.split(","))):
        n, _, k = item.partition(":")
        pairs.append((int(n), int(k)))
    return pairs


def synthetic_instance(n: int, k: int, seed: int) -> Instance:
    """``synthetic_units(n, seed)`` to split into ``k`` territories balancing workload."""
    units = synthetic_units(n, seed=seed)
    return Instance(f"synthetic N={n} k={k} seed={seed}", units, k, "workload")


def county_adjacency(path: Path, counties: Any) -> list[tuple[str, str]]:
    """Queen adjacency of the counties, by GEOID10.

    Parameters
    ----------
    path : Path
        The GeoPackage; an edge list ``<stem>_queen_edges.csv`` next to it (columns
        ``GEOID10_a``, ``GEOID10_b``) is used when present.
    counties : GeoDataFrame
        The county polygons (``GEOID10`` as str), for libpysal's Queen weights otherwise.

    Returns
    -------
    list of (str, str)
    """
    edge_file = path.with_name(f"{path.stem}_queen_edges.csv")
    if edge_file.exists():
        edges = pd.read_csv(edge_file, dtype=str)
        return list(zip(edges["GEOID10_a"], edges["GEOID10_b"], strict=True))
    from libpysal.weights import Queen

    w = Queen.from_dataframe(counties, ids=counties["GEOID10"].tolist(), silence_warnings=True)
    return [(a, b) for a, nbrs in w.neighbors.items() for b in nbrs if a < b]


def county_instances(path: Path, k: int) -> list[Instance]:
    """The counties as point units, balancing TOTPOP (infeasible) and sqrt(TOTPOP).

    Parameters
    ----------
    path : Path
        GeoPackage with a ``counties`` layer (GEOID10, TOTPOP, polygons).
    k : int
        Territories.

    Returns
    -------
    list of Instance
        Two instances on the same units: loads ``TOTPOP`` and ``sqrt_pop``.
    """
    import geopandas as gpd

    counties = gpd.read_file(path, layer="counties")
    counties["GEOID10"] = counties["GEOID10"].astype(str)
    inside = counties.geometry.representative_point().to_crs(4326)
    customers = pd.DataFrame(
        {
            "GEOID10": counties["GEOID10"],
            "latitude": inside.y,
            "longitude": inside.x,
            "TOTPOP": counties["TOTPOP"].astype(float),
            "sqrt_pop": np.sqrt(counties["TOTPOP"].astype(float)),
        }
    )
    edges = county_adjacency(path, counties)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        units = gt.build_units(
            gt.read_customers(customers, id_col="GEOID10"),
            "points",
            measures=["TOTPOP", "sqrt_pop"],
            adjacency=edges,
        )
    for w in caught:
        if issubclass(w.category, gt.GeoterrWarning):
            print(f"build_units warned: {shorten(str(w.message), 300)}")
    return [
        Instance(f"US counties N={len(units)} k={k} load=TOTPOP", units, k, "TOTPOP"),
        Instance(f"US counties N={len(units)} k={k} load=sqrt(TOTPOP)", units, k, "sqrt_pop"),
    ]


# --------------------------------------------------------------------------- methods


def shorten(text: str, width: int = NOTE_CHARS) -> str:
    """``text`` on one line, cut to ``width`` characters (with an ellipsis)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 3] + "..."


def positions(inst: Instance) -> tuple[np.ndarray, dict[int, list[int]]]:
    """The workload and the neighbour lists of the units, by position in ``units.gdf``."""
    ids = inst.units.gdf.index
    where = {u: i for i, u in enumerate(ids)}
    neighbours: dict[int, list[int]] = {i: [] for i in range(len(ids))}
    for a, b in inst.units.graph.edges:
        if a != b:
            neighbours[where[a]].append(where[b])
            neighbours[where[b]].append(where[a])
    return inst.units.gdf[inst.load].to_numpy(dtype=float), neighbours


def run_geoterr(inst: Instance, s: Settings) -> Result:
    """``gt.design`` balancing the load within the tolerance."""
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            plan = gt.design(
                inst.units,
                inst.k,
                balance={inst.load: s.tolerance},
                time_limit=0.9 * s.cap,
                random_state=s.seed,
            )
        except gt.InfeasibleError as exc:
            seconds = time.perf_counter() - start
            return Result(None, seconds, note=f"infeasible: {exc}")
    seconds = time.perf_counter() - start
    labels = plan.assignment.reindex(inst.units.gdf.index).to_numpy()
    notes = [] if plan.status == "feasible" else [f"{plan.status}: {'; '.join(plan.problems)}"]
    for w in caught:  # warnings that do not just repeat the problems above
        text = str(w.message)
        if issubclass(w.category, gt.GeoterrWarning) and not any(p in text for p in plan.problems):
            notes.append(text)
    return Result(labels, seconds, plan.gap, "; ".join(notes))


def spopt_input(inst: Instance, s: Settings) -> tuple[Any, Any, list[str]]:
    """A GeoDataFrame indexed 0..n-1, its libpysal weights and the attribute columns."""
    from libpysal.weights import W

    _, neighbours = positions(inst)
    gdf = inst.units.gdf.reset_index(drop=True)
    w = W(neighbours, silence_warnings=True)
    attrs = ["x", "y"] if s.spopt_attrs == "xy" else [inst.load]
    return gdf, w, attrs


def run_skater(inst: Instance, s: Settings) -> Result:
    """spopt SKATER with a floor of half the mean number of units per territory."""
    from spopt.region import Skater

    gdf, w, attrs = spopt_input(inst, s)
    floor = len(gdf) // (2 * inst.k)
    start = time.perf_counter()
    model = Skater(gdf, w, attrs, n_clusters=inst.k, floor=floor, islands="ignore")
    model.solve()
    return Result(np.asarray(model.labels_), time.perf_counter() - start, note=f"floor {floor}")


def run_azp(inst: Instance, s: Settings) -> Result:
    """spopt AZP (no balance option)."""
    from spopt.region import AZP

    gdf, w, attrs = spopt_input(inst, s)
    start = time.perf_counter()
    model = AZP(gdf, w, attrs, n_clusters=inst.k, random_state=s.seed)
    model.solve()
    return Result(np.asarray(model.labels_), time.perf_counter() - start)


def run_region_kmeans(inst: Instance, s: Settings) -> Result:
    """spopt RegionKMeansHeuristic (no balance option)."""
    from spopt.region import RegionKMeansHeuristic

    gdf, w, attrs = spopt_input(inst, s)
    start = time.perf_counter()
    model = RegionKMeansHeuristic(gdf[attrs].to_numpy(float), inst.k, w, seed=s.seed)
    model.solve()
    return Result(np.asarray(model.labels_), time.perf_counter() - start)


def run_ward(inst: Instance, s: Settings) -> Result:
    """spopt WardSpatial (no balance option)."""
    from spopt.region import WardSpatial

    gdf, w, attrs = spopt_input(inst, s)
    start = time.perf_counter()
    model = WardSpatial(gdf, w, attrs, n_clusters=inst.k)
    model.solve()
    return Result(np.asarray(model.labels_), time.perf_counter() - start)


def run_gerrychain(inst: Instance, s: Settings) -> Result:
    """GerryChain ``recursive_tree_part`` with epsilon = tolerance."""
    from gerrychain import Graph

    try:  # GerryChain 1.0 moved it; the old name still works with a deprecation warning
        from gerrychain.partition import recursive_tree_part
    except ImportError:
        from gerrychain.tree import recursive_tree_part

    load, neighbours = positions(inst)
    g: nx.Graph = nx.Graph()
    g.add_nodes_from((i, {"load": float(v)}) for i, v in enumerate(load))
    g.add_edges_from((i, j) for i, nbrs in neighbours.items() for j in nbrs if i < j)
    start = time.perf_counter()
    graph = Graph.from_networkx(g)
    parts = recursive_tree_part(
        graph, range(inst.k), load.sum() / inst.k, "load", s.tolerance, rng=s.seed
    )
    labels = np.array([parts[i] for i in range(len(load))])
    return Result(labels, time.perf_counter() - start)


def run_metis(inst: Instance, s: Settings) -> Result:
    """pymetis k-way partition, integer workload weights, contiguous parts."""
    import pymetis

    load, neighbours = positions(inst)
    weights = np.maximum(1, np.round(load * 1e7 / load.sum())).astype(int)
    options = pymetis.Options(ufactor=max(1, round(1000 * s.tolerance)), seed=s.seed)
    start = time.perf_counter()
    _, parts = pymetis.part_graph(
        inst.k,
        adjacency=[neighbours[i] for i in range(len(load))],
        vweights=weights.tolist(),
        contiguous=True,
        options=options,
    )
    return Result(np.asarray(parts), time.perf_counter() - start)


def hess_model(load: np.ndarray, dist: np.ndarray, k: int, tolerance: float) -> tuple[Any, list]:
    r"""The plain location-allocation MIP (Hess) as a PuLP problem; no contiguity.

    .. math::

        \min \sum_i \sum_{j \in C} w_i d_{ij} x_{ij} \quad \text{s.t.} \quad
        \sum_j x_{ij} = 1, \; x_{ij} \le y_j, \; \sum_j y_j = k, \;
        (1 - \tau) \bar w y_j \le \sum_i w_i x_{ij} \le (1 + \tau) \bar w y_j,
        \; x, y \in \{0, 1\}

    Parameters
    ----------
    load : ndarray
        :math:`w_i`, the workload of each unit.
    dist : ndarray
        :math:`d_{ij}`, km from each unit to each candidate center :math:`j \in C`.
    k : int
        Centers to open (:math:`\bar w` = total load / k).
    tolerance : float
        :math:`\tau`.

    Returns
    -------
    problem : pulp.LpProblem
    x : list of list of pulp.LpVariable
        ``x[i][j]``: unit i goes to candidate j.
    """
    import pulp

    n, m = dist.shape
    mean = load.sum() / k
    prob = pulp.LpProblem("hess", pulp.LpMinimize)
    y = [pulp.LpVariable(f"y{j}", cat="Binary") for j in range(m)]
    x = [[pulp.LpVariable(f"x{i}_{j}", cat="Binary") for j in range(m)] for i in range(n)]
    prob += pulp.lpSum(load[i] * dist[i, j] * x[i][j] for i in range(n) for j in range(m))
    for i in range(n):
        prob += pulp.lpSum(x[i]) == 1
        for j in range(m):
            prob += x[i][j] <= y[j]
    prob += pulp.lpSum(y) == k
    for j in range(m):
        served = pulp.lpSum(load[i] * x[i][j] for i in range(n))
        prob += served <= (1 + tolerance) * mean * y[j]
        prob += served >= (1 - tolerance) * mean * y[j]
    return prob, x


def run_hess(inst: Instance, s: Settings) -> Result:
    """:func:`hess_model` solved by HiGHS through PuLP, within what is left of the cap."""
    import pulp

    start = time.perf_counter()
    load = inst.units.gdf[inst.load].to_numpy(float)
    n = len(load)
    if n <= HESS_ALL_UNITS:
        cands, note = np.arange(n), "all units as candidate centers"
    else:
        rng = np.random.default_rng(s.seed)
        cands = np.sort(rng.choice(n, s.hess_candidates, replace=False))
        note = f"{len(cands)} random candidate centers"
    xy = inst.units.xy
    dist = np.linalg.norm(xy[:, None, :] - xy[None, cands, :], axis=2) / 1000.0
    prob, x = hess_model(load, dist, inst.k, s.tolerance)
    built = time.perf_counter() - start
    report(f"{note}; PuLP model built in {built:.0f} s")
    left = max(1.0, 0.95 * s.cap - built)
    prob.solve(pulp.HiGHS(msg=False, timeLimit=left))
    seconds = time.perf_counter() - start
    # PuLP calls a HiGHS time-out "Optimal"; HiGHS's own status and gap tell the truth.
    highs = prob.solverModel
    status = highs.modelStatusToString(highs.getModelStatus())
    gap = float(highs.getInfo().mip_gap)
    note = f"{note}; built in {built:.0f} s; HiGHS: {status} (limit {left:.0f} s)"
    if prob.sol_status not in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
        return Result(None, seconds, note=note)
    values = np.array([[v.varValue or 0.0 for v in row] for row in x])
    return Result(values.argmax(axis=1), seconds, gap if np.isfinite(gap) else None, note)


RUNNERS: dict[str, Callable[[Instance, Settings], Result]] = {
    "geoterr": run_geoterr,
    "skater": run_skater,
    "azp": run_azp,
    "region-kmeans": run_region_kmeans,
    "ward": run_ward,
    "gerrychain": run_gerrychain,
    "metis": run_metis,
    "hess": run_hess,
}


# --------------------------------------------------------------------------- processes


def report(message: str) -> None:
    """Tell the parent process how far a method got (shown if it then times out)."""
    if _PROGRESS:
        _PROGRESS[0].send(message)


def _report_warning(message: Any, category: type[Warning], *args: Any, **kwargs: Any) -> None:
    """Pass a peer's warning to the parent instead of printing it (deprecations dropped)."""
    if not issubclass(category, DeprecationWarning | PendingDeprecationWarning | FutureWarning):
        report(shorten(f"{category.__name__}: {message}", 120))


def _worker(conn: Any, method: str, inst: Instance, s: Settings) -> None:
    """Run one method in a child process and send its Result (or the error) back."""
    _PROGRESS.append(conn)
    # Peers' deprecation chatter is dropped; other warnings (GerryChain resets the filters to
    # "once" on import) go to the parent. geoterr's are recorded by run_geoterr.
    warnings.simplefilter("ignore")
    warnings.showwarning = _report_warning
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # solver banners and progress bars (errors still reach stderr)
    conn.send("ready")
    start = time.perf_counter()
    try:
        result = RUNNERS[method](inst, s)
    except Exception as exc:
        result = Result(None, time.perf_counter() - start, note=f"error: {type(exc).__name__}")
        result.note = f"{result.note}: {exc}"
    conn.send(result)
    conn.close()


def run_isolated(method: str, inst: Instance, s: Settings) -> Result:
    """Run ``method`` in its own process; kill it ``s.cap`` seconds after it got going.

    Parameters
    ----------
    method : str
        A key of ``RUNNERS``.
    inst : Instance
    s : Settings

    Returns
    -------
    Result
        The method's result, or one with no labels and the note ``timeout N s``.
    """
    ctx = mp.get_context("spawn")  # no fork of a process that holds solver threads
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_worker, args=(send, method, inst, s), daemon=True)
    proc.start()
    send.close()
    try:
        if not receive.poll(SETUP_SECONDS):
            return Result(None, float("nan"), note="worker did not start")
        receive.recv()
        start = time.perf_counter()
        progress = []
        while receive.poll(max(0.0, s.cap - (time.perf_counter() - start))):
            message = receive.recv()
            if isinstance(message, Result):
                return message
            if message not in progress:
                progress.append(message)
        note = "; ".join([f"timeout {s.cap:g} s", *progress])
        return Result(None, time.perf_counter() - start, note=note)
    except EOFError:
        return Result(None, float("nan"), note=f"worker died (exit code {proc.exitcode})")
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join()


def missing_library(method: str) -> str | None:
    """The peer library ``method`` needs when it is not installed, else None."""
    name = NEEDS.get(method)
    if name is None or importlib.util.find_spec(name) is not None:
        return None
    return name


# --------------------------------------------------------------------------- table


def measure_row(inst: Instance, method: str, result: Result, reference: float) -> dict[str, Any]:
    """One table row: the common measures of ``result`` on ``inst``."""
    row: dict[str, Any] = {
        "instance": inst.name,
        "method": method,
        "seconds": result.seconds,
        "max_deviation": np.nan,
        "compactness": np.nan,
        "contiguous": np.nan,
        "gap": result.gap,
        "note": result.note,
    }
    if result.labels is None:
        return row
    codes, names = pd.factorize(pd.Series(result.labels))
    load = inst.units.gdf[inst.load].to_numpy(float)
    graph, ids = inst.units.graph, list(inst.units.gdf.index)
    row["max_deviation"] = 100.0 * max_deviation(load, codes, inst.k)
    row["compactness"] = relative_compactness(inst.units.xy, load, codes, reference)
    row["contiguous"] = contiguous_share(graph, ids, codes)
    if len(names) != inst.k:
        row["note"] = "; ".join(filter(None, [f"{len(names)} territories", row["note"]]))
    return row


def run_instance(inst: Instance, methods: list[str], s: Settings) -> list[dict[str, Any]]:
    """Every chosen method on one instance; KMeans first, as the compactness reference."""
    load = inst.units.gdf[inst.load].to_numpy(float)
    start = time.perf_counter()
    km = kmeans_labels(inst.units.xy, load, inst.k, seed=s.seed)
    km_result = Result(km, time.perf_counter() - start)
    reference = compactness(inst.units.xy, load, km)
    rows = []
    for method in methods:
        lib = missing_library(method)
        if lib is not None:
            print(f"  skipping {method}: {lib} is not installed; pip install -e '.[bench]'")
            result = Result(None, float("nan"), note=f"skipped: {lib} not installed")
        elif method == "kmeans":
            result = km_result
        else:
            print(f"  {method} ...", flush=True)
            result = run_isolated(method, inst, s)
        rows.append(measure_row(inst, method, result, reference))
    return rows


def format_table(rows: list[dict[str, Any]]) -> str:
    """The rows of one instance as a fixed-width text table."""

    def fmt(value: Any, pattern: str, scale: float = 1.0) -> str:
        return "-" if value is None or pd.isna(value) else pattern.format(scale * value)

    header = ["method", "seconds", "max dev %", "compact", "contiguous", "gap %", "note"]
    cells = [
        [
            row["method"],
            fmt(row["seconds"], "{:.1f}"),
            fmt(row["max_deviation"], "{:.2f}"),
            fmt(row["compactness"], "{:.2f}"),
            fmt(row["contiguous"], "{:.2f}"),
            fmt(row["gap"], "{:.2f}", 100.0),
            shorten(row["note"]),
        ]
        for row in rows
    ]
    widths = [max(len(line[c]) for line in [header, *cells]) for c in range(len(header))]
    lines = [
        "  ".join(t.ljust(w) for t, w in zip(line, widths, strict=True)).rstrip()
        for line in [header, *cells]
    ]
    long = [
        f"  {r['method']}: {shorten(r['note'], 10_000)}"
        for r in rows
        if len(r["note"]) > NOTE_CHARS
    ]
    return "\n".join(lines + (["notes in full:", *long] if long else []))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000:10,5000:25", help="synthetic N:k pairs")
    parser.add_argument("--counties", type=Path, help="GeoPackage of US counties")
    parser.add_argument("--county-k", type=int, default=50)
    parser.add_argument("--methods", default=",".join(METHODS), help="subset, comma-separated")
    parser.add_argument("--cap", type=float, default=120.0, help="seconds per method")
    parser.add_argument("--tolerance", type=float, default=0.02)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--spopt-attrs", choices=["workload", "xy"], default="workload")
    parser.add_argument(
        "--hess-candidates", type=int, default=200, help="sampled centers above 1000 units"
    )
    parser.add_argument("--csv", type=Path, help="also write every row to this CSV file")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.methods.split(",")) - set(METHODS))
    if unknown:
        parser.error(f"unknown methods {unknown}; choose from {', '.join(METHODS)}")
    return args


def instances(args: argparse.Namespace) -> list[Instance]:
    """The synthetic and county instances the options ask for."""
    found = [synthetic_instance(n, k, args.seed) for n, k in parse_sizes(args.sizes)]
    if args.counties is not None:
        found += county_instances(args.counties, args.county_k)
    return found


def main(argv: list[str] | None = None) -> None:
    """Run every method on every instance; print one table per instance."""
    args = parse_args(argv)
    settings = Settings(args.tolerance, args.cap, args.seed, args.spopt_attrs, args.hess_candidates)
    methods = [m for m in METHODS if m in args.methods.split(",")]
    all_rows = []
    began = time.perf_counter()
    for inst in instances(args):
        print(f"\n{inst.name} (tolerance {args.tolerance:.0%}, cap {args.cap:g} s)", flush=True)
        rows = run_instance(inst, methods, settings)
        print(format_table(rows), flush=True)
        all_rows += rows
    print(f"\ntotal {time.perf_counter() - began:.0f} s")
    if args.csv is not None and all_rows:
        pd.DataFrame(all_rows).to_csv(args.csv, index=False)
        print(f"rows written to {args.csv}")


if __name__ == "__main__":
    main()
