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

import pandas as pd

from geoterr import __version__, cli_reps
from geoterr import cli_outputs as outputs
from geoterr._errors import GeoterrError, InputError
from geoterr.cli_analysis import ANALYSIS_COMMANDS, add_analysis_commands, run_analysis
from geoterr.datasets import sample_path
from geoterr.design import design
from geoterr.design.problem import parse_balance_text
from geoterr.io import read_customers
from geoterr.io.plans import load_plan
from geoterr.plan import Plan
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
    outputs.save_options(d)
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
    cli_reps.add_design_options(d)

    demo = sub.add_parser(
        "demo",
        help="design territories for the shipped sample customers",
        description="Design territories for the 4,500 sample accounts shipped with geoterr "
        "and write the plan folder with its map.",
    )
    demo.add_argument("--territories", "-k", type=int, default=12, help="default: 12")
    _design_options(demo, default_balance="workload:0.05")
    outputs.save_options(demo)

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
    cli_reps.add_subcommands(sub)
    add_analysis_commands(sub)  # evaluate, compare, size, track, report
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
    outputs.map_save_options(p)


DEFAULT_BALANCE_HELP = (
    "workload:0.05 if the file has a workload column, else the customer count within 5%%"
)


def _design_options(p: argparse.ArgumentParser, default_balance: str | None = None) -> None:
    p.add_argument(
        "--balance",
        default=default_balance,
        help="measures to balance with their tolerance, e.g. workload:0.05 or "
        '"workload:3%%,annual_revenue:10%%" (default: '
        + (default_balance or DEFAULT_BALANCE_HELP)
        + ")",
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
    p.add_argument(
        "--objective",
        choices=["distance", "inertia", "diameter", "radius"],
        default="distance",
        help="the sum of distances (default) or of squared distances, or min-max: the "
        "largest territory diameter or radius",
    )
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
    p.add_argument(
        "--keep-territory",
        action="append",
        metavar="NAME",
        help="realign: keep this current territory exactly as it is (repeat for several)",
    )
    p.add_argument(
        "--enclaves",
        choices=["raise", "join"],
        default="raise",
        help="realign with --keep-territory: units cut off by kept territories stop the "
        "design with the numbers (raise, default) or join the kept territory around them",
    )
    p.add_argument(
        "--max-distance",
        type=float,
        metavar="KM",
        help="no customer farther than this many km from their territory's center (the "
        "rep's home with --reps)",
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
            msg = "--units polygons needs --polygons FILE (the areas)."
            raise InputError(msg)
        options.update(polygons=outputs.read_polygons(args.polygons), polygon_id=args.polygon_id)
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
    text = textwrap.fill(
        message, width=100, subsequent_indent="  ", break_on_hyphens=False, break_long_words=False
    )  # paths and option names stay whole
    print(text, file=sys.stderr)


def _before(value: str | None) -> Any:
    """``--before``: an earlier plan folder (read), else a customers column name."""
    if value is not None and (Path(value) / "plan.json").exists():
        return load_plan(value)
    return value


def read_design_input(
    args: argparse.Namespace,
) -> tuple[pd.DataFrame, dict[str, Any], list[str], Any, dict[str, Any]]:
    """Return what every design command starts with, before any long work.

    The save options checked, the customers read and checked, ``--current``/``--before`` found, the
    measures to balance (the default when ``--balance`` is not given). Returns ``(customers,
    balance, measures, before, save targets)``.
    """
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
    targets = outputs.check_design_outputs(args)  # refuse bad save options before any work
    before = _before(args.before)
    balance = parse_balance_text(args.balance) if args.balance else None
    balanced = list(balance or {})
    measures = list(dict.fromkeys([m for m in balanced if m != "customers"] + extra))

    log.info("reading customers from %s", source)
    customers = read_customers(source, measures=measures, **read_opts)
    outputs.check_totals(customers, measures)
    for option, column in (("--current", args.current), ("--before", before)):
        if isinstance(column, str) and column not in customers.columns:
            folder = " nor a plan folder (no plan.json)" if option == "--before" else ""
            msg = (
                f"{option} {column!r} is not a customers column{folder}; "
                f"columns: {', '.join(map(str, customers.columns))}."
            )
            raise InputError(msg)
    log.info("%d customers read (id column %r)", len(customers), customers.index.name)
    if balance is None:
        balance = balance_default(customers)
        measures = list(dict.fromkeys([m for m in balance if m != "customers"] + measures))
    log.info("balancing %s", describe_balance(balance, given=bool(args.balance)))
    return customers, balance, measures, before, targets


def _map(args: argparse.Namespace) -> Plan:
    targets = outputs.check_map_outputs(args)  # every output checked before anything is read
    plan = load_plan(args.plan)
    before = _before(args.before)
    if args.side_by_side is not None and not isinstance(before, Plan):
        msg = "--side-by-side needs --before with an earlier plan folder (one with plan.json)."
        raise InputError(msg)
    outputs.write_maps(plan, before, args, targets)
    return plan


def _run(args: argparse.Namespace) -> Plan | None:
    if args.command in ANALYSIS_COMMANDS:
        run_analysis(args)
        return None
    if args.command == "map":
        return _map(args)
    handled: Plan | None = cli_reps.run(args)  # reps, segments, regions, assign, export
    if handled is not None:
        return handled
    started = time.perf_counter()
    customers, balance, measures, before, targets = read_design_input(args)
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
        keep_territories=args.keep_territory,
        enclaves=args.enclaves,
        max_distance=args.max_distance,
    )
    log.info("writing the plan to %s", args.out)
    saved = outputs.save_design(plan, before, args, targets)
    log.info("done in %.1f s", time.perf_counter() - started)
    if not args.quiet:
        columns = [c for c in plan.summary().columns if c in ("customers", *measures)]
        columns += [c for c in plan.summary().columns if c.endswith("_deviation")]
        columns += ["contiguous"]
        with pd.option_context("display.width", 120, "display.max_columns", 20):
            print(plan.summary()[columns].round(3).to_string())
        print(status_line(plan, saved))
    return plan


DEFAULT_TOLERANCE = 0.05


def balance_default(customers: pd.DataFrame) -> dict[str, Any]:
    """Return what ``geoterr design`` balances without ``--balance``.

    The ``workload`` column within 5 % when the customers have a numeric, non-negative one with a
    positive total (as ``geoterr demo`` does), otherwise the customer count within 5 %.

    Examples
    --------
    >>> balance_default(pd.DataFrame({"workload": [1.0, 2.5]}))
    {'workload': 0.05}
    >>> balance_default(pd.DataFrame({"revenue": [1.0, 2.5]}))
    {'customers': 0.05}
    """
    column = customers.get("workload")
    if column is not None and pd.api.types.is_numeric_dtype(column):
        values = pd.to_numeric(column, errors="coerce")
        if values.notna().all() and (values >= 0).all() and values.sum() > 0:
            return {"workload": DEFAULT_TOLERANCE}
    return {"customers": DEFAULT_TOLERANCE}


def _bound_text(name: str, bound: Any) -> str:
    if isinstance(bound, tuple | list):
        return f"{name} in [{float(bound[0]):g}, {float(bound[1]):g}]"
    return f"{name} within +-{float(bound):.1%}"


def describe_balance(balance: dict[str, Any], *, given: bool) -> str:
    """Return the balanced measures in words, saying when they are the default.

    Examples
    --------
    >>> describe_balance({"workload": 0.05}, given=False)
    'workload within +-5.0% (the default for a file with a workload column; --balance to change)'
    """
    text = ", ".join(_bound_text(name, bound) for name, bound in balance.items())
    if given:
        return text
    why = (
        "the default for a file with a workload column"
        if "workload" in balance
        else "the default: the customer count, as the file has no usable workload column"
    )
    return f"{text} ({why}; --balance to change)"


def status_line(plan: Plan, folder: Any) -> str:
    """Return the last line of ``geoterr design``.

    The status, what was balanced and, only for a plan that keeps every promise, the gap to the LP
    bound (a gap certifies nothing about a plan that breaks a promise).
    """
    balanced = ", ".join(
        _bound_text(name, bound) for name, bound in (plan.params.get("balance") or {}).items()
    )
    spread = plan.params.get("objective")
    if plan.status == "feasible" and spread in ("diameter", "radius"):
        return (
            f"status: feasible (balanced: {balanced}); largest territory {spread}: "
            f"{plan.objective:.6g}; plan in {folder}"
        )
    if plan.status == "feasible":
        gap = f"{plan.gap:.2%}" if plan.gap is not None else "n/a"
        scope = plan.lower_bound_scope or "plan centers"
        return (
            f"status: feasible (balanced: {balanced}); objective gap to the LP bound "
            f"({scope}): {gap}; plan in {folder}"
        )
    count = len(plan.problems)
    return (
        f"status: VIOLATED: the plan breaks {count} promise{'s' if count != 1 else ''} "
        f"(balanced: {balanced}; the warning above, plan.json and the status column of "
        "summary.csv say which, by how much and what would work); no gap is shown, as a gap "
        f"cannot certify a plan that breaks its promises; plan in {folder}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = _parser().parse_args(argv)
    outputs.WRITTEN.clear()
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
        _say(f"geoterr: interrupted. {outputs.written_note()}")
        return 130
    except Exception as exc:
        known = outputs.ordinary_error(exc)
        if known is not None:
            _say(f"geoterr: error: {known} {outputs.written_note()}")
            return 1
        _say(
            f"geoterr: unexpected error ({type(exc).__name__}): {exc}. "
            f"{outputs.written_note()} Please report it with the command you ran."
        )
        return 1
    finally:
        package_log.removeHandler(handler)
    return 0 if args.command == "map" or plan is None or plan.status == "feasible" else 3


if __name__ == "__main__":
    sys.exit(main())
