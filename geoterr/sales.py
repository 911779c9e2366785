"""Sales records: read, check, and report every record that cannot be counted.

:func:`read_sales` turns a sales export (customer id, date, amount, and optionally units,
satisfaction score, potential, currency) into clean records plus an ``issues`` table naming
each record left out (unknown or missing customer, bad or future date, amount not a number,
duplicate, other currency) and each one kept but worth a look (credit notes, unreadable
units or scores). Nothing is dropped silently.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from geoterr._errors import GeoterrWarning, InputError, format_ids

__all__ = ["SalesRecords", "read_sales"]

CUSTOMER = ("account_id", "customer_id", "customer", "account", "client_id")
DATE = ("date", "order_date", "invoice_date", "sale_date", "booking_date")
AMOUNT = ("amount", "revenue", "net_amount", "sales", "value")
UNITS = ("units", "quantity", "volume", "qty")
SATISFACTION = ("satisfaction", "csat", "satisfaction_score", "score")
POTENTIAL = ("potential", "opportunity", "opportunity_value")
RECORD_ID = ("invoice_id", "order_id", "record_id", "transaction_id")
LEFT_OUT = "left out"
KEPT = "kept"


@dataclass(frozen=True)
class SalesRecords:
    """Sales records ready to track, and what was found wrong with the others.

    Attributes
    ----------
    records : DataFrame
        The counted records: ``row`` (position in the input, from 0), ``customer`` (text),
        ``date``, ``amount`` and, when given, ``units``, ``satisfaction``, ``potential``.
        Credit notes (negative amounts) are kept.
    issues : DataFrame
        One row per problem: ``row``, ``customer``, ``date``, ``amount`` (as in the input),
        ``problem`` and ``action`` (``"left out"`` or ``"kept"``).
    columns : dict
        Which input column was read for each role.
    currency : str or None
        The currency of the counted amounts, when a currency column was named.
    """

    records: pd.DataFrame
    issues: pd.DataFrame
    columns: dict[str, str]
    currency: str | None = None

    def problem_counts(self) -> pd.DataFrame:
        """Count the records per problem and action."""
        if self.issues.empty:
            return pd.DataFrame(columns=["problem", "action", "records"])
        return (
            self.issues.groupby(["problem", "action"], sort=False)
            .size()
            .rename("records")
            .reset_index()
        )


def _pick(table: pd.DataFrame, given: str | None, options: Sequence[str], role: str) -> str | None:
    if given is not None:
        if given not in table.columns:
            msg = (
                f"`{role}` {given!r} is not a column of the sales records; columns: "
                f"{', '.join(map(str, table.columns))}."
            )
            raise InputError(msg)
        return given
    lower = {str(c).lower(): c for c in table.columns}
    return next((str(lower[o]) for o in options if o in lower), None)


def _read(source: Any) -> pd.DataFrame:
    if isinstance(source, pd.DataFrame):
        return source.reset_index(drop=True)
    if isinstance(source, str | os.PathLike):
        try:
            header = pd.read_csv(source, nrows=0).columns
        except FileNotFoundError:
            msg = f"`sales` file {str(source)!r} does not exist."
            raise InputError(msg) from None
        # Every column as text (ids keep their zeros, nothing is guessed); only an empty
        # field is missing. Arrow reads a million rows in well under a second.
        options = pacsv.ConvertOptions(
            column_types={str(c): pa.string() for c in header},
            null_values=[""],
            strings_can_be_null=True,
        )
        table = pacsv.read_csv(source, convert_options=options)
        frame: pd.DataFrame = table.to_pandas(
            types_mapper={pa.string(): pd.StringDtype("pyarrow")}.get
        )
        return frame
    msg = f"`sales` must be a DataFrame or a CSV path, got {type(source).__name__}."
    raise InputError(msg)


def read_sales(  # noqa: PLR0913 (public API: every option is a documented keyword)
    source: Any,
    *,
    customer: str | None = None,
    date: str | None = None,
    amount: str | None = None,
    units: str | None = None,
    satisfaction: str | None = None,
    potential: str | None = None,
    record_id: str | None = None,
    currency: str | None = None,
    keep_currency: str | None = None,
    known_customers: Iterable[Any] | None = None,
    today: Any = None,
    date_format: str | None = None,
    on_invalid: Literal["report", "raise"] = "report",
) -> SalesRecords:
    """Read and check sales records.

    Parameters
    ----------
    source : DataFrame or path
        One row per sale (invoice line, order...).
    customer, date, amount : str, optional
        The columns with the customer id, the date and the amount (default: found from
        common names such as ``account_id``, ``date``, ``amount``).
    units, satisfaction, potential : str, optional
        Optional columns: volume, a satisfaction score, an opportunity or potential value
        (found from common names when present).
    record_id : str, optional
        A column that identifies a record (invoice number): two records with the same id are
        duplicates. Without it, records equal in every column read are duplicates.
    currency : str, optional
        The column holding each amount's currency. Amounts in more than one currency are an
        error unless ``keep_currency`` names the one to count.
    keep_currency : str, optional
        With ``currency``: count only the amounts in this currency (the others are issues).
    known_customers : iterable, optional
        The customer ids of the plan; records of other customers are issues.
    today : date-like, optional
        Records dated after it are issues (default: now).
    date_format : str, optional
        strftime format of the dates (default: inferred from the first date).
    on_invalid : {"report", "raise"}
        Report the records left out (in ``issues``, with a warning saying how many), or
        raise one error listing every problem.

    Returns
    -------
    SalesRecords

    Raises
    ------
    InputError
        When a required column is missing, currencies are mixed, or (``on_invalid="raise"``)
        any record is left out.

    Examples
    --------
    >>> import pandas as pd
    >>> raw = pd.DataFrame({"account_id": ["A", "B", "A"], "date": ["2025-01-05", "bad",
    ...                     "2025-02-01"], "amount": ["100", "50", "-20"]})
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     sales = read_sales(raw, today="2026-01-01")
    >>> str(caught[0].message)
    '1 of 3 sales records are left out and listed in the issues table: bad date: 1 (rows 1).'
    >>> sales.records["amount"].tolist(), sales.issues["problem"].tolist()
    ([100.0, -20.0], ['bad date', 'credit note'])
    """
    if on_invalid not in ("report", "raise"):
        msg = f"`on_invalid` must be 'report' or 'raise', got {on_invalid!r}."
        raise InputError(msg)
    table = _read(source)
    roles = {
        "customer": _pick(table, customer, CUSTOMER, "customer"),
        "date": _pick(table, date, DATE, "date"),
        "amount": _pick(table, amount, AMOUNT, "amount"),
    }
    absent = [role for role, col in roles.items() if col is None]
    if absent:
        msg = (
            f"the sales records have no {', '.join(absent)} column (columns: "
            f"{', '.join(map(str, table.columns))}); name them, e.g. customer='AccountId', "
            "date='InvoiceDate', amount='NetAmount'."
        )
        raise InputError(msg)
    optional = {
        "units": _pick(table, units, UNITS, "units"),
        "satisfaction": _pick(table, satisfaction, SATISFACTION, "satisfaction"),
        "potential": _pick(table, potential, POTENTIAL, "potential"),
        "record_id": _pick(table, record_id, RECORD_ID, "record_id"),
        "currency": _pick(table, currency, (), "currency"),
    }
    columns = {k: str(v) for k, v in {**roles, **optional}.items() if v is not None}
    n = len(table)
    raw_customer = table[columns["customer"]]
    ids = raw_customer.astype(str).str.strip()
    no_id = raw_customer.isna().to_numpy() | ids.eq("").to_numpy()
    dates = _dates(table[columns["date"]], date_format)
    now = pd.Timestamp.now() if today is None else pd.Timestamp(today)
    bad_date = dates.isna().to_numpy()
    future = (dates > now).fillna(False).to_numpy(dtype=bool)
    amounts = _numbers(table[columns["amount"]])
    bad_amount = np.isnan(amounts)
    flags: list[tuple[str, np.ndarray, str]] = [
        ("missing customer id", no_id, LEFT_OUT),
        ("bad date", bad_date, LEFT_OUT),
        ("future date", future, LEFT_OUT),
        ("amount not a number", bad_amount, LEFT_OUT),
    ]
    kept_currency = _currency(table, columns.get("currency"), keep_currency, flags)
    if known_customers is not None:
        known = pa.array([str(c) for c in known_customers], type=pa.string())
        found = pc.is_in(_arrow(ids), value_set=known).to_numpy(zero_copy_only=False)
        unknown = ~found.astype(bool) & ~no_id
        flags.append(("unknown customer", unknown, LEFT_OUT))
    key = [columns["record_id"]] if "record_id" in columns else list(columns.values())
    duplicate = table.duplicated(subset=key, keep="first").to_numpy()
    flags.append(("duplicate", duplicate, LEFT_OUT))
    out = np.zeros(n, dtype=bool)
    for _, mask, action in flags:
        if action == LEFT_OUT:
            out |= mask
    flags.append(("credit note", ~out & (amounts < 0), KEPT))
    records = pd.DataFrame(
        {"row": np.arange(n), "customer": ids.array, "date": dates, "amount": amounts}
    )
    for role in ("units", "satisfaction", "potential"):
        if role in columns:
            values = _numbers(table[columns[role]])
            given = table[columns[role]].notna().to_numpy()
            flags.append((f"{role} not a number", ~out & given & np.isnan(values), KEPT))
            records[role] = values
    records = records[~out].reset_index(drop=True)
    issues = _issues(table, columns, flags)
    if out.any():
        _complain(issues, int(out.sum()), n, on_invalid)
    return SalesRecords(records, issues, columns, kept_currency)


def _arrow(values: pd.Series) -> pa.Array:
    """Return the values as an Arrow string array (nulls for missing)."""
    text = values if isinstance(values.dtype, pd.StringDtype) else values.astype("string")
    array = pa.array(text, from_pandas=True)
    return array.cast(pa.string()) if array.type != pa.string() else array


ISO_DATE = r"^\d{4}-\d{2}-\d{2}([ T].*)?$"
NUMBER = r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$"


def _dates(values: pd.Series, date_format: str | None) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        return pd.Series(values.to_numpy(), dtype="datetime64[ns]")
    if date_format is None:
        # ISO dates (the usual export) are parsed by Arrow; other layouts by pandas.
        text = pc.utf8_trim_whitespace(_arrow(values))
        iso = pc.match_substring_regex(text, ISO_DATE)
        day = pc.if_else(iso, pc.utf8_slice_codeunits(text, 0, 10), None)
        parsed = pc.strptime(day, format="%Y-%m-%d", unit="s", error_is_null=True)
        # Arrow rolls impossible days over (2024-02-31 -> March 2): those are bad dates.
        written = pc.cast(pc.utf8_slice_codeunits(day, 8, 10), pa.int64(), safe=False)
        parsed = pc.if_else(pc.equal(pc.day(parsed), written), parsed, None)
        given = len(text) - text.null_count
        if given == 0 or (len(parsed) - parsed.null_count) >= 0.5 * given:
            stamps = parsed.cast(pa.timestamp("ns")).to_numpy(zero_copy_only=False)
            return pd.Series(stamps, dtype="datetime64[ns]")
    text = values.astype("string").str.strip()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "could not infer format" for odd rows
        parsed = pd.to_datetime(text, errors="coerce", format=date_format)
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    return pd.Series(parsed.to_numpy(), dtype="datetime64[ns]")


def _numbers(values: pd.Series) -> np.ndarray:
    """Numbers from the values; NaN where a value is missing or not a number."""
    if pd.api.types.is_numeric_dtype(values):
        return values.to_numpy(dtype=float)
    text = pc.utf8_trim_whitespace(_arrow(values))
    try:  # a clean column casts at once
        return np.asarray(pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False).astype(float))
    except pa.ArrowInvalid:
        pass
    valid = pc.match_substring_regex(text, NUMBER)
    numbers = pc.cast(pc.if_else(valid, text, None), pa.float64())
    return np.asarray(numbers.to_numpy(zero_copy_only=False).astype(float))


def _currency(
    table: pd.DataFrame,
    column: str | None,
    keep: str | None,
    flags: list[tuple[str, np.ndarray, str]],
) -> str | None:
    """Check the currency column; flag the other currencies when ``keep`` names one."""
    if column is None:
        if keep is not None:
            msg = "`keep_currency` needs `currency`, the column holding each amount's currency."
            raise InputError(msg)
        return None
    codes = table[column].astype("string").str.strip().str.upper().fillna("")
    counts = codes.value_counts()
    if keep is None:
        if len(counts) > 1:
            parts = []
            for code, count in counts.items():
                rows = format_ids(np.flatnonzero(codes.eq(str(code)).to_numpy())[:5], limit=5)
                parts.append(f"{code or '(empty)'}: {count} records (rows {rows}...)")
            msg = (
                f"the sales amounts are in {len(counts)} currencies in column {column!r} "
                f"({'; '.join(parts)}); convert them to one currency first, or pass "
                f"keep_currency={counts.index[0]!r} (CLI: --currency {counts.index[0]}) to count "
                "only those (the others are reported)."
            )
            raise InputError(msg)
        return str(counts.index[0]) if len(counts) else None
    keep = keep.strip().upper()
    flags.append((f"currency not {keep}", codes.ne(keep).to_numpy(), LEFT_OUT))
    return keep


def _issues(
    table: pd.DataFrame, columns: dict[str, str], flags: list[tuple[str, np.ndarray, str]]
) -> pd.DataFrame:
    parts = []
    for problem, mask, action in flags:
        rows = np.flatnonzero(mask)
        if len(rows):
            part = pd.DataFrame(
                {
                    "row": rows,
                    "customer": table[columns["customer"]].iloc[rows].to_numpy(),
                    "date": table[columns["date"]].iloc[rows].astype(str).to_numpy(),
                    "amount": table[columns["amount"]].iloc[rows].astype(str).to_numpy(),
                    "problem": problem,
                    "action": action,
                }
            )
            parts.append(part)
    if not parts:
        return pd.DataFrame(columns=["row", "customer", "date", "amount", "problem", "action"])
    return pd.concat(parts, ignore_index=True).sort_values(["row", "problem"], kind="stable")


def _complain(issues: pd.DataFrame, left_out: int, n: int, on_invalid: str) -> None:
    dropped = issues[issues["action"] == LEFT_OUT]
    summary = "; ".join(
        f"{problem}: {len(group)} (rows {format_ids(group['row'], limit=5)})"
        for problem, group in dropped.groupby("problem", sort=False)
    )
    if on_invalid == "raise":
        msg = (
            f"{left_out} of {n} sales records cannot be counted: {summary}. Fix them, or pass "
            "on_invalid='report' to leave them out with a report."
        )
        raise InputError(msg)
    warnings.warn(
        f"{left_out} of {n} sales records are left out and listed in the issues table: {summary}.",
        GeoterrWarning,
        stacklevel=3,
    )
