"""Contiguity: every territory one connected piece of the unit graph, none empty.

The models keep it by construction (the local search moves only units whose territory stays
connected) or by cuts (:mod:`geoterr.design.contiguity`, :mod:`geoterr.design.exact`); this
file counts and words what labels break.
"""

from __future__ import annotations

import numpy as np

from geoterr.design.constraints.base import Constraint
from geoterr.design.problem import Problem, pieces_per_territory

__all__ = ["Connected"]


class Connected(Constraint):
    """Every territory in exactly one piece."""

    name = "contiguity"

    def excess(self, problem: Problem, labels: np.ndarray, centers: np.ndarray | None) -> float:
        """Extra pieces of every territory, plus one per empty territory."""
        return float(np.abs(pieces_per_territory(problem, labels) - 1).sum())

    def broken(
        self,
        problem: Problem,
        labels: np.ndarray,
        centers: np.ndarray | None,
        names: list[str],
    ) -> list[str]:
        """Empty territories and territories in several pieces."""
        pieces = pieces_per_territory(problem, labels)
        out = []
        for j in range(problem.k):
            if pieces[j] == 0:
                out.append(f"territory {names[j]} is empty")
            elif pieces[j] > 1:
                out.append(f"territory {names[j]} is in {pieces[j]} pieces (not contiguous)")
        return out
