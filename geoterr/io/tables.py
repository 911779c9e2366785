"""Reading tables of text: CSV in any common encoding, and Excel workbooks.

Analysts' files come from Excel and CRMs: UTF-8 with or without a byte-order mark, Windows
code page 1252 (Excel's "CSV" on Western European Windows), Latin-1, UTF-16 ("Unicode
text"), and ``.xlsx`` workbooks, sometimes renamed ``.csv``. Each is recognised, the encoding
used is said, and the header is taken as it is: duplicate names are refused, not renamed.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import warnings
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd

from geoterr._errors import GeoterrWarning, InputError

__all__ = ["decode_text", "is_workbook", "read_text_table", "read_workbook"]

ENCODING_FIX = "pass the file's encoding with `encoding=` (CLI: --encoding), e.g. 'cp1252'"
EXCEL_SUFFIXES = (".xlsx", ".xlsm")


def is_workbook(raw: bytes) -> bool:
    """Tell whether ``raw`` (the start of a file) is an Office Open XML workbook (a zip file)."""
    return raw[:4] == b"PK\x03\x04"


def _utf16_without_bom(raw: bytes) -> str | None:
    """``"utf-16-le"`` or ``"utf-16-be"`` when every other byte is NUL (ASCII text in UTF-16)."""
    sample = raw[:4000]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.9 * len(odd) and even.count(0) < 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.9 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "utf-16-be"
    return None


def decode_text(raw: bytes, encoding: str | None, name: str) -> tuple[str, str]:
    """Decode a text file; return (text, encoding used).

    Parameters
    ----------
    raw : bytes
        The file's content.
    encoding : str, optional
        The encoding to use; by default it is detected: a byte-order mark (UTF-8, UTF-16),
        UTF-16 without one, UTF-8, then Windows-1252, then Latin-1 (which decodes anything).
    name : str
        The file, for messages.

    Returns
    -------
    (str, str)
        The text and the name of the encoding used.

    Examples
    --------
    >>> decode_text("Zürich".encode("cp1252"), None, "f.csv")[1]
    'cp1252'
    """
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            msg = f"`encoding` {encoding!r} is not a known encoding; use e.g. 'utf-8' or 'cp1252'."
            raise InputError(msg) from None
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError as exc:
            msg = (
                f"`customers` file {name!r} is not valid {encoding} (byte {exc.start}); "
                "leave `encoding=` out to detect it, or give the right one."
            )
            raise InputError(msg) from None
    if raw.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    else:
        guess = _utf16_without_bom(raw)
        candidates = [guess] if guess else []
        candidates += ["utf-8", "cp1252", "latin-1"]
    for candidate in candidates:
        try:
            return raw.decode(candidate), candidate
        except UnicodeDecodeError:
            continue
    msg = f"`customers` file {name!r} is not text in any encoding geoterr knows; {ENCODING_FIX}."
    raise InputError(msg)


def _header(table: pd.DataFrame, name: str) -> pd.DataFrame:
    """Take the first row of ``table`` (read without a header) as its column names.

    Duplicate names are refused (pandas would rename the second ``latitude`` to
    ``latitude.1`` and the file would be read with the wrong column). The rows keep numbers
    ``line - 2`` (line 2 is the first row after the header) as their index.
    """
    if len(table) == 0:
        msg = f"`customers` file {name!r} is empty; it needs a header and at least one row."
        raise InputError(msg)
    names = []
    for position, value in enumerate(table.iloc[0].tolist()):
        text = "" if value is None or (isinstance(value, float) and value != value) else value
        text = str(text).strip()
        names.append(text if text else f"Unnamed: {position}")
    seen: dict[str, list[int]] = {}
    for position, column in enumerate(names):
        seen.setdefault(column, []).append(position + 1)
    twice = {c: p for c, p in seen.items() if len(p) > 1}
    if twice:
        listed = "; ".join(
            f"{c!r} in columns {', '.join(map(str, p))}" for c, p in list(twice.items())[:5]
        )
        msg = (
            f"`customers` file {name!r} has {len(twice)} column names used more than once "
            f"({listed}); geoterr cannot tell which one to read. Rename or remove the extra "
            "columns in the header."
        )
        raise InputError(msg)
    body = table.iloc[1:].copy()
    body.columns = pd.Index(names, dtype=object)
    body.index = pd.RangeIndex(len(body))
    # Columns without a name and without a value (trailing separators) are not data.
    unnamed = [c for c in body.columns if c.startswith("Unnamed: ") and body[c].isna().all()]
    return body.drop(columns=unnamed)


def read_text_table(
    path: Path, *, sep: str | None, encoding: str | None
) -> tuple[pd.DataFrame, str]:
    """Read a CSV or TSV file (optionally gzipped) as text columns; return it and its encoding.

    Raises
    ------
    InputError
        Unknown encoding, undecodable bytes, a duplicate column name or a malformed file.
    """
    raw = path.read_bytes()
    if path.suffix.lower() == ".gz":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zipfile.BadZipFile) as exc:
            msg = f"`customers` file {str(path)!r} is not a readable gzip file: {exc}."
            raise InputError(msg) from None
    text, used = decode_text(raw, encoding, str(path))
    if "\x00" in text:
        msg = (
            f"`customers` file {str(path)!r} holds NUL characters: it is not a text table, or "
            f"not in {used}; {ENCODING_FIX}."
        )
        raise InputError(msg)
    try:
        table = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            engine="python",
            header=None,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            skip_blank_lines=False,  # keep row i on file line i + 2 for messages
        )
    except pd.errors.EmptyDataError:
        msg = f"`customers` file {str(path)!r} is empty; it needs a header and at least one row."
        raise InputError(msg) from None
    except (ValueError, csv.Error) as exc:
        msg = (
            f"`customers` file {str(path)!r} could not be read as a table: {exc}. Check that "
            "every row has as many fields as the header and that quotes are closed."
        )
        raise InputError(msg) from None
    return _header(table, str(path)), used


def read_workbook(path: Path, sheet: str | None) -> pd.DataFrame:
    """Read one sheet of an ``.xlsx`` workbook (with openpyxl) as text columns.

    Parameters
    ----------
    path : Path
        The workbook (whatever its name ends with).
    sheet : str, optional
        The sheet's name; default the first sheet.
    """
    try:
        import openpyxl  # noqa: F401
    except ImportError:
        msg = "reading .xlsx needs openpyxl: `pip install openpyxl`, or save the sheet as CSV."
        raise InputError(msg) from None
    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and data validation it does not read.
            warnings.simplefilter("ignore", UserWarning)
            sheets: Any = pd.read_excel(
                path, sheet_name=None, header=None, dtype=str, engine="openpyxl"
            )
    except Exception as exc:  # openpyxl raises many kinds for a damaged workbook
        msg = f"`customers` file {str(path)!r} is not a readable .xlsx workbook: {exc}."
        raise InputError(msg) from None
    names = list(sheets)
    if not names:
        msg = f"`customers` workbook {str(path)!r} has no sheets."
        raise InputError(msg)
    if sheet is not None and sheet not in sheets:
        msg = (
            f"`layer` {sheet!r} is not a sheet of {str(path)!r}; its sheets are: "
            f"{', '.join(map(repr, names))}."
        )
        raise InputError(msg)
    chosen = sheet if sheet is not None else names[0]
    if sheet is None and len(names) > 1:
        warnings.warn(
            f"the workbook {path.name!r} has {len(names)} sheets; reading the first, "
            f"{chosen!r}. Pass `layer=` (CLI: --layer) to choose another.",
            GeoterrWarning,
            stacklevel=4,
        )
    table = sheets[chosen].dropna(how="all", axis=1)
    return _header(table, str(path))
