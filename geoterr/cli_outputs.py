"""What the ``geoterr`` command writes, checked before any work and written all or nothing.

Every save option (``--out``, ``--figure``, ``--reps``, ``--tiles``/``--attr``, ``--side-by-
side``) is checked before the customers are read, so a mistake costs no design time. Files are
rendered to hidden temporary files first and put in place only when all of them are ready;
an existing file or plan is replaced only with ``--overwrite``. Ordinary mistakes that reach
the command from libraries (a file that does not exist, an unknown CRS, a truncated GeoJSON)
are told as such, with the fix, by :func:`ordinary_error`.
"""

from __future__ import annotations

import argparse
import errno
import logging
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from geoterr._errors import GeoterrWarning, InputError
from geoterr.io.folders import (
    check_file_target,
    check_path_arg,
    check_target,
    commit_files,
    discard_files,
    stage_files,
)
from geoterr.io.plans import check_tiles
from geoterr.plan import Plan

__all__ = [
    "WRITTEN",
    "check_design_outputs",
    "check_map_outputs",
    "check_totals",
    "map_save_options",
    "ordinary_error",
    "read_polygons",
    "read_reps",
    "save_design",
    "save_options",
    "write_maps",
    "written_note",
]

log = logging.getLogger("geoterr.cli")

#: What this run of the command has written so far (for honest error messages).
WRITTEN: list[Path] = []

FIGURE_SUFFIXES = (".png", ".svg", ".pdf")
HTML_SUFFIXES = (".html", ".htm")


def save_options(p: argparse.ArgumentParser) -> None:
    """Options of ``design`` and ``demo`` about the plan folder."""
    p.add_argument(
        "--timings",
        action="store_true",
        help="also write timings.json (design seconds, date); without it the same input, "
        "options and seed give byte-identical files",
    )


def map_save_options(p: argparse.ArgumentParser) -> None:
    """Options of every command that writes maps."""
    p.add_argument(
        "--attr",
        help="attribution of custom --tiles given as a URL template "
        "(e.g. --tiles 'https://tiles.example.com/{z}/{x}/{y}.png' --attr '(c) Example')",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an earlier plan folder (--out) or existing output files; files geoterr "
        "did not write are never deleted",
    )


def written_note() -> str:
    """``"Nothing was written."`` or the files written before the error."""
    if not WRITTEN:
        return "Nothing was written."
    return "Written before the error: " + ", ".join(map(str, WRITTEN)) + "."


def read_reps(path: Any) -> pd.DataFrame:
    """Return the ``--reps`` CSV, read and checked (columns, rows) before any work."""
    from geoterr.maps.homes import rep_table

    path = check_path_arg(path, "--reps")
    if not path.is_file():
        what = "is a folder" if path.is_dir() else "does not exist"
        msg = (
            f"--reps {str(path)!r} {what}; give the CSV of reps (name, territory, "
            "home_latitude, home_longitude)."
        )
        raise InputError(msg)
    try:
        table = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        msg = (
            f"--reps {str(path)!r} is empty; give the CSV of reps with a header row (name, "
            "territory, home_latitude, home_longitude) and one row per rep."
        )
        raise InputError(msg) from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        text = str(exc).replace("\n", " ")
        msg = f"--reps {str(path)!r} is not a readable CSV ({text}); save it as a UTF-8 CSV."
        raise InputError(msg) from None
    if table.empty:
        msg = f"--reps {str(path)!r} has a header but no reps; add one row per rep."
        raise InputError(msg)
    try:
        rep_table(table)
    except InputError as exc:
        msg_0 = f"--reps {str(path)!r}: {exc}"
        raise InputError(msg_0) from None
    return table


def _no_polygons(path: Any) -> InputError:
    return InputError(
        f"--polygons {str(path)!r} does not exist; give the file of areas (GeoPackage, "
        "GeoJSON, Shapefile)."
    )


def read_polygons(path: Any) -> gpd.GeoDataFrame:
    """Return the ``--polygons`` file, read with a message for each ordinary problem."""
    import pyogrio.errors

    path = check_path_arg(path, "--polygons")
    if not path.exists():
        raise _no_polygons(path)
    try:
        polygons = gpd.read_file(path)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        msg = (
            f"--polygons {str(path)!r} could not be read as geodata ({exc}); it may be "
            "truncated or not a GeoPackage, GeoJSON or Shapefile: export it again."
        )
        raise InputError(msg) from None
    if polygons.empty:
        msg = f"--polygons {str(path)!r} holds no areas; give the file of areas."
        raise InputError(msg)
    if polygons.crs is None:
        x0, y0, x1, y1 = polygons.total_bounds
        if -180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90:
            warnings.warn(
                f"--polygons {str(path)!r} has no CRS; its coordinates look like longitude "
                "and latitude, so EPSG:4326 is assumed. Save it with its CRS to be sure.",
                GeoterrWarning,
                stacklevel=2,
            )
            return polygons.set_crs(4326)
        msg = (
            f"--polygons {str(path)!r} has no CRS and its coordinates are not degrees (x from "
            f"{x0:,.0f} to {x1:,.0f}, y from {y0:,.0f} to {y1:,.0f}: metres?); save it with "
            "its CRS (a shapefile needs its .prj), e.g. ogr2ogr -a_srs EPSG:32614 out.gpkg "
            "in.shp."
        )
        raise InputError(msg)
    return polygons


def _check_crs(text: str | None) -> None:
    if text is None:
        return
    import pyproj

    try:
        pyproj.CRS.from_user_input(text)
    except pyproj.exceptions.CRSError:
        msg = (
            f"--crs {text!r} is not a coordinate reference system geoterr knows; give an EPSG "
            "code such as EPSG:3857 (web mercator) or EPSG:32614 (UTM zone 14N)."
        )
        raise InputError(msg) from None


def _common(args: argparse.Namespace) -> dict[str, Any]:
    """Check shared by ``design``, ``demo`` and ``map``: figure, reps, tiles."""
    targets: dict[str, Any] = {"figure": None, "reps": None}
    if args.figure is not None:
        targets["figure"] = check_file_target(
            args.figure, suffixes=FIGURE_SUFFIXES, overwrite=args.overwrite, name="--figure"
        )
    if args.reps is not None:
        targets["reps"] = read_reps(args.reps)
    try:
        targets["tiles"] = check_tiles(args.tiles, args.attr)
    except InputError as exc:
        raise InputError(
            str(exc).replace("`tiles`", "--tiles").replace("`attr`", "--attr")
        ) from None
    return targets


def check_design_outputs(args: argparse.Namespace) -> dict[str, Any]:
    """Check ``--out``, ``--figure``, ``--reps``, ``--tiles``, ``--crs`` and ``--polygons``."""
    targets = _common(args)
    targets["out"] = check_target(args.out, overwrite=args.overwrite, name="--out")
    figure = targets["figure"]
    if figure is not None and targets["out"] in figure.parents:
        msg = (
            f"--figure {str(args.figure)!r} is inside the plan folder --out, which geoterr "
            "writes as a whole; put the figure next to it."
        )
        raise InputError(msg)
    _check_crs(getattr(args, "crs", None))
    polygons = getattr(args, "polygons", None)
    if polygons is not None and not check_path_arg(polygons, "--polygons").exists():
        raise _no_polygons(polygons)
    return targets


def check_map_outputs(args: argparse.Namespace) -> dict[str, Any]:
    """Check the ``map`` command's ``--out``, ``--side-by-side``, ``--figure``, reps, tiles."""
    targets = _common(args)
    default = check_path_arg(args.plan, "PLAN") / "map.html"
    if args.out is None or Path(args.out).resolve() == default.resolve():
        # the plan folder's own map.html: geoterr wrote it, it is replaced
        targets["out"] = default.resolve()
    else:
        targets["out"] = check_file_target(
            args.out, suffixes=HTML_SUFFIXES, overwrite=args.overwrite, name="--out"
        )
    targets["side_by_side"] = None
    if args.side_by_side is not None:
        targets["side_by_side"] = check_file_target(
            args.side_by_side,
            suffixes=HTML_SUFFIXES,
            overwrite=args.overwrite,
            name="--side-by-side",
        )
    chosen = [t for t in (targets["out"], targets["side_by_side"], targets["figure"]) if t]
    if len(set(chosen)) < len(chosen):
        msg = "--out, --side-by-side and --figure must be different files."
        raise InputError(msg)
    return targets


def _figure_writer(plan: Plan, reps: Any, suffix: str) -> Callable[[Path], None]:
    """Save the static figure without pyplot (no display needed)."""

    def write(path: Path) -> None:
        from matplotlib.figure import Figure

        figure = Figure(figsize=(10, 7), layout="tight")
        plan.plot(figure.add_subplot(), reps=reps)
        figure.savefig(path, dpi=150, format=suffix.lstrip(".").lower())

    return write


def save_design(plan: Plan, before: Any, args: argparse.Namespace, targets: dict[str, Any]) -> Path:
    """Write the plan folder and the figure: the figure is rendered first, put in place last."""
    items = []
    if targets["figure"] is not None:
        items.append(
            (targets["figure"], _figure_writer(plan, targets["reps"], targets["figure"].suffix))
        )
    staged = stage_files(items)
    try:
        folder = plan.save(
            args.out,
            map=not args.no_map,
            tiles=args.tiles,
            attr=args.attr,
            before=before,
            reps=targets["reps"],
            overwrite=args.overwrite,
            timings=args.timings,
        )
    except BaseException:
        discard_files(staged)
        raise
    WRITTEN.append(folder)
    for path in commit_files(staged):
        WRITTEN.append(path)
        log.info("figure written to %s", path)
    return Path(folder)


def write_maps(plan: Plan, before: Any, args: argparse.Namespace, targets: dict[str, Any]) -> None:
    """Return the ``map`` command's pages and figure, all rendered before any is put in place."""
    from geoterr.maps import before_after_map, plan_map

    tiles, reps = targets["tiles"], targets["reps"]
    items: list[tuple[Path, Callable[[Path], None]]] = [
        (
            targets["out"],
            lambda p: plan_map(plan, tiles=tiles, before=before, reps=reps).save(str(p)),
        )
    ]
    if targets["side_by_side"] is not None:
        items.append(
            (
                targets["side_by_side"],
                lambda p: before_after_map(before, plan, tiles=tiles, reps=reps).save(str(p)),
            )
        )
    if targets["figure"] is not None:
        items.append((targets["figure"], _figure_writer(plan, reps, targets["figure"].suffix)))
    for path in commit_files(stage_files(items)):
        WRITTEN.append(path)
        log.info("written: %s", path)


_OS_FIXES = {
    errno.ENOENT: "check the path",
    errno.EACCES: "choose a place you can write to, or fix the permissions",
    errno.EPERM: "choose a place you can write to, or fix the permissions",
    errno.ENOSPC: "free some disk space or write elsewhere",
    errno.EDQUOT: "free some disk space or write elsewhere",
    errno.EROFS: "the disk is read-only: write elsewhere",
    errno.EISDIR: "give a file, not a folder",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.ENAMETOOLONG: "use a shorter name",
}


def ordinary_error(exc: BaseException) -> str | None:
    """Return the message, with the fix, for an ordinary mistake raised by a library; else None."""
    import pyogrio.errors
    import pyproj.exceptions

    if isinstance(exc, pyproj.exceptions.CRSError):
        return (
            f"a coordinate reference system is unknown or unusable ({exc}); give --crs as an "
            "EPSG code such as EPSG:3857, and save geodata files with their CRS."
        )
    if isinstance(exc, pyogrio.errors.DataSourceError | pyogrio.errors.DataLayerError):
        return (
            f"a geodata file could not be read ({exc}); it may be truncated, empty or not in "
            "a format geoterr reads (GeoJSON, GeoPackage, Shapefile, CSV): export it again."
        )
    if isinstance(exc, pd.errors.EmptyDataError):
        return f"an input file is empty ({exc}); give a file with a header row and data."
    if isinstance(exc, pd.errors.ParserError):
        return f"a CSV file could not be parsed ({exc}); check its separators and quotes."
    if isinstance(exc, UnicodeDecodeError):
        return f"a file is not text in the expected encoding ({exc.reason}); save it as UTF-8."
    if isinstance(exc, OSError) and exc.errno in _OS_FIXES:
        where = f" {exc.filename!r}" if exc.filename else ""
        return f"{exc.strerror}:{where}; {_OS_FIXES[exc.errno]}."
    if isinstance(exc, MemoryError):
        return (
            "not enough memory for this input; use fewer units (e.g. --units hex --n-units "
            "2000) or a machine with more memory."
        )
    if isinstance(exc, OverflowError | FloatingPointError):
        return (
            f"a number is too large to compute with ({exc}); check the input for huge values "
            "(such as 1e308) and rescale that column."
        )
    return None


#: Totals above this overflow the arithmetic of the balance models (squares reach 1e300).
HUGE_TOTAL = 1e150


def check_totals(customers: pd.DataFrame, measures: list[str]) -> None:
    """Refuse measures whose totals are too large to compute with (values such as 1e308).

    Examples
    --------
    >>> check_totals(pd.DataFrame({"workload": [1.0, 2.0]}), ["workload"])
    >>> check_totals(pd.DataFrame({"workload": [1e308, 2.0]}), ["workload"])
    Traceback (most recent call last):
    ...
    geoterr._errors.InputError: the workload column holds values so large (up to 1e+308) ...
    """
    import numpy as np

    from geoterr._errors import format_ids

    for measure in measures:
        if measure not in customers.columns:
            continue
        values = pd.to_numeric(customers[measure], errors="coerce").abs()
        with np.errstate(over="ignore", invalid="ignore"):
            total = float(np.nansum(values.to_numpy(dtype=float)))
        if not total < HUGE_TOTAL:  # also NaN / inf
            largest = values.nlargest(5)
            msg = (
                f"the {measure} column holds values so large (up to {values.max():.3g}) that "
                "their totals overflow the arithmetic (rows "
                f"{format_ids(largest.index)}); rescale the column (e.g. to thousands or "
                "millions) or fix those rows."
            )
            raise InputError(msg)
