"""Interactive maps of plans (folium/Leaflet), self-contained and safe to share.

The HTML file carries Leaflet inline (vendored in ``geoterr/_assets``), so it renders from the
file system with no network at all; background tiles are optional. Every piece of user text
(names, ids, segments) is HTML-escaped before it reaches the page.
"""

from __future__ import annotations

import html
from importlib import resources
from typing import TYPE_CHECKING, Any

import folium
import networkx as nx
import numpy as np
from branca.element import Element

if TYPE_CHECKING:
    from geoterr.plan import Plan

__all__ = ["PALETTE", "plan_map"]

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

NO_TILES_BACKGROUND = "#eef0f2"


def _asset(name: str) -> str:
    return (resources.files("geoterr") / "_assets" / name).read_text(encoding="utf-8")


class StandaloneMap(folium.Map):
    """A folium map whose Leaflet code and styles are inside the HTML, not on a CDN."""

    default_js: list[tuple[str, str]] = []  # noqa: RUF012 - folium reads these class lists
    default_css: list[tuple[str, str]] = []  # noqa: RUF012

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        header = self.get_root().header  # type: ignore[attr-defined]
        # "</" cannot appear inside the inline script; Leaflet's build has none, but be sure.
        code = _asset("leaflet.js").replace("</", "<\\/")
        header.add_child(Element(f"<style>{_asset('leaflet.css')}</style>"), name="leaflet_css")
        header.add_child(Element(f"<script>{code}</script>"), name="leaflet_js")


def territory_colours(plan: Plan) -> dict[str, str]:
    """A colour per territory, neighbouring territories in different colours where possible."""
    names = list(plan.territories.index)
    graph = nx.Graph()
    graph.add_nodes_from(names)
    geoms = plan.territories.geometry
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            ga, gb = geoms.loc[a], geoms.loc[b]
            if ga is not None and gb is not None and ga.intersects(gb):
                graph.add_edge(a, b)
    order = sorted(names, key=lambda n: -graph.degree(n))
    colours: dict[str, str] = {}
    uses = dict.fromkeys(PALETTE, 0)
    for name in order:
        taken = {colours[v] for v in graph.neighbors(name) if v in colours}
        free = [c for c in PALETTE if c not in taken] or list(PALETTE)
        # The least used free colour, so that up to len(PALETTE) territories all differ.
        colour = min(free, key=lambda c: (uses[c], PALETTE.index(c)))
        colours[name] = colour
        uses[colour] += 1
    return colours


def _fmt(value: Any, kind: str = "num") -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "-"
    if kind == "pct":
        return f"{float(value):+.1%}"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        return f"{float(value):,.0f}" if abs(float(value)) >= 100 else f"{float(value):,.2f}"
    return html.escape(str(value))


def _territory_features(plan: Plan, colours: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    table = plan.territories
    balance = list(plan.params.get("balance", {}))
    measures = [
        c
        for c in table.columns
        if c not in ("geometry", "contiguous")
        and not c.endswith("_deviation")
        and c not in ("polsby_popper", "objective")
    ]
    fields = [
        "Territory",
        *[m.replace("_", " ") for m in measures],
        *[f"{m.replace('_', ' ')} vs mean" for m in balance],
        "Compactness (PP)",
        "Contiguous",
    ]
    features = []
    for name, row in table.iterrows():
        if row.geometry is None:
            continue
        props = {"Territory": html.escape(str(name)), "_colour": colours[str(name)]}
        for m in measures:
            props[m.replace("_", " ")] = _fmt(row[m])
        for m in balance:
            props[f"{m.replace('_', ' ')} vs mean"] = _fmt(row.get(f"{m}_deviation"), "pct")
        props["Compactness (PP)"] = _fmt(row.get("polsby_popper"))
        props["Contiguous"] = _fmt(bool(row.get("contiguous", True)))
        features.append(
            {
                "type": "Feature",
                "properties": props,
                "geometry": row.geometry.simplify(0.0005).__geo_interface__,
            }
        )
    return {"type": "FeatureCollection", "features": features}, fields


def _customer_features(
    plan: Plan, colours: dict[str, str], limit: int
) -> tuple[dict[str, Any], list[str]]:
    customers = plan.customers
    assert customers is not None
    if len(customers) > limit:
        customers = customers.sample(limit, random_state=0)
    id_name = plan.id_column
    extra = [
        c for c in ("name", "segment", *plan.params.get("balance", {})) if c in customers.columns
    ]
    fields = [id_name, *extra, "territory"]
    features = []
    for cid, row in customers.iterrows():
        geom = row.geometry
        if geom is None or geom.is_empty:
            continue
        props = {
            id_name: html.escape(str(cid)),
            "_colour": colours.get(str(row["territory"]), "#555"),
        }
        for c in extra:
            props[c] = _fmt(row[c])
        props["territory"] = html.escape(str(row["territory"]))
        features.append(
            {
                "type": "Feature",
                "properties": props,
                "geometry": {"type": "Point", "coordinates": [round(geom.x, 5), round(geom.y, 5)]},
            }
        )
    return {"type": "FeatureCollection", "features": features}, fields


def plan_map(
    plan: Plan,
    *,
    tiles: str | None = None,
    customers: bool = True,
    max_customers: int = 20_000,
) -> folium.Map:
    """An interactive map of a plan.

    Parameters
    ----------
    plan : Plan
    tiles : str, optional
        A folium tile provider name (``"OpenStreetMap"``, ``"CartoDB positron"``) or a tile URL
        template. Default: no tiles, a plain background that needs no network.
    customers : bool
        Draw the customers as points coloured by territory.
    max_customers : int
        Draw at most this many customers (a random sample beyond it).

    Returns
    -------
    folium.Map
        ``.save(path)`` writes a standalone HTML file.
    """
    bounds = plan.territories.total_bounds
    m = StandaloneMap(
        location=[(bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2],
        tiles=tiles,
        prefer_canvas=True,
        control_scale=True,
        zoom_snap=0.25,
    )
    if tiles is None:
        m.get_root().header.add_child(  # type: ignore[attr-defined]
            Element(f"<style>.leaflet-container {{ background: {NO_TILES_BACKGROUND}; }}</style>")
        )
    m.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    colours = territory_colours(plan)

    data, fields = _territory_features(plan, colours)
    folium.GeoJson(
        data,
        name="Territories",
        style_function=lambda f: {
            "fillColor": f["properties"]["_colour"],
            "color": "#222222",
            "weight": 1.2,
            "fillOpacity": 0.45,
        },
        highlight_function=lambda f: {"weight": 3, "fillOpacity": 0.65},
        tooltip=folium.GeoJsonTooltip(fields=fields, sticky=True),
    ).add_to(m)

    if customers and plan.customers is not None:
        cdata, cfields = _customer_features(plan, colours, max_customers)
        folium.GeoJson(
            cdata,
            name="Customers",
            marker=folium.CircleMarker(radius=2.5, weight=0.6, fill=True, fill_opacity=0.9),
            style_function=lambda f: {"fillColor": f["properties"]["_colour"], "color": "#222222"},
            tooltip=folium.GeoJsonTooltip(fields=cfields),
        ).add_to(m)

    centers = folium.FeatureGroup(name="Territory centers")
    for name, row in plan.centers.iterrows():
        folium.CircleMarker(
            [row["latitude"], row["longitude"]],
            radius=6,
            color="#000000",
            weight=2,
            fill=True,
            fill_color="#ffffff",
            fill_opacity=1,
            tooltip=html.escape(f"center of {name}"),
        ).add_to(centers)
    centers.add_to(m)
    m.get_root().html.add_child(Element(_legend(plan, colours)))  # type: ignore[attr-defined]
    folium.LayerControl(collapsed=False).add_to(m)
    return m


def _legend(plan: Plan, colours: dict[str, str]) -> str:
    balance = list(plan.params.get("balance", {}))
    measure = balance[0] if balance else None
    rows = []
    for name, row in plan.territories.iterrows():
        detail = ""
        if measure is not None and measure in row:
            detail = f" {_fmt(row[measure])} ({_fmt(row.get(f'{measure}_deviation'), 'pct')})"
        rows.append(
            f'<div><span style="display:inline-block;width:12px;height:12px;'
            f'background:{colours[str(name)]};margin-right:6px;border:1px solid #333"></span>'
            f"{html.escape(str(name))}{detail}</div>"
        )
    title = html.escape(f"Territories{f' - {measure}' if measure else ''}")
    return (
        '<div id="geoterr-legend" style="position:fixed;top:86px;left:12px;z-index:1000;'
        "background:rgba(255,255,255,.92);padding:8px 10px;border-radius:4px;"
        "font:12px/1.45 sans-serif;box-shadow:0 1px 4px rgba(0,0,0,.3);"
        'max-height:60vh;overflow:auto">'
        f"<b>{title}</b>{''.join(rows)}</div>"
    )
