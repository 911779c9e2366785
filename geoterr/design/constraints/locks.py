"""Locks: units pinned to a territory and territories kept as they are.

Units pinned to a territory (``locked=``) and territories kept as they are (``keep_territories=``).

``problem.locked`` (n,) holds each pinned unit's territory (-1: free) and ``problem.closed``
(k,) the kept territories, which no unit joins except their own pinned ones.
"""

from __future__ import annotations

import numpy as np

from geoterr._errors import format_ids
from geoterr.design.constraints.base import MODELS, Constraint
from geoterr.design.problem import Problem

__all__ = ["KeptTerritories", "LockedUnits"]


class LockedUnits(Constraint):
    """Pinned units stay in their territory."""

    name = "locked"
    # The exact model's territories are interchangeable (centers are chosen): no pins.
    models = MODELS - {"exact", "tree", "columns"}

    def allowed(self, problem: Problem, centers: np.ndarray | None) -> np.ndarray | None:
        """Return the allowed pairs: a pinned unit may join its own territory only."""
        pins = problem.locked
        pinned = np.flatnonzero(pins >= 0)
        allowed = np.ones((problem.n, problem.k), dtype=bool)
        allowed[pinned] = False
        allowed[pinned, pins[pinned]] = True
        return allowed

    def excess(self, problem: Problem, labels: np.ndarray, centers: np.ndarray | None) -> float:
        """Pinned units outside their territory."""
        return float(np.count_nonzero((problem.locked >= 0) & (labels != problem.locked)))

    def broken(
        self,
        problem: Problem,
        labels: np.ndarray,
        centers: np.ndarray | None,
        names: list[str],
    ) -> list[str]:
        """Return the pinned units that left, by id."""
        moved = np.flatnonzero((problem.locked >= 0) & (labels != problem.locked))
        if not len(moved):
            return []
        return [
            f"{len(moved)} locked units left their territory ({format_ids(problem.ids[moved])})"
        ]


class KeptTerritories(Constraint):
    """Kept territories take no unit beyond their own (their units are pinned)."""

    name = "keep_territories"
    models = MODELS - {"exact", "tree", "columns", "partition"}

    def allowed(self, problem: Problem, centers: np.ndarray | None) -> np.ndarray | None:
        """No free unit may join a kept territory."""
        allowed = np.repeat(~problem.closed[None, :], problem.n, axis=0)
        pinned = np.flatnonzero(problem.locked >= 0)
        allowed[pinned, problem.locked[pinned]] = True
        return allowed

    def excess(self, problem: Problem, labels: np.ndarray, centers: np.ndarray | None) -> float:
        """Free units inside a kept territory."""
        joined = problem.closed[labels] & (problem.locked < 0)
        return float(np.count_nonzero(joined))

    def broken(
        self,
        problem: Problem,
        labels: np.ndarray,
        centers: np.ndarray | None,
        names: list[str],
    ) -> list[str]:
        """Return the units that joined a kept territory, by id."""
        joined = np.flatnonzero(problem.closed[labels] & (problem.locked < 0))
        if not len(joined):
            return []
        return [f"{len(joined)} units joined a kept territory ({format_ids(problem.ids[joined])})"]
