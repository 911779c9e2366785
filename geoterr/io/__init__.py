"""Reading and writing: customer files in, plan folders out and back.

- :mod:`~geoterr.io.customers` reads customers (:func:`read_customers`): files or frames in,
  a validated GeoDataFrame in EPSG:4326 indexed by customer id out; text tables and Excel
  workbooks are decoded by :mod:`~geoterr.io.tables`, and the locations checked and made
  points by :mod:`~geoterr.io.locations`;
- :mod:`~geoterr.io.plans` saves a plan to a folder and loads it back (:func:`save_plan`,
  :func:`load_plan`); :mod:`~geoterr.io.plan_readers` reads each file of a folder strictly,
  :mod:`~geoterr.io.plan_extras` carries the roster and the regions, and
  :mod:`~geoterr.io.folders` writes folders and files atomically, never deleting a file
  geoterr did not write (also for CRM exports, layered plans and figures);
- :mod:`~geoterr.io.csv_safety` keeps spreadsheet formulas out of written CSV cells,
  reversibly (:func:`raw_csv` writes cells as they are).
"""

from __future__ import annotations

from geoterr.io.csv_safety import raw_csv
from geoterr.io.customers import read_customers
from geoterr.io.plans import load_plan, save_plan

__all__ = ["load_plan", "raw_csv", "read_customers", "save_plan"]
