"""CLI parts for reps, segments, regions and CRM export (registered from :mod:`geoterr.cli`).

- ``geoterr design CUSTOMERS -k N --reps reps.csv``: territories designed around the reps
  (one per rep when N is the number of reps, else N territories staffed by
  :func:`geoterr.assign_reps`); ``--segments COLUMN`` for one layer per value;
  ``--regions N`` for regions above the territories; ``--key-accounts``.
- ``geoterr assign PLAN --reps reps.csv --out DIR``: staff a saved plan.
- ``geoterr export PLAN --format salesforce|generic --out DIR``: CRM import files.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd

from geoterr._errors import InputError

__all__ = ["add_design_options", "add_subcommands", "run"]

log = logging.getLogger("geoterr.cli")

EXAMPLES = """examples:
  geoterr design customers.csv -k 12 --reps reps.csv --balance workload:0.05 --out plan
  geoterr design customers.csv -k 12 --segments segment --reps reps.csv --regions 3 --out plan
  geoterr assign plan --reps reps.csv --continuity 0.3 --out staffed
  geoterr export staffed --format salesforce --account-column sf_account_id --out sf
"""


def add_design_options(p: argparse.ArgumentParser) -> None:
    """Options of ``geoterr design`` for reps, segments, key accounts and regions."""
    g = p.add_argument_group(
        "reps, segments and regions",
        "With --reps the territories are designed around the reps' homes (one per rep when "
        "-k is the number of reps; otherwise -k territories are staffed by the assignment "
        "model, the rest named 'open territory'); the homes are drawn on the map too.",
    )
    g.add_argument("--segments", metavar="COLUMN", help="one territory layer per value of COLUMN")
    g.add_argument("--regions", type=int, metavar="N", help="group the territories into N regions")
    g.add_argument(
        "--key-accounts",
        metavar="COLUMN|FILE",
        help="accounts held out of the layers: a customers column marking them, or a file "
        "whose first column lists their ids (needs --key-account-reps)",
    )
    g.add_argument(
        "--key-account-reps",
        metavar="COLUMN",
        help="customers column naming each key account's rep",
    )
    g.add_argument(
        "--continuity",
        type=float,
        default=0.0,
        help="with --reps and -k not the number of reps: share of travel a rep's current "
        "territory is discounted by (0-1, default 0)",
    )


def _assign_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--continuity", type=float, default=0.0, help="0-1: keep current territories")
    p.add_argument("--min-kept", type=int, help="at least this many reps keep their territory")
    p.add_argument("--requires", help="column whose values a territory's rep must have as skills")
    p.add_argument("--costs", type=Path, help="CSV rep x territory costs (index rep ids)")
    p.add_argument("--visits", help="customers column of visits weighting travel")
    cap = p.add_mutually_exclusive_group()
    cap.add_argument(
        "--capacity",
        dest="capacity",
        action="store_true",
        default=None,
        help="match rep FTE to territory size",
    )
    cap.add_argument("--no-capacity", dest="capacity", action="store_false")
    p.add_argument("--allow-unassigned", action="store_true", help="more reps than territories")


def add_subcommands(sub: Any) -> None:
    """Add the ``assign`` and ``export`` subcommands."""
    a = sub.add_parser(
        "assign",
        help="assign reps to the territories of a saved plan",
        description="Give each territory of a plan folder a rep (HiGHS assignment model: "
        "travel from home, skills, FTE, continuity) and write the staffed plan.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    a.add_argument("plan", type=Path, help="a plan folder written by `geoterr design`")
    a.add_argument("--reps", type=Path, required=True, help="CSV of reps (see data/reps.csv)")
    a.add_argument("--out", "-o", type=Path, required=True, help="folder for the staffed plan")
    _assign_options(a)
    a.add_argument("--regions", type=int, metavar="N", help="also group into N regions")
    a.add_argument("--no-map", action="store_true", help="do not write map.html")
    a.add_argument("--overwrite", action="store_true", help="replace an earlier plan in --out")
    a.add_argument("--quiet", "-q", action="store_true", help="no progress messages")

    e = sub.add_parser(
        "export",
        help="write CRM import files for a saved plan",
        description="Write a plan folder (or a layered plan) as CRM import CSVs: generic "
        "(accounts.csv, territories.csv) or Salesforce Enterprise Territory Management "
        "(Territory2, ObjectTerritory2Association, UserTerritory2Association).",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    e.add_argument("plan", type=Path, help="a plan folder (geoterr design / assign)")
    e.add_argument("--format", choices=["generic", "salesforce"], default="generic")
    e.add_argument("--out", "-o", type=Path, required=True, help="folder to write")
    e.add_argument("--account-column", help="customers column with the CRM account id")
    e.add_argument("--user-column", help="reps column with the CRM user id")
    e.add_argument("--model-id", help="Salesforce Territory2ModelId for every territory")
    e.add_argument("--type-id", help="Salesforce Territory2TypeId for every territory")
    e.add_argument("--role", default="Owner", help="RoleInTerritory2 (default Owner)")
    e.add_argument(
        "--territory-ids",
        type=Path,
        help="second pass: CSV with Id and DeveloperName of the loaded Territory2 records",
    )
    e.add_argument("--overwrite", action="store_true", help="replace an earlier export in --out")
    e.add_argument("--quiet", "-q", action="store_true", help="no progress messages")


def run(args: argparse.Namespace) -> Any:
    """Handle the command when it is one of ours; None to let :mod:`geoterr.cli` go on."""
    if args.command == "assign":
        return _assign(args)
    if args.command == "export":
        return _export(args)
    if args.command == "design" and (args.reps or args.segments or args.regions):
        return _design(args)
    return None


def _load_any(path: Path) -> Any:
    from geoterr.io.plans import load_plan
    from geoterr.layers import MARKER, load_layers

    return load_layers(path) if (path / MARKER).exists() else load_plan(path)


def _assign(args: argparse.Namespace) -> Any:
    from geoterr.hierarchy import design_regions
    from geoterr.io.plans import check_target, load_plan
    from geoterr.rep_assign import assign_reps

    check_target(args.out, overwrite=args.overwrite, name="--out")
    plan = load_plan(args.plan)
    plan = assign_reps(
        plan,
        args.reps,
        costs=args.costs,
        visits=args.visits,
        requires=args.requires,
        continuity=args.continuity,
        min_kept=args.min_kept,
        capacity=args.capacity,
        allow_unassigned=args.allow_unassigned,
    )
    if args.regions:
        plan = design_regions(plan, args.regions)
    folder = plan.save(args.out, map=not args.no_map, overwrite=args.overwrite)
    _report(plan, folder, args.quiet)
    return plan


def _export(args: argparse.Namespace) -> Any:
    from geoterr.crm_export import export_plan

    plan = _load_any(args.plan)
    folder = export_plan(
        plan,
        args.out,
        format=args.format,
        account_column=args.account_column,
        user_column=args.user_column,
        territory2_model_id=args.model_id,
        territory2_type_id=args.type_id,
        role=args.role,
        territory_ids=args.territory_ids,
        overwrite=args.overwrite,
    )
    log.info("%s export written to %s", args.format, folder)
    if not args.quiet:
        names = ", ".join(sorted(p.name for p in folder.glob("*.csv")))
        print(f"{args.format} files in {folder}: {names}")
    return SimpleNamespace(status="feasible")


def _key_accounts(value: str | None, customers: Any) -> Any:
    if value is None:
        return None
    if value in customers.columns:
        return value
    path = Path(value)
    if path.exists():
        return pd.read_csv(path, dtype=str).iloc[:, 0].dropna().tolist()
    msg = f"--key-accounts {value!r} is neither a customers column nor a file of account ids."
    raise InputError(msg)


def _design(args: argparse.Namespace) -> Any:
    from geoterr import cli_outputs as outputs
    from geoterr.cli import _unit_options, read_design_input
    from geoterr.hierarchy import design_regions
    from geoterr.layers import design_layers
    from geoterr.rep_assign import assign_reps
    from geoterr.reps import design_for_reps, read_reps, rep_homes
    from geoterr.units import build_units

    started = time.perf_counter()
    if args.segments and args.figure is not None:
        msg = (
            "--figure draws one plan; with --segments draw each layer afterwards with "
            "`geoterr map OUT/layers/NAME --figure FILE`."
        )
        raise InputError(msg)
    customers, balance, measures, before, targets = read_design_input(args)
    reps = read_reps(args.reps) if args.reps else None
    design_options = {
        "objective": args.objective,
        "solver": args.solver,
        "time_limit": args.time_limit,
        "random_state": args.seed,
        "verbose": not args.quiet,
    }
    if args.max_distance is not None:
        design_options["max_distance"] = args.max_distance
    if args.segments:
        if reps is not None:
            log.info("--segments with --reps: one territory per rep serving each segment")
        plan: Any = design_layers(
            customers,
            segment=args.segments,
            n_territories=None if reps is not None else args.territories,
            reps=reps,
            key_accounts=_key_accounts(args.key_accounts, customers),
            key_account_reps=args.key_account_reps,
            measures=measures,
            balance=balance,
            method=args.units,
            unit_options=_unit_options(args),
            n_regions=args.regions,
            **design_options,
        )
        folder = plan.save(args.out, map=not args.no_map, overwrite=args.overwrite)
    else:
        if args.key_accounts:
            msg_0 = "--key-accounts needs --segments (key accounts form their own layer)."
            raise InputError(msg_0)
        units = build_units(customers, method=args.units, measures=measures, **_unit_options(args))
        # A realignment (--current) keeps the current territories' names and moves as few
        # customers as it may; the reps are then matched to the territories (continuity).
        if reps is not None and args.territories == len(reps) and not args.current:
            plan = design_for_reps(
                units, reps, balance=balance, current=args.current, **design_options
            )
        else:
            from geoterr.design import design

            plan = design(
                units,
                args.territories,
                balance=balance,
                current=args.current,
                max_moved=args.max_moved,
                keep_territories=args.keep_territory,
                enclaves=args.enclaves,
                **design_options,
            )
            if reps is not None:
                plan = assign_reps(plan, reps, continuity=args.continuity)
        if args.regions:
            plan = design_regions(plan, args.regions)
        targets["reps"] = rep_homes(plan)  # the map and figure show the reps who got territories
        folder = outputs.save_design(plan, before, args, targets)
    log.info("done in %.1f s", time.perf_counter() - started)
    _report(plan, folder, args.quiet)
    return plan


def _report(plan: Any, folder: Path, quiet: bool) -> None:
    if quiet:
        return
    roster = plan.roster
    if roster is not None:
        shown = [
            c
            for c in (
                "layer",
                "rep",
                "name",
                "territory",
                "region",
                "customers",
                "workload",
                "fte",
                "kept",
                "status",
            )
            if c in roster.columns
        ]
        with pd.option_context("display.width", 140, "display.max_columns", 20):
            print(roster[shown].to_string(index=False))
    from geoterr.cli import status_line
    from geoterr.plan import Plan

    if isinstance(plan, Plan):  # what was balanced, and a gap only for a plan that keeps it
        print(status_line(plan, folder))
    else:
        print(f"status: {plan.status}; plan in {folder}")
    for problem in plan.problems:
        print(f"  not kept: {problem}")
