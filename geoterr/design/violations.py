"""The promises of a plan.

How badly a unit -> territory assignment breaks them, in numbers (to compare plans) and in words
(for the user). Each promise is a constraint of :mod:`geoterr.design.constraints`; this module sums
them up.
"""

from __future__ import annotations

import numpy as np

from geoterr.design.constraints import broken_words, total_excess
from geoterr.design.constraints.balance import out_of_range, slack
from geoterr.design.problem import Problem, pieces_per_territory

__all__ = ["broken_promises", "out_of_range", "plan_score", "slack", "trouble", "violation"]


def trouble(problem: Problem, labels: np.ndarray, rings: int = 2) -> np.ndarray:
    """Territories that break a promise, with their neighbours ``rings`` deep."""
    loads = problem.loads_of(labels)
    bad = np.any(out_of_range(problem, loads), axis=1)
    bad |= pieces_per_territory(problem, labels) != 1
    src, dst = problem.edges
    cross = labels[src] != labels[dst]
    pairs = np.unique(np.column_stack([labels[src][cross], labels[dst][cross]]), axis=0)
    for _ in range(rings):
        near = pairs[bad[pairs[:, 0]], 1]
        bad[near] = True
    return np.flatnonzero(bad)


def violation(problem: Problem, labels: np.ndarray, centers: np.ndarray | None) -> float:
    """How badly ``labels`` (with these centers) break the promises: 0 keeps every one."""
    return total_excess(problem, labels, centers)


def plan_score(problem: Problem, labels: np.ndarray, centers: np.ndarray) -> tuple[float, float]:
    """(promises broken, objective): smaller is better."""
    return (
        violation(problem, labels, centers),
        float(problem.assigned_costs(labels, centers).sum()),
    )


def broken_promises(
    problem: Problem, labels: np.ndarray, names: list[str], centers: np.ndarray | None
) -> list[str]:
    """Say, in words, every promise the labels break."""
    return broken_words(problem, labels, centers, names)
