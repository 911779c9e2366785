"""A static figure of a plan (matplotlib) for slides and reports, as PNG, SVG or PDF."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib import patheffects
from matplotlib.artist import Artist
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, PathPatch
from matplotlib.path import Path
from shapely.geometry import MultiPolygon, Point, Polygon

from geoterr.maps.homes import rep_table
from geoterr.maps.outlines import outlines_near
from geoterr.maps.payload import _on_land, label_point, territory_colours

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from geoterr.plan import Plan

__all__ = ["plot_plan"]


def _text(value: Any) -> str:
    """User text as matplotlib shows it literally: ``$`` would start mathtext."""
    return str(value).replace("$", r"\$")


def _path(geom: Any) -> Path:
    """One matplotlib path for a (multi)polygon, holes included."""
    parts = geom.geoms if isinstance(geom, MultiPolygon) else [geom]
    vertices: list[np.ndarray] = []
    codes: list[np.ndarray] = []
    for part in parts:
        if not isinstance(part, Polygon) or part.is_empty:
            continue
        for ring in (part.exterior, *part.interiors):
            xy = np.asarray(ring.coords)[:, :2]
            ring_codes = np.full(len(xy), Path.LINETO, dtype=np.uint8)
            ring_codes[0] = Path.MOVETO
            ring_codes[-1] = Path.CLOSEPOLY
            vertices.append(xy)
            codes.append(ring_codes)
    return Path(np.concatenate(vertices), np.concatenate(codes))


def plot_plan(  # noqa: PLR0913 (public API: every option is a documented keyword)
    plan: Plan,
    ax: Axes | None = None,
    *,
    customers: bool = True,
    centers: bool = True,
    labels: bool = True,
    legend: bool = True,
    reps: Any = None,
    title: str | None = None,
    figsize: tuple[float, float] = (10.0, 7.0),
    outlines: bool = True,
) -> Axes:
    """Draw a plan: territories in the map's colours, labels, customers, centers, legend.

    Parameters
    ----------
    plan : Plan
    ax : matplotlib Axes, optional
        Where to draw; default: a new figure of ``figsize`` inches.
    customers : bool
        Draw the customers as small dots in their territory's colour.
    centers : bool
        Draw the territory centers (squares when the centers were fixed).
    labels : bool
        Write each territory's name inside it.
    legend : bool
        A legend of the territories (and of the symbols drawn).
    reps : DataFrame, GeoDataFrame or path, optional
        Reps with home locations (as for :func:`geoterr.plan_map`), drawn as diamonds.
    title : str, optional
    figsize : (float, float)
    outlines : bool
        Land, sea, coastlines, country and US state borders behind the plan (the map's
        outlines, :mod:`geoterr.maps.outlines`), drawn on a background axes inside ``ax``
        (``ax.child_axes``), so that ``ax`` itself holds only the plan.

    Returns
    -------
    matplotlib.axes.Axes
        One patch per territory in ``ax.patches`` (its ``gid`` is the territory name).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import geoterr as gt, tempfile
    >>> units = gt.build_units(gt.read_customers(gt.sample_path()), measures=["workload"])
    >>> plan = gt.design(units, 6, balance={"workload": 0.05})
    >>> ax = plan.plot(title="Six territories")
    >>> ax.figure.savefig(tempfile.mkdtemp() + "/plan.png", dpi=150)
    """
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=figsize)
    colours = territory_colours(plan)
    table = plan.territories
    x0, y0, x1, y1 = table.total_bounds
    geoms = list(table.geometry)
    if outlines:  # drawn on land, as on the interactive map
        geoms = _on_land(geoms, outlines_near((x0, y0, x1, y1), margin=0.25)["land"])
    handles: list[Any] = []
    texts = []
    for name, geom in zip(table.index, geoms, strict=True):
        if geom is None or geom.is_empty:
            continue
        colour = colours[str(name)]
        patch = PathPatch(
            _path(geom), facecolor=colour, edgecolor="#222222", linewidth=0.8, alpha=0.6
        )
        patch.set_gid(str(name))
        ax.add_patch(patch)
        handles.append(Patch(facecolor=colour, edgecolor="#222222", alpha=0.6, label=_text(name)))
        if labels:
            lat, lon = label_point(geom)
            text = ax.annotate(
                _text(name),
                (lon, lat),
                xytext=(0, 0),
                textcoords="offset points",
                ha="center",
                va="center",
                fontsize=8,
                fontweight="bold",
                zorder=6,
                path_effects=[patheffects.withStroke(linewidth=2.5, foreground="white")],
            )
            texts.append((text, geom))
    if customers and plan.customers is not None:
        points = plan.customers
        ax.scatter(
            points.geometry.x,
            points.geometry.y,
            s=4 if len(points) <= 20_000 else 1,
            c=[colours.get(str(t), "#555555") for t in points["territory"]],
            edgecolors="#222222",
            linewidths=0.2,
            zorder=3,
        )
        handles.append(_symbol("o", "#888888", "customer", size=4))
    if centers and len(plan.centers):
        fixed = bool(plan.params.get("fixed_centers"))
        marker, face = ("s", "black") if fixed else ("o", "white")
        ax.scatter(
            plan.centers["longitude"],
            plan.centers["latitude"],
            s=40,
            marker=marker,
            facecolors=face,
            edgecolors="black",
            linewidths=1.5,
            zorder=4,
        )
        handles.append(_symbol(marker, face, "fixed center" if fixed else "territory center"))
    if reps is not None:
        homes = rep_table(reps)
        ax.scatter(
            homes["longitude"],
            homes["latitude"],
            s=45,
            marker="D",
            facecolors="white",
            edgecolors="black",
            linewidths=1.5,
            zorder=5,
        )
        handles.append(_symbol("D", "white", "rep home"))
    pad = 0.03 * max(x1 - x0, y1 - y0)
    ax.set_xlim(x0 - pad, x1 + pad)
    ax.set_ylim(y0 - pad, y1 + pad)
    # Degrees of longitude shrink with latitude: keep the map's shape.
    ax.set_aspect(1 / max(math.cos(math.radians((y0 + y1) / 2)), 0.1))
    ax.set_axis_off()
    if outlines:
        _background(ax, (x0, y0, x1, y1))
    if texts:
        ax.add_artist(LabelPlacer(texts))
    if legend:  # beside the map, never over it
        ax.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            borderaxespad=0.0,
            fontsize=7,
            framealpha=0.9,
            ncols=max(1, math.ceil(len(handles) / 30)),
        )
    if title:
        ax.set_title(_text(title))
    if plan.problems or plan.status != "feasible":
        ax.annotate(  # under the map, in red: the plan broke its promises
            _status_line(plan),
            (0, 0),
            xycoords="axes fraction",
            xytext=(0, -4),
            textcoords="offset points",
            va="top",
            fontsize=8,
            color="#b3261e",
            gid="status",
        )
    return ax


def _status_line(plan: Plan) -> str:
    """Return a violated plan's status for the figure: the count and the first broken promises."""
    n = len(plan.problems)
    head = f"Status: {plan.status}, {n} broken promise{'s' if n != 1 else ''}"
    shown = [_text(p) for p in plan.problems[:2]]
    more = f" (+{n - 2} more)" if n > 2 else ""
    return head + (":\n" + "\n".join(shown) + more if shown else "")


class LabelPlacer(Artist):
    """Places the territory labels when the figure is drawn, at its final size.

    Smallest territory first, each at its point, else shifted (staying inside its territory), else
    hidden; the legend still names every territory.
    """

    def __init__(self, texts: list[tuple[Any, Any]]) -> None:
        super().__init__()
        self.texts = texts
        self.set_zorder(5.9)  # just before the labels (zorder 6) are drawn

    def draw(self, renderer: Any) -> None:
        placed: list[Any] = []
        for text, geom in sorted(self.texts, key=lambda t: t[1].area):
            text.set_visible(True)
            text.xyann = (0.0, 0.0)
            box = text.get_window_extent(renderer)
            w = box.width * 72 / renderer.dpi  # points
            h = box.height * 72 / renderer.dpi
            for dx, dy in ((0, 0), (0, h), (0, -h), (w * 0.6, 0), (-w * 0.6, 0)):
                text.xyann = (dx, dy)
                box = text.get_window_extent(renderer)
                if any(box.overlaps(other) for other in placed):
                    continue
                if (dx, dy) != (0, 0):
                    centre = text.axes.transData.inverted().transform(
                        ((box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2)
                    )
                    if not geom.contains(Point(centre)):
                        continue
                placed.append(box)
                break
            else:
                text.xyann = (0.0, 0.0)
                text.set_visible(False)


SEA, LAND = "#dfe7ed", "#fbfaf5"
LINES = {  # kind: colour, width, style (as on the interactive map)
    "coast": ("#6f8796", 0.5, "solid"),
    "country": ("#444444", 0.8, (0, (5, 2))),
    "state": ("#777777", 0.4, "solid"),
}


def _lines(geom: Any) -> list[np.ndarray]:
    parts = getattr(geom, "geoms", [geom])
    return [np.asarray(p.coords)[:, :2] for p in parts if not p.is_empty]


def _background(ax: Axes, bounds: tuple[float, float, float, float]) -> Axes:
    """Sea, land and borders on an axes behind ``ax`` that follows its box and limits."""
    from matplotlib.collections import LineCollection

    parts = outlines_near(bounds, margin=0.25)
    back = ax.inset_axes((0.0, 0.0, 1.0, 1.0), zorder=-1)
    back.set_facecolor(SEA)
    back.set_xticks([])
    back.set_yticks([])
    for spine in back.spines.values():
        spine.set_visible(False)
    if not parts["land"].is_empty:
        back.add_patch(PathPatch(_path(parts["land"]), facecolor=LAND, edgecolor="none"))
    for kind, (colour, width, style) in LINES.items():
        if not parts[kind].is_empty:
            lines = LineCollection(
                _lines(parts[kind]), colors=colour, linewidths=width, linestyles=style
            )
            back.add_collection(lines)

    def follow(_: Any = None) -> None:
        back.set_xlim(ax.get_xlim())
        back.set_ylim(ax.get_ylim())

    follow()
    ax.callbacks.connect("xlim_changed", follow)
    ax.callbacks.connect("ylim_changed", follow)
    return back


def _symbol(marker: str, face: str, text: str, size: float = 7) -> Line2D:
    return Line2D(
        [],
        [],
        linestyle="none",
        marker=marker,
        markersize=size,
        markerfacecolor=face,
        markeredgecolor="black",
        label=text,
    )
