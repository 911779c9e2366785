"""CSV exports that spreadsheets cannot run: formula injection neutralised, reversibly.

``assignments.csv`` and ``summary.csv`` go back into Excel, Google Sheets and CRMs. A text
cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is taken there
as a formula: an id such as ``=HYPERLINK("http://...")`` becomes a live link, and worse
formulas can run commands or send the sheet's data away. geoterr writes such cells with a
leading apostrophe (``'=HYPERLINK(...)``), which spreadsheets show as plain text; numbers are
never changed. :func:`restore_text` undoes it exactly, so a saved plan loads back with its own
ids and names.

To write cells as they are (for a program that reads the CSV and wants raw values), set the
environment variable ``GEOTERR_RAW_CSV=1`` or wrap the save in :func:`raw_csv`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["escape_text", "neutralise", "raw_csv", "restore", "restore_text", "write_csv"]

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_raw = False


def csv_safety_on() -> bool:
    """Tell whether exports neutralise formulas.

    Off with ``GEOTERR_RAW_CSV=1`` or :func:`raw_csv`.
    """
    return not (_raw or os.environ.get("GEOTERR_RAW_CSV", "") not in ("", "0"))


@contextmanager
def raw_csv() -> Iterator[None]:
    """Within this block, CSV exports keep every cell exactly as it is.

    Examples
    --------
    >>> with raw_csv():
    ...     csv_safety_on()
    False
    """
    global _raw
    before, _raw = _raw, True
    try:
        yield
    finally:
        _raw = before


def escape_text(value: Any) -> Any:
    r"""One cell made safe: text a spreadsheet would run gets a leading apostrophe.

    Text that already starts with apostrophes before such a character gets one more, so that
    :func:`restore_text` can always undo the change.

    Examples
    --------
    >>> escape_text('=HYPERLINK("http://x")'), escape_text("A-12"), escape_text(-3)
    ('\'=HYPERLINK("http://x")', 'A-12', -3)
    """
    if not isinstance(value, str):
        return value
    if value.startswith(TRIGGERS) or (
        value.startswith("'") and value.lstrip("'").startswith(TRIGGERS)
    ):
        return "'" + value
    return value


def restore_text(value: Any) -> Any:
    """Undo :func:`escape_text`.

    Examples
    --------
    >>> restore_text(escape_text("=1+2")), restore_text("'plain")
    ('=1+2', "'plain")
    """
    if isinstance(value, str) and value.startswith("'") and value.lstrip("'").startswith(TRIGGERS):
        return value[1:]
    return value


def _map_text(frame: pd.DataFrame, fn: Any) -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if values.dtype == object or pd.api.types.is_string_dtype(values):
            out[column] = values.map(fn, na_action="ignore")
    if out.index.dtype == object or pd.api.types.is_string_dtype(out.index):
        out.index = out.index.map(fn)
    return out


def neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``frame`` whose text cells (and text index) are safe in a spreadsheet."""
    return _map_text(frame, escape_text)


def restore(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``frame`` read from a geoterr CSV, with the apostrophes taken off.

    The apostrophes are those :func:`neutralise` put in.
    """
    return _map_text(frame, restore_text)


def write_csv(frame: pd.DataFrame, path: str | os.PathLike[str], **options: Any) -> None:
    """``frame.to_csv(path, **options)``, neutralised unless CSV safety is off."""
    table = neutralise(frame) if csv_safety_on() else frame
    table.to_csv(Path(path), **options)
