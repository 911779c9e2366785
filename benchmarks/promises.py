"""The promise corpus of issue 11 at full size: every case a plan that keeps every promise, or
a refusal with the reason.

    python benchmarks/promises.py [--dtdp DIR] [--only budget,dtdp,...] [--time-limit 60]

Cases: realignment budgets on the sample (``max_moved`` 300, 150, 0.1, then the budget the
advice says works), the README's kept-territory example (with and without
``enclaves="join"``), 60 Hawaii and 40 Puerto Rico customers added to the sample on Voronoi
and point units, the CLI's default measure for a realignment, the README's Python examples,
and the 21 delivery territory design graphs (three activities within +-5 %, 10 territories;
CC BY-NC data read by path from ``../shared/data/dtdp``, never copied). Prints a Markdown
table: case, status, worst deviation from the target over the balanced measures, seconds,
and a note (customers moved, or the first words of the reason).
"""

from __future__ import annotations

import argparse
import re
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from dtdp_data import ACTIVITIES, dtdp_units, find_dtdp

import geoterr as gt
from geoterr.cli import balance_default

WORKLOAD = {"workload": 0.05}


def worst(plan: gt.Plan) -> str:
    """The largest deviation from the target of each balanced measure (named when several)."""
    table = plan.summary()
    balance = plan.params["balance"]
    values = {m: float(table[f"{m}_deviation"].abs().max()) for m in balance}
    if len(values) == 1:
        return f"{next(iter(values.values())):.2%}"
    return ", ".join(f"{m} {v:.2%}" for m, v in values.items())


def run(name: str, make: Callable[[], gt.Plan]) -> dict[str, Any]:
    """One case: the plan's status and worst deviation, or the refusal and its reason."""
    start = time.perf_counter()
    row: dict[str, Any] = {"case": name}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", gt.GeoterrWarning)
            plan = make()
    except gt.GeoterrError as exc:
        row.update(
            status=f"refused ({type(exc).__name__})",
            worst="-",
            note=str(exc)[:160].replace("|", "/"),
            text=str(exc),
        )
    else:
        note = ""
        if "moved_customers" in plan.params:
            note = f"{plan.params['moved_customers']} customers moved"
        if plan.problems:
            note += ("; " if note else "") + plan.problems[-1][:160].replace("|", "/")
        row.update(status=plan.status, worst=worst(plan), note=note, text=" ".join(plan.problems))
    row["seconds"] = round(time.perf_counter() - start, 1)
    return row


def with_islands(sample: pd.DataFrame) -> pd.DataFrame:
    rng = np.random.default_rng(11)

    def place(n: int, lat: float, lon: float, spread: float, tag: str) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "account_id": [f"{tag}{i:03d}" for i in range(n)],
                "latitude": lat + rng.normal(0, spread, n),
                "longitude": lon + rng.normal(0, spread, n),
                "workload": rng.integers(1, 30, n).astype(float),
            }
        )

    extra = [place(60, 20.8, -156.9, 0.4, "HI"), place(40, 18.2, -66.4, 0.15, "PR")]
    return pd.concat([sample, *extra], ignore_index=True)


def budget_cases(units: gt.Units, limit: float) -> Iterator[dict[str, Any]]:
    def realign(budget: float) -> Callable[[], gt.Plan]:
        return lambda: gt.design(
            units,
            12,
            balance=WORKLOAD,
            current="current_territory",
            max_moved=budget,
            time_limit=limit,
        )

    for budget in (300, 150, 0.1):
        row = run(f"budget max_moved={budget}", realign(budget))
        yield row
        advice = row.get("text", "")
        found = re.search(r"max_moved=([0-9.]+) works", advice)
        if found:
            text = found.group(1)
            advised = float(text) if "." in text else int(text)
            yield run(f"budget max_moved={advised} (advised)", realign(advised))


def keep_cases(units: gt.Units, limit: float) -> Iterator[dict[str, Any]]:
    for enclaves in ("raise", "join"):
        yield run(
            f"README keep T10, enclaves={enclaves!r}",
            lambda e=enclaves: gt.design(  # type: ignore[misc]
                units,
                12,
                balance=WORKLOAD,
                current="current_territory",
                max_moved=600,
                keep_territories=["T10 Plains & Rockies"],
                enclaves=e,
                time_limit=limit,
            ),
        )


def island_cases(sample: pd.DataFrame, limit: float) -> Iterator[dict[str, Any]]:
    customers = gt.read_customers(with_islands(sample), measures=["workload"])
    for method in ("voronoi", "points"):
        for policy in ("connect", "raise", "separate"):

            def make(m: Any = method, p: Any = policy) -> gt.Plan:
                units = gt.build_units(customers, m, measures=["workload"], islands=p)
                return gt.design(units, 12, balance=WORKLOAD, time_limit=limit)

            yield run(f"islands HI+PR, {method}, islands={policy!r}", make)


def cli_cases(customers: pd.DataFrame, units: gt.Units, limit: float) -> Iterator[dict[str, Any]]:
    balance = balance_default(customers)
    yield run(
        f"CLI default measure ({', '.join(balance)}), --current",
        lambda: gt.design(
            units, 12, balance=balance, current="current_territory", time_limit=limit
        ),
    )


def readme_cases(units: gt.Units, limit: float) -> Iterator[dict[str, Any]]:
    yield run(
        "README quickstart (workload 5 %, revenue 15 %)",
        lambda: gt.design(
            units, 12, balance={"workload": 0.05, "annual_revenue": 0.15}, time_limit=limit
        ),
    )
    yield run(
        "README redesign current=",
        lambda: gt.design(
            units, 12, balance=WORKLOAD, current="current_territory", time_limit=limit
        ),
    )


def dtdp_cases(folder: Path | None, limit: float) -> Iterator[dict[str, Any]]:
    if folder is None:
        print("(no DTDP folder found; pass --dtdp DIR)")
        return
    balance = dict.fromkeys(ACTIVITIES, 0.05)
    for path in sorted(folder.glob("planar*.graphml")):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", gt.GeoterrWarning)
            units = dtdp_units(path)
        yield run(
            f"DTDP {path.stem} ({len(units)} units, 3 activities)",
            lambda u=units: gt.design(u, 10, balance=balance, time_limit=limit),  # type: ignore[misc]
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dtdp", type=Path, default=None, help="DTDP graph folder")
    parser.add_argument("--only", default="", help="comma-separated groups")
    parser.add_argument("--time-limit", type=float, default=60.0)
    args = parser.parse_args()
    groups = {g.strip() for g in args.only.split(",") if g.strip()} or {
        "budget",
        "keep",
        "islands",
        "cli",
        "readme",
        "dtdp",
    }
    sample = pd.read_csv(gt.sample_path())
    customers = gt.read_customers(gt.sample_path(), measures=["workload", "annual_revenue"])
    units = gt.build_units(customers, measures=["workload", "annual_revenue"])
    limit = args.time_limit
    makers: dict[str, Callable[[], Iterator[dict[str, Any]]]] = {
        "budget": lambda: budget_cases(units, limit),
        "keep": lambda: keep_cases(units, limit),
        "islands": lambda: island_cases(sample, limit),
        "cli": lambda: cli_cases(customers, units, limit),
        "readme": lambda: readme_cases(units, limit),
        "dtdp": lambda: dtdp_cases(args.dtdp or find_dtdp(), limit),
    }
    print("| case | status | worst deviation | time (s) | note |")
    print("|---|---|---|---|---|")
    for group, make in makers.items():
        if group not in groups:
            continue
        for row in make():
            print(
                f"| {row['case']} | {row['status']} | {row['worst']} | {row['seconds']} | "
                f"{row.get('note', '')} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
