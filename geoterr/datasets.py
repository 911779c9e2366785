"""Data sets: the shipped sample, and the published districting instances of the benchmarks.

:func:`sample_path` finds the sample files installed with geoterr (simulated accounts and
reps, see ``data/README.md``). :func:`read_districting_instance` reads the county instances
of Validi, Buchanan and Lykhovyd (Operations Research 70(2), 2022), which the benchmarks and
the tests use as an exact yardstick. An instance folder holds ``instances.csv`` (state, k, L,
U and published objectives) and, per state, ``ST_nodes.csv`` (idx, GEOID10, NAME, TOTPOP,
C_X, C_Y lon/lat ...), ``ST_edges.csv`` (i, j) and ``ST_dist_km.csv`` (an n x n matrix of
whole kilometres).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geoterr._errors import InputError
from geoterr.io import read_customers
from geoterr.units import Units, build_units

__all__ = ["DistrictingInstance", "read_districting_instance", "sample_path"]


def sample_path(name: str = "customers.csv") -> Path:
    """Return the path of a shipped sample file.

    Parameters
    ----------
    name : str
        ``"customers.csv"`` (4,500 simulated accounts placed around GeoNames places) or
        ``"reps.csv"`` (12 sales reps). See ``data/README.md`` for provenance.

    Returns
    -------
    Path
        A path that can be passed to :func:`geoterr.read_customers` or :func:`pandas.read_csv`.

    Examples
    --------
    >>> import geoterr as gt
    >>> gt.sample_path().name
    'customers.csv'
    """
    path = Path(str(resources.files("geoterr.sample_data") / name))
    if not path.exists():
        msg = f"`name` {name!r} is not a shipped sample file; use 'customers.csv' or 'reps.csv'."
        raise InputError(msg)
    return path


@dataclass(frozen=True)
class DistrictingInstance:
    """One published instance, ready for :func:`geoterr.design`.

    ``design(units, k, balance={"TOTPOP": bounds}, costs=costs, objective="inertia")``
    solves it; ``published`` is the published contiguous optimum (a number, or
    ``"infeasible"``) of sum p_i (d_ij / 1000)^2 with ``dist`` in km.
    """

    state: str
    units: Units
    costs: pd.DataFrame
    k: int
    bounds: tuple[float, float]
    published: float | str

    def design(self, **options: Any) -> Any:
        """``geoterr.design`` on this instance as published.

        The distance matrix as costs, population in [L, U], the inertia objective; ``options`` go to
        ``design``.
        """
        from geoterr.design import design

        return design(
            self.units,
            self.k,
            balance={"TOTPOP": self.bounds},
            costs=self.costs,
            objective="inertia",
            **options,
        )

    def objective(self, assignment: pd.Series, center_units: pd.Series) -> float:
        """Return the published objective of a plan: sum p_i (d(i, center) / 1000)^2, d in km."""
        pop = self.units.gdf["TOTPOP"]
        centre = pd.Index(center_units.reindex(assignment.to_numpy()).to_numpy())
        d = self.costs.to_numpy()[
            self.costs.index.get_indexer(assignment.index), self.costs.columns.get_indexer(centre)
        ]
        return float((pop.reindex(assignment.index).to_numpy() * d**2).sum()) / 1e6


def read_districting_instance(folder: str | Path, state: str) -> DistrictingInstance:
    """Read one state's instance from a folder in the published format.

    Raises
    ------
    InputError
        If the folder or the state is missing.
    """
    folder = Path(folder)
    table_path = folder / "instances.csv"
    if not table_path.exists():
        msg = f"`folder` {str(folder)!r} has no instances.csv; is it a districting data folder?"
        raise InputError(msg)
    table = pd.read_csv(table_path).set_index("state")
    if state not in table.index:
        msg = f"`state` {state!r} is not in {table_path}; states are {', '.join(table.index)}."
        raise InputError(msg)
    row: Any = table.loc[state]
    nodes = pd.read_csv(folder / f"{state}_nodes.csv", dtype={"GEOID10": str})
    edges = pd.read_csv(folder / f"{state}_edges.csv")
    dist = np.loadtxt(folder / f"{state}_dist_km.csv", delimiter=",")
    customers = read_customers(nodes, id_col="idx", lat="C_Y", lon="C_X", measures=["TOTPOP"])
    units = build_units(
        customers, "points", measures=["TOTPOP"], adjacency=zip(edges.i, edges.j, strict=True)
    )
    published = str(row["objval_cut"])
    return DistrictingInstance(
        state=state,
        units=units,
        costs=pd.DataFrame(dist, index=nodes.idx, columns=nodes.idx),
        k=int(row["k"]),
        bounds=(float(row["L"]), float(row["U"])),
        published=published if published == "infeasible" else float(published),
    )
