"""Delivery territory design: the largest territory diameter against the published BVNS.

    python benchmarks/dtdp.py [--dtdp DIR] [--time-limit 60] [--only planar500_G3,...]
    python benchmarks/dtdp.py --objective radius

Each graph of ``../shared/data/dtdp`` (CC BY-NC, read by path, never copied; or a folder of
``benchmarks/dtdp_generate.py`` instances) is designed into 10 territories with the three
activities within +-5 % and ``objective="diameter"`` on the shortest-path distances of the
graph. Prints a Markdown table per instance: our diameter, the published BVNS diameter (when
the folder has ``*_bvns.json``), their ratio, the infeasibility as the paper computes it
(0 = feasible), the territories' detached pieces (0 = contiguous) and the seconds; then the
means. With ``--objective radius`` it designs for the largest distance to a territory's
center unit instead (nothing is published for it) and prints the largest radius before and after
the search, with the plan's diameter.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from dtdp_data import ACTIVITIES, TOLERANCE, dtdp_units, find_dtdp, score, shortest_paths

import geoterr as gt


def published(path: Path) -> float | None:
    """The published BVNS diameter of an instance, when its file is there."""
    bvns = path.with_name(f"{path.stem}_bvns.json")
    return float(json.loads(bvns.read_text())["Objective"]) if bvns.exists() else None


def designs(args: argparse.Namespace) -> Iterator[tuple[Path, int, gt.Plan, dict[str, Any], float]]:
    """Design every chosen instance; yield (path, units, plan, the paper's scores, seconds)."""
    folder = args.dtdp or find_dtdp()
    if folder is None:
        msg = "no DTDP folder found; pass --dtdp DIR"
        raise SystemExit(msg)
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    balance = dict.fromkeys(ACTIVITIES, TOLERANCE)
    for path in sorted(folder.glob("*.graphml")):
        if only and path.stem not in only:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", gt.GeoterrWarning)
            units = dtdp_units(path)
            distances = shortest_paths(path, units)
            start = time.perf_counter()
            plan = gt.design(
                units, 10, balance=balance, objective=args.objective, costs=distances,
                time_limit=args.time_limit, random_state=args.seed,
            )  # fmt: skip
            seconds = time.perf_counter() - start
        yield path, len(units), plan, score(plan, units, distances), seconds


def diameter_table(args: argparse.Namespace) -> None:
    """Print our diameter against the published BVNS one, per instance, then the means."""
    print("| instance | units | diameter | BVNS | ratio | infeasibility | detached | time (s) |")
    print("|---|---|---|---|---|---|---|---|")
    rows = []
    for path, n, _, got, seconds in designs(args):
        bvns = published(path)
        ratio = got["diameter"] / bvns if bvns else float("nan")
        rows.append((got["diameter"], bvns or np.nan, ratio, got["infeasibility"], seconds))
        print(
            f"| {path.stem} | {n} | {got['diameter']:.2f} | "
            f"{bvns if bvns is None else f'{bvns:.2f}'} | {ratio:.3f} | "
            f"{got['infeasibility']:.4f} | {got['detached']} | {seconds:.1f} |",
            flush=True,
        )
    if rows:
        mean = np.nanmean(np.array(rows), axis=0)
        print(
            f"| mean of {len(rows)} | | {mean[0]:.2f} | {mean[1]:.2f} | {mean[2]:.3f} | "
            f"{mean[3]:.4f} | | {mean[4]:.1f} |"
        )


def radius_table(args: argparse.Namespace) -> None:
    """Print the largest radius before and after the search, and the plan's diameter."""
    print("| instance | units | radius | start | diameter | infeasibility | detached | time (s) |")
    print("|---|---|---|---|---|---|---|---|")
    rows = []
    for path, n, plan, got, seconds in designs(args):
        first = float(plan.params["dispersion"]["start"])
        rows.append((float(plan.objective or np.nan), first, got["diameter"], seconds))
        print(
            f"| {path.stem} | {n} | {plan.objective:.2f} | {first:.2f} | "
            f"{got['diameter']:.2f} | {got['infeasibility']:.4f} | {got['detached']} | "
            f"{seconds:.1f} |",
            flush=True,
        )
    if rows:
        mean = np.nanmean(np.array(rows), axis=0)
        print(
            f"| mean of {len(rows)} | | {mean[0]:.2f} | {mean[1]:.2f} | {mean[2]:.2f} | | | "
            f"{mean[3]:.1f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dtdp", type=Path, default=None, help="folder of GraphML instances")
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--only", default="", help="comma-separated instance names")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--objective", choices=["diameter", "radius"], default="diameter",
        help="radius: the largest distance to a territory's center unit (nothing published)",
    )  # fmt: skip
    args = parser.parse_args()
    (radius_table if args.objective == "radius" else diameter_table)(args)


if __name__ == "__main__":
    main()
