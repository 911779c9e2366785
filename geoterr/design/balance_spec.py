"""The balance a design asks for: measures with a tolerance or absolute bounds, checked.

``design(balance=...)`` and the command line's ``--balance`` name the measures to balance,
each with a relative tolerance around its target or a ``(low, high)`` range;
:func:`parse_balance` checks them against the units and gives every problem in one error.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from geoterr._errors import InputError
from geoterr.design.checks import as_number
from geoterr.units import Units

__all__ = ["Bound", "parse_balance", "parse_balance_text"]

# A balance requirement: a relative tolerance around the target, or absolute (low, high).
Bound = float | tuple[float, float]


def parse_balance_text(balance: str) -> dict[str, Bound]:
    """Parse the CLI's ``"workload:0.05,annual_revenue:10%"`` into measure -> tolerance."""
    parsed: dict[str, Bound] = {}
    for part in balance.split(","):
        name, sep, text = part.strip().rpartition(":")
        if not sep or not name:
            msg = (
                f"`balance` {balance!r} is not 'measure:tolerance' (e.g. 'workload:0.05'); "
                "separate several measures with commas."
            )
            raise InputError(msg)
        try:
            share = float(text.rstrip("%")) / (100.0 if text.endswith("%") else 1.0)
        except ValueError:
            msg = f"`balance` tolerance {text!r} for {name!r} is not a number (e.g. 0.05 or 5%)."
            raise InputError(msg) from None
        if name in parsed:
            msg = (
                f"`balance` {balance!r} names {name!r} twice (tolerances {parsed[name]:g} and "
                f"{share:g}); give each measure once."
            )
            raise InputError(msg)
        parsed[name] = share
    return parsed


def parse_balance(balance: Mapping[str, Bound] | str | None, units: Units) -> dict[str, Bound]:
    """Check and normalise the ``balance`` argument.

    Parameters
    ----------
    balance : dict, str or None
        Measure -> relative tolerance (``{"workload": 0.05}``: every territory within 5 % of its
        target) or absolute bounds per territory (``{"TOTPOP": (679406, 686233)}``); a string
        ``"workload:0.05"`` or ``"workload:5%"`` (the CLI's form, several separated by commas);
        None balances the customer count within 5 %.
    units : Units
        The units, whose columns the measures must be.

    Returns
    -------
    dict
        Measure -> float tolerance or (low, high) tuple.
    """
    if balance is None:
        balance = {"customers": 0.05}
    if isinstance(balance, str):
        balance = parse_balance_text(balance)
    if not isinstance(balance, Mapping):
        msg = (
            f"`balance` must map measures to tolerances, e.g. {{'workload': 0.05}}, or be a "
            f"string such as 'workload:5%', got {type(balance).__name__} {balance!r}."
        )
        raise InputError(msg)
    result: dict[str, Bound] = {}
    for name, given in dict(balance).items():
        given = _bound_value(name, given)
        if name not in units.gdf.columns or name in ("x", "y", "geometry"):
            msg = (
                f"`balance` names {name!r}, which is not a unit measure; measures are: "
                f"{', '.join(units.measures)}. Pass it to build_units(measures=...) first."
            )
            raise InputError(msg)
        if isinstance(given, tuple | list):
            if len(given) != 2:
                msg = f"`balance` bounds for {name!r} must be (low, high), got {given!r}."
                raise InputError(msg)
            low, high = given
            if not (np.isfinite(low) and np.isfinite(high)) or low < 0 or low > high:
                msg = (
                    f"`balance` bounds for {name!r} must satisfy 0 <= low <= high, "
                    f"got ({low:g}, {high:g})."
                )
                raise InputError(msg)
            result[name] = (low, high)
            continue
        tol = float(given)
        if not np.isfinite(tol) or tol < 0 or tol >= 1:
            msg = (
                f"`balance` tolerance for {name!r} must be a share in [0, 1) such as 0.05 "
                f"(5 %), or (low, high) bounds, got {tol}."
            )
            raise InputError(msg)
        result[name] = tol
    if not result:
        msg = "`balance` is empty; name at least one measure, e.g. {'workload': 0.05}."
        raise InputError(msg)
    return result


def _bound_value(name: object, given: object) -> Bound:
    """One measure's requirement checked for type: a number, or a (low, high) pair of numbers."""
    if isinstance(given, tuple | list):
        if len(given) != 2:
            msg = f"`balance` bounds for {name!r} must be (low, high), got {given!r}."
            raise InputError(msg)
        low, high = as_number(given[0]), as_number(given[1])
        if low is None or high is None:
            msg = (
                f"`balance` bounds for {name!r} must be two numbers (low, high), got {given!r}; "
                "write them without quotes or units."
            )
            raise InputError(msg)
        return (low, high)
    tol = as_number(given)
    if tol is None:
        hint = ""
        if isinstance(given, str):
            text = given.strip()
            try:
                share = float(text.rstrip("%")) / (100.0 if text.endswith("%") else 1.0)
                hint = f" write {share:g} for {text!r}"
            except ValueError:
                hint = " write a share such as 0.05 for 5 %"
            hint = ";" + hint
        msg = (
            f"`balance` tolerance for {name!r} must be a number such as 0.05 (5 %), got "
            f"{type(given).__name__} {given!r}{hint}."
        )
        raise InputError(msg)
    return tol
