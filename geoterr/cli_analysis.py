"""The analysis commands: ``evaluate``, ``compare``, ``size``, ``track`` and ``report``.

A thin layer over :mod:`geoterr.evaluation`, :mod:`geoterr.comparison`,
:mod:`geoterr.sizing`, :mod:`geoterr.tracking` and :mod:`geoterr.report`; registered by
:mod:`geoterr.cli`. A PLAN argument is a plan folder (with ``plan.json``) or
``CUSTOMERS_FILE:COLUMN``, the territories customers are in today.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from geoterr._errors import InputError
from geoterr.comparison import compare
from geoterr.evaluation import evaluate, plan_from_column
from geoterr.io import read_customers
from geoterr.io.plans import load_plan
from geoterr.plan import Plan
from geoterr.sales import read_sales
from geoterr.sizing import size_territories
from geoterr.targets import Targets, split_targets
from geoterr.tracking import PERIODS, Tracking, track

__all__ = ["ANALYSIS_COMMANDS", "add_analysis_commands", "run_analysis"]

log = logging.getLogger("geoterr.cli")

ANALYSIS_COMMANDS = ("evaluate", "compare", "size", "track", "report")
PLAN_HELP = "a plan folder (with plan.json), or CUSTOMERS_FILE:COLUMN for territories in a column"


def add_analysis_commands(sub: Any) -> None:
    """Add the analysis subcommands to the ``geoterr`` parser's subparsers."""
    e = sub.add_parser(
        "evaluate",
        help="measure a plan: balance, compactness, contiguity, travel",
        description="Measure a plan per territory and overall; writes territories.csv, "
        "balance.csv and overall.csv.",
    )
    e.add_argument("plan", help=PLAN_HELP)
    _common(e)
    e.add_argument("--visits", help="customers column with visits (weighs travel)")
    e.add_argument(
        "--distances", type=Path, help="CSV of road distances: customer id, km (from its origin)"
    )

    c = sub.add_parser(
        "compare",
        help="compare plans: who moves, what changes hands",
        description="Compare a base plan with one or more others; writes moved.csv (one row "
        "per customer that changed territory), territories.csv (before/after per territory), "
        "flows.csv, reps_affected.csv, scenarios.csv and only_in.csv when the customer sets "
        "differ.",
    )
    c.add_argument("plans", nargs="+", metavar="PLAN", help=f"base first, then others: {PLAN_HELP}")
    c.add_argument("--names", help="comma-separated names of the plans (default before,after)")
    c.add_argument(
        "--match",
        action="store_true",
        help="name each new territory after the old one it shares most customers with",
    )
    _common(c)

    s = sub.add_parser(
        "size",
        help="how many territories does the workload need?",
        description="Design a plan for each number of territories in a range; writes "
        "sizing.csv and sizing.png and names the smallest k that meets the workload per rep.",
    )
    s.add_argument("customers", help="customer file (CSV, GeoJSON, GeoPackage, Parquet)")
    s.add_argument("--workload-per-rep", type=float, help="the workload one rep can carry")
    s.add_argument("--range", dest="k_range", help="numbers of territories, e.g. 10:16")
    s.add_argument("--measure", default="workload", help="the workload column (default workload)")
    s.add_argument("--balance", help="balance for every design, e.g. workload:0.05 (default)")
    s.add_argument("--time-limit", type=float, default=10.0, help="seconds per design (default 10)")
    s.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    _read_options(s)
    _out(s)

    t = sub.add_parser(
        "track",
        help="track sales per territory, rep and region",
        description="Join sales records to a plan; writes by_territory.csv (and by_rep.csv, "
        "by_region.csv), laggards.csv, sales_issues.csv, empty_periods.csv and targets.csv.",
    )
    t.add_argument("plan", help=PLAN_HELP)
    _sales_options(t)
    _common(t, measures=False)

    r = sub.add_parser(
        "report",
        help="write report.html and report.xlsx for a plan",
        description="A self-contained HTML report (tables, charts, the map; no network) and "
        "an Excel workbook with the same tables: the plan, and with --before the realignment, "
        "with --sales the performance.",
    )
    r.add_argument("plan", help=PLAN_HELP)
    r.add_argument("--before", help=f"the plan before: {PLAN_HELP}")
    r.add_argument("--title", help="the report's title")
    r.add_argument("--no-map", action="store_true", help="leave the map out")
    _sales_options(r, required=False)
    _common(r, measures=False)


def _out(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", "-o", required=True, type=Path, help="folder to write to")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress messages")


def _read_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--id-col", help="customer id column (default: found from common names)")
    p.add_argument("--lat", help="latitude column (default: found from common names)")
    p.add_argument("--lon", help="longitude column (default: found from common names)")


def _common(p: argparse.ArgumentParser, measures: bool = True) -> None:
    p.add_argument(
        "--reps", type=Path, help="CSV of reps (name, territory, home_latitude, home_longitude)"
    )
    if measures:
        p.add_argument("--measures", help="comma-separated measures (default: the plan's)")
    _read_options(p)
    _out(p)


def _sales_options(p: argparse.ArgumentParser, required: bool = True) -> None:
    p.add_argument(
        "--sales", type=Path, required=required, help="CSV of sales (customer, date, amount...)"
    )
    p.add_argument("--by", choices=list(PERIODS), default="quarter", help="default quarter")
    p.add_argument("--target-total", type=float, help="company target per year, split by --basis")
    p.add_argument(
        "--basis",
        help="what --target-total is split by: a customers column (potential), or 'history' "
        "for the revenue in the sales records (default: --potential, else history)",
    )
    p.add_argument("--targets", type=Path, help="CSV of annual targets: territory, target")
    p.add_argument(
        "--potential", help="annual potential: a customers column, or a CSV of customer, value"
    )
    p.add_argument("--rep-column", help="customers column naming the rep (instead of --reps)")
    p.add_argument("--regions", type=Path, help="CSV of territory, region")
    p.add_argument("--region-column", help="customers column naming the region")
    p.add_argument("--currency-column", help="the sales column holding the currency")
    p.add_argument("--currency", help="with --currency-column: count only this currency")
    p.add_argument("--today", help="records after this date are reported (default: now)")
    p.add_argument("--trend-periods", type=int, default=3, help="falling trend over N periods")
    p.add_argument(
        "--strict", action="store_true", help="stop on any bad sales record instead of reporting"
    )


def _read_args(args: argparse.Namespace) -> dict[str, Any]:
    return {"id_col": args.id_col, "lat": args.lat, "lon": args.lon}


def read_plan(text: str, read_options: Mapping[str, Any] | None = None) -> Plan:
    """Return a PLAN argument: a plan folder, or ``CUSTOMERS_FILE:COLUMN``."""
    folder = Path(text)
    if folder.is_dir() and (folder / "plan.json").exists():
        return load_plan(folder)
    source, sep, column = text.rpartition(":")
    if sep and source and Path(source).is_file():
        customers = read_customers(source, **(read_options or {}))
        log.info("territories from column %r of %s (%d customers)", column, source, len(customers))
        return plan_from_column(customers, column)
    msg = (
        f"PLAN {text!r} is neither a plan folder (with plan.json) nor CUSTOMERS_FILE:COLUMN "
        "(e.g. customers.csv:current_territory) with an existing file."
    )
    raise InputError(msg)


def _measures(args: argparse.Namespace) -> list[str] | None:
    text = getattr(args, "measures", None)
    return [m.strip() for m in text.split(",") if m.strip()] if text else None


def _two_columns(path: Path, what: str) -> pd.Series:
    table = pd.read_csv(path, dtype={0: str})
    if table.shape[1] < 2:
        msg = f"{what} {str(path)!r} needs two columns (key, value); it has {table.shape[1]}."
        raise InputError(msg)
    return pd.Series(table.iloc[:, 1].to_numpy(), index=table.iloc[:, 0].astype(str))


def write_outputs(out: Path, files: Mapping[str, Callable[[Path], Any]]) -> list[Path]:
    """Write each file with its writer into a scratch folder, then move them all into ``out``.

    A failure leaves ``out`` as it was.
    """
    if out.exists() and not out.is_dir():
        msg = f"--out {str(out)!r} is a file; give a folder."
        raise InputError(msg)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".geoterr.", dir=out))
    try:
        for name, writer in files.items():
            writer(work / name)
        written = []
        for name in files:
            os.replace(work / name, out / name)
            written.append(out / name)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for path in written:
        log.info("wrote %s", path)
    return written


def _csv(table: pd.DataFrame, index: bool = True) -> Callable[[Path], Any]:
    return lambda path: table.to_csv(path, index=index)


def _evaluate(args: argparse.Namespace) -> None:
    plan = read_plan(args.plan, _read_args(args))
    distances = None
    if args.distances is not None:
        distances = pd.to_numeric(_two_columns(args.distances, "--distances"), errors="coerce")
        assert plan.customers is not None
        distances.index = distances.index.map(
            dict(zip(plan.customers.index.map(str), plan.customers.index, strict=True))
        )
    log.info("evaluating %d territories", len(plan.territories))
    result = evaluate(
        plan, measures=_measures(args), reps=args.reps, visits=args.visits, distances=distances
    )
    write_outputs(
        args.out,
        {
            "territories.csv": _csv(result.territories),
            "balance.csv": _csv(result.balance),
            "overall.csv": _csv(result.overall.rename_axis("figure").to_frame()),
        },
    )
    if not args.quiet:
        print(result.balance.round(4).to_string())


def _compare(args: argparse.Namespace) -> None:
    plans = [read_plan(p, _read_args(args)) for p in args.plans]
    names = [n.strip() for n in args.names.split(",")] if args.names else None
    log.info("comparing %d plans", len(plans))
    result = compare(
        *plans, names=names, measures=_measures(args), reps=args.reps, match=args.match
    )
    files = {
        "moved.csv": _csv(result.moved, index=False),
        "territories.csv": _csv(result.territories, index=False),
        "flows.csv": _csv(result.flows, index=False),
        "reps_affected.csv": _csv(result.reps_affected, index=False),
        "scenarios.csv": _csv(result.scenarios),
    }
    if len(result.only_in):
        files["only_in.csv"] = _csv(result.only_in, index=False)
    if len(result.matches):
        files["matches.csv"] = _csv(result.matches, index=False)
    write_outputs(args.out, files)
    if not args.quiet:
        print(result.scenarios.T.to_string())


def _size(args: argparse.Namespace) -> None:
    from geoterr.design.problem import parse_balance_text

    balance = parse_balance_text(args.balance) if args.balance else None
    extra = [m for m in (balance or {}) if m not in (args.measure, "customers")]
    customers = read_customers(args.customers, measures=[args.measure, *extra], **_read_args(args))
    design_log = logging.getLogger("geoterr.design")
    level = design_log.level
    design_log.setLevel(logging.WARNING)  # one progress line per k, not per round
    try:
        result = size_territories(
            customers,
            workload_per_rep=args.workload_per_rep,
            k_range=args.k_range,
            measure=args.measure,
            balance=balance,
            time_limit=args.time_limit,
            random_state=args.seed,
        )
    finally:
        design_log.setLevel(level)
    write_outputs(
        args.out,
        {
            "sizing.csv": _csv(result.table),
            "sizing.png": lambda path: result.figure().savefig(path, dpi=120),
        },
    )
    if not args.quiet:
        print(result.table.drop(columns=["message"]).round(3).to_string())
        print(result.note)


def _tracking(args: argparse.Namespace, plan: Plan) -> tuple[Tracking, Targets | None]:
    assert plan.customers is not None
    sales = read_sales(
        args.sales,
        currency=args.currency_column,
        keep_currency=args.currency,
        known_customers=plan.customers.index.map(str),
        today=args.today,
        on_invalid="raise" if args.strict else "report",
    )
    potential = _potential(args, plan)
    targets: Any = None
    split = None
    if args.targets is not None:
        targets = pd.to_numeric(_two_columns(args.targets, "--targets"), errors="coerce")
    elif args.target_total is not None:
        basis: Any = args.basis or potential
        if basis is None or basis == "history":
            basis = sales
        split = split_targets(plan, args.target_total, basis=basis, reps=args.reps)
        targets = split
    regions = None
    if args.regions is not None:
        regions = _two_columns(args.regions, "--regions").astype(str)
    log.info("tracking %d sales records by %s", len(sales.records), args.by)
    result = track(
        plan,
        sales,
        by=args.by,
        targets=targets,
        potential=potential,
        reps=None if args.rep_column else args.reps,
        rep_column=args.rep_column,
        regions=regions,
        region_column=args.region_column,
        trend_periods=args.trend_periods,
        today=args.today,
    )
    return result, split


def _potential(args: argparse.Namespace, plan: Plan) -> Any:
    """--potential: a customers column name, or a CSV of customer, value (as a Series)."""
    potential: Any = args.potential
    if potential is not None and Path(potential).is_file():
        assert plan.customers is not None
        values = pd.to_numeric(_two_columns(Path(potential), "--potential"), errors="coerce")
        potential = pd.Series(
            values.reindex(plan.customers.index.map(str)).to_numpy(), index=plan.customers.index
        )
    return potential


def _track(args: argparse.Namespace) -> None:
    plan = read_plan(args.plan, _read_args(args))
    result, split = _tracking(args, plan)
    files = {
        "by_territory.csv": _csv(result.territories, index=False),
        "laggards.csv": _csv(result.laggards),
        "sales_issues.csv": _csv(result.issues, index=False),
        "empty_periods.csv": _csv(result.empty_periods, index=False),
    }
    if result.reps is not None:
        files["by_rep.csv"] = _csv(result.reps, index=False)
    if result.regions is not None:
        files["by_region.csv"] = _csv(result.regions, index=False)
    if split is not None:
        files["targets.csv"] = _csv(split.territories)
    write_outputs(args.out, files)
    if not args.quiet:
        columns = ["revenue", "attainment", "growth_yoy", "falling_periods", "laggard", "reason"]
        print(result.laggards[[c for c in columns if c in result.laggards]].to_string())


def _report(args: argparse.Namespace) -> None:
    from geoterr.report import write_report

    plan = read_plan(args.plan, _read_args(args))
    before = read_plan(args.before, _read_args(args)) if args.before else None
    tracking, split = (None, None)
    if args.sales is not None:
        tracking, split = _tracking(args, plan)
    elif args.target_total is not None:
        basis = args.basis if args.basis not in (None, "history") else _potential(args, plan)
        if basis is None:
            msg = (
                "--target-total needs what to split it by: --basis COLUMN (a potential), "
                "--potential, or --sales for the revenue history."
            )
            raise InputError(msg)
        split = split_targets(plan, args.target_total, basis=basis, reps=args.reps)
    log.info("writing the report")
    paths = write_report(
        plan,
        args.out,
        before=before,
        tracking=tracking,
        targets=split,
        reps=args.reps,
        title=args.title,
        map=not args.no_map,
    )
    for path in paths.values():
        log.info("wrote %s", path)


def run_analysis(args: argparse.Namespace) -> None:
    """Run one analysis command (``args.command`` in :data:`ANALYSIS_COMMANDS`)."""
    handlers = {
        "evaluate": _evaluate,
        "compare": _compare,
        "size": _size,
        "track": _track,
        "report": _report,
    }
    handlers[args.command](args)
