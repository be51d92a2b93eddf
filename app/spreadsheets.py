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
import math
import re
import zipfile
from collections import Counter
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from app.numbers import NumberCell  # a number cell read: its text that keeps its number

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


# ------------------------------------------------------------------------------ reading tables

MAX_READ_ROWS = 100_000
# A workbook is a zip: what it unpacks to is read, not the bytes sent. A real workbook packs
# about 15 to 1; a "zip bomb" of a few kilobytes unpacks to gigabytes. The same limits as an
# uploaded ZIP of invoices (app.services.documents.storing).
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
MAX_PACK_RATIO = 100  # for a part that unpacks to more than a megabyte
# The separators a CSV may use; ties go to the first (a Spanish Excel writes ";").
DELIMITERS = ";,\t|"
SNIFF_LINES = 50


class TableError(ValueError):
    """A file that is not a table this module reads (the message says why, in English; callers
    put their own words in front of users)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        # "empty", "not_table", "too_many_rows", "broken_workbook", "too_large" (unpacked)
        self.reason = reason


def read_table(content: bytes, *, max_rows: int = MAX_READ_ROWS) -> list[tuple[int, list[str]]]:
    """The non-blank rows of a CSV (``;`` ``,`` tab or ``|``, the one that splits its lines
    into a steady number of fields; UTF-8, UTF-16 or Windows-1252) or of an XLSX workbook's
    first sheet, each with its line (row) number, cells as stripped text.

    A leading ``'`` a safe export put in front of formula-like text is taken off again. Numbers
    in a workbook come back as ``NumberCell`` text with a point (``1250.5``, never ``1e-05``),
    a percentage as the number shown (a cell of 0.19 shown as ``19%`` is ``19``), dates as
    ``YYYY-MM-DD``. A workbook that unpacks to too much is refused before it is read.
    """
    if content.startswith(b"PK\x03\x04"):
        rows = _xlsx_rows(content, max_rows)
    else:
        rows = _csv_rows(_decode_text(content), max_rows)
    if not rows:
        raise TableError("empty")
    return rows


def _decode_text(content: bytes) -> str:
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return content.decode("utf-16")
        except UnicodeDecodeError:
            raise TableError("not_table") from None
    if b"\x00" in content:
        raise TableError("not_table")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise TableError("not_table")  # pragma: no cover (cp1252 decodes almost anything)


def check_unpacked_size(content: bytes) -> None:
    """Refuse a workbook (a zip) that unpacks to more than MAX_UNPACKED_BYTES, or with a part
    packed more tightly than a spreadsheet packs: TableError "too_large" (or
    "broken_workbook" when it is no zip). The sizes are the zip's own: a reader never gets
    more out of a part than its header declares."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise TableError("broken_workbook") from None
    if sum(part.file_size for part in parts) > MAX_UNPACKED_BYTES or any(
        part.file_size > 1024 * 1024
        and part.file_size > MAX_PACK_RATIO * max(part.compress_size, 1)
        for part in parts
    ):
        raise TableError("too_large")


def sniff_delimiter(sample: str) -> str:
    """The separator of a CSV sample: the one that splits the most lines into the same number
    of fields (quotes respected), csv.Sniffer's choice among equals, else the first of
    DELIMITERS. Counting characters would split ``Tornillo, acero;1.250,50`` on its commas."""
    scores = {d: _steadiness(sample, d) for d in DELIMITERS}
    best = max(scores.values())
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        sniffed = ""
    if sniffed in scores and scores[sniffed] == best:
        return sniffed
    return next(d for d in DELIMITERS if scores[d] == best)


def _steadiness(sample: str, delimiter: str) -> tuple[int, int]:
    """How many non-blank lines share the commonest number of fields (above one), and that
    number."""
    try:
        counts = Counter(
            len(row)
            for row in csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
            if any(cell.strip() for cell in row)
        )
    except csv.Error:
        return (0, 0)
    return max(((lines, fields) for fields, lines in counts.items() if fields > 1), default=(0, 0))


def _csv_rows(text: str, max_rows: int) -> list[tuple[int, list[str]]]:
    delimiter = sniff_delimiter("\n".join(text.splitlines()[:SNIFF_LINES]))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    out: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                out.append((start, [_unquote(cell.strip()) for cell in row]))
                if len(out) > max_rows:
                    raise TableError("too_many_rows")
            start = reader.line_num + 1
    except csv.Error:
        raise TableError("not_table") from None
    return out


def _xlsx_rows(content: bytes, max_rows: int) -> list[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    check_unpacked_size(content)
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError):
        raise TableError("broken_workbook") from None
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            return []
        out: list[tuple[int, list[str]]] = []
        for number, row in enumerate(sheet.iter_rows(), start=1):
            cells = [_cell_text(cell.value, getattr(cell, "number_format", None)) for cell in row]
            if any(cells):
                out.append((number, cells))
                if len(out) > max_rows:
                    raise TableError("too_many_rows")
        return out
    finally:
        book.close()


def _cell_text(value: Any, number_format: str | None = None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return str(value)
    number: Decimal | None = None
    if isinstance(value, float) and math.isfinite(value):
        # The shortest text that reads back as the float: 0.1 is 0.1, not 0.1000000000000000055
        number = Decimal(int(value)) if value.is_integer() else Decimal(repr(value))
    elif isinstance(value, int | Decimal) and Decimal(value).is_finite():
        number = Decimal(value)
    if number is None:
        return _unquote(str(value).strip())
    if number_format and _is_percent(number_format):
        # What the person sees: 0.19 shown as 19% is 19 (a tax column, say), moved two places
        # so no float noise comes in.
        number = number.scaleb(2)
    return NumberCell(number)


_FORMAT_LITERALS = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]|[_*].')


def _is_percent(number_format: str) -> bool:
    """Whether a number format multiplies by 100 (a ``%`` outside quotes, escapes and
    brackets; ``0"%"`` only writes the sign)."""
    return "%" in _FORMAT_LITERALS.sub("", number_format)


def _unquote(text: str) -> str:
    return text[1:] if text.startswith("'") and is_formula_like(text[1:]) else text
