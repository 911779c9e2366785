r"""How spread out a territory is: its diameter or its radius, and how a move changes it.

The min-max objectives of :func:`geoterr.design` (``objective="diameter"`` or ``"radius"``)
minimise the largest spread over the territories. The local search of
:mod:`geoterr.design.dispersion` asks three questions of a territory, for many candidate
units at once (numpy, no Python loop over candidates):

- :meth:`Spread.removed`: its spread once one of its units leaves;
- :meth:`Spread.added`: its spread once an outside unit joins;
- :meth:`Spread.swapped`: its spread once one of its units leaves and an outside unit joins.

Each answer is exact. It comes from a summary of the territory (:class:`Summary`) computed
once from the distance submatrix of its members: for every member, its largest and second
largest distance to the other members and where the largest is. Removing member ``i`` leaves
every other member's largest distance unchanged unless ``i`` was where it is, and then the
second largest takes its place.

The spreads:

- diameter: :math:`\\max_{u, v \\in T} d(u, v)` (the distance matrix made symmetric, the
  larger of both directions);
- radius: :math:`\\min_{c \\in T} \\max_{v \\in T} d(v, c)`, the center a unit of the
  territory (medoid-like), ``d(v, c)`` from the unit to the center as in the cost matrix;
- radius with fixed centers: :math:`\\max_{v \\in T} d(v, c_T)`, to the rep's own center.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["CenterRadius", "Diameter", "Radius", "Spread", "Summary"]


@dataclass(frozen=True)
class Summary:
    """A territory's members and, per member, its largest distances (see the module)."""

    members: np.ndarray
    top1: np.ndarray
    arg1: np.ndarray
    top2: np.ndarray
    value: float


def _top_two(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Largest value of every row, its column, and the second largest (-inf when none)."""
    if rows.shape[1] == 0:
        empty = np.full(rows.shape[0], -np.inf)
        return empty, np.zeros(rows.shape[0], dtype=np.int64), empty
    arg1 = rows.argmax(axis=1)
    top1 = rows[np.arange(rows.shape[0]), arg1]
    if rows.shape[1] == 1:
        return top1, arg1, np.full(rows.shape[0], -np.inf)
    rest = rows.copy()
    rest[np.arange(rows.shape[0]), arg1] = -np.inf
    return top1, arg1, rest.max(axis=1)


def _without(top1: np.ndarray, arg1: np.ndarray, top2: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """(rows, len(idx)): each row's largest value once column ``idx[i]`` is left out."""
    return np.where(arg1[:, None] == idx[None, :], top2[:, None], top1[:, None])


class Spread:
    """A territory's spread and its change under moves (the base class of the three kinds)."""

    #: The objective's name in ``design(objective=...)``.
    name: str = ""

    def summary(self, members: np.ndarray, j: int) -> Summary:
        """Return the summary of territory ``j`` with these members."""
        raise NotImplementedError

    def removed(self, s: Summary, idx: np.ndarray) -> np.ndarray:
        """Spread once member ``s.members[idx[i]]`` leaves, for each i."""
        raise NotImplementedError

    def added(self, s: Summary, j: int, units: np.ndarray) -> np.ndarray:
        """Spread once unit ``units[i]`` joins territory ``j``, for each i."""
        raise NotImplementedError

    def swapped(self, s: Summary, j: int, idx: np.ndarray, units: np.ndarray) -> np.ndarray:
        """(len(idx), len(units)): spread once member ``idx[i]`` leaves and ``units[l]`` joins."""
        raise NotImplementedError


class Diameter(Spread):
    """The longest distance between two units of a territory.

    Parameters
    ----------
    distances : ndarray (n, n)
        Unit-to-unit distances; made symmetric (the larger of both directions).

    Examples
    --------
    >>> d = np.array([[0.0, 1.0, 3.0], [1.0, 0.0, 2.0], [3.0, 2.0, 0.0]])
    >>> spread = Diameter(d)
    >>> s = spread.summary(np.array([0, 1, 2]), 0)
    >>> s.value, spread.removed(s, np.array([0, 2])).tolist()
    (3.0, [2.0, 1.0])
    """

    name = "diameter"

    def __init__(self, distances: np.ndarray) -> None:
        self.d = np.maximum(distances, distances.T)

    def summary(self, members: np.ndarray, j: int) -> Summary:
        """Return each member's farthest fellow member (see the module)."""
        sub = self.d[np.ix_(members, members)]
        top1, arg1, top2 = _top_two(sub)
        return Summary(members, top1, arg1, top2, float(top1.max()) if len(members) else 0.0)

    def removed(self, s: Summary, idx: np.ndarray) -> np.ndarray:
        """Return the diameter of the other members (their farthest distances without it)."""
        rest = _without(s.top1, s.arg1, s.top2, idx)
        rest[idx, np.arange(len(idx))] = -np.inf
        return np.asarray(np.maximum(rest.max(axis=0, initial=-np.inf), 0.0))

    def added(self, s: Summary, j: int, units: np.ndarray) -> np.ndarray:
        """Return the diameter, or the newcomer's distance to its farthest member."""
        reach = self.d[np.ix_(units, s.members)].max(axis=1, initial=0.0)
        return np.asarray(np.maximum(reach, s.value))

    def swapped(self, s: Summary, j: int, idx: np.ndarray, units: np.ndarray) -> np.ndarray:
        """Return the diameter without the leaver, or the newcomer's reach to those who stay."""
        top1, arg1, top2 = _top_two(self.d[np.ix_(units, s.members)])
        reach = _without(top1, arg1, top2, idx)  # (units, idx)
        return np.asarray(np.maximum(self.removed(s, idx)[:, None], reach.T))


class Radius(Spread):
    """The smallest, over a territory's units as center, of the distance to its farthest unit.

    Parameters
    ----------
    distances : ndarray (n, n)
        ``distances[v, c]``: from unit ``v`` to unit ``c`` (the cost matrix's orientation).

    Examples
    --------
    >>> d = np.array([[0.0, 1.0, 3.0], [1.0, 0.0, 2.0], [3.0, 2.0, 0.0]])
    >>> spread = Radius(d)
    >>> s = spread.summary(np.array([0, 1, 2]), 0)
    >>> s.value, spread.added(spread.summary(np.array([0]), 0), 0, np.array([1])).tolist()
    (2.0, [1.0])
    """

    name = "radius"

    def __init__(self, distances: np.ndarray) -> None:
        self.d = np.ascontiguousarray(distances.T)  # row: the center

    def summary(self, members: np.ndarray, j: int) -> Summary:
        """Return each member's distance, as center, to its farthest fellow member."""
        top1, arg1, top2 = _top_two(self.d[np.ix_(members, members)])
        return Summary(members, top1, arg1, top2, float(top1.min()) if len(members) else 0.0)

    def _left(self, s: Summary, idx: np.ndarray) -> np.ndarray:
        """(members, idx): each member's reach as center once ``idx[i]`` has left (inf: it)."""
        rest = np.asarray(np.maximum(_without(s.top1, s.arg1, s.top2, idx), 0.0))
        rest[idx, np.arange(len(idx))] = np.inf
        return rest

    def removed(self, s: Summary, idx: np.ndarray) -> np.ndarray:
        """Return the best center among the members who stay."""
        return np.asarray(self._left(s, idx).min(axis=0, initial=np.inf))

    def added(self, s: Summary, j: int, units: np.ndarray) -> np.ndarray:
        """Return the best center among the members (reaching the newcomer) and the newcomer."""
        members = s.members
        via_old = np.maximum(s.top1[:, None], self.d[np.ix_(members, units)])
        best = via_old.min(axis=0, initial=np.inf)
        as_center = self.d[np.ix_(units, members)].max(axis=1, initial=0.0)
        return np.asarray(np.minimum(best, as_center))

    def swapped(self, s: Summary, j: int, idx: np.ndarray, units: np.ndarray) -> np.ndarray:
        """Return the best center among those who stay (reaching the newcomer) and the newcomer."""
        left = self._left(s, idx)  # (members, idx)
        to_new = self.d[np.ix_(s.members, units)]  # (members, units)
        via_old = np.maximum(left[:, :, None], to_new[:, None, :]).min(axis=0)
        top1, arg1, top2 = _top_two(self.d[np.ix_(units, s.members)])
        as_center = np.maximum(_without(top1, arg1, top2, idx), 0.0).T  # (idx, units)
        return np.asarray(np.minimum(via_old, as_center))


class CenterRadius(Spread):
    """The distance from a territory's fixed center to its farthest unit.

    Parameters
    ----------
    distances : ndarray (n, k)
        From every unit to every territory's center.

    Examples
    --------
    >>> spread = CenterRadius(np.array([[1.0], [4.0], [2.0]]))
    >>> s = spread.summary(np.array([0, 1, 2]), 0)
    >>> s.value, spread.removed(s, np.array([1])).tolist()
    (4.0, [2.0])
    """

    name = "radius"

    def __init__(self, distances: np.ndarray) -> None:
        self.d = distances

    def summary(self, members: np.ndarray, j: int) -> Summary:
        """Return the members' distances to the center (one row)."""
        top1, arg1, top2 = _top_two(self.d[members, j][None, :])
        return Summary(members, top1, arg1, top2, float(max(top1[0], 0.0)))

    def removed(self, s: Summary, idx: np.ndarray) -> np.ndarray:
        """Return the farthest member who stays."""
        return np.asarray(np.maximum(_without(s.top1, s.arg1, s.top2, idx)[0], 0.0))

    def added(self, s: Summary, j: int, units: np.ndarray) -> np.ndarray:
        """Return the farthest member, or the newcomer."""
        return np.asarray(np.maximum(self.d[units, j], s.value))

    def swapped(self, s: Summary, j: int, idx: np.ndarray, units: np.ndarray) -> np.ndarray:
        """Return the farthest member who stays, or the newcomer."""
        return np.asarray(np.maximum(self.removed(s, idx)[:, None], self.d[units, j][None, :]))
