"""Exceptions raised by geoterr.

Every error is a :class:`GeoterrError`, itself a :class:`ValueError`, so callers can
catch geoterr's problems with one ``except`` clause while the CLI turns them into one
readable paragraph.
"""

from __future__ import annotations


class GeoterrError(ValueError):
    """Base class of every error geoterr raises on purpose."""


class InputError(GeoterrError):
    """The data or an argument given to geoterr is not usable as it is."""


class InfeasibleError(GeoterrError):
    """No plan can satisfy the requested constraints; the message says why."""


class SolverError(GeoterrError):
    """The MIP/LP solver failed or is not available."""


class GeoterrWarning(UserWarning):
    """Something was changed or could not be kept; the message says what and where."""


def format_ids(ids: object, limit: int = 10) -> str:
    """Return a short, readable list of ids for an error message.

    Parameters
    ----------
    ids : iterable
        The ids (row labels, unit ids) to show.
    limit : int
        How many to show before summarising the rest as ``... and N more``.

    Returns
    -------
    str
        For example ``"A1, A7, A9 ... and 12 more"``.
    """
    values = [str(v) for v in ids]  # type: ignore[attr-defined]
    shown = ", ".join(values[:limit])
    if len(values) > limit:
        shown += f" ... and {len(values) - limit} more"
    return shown


def format_number(value: float) -> str:
    """Return a number for messages: thousands separated, no exponent (``6,256,170``, ``0.25``)."""
    value = float(value)
    if abs(value) >= 1e5:
        return f"{value:,.0f}"
    return f"{value:,.6g}"
