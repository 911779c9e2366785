"""Published county districting instances through geoterr's public API.

    python benchmarks/hess_counties.py [DATA_DIR] [--time-limit 60] [--states AL,ME]

DATA_DIR holds ``instances.csv`` and ``ST_nodes.csv`` / ``ST_edges.csv`` / ``ST_dist_km.csv``
per state (default ``../shared/data/hess_counties``): counties of a state to split into k
districts with population in [L, U], contiguous, minimising sum p_i * d(i, center)^2 with the
given distance matrix and a county as each district's center. The published optima (Validi,
Buchanan and Lykhovyd, Operations Research 70(2), 2022, solved with Gurobi) are in
``instances.csv``; this script prints geoterr's objective divided by the optimum, its time and
its verdict per state.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import geoterr as gt

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "hess_counties"


def run_state(folder: Path, row: pd.Series, time_limit: float) -> dict[str, object]:
    state = row["state"]
    nodes = pd.read_csv(folder / f"{state}_nodes.csv", dtype={"GEOID10": str})
    edges = pd.read_csv(folder / f"{state}_edges.csv")
    dist = np.loadtxt(folder / f"{state}_dist_km.csv", delimiter=",")
    customers = gt.read_customers(nodes, id_col="idx", lat="C_Y", lon="C_X", measures=["TOTPOP"])
    start = time.perf_counter()
    units = gt.build_units(
        customers, "points", measures=["TOTPOP"], adjacency=zip(edges.i, edges.j, strict=True)
    )
    costs = pd.DataFrame(dist, index=nodes.idx, columns=nodes.idx)
    published = row["objval_cut"]
    result: dict[str, object] = {"state": state, "n": len(nodes), "k": int(row["k"])}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", gt.GeoterrWarning)
            plan = gt.design(
                units,
                int(row["k"]),
                balance={"TOTPOP": (float(row["L"]), float(row["U"]))},
                costs=costs,
                objective="inertia",
                time_limit=time_limit,
            )
    except gt.InfeasibleError as exc:
        result.update(
            seconds=time.perf_counter() - start, verdict="infeasible", detail=str(exc)[:120]
        )
    else:
        # The published objective is sum p_i (d_km / 1000)^2 = geoterr's sum p_i d_km^2 / 1e6.
        # geoterr's weight adds 1e-3 x mean population to every unit; remove it to compare.
        d = dist[plan.assignment.index.map(int), :]
        center_of = dict(zip(plan.centers.index, plan.centers["unit"], strict=True))
        col = np.array([center_of[t] for t in plan.assignment])
        pop = units.gdf.loc[plan.assignment.index, "TOTPOP"].to_numpy()
        value = float((pop * d[np.arange(len(d)), col] ** 2).sum()) / 1e6
        ratio = value / float(published) if published != "infeasible" else None
        result.update(
            seconds=time.perf_counter() - start,
            objective=value,
            published=published,
            ratio=ratio,
            verdict=plan.status,
            detail="; ".join(plan.problems)[:120],
        )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--states", default="", help="comma-separated subset, e.g. AL,ME")
    args = parser.parse_args()
    instances = pd.read_csv(args.data_dir / "instances.csv")
    if args.states:
        instances = instances[instances["state"].isin(args.states.split(","))]
    rows = [run_state(args.data_dir, row, args.time_limit) for _, row in instances.iterrows()]
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 200, "display.max_colwidth", 120):
        print(table.to_string(index=False, float_format=lambda v: f"{v:,.4f}"))


if __name__ == "__main__":
    main()
