"""The Plan: what a design produced, and everything needed to use, share and reload it."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geoterr._errors import GeoterrWarning
from geoterr.metrics import DistanceWeighting, territory_table
from geoterr.units import Units, unit_cells
from geoterr.units.projection import to_lonlat

if TYPE_CHECKING:
    import folium
    from matplotlib.axes import Axes

    from geoterr.design.problem import Problem

__all__ = ["Outcome", "Plan", "build_plan", "territory_name"]

SUMMARY_DROP = ("geometry",)


def territory_name(j: int, k: int) -> str:
    """Name of territory ``j`` (0-based) of ``k``: ``T01``, ``T02``... (``T001`` from 100 on)."""
    return f"T{j + 1:0{max(2, len(str(k)))}d}"


@dataclass(frozen=True)
class Plan:
    """A territory plan.

    Attributes
    ----------
    assignment : Series
        Unit id -> territory name.
    customers : GeoDataFrame or None
        Every input customer (EPSG:4326, index = customer id, all input columns) with its
        ``unit`` and ``territory``.
    territories : GeoDataFrame
        One row per territory (EPSG:4326): polygon, totals, deviations, area, compactness,
        contiguity.
    centers : DataFrame
        Territory -> center ``x``, ``y`` (metres in the units' CRS), ``longitude``, ``latitude``.
    params : dict
        The arguments and seed that produced the plan.
    status : str
        ``"feasible"`` when every promise is kept, ``"violated"`` otherwise.
    problems : tuple of str
        Each promise not kept, in words.
    objective : float or None
        Sum over units of weight x distance (km, or km^2 for inertia) to their center.
    lower_bound : float or None
        No plan in its scope (``lower_bound_scope``) can cost less.
    seconds : float
        Wall-clock time of the design.
    lower_bound_scope : str or None
        What ``lower_bound`` holds for: ``"plan centers"`` (the LP relaxation's optimum for
        the plan's own centers: no assignment to these centers costs less, other centers may)
        or ``"all plans"`` (whatever the centers: the territories LP with exact pricing or
        the exact model's bound, see ``design(prove=True)``); None without a bound.
        ``params["lower_bound_scope"]`` holds the same (kept for older readers).
    units : Units or None
        The units (None for a plan read back with :func:`geoterr.load_plan`).
    roster : DataFrame or None
        Who covers what, after :func:`geoterr.assign_reps` or :func:`geoterr.design_for_reps`:
        one row per rep (and per vacancy) with territory, region, measures, travel, FTE and
        whether the rep kept their territory.
    regions : GeoDataFrame or None
        The levels above the territories (:func:`geoterr.design_regions`): one row per
        region with its level, parent, manager, measures and polygon.

    Examples
    --------
    >>> import geoterr as gt
    >>> units = gt.build_units(gt.read_customers(gt.sample_path()), measures=["workload"])
    >>> plan = gt.design(units, 4, balance={"workload": 0.05})
    >>> plan.status, sorted(plan.territories.index)
    ('feasible', ['T01', 'T02', 'T03', 'T04'])
    """

    assignment: pd.Series
    customers: gpd.GeoDataFrame | None
    territories: gpd.GeoDataFrame
    centers: pd.DataFrame
    params: dict[str, Any]
    status: str
    problems: tuple[str, ...]
    objective: float | None
    lower_bound: float | None
    seconds: float
    lower_bound_scope: str | None = None
    units: Units | None = field(default=None, repr=False, compare=False)
    roster: pd.DataFrame | None = field(default=None, repr=False, compare=False)
    regions: gpd.GeoDataFrame | None = field(default=None, repr=False, compare=False)

    @property
    def gap(self) -> float | None:
        """Relative gap between the objective and the lower bound (0 = proven best)."""
        if self.objective is None or self.lower_bound is None or self.objective <= 0:
            return None
        return max(0.0, (self.objective - self.lower_bound) / self.objective)

    @property
    def certified(self) -> str | None:
        """What :attr:`gap` certifies, in words (None without a gap).

        Examples
        --------
        >>> import geoterr as gt
        >>> units = gt.build_units(gt.read_customers(gt.sample_path()), measures=["workload"])
        >>> plan = gt.design(units, 4, balance={"workload": 0.05})
        >>> plan.certified.startswith("no assignment to these centers")
        True
        """
        gap = self.gap
        if gap is None or self.lower_bound is None:
            return None
        if self.lower_bound_scope == "all plans":
            return (
                f"no plan within the ranges costs less than {self.lower_bound:.6g}, whatever "
                f"its centers: this plan is at most {gap:.2%} above the best possible"
            )
        return (
            f"no assignment to these centers costs less than {self.lower_bound:.6g}: this plan "
            f"is at most {gap:.2%} above the best with its centers (other centers may do better)"
        )

    @property
    def id_column(self) -> str:
        """The customer id column name (the index name of ``customers``)."""
        if self.customers is not None and self.customers.index.name:
            return str(self.customers.index.name)
        return "customer_id"

    @property
    def moved(self) -> pd.DataFrame:
        """Customers whose territory changed in a realignment (``design(current=...)``).

        Their id, ``territory_before`` and ``territory``. Empty for a design from scratch.
        """
        if self.customers is None or "territory_before" not in self.customers.columns:
            return pd.DataFrame(columns=["territory_before", "territory"])
        c = self.customers
        changed = c["territory_before"].notna() & (c["territory_before"] != c["territory"])
        return pd.DataFrame(c.loc[changed, ["territory_before", "territory"]])

    def summary(self) -> pd.DataFrame:
        """Per-territory measures as a plain DataFrame (no geometry)."""
        return pd.DataFrame(self.territories.drop(columns=list(SUMMARY_DROP), errors="ignore"))

    def save(
        self,
        path: Any,
        *,
        map: bool = True,  # noqa: A002 (public keyword: draw the map)
        tiles: str | None = None,
        before: Any = None,
        reps: Any = None,
        overwrite: bool = False,
        attr: str | None = None,
        timings: bool = False,
    ) -> Any:
        """Write the plan to a folder; see :func:`geoterr.io.plans.save_plan`.

        An earlier plan in ``path`` is replaced only with ``overwrite=True``; a folder holding
        files geoterr did not write is refused.
        """
        from geoterr.io.plans import save_plan
        from geoterr.reps import rep_homes

        if reps is None:
            reps = rep_homes(self)
        return save_plan(
            self,
            path,
            map=map,
            tiles=tiles,
            before=before,
            reps=reps,
            overwrite=overwrite,
            attr=attr,
            timings=timings,
        )

    def map(self, **kwargs: Any) -> folium.Map:
        """Return the interactive map; see :func:`geoterr.plan_map`."""
        from geoterr.maps import plan_map
        from geoterr.reps import rep_homes

        if kwargs.get("reps") is None:
            kwargs["reps"] = rep_homes(self)
        m = plan_map(self, **kwargs)
        if self.regions is not None:
            from geoterr.maps.regions import add_region_layer

            add_region_layer(m, self)
        return m

    def export(self, out: Any, **kwargs: Any) -> Any:
        """CRM import files (generic or Salesforce); see :func:`geoterr.export_plan`."""
        from geoterr.crm_export import export_plan

        return export_plan(self, out, **kwargs)

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Return a static matplotlib figure of the plan; see :func:`geoterr.maps.figure.plot_plan`.

        ``plan.plot().figure.savefig("plan.png")`` (or ``.svg``, ``.pdf``) for slides.
        """
        from geoterr.maps.figure import plot_plan

        return plot_plan(self, ax, **kwargs)


@dataclass(frozen=True)
class Outcome:
    """How a design ended, for :func:`build_plan`.

    Attributes
    ----------
    problems : list of str
        The promises the plan breaks, in words (empty: none).
    objective : float, optional
        The plan's objective value.
    lower_bound : float, optional
        A bound no plan can beat, when one is known.
    seconds : float
        The design time.
    lower_bound_scope : str, optional
        What the bound holds for (see :attr:`Plan.lower_bound_scope`).
    """

    problems: list[str]
    objective: float | None
    lower_bound: float | None
    seconds: float
    lower_bound_scope: str | None = None


def build_plan(
    units: Units,
    problem: Problem,
    labels: np.ndarray,
    centers: np.ndarray,
    *,
    names: list[str],
    center_units: list[Any] | None = None,
    params: dict[str, Any],
    outcome: Outcome,
) -> Plan:
    """Assemble a :class:`Plan` from the optimizer's arrays."""
    problems, objective = outcome.problems, outcome.objective
    lower_bound, seconds = outcome.lower_bound, outcome.seconds
    assignment = pd.Series(
        np.asarray(names, dtype=object)[labels], index=units.gdf.index, name="territory"
    )
    center_pts = gpd.GeoSeries(gpd.points_from_xy(centers[:, 0], centers[:, 1]), crs=units.crs)
    lonlat = center_pts.to_crs(4326)
    center_table = pd.DataFrame(
        {
            "x": centers[:, 0],
            "y": centers[:, 1],
            "longitude": lonlat.x.to_numpy(),
            "latitude": lonlat.y.to_numpy(),
        },
        index=pd.Index(names, name="territory"),
    )
    if center_units is not None:
        center_table["unit"] = center_units
    table = territory_table(
        units.gdf,
        unit_cells(units),
        assignment,
        names,
        {m: problem.in_user_units(problem.target[:, i], i) for i, m in enumerate(problem.names)},
        center_table,
        units.graph,
        distances=DistanceWeighting(weight=problem.names[0], inertia=problem.inertia),
    )
    table["status"] = territory_status(names, problems)
    customers = None
    if units.customers is not None:
        customers = units.customers.copy()
        clash = [c for c in ("unit", "territory") if c in customers.columns]
        if clash:
            renamed = {c: f"{c}_input" for c in clash}
            warnings.warn(
                f"the customers' own column(s) {', '.join(clash)} are kept as "
                f"{', '.join(renamed.values())}; `unit` and `territory` now hold the plan's.",
                GeoterrWarning,
                stacklevel=3,
            )
            customers = customers.rename(columns=renamed)
        customers["unit"] = units.customer_unit.reindex(customers.index)
        customers["territory"] = assignment.reindex(customers["unit"]).to_numpy()
    return Plan(
        assignment=assignment,
        customers=customers,
        territories=to_lonlat(table),
        centers=center_table,
        params=params,
        status="feasible" if not problems else "violated",
        problems=tuple(problems),
        objective=objective,
        lower_bound=lower_bound,
        seconds=seconds,
        lower_bound_scope=None if lower_bound is None else outcome.lower_bound_scope,
        units=units,
    )


def territory_status(names: list[str], problems: list[str]) -> list[str]:
    """Each territory's ``status`` column.

    ``"ok"``, or ``"violated: "`` and the promises it breaks in words (those that name it, then
    those of the whole plan, such as the move budget).

    Examples
    --------
    >>> territory_status(["T1", "T10"], ["territory T10 is in 2 pieces (not contiguous)"])
    ['ok', 'violated: territory T10 is in 2 pieces (not contiguous)']
    """
    named = {name: [p for p in problems if f"territory {name} " in p] for name in names}
    claimed = {p for own in named.values() for p in own}
    whole = [p for p in problems if p not in claimed]
    return [
        "violated: " + "; ".join(named[name] + whole) if named[name] or whole else "ok"
        for name in names
    ]
