"""Checks of the design's arguments that need no solver: fixed centers, option types.

Centers out of range, not finite, or given as (latitude, longitude) made the costs NaN or
infinite, and HiGHS then ran far past its time limit; options of the wrong type reached the
code as raw TypeErrors. Both are refused here with the argument, the values and the fix.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from geoterr._errors import InputError, format_ids

if TYPE_CHECKING:
    from geoterr.units import Units

__all__ = ["as_number", "check_center_lonlat", "check_center_xy", "check_design_options"]


def as_number(value: object) -> float | None:
    """``value`` as a float when it is a real number (not a bool, not text), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        return None
    return float(value)


def check_center_lonlat(lonlat: np.ndarray, units: Units, names: Sequence[object]) -> None:
    """Refuse fixed centers that are not (longitude, latitude) degrees near the units.

    Centers out of range, not finite, or given as (latitude, longitude) made the costs NaN or
    infinite, and HiGHS then ran far past its time limit; they are refused here, before any
    solver sees them, with the centers named.

    Parameters
    ----------
    lonlat : ndarray (k, 2)
        The centers as given, (longitude, latitude).
    units : Units
        The units the centers serve.
    names : sequence of str
        The centers' names, for messages.
    """
    label = np.asarray([str(n) for n in names], dtype=object)
    lon, lat = lonlat[:, 0], lonlat[:, 1]
    finite = np.isfinite(lonlat).all(axis=1)
    problems = []
    if not finite.all():
        problems.append(
            f"{int((~finite).sum())} centers with missing or infinite coordinates "
            f"({format_ids(label[~finite])})"
        )
    bad = finite & ((np.abs(lat) > 90) | (np.abs(lon) > 180))
    if bad.any():
        problems.append(
            f"{int(bad.sum())} centers outside longitude [-180, 180] x latitude [-90, 90] "
            f"({format_ids(label[bad])}, e.g. {lonlat[bad][0].tolist()})"
        )
    swapped = _looks_swapped(lonlat[finite & ~bad], units)
    if problems or swapped:
        hint = (
            "; they look like (latitude, longitude): `centers` takes (longitude, latitude) "
            "pairs, or a DataFrame with latitude and longitude columns"
            if swapped or (bad.any() and np.all(np.abs(lon[bad]) <= 90))
            else ""
        )
        body = "; ".join(problems) if problems else "every center is far from every unit"
        msg = (
            f"`centers` has problems: {body}{hint}. Give each center as (longitude, latitude) "
            "in degrees, or a GeoDataFrame with a CRS."
        )
        raise InputError(msg)


def _looks_swapped(lonlat: np.ndarray, units: Units) -> bool:
    """Tell whether every center is far outside the units' extent while its swap lies inside."""
    if len(lonlat) == 0 or len(units) == 0:
        return False
    from pyproj import Transformer

    to_lonlat = Transformer.from_crs(units.crs, 4326, always_xy=True)
    ulon, ulat = to_lonlat.transform(units.xy[:, 0], units.xy[:, 1])
    margin = 1.0  # degrees around the units' extent
    box = (
        np.min(ulon) - margin,
        np.min(ulat) - margin,
        np.max(ulon) + margin,
        np.max(ulat) + margin,
    )

    def inside(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.asarray((x >= box[0]) & (x <= box[2]) & (y >= box[1]) & (y <= box[3]))

    given = inside(lonlat[:, 0], lonlat[:, 1])
    flipped = inside(lonlat[:, 1], lonlat[:, 0])
    return bool(not given.any() and flipped.all())


def check_center_xy(xy: np.ndarray, names: Sequence[object], units: Units | None = None) -> None:
    """Refuse centers that the units' projection cannot hold (the far side of the globe).

    Warn about centers far from every unit (farther than the units' extent, and 500 km).
    """
    bad = ~np.isfinite(xy).all(axis=1)
    label = np.asarray([str(n) for n in names], dtype=object)
    if not bad.any() and units is not None and len(units):
        from scipy.spatial import cKDTree

        span = float(np.hypot(*np.ptp(units.xy, axis=0)))
        nearest = cKDTree(units.xy).query(xy)[0]
        far = nearest > max(span, 500_000.0)
        if far.any():
            import warnings

            from geoterr._errors import GeoterrWarning

            warnings.warn(
                f"{int(far.sum())} `centers` ({format_ids(label[far])}) lie far from every "
                f"unit (the nearest {nearest[far].min() / 1000:,.0f} km away, the units span "
                f"{span / 1000:,.0f} km); check their coordinates (longitude, latitude).",
                GeoterrWarning,
                stacklevel=4,
            )
    if bad.any():
        msg = (
            f"`centers` {format_ids(label[bad])} cannot be placed on the units' map (they lie "
            "on the far side of the globe from the units); give centers near the units, or "
            "build the units with a `crs=` that covers both."
        )
        raise InputError(msg)


def check_design_options(
    *, time_limit: object, max_iter: object, random_state: object, prove: object, verbose: object
) -> None:
    """Refuse design options of the wrong type or range, all problems in one message.

    Examples
    --------
    >>> check_design_options(time_limit=60, max_iter=30, random_state=0, prove=False,
    ...                      verbose=False)
    """
    problems = []
    if time_limit is not None:
        number = as_number(time_limit)
        if number is None or not np.isfinite(number) or number <= 0:
            hint = (
                f" (write time_limit={time_limit.strip()})" if isinstance(time_limit, str) else ""
            )
            problems.append(
                f"`time_limit` must be a positive number of seconds or None, got "
                f"{type(time_limit).__name__} {time_limit!r}{hint}"
            )
    if max_iter is not None and (
        isinstance(max_iter, bool) or not isinstance(max_iter, int | np.integer) or max_iter < 1
    ):
        problems.append(
            f"`max_iter` must be a whole number of rounds, at least 1, or None, got {max_iter!r}"
        )
    if random_state is not None and (
        isinstance(random_state, bool) or not isinstance(random_state, int | np.integer)
    ):
        problems.append(f"`random_state` must be a whole number or None, got {random_state!r}")
    for name, value in (("prove", prove), ("verbose", verbose)):
        if not isinstance(value, bool | np.bool_):
            problems.append(f"`{name}` must be True or False, got {value!r}")
    if problems:
        raise InputError("; ".join(problems) + ".")
