"""What every constraint of a design can tell the models, the local search and the plan.

A constraint is one promise of the plan (balance, a lock, the realignment budget, a
distance limit...). It speaks to the rest of the optimizer through four questions, each with
a harmless default so that a constraint answers only those that concern it:

- :meth:`Constraint.allowed`: which unit -> territory pairs it permits, for given centers
  (every model and the local search drop the other pairs);
- :meth:`Constraint.rows`: linear rows over the pair variables :math:`x_{ij}` (the
  assignment LP, its rounding MIP and the contiguous assignment add them; the local search
  vetoes a move that would break one);
- :meth:`Constraint.excess`: how badly labels break it, as a number (0: kept), to compare
  plans;
- :meth:`Constraint.broken`: the same in words, with the numbers, for the user.

:attr:`Constraint.models` declares which models honour it. The design's strategy switches off
every model a constraint does not declare, so no model can quietly ignore a promise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from geoterr.design.problem import Problem

__all__ = ["MODELS", "Constraint", "PairRow"]

#: Every model of the optimizer, by the name constraints use to declare support:
#: ``"assignment"`` (the balanced assignment LP to given centers and its rounding MIP),
#: ``"search"`` (the local search), ``"contiguity"`` (the exact contiguous assignment to
#: given centers), ``"exact"`` (the center-choosing model of ``prove=True``), ``"tree"``
#: and ``"columns"`` (the shortest-path-tree model and the territories LP, with a cost
#: matrix) and ``"partition"`` (the exhaustive search for a split, which proves
#: infeasibility from balance and contiguity alone).
MODELS = frozenset({"assignment", "search", "contiguity", "exact", "tree", "columns", "partition"})


@dataclass(frozen=True)
class PairRow:
    """A linear row over the pair variables: ``sum coef(i, j) * x_ij <= upper``.

    Attributes
    ----------
    name : str
        What the row is, in the user's words (e.g. ``"max_moved"``).
    coef : callable
        ``coef(units, territories)`` -> the coefficient of each pair, element-wise on two
        integer arrays of the same length.
    upper : float
        The row's bound.
    lp_upper : float
        The bound the relaxation uses (at most ``upper``): a reserve kept for the rounding
        and the repairs, dropped when balance needs it.
    """

    name: str
    coef: Callable[[np.ndarray, np.ndarray], np.ndarray]
    upper: float
    lp_upper: float

    def total(self, labels: np.ndarray) -> float:
        """Return the row's left-hand side for a complete assignment ``labels``."""
        units = np.arange(len(labels))
        return float(self.coef(units, labels).sum())


class Constraint:
    """A promise of the plan; the base class restricts nothing and is always kept."""

    #: Short name, as the user gave it (``"max_distance"``).
    name: str = ""
    #: The models that honour this constraint (see :data:`MODELS`).
    models: frozenset[str] = MODELS

    def allowed(self, problem: Problem, centers: np.ndarray | None) -> np.ndarray | None:
        """(n, k) pairs this constraint permits for these centers, or None for all.

        ``centers`` are the round's centers (metres, or units with a cost matrix); None
        when the centers are not known yet (constraints that depend on them permit all).
        """
        return None

    def check(self, problem: Problem, centers: np.ndarray | None) -> None:
        """Raise :class:`geoterr.InfeasibleError` before any solve when the constraint cannot hold.

        Raised only when the constraint provably cannot hold (``centers``: the fixed centers,
        or None when they are free).
        """

    def penalty(self, problem: Problem, centers: np.ndarray) -> np.ndarray | None:
        """Return the extra cost of the pairs this constraint would forbid.

        An (n, k) array for a round whose centers cannot keep the constraint: the LP then leans
        towards the pairs it permits while the centers move (None: no such cost).
        """
        return None

    def recenter(self, problem: Problem, labels: np.ndarray, centers: np.ndarray) -> np.ndarray:
        """Move the centers so that the territories ``labels`` can keep the constraint.

        Called after the usual move to each territory's best point; the default keeps them.
        """
        return centers

    def rows(self, problem: Problem) -> list[PairRow]:
        """Linear rows this constraint adds over the pair variables."""
        return []

    def excess(self, problem: Problem, labels: np.ndarray, centers: np.ndarray | None) -> float:
        """How badly ``labels`` break the constraint, scale-free; 0 when kept."""
        return 0.0

    def broken(
        self,
        problem: Problem,
        labels: np.ndarray,
        centers: np.ndarray | None,
        names: list[str],
    ) -> list[str]:
        """Each way ``labels`` break the constraint, in words with the numbers."""
        return []

    def params(self) -> dict[str, object]:
        """Return what the plan records of this constraint in ``plan.params``."""
        return {}
