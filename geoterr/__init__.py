"""geoterr: balanced, contiguous, compact sales territories on a map.

>>> import geoterr as gt
>>> customers = gt.read_customers(gt.sample_path())
>>> units = gt.build_units(customers, measures=["workload", "annual_revenue"])
>>> plan = gt.design(units, 12, balance={"workload": 0.05})
>>> plan.status
'feasible'
"""

from __future__ import annotations

__version__ = "0.1.0"

from geoterr._errors import (
    GeoterrError,
    GeoterrWarning,
    InfeasibleError,
    InputError,
    SolverError,
)
from geoterr.comparison import Comparison, compare
from geoterr.datasets import sample_path
from geoterr.design import design
from geoterr.evaluation import Evaluation, evaluate, plan_from_column
from geoterr.io import read_customers
from geoterr.io.plans import load_plan, save_plan
from geoterr.maps import before_after_map, plan_map
from geoterr.plan import Plan
from geoterr.report import write_report
from geoterr.sales import SalesRecords, read_sales
from geoterr.sizing import Sizing, size_territories
from geoterr.sweeps import sweep
from geoterr.targets import Targets, split_targets
from geoterr.tracking import Tracking, track
from geoterr.units import Units, build_units, units_from_files

__all__ = [
    "Comparison",
    "Evaluation",
    "GeoterrError",
    "GeoterrWarning",
    "InfeasibleError",
    "InputError",
    "Plan",
    "SalesRecords",
    "Sizing",
    "SolverError",
    "Targets",
    "Tracking",
    "Units",
    "__version__",
    "before_after_map",
    "build_units",
    "compare",
    "design",
    "evaluate",
    "load_plan",
    "plan_from_column",
    "plan_map",
    "read_customers",
    "read_sales",
    "sample_path",
    "save_plan",
    "size_territories",
    "split_targets",
    "sweep",
    "track",
    "units_from_files",
    "write_report",
]

# Reps, segments, regions and CRM export (issue 14).
from geoterr.crm_export import export_plan
from geoterr.hierarchy import design_regions, design_top_down
from geoterr.layers import LayeredPlan, design_layers, load_layers
from geoterr.rep_assign import assign_reps
from geoterr.reps import design_for_reps, read_reps

__all__ += [
    "LayeredPlan",
    "assign_reps",
    "design_for_reps",
    "design_layers",
    "design_regions",
    "design_top_down",
    "export_plan",
    "load_layers",
    "read_reps",
]
