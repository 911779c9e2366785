"""Published county instances: geoterr must reach the published contiguous optimum."""

from __future__ import annotations

import warnings
from pathlib import Path

import networkx as nx
import pytest

import geoterr as gt
from geoterr.instances import read_districting_instance

DATA = Path(__file__).parent / "data" / "hess"


@pytest.mark.parametrize("state", ["WV", "NM"])
def test_reaches_published_optimum(state: str) -> None:
    inst = read_districting_instance(DATA, state)
    units = inst.units
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gt.GeoterrWarning)
        plan = gt.design(
            units,
            inst.k,
            balance={"TOTPOP": inst.bounds},
            costs=inst.costs,
            objective="inertia",
            time_limit=120,
        )
    assert plan.status == "feasible"
    low, high = inst.bounds
    for territory in plan.territories.index:
        members = list(plan.assignment.index[plan.assignment == territory])
        assert nx.is_connected(units.graph.subgraph(members))
        assert low <= units.gdf.loc[members, "TOTPOP"].sum() <= high
    assert isinstance(inst.published, float)
    assert inst.objective(plan.assignment, plan.centers["unit"]) <= inst.published * 1.005


def test_bad_instance_folder(tmp_path: Path) -> None:
    with pytest.raises(gt.InputError, match="no instances.csv"):
        read_districting_instance(tmp_path, "WV")
    with pytest.raises(gt.InputError, match="not in"):
        read_districting_instance(DATA, "XX")
