"""The realignment budget (``max_moved=``).

At most so many customers, or such a share of the first measure, change territory.

``problem.current`` (n,) holds each unit's current territory (-1: new), ``problem.move_amount``
what moving it spends and ``problem.budget`` the budget (inf: none). The budget is one linear
row over the pairs that leave a unit's current territory.
"""

from __future__ import annotations

import numpy as np

from geoterr._errors import format_number as _n
from geoterr.design.constraints.base import MODELS, Constraint, PairRow
from geoterr.design.problem import Problem

__all__ = ["LP_BUDGET_SHARE", "MoveBudget"]

# The assignment LP may spend this share of the budget; the rest is a reserve for the
# rounding and the contiguity repairs (dropped when balance needs it).
LP_BUDGET_SHARE = 0.9
# Plans may spend this much more than the budget before they count as over it.
REL_EPS = 1e-9


class MoveBudget(Constraint):
    """At most ``problem.budget`` of ``problem.move_amount`` leaves its current territory."""

    name = "max_moved"
    # The territories LP, the tree and the exact model choose centers from scratch and know
    # nothing of the current plan.
    models = MODELS - {"exact", "tree", "columns"}

    def rows(self, problem: Problem) -> list[PairRow]:
        """One row: the amount moved by the pairs that leave a unit's current territory."""
        current, amount = problem.current, problem.move_amount

        def coef(units: np.ndarray, terrs: np.ndarray) -> np.ndarray:
            cur = current[units]
            return np.where((cur >= 0) & (cur != terrs), amount[units], 0.0)

        budget = float(problem.budget)
        return [PairRow(self.name, coef, budget, budget * LP_BUDGET_SHARE)]

    def excess(self, problem: Problem, labels: np.ndarray, centers: np.ndarray | None) -> float:
        """Return the amount over the budget, in units of the mean amount a unit's move spends."""
        over = max(problem.moved_amount(labels) - problem.budget, 0.0)
        return over / max(float(problem.move_amount.mean()), 1e-12)

    def broken(
        self,
        problem: Problem,
        labels: np.ndarray,
        centers: np.ndarray | None,
        names: list[str],
    ) -> list[str]:
        """Return the amount moved against the budget."""
        moved = problem.moved_amount(labels)
        if moved <= problem.budget * (1 + REL_EPS) + REL_EPS:
            return []
        return [f"the plan moves {_n(moved)}, more than the budget max_moved {_n(problem.budget)}"]
