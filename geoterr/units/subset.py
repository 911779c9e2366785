"""A subset of basic units as basic units of their own (to design one part at a time)."""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Sequence

from geoterr.units.build import Units

__all__ = ["subset_units"]


def subset_units(units: Units, ids: Sequence[Hashable], *, islands: str | None = None) -> Units:
    """Return the units ``ids`` with their graph, customers, measures and added links.

    Parameters
    ----------
    units : Units
        The basic units.
    ids : sequence
        Unit ids to keep, in the order wanted.
    islands : str, optional
        The islands policy of the subset (default: that of ``units``).

    Examples
    --------
    >>> import geoterr as gt
    >>> units = gt.build_units(gt.read_customers(gt.sample_path()))
    >>> part = subset_units(units, list(units.gdf.index[:10]))
    >>> len(part), len(part.customer_unit), set(part.graph) <= set(part.gdf.index)
    (10, 10, True)
    """
    gdf = units.gdf.loc[list(ids)]
    keep = set(gdf.index)
    customer_unit = units.customer_unit[units.customer_unit.isin(keep)]
    customers = None if units.customers is None else units.customers.loc[customer_unit.index]
    return dataclasses.replace(
        units,
        gdf=gdf,
        graph=units.graph.subgraph(keep).copy(),
        customer_unit=customer_unit,
        customers=customers,
        added_links=[e for e in units.added_links if e[0] in keep and e[1] in keep],
        islands=units.islands if islands is None else islands,
    )
