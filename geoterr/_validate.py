"""Checks that collect every problem in the input, then raise once.

A user fixing a file wants the whole list at once, with row ids, not one error per run.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from geoterr._errors import GeoterrWarning, InputError, format_ids


@dataclass
class Problems:
    """A list of problems found in one argument, each with the offending row ids."""

    argument: str
    messages: list[str] = field(default_factory=list)
    bad_rows: set[Hashable] = field(default_factory=set)
    structural: list[str] = field(default_factory=list)
    # Rows given by position (rows whose label cannot name them: missing or shared ids).
    bad_positions: set[int] = field(default_factory=set)

    def add(
        self,
        message: str,
        rows: Sequence[Hashable] = (),
        *,
        positions: np.ndarray | Sequence[int] | None = None,
    ) -> None:
        """Record one problem and the rows it concerns (none: a problem of the whole table).

        ``positions`` gives the rows by position instead (a boolean mask or positions).
        """
        self.messages.append(message)
        self.bad_rows.update(rows)
        if positions is not None:
            where = np.asarray(positions)
            where = np.flatnonzero(where) if where.dtype == bool else where
            self.bad_positions.update(int(i) for i in where)
        elif not rows:
            self.structural.append(message)

    def add_rows(self, index: pd.Index, mask: Any, what: str) -> None:
        """Record "<count> rows <what> (<their ids>)" for the rows of ``index`` where ``mask``.

        >>> problems = Problems("customers")
        >>> problems.add_rows(pd.Index(["a", "b", "c"]), [True, False, True], "with missing x")
        >>> problems.messages, sorted(problems.bad_rows)
        (['2 rows with missing x (a, c)'], ['a', 'c'])
        """
        rows = index[np.asarray(mask, dtype=bool)]
        self.add(f"{len(rows)} rows {what} ({format_ids(rows)})", list(rows))

    def __bool__(self) -> bool:
        return bool(self.messages)

    def text(self, fix: str = "") -> str:
        """Return the problems as one paragraph."""
        body = "; ".join(self.messages)
        msg = f"`{self.argument}` has problems: {body}."
        if fix:
            msg += f" {fix}"
        return msg

    def raise_or_drop(self, frame: pd.DataFrame, *, drop: bool, fix: str) -> pd.DataFrame:
        """Raise an :class:`InputError`, or drop the bad rows with a warning.

        Parameters
        ----------
        frame : DataFrame
            The rows being checked; ``bad_rows`` are labels of its index.
        drop : bool
            Drop the bad rows (and warn with their count and ids) instead of raising.
        fix : str
            What the user can do, appended to the error message.
        """
        if not self:
            return frame
        if self.structural:  # not about rows: dropping rows cannot fix it
            body = "; ".join(self.structural)
            msg = f"`{self.argument}` has problems: {body}. Check the column names."
            raise InputError(msg)
        if not drop:
            raise InputError(self.text(fix))
        keep = ~frame.index.isin(list(self.bad_rows))
        keep[sorted(self.bad_positions)] = False
        dropped = frame.index[~keep]
        shown = ["(no id)" if pd.isna(v) else v for v in dropped]
        warnings.warn(
            f"dropped {len(dropped)} of {len(frame)} rows of `{self.argument}` "
            f"({format_ids(shown)}) because {'; '.join(self.messages)}",
            GeoterrWarning,
            stacklevel=3,
        )
        if keep.sum() == 0:
            msg = f"`{self.argument}` has no valid rows left after dropping the bad ones."
            raise InputError(msg)
        return frame[keep]


def normalise_name(name: object) -> str:
    """Lower-case a name and keep letters and digits only (``Billing_Lat`` -> ``billinglat``)."""
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def first_column(table: pd.DataFrame, options: Sequence[str]) -> str | None:
    """Return the first of ``options`` that ``table`` has as a column, ignoring case (or None).

    >>> first_column(pd.DataFrame(columns=["Rep", "LAT"]), ("name", "rep", "rep_name"))
    'Rep'
    """
    lower = {str(c).lower(): c for c in table.columns}
    return next((lower[o] for o in options if o in lower), None)


THOUSANDS = r"^-?\d{1,3}(,\d{3})+(\.\d+)?$"
DECIMAL_COMMA = r"^-?\d*,\d+$"


def _normalise_separators(text: pd.Series) -> pd.Series:
    """Read commas the way the whole column uses them.

    If every value with a comma looks like ``1,234,567.8`` the commas group thousands; if every
    one looks like ``45,123`` and no value in the column has a dot, the comma is the decimal
    mark (European exports). Anything else keeps its comma and is reported as not a number.
    """
    has_comma = text.str.contains(",", regex=False).fillna(False).astype(bool)
    if not has_comma.any():
        return text
    with_comma = text[has_comma]
    has_dot = text.str.contains(".", regex=False).fillna(False).astype(bool).any()
    if with_comma.str.match(THOUSANDS).all():
        return text.str.replace(",", "", regex=False)
    if not has_dot and with_comma.str.match(DECIMAL_COMMA).all():
        return text.str.replace(",", ".", regex=False)
    return text


def numeric_column(
    frame: pd.DataFrame, column: str, problems: Problems, *, label: str | None = None
) -> pd.Series:
    """Return ``frame[column]`` as floats, recording missing and non-numeric rows.

    Parameters
    ----------
    frame : DataFrame
        The table holding the column.
    column : str
        The column to convert.
    problems : Problems
        Where the missing and non-numeric rows are recorded.
    label : str, optional
        The name used in messages (defaults to the column name).

    Returns
    -------
    Series
        Floats, with NaN where the value was missing or not a number.
    """
    label = label or column
    raw = frame[column]
    if raw.dtype == object or pd.api.types.is_string_dtype(raw):
        values = pd.to_numeric(
            _normalise_separators(raw.astype("string").str.strip()), errors="coerce"
        )
    else:
        values = pd.to_numeric(raw, errors="coerce")
    values = values.astype(float)
    missing = raw.isna() | raw.astype("string").str.strip().eq("")
    not_number = values.isna() & ~missing
    if missing.any():
        problems.add_rows(frame.index, missing, f"with missing {label}")
    if not_number.any():
        examples = ", ".join(repr(str(v)) for v in raw[not_number].unique()[:3])
        problems.add_rows(
            frame.index, not_number, f"where {label} is not a number, e.g. {examples}"
        )
    infinite = ~np.isfinite(values) & values.notna()
    if infinite.any():
        problems.add_rows(frame.index, infinite, f"with infinite {label}")
    return values


def check_measure(
    frame: pd.DataFrame, column: str, problems: Problems, *, allow_negative: bool = False
) -> pd.Series:
    """Check one numeric measure (workload, revenue ...): present, numeric, finite, not negative."""
    if column not in frame.columns:
        available = ", ".join(map(str, frame.columns))
        problems.add(f"no column {column!r} (columns are: {available})")
        return pd.Series(np.nan, index=frame.index)
    values = numeric_column(frame, column, problems)
    if not allow_negative:
        negative = values < 0
        if negative.any():
            problems.add_rows(frame.index, negative, f"with negative {column}")
    return values
