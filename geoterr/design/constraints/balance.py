"""Balance: every territory's total of each measure inside its range.

The ranges come from the user's tolerances (relative to each territory's target, the mean
or its ``capacity`` share) or absolute bounds; :func:`geoterr.design.problem.make_problem`
turns them into ``problem.lower`` and ``problem.upper`` (k, m). The balanced assignment
model holds them as its territory rows; this file says how far labels are from them.
"""

from __future__ import annotations

import numpy as np

from geoterr._errors import format_number as _n
from geoterr.design.constraints.base import Constraint
from geoterr.design.problem import Problem

__all__ = ["Balance", "out_of_range", "slack"]

# The slack of the balance checks, a share of each measure's mean target (scale-free).
REL_EPS = 1e-9


def slack(problem: Problem) -> np.ndarray:
    """How far (m,) a territory may be outside its range and still count as inside it."""
    scale = np.abs(problem.target).mean(axis=0) if problem.k else np.ones(problem.loads.shape[1])
    return REL_EPS * np.maximum(scale, np.finfo(float).tiny)


def out_of_range(problem: Problem, loads: np.ndarray) -> np.ndarray:
    """(k, m) whether each territory's total of each measure breaks its range."""
    eps = slack(problem)
    return np.asarray((loads > problem.upper + eps) | (loads < problem.lower - eps))


class Balance(Constraint):
    """Every territory inside its range of every balanced measure."""

    name = "balance"

    def excess(self, problem: Problem, labels: np.ndarray, centers: np.ndarray | None) -> float:
        """Total distance outside the ranges, in shares of each measure's mean target."""
        loads = problem.loads_of(labels)
        scale = np.maximum(np.abs(problem.target).mean(axis=0), np.finfo(float).tiny)
        over = np.maximum(loads - problem.upper, 0) + np.maximum(problem.lower - loads, 0)
        return float((over / scale).sum())

    def broken(
        self,
        problem: Problem,
        labels: np.ndarray,
        centers: np.ndarray | None,
        names: list[str],
    ) -> list[str]:
        """One sentence per territory and measure outside its range."""
        loads = problem.loads_of(labels)
        broken = out_of_range(problem, loads)
        sizes = np.bincount(labels, minlength=problem.k)
        return [
            _sentence(problem, loads, j, m, names[j])
            for j in range(problem.k)
            if sizes[j] > 0
            for m in range(len(problem.names))
            if broken[j, m]
        ]


def _sentence(problem: Problem, loads: np.ndarray, j: int, m: int, name: str) -> str:
    """Territory ``j``'s total of measure ``m`` against its range, in the user's units."""
    values = np.array([problem.lower[j, m], problem.upper[j, m], loads[j, m], problem.target[j, m]])
    lo, up, load, target = problem.in_user_units(values, m)
    bound = problem.bounds[m]
    if isinstance(bound, tuple):
        where = f"outside [{_n(lo)}, {_n(up)}]"
    else:
        where = (
            f"{load / target - 1:+.2%} from its target {_n(target)}, outside the tolerance "
            f"+-{bound:.1%}"
        )
    return f"territory {name} has {problem.names[m]} {_n(load)}, {where}"
