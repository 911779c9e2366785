"""The ``geoterr`` command: a thin wrapper over the public API."""

from __future__ import annotations

import argparse
import logging
import sys
import textwrap
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from geoterr import __version__
from geoterr._errors import GeoterrError, InputError
from geoterr.design import design
from geoterr.design.problem import parse_balance_text
from geoterr.io import read_customers, sample_path
from geoterr.maps import before_after_map, plan_map
from geoterr.plan import Plan
from geoterr.plan_files import check_target, load_plan
from geoterr.units import build_units

log = logging.getLogger("geoterr.cli")

EPILOG = """examples:
  geoterr demo --out demo_plan
  geoterr design customers.csv --territories 12 --balance workload:0.05 --out plan
  geoterr design crm_export.csv --territories 8 --balance "workload:3%,annual_revenue:10%" \\
      --id-col AccountNumber --lat BillingLatitude --lon BillingLongitude --out plan
  geoterr design customers.csv -k 12 --current current_territory --max-moved 600 \\
      --reps reps.csv --figure plan.png --out plan
  geoterr map plan --before last_year_plan --side-by-side compare.html
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="geoterr",
        description="Design balanced, contiguous, compact sales territories.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"geoterr {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    d = sub.add_parser(
        "design",
        help="design territories for a customer file",
        description="Read customers, build units, design territories and write the plan folder "
        "(assignments.csv, territories.geojson, summary.csv, map.html, plan.json).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    d.add_argument("customers", help="CSV, GeoJSON, GeoPackage or Parquet file of customers")
    d.add_argument("--territories", "-k", type=int, required=True, help="number of territories")
    _design_options(d)
    d.add_argument("--id-col", help="customer id column (default: found from common names)")
    d.add_argument("--lat", help="latitude column (default: found from common names)")
    d.add_argument("--lon", help="longitude column (default: found from common names)")
    d.add_argument("--crs", help="CRS of projected coordinates, e.g. EPSG:3857")
    d.add_argument("--layer", help="layer of a GeoPackage, or sheet of an .xlsx workbook")
    d.add_argument(
        "--encoding",
        help="encoding of a CSV file, e.g. cp1252 (default: detected, and said when not UTF-8)",
    )
    d.add_argument(
        "--drop-invalid",
        action="store_true",
        help="drop rows with bad coordinates or measures (with a warning listing them) "
        "instead of stopping",
    )

    demo = sub.add_parser(
        "demo",
        help="design territories for the shipped sample customers",
        description="Design territories for the 4,500 sample accounts shipped with geoterr "
        "and write the plan folder with its map.",
    )
    demo.add_argument("--territories", "-k", type=int, default=12, help="default: 12")
    _design_options(demo, default_balance="workload:0.05")

    m = sub.add_parser(
        "map",
        help="draw the maps of a saved plan",
        description="Write the interactive map of a plan folder again, with options: who "
        "moved against an earlier plan or a column, rep homes, tiles, a before | after page "
        "and a static figure. By default the plan folder's map.html is replaced; --out "
        "writes the map elsewhere.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    m.add_argument("plan", type=Path, help="a plan folder written by `geoterr design`")
    m.add_argument(
        "--out", "-o", type=Path, help="HTML file to write (default: map.html in the plan folder)"
    )
    m.add_argument(
        "--side-by-side",
        type=Path,
        metavar="HTML",
        help="also write the earlier and the new plan side by side (needs --before PLAN)",
    )
    _map_options(m)
    m.add_argument("--quiet", "-q", action="store_true", help="no progress messages")
    return parser


def _map_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tiles", help="map background tiles, e.g. OpenStreetMap (default: none)")
    p.add_argument(
        "--before",
        help="what the territories were: an earlier plan folder, or the customers column "
        "holding the current territory; the map shows the customers that moved",
    )
    p.add_argument(
        "--reps",
        type=Path,
        help="CSV of reps (name, territory, home_latitude, home_longitude) to show their homes",
    )
    p.add_argument(
        "--figure", type=Path, help="also save a static figure of the plan (.png, .svg, .pdf)"
    )


def _design_options(p: argparse.ArgumentParser, default_balance: str | None = None) -> None:
    p.add_argument(
        "--balance",
        default=default_balance,
        help="measures to balance with their tolerance, e.g. workload:0.05 or "
        '"workload:3%%,annual_revenue:10%%" (default: '
        f"{default_balance or 'customer count within 5%%'})",
    )
    p.add_argument("--out", "-o", required=True, type=Path, help="folder to write the plan to")
    p.add_argument(
        "--measures",
        default="",
        help="extra numeric columns to total per territory, comma-separated",
    )
    p.add_argument(
        "--units",
        choices=["voronoi", "points", "hex", "polygons"],
        default="voronoi",
        help="kind of basic unit (default voronoi; hex = H3 hexagons; polygons = --polygons)",
    )
    p.add_argument("--resolution", type=int, help="hex: H3 resolution (0-15)")
    p.add_argument("--n-units", type=int, help="hex: choose the resolution for about this many")
    p.add_argument(
        "--max-load",
        help="hex: split cells holding more than this, e.g. workload:500 (comma-separated)",
    )
    p.add_argument("--polygons", type=Path, help="polygons: file of areas (GeoPackage, GeoJSON)")
    p.add_argument("--polygon-id", help="polygons: the column with the area ids")
    p.add_argument(
        "--islands",
        choices=["connect", "separate", "raise"],
        default="connect",
        help="separate parts of the unit graph: link them (default), give each its own "
        "territories, or stop",
    )
    p.add_argument("--objective", choices=["distance", "inertia"], default="distance")
    p.add_argument("--solver", default="highs", help="highs (default) or cbc")
    p.add_argument("--time-limit", type=float, default=120.0, help="seconds (default 120)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument(
        "--current",
        help="realign: the customers column holding the current territory; the names are "
        "kept and the map shows the customers that moved",
    )
    p.add_argument(
        "--max-moved", type=int, help="realign: at most this many customers change territory"
    )
    _map_options(p)
    p.add_argument("--no-map", action="store_true", help="do not write map.html")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress messages")


def _unit_options(args: argparse.Namespace) -> dict[str, Any]:
    """build_units options from the command line (only those the unit kind takes)."""
    options: dict[str, Any] = {"islands": getattr(args, "islands", "connect")}
    kind = getattr(args, "units", "voronoi")
    if kind == "hex":
        options.update(resolution=args.resolution, n_units=args.n_units)
        if args.max_load:
            options["max_load"] = _max_load(args.max_load)
    elif kind == "polygons":
        if args.polygons is None:
            raise InputError("--units polygons needs --polygons FILE (the areas).")
        options.update(polygons=gpd.read_file(args.polygons), polygon_id=args.polygon_id)
    return options


def _max_load(text: str) -> dict[str, float]:
    """``"workload:500,customers:40"`` -> {"workload": 500.0, "customers": 40.0}."""
    caps = {}
    for part in text.split(","):
        name, _, value = part.strip().rpartition(":")
        try:
            caps[name] = float(value)
        except ValueError:
            name = ""
        if not name:
            msg = f"--max-load {text!r}: give measure:cap pairs, e.g. workload:500,customers:40."
            raise InputError(msg) from None
    return caps


def _say(message: str) -> None:
    print(textwrap.fill(message, width=100, subsequent_indent="  "), file=sys.stderr)


def _before(value: str | None) -> Any:
    """``--before``: an earlier plan folder (read), else a customers column name."""
    if value is not None and (Path(value) / "plan.json").exists():
        return load_plan(value)
    return value


def _figure(plan: Plan, path: Path, reps: Path | None) -> None:
    """Save the static figure without pyplot (no display needed)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 7), layout="tight")
    plan.plot(figure.add_subplot(), reps=reps)
    figure.savefig(path, dpi=150)
    log.info("figure written to %s", path)


def _map(args: argparse.Namespace) -> Plan:
    plan = load_plan(args.plan)
    before = _before(args.before)
    if args.side_by_side is not None and not isinstance(before, Plan):
        msg = "--side-by-side needs --before with an earlier plan folder (one with plan.json)."
        raise InputError(msg)
    out = args.out or args.plan / "map.html"
    plan_map(plan, tiles=args.tiles, before=before, reps=args.reps).save(str(out))
    log.info("map written to %s", out)
    if args.side_by_side is not None:
        before_after_map(before, plan, tiles=args.tiles, reps=args.reps).save(
            str(args.side_by_side)
        )
        log.info("before | after page written to %s", args.side_by_side)
    if args.figure is not None:
        _figure(plan, args.figure, args.reps)
    return plan


def _run(args: argparse.Namespace) -> Plan:
    if args.command == "map":
        return _map(args)
    started = time.perf_counter()
    if args.command == "demo":
        source: Any = sample_path()
        read_opts: dict[str, Any] = {}
        extra = ["annual_revenue", "visits_per_year"]
    else:
        source = args.customers
        read_opts = {
            "id_col": args.id_col,
            "lat": args.lat,
            "lon": args.lon,
            "crs": args.crs,
            "layer": args.layer,
            "on_invalid": "drop" if args.drop_invalid else "raise",
            "encoding": args.encoding,
        }
        extra = []
    extra += [m.strip() for m in args.measures.split(",") if m.strip()]
    check_target(args.out)  # refuse a bad output folder before any work
    before = _before(args.before)
    balance = parse_balance_text(args.balance) if args.balance else None
    balanced = list(balance or {})
    measures = list(dict.fromkeys([m for m in balanced if m != "customers"] + extra))

    log.info("reading customers from %s", source)
    customers = read_customers(source, measures=measures, **read_opts)
    for option, column in (("--current", args.current), ("--before", before)):
        if isinstance(column, str) and column not in customers.columns:
            folder = " nor a plan folder (no plan.json)" if option == "--before" else ""
            msg = (
                f"{option} {column!r} is not a customers column{folder}; "
                f"columns: {', '.join(map(str, customers.columns))}."
            )
            raise InputError(msg)
    log.info("%d customers read (id column %r)", len(customers), customers.index.name)
    units = build_units(customers, method=args.units, measures=measures, **_unit_options(args))
    log.info(
        "%d %s units, %d neighbour links", len(units), args.units, units.graph.number_of_edges()
    )
    plan = design(
        units,
        args.territories,
        balance=balance,
        objective=args.objective,
        solver=args.solver,
        time_limit=args.time_limit,
        random_state=args.seed,
        verbose=not args.quiet,
        current=args.current,
        max_moved=args.max_moved,
    )
    log.info("writing the plan to %s", args.out)
    folder = plan.save(
        args.out,
        map=not args.no_map,
        tiles=args.tiles,
        before=before,
        reps=args.reps,
    )
    if args.figure is not None:
        _figure(plan, args.figure, args.reps)
    log.info("done in %.1f s", time.perf_counter() - started)
    if not args.quiet:
        columns = [c for c in plan.summary().columns if c in ("customers", *measures)]
        columns += [c for c in plan.summary().columns if c.endswith("_deviation")]
        columns += ["contiguous"]
        with pd.option_context("display.width", 120, "display.max_columns", 20):
            print(plan.summary()[columns].round(3).to_string())
        gap = f"{plan.gap:.2%}" if plan.gap is not None else "n/a"
        print(f"status: {plan.status}; objective gap to the LP bound: {gap}; plan in {folder}")
    return plan


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = _parser().parse_args(argv)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("geoterr: %(message)s"))
    package_log = logging.getLogger("geoterr")
    package_log.addHandler(handler)
    package_log.setLevel(logging.WARNING if args.quiet else logging.INFO)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                plan = _run(args)
            finally:
                for w in caught:
                    _say(f"geoterr: warning: {w.message}")
    except GeoterrError as exc:
        _say(f"geoterr: error: {exc}")
        return 1
    except KeyboardInterrupt:
        _say("geoterr: interrupted; nothing was written.")
        return 130
    except Exception as exc:
        _say(
            f"geoterr: unexpected error ({type(exc).__name__}): {exc}. Nothing was written. "
            "Please report it with the command you ran."
        )
        return 1
    finally:
        package_log.removeHandler(handler)
    return 0 if args.command == "map" or plan.status == "feasible" else 3


if __name__ == "__main__":
    sys.exit(main())
