"""Published county districting instances through geoterr's public API.

    python benchmarks/hess_counties.py [DATA_DIR] [--time-limit 60] [--states AL,ME] [--prove]

DATA_DIR holds ``instances.csv`` and ``ST_nodes.csv`` / ``ST_edges.csv`` / ``ST_dist_km.csv``
per state (default ``../shared/data/hess_counties``): counties of a state to split into k
districts with population in [L, U], contiguous, minimising sum p_i * d(i, center)^2 with the
given distance matrix and a county as each district's center. The published optima (Validi,
Buchanan and Lykhovyd, Operations Research 70(2), 2022, solved with Gurobi) are in
``instances.csv``; this script prints geoterr's objective divided by the optimum, its time and
its verdict per state, with the plan's gap to its lower bound and that bound's scope (with
``--prove``, a bound for all plans: the gap then certifies the distance to the optimum).
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import pandas as pd

import geoterr as gt
from geoterr.datasets import read_districting_instance

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "hess_counties"


def run_state(folder: Path, state: str, time_limit: float, prove: bool) -> dict[str, object]:
    start = time.perf_counter()
    inst = read_districting_instance(folder, state)
    result: dict[str, object] = {"state": state, "n": len(inst.units), "k": inst.k}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", gt.GeoterrWarning)
            plan = inst.design(time_limit=time_limit, prove=prove)
    except gt.InfeasibleError as exc:
        result.update(
            seconds=time.perf_counter() - start, verdict="infeasible", detail=str(exc)[:120]
        )
        return result
    value = inst.objective(plan.assignment, plan.centers["unit"])
    published = inst.published
    result.update(
        seconds=time.perf_counter() - start,
        objective=value,
        published=published,
        ratio=value / published if isinstance(published, float) else None,
        verdict=plan.status,
        gap=plan.gap,
        scope=plan.lower_bound_scope,
        detail="; ".join(plan.problems)[:120],
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--states", default="", help="comma-separated subset, e.g. AL,ME")
    parser.add_argument("--prove", action="store_true", help="design(prove=True)")
    args = parser.parse_args()
    states = pd.read_csv(args.data_dir / "instances.csv")["state"].tolist()
    if args.states:
        states = [s for s in states if s in args.states.split(",")]
    table = pd.DataFrame([run_state(args.data_dir, s, args.time_limit, args.prove) for s in states])
    with pd.option_context("display.width", 200, "display.max_colwidth", 120):
        print(table.to_string(index=False, float_format=lambda v: f"{v:,.4f}"))


if __name__ == "__main__":
    main()
