"""The constraints of a design, one file each, and what the optimizer asks of all of them.

Every model and the local search consult the constraints through the functions here, never
one constraint by name: :func:`allowed_pairs` (unit -> territory pairs), :func:`pair_rows`
(linear rows), :func:`total_excess` and :func:`broken_words` (how labels break them), and
:func:`unsupported` (which constraints a model cannot honour, so that the strategy switches
that model off).

========================  ===================================================
file                      constraint
========================  ===================================================
``balance.py``            every territory inside its range of every measure
``connected.py``          every territory one connected piece
``locks.py``              pinned units (``locked``), kept territories
``move_budget.py``        the realignment budget (``max_moved``)
``distance.py``           no unit farther than ``max_distance`` from its center
========================  ===================================================
"""

from __future__ import annotations

import numpy as np

from geoterr.design.constraints.balance import Balance
from geoterr.design.constraints.base import MODELS, Constraint, PairRow
from geoterr.design.constraints.connected import Connected
from geoterr.design.constraints.distance import MaxDistance
from geoterr.design.constraints.locks import KeptTerritories, LockedUnits
from geoterr.design.constraints.move_budget import MoveBudget
from geoterr.design.problem import Problem

__all__ = [
    "MODELS",
    "Constraint",
    "MaxDistance",
    "PairRow",
    "active",
    "allowed_pairs",
    "broken_words",
    "check_all",
    "pair_rows",
    "penalties",
    "recentered",
    "supports",
    "total_excess",
    "unsupported",
]


def active(problem: Problem) -> list[Constraint]:
    """Return the constraints of ``problem``.

    Contiguity and balance always, locks and the budget when the problem has them, then the user's
    own (``problem.rules``).
    """
    found: list[Constraint] = [Connected(), Balance()]
    if np.any(problem.locked >= 0):
        found.append(LockedUnits())
    if np.any(problem.closed):
        found.append(KeptTerritories())
    if np.isfinite(problem.budget):
        found.append(MoveBudget())
    return found + list(problem.rules)


def allowed_pairs(
    problem: Problem, centers: np.ndarray | None, rows: np.ndarray | None = None
) -> np.ndarray:
    """Return the unit -> center pairs every constraint permits for the given centers.

    The result is (len(rows), len(centers)) (all units when ``rows`` is None); centers None means
    not known yet (k columns). The exact model asks with every unit as a candidate center.
    """
    width = problem.k if centers is None else len(centers)
    allowed = np.ones((problem.n, width), dtype=bool)
    for constraint in active(problem):
        mask = constraint.allowed(problem, centers)
        if mask is not None:
            allowed &= mask
    return allowed if rows is None else allowed[np.asarray(rows, dtype=np.int64)]


def penalties(problem: Problem, centers: np.ndarray) -> np.ndarray | None:
    """Return the extra costs of the pairs the constraints would forbid for these centers.

    An (n, k) array, for a round whose centers cannot keep them (None: none).
    """
    found = [c.penalty(problem, centers) for c in active(problem)]
    costs = [f for f in found if f is not None]
    return np.sum(costs, axis=0) if costs else None


def recentered(problem: Problem, labels: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Return the round's new centers as every constraint would have them (in order)."""
    for constraint in active(problem):
        centers = constraint.recenter(problem, labels, centers)
    return centers


def pair_rows(problem: Problem) -> list[PairRow]:
    """Return the linear rows of every constraint over the pair variables."""
    return [row for constraint in active(problem) for row in constraint.rows(problem)]


def total_excess(problem: Problem, labels: np.ndarray, centers: np.ndarray | None) -> float:
    """How badly ``labels`` break the constraints, summed; 0 keeps every promise."""
    return round(sum(c.excess(problem, labels, centers) for c in active(problem)), 12)


def broken_words(
    problem: Problem, labels: np.ndarray, centers: np.ndarray | None, names: list[str]
) -> list[str]:
    """Every promise ``labels`` break, in words with the numbers."""
    return [s for c in active(problem) for s in c.broken(problem, labels, centers, names)]


def check_all(problem: Problem, centers: np.ndarray | None) -> None:
    """Raise :class:`geoterr.InfeasibleError` for a constraint that provably cannot hold."""
    for constraint in active(problem):
        constraint.check(problem, centers)


def unsupported(problem: Problem, model: str) -> list[str]:
    """Names of the constraints of ``problem`` that ``model`` does not honour."""
    if model not in MODELS:
        msg = f"unknown model {model!r}; models are {sorted(MODELS)}"
        raise ValueError(msg)
    return [c.name for c in active(problem) if model not in c.models]


def supports(problem: Problem, model: str) -> bool:
    """Tell whether ``model`` honours every constraint of ``problem``."""
    return not unsupported(problem, model)
