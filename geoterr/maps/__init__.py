"""Maps of plans: a plan in, a page or a figure out.

- :mod:`~geoterr.maps.payload` turns a plan into the data a map shows (territory outlines,
  labels, colours, customers, moves, reps, the plan's status), the same for every map;
- :mod:`~geoterr.maps.homes` reads the reps (name, territory, home) that maps and figures
  show, and names each territory's rep;
- :mod:`~geoterr.maps.outlines` cuts the shipped land, coast and border outlines
  (``_assets/outlines.geojson``) to the plan's surroundings;
- :mod:`~geoterr.maps.html` draws the interactive page (:func:`plan_map`,
  :func:`before_after_map`) with the folium elements of :mod:`~geoterr.maps.leaflet`, which
  put Leaflet and geoterr's script (``_assets/``) inline;
- :mod:`~geoterr.maps.figure` draws a static matplotlib figure (``Plan.plot``).

folium and matplotlib are imported only when a map or a figure is drawn.
"""

from __future__ import annotations

from geoterr.maps.html import before_after_map, plan_map

__all__ = ["before_after_map", "plan_map"]
