"""Delivery territory design: the largest territory diameter against the published BVNS.

    python benchmarks/dtdp.py [--dtdp DIR] [--time-limit 60] [--only planar500_G3,...]

Each graph of ``../shared/data/dtdp`` (CC BY-NC, read by path, never copied; or a folder of
``benchmarks/dtdp_generate.py`` instances) is designed into 10 territories with the three
activities within +-5 % and ``objective="diameter"`` on the shortest-path distances of the
graph. Prints a Markdown table per instance: our diameter, the published BVNS diameter (when
the folder has ``*_bvns.json``), their ratio, the infeasibility as the paper computes it
(0 = feasible), the territories' detached pieces (0 = contiguous) and the seconds; then the
means.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
from dtdp_data import ACTIVITIES, TOLERANCE, dtdp_units, find_dtdp, score, shortest_paths

import geoterr as gt


def published(path: Path) -> float | None:
    """The published BVNS diameter of an instance, when its file is there."""
    bvns = path.with_name(f"{path.stem}_bvns.json")
    return float(json.loads(bvns.read_text())["Objective"]) if bvns.exists() else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dtdp", type=Path, default=None, help="folder of GraphML instances")
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--only", default="", help="comma-separated instance names")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    folder = args.dtdp or find_dtdp()
    if folder is None:
        msg = "no DTDP folder found; pass --dtdp DIR"
        raise SystemExit(msg)
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    balance = dict.fromkeys(ACTIVITIES, TOLERANCE)
    print("| instance | units | diameter | BVNS | ratio | infeasibility | detached | time (s) |")
    print("|---|---|---|---|---|---|---|---|")
    rows = []
    for path in sorted(folder.glob("*.graphml")):
        if only and path.stem not in only:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", gt.GeoterrWarning)
            units = dtdp_units(path)
            distances = shortest_paths(path, units)
            start = time.perf_counter()
            plan = gt.design(
                units, 10, balance=balance, objective="diameter", costs=distances,
                time_limit=args.time_limit, random_state=args.seed,
            )  # fmt: skip
            seconds = time.perf_counter() - start
        got = score(plan, units, distances)
        bvns = published(path)
        ratio = got["diameter"] / bvns if bvns else float("nan")
        rows.append((got["diameter"], bvns or np.nan, ratio, got["infeasibility"], seconds))
        print(
            f"| {path.stem} | {len(units)} | {got['diameter']:.2f} | "
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


if __name__ == "__main__":
    main()
