"""Realignment: redesign from the current territories, changing as little as asked.

``design(current=...)`` reads each unit's current territory (the most common one among its
customers), keeps the current territory names, starts from the current territories, and
limits change in two ways: a penalty per unit of weight moved (``move_penalty``), and a hard
budget (``max_moved``: a number of customers, or a share of the first balanced measure) that
every part of the optimizer keeps. ``keep_territories`` leaves whole territories as they are.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from geoterr._errors import InfeasibleError, InputError, format_ids
from geoterr._errors import format_number as _n
from geoterr.design.centers import move_centers
from geoterr.design.problem import Problem, components_of
from geoterr.units import COUNT, Units

__all__ = [
    "RealignRequest",
    "Realignment",
    "before_by_customer",
    "move_budget",
    "read_current",
    "settle_enclaves",
    "setup_realignment",
    "territory_names_for",
]


class Realignment:
    """The current plan as the optimizer needs it.

    Attributes
    ----------
    labels : ndarray (n,)
        Index into ``names`` of each unit's current territory (-1: none, e.g. a new account).
    names : list of str
        The current territories' names, sorted.
    """

    def __init__(self, labels: np.ndarray, names: list[str]) -> None:
        self.labels = labels
        self.names = names


def read_current(
    current: str | pd.Series | Mapping[Hashable, Hashable], units: Units
) -> Realignment:
    """Each unit's current territory.

    Parameters
    ----------
    current : str, Series or mapping
        The name of a customer column holding the current territory (e.g.
        ``"current_territory"``), or unit id -> territory, or customer id -> territory.
        Customers without one (missing values) are new: they may go anywhere for free.
    units : Units

    Returns
    -------
    Realignment
    """
    if isinstance(current, str):
        if units.customers is None or current not in units.customers.columns:
            columns = [] if units.customers is None else list(units.customers.columns)
            msg = (
                f"`current` names the column {current!r}, which the customers do not have; "
                f"columns are: {', '.join(map(str, columns)) or 'none'}."
            )
            raise InputError(msg)
        by_customer = units.customers[current]
        series = pd.Series(by_customer.to_numpy(), index=units.customers.index)
    else:
        series = current if isinstance(current, pd.Series) else pd.Series(dict(current))
    unit_ids = units.gdf.index
    if series.index.isin(unit_ids).all():
        per_unit = series.reindex(unit_ids)
    elif len(units.customer_unit) and series.index.isin(units.customer_unit.index).all():
        frame = pd.DataFrame(
            {"unit": units.customer_unit.reindex(series.index).to_numpy(), "t": series}
        ).dropna(subset=["t"])
        # a unit with customers from several territories takes the most common one
        per_unit = frame.groupby("unit")["t"].agg(lambda t: t.astype(str).mode().iloc[0])
        per_unit = per_unit.reindex(unit_ids)
    else:
        unknown = series.index[~series.index.isin(unit_ids)]
        msg = (
            f"`current` must be indexed by unit ids or customer ids; {len(unknown)} ids are "
            f"neither ({format_ids(unknown)})."
        )
        raise InputError(msg)
    text: list[str | None] = [None if pd.isna(t) else str(t) for t in per_unit.tolist()]
    names: list[str] = sorted({t for t in text if t is not None})
    index = {name: j for j, name in enumerate(names)}
    labels = np.array([index[t] if t is not None else -1 for t in text], dtype=np.int64)
    return Realignment(labels, names)


def move_budget(
    max_moved: float | None, units: Units, primary: str
) -> tuple[np.ndarray, float, str]:
    """Return what moving each unit spends, the budget, and the budget in words.

    ``max_moved`` is a whole number of customers, or a share in (0, 1) of the first balanced
    measure (the workload that may change hands).
    """
    n = len(units)
    if max_moved is None:
        return np.zeros(n), float("inf"), "no limit"
    if isinstance(max_moved, bool) or not isinstance(max_moved, int | float | np.number):
        msg = f"`max_moved` must be a number of customers or a share in (0, 1), got {max_moved!r}."
        raise InputError(msg)
    if isinstance(max_moved, int | np.integer) and max_moved >= 0:
        amount = units.gdf[COUNT].to_numpy(dtype=float)
        return amount, float(max_moved), f"{int(max_moved)} customers"
    share = float(max_moved)
    if not 0 < share < 1:
        msg = (
            f"`max_moved` must be a whole number of customers (e.g. 200) or a share in (0, 1) "
            f"of {primary} (e.g. 0.1), got {max_moved!r}."
        )
        raise InputError(msg)
    amount = units.gdf[primary].to_numpy(dtype=float)
    return amount, share * float(amount.sum()), f"{share:.1%} of {primary}"


def territory_names_for(current: Realignment, k: int, given: Sequence[str] | None) -> list[str]:
    """Return the plan's territory names.

    The centers' names when given (the current names must be among them), otherwise the current
    names plus new ones up to ``k``.
    """
    if given is not None:
        unknown = [t for t in current.names if t not in given]
        if unknown:
            msg = (
                f"`current` names territories {format_ids(unknown)} that are not among the "
                f"centers' names {format_ids(given)}."
            )
            raise InputError(msg)
        return list(given)
    if len(current.names) > k:
        msg = (
            f"`current` has {len(current.names)} territories but `n_territories` is {k}; "
            "merge current territories first (map several names to one) or ask for "
            f"{len(current.names)} territories."
        )
        raise InputError(msg)
    extra = [f"NEW{i + 1:02d}" for i in range(k - len(current.names))]
    return current.names + extra


@dataclass(frozen=True)
class RealignRequest:
    """What the caller asked of a realignment (the keywords of :func:`geoterr.design`).

    Attributes
    ----------
    current : str, Series or mapping
        The current plan (see ``design(current=...)``).
    max_moved : float, optional
        The move budget.
    move_penalty : float
        The price per unit of weight moved.
    keep : sequence of str, optional
        Current territories kept as they are.
    enclaves : str
        What to do with units enclosed by kept territories: "raise" or "join".
    """

    current: Any
    max_moved: float | None
    move_penalty: float
    keep: Sequence[str] | None
    enclaves: str = "raise"


def setup_realignment(
    problem: Problem,
    units: Units,
    centers: np.ndarray,
    fixed_names: list[str] | None,
    request: RealignRequest,
) -> tuple[list[str], np.ndarray, dict[str, Any]]:
    """Set up a realignment on ``problem`` and start the centers from the current plan.

    Sets the current labels, the move budget, the penalty and the kept territories on
    ``problem``. Returns the territory names, the centers and what goes into
    ``plan.params``.
    """
    current, max_moved, move_penalty = request.current, request.max_moved, request.move_penalty
    keep, enclaves = request.keep, request.enclaves
    now = read_current(current, units)
    names = territory_names_for(now, problem.k, fixed_names)
    index = {name: j for j, name in enumerate(names)}
    cur = np.array([index[now.names[t]] if t >= 0 else -1 for t in now.labels], dtype=np.int64)
    problem.current = cur
    problem.move_amount, problem.budget, budget_text = move_budget(
        max_moved, units, problem.names[0]
    )
    if not (np.isfinite(move_penalty) and move_penalty >= 0):
        msg = f"`move_penalty` must be a non-negative number, got {move_penalty!r}."
        raise InputError(msg)
    problem.move_penalty = float(move_penalty)
    if keep is not None:
        unknown = [t for t in keep if t not in now.names]
        if unknown:
            msg = (
                f"`keep_territories` names {format_ids(unknown)}, which are not current "
                f"territories ({format_ids(now.names)})."
            )
            raise InputError(msg)
        for name in keep:
            j = index[name]
            problem.locked[cur == j] = j
            problem.closed[j] = True
            load = problem.loads[cur == j].sum(axis=0)
            bad = [
                f"{m} {_n(load[i])} outside [{_n(problem.lower[j, i])}, {_n(problem.upper[j, i])}]"
                for i, m in enumerate(problem.names)
                if not problem.lower[j, i] - 1e-9 <= load[i] <= problem.upper[j, i] + 1e-9
            ]
            if bad:
                msg = (
                    f"territory {name} cannot be kept as it is: it has {'; '.join(bad)}. "
                    "Widen the tolerance or let it change."
                )
                raise InfeasibleError(msg)
    joined: list[str] = []
    if keep:
        joined = settle_enclaves(problem, names, enclaves)
    if fixed_names is None:
        # Start from the current territories; new ones from the k-means centers farthest
        # from them.
        has = np.zeros(problem.k, dtype=bool)
        has[np.unique(cur[cur >= 0])] = True
        start = centers.copy()
        moved = move_centers(problem, np.where(cur >= 0, cur, problem.k), start)
        if (~has).any():
            spare = problem.center_xy(centers)
            gap = np.linalg.norm(
                spare[:, None, :] - problem.center_xy(moved)[has][None, :, :], axis=2
            ).min(axis=1)
            far = np.argsort(-gap)[: int((~has).sum())]
            moved[~has] = centers[far]
        centers = moved
    params = {
        "current": current if isinstance(current, str) else "given",
        "max_moved": max_moved,
        "max_moved_meaning": budget_text,
        "move_penalty": problem.move_penalty,
        "keep_territories": list(keep) if keep is not None else None,
        "enclaves": enclaves,
        "enclaves_joined": joined,
    }
    return names, centers, params


def before_by_customer(current: Any, units: Units) -> pd.Series:
    """Each customer's current territory (as text; missing for new customers)."""
    assert units.customers is not None
    index = units.customers.index
    before: pd.Series
    if isinstance(current, str):
        before = units.customers[current]
    else:
        series = current if isinstance(current, pd.Series) else pd.Series(dict(current))
        if series.index.isin(units.gdf.index).all():
            before = pd.Series(
                series.reindex(units.customer_unit.reindex(index)).to_numpy(), index=index
            )
        else:
            before = series.reindex(index)
    return before.map(lambda t: None if pd.isna(t) else str(t)).astype(object)


ENCLAVE_POLICIES = ("raise", "join")


def settle_enclaves(problem: Problem, names: list[str], policy: str = "raise") -> list[str]:
    r"""Check that the units outside kept territories can still form whole territories.

    The check runs before any solve; enclaves join the kept territory around them if asked.

    Kept territories take no new units, so the other units fall into groups cut off from one
    another by the kept ones: each group must hold whole territories by itself, some number
    :math:`q \ge 1` of them with :math:`q L \le W \le q U` on every measure (:math:`W` the
    group's load, :math:`[L, U]` the loosest range). A group too light for even one territory
    (typically a few units of another territory enclosed by a kept one) can only join the
    kept territory around it or stay cut off from its own.

    Parameters
    ----------
    problem : Problem
        With ``closed`` territories and their units pinned (``locked``).
    names : list of str
        Territory names (for the messages).
    policy : {"raise", "join"}
        ``"raise"``: such a group stops the design with the numbers and the fix; ``"join"``:
        its units join the kept territory they touch most (pinned there), when that
        territory stays inside its range.

    Returns
    -------
    list of str
        The joins made, in words (empty with ``"raise"``).

    Raises
    ------
    InfeasibleError
        A group that cannot hold whole territories (and, with ``"join"``, cannot join).
    """
    if policy not in ENCLAVE_POLICIES:
        msg = f"`enclaves` must be 'raise' or 'join', got {policy!r}."
        raise InputError(msg)
    open_ = ~problem.closed
    kept_unit = (problem.locked >= 0) & problem.closed[np.maximum(problem.locked, 0)]
    free = ~kept_unit
    if open_.any():
        low = problem.lower[open_].min(axis=0)
        up = problem.upper[open_].max(axis=0)
    else:  # every territory kept: other units can only join one
        low = np.full(problem.loads.shape[1], np.inf)
        up = np.zeros(problem.loads.shape[1])
    reasons: list[str] = []
    joined: list[str] = []
    for group in components_of(np.flatnonzero(free), problem.neighbours, free):
        load = problem.loads[group].sum(axis=0)
        most = int(np.floor(np.min(load / np.maximum(low, 1e-12)) + 1e-9))
        least = int(np.ceil(np.max(load / np.maximum(up, 1e-12)) - 1e-9))
        if max(least, 1) <= most:
            continue
        around = np.concatenate([problem.neighbours[u] for u in group])
        around = around[kept_unit[around]]
        hosts = np.unique(problem.locked[around]) if len(around) else np.empty(0, dtype=int)
        text = _enclave_text(problem, names, group, load, low, up, hosts)
        host = _enclave_host(problem, group, load, around) if policy == "join" else None
        if host is None:
            reasons.append(text)
            continue
        problem.locked[group] = host
        joined.append(
            f"{len(group)} unit{'s' if len(group) != 1 else ''} ({format_ids(problem.ids[group])})"
            f" joined the kept territory {names[host]}"
        )
    if reasons:
        fix = (
            "Pass enclaves='join' to let such units join the kept territory around them, "
            "keep fewer territories, or widen the tolerance."
            if policy == "raise"
            else "Keep fewer territories or widen the tolerance."
        )
        msg = "No contiguous, balanced plan exists: " + "; ".join(reasons) + ". " + fix
        raise InfeasibleError(msg)
    return joined


def _enclave_text(
    problem: Problem,
    names: list[str],
    group: np.ndarray,
    load: np.ndarray,
    low: np.ndarray,
    up: np.ndarray,
    hosts: np.ndarray,
) -> str:
    """Return a group of units cut off by kept territories, in words and numbers."""
    owners = sorted({names[c] for c in problem.current[group].tolist() if c >= 0})
    kept = " and ".join(names[h] for h in hosts.tolist()) or "none"
    held = ", ".join(f"{m} {_n(load[i])}" for i, m in enumerate(problem.names))
    needs = ", ".join(f"{m} {_n(low[i])} to {_n(up[i])}" for i, m in enumerate(problem.names))
    one = len(group) == 1
    why = (
        f"too light for a territory of its own (one needs {needs})"
        if np.any(load < low - 1e-9)
        else f"its load cannot be split into whole territories (each needs {needs})"
    )
    joins = []
    for h in hosts.tolist():
        total = problem.loads[problem.locked == h].sum(axis=0) + load
        dev = ", ".join(
            f"{m} {_n(total[i])} ({total[i] / problem.target[h, i] - 1:+.1%} from its target)"
            for i, m in enumerate(problem.names)
        )
        joins.append(f"joining {names[h]} would give it {dev}")
    return (
        f"{len(group)} unit{'' if one else 's'} ({format_ids(problem.ids[group])}"
        f"{', now in ' + ', '.join(owners) if owners else ''}) holding {held} "
        f"{'is' if one else 'are'} enclosed by the kept territory {kept}: cut off from every "
        f"other territory, {'it' if one else 'they'} can only join {kept} or form whole "
        f"territories, and {'it is' if one else 'they are'} {why}; {'; '.join(joins)}"
    )


def _enclave_host(
    problem: Problem, group: np.ndarray, load: np.ndarray, around: np.ndarray
) -> int | None:
    """Return the kept territory an enclave may join.

    The one it touches most that stays inside its range with the enclave's load (None if none does).
    """
    hosts, touches = np.unique(problem.locked[around], return_counts=True)
    for h in hosts[np.argsort(-touches, kind="stable")].tolist():
        total = problem.loads[problem.locked == h].sum(axis=0) + load
        if np.all(total >= problem.lower[h] - 1e-9) and np.all(total <= problem.upper[h] + 1e-9):
            return int(h)
    return None
