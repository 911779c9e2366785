"""The promises of a plan: how badly a unit -> territory assignment breaks them, in numbers
(to compare plans) and in words (for the user)."""

from __future__ import annotations

import numpy as np

from geoterr._errors import format_ids
from geoterr._errors import format_number as _n
from geoterr.design.problem import Problem, pieces_per_territory

__all__ = ["broken_promises", "plan_score", "trouble", "violation"]


# The slack of the balance checks, a share of each measure's mean target (scale-free).
REL_EPS = 1e-9


def slack(problem: Problem) -> np.ndarray:
    """How far (m,) a territory may be outside its range and still count as inside it."""
    scale = np.abs(problem.target).mean(axis=0) if problem.k else np.ones(problem.loads.shape[1])
    return REL_EPS * np.maximum(scale, np.finfo(float).tiny)


def out_of_range(problem: Problem, loads: np.ndarray) -> np.ndarray:
    """(k, m) whether each territory's total of each measure breaks its range."""
    eps = slack(problem)
    return (loads > problem.upper + eps) | (loads < problem.lower - eps)


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


def violation(problem: Problem, labels: np.ndarray) -> float:
    """Balance violation (in shares of the target) plus detached pieces: 0 keeps every promise."""
    loads = problem.loads_of(labels)
    scale = np.maximum(np.abs(problem.target).mean(axis=0), np.finfo(float).tiny)
    excess = np.maximum(loads - problem.upper, 0) + np.maximum(problem.lower - loads, 0)
    viol = float((excess / scale).sum())
    if np.isfinite(problem.budget):
        over = max(problem.moved_amount(labels) - problem.budget, 0.0)
        viol += over / max(float(problem.move_amount.mean()), 1e-12)
    count = pieces_per_territory(problem, labels)
    pieces = int(np.abs(count - 1).sum())  # extra pieces, and empty territories
    return round(viol + pieces, 12)


def plan_score(problem: Problem, labels: np.ndarray, centers: np.ndarray) -> tuple[float, float]:
    """(promises broken, objective): smaller is better."""
    return (violation(problem, labels), float(problem.assigned_costs(labels, centers).sum()))


def broken_promises(problem: Problem, labels: np.ndarray, names: list[str]) -> list[str]:
    """Say, in words, every balance or contiguity promise the labels break."""
    out = []
    loads = problem.loads_of(labels)
    broken = out_of_range(problem, loads)
    moved = np.flatnonzero((problem.locked >= 0) & (labels != problem.locked))
    if len(moved):
        out.append(
            f"{len(moved)} locked units left their territory ({format_ids(problem.ids[moved])})"
        )
    pieces = pieces_per_territory(problem, labels)
    if problem.moved_amount(labels) > problem.budget * (1 + 1e-9) + 1e-9:
        out.append(
            f"the plan moves {_n(problem.moved_amount(labels))}, more than the budget "
            f"max_moved {_n(problem.budget)}"
        )
    for j in range(problem.k):
        if pieces[j] == 0:
            out.append(f"territory {names[j]} is empty")
            continue
        if pieces[j] > 1:
            out.append(f"territory {names[j]} is in {pieces[j]} pieces (not contiguous)")
        for m, name in enumerate(problem.names):
            if broken[j, m]:
                lo, up, load, target = problem.in_user_units(
                    np.array(
                        [
                            problem.lower[j, m],
                            problem.upper[j, m],
                            loads[j, m],
                            problem.target[j, m],
                        ]
                    ),
                    m,
                )
                bound = problem.bounds[m]
                where = (
                    f"outside [{_n(lo)}, {_n(up)}]"
                    if isinstance(bound, tuple)
                    else f"{load / target - 1:+.2%} from its target "
                    f"{_n(target)}, outside the tolerance +-{bound:.1%}"
                )
                out.append(f"territory {names[j]} has {name} {_n(load)}, {where}")
    return out
