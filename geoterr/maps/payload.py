r"""What a map shows, as plain data: territories, customers, moved customers, reps, centers.

The map page draws this data with its own script (``geoterr/maps/_assets/geoterr-map.js``), which
puts every piece of user text on the page as text (``textContent``), never as HTML. The data
goes into the page as JSON with ``<``, ``>`` and ``&`` written as ``\u`` escapes, so no name
can close the script block it sits in. Customers travel as columns (integer coordinates, a
territory index, category codes), which keeps a 100,000-customer map small.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping
from shapely.ops import polylabel

from geoterr._errors import InputError
from geoterr.maps.homes import rep_names

if TYPE_CHECKING:
    from geoterr.plan import Plan

__all__ = [
    "PALETTE",
    "PayloadOptions",
    "moved_customers",
    "plan_payload",
    "plan_status",
    "script_json",
    "territory_colours",
]

# Colour-blind-safe qualitative colours (Paul Tol's "muted" and "light" schemes).
PALETTE = (
    "#332288",
    "#88CCEE",
    "#44AA99",
    "#117733",
    "#999933",
    "#DDCC77",
    "#CC6677",
    "#882255",
    "#AA4499",
    "#EE8866",
    "#77AADD",
    "#BBCC33",
)

# Columns of the territory table that are not per-territory totals of a measure.
NOT_MEASURES = frozenset(
    (
        "units",
        "geometry",
        "area_km2",
        "polsby_popper",
        "mean_distance_km",
        "objective",
        "contiguous",
        "status",
    )
)
POPUP_TEXT_COLUMNS = ("name", "city", "state", "segment")
COORDINATE_SCALE = 100_000  # customers' degrees are sent as integers of 1e-5 degree (~1 m)


def script_json(value: Any) -> str:
    r"""``value`` as JSON that is safe inside an HTML ``<script>`` block.

    ``<``, ``>`` and ``&`` become ``\u003c``, ``\u003e`` and ``\u0026`` (so ``</script>``
    and ``<!--`` cannot appear), as do the line separators U+2028 and U+2029.

    Examples
    --------
    >>> script_json({"name": "</script><!--"})
    '{"name":"\\u003c/script\\u003e\\u003c!--"}'
    """
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    for raw, escaped in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(raw, escaped)
    return text


def territory_colours(plan: Plan, keep: dict[str, str] | None = None) -> dict[str, str]:
    """Return a colour of :data:`PALETTE` per territory; neighbours differ where possible.

    Territories are coloured greedily, most neighbours first, each with the least used
    colour no neighbour has, so up to ``len(PALETTE)`` territories all get different colours.
    ``keep`` fixes the colours of some territories by name (the same territory in the same
    colour on a before | after page).
    """
    names = [str(n) for n in plan.territories.index]
    geoms = list(plan.territories.geometry)
    graph = nx.Graph()
    graph.add_nodes_from(names)
    tree = shapely.STRtree([g if g is not None else Polygon() for g in geoms])
    left, right = tree.query(tree.geometries, predicate="intersects")
    graph.add_edges_from((names[a], names[b]) for a, b in zip(left, right, strict=True) if a < b)
    colours = {n: c for n, c in (keep or {}).items() if n in graph}
    uses = dict.fromkeys(PALETTE, 0)
    for c in colours.values():
        uses[c] = uses.get(c, 0) + 1
    for name in sorted(set(names) - set(colours), key=lambda n: (-graph.degree(n), n)):
        taken = {colours[v] for v in graph.neighbors(name) if v in colours}
        free = [c for c in PALETTE if c not in taken] or list(PALETTE)
        colour = min(free, key=lambda c: (uses[c], PALETTE.index(c)))
        colours[name] = colour
        uses[colour] += 1
    return colours


def label(column: str) -> str:
    """Return a column name as people read it: ``annual_revenue`` -> ``Annual revenue``."""
    text = str(column).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def fmt(value: Any) -> str:
    """Format a number with thousands separators (2 decimals below 100).

    Text stays as it is, and a missing value is ``-``.
    """
    if value is None or (isinstance(value, float | np.floating) and not math.isfinite(value)):
        return "-"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        v = float(value)
        return f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.2f}"
    return str(value)


def pct(value: Any) -> str:
    """Return a signed percentage, ``-`` if missing."""
    if value is None or not math.isfinite(float(value)):
        return "-"
    return f"{float(value):+.1%}"


def moved_customers(plan: Plan, before: Any = None) -> pd.Series | None:
    """Each customer's territory before the plan, aligned to ``plan.customers``.

    Parameters
    ----------
    plan : Plan
    before : Plan, str, Series or None
        An earlier plan (customers matched by id), the name of a customers column holding
        the current territory, or a Series customer id -> territory. None: the plan's own
        ``territory_before`` (set by ``design(current=...)``), if any.

    Returns
    -------
    Series or None
        Territory before (missing for customers not in the earlier plan); None if there is
        nothing to compare with.

    Raises
    ------
    InputError
        If ``before`` names a column the customers do not have.
    """
    customers = plan.customers
    if customers is None:
        return None
    if before is None:
        if "territory_before" not in customers.columns:
            return None
        series = customers["territory_before"]
    elif isinstance(before, str):
        if before not in customers.columns:
            msg = (
                f"`before` {before!r} is not a customers column; columns: "
                f"{', '.join(map(str, customers.columns))}. Pass the column holding each "
                "customer's current territory, or an earlier plan (geoterr.load_plan)."
            )
            raise InputError(msg)
        series = customers[before]
    elif isinstance(before, pd.Series):
        series = before.reindex(customers.index)
    else:  # an earlier Plan
        if before.customers is None:
            msg = "`before` is a plan without customers; it cannot show who moved."
            raise InputError(msg)
        series = before.customers["territory"].reindex(customers.index)
    text: pd.Series = (
        series.astype(object)
        .where(series.notna(), None)
        .map(lambda v: None if v is None else str(v))
    )
    return text


def _outline(geom: Any) -> dict[str, Any]:
    """GeoJSON of a territory with coordinates rounded to 1e-5 degree (about 1 m)."""
    rounded = shapely.set_precision(geom, 1e-5, mode="pointwise")
    return dict(mapping(rounded if not rounded.is_empty else geom))


def _simplified(geoms: Sequence[Any], tolerance: float) -> list[Any]:
    """Simplify the territories together so that shared borders stay shared."""
    if tolerance <= 0:
        return list(geoms)
    present = [g for g in geoms if g is not None and not g.is_empty]
    try:
        simple = iter(shapely.coverage_simplify(np.asarray(present, dtype=object), tolerance))
    except shapely.errors.GEOSException:  # not a clean coverage: one by one
        simple = iter(shapely.simplify(np.asarray(present, dtype=object), tolerance))
    return [next(simple) if g is not None and not g.is_empty else g for g in geoms]


def _on_land(geoms: Sequence[Any], land: Any) -> list[Any]:
    """Each territory outline clipped to ``land``, kept whole where that leaves nothing."""
    shapely.prepare(land)
    out = []
    for g in geoms:
        if g is None or g.is_empty:
            out.append(g)
            continue
        if not g.is_valid:  # e.g. a hand-edited territories.geojson: draw what it means
            g = shapely.make_valid(g)
        if not shapely.intersects(land, g):
            out.append(g)
            continue
        clipped = shapely.intersection(g, land)
        parts = [p for p in getattr(clipped, "geoms", [clipped]) if isinstance(p, Polygon)]
        out.append(MultiPolygon(parts) if len(parts) > 1 else (parts[0] if parts else g))
    return out


def label_point(geom: Any) -> list[float]:
    if isinstance(geom, MultiPolygon):
        geom = max(geom.geoms, key=lambda g: g.area)
    if isinstance(geom, Polygon) and not geom.is_empty:
        size = max(geom.bounds[2] - geom.bounds[0], geom.bounds[3] - geom.bounds[1])
        point = polylabel(geom, tolerance=max(size / 200, 1e-6))
    else:
        point = geom.representative_point()
    return [round(point.y, 5), round(point.x, 5)]


def _territory_rows(
    plan: Plan, row: pd.Series, rep: str | None, moves: tuple[int, int] | None
) -> list[list[str]]:
    balance = [m for m in plan.params.get("balance") or {}]
    measures = [
        c
        for c in plan.territories.columns
        if c not in NOT_MEASURES and not str(c).endswith("_deviation")
    ]
    rows = [["Rep", rep]] if rep else []
    rows += [[label(m), fmt(row[m])] for m in measures]
    rows += [[f"{label(m)} vs mean", pct(row.get(f"{m}_deviation"))] for m in balance]
    if moves is not None:
        rows.append(["Customers moved in / out", f"{moves[0]:,} / {moves[1]:,}"])
    if "area_km2" in row:
        rows.append(["Area", f"{fmt(row['area_km2'])} km²"])
    if "mean_distance_km" in row:
        rows.append(["Mean distance to center", f"{fmt(row['mean_distance_km'])} km"])
    if "polsby_popper" in row:
        rows.append(["Compactness (Polsby-Popper)", fmt(row["polsby_popper"])])
    if "contiguous" in row:
        rows.append(["Contiguous", fmt(bool(row["contiguous"]))])
    return rows


def _column_data(values: pd.Series, title: str) -> dict[str, Any]:
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        numbers = values.to_numpy(dtype=float).round(2)
        return {
            "label": title,
            "values": [None if not math.isfinite(v) else v for v in numbers.tolist()],
        }
    text = values.astype(object).where(values.notna(), None)
    codes, categories = pd.factorize(text.map(lambda v: None if v is None else str(v)))
    if len(categories) <= max(50, len(values) // 4):
        return {"label": title, "codes": codes.tolist(), "categories": list(categories)}
    return {"label": title, "values": [None if v is None else str(v) for v in text]}


def _customer_data(
    plan: Plan, index_of: dict[str, int], popup_columns: Sequence[str] | None
) -> dict[str, Any]:
    customers = plan.customers
    assert customers is not None
    measures = [
        c
        for c in plan.territories.columns
        if c in customers.columns and c not in NOT_MEASURES and c != "customers"
    ]
    if popup_columns is None:
        popup_columns = [c for c in POPUP_TEXT_COLUMNS if c in customers.columns] + measures
    missing = [c for c in popup_columns if c not in customers.columns]
    if missing:
        msg = f"`popup_columns` {missing} are not customers columns."
        raise InputError(msg)
    n = len(customers)
    return {
        "scale": COORDINATE_SCALE,
        "lon": np.round(customers.geometry.x.to_numpy() * COORDINATE_SCALE).astype(int).tolist(),
        "lat": np.round(customers.geometry.y.to_numpy() * COORDINATE_SCALE).astype(int).tolist(),
        "territory": [index_of[str(t)] for t in customers["territory"]],
        "ids": [str(i) for i in customers.index],
        "id_label": label(plan.id_column),
        "columns": [_column_data(customers[c], label(c)) for c in popup_columns],
        "title_column": 0 if popup_columns and popup_columns[0] == "name" else None,
        # Many customers: smaller dots without outlines, so that towns keep their colour.
        "radius": 2.5 if n <= 20_000 else 1.8,
        "outline": 0.5 if n <= 20_000 else 0,
    }


@dataclass(frozen=True)
class PayloadOptions:
    """What a plan's page draws besides its territories (see :func:`geoterr.plan_map`).

    Attributes
    ----------
    rep_column : str, optional
        A customers column naming each territory's rep.
    customers : bool
        Draw the customers.
    popup_columns : sequence of str, optional
        Customer columns shown in their popups.
    simplify : float, optional
        Tolerance in degrees for the territory outlines (default: 1/4000 of the extent).
    title : str, optional
        The page title.
    """

    rep_column: str | None = None
    customers: bool = True
    popup_columns: Sequence[str] | None = None
    simplify: float | None = None
    title: str | None = None


def plan_payload(
    plan: Plan,
    *,
    colours: dict[str, str],
    before: pd.Series | None = None,
    after: pd.Series | None = None,
    reps: pd.DataFrame | None = None,
    land: Any = None,
    options: PayloadOptions | None = None,
) -> dict[str, Any]:
    """Everything the page script needs to draw ``plan``, as JSON-ready data.

    ``before`` (the customers' earlier territories) or ``after`` (their later ones, for the
    old plan of a before | after page) mark the customers that move, both aligned to
    ``plan.customers``. ``simplify`` is the tolerance in degrees for the territory outlines
    (default: 1/4000 of the plan's extent, a few hundred metres for a country; 0 keeps
    every vertex). ``land`` (a polygon geometry, see :func:`geoterr.maps.outlines.outlines_near`)
    clips the territories' drawn outlines to the land, so that they follow the coast instead
    of reaching into the sea (the plan's own polygons are unchanged); a territory with no
    land in it is drawn as it is. ``options`` says what else to draw (default:
    ``PayloadOptions()``).
    """
    options = PayloadOptions() if options is None else options
    rep_column, customers = options.rep_column, options.customers
    popup_columns, simplify, title = options.popup_columns, options.simplify, options.title
    table = plan.territories
    names = [str(n) for n in table.index]
    index_of = {n: j for j, n in enumerate(names)}
    rep_of = rep_names(plan, reps, rep_column)
    moves: dict[str, tuple[int, int]] = {}
    moved_index = np.zeros(0, dtype=int)
    other = before if before is not None else after
    if other is not None and plan.customers is not None:
        mine = plan.customers["territory"].astype(str)
        changed = (other.notna() & (other.astype(str) != mine)).to_numpy()
        moved_index = np.flatnonzero(changed)
        old, new = (other, mine) if before is not None else (mine, other)
        came = new[changed].astype(str).value_counts()
        left = old[changed].astype(str).value_counts()
        moves = {n: (int(came.get(n, 0)), int(left.get(n, 0))) for n in names}
    if simplify is None:
        x0, y0, x1, y1 = table.total_bounds
        simplify = math.hypot(x1 - x0, y1 - y0) / 4000
    outlines = _simplified(list(table.geometry), simplify)
    if land is not None and not land.is_empty:
        outlines = _on_land(outlines, land)
    territories = []
    balance = list(plan.params.get("balance") or {})
    legend_measure = balance[0] if balance else None
    outside = territories_outside(plan)
    for j, (_, row) in enumerate(table.iterrows()):
        # A territory without a shape (none in a designed plan) keeps its place in the list:
        # customers refer to territories by position.
        present = outlines[j] is not None and not outlines[j].is_empty
        legend = ""
        if legend_measure is not None and legend_measure in row:
            dev = row.get(f"{legend_measure}_deviation")
            legend = f"{fmt(row[legend_measure])} ({pct(dev)})"
        territories.append(
            {
                "name": names[j],
                "colour": colours[names[j]],
                "rep": rep_of.get(names[j]),
                "rows": _territory_rows(
                    plan, row, rep_of.get(names[j]), moves.get(names[j]) if moves else None
                ),
                "legend": legend,
                "label_at": label_point(outlines[j]) if present else None,
                "area": round(float(table.geometry.iloc[j].area), 6) if present else 0.0,
                "off": names[j] in outside,
                "geometry": _outline(outlines[j]) if present else None,
            }
        )
    fixed = bool(plan.params.get("fixed_centers"))
    centers = []
    for name, row in plan.centers.iterrows():
        key = str(name)
        rows = [["Territory", key]]
        if rep_of.get(key):
            rows.append(["Rep", rep_of[key]])
        rows += [["Latitude", f"{row['latitude']:.5f}"], ["Longitude", f"{row['longitude']:.5f}"]]
        if "unit" in row and pd.notna(row["unit"]):
            rows.append(["Unit", str(row["unit"])])
        centers.append(
            {
                "title": f"{'Fixed center' if fixed else 'Center'} of {key}",
                "lat": float(row["latitude"]),
                "lon": float(row["longitude"]),
                "territory_index": index_of.get(key),
                "rows": rows,
            }
        )
    data: dict[str, Any] = {
        "territories": territories,
        "centers": centers,
        "fixed_centers": fixed,
        "legend": {
            "title": f"Territories: {label(legend_measure)} vs mean"
            if legend_measure
            else "Territories"
        },
        "title": title,
        "customers": None,
        "moved": None,
        "reps": _rep_data(reps, index_of) if reps is not None else None,
    }
    if customers and plan.customers is not None:
        data["customers"] = _customer_data(plan, index_of, popup_columns)
        if other is not None and len(moved_index):
            codes, other_names = pd.factorize(other.iloc[moved_index].astype(str))
            data["moved"] = {
                "index": moved_index.tolist(),
                "other": codes.tolist(),
                "other_names": list(other_names),
                # "in": this plan is the new one (other -> here); "out": here -> other
                "direction": "in" if before is not None else "out",
            }
    return data


def _tolerance(value: Any) -> str:
    if isinstance(value, int | float) and math.isfinite(value):
        return f"\u00b1{value:.1%}".replace(".0%", "%")
    return str(value)


def territories_outside(plan: Plan) -> set[str]:
    """Return the territories outside a tolerance, or not contiguous.

    Those whose deviation from the mean of a balanced measure exceeds its tolerance, or that are not
    contiguous.
    """
    out: set[str] = set()
    table = plan.territories
    for measure, tolerance in (plan.params.get("balance") or {}).items():
        column = f"{measure}_deviation"
        if column in table.columns and isinstance(tolerance, int | float):
            dev = pd.to_numeric(table[column], errors="coerce").abs()
            out |= {str(n) for n in table.index[dev > tolerance * (1 + 1e-6) + 1e-9]}
    if "contiguous" in table.columns:
        out |= {str(n) for n in table.index[~table["contiguous"].astype(bool)]}
    return out


def plan_status(plan: Plan) -> dict[str, Any]:
    """Return the plan's status for the page.

    ``status``, ``problems`` (each broken promise in words) and ``summary``, one sentence of what
    the plan keeps or breaks.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> plan = SimpleNamespace(status="feasible", problems=(),
    ...                        params={"balance": {"workload": 0.05}})
    >>> plan_status(plan)["summary"]
    'Every customer in one territory, every territory contiguous, workload within ±5% of the mean.'
    """
    balance = plan.params.get("balance") or {}
    kept = ", ".join(
        f"{label(m).lower()} within {_tolerance(t)} of the mean" for m, t in balance.items()
    )
    budget = plan.params.get("max_moved_meaning")
    if plan.params.get("max_moved") is not None and budget:
        moved = plan.params.get("moved_customers")
        done = f" ({moved:,} moved)" if isinstance(moved, int) else ""
        kept = ", ".join(x for x in (kept, f"at most {budget} moved{done}") if x)
    problems = [str(p) for p in plan.problems]
    if not problems and plan.status == "feasible":
        summary = "Every customer in one territory, every territory contiguous" + (
            f", {kept}." if kept else "."
        )
        certified = getattr(plan, "certified", None)
        if certified:
            summary += f" The objective's bound: {certified}."
    else:
        n = len(problems)
        broken = (
            f"This plan breaks {n} promise{'s' if n != 1 else ''}"
            if n
            else f"This plan's status is {plan.status}: not every promise is kept"
        )
        summary = broken + (f" (asked: {kept})" if kept else "") + ": see the banner above the map."
    return {"status": str(plan.status), "problems": problems, "summary": summary}


def _rep_data(reps: pd.DataFrame, index_of: dict[str, int]) -> list[dict[str, Any]]:
    out = []
    for _, row in reps.dropna(subset=["latitude", "longitude"]).iterrows():
        territory = None if pd.isna(row["territory"]) else str(row["territory"])
        rows = [["Territory", territory if territory is not None else "-"]]
        if territory is not None and territory not in index_of:
            rows[0][1] += " (not in this plan)"
        rows += [
            [label(str(c)[1:]), fmt(row[c])]
            for c in reps.columns
            if str(c).startswith("_") and pd.notna(row[c])
        ]
        out.append(
            {
                "name": str(row["name"]),
                "lat": float(row["latitude"]),
                "lon": float(row["longitude"]),
                "territory_index": index_of.get(territory) if territory is not None else None,
                "rows": rows,
            }
        )
    return out
