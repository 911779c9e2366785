"""Basic units: customers in, the pieces territories are made of out.

What flows through this room, in order:

- :mod:`~geoterr.units.checks` checks the customers, their measures and the options, every
  problem at once;
- :mod:`~geoterr.units.projection` picks a projected CRS for the data (distances and areas
  are measured there);
- :mod:`~geoterr.units.layouts` places the units of each kind and finds which touch, using
  :mod:`~geoterr.units.voronoi` (cells around customer locations),
  :mod:`~geoterr.units.hexes` (H3 hexagons) with :mod:`~geoterr.units.hex_land` (the empty
  land between them shared out), or :mod:`~geoterr.units.polygons` (the user's own areas);
- :mod:`~geoterr.units.graph` turns touching pairs into the contiguity graph and applies the
  islands policy;
- :mod:`~geoterr.units.build` sums the customers' measures per unit and returns
  :class:`Units` (:func:`build_units`);
- :mod:`~geoterr.units.large_tables` does the same for customer tables larger than memory,
  partition by partition with Dask (:func:`units_from_files`).
"""

from __future__ import annotations

from geoterr.units.build import Units, build_units, unit_cells
from geoterr.units.checks import COUNT
from geoterr.units.large_tables import units_from_files

__all__ = ["COUNT", "Units", "build_units", "unit_cells", "units_from_files"]
