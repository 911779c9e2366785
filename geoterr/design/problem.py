"""The design problem in array form: what the model and the local search share."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd

from geoterr._errors import InfeasibleError, InputError, format_ids
from geoterr.units import Units

__all__ = ["Problem", "make_problem", "parse_balance"]


def parse_balance(balance: Mapping[str, float] | str | None, units: Units) -> dict[str, float]:
    """Check and normalise the ``balance`` argument: measure name -> relative tolerance.

    Parameters
    ----------
    balance : dict, str or None
        ``{"workload": 0.05, "annual_revenue": 0.10}``; a string ``"workload:0.05"`` (the CLI's
        form, several separated by commas); None balances the customer count within 5 %.
    units : Units
        The units, whose columns the measures must be.
    """
    if balance is None:
        balance = {"customers": 0.05}
    if isinstance(balance, str):
        parsed: dict[str, float] = {}
        for part in balance.split(","):
            name, sep, text = part.strip().rpartition(":")
            if not sep or not name:
                msg = (
                    f"`balance` {balance!r} is not 'measure:tolerance' (e.g. 'workload:0.05'); "
                    "separate several measures with commas."
                )
                raise InputError(msg)
            try:
                share = float(text.rstrip("%")) / (100.0 if text.endswith("%") else 1.0)
            except ValueError:
                msg = (
                    f"`balance` tolerance {text!r} for {name!r} is not a number (e.g. 0.05 or 5%)."
                )
                raise InputError(msg) from None
            parsed[name] = share
        balance = parsed
    result: dict[str, float] = {}
    for name, given in dict(balance).items():
        if name not in units.gdf.columns or name in ("x", "y", "geometry"):
            msg = (
                f"`balance` names {name!r}, which is not a unit measure; measures are: "
                f"{', '.join(units.measures)}. Pass it to build_units(measures=...) first."
            )
            raise InputError(msg)
        tol = float(given)
        if not np.isfinite(tol) or tol < 0 or tol >= 1:
            msg = (
                f"`balance` tolerance for {name!r} must be a share in [0, 1) such as 0.05 "
                f"(5 %), got {tol}."
            )
            raise InputError(msg)
        result[name] = tol
    if not result:
        msg = "`balance` is empty; name at least one measure, e.g. {'workload': 0.05}."
        raise InputError(msg)
    return result


@dataclass
class Problem:
    """Arrays describing one design problem.

    Attributes
    ----------
    ids : Index
        Unit ids, position = the integer index used everywhere below.
    xy : ndarray (n, 2)
        Unit locations in metres.
    weight : ndarray (n,)
        Weight of each unit in the objective (the first balance measure, never zero).
    loads : ndarray (n, m)
        The balanced measures per unit.
    names : list of str
        The balanced measures' names.
    lower, upper : ndarray (k, m)
        Allowed range of each territory's total of each measure.
    neighbours : list of ndarray
        Adjacent unit positions of every unit.
    k : int
        Number of territories.
    inertia : bool
        Squared distances in the objective.
    """

    ids: pd.Index
    xy: np.ndarray
    weight: np.ndarray
    loads: np.ndarray
    names: list[str]
    tolerance: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    neighbours: list[np.ndarray]
    k: int
    inertia: bool

    @property
    def n(self) -> int:
        return len(self.ids)

    def costs(self, centers: np.ndarray) -> np.ndarray:
        """Objective cost of giving each unit to each center, shape (n, k), in km units."""
        d = np.linalg.norm(self.xy[:, None, :] - centers[None, :, :], axis=2) / 1000.0
        if self.inertia:
            d = d * d
        return self.weight[:, None] * d


def make_problem(units: Units, k: int, balance: dict[str, float], *, inertia: bool) -> Problem:
    """Build the arrays and run the checks that need no solver.

    Raises
    ------
    InputError
        Bad ``n_territories``.
    InfeasibleError
        A measure that cannot be balanced at all (a unit heavier than a territory may be,
        more territories than units), with the smallest tolerance that could work.
    """
    n = len(units)
    if not isinstance(k, int | np.integer) or isinstance(k, bool) or k < 1:
        msg = f"`n_territories` must be a positive whole number, got {k!r}."
        raise InputError(msg)
    if k > n:
        msg = (
            f"`n_territories` is {k} but there are only {n} units; every territory needs at "
            "least one unit. Ask for fewer territories or build finer units."
        )
        raise InfeasibleError(msg)
    names = list(balance)
    loads = units.gdf[names].to_numpy(dtype=float)
    tol = np.array([balance[m] for m in names])
    totals = loads.sum(axis=0)
    for j, name in enumerate(names):
        if totals[j] <= 0:
            msg = f"`balance` measure {name!r} sums to {totals[j]:g}; it cannot be balanced."
            raise InputError(msg)
    mean = totals / k
    lower = np.tile(mean * (1 - tol), (k, 1))
    upper = np.tile(mean * (1 + tol), (k, 1))
    _check_heavy_units(units, names, loads, mean, tol)
    primary = loads[:, 0]
    # Units without workload still need to be pulled to a nearby territory.
    weight = primary + 1e-3 * max(float(primary.mean()), 1e-12)
    index = {u: i for i, u in enumerate(units.gdf.index)}
    neighbours = [np.empty(0, dtype=np.int64)] * n
    for u, nbrs in units.graph.adjacency():
        neighbours[index[u]] = np.fromiter((index[v] for v in nbrs), dtype=np.int64)
    return Problem(
        ids=units.gdf.index,
        xy=units.xy,
        weight=weight,
        loads=loads,
        names=names,
        tolerance=tol,
        lower=lower,
        upper=upper,
        neighbours=neighbours,
        k=int(k),
        inertia=inertia,
    )


def _check_heavy_units(
    units: Units, names: list[str], loads: np.ndarray, mean: np.ndarray, tol: np.ndarray
) -> None:
    reasons = []
    for j, name in enumerate(names):
        cap = mean[j] * (1 + tol[j])
        heavy = np.flatnonzero(loads[:, j] > cap + 1e-9)
        if len(heavy):
            worst = heavy[np.argmax(loads[heavy, j])]
            needed = loads[worst, j] / mean[j] - 1
            ids = [units.gdf.index[i] for i in heavy[np.argsort(-loads[heavy, j])]]
            reasons.append(
                f"{len(heavy)} units have more {name} than a territory may hold "
                f"({cap:,.6g} = mean {mean[j]:,.6g} x {1 + tol[j]:g}): {format_ids(ids)}; "
                f"the largest, {units.gdf.index[worst]}, holds {loads[worst, j]:,.6g}. "
                f"A tolerance of at least {needed:.1%} could work, or fewer territories "
                f"(at most {int(loads[:, j].sum() / loads[worst, j] * (1 + tol[j]))}), "
                "or split that unit"
            )
    if reasons:
        raise InfeasibleError("No balanced plan exists: " + "; ".join(reasons) + ".")


def components_of(
    nodes: np.ndarray, neighbours: list[np.ndarray], member: np.ndarray
) -> list[np.ndarray]:
    """Connected components of the units ``nodes`` (``member`` marks them), by BFS."""
    seen = np.zeros(len(member), dtype=bool)
    parts = []
    for start in nodes:
        if seen[start]:
            continue
        seen[start] = True
        stack = [int(start)]
        comp = []
        while stack:
            u = stack.pop()
            comp.append(u)
            for v in neighbours[u]:
                if member[v] and not seen[v]:
                    seen[v] = True
                    stack.append(int(v))
        parts.append(np.array(comp, dtype=np.int64))
    return parts


def graph_of(problem: Problem) -> nx.Graph:
    """The unit graph on integer positions."""
    g = nx.Graph()
    g.add_nodes_from(range(problem.n))
    for u, nbrs in enumerate(problem.neighbours):
        g.add_edges_from((u, int(v)) for v in nbrs if v > u)
    return g


def id_list(problem: Problem, positions: np.ndarray) -> list[Hashable]:
    """Unit ids at the given positions."""
    return [problem.ids[i] for i in positions]
