"""Interactive maps of plans (folium/Leaflet): self-contained, safe to share, fast when large.

The HTML file carries everything it runs inline: Leaflet (vendored in ``geoterr/maps/_assets``
from its npm release) and geoterr's own small script and styles. It renders from the file
system with no network at all (an email attachment, an air-gapped laptop); background tiles
are the only optional network part. User text (names, ids, segments, territory and rep
names) reaches the page only as text: the data is JSON with ``<``, ``>`` and ``&`` escaped,
and the page script puts it on screen with ``textContent``. Customers are drawn on one
canvas from columnar arrays, so every customer is drawn even for 100,000 of them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from geoterr._errors import InputError
from geoterr.maps.homes import rep_table
from geoterr.maps.outlines import geojson_of, outlines_near
from geoterr.maps.payload import (
    PALETTE,
    PayloadOptions,
    moved_customers,
    plan_payload,
    plan_status,
    territory_colours,
)

if TYPE_CHECKING:
    import folium
    from branca.element import Figure

    from geoterr.maps.leaflet import PlanLayers, StandaloneMap
    from geoterr.plan import Plan

__all__ = ["PALETTE", "before_after_map", "plan_map", "territory_colours"]

# Overlays in the layer control: (key in the page script's layers, name, shown at first).
OVERLAYS = (
    ("geography", "Land, coasts and borders", True),
    ("territories", "Territories", True),
    ("labels", "Territory labels", True),
    ("customers", "Customers", True),
    ("moved", "Moved customers", True),
    ("reps", "Rep homes", True),
    ("centers", "Territory centers", True),
)


def plan_map(  # noqa: PLR0913 (public API: every option is a documented keyword)
    plan: Plan,
    *,
    tiles: str | None = None,
    customers: bool = True,
    before: Any = None,
    reps: Any = None,
    rep_column: str | None = None,
    popup_columns: Sequence[str] | None = None,
    simplify: float | None = None,
    title: str | None = None,
    outlines: bool | None = None,
    **map_options: Any,
) -> folium.Map:
    """Return an interactive map of a plan, as one self-contained HTML page.

    Land, coasts, country and US state borders (shipped with geoterr, no network) under
    territories in colour-blind-safe colours, with labels placed so that none overlaps
    another, a tooltip on hover and a popup on click (rep, customers, every measure,
    deviation from the mean, moves, area, compactness); customers coloured by territory
    with their own popups; rep homes and territory centers (fixed centers drawn as
    squares); moved customers. Beside the map, a panel with the plan's status and the
    legend; above it, when the plan broke a promise, a banner with each broken promise in
    words (``plan.problems``). A layer control, a fullscreen button and a scale bar. The
    same plan and options give the same file, byte for byte.

    Parameters
    ----------
    plan : Plan
    tiles : str, optional
        Background tiles: a folium/xyzservices provider name (``"OpenStreetMap"``,
        ``"CartoDB positron"``) or a tile URL template (then folium asks for ``attr``). Tiles
        are loaded from the network when the map is opened. Default: no tiles, a plain
        background on which the territories show clearly with no network at all.
    customers : bool
        Draw every customer as a point coloured by its territory.
    before : Plan, str or Series, optional
        What the customers' territories were: an earlier plan (:func:`geoterr.load_plan`),
        the name of a customers column (e.g. ``"current_territory"``) or a Series customer id
        -> territory. The customers whose territory changed are drawn as a "Moved customers"
        layer with ``from -> to`` in their popups. Default: ``plan.customers
        ["territory_before"]`` when the plan is a realignment (``design(current=...)``).
    reps : DataFrame, GeoDataFrame or path, optional
        Reps with a name, territory and home location (see ``data/reps.csv``): their homes
        are drawn as markers and their names shown on their territories.
    rep_column : str, optional
        A customers column naming each customer's rep; a territory's rep is its most common
        value (``reps`` takes precedence).
    popup_columns : sequence of str, optional
        Customer columns in the customer popups. Default: ``name``, ``city``, ``state``,
        ``segment`` where present, then the plan's measures.
    simplify : float, optional
        Tolerance in degrees for simplifying territory outlines (shared borders stay
        shared). Default: 1/4000 of the plan's extent; 0 keeps every vertex.
    title : str, optional
        A title shown on the map.
    outlines : bool, optional
        Draw land, coastlines, country borders and US state borders under the territories
        (shipped with geoterr, no network; see :mod:`geoterr.maps.outlines`). Default: when
        there are no ``tiles``.
    **map_options
        Passed to :class:`folium.Map` (e.g. ``width``, ``height``, ``attr``).

    Returns
    -------
    folium.Map
        ``.save("map.html")`` writes the page; folium layers added to it join the layer
        control.

    Examples
    --------
    >>> import geoterr as gt
    >>> units = gt.build_units(gt.read_customers(gt.sample_path()), measures=["workload"])
    >>> plan = gt.design(
    ...     units, 12, balance={"workload": 0.05}, current="current_territory", max_moved=600
    ... )
    >>> m = gt.plan_map(plan, reps=gt.sample_path("reps.csv"))  # moved: plan.moved
    >>> m.save("map.html")  # doctest: +SKIP
    >>> "Moved customers" in m.get_root().render() and "Avery Collins" in m.get_root().render()
    True
    """
    _check_plan(plan, "plan")
    if "max_customers" in map_options:
        msg = (
            "`max_customers` is gone: every customer is drawn (on one canvas, fast for "
            "100,000). Pass customers=False to leave the customers out."
        )
        raise InputError(msg)
    import folium

    from geoterr.maps.leaflet import number_elements, page_title

    m = _map_of(plan, tiles=tiles, **map_options)
    _draw(
        m,
        plan,
        tiles=tiles,
        customers=customers,
        before=before,
        reps=reps,
        rep_column=rep_column,
        popup_columns=popup_columns,
        simplify=simplify,
        title=title,
        frame=Frame(outlines=tiles is None if outlines is None else outlines),
    )
    folium.LayerControl(collapsed=True).add_to(m)
    page_title(m.get_root(), title or f"Territory plan: {len(plan.territories)} territories")  # type: ignore[arg-type]
    number_elements(m.get_root())
    return m


def _check_plan(plan: Any, name: str) -> None:
    """Refuse anything but a :class:`Plan`, with what to pass instead."""
    from geoterr.plan import Plan

    if not isinstance(plan, Plan):
        msg = (
            f"`{name}` must be a geoterr Plan (from gt.design, gt.load_plan or "
            f"gt.plan_from_column), got {type(plan).__name__}; for territories in a customers "
            "column use gt.plan_map(gt.plan_from_column(customers, 'COLUMN'))."
        )
        raise InputError(msg)


def _map_of(plan: Plan, *, tiles: str | None, **map_options: Any) -> StandaloneMap:
    from geoterr.maps.leaflet import StandaloneMap

    x0, y0, x1, y1 = plan.territories.total_bounds
    options: dict[str, Any] = {
        "location": [(y0 + y1) / 2, (x0 + x1) / 2],
        "tiles": tiles,
        "prefer_canvas": True,
        "control_scale": True,
        "zoom_snap": 0.25,
        **map_options,
    }
    m = StandaloneMap(**options)
    m.fit_bounds([[y0, x0], [y1, x1]])
    return m


@dataclass(frozen=True)
class Frame:
    """How a plan's map sits on its page.

    Attributes
    ----------
    fullscreen_page : bool
        The map fills a page of its own (a side of a before | after page).
    outlines : bool
        Draw the land, country and state outlines under the territories.
    """

    fullscreen_page: bool = False
    outlines: bool = True


def _draw(
    m: folium.Map,
    plan: Plan,
    *,
    tiles: str | None,
    before: Any,
    reps: Any,
    colours: dict[str, str] | None = None,
    after: Plan | None = None,
    frame: Frame | None = None,
    **options: Any,
) -> PlanLayers:
    """Draw ``plan`` on ``m``: its data for the page script and one layer per overlay.

    ``options`` are the :class:`~geoterr.maps.payload.PayloadOptions`; ``frame`` says how
    the map sits on its page (default: ``Frame()``).
    """
    frame = Frame() if frame is None else frame
    fullscreen_page, outlines = frame.fullscreen_page, frame.outlines
    from geoterr.maps.leaflet import PlanLayer, PlanLayers

    geography = None
    if outlines:
        x0, y0, x1, y1 = (float(v) for v in plan.territories.total_bounds)
        geography = outlines_near((x0, y0, x1, y1), margin=0.5)
    data = plan_payload(
        plan,
        land=None if geography is None else geography["land"],
        colours=colours or territory_colours(plan),
        before=None if before is False else moved_customers(plan, before),
        after=None if after is None else moved_customers(plan, after),
        reps=None if reps is None else rep_table(reps),
        options=PayloadOptions(**options),
    )
    data["tiles"] = tiles is not None
    data["fullscreen_page"] = fullscreen_page
    data["status"] = plan_status(plan)
    data["frame"] = {
        side: "".join(map(_size_text, getattr(m, side)))
        for side in ("width", "height", "left", "top")
    }
    data["frame"]["position"] = m.position
    data["geography"] = None if geography is None else geojson_of(geography)
    source = PlanLayers(data)
    source.add_to(m)
    for key, name, show in OVERLAYS:
        present = data.get(key) if key in ("customers", "moved", "reps", "geography") else True
        if present:
            PlanLayer(source, key, name, show=show).add_to(m)
    return source


def _size_text(part: Any) -> str:
    """Return a part of folium's parsed size, ``(50.0, "%")`` -> ``"50"``, ``"%"``."""
    if isinstance(part, float) and math.isfinite(part) and part.is_integer():
        return str(int(part))
    return str(part)


def before_after_map(
    before: Plan,
    after: Plan,
    *,
    tiles: str | None = None,
    reps: Any = None,
    customers: bool = True,
    titles: tuple[str, str] = ("Before", "After"),
    outlines: bool | None = None,
) -> Figure:
    """Return the old and the new plan side by side, in one page with two synchronised maps.

    Panning or zooming one map moves the other; a territory has the same colour on both.
    Each side shows its plan's status: a banner above the map of a plan that broke a
    promise, and a folded panel (status, legend) beside each map.
    Both maps mark the customers whose territory changes (matched by customer id), with
    ``from -> to`` in their popups: where they are now on the left, where they go on the
    right.

    Parameters
    ----------
    before, after : Plan
        The earlier plan (e.g. :func:`geoterr.load_plan` of last year's folder, or a plan of
        the current territories) and the new one.
    tiles, reps, customers
        As for :func:`plan_map`.
    titles : (str, str)
        The titles shown on the two maps.
    outlines : bool, optional
        As for :func:`plan_map`.

    Returns
    -------
    branca.element.Figure
        ``.save("before_after.html")`` writes the page; it is as self-contained as
        :func:`plan_map`'s.

    Examples
    --------
    >>> import tempfile
    >>> import geoterr as gt
    >>> units = gt.build_units(gt.read_customers(gt.sample_path()), measures=["workload"])
    >>> before = gt.design(units, 4, balance={"workload": 0.10})
    >>> after = gt.design(units, 5, balance={"workload": 0.10})
    >>> page = gt.before_after_map(before, after, titles=("4 reps", "5 reps"))
    >>> page.save(tempfile.mkdtemp() + "/before_after.html")
    """
    _check_plan(before, "before")
    _check_plan(after, "after")
    import folium
    from branca.element import Figure

    from geoterr.maps.leaflet import SyncViews, add_assets, number_elements, page_title

    figure = Figure()
    add_assets(figure)
    colours = territory_colours(after)
    colours = {**territory_colours(before, keep=colours), **colours}
    maps = []
    for side, (plan, title) in enumerate(zip((before, after), titles, strict=True)):
        m = _map_of(
            plan, tiles=tiles, width="50%", height="100%", left=f"{50 * side}%", position="absolute"
        )
        figure.add_child(m)
        _draw(
            m,
            plan,
            tiles=tiles,
            before=before if side == 1 else False,
            after=after if side == 0 else None,
            reps=reps,
            customers=customers,
            title=title,
            colours=colours,
            frame=Frame(
                fullscreen_page=True, outlines=tiles is None if outlines is None else outlines
            ),
        )
        folium.LayerControl(collapsed=True).add_to(m)
        maps.append(m)
    SyncViews(maps[0], maps[1]).add_to(maps[1])
    page_title(figure, f"Territory plans: {titles[0]} | {titles[1]}")
    number_elements(figure)
    return figure
