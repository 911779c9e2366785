"""Map file size and opening time for a plan with many customers, in headless Chromium.

    python benchmarks/map_size.py [--customers 100000] [--territories 50] [--out map_bench]
    python benchmarks/map_size.py --plan map_bench/plan      # re-measure a saved plan

The plan is a real design: ``benchmarks/synthetic.py`` customers (clustered around towns,
lognormal workload) with a name and a segment each, one Voronoi unit per customer,
``geoterr.design`` balancing the workload within 5 %. The plan is saved with its map
(``plan.save``), then the map is opened from the file system in headless Chromium (Debian's
``chromium``, driven by Playwright) with every network request blocked, ``--runs`` times in
fresh pages. Printed: the HTML size (and what the land, coast and border outlines add), the time to
write the map, and per run the seconds
from the start of navigation until the territories and every customer are drawn (the page
script records the moment its canvas first holds all customers), with the count drawn.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
from playwright.sync_api import Route, sync_playwright
from synthetic import synthetic_customers

import geoterr as gt

SEGMENTS = np.array(["Enterprise", "Mid-Market", "SMB"])


def design_plan(n: int, k: int, seed: int) -> gt.Plan:
    """Design ``k`` territories for ``n`` synthetic customers with names and segments."""
    table = synthetic_customers(n, seed)
    rng = np.random.default_rng(seed)
    table["name"] = [f"Account {i:06d} Supply & Services" for i in range(n)]
    table["segment"] = SEGMENTS[rng.choice(3, size=n, p=[0.08, 0.27, 0.65])]
    customers = gt.read_customers(table, measures=["workload", "revenue"])
    units = gt.build_units(customers, measures=["workload", "revenue"])
    return gt.design(units, k, balance={"workload": 0.05}, random_state=seed, time_limit=300)


def open_times(html: Path, runs: int) -> list[dict[str, Any]]:
    """Open ``html`` ``runs`` times; seconds until territories and all customers are drawn."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("no chromium on PATH; install Debian's `chromium` package")
    results = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        for _ in range(runs):
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            errors: list[str] = []
            page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))

            def block(route: Route) -> None:
                if route.request.url.startswith("file://"):
                    route.continue_()
                else:
                    route.abort()

            page.route("**/*", block)
            started = time.perf_counter()
            page.goto(html.resolve().as_uri(), timeout=60_000)
            page.wait_for_function(
                "window.geoterrMaps && window.geoterrMaps.length > 0"
                " && window.geoterrMaps[0].stats().drawnAt !== null",
                timeout=60_000,
            )
            wall = time.perf_counter() - started
            stats = page.evaluate("window.geoterrMaps[0].stats()")
            results.append(
                {
                    "in_page_s": stats["drawnAt"] / 1000,
                    "wall_s": wall,
                    "territories": stats["territories"],
                    "drawn": stats["customersDrawn"],
                    "customers": stats["customers"],
                    "errors": errors,
                }
            )
            page.close()
        browser.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--territories", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("map_bench"))
    parser.add_argument("--plan", type=Path, help="a saved plan folder to map instead")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    if args.plan is not None:
        plan = gt.load_plan(args.plan)
    else:
        start = time.perf_counter()
        plan = design_plan(args.customers, args.territories, args.seed)
        print(
            f"designed {len(plan.territories)} territories in {time.perf_counter() - start:.0f} s"
        )
        plan.save(args.out / "plan", map=False)
    start = time.perf_counter()
    html = args.out / "map.html"
    html.parent.mkdir(parents=True, exist_ok=True)
    gt.plan_map(plan).save(str(html))
    written = time.perf_counter() - start
    size = html.stat().st_size
    assert plan.customers is not None
    print(
        f"{len(plan.customers):,} customers, {len(plan.territories)} territories, "
        f"{plan.status}: map.html {size / 1e6:.1f} MB, written in {written:.1f} s"
    )
    bare = args.out / "map_without_outlines.html"
    gt.plan_map(plan, outlines=False).save(str(bare))
    print(
        f"the outlines (land, coasts, borders) add {(size - bare.stat().st_size) / 1e6:.2f} MB "
        f"(without them: {bare.stat().st_size / 1e6:.1f} MB)"
    )
    runs = open_times(html, args.runs)
    for r in runs:
        print(
            f"  open: all drawn {r['in_page_s']:.2f} s after navigation start "
            f"(wall {r['wall_s']:.2f} s), {r['drawn']:,} of {r['customers']:,} customers, "
            f"{r['territories']} territories, JS errors: {len(r['errors'])}"
        )
    print(f"median: {statistics.median(r['in_page_s'] for r in runs):.2f} s")


if __name__ == "__main__":
    main()
