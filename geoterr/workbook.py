"""Tables to an Excel workbook: one sheet per table, numbers as numbers, frozen headers."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["sheet_names", "write_workbook"]

MAX_ROWS = 1_048_575  # Excel's limit, less the header
BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
# Characters XML (and so Excel) cannot hold.
ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def sheet_names(names: list[str]) -> list[str]:
    r"""Return valid, unique Excel sheet names (at most 31 characters, none of ``[]:*?/\``)."""
    out: list[str] = []
    for name in names:
        base = BAD_SHEET_CHARS.sub("_", str(name)).strip("'")[:31] or "sheet"
        candidate, i = base, 2
        while candidate.lower() in (o.lower() for o in out):
            suffix = f" ({i})"
            candidate = base[: 31 - len(suffix)] + suffix
            i += 1
        out.append(candidate)
    return out


def _cell(value: Any) -> Any:
    """Return a value openpyxl stores as it is: numbers as numbers, text as text, gaps empty."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, str):
        return ILLEGAL.sub("", value)
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return ILLEGAL.sub("", str(value))


def _frame(table: pd.DataFrame) -> pd.DataFrame:
    """Return the table with a named or meaningful index as its first columns."""
    index = table.index
    if isinstance(index, pd.RangeIndex) and index.name is None:
        return table
    return table.reset_index()


def write_workbook(tables: Mapping[str, pd.DataFrame], path: str | os.PathLike[str]) -> Path:
    """Write each table to its own sheet of an ``.xlsx`` workbook.

    Headers are bold and frozen (with the first column), numbers stay numbers (NaN and
    infinity are left empty), text is stored as text (a value starting with ``=`` is never
    a formula), characters Excel cannot hold are removed.

    Parameters
    ----------
    tables : mapping
        Sheet name -> DataFrame (a named index becomes the first column).
    path : path-like
        The ``.xlsx`` file to write.

    Returns
    -------
    Path

    Examples
    --------
    >>> import pandas as pd, tempfile
    >>> table = pd.DataFrame({"a": [1.5, 2.0]})
    >>> path = write_workbook({"t": table}, tempfile.mkdtemp() + "/x.xlsx")
    >>> pd.read_excel(path, sheet_name="t")["a"].tolist()
    [1.5, 2.0]
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)  # streams rows: fast for long tables
    bold = Font(bold=True)
    for name, table in zip(sheet_names(list(tables)), tables.values(), strict=True):
        sheet = book.create_sheet(name)
        frame = _frame(table)
        truncated = len(frame) > MAX_ROWS
        frame = frame.iloc[:MAX_ROWS]
        sheet.freeze_panes = "B2" if len(frame.columns) > 1 else "A2"
        for i, column in enumerate(frame.columns, start=1):
            sample = [len(str(column))] + [len(str(v)) for v in frame[column].head(200)]
            sheet.column_dimensions[get_column_letter(i)].width = min(max(sample) + 2, 48)
        header = []
        for column in [*frame.columns, *(["rows cut at Excel's limit"] if truncated else [])]:
            cell = WriteOnlyCell(sheet, value=_cell(str(column)))
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        for row in frame.itertuples(index=False, name=None):
            values = [_cell(v) for v in row]
            for i, value in enumerate(values):
                if isinstance(value, str) and value.startswith("="):
                    text = WriteOnlyCell(sheet, value=value)
                    text.data_type = "s"  # text, never a formula
                    values[i] = text
            sheet.append(values)
    if not book.worksheets:
        book.create_sheet("empty")
    target = Path(path)
    book.save(target)
    _without_clock(target)
    return target


# The date written into a workbook's properties and zip entries instead of the clock, so that the
# same tables give the same file, byte for byte (the zip format's earliest date).
FIXED_DATE = (1980, 1, 1, 0, 0, 0)
CORE_DATES = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")


def _without_clock(path: Path) -> None:
    """Rewrite the saved workbook with fixed dates in place of the time of saving."""
    import zipfile

    with zipfile.ZipFile(path) as source:
        entries = [(info, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w") as target:
        for info, data in entries:
            if info.filename == "docProps/core.xml":
                data = CORE_DATES.sub(rb"\g<1>1980-01-01T00:00:00Z\g<2>", data)
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_DATE)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            target.writestr(fixed, data)
