"""A distance limit (``max_distance=``): no unit farther than D from its territory's center.

D is in km for straight-line distances, or in the cost matrix's own unit (minutes of drive
time, say) with ``costs=``. The center is the rep's home with fixed ``centers``, otherwise
the center the optimizer chose. The limit is a set of allowed unit -> territory pairs, so
every model and the local search honour it as they honour locks.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from geoterr._errors import InfeasibleError, InputError, format_ids
from geoterr._errors import format_number as _n
from geoterr.design.constraints.base import MODELS, Constraint
from geoterr.design.problem import Problem

__all__ = ["MaxDistance"]

# Distances within this share of the limit count as inside it (rounding of coordinates).
REL_EPS = 1e-9
# While the centers cannot keep the limit, a km beyond it costs this many km of distance.
PENALTY = 10.0
# Steps of the move of a center towards its territory's farthest units.
RECENTER_STEPS = 200


class MaxDistance(Constraint):
    """Every unit within ``limit`` of its territory's center.

    Parameters
    ----------
    limit : float
        The largest distance allowed: km, or the cost matrix's unit.

    Examples
    --------
    >>> MaxDistance(150.0).limit
    150.0
    """

    name = "max_distance"
    # The territories LP and the tree model price whole territories around candidate
    # centers without the limit.
    models = MODELS - {"columns", "tree"}

    def __init__(self, limit: float) -> None:
        if isinstance(limit, bool) or not isinstance(limit, int | float) or not limit > 0:
            msg = (
                f"`max_distance` must be a positive number (km, or the cost matrix's unit), "
                f"got {limit!r}."
            )
            raise InputError(msg)
        if not np.isfinite(limit):
            msg = "`max_distance` must be finite; leave it out for no limit."
            raise InputError(msg)
        self.limit = float(limit)

    def _within(self, distances: np.ndarray) -> np.ndarray:
        return distances <= self.limit * (1 + REL_EPS)

    def allowed(self, problem: Problem, centers: np.ndarray | None) -> np.ndarray | None:
        """Return the pairs within the limit.

        A unit with no center within it keeps its nearest one (so the models still run, and the plan
        reports the unit).
        """
        if centers is None:
            return None
        distances = problem.distances(centers)
        allowed = self._within(distances)
        stranded = np.flatnonzero(~allowed.any(axis=1))
        allowed[stranded, np.argmin(distances[stranded], axis=1)] = True
        return allowed

    def penalty(self, problem: Problem, centers: np.ndarray) -> np.ndarray | None:
        """Each unit's weight times its distance beyond the limit, ten times over."""
        over = np.maximum(problem.distances(centers) - self.limit, 0.0)
        return PENALTY * problem.weight[:, None] * over

    def recenter(self, problem: Problem, labels: np.ndarray, centers: np.ndarray) -> np.ndarray:
        """Move each center that leaves a unit of its territory beyond the limit.

        The territory gets the center nearest to its usual one that keeps all its units within the
        limit, when there is one: a unit with a cost matrix; otherwise a point moved towards its
        farthest units (the Badoiu-Clarkson steps towards the smallest enclosing circle).
        """
        moved = centers.copy()
        for j in range(problem.k):
            members = np.flatnonzero(labels == j)
            if len(members):
                moved[j] = self._center_within(problem, members, centers[j])
        return moved

    def _center_within(self, problem: Problem, members: np.ndarray, center: Any) -> Any:
        if problem.cost_matrix is not None:
            reach = problem.cost_matrix[np.ix_(members, members)].max(axis=0)
            fits = members[self._within(reach)]
            if int(center) in members[self._within(reach)] or not len(fits):
                return center
            cost = problem.cost_matrix[np.ix_(members, fits)].T @ problem.weight[members]
            return fits[int(np.argmin(cost))]
        xy = problem.xy[members]
        point = np.asarray(center, dtype=float).copy()
        for step in range(RECENTER_STEPS):
            far = np.linalg.norm(xy - point, axis=1) / 1000.0
            if self._within(far).all():
                return point
            point += (xy[int(np.argmax(far))] - point) / (step + 2)
        return center

    def check(self, problem: Problem, centers: np.ndarray | None) -> None:
        """With fixed centers, every unit needs one within the limit."""
        if centers is None:
            return
        distances = problem.distances(centers)
        stranded = np.flatnonzero(~self._within(distances).any(axis=1))
        if not len(stranded):
            return
        nearest = distances[stranded].min(axis=1)
        msg = (
            f"No plan keeps max_distance {_n(self.limit)}: {len(stranded)} units have no "
            f"center within it ({format_ids(problem.ids[stranded])}; the farthest is "
            f"{_n(float(nearest.max()))} from its nearest center). Raise max_distance to at "
            f"least {_n(float(nearest.max()))}, or add a center near those units."
        )
        raise InfeasibleError(msg)

    def _assigned(self, problem: Problem, labels: np.ndarray, centers: np.ndarray) -> np.ndarray:
        distances = problem.distances(centers)
        return np.asarray(distances[np.arange(problem.n), labels])

    def excess(self, problem: Problem, labels: np.ndarray, centers: np.ndarray | None) -> float:
        """Each unit's distance beyond the limit, in shares of the limit, summed."""
        if centers is None:
            return 0.0
        over = self._assigned(problem, labels, centers) - self.limit * (1 + REL_EPS)
        return float(np.maximum(over, 0.0).sum() / self.limit)

    def broken(
        self,
        problem: Problem,
        labels: np.ndarray,
        centers: np.ndarray | None,
        names: list[str],
    ) -> list[str]:
        """Return the units beyond the limit, the farthest one, and the limit this plan keeps."""
        if centers is None:
            return []
        distance = self._assigned(problem, labels, centers)
        far = np.flatnonzero(~self._within(distance))
        if not len(far):
            return []
        worst = int(far[np.argmax(distance[far])])
        return [
            f"{len(far)} units are farther than max_distance {_n(self.limit)} from their "
            f"territory's center ({format_ids(problem.ids[far])}; the farthest, "
            f"{problem.ids[worst]}, is {_n(float(distance[worst]))} from the center of "
            f"{names[int(labels[worst])]}); this plan keeps max_distance "
            f"{_n(float(distance.max()))}"
        ]

    def params(self) -> dict[str, object]:
        """Return the limit, as given."""
        return {"max_distance": self.limit}
