"""A static figure of a plan (matplotlib) for slides and reports, as PNG, SVG or PDF."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib import patheffects
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, PathPatch
from matplotlib.path import Path
from shapely.geometry import MultiPolygon, Polygon

from geoterr.map_data import label_point, rep_table, territory_colours

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


def plot_plan(
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
    handles: list[Any] = []
    for name, geom in zip(table.index, table.geometry, strict=True):
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
            ax.annotate(
                _text(name),
                (lon, lat),
                ha="center",
                va="center",
                fontsize=8,
                fontweight="bold",
                zorder=6,
                path_effects=[patheffects.withStroke(linewidth=2.5, foreground="white")],
            )
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
    x0, y0, x1, y1 = table.total_bounds
    pad = 0.03 * max(x1 - x0, y1 - y0)
    ax.set_xlim(x0 - pad, x1 + pad)
    ax.set_ylim(y0 - pad, y1 + pad)
    # Degrees of longitude shrink with latitude: keep the map's shape.
    ax.set_aspect(1 / max(math.cos(math.radians((y0 + y1) / 2)), 0.1))
    ax.set_axis_off()
    if legend:
        ax.legend(handles=handles, loc="best", fontsize=7, framealpha=0.9)
    if title:
        ax.set_title(_text(title))
    return ax


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
