"""Every CSV and XLSX file the portal writes, in one place, safe to open in a spreadsheet.

A cell of text that a spreadsheet could read as a formula is neutralised as OWASP's
CSV-injection guidance says: a single quote ``'`` goes in front of it. Text is "formula-like"
when it begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return, or with any of those
signs (or their full-width and small forms, which Excel and LibreOffice also take as a formula's
start) after leading spaces, line breaks or invisible characters. The quote is kept in both
formats, so the neutralised text survives a copy, a paste or a conversion from XLSX to CSV.

Typed values are not text and are left alone: ``Decimal``, ``int`` and ``float`` amounts stay
numbers (a negative amount is ``-5.00`` in the CSV and a number in the XLSX, since a number
written from a ``Decimal`` is digits, a sign and a point and cannot carry a formula), and dates
stay dates. XLSX text cells are always written as strings (``data_type 's'``), never formulas:
openpyxl would otherwise take any ``str`` that starts with ``=`` for one.

No Flask, no database: rows of plain values in, bytes out.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

# Signs that start a formula in Excel, LibreOffice or Google Sheets, with their full-width
# (U+FF1D ＝, U+FF0B ＋, U+FF0D －, U+FF20 ＠), small (U+FE62 ﹢, U+FE63 ﹣, U+FE66 ﹦) and
# mathematical (U+2212 −) look-alikes.
FORMULA_SIGNS = frozenset("=+-@\uff1d\uff0b\uff0d\uff20\ufe62\ufe63\ufe66\u2212")
# A cell that begins with one of these is prefixed whatever follows (OWASP: tab, CR).
FORMULA_STARTS = ("\t", "\r")
# Characters a spreadsheet may skip before it looks for a formula's sign: whitespace (str.strip
# knows the Unicode spaces and line breaks) and the invisible ones str.strip keeps.
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
# Control characters an XLSX file (XML 1.0) cannot hold; openpyxl refuses a cell with them.
XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
SHEET_TITLE_ILLEGAL = re.compile(r"[\\/*?:\[\]]")
# The media type each export format is served with.
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"


def is_formula_like(text: str) -> bool:
    """Tell whether a spreadsheet could take this text for a formula."""
    if text.startswith(FORMULA_STARTS):
        return True
    rest = text.lstrip().lstrip(INVISIBLE).lstrip()
    return bool(rest) and rest[0] in FORMULA_SIGNS


def safe_cell(value: Any) -> Any:
    """Return a value fit for a cell: text neutralised, numbers and dates kept typed."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float, Decimal, dt.date)):
        return value
    text = value if isinstance(value, str) else str(value)  # lazy translations, enums, ...
    return "'" + text if is_formula_like(text) else text


def csv_bytes(rows: Iterable[Sequence[Any]], *, header: Sequence[Any]) -> bytes:
    """Write a header and rows as CSV: UTF-8 with a BOM (spreadsheets read accents), ISO
    dates, plain numbers, formula-like text neutralised."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in _with_header(header, rows):
        writer.writerow([_csv_value(safe_cell(value)) for value in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def xlsx_bytes(rows: Iterable[Sequence[Any]], *, header: Sequence[Any], title: str) -> bytes:
    """Write a header and rows as an XLSX workbook: text as strings (never formulas),
    money as numbers, dates as dates."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title(title))
    for row in _with_header(header, rows):
        sheet.append([_xlsx_cell(WriteOnlyCell, sheet, safe_cell(value)) for value in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def table_bytes(
    fmt: str, rows: Iterable[Sequence[Any]], *, header: Sequence[Any], title: str
) -> bytes:
    """Write an export in fmt (a MEDIA_TYPES key: csv or xlsx); title names the XLSX sheet."""
    if fmt == "csv":
        return csv_bytes(rows, header=header)
    return xlsx_bytes(rows, header=header, title=title)


def sheet_title(title: str) -> str:
    """Return a title Excel accepts for a sheet: no ``\\ / * ? : [ ]``, at most 31 characters."""
    return SHEET_TITLE_ILLEGAL.sub("", title).strip("'")[:31] or "Sheet"


def _with_header(header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> Iterable[Sequence[Any]]:
    yield header
    yield from rows


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")  # never 1E+3: a spreadsheet reads plain digits
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _xlsx_cell(cell_class: Any, sheet: Any, value: Any) -> Any:
    if isinstance(value, str):
        cell = cell_class(sheet, value=XML_ILLEGAL.sub("\ufffd", value))
        cell.data_type = "s"  # openpyxl reads a str starting with "=" as a formula
        return cell
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:  # Excel has no time zones: write the UTC wall time
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        cell = cell_class(sheet, value=value)
        cell.number_format = DATETIME_FORMAT
        return cell
    cell = cell_class(sheet, value=value)
    if isinstance(value, dt.date):
        cell.number_format = DATE_FORMAT
    elif isinstance(value, (Decimal, float)):
        cell.number_format = MONEY_FORMAT
    return cell
