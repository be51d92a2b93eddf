"""Bank exports as CSV or XLSX, read through a ``ColumnMapping`` (or one guessed from the header).

One file is one statement: account and currency come from the mapping (or a currency column),
balances are absent. Row numbers in messages are the file's own (1 = first line), as a
spreadsheet shows them. A mapping names a column by its header or, when no header cell is
named so, by its number counting from 1. Lines without a date after the last dated line (a
total, a closing balance) are left out; one between dated lines is an error.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

from app.numbers import parse_number, shown_mark
from app.spreadsheets import TableError, check_unpacked_size
from app.statements.model import ColumnMapping, Counterparty, Entry, Statement, StatementError
from app.statements.util import amount_fits, clean, currency_code, decode_text, plain_date

Cell = Any  # str from CSV; str, int, float, datetime or None from XLSX
_HEADER_SEARCH = 20  # rows looked at for a header when there is no mapping
_DELIMITERS = (";", ",", "\t")

# Header names per field, compared without case, accents or punctuation.
_NAMES: dict[str, tuple[str, ...]] = {
    "date_column": (
        "date", "fecha", "datum", "booking date", "transaction date", "posting date",
        "fecha operacion", "fecha de operacion", "fecha contable", "fecha movimiento",
        "buchungstag", "buchungsdatum", "boekdatum", "transactiedatum",
    ),
    "value_date_column": (
        "value date", "fecha valor", "valuta", "valutadatum", "wertstellung", "rentedatum",
    ),
    "amount_column": (
        "amount", "importe", "monto", "valor", "bedrag", "betrag", "amount eur",
        "importe eur", "bedrag eur", "betrag eur", "transaction amount",
    ),
    "debit_column": (
        "debit", "debito", "debitos", "cargo", "cargos", "debe", "af", "soll", "withdrawal",
        "withdrawals", "debit amount", "money out", "retiro", "retiros",
    ),
    "credit_column": (
        "credit", "credito", "creditos", "abono", "abonos", "haber", "bij", "haben", "deposit",
        "deposits", "credit amount", "money in",
    ),
    "description_column": (
        "label", "description", "descripcion", "concepto", "omschrijving", "memo", "details",
        "detalle", "narrative", "buchungstext", "verwendungszweck", "mededelingen",
    ),
    "reference_column": (
        "reference", "referencia", "ref", "referenz", "kenmerk", "payment reference",
    ),
    "counterparty_name_column": (
        "partner name", "partner", "counterparty", "counterparty name", "beneficiario", "tercero",
        "payee", "name", "naam", "ordenante", "empfanger", "auftraggeber",
        "beguenstigter zahlungspflichtiger", "nombre",
    ),
    "counterparty_account_column": (
        "bank account", "cuenta", "counterparty account", "tegenrekening", "iban",
        "cuenta contrapartida", "kontonummer",
    ),
    "currency_column": ("currency", "moneda", "divisa", "munt", "wahrung", "valuta code"),
}

_DATE_FORMATS = (
    "%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d-%m-%Y", "%m-%d-%Y", "%d.%m.%Y", "%Y/%m/%d",
    "%d/%m/%y", "%m/%d/%y", "%d-%m-%y", "%d.%m.%y", "%Y%m%d", "%d %b %Y", "%d-%b-%Y",
    "%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S",
)
_WORD = re.compile(r"[^\W\d_]")  # a letter: "Total", "Saldo final" (no date)
_SYMBOLS = re.compile(r"[€$£¥\s\u00a0\u202f']|EUR|USD|COP|GBP|MXN", re.IGNORECASE)


def _norm(name: object) -> str:
    text = unicodedata.normalize("NFKD", str(name or "")).encode("ascii", "ignore").decode()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


# ---------------------------------------------------------------- reading rows


def is_xlsx(data: bytes) -> bool:
    """A zip holding an Excel workbook."""
    if not data.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "xl/workbook.xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def _xlsx_rows(data: bytes) -> list[list[Cell]]:
    from openpyxl import load_workbook

    try:
        check_unpacked_size(data)  # before openpyxl unpacks a "zip bomb"
    except TableError as exc:
        if exc.reason == "too_large":
            raise StatementError(
                "The XLSX file unpacks to too much data to be read; split it or export it "
                "as CSV.",
                "El archivo XLSX se descomprime en demasiados datos para leerlo; divídalo o "
                "expórtelo como CSV.",
            ) from None
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 (openpyxl raises many kinds on a damaged zip)
        raise StatementError(
            f"The XLSX file could not be opened: {type(exc).__name__}: {exc}") from None
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            raise StatementError("The XLSX file has no worksheet.")
        rows = []
        for row in sheet.iter_rows():
            rows.append([_xlsx_cell(cell) for cell in row])
        return rows
    finally:
        book.close()


def _xlsx_cell(cell: Any) -> Cell:
    value = getattr(cell, "value", None)
    if isinstance(value, float):
        return _float_amount(value, getattr(cell, "number_format", "General") or "General")
    return value


def _float_amount(value: float, number_format: str) -> Decimal:
    """A float cell as the Decimal it shows: the shortest repr, at the format's decimal places
    ("#,##0.00" gives two) or, in General format, without float artefacts."""
    amount = Decimal(repr(value))
    shown = re.search(r"\.(0+)", number_format)
    exponent = amount.as_tuple().exponent
    if shown:
        return amount.quantize(Decimal(1).scaleb(-len(shown.group(1))))
    if isinstance(exponent, int) and -exponent > 6:  # a float artefact: 0.30000000000000004
        amount = amount.quantize(Decimal("0.000001")).normalize()
    return amount


def sniff_delimiter(lines: Sequence[str]) -> str:
    """The delimiter of CSV lines: csv.Sniffer, else the one most used in the first line."""
    sample = "\n".join(lines[:50])
    try:
        found = csv.Sniffer().sniff(sample, delimiters="".join(_DELIMITERS)).delimiter
        if found in _DELIMITERS and _field_count(lines[0], found) > 1:
            return found
    except csv.Error:
        pass
    first = lines[0] if lines else ""
    best = max(_DELIMITERS, key=lambda d: _field_count(first, d))
    return best


def _field_count(line: str, delimiter: str) -> int:
    try:
        return len(next(csv.reader([line], delimiter=delimiter), []))
    except csv.Error:
        return 0


def _csv_rows(data: bytes, mapping: ColumnMapping | None) -> list[list[Cell]]:
    text = decode_text(data, mapping.encoding if mapping else None, fallback="cp1252")
    if "\x00" in text:
        raise StatementError("The file holds binary data, not CSV text.")
    lines = text.splitlines()
    skip = mapping.skip_rows if mapping else 0
    body = [line for line in lines[skip:] if line.strip()]
    if not body:
        raise StatementError("The CSV file has no rows.")
    delimiter = (mapping.delimiter if mapping and mapping.delimiter else None) or sniff_delimiter(
        body if mapping else _first_table_lines(lines))
    try:
        return [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]
    except csv.Error as exc:
        raise StatementError(f"The CSV file could not be read: {exc}") from None


def _first_table_lines(lines: list[str]) -> list[str]:
    """Lines from the first one that has a delimiter (skipping a bank's title lines)."""
    for i, line in enumerate(lines[:_HEADER_SEARCH]):
        if any(d in line for d in _DELIMITERS):
            return [ln for ln in lines[i:] if ln.strip()]
    return [ln for ln in lines if ln.strip()]


def rows_of(data: bytes, mapping: ColumnMapping | None = None) -> list[list[Cell]]:
    """The file's rows (XLSX's first sheet, or CSV), every row as a list of cells."""
    return _xlsx_rows(data) if is_xlsx(data) else _csv_rows(data, mapping)


# ---------------------------------------------------------------- guessing


def _find(header: Sequence[Cell], field: str) -> str | None:
    names = _NAMES[field]
    for cell in header:
        if _norm(cell) in names:
            return str(cell).strip()
    return None


def guess_mapping(
    header: Sequence[Cell], rows: Iterable[Sequence[Cell]] = (), *, decimal_comma: bool = False
) -> ColumnMapping:
    """A mapping from header names in English, Spanish, Dutch or German, with the date format and
    decimal mark guessed from the rows' values (``decimal_comma``, the importing person's mark,
    when no value shows one beyond doubt); StatementError names what is missing."""
    found = {field: _find(header, field) for field in _NAMES}
    shown = ", ".join(str(c) for c in header if clean(c)) or "nothing"
    if found["date_column"] is None:
        raise StatementError(
            f"No date column: expected one named Date, Fecha or Datum (the header has: {shown}).",
            f"Falta la columna de fecha: se espera Date, Fecha o Datum (el encabezado tiene: "
            f"{shown}).",
        )
    if found["amount_column"] is None and not (found["debit_column"] and found["credit_column"]):
        raise StatementError(
            "No amount column: expected one named Amount, Importe, Monto, Valor, Bedrag or "
            f"Betrag, or Debit and Credit columns (the header has: {shown}).",
            "Falta la columna de importe: se espera Amount, Importe, Monto, Valor, Bedrag o "
            f"Betrag, o columnas Débito y Crédito (el encabezado tiene: {shown}).",
        )
    if found["amount_column"]:
        found["debit_column"] = found["credit_column"] = None
    mapping = ColumnMapping(**found)  # type: ignore[arg-type]
    rows = list(rows)
    index = _index(header)

    def values(name: str | None) -> list[Cell]:
        if not name:
            return []
        i = index[_norm(name)]
        return [r[i] for r in rows if len(r) > i]

    dates = values(mapping.date_column)
    amounts = [v for c in (mapping.amount_column, mapping.debit_column, mapping.credit_column)
               for v in values(c)]
    comma = guess_decimal_comma(amounts, default=decimal_comma)
    return replace(
        mapping,
        date_format=guess_date_format(dates),
        decimal_comma=comma,
        debit_is_negative=all_negative(values(mapping.debit_column), comma),
    )


def guess_date_format(values: Iterable[Cell]) -> str:
    """The first common format that reads every text value; day-first when nothing tells."""
    texts = [v.strip() for v in values if isinstance(v, str) and re.search(r"\d", v)]
    if not texts:
        return ColumnMapping.date_format
    for fmt in _DATE_FORMATS:
        try:
            for text in texts:
                dt.datetime.strptime(text, fmt)  # noqa: DTZ007 (a calendar date, no time zone)
        except ValueError:
            continue
        return fmt
    raise StatementError(
        f"The dates are in no format this app knows (first one: '{texts[0]}'); set the date "
        "format of the column mapping.",
        f"Las fechas no tienen un formato conocido (la primera: '{texts[0]}'); indique el "
        "formato de fecha en la configuración de columnas.",
    )


def guess_decimal_comma(values: Iterable[Cell], *, default: bool = False) -> bool:
    """True when the amounts use a decimal comma ("1.234,56"), False for a point; ``default``
    when no value shows either beyond doubt (only "150.000", "1,500" or "12")."""
    votes = {".": 0, ",": 0}
    for value in values:
        if not isinstance(value, str):
            continue
        # 1,234 shows nothing (a thousands separator or three decimals), nor does garbage
        mark = shown_mark(_SYMBOLS.sub("", value).strip("()+-"))
        if mark is not None:
            votes[mark] += 1
    if votes[","] == votes["."]:
        return default
    return votes[","] > votes["."]


def all_negative(values: Iterable[Cell], decimal_comma: bool) -> bool:
    """Whether a debit column carries its own minus: every non-zero amount in it is negative
    (one negative among positive debits is a reversal, money in)."""
    signs = []
    for value in values:
        try:
            amount = parse_amount(value.strip() if isinstance(value, str) else value,
                                  decimal_comma)
        except (ValueError, ArithmeticError):
            continue  # named by the row that holds it
        if amount:
            signs.append(amount < 0)
    return bool(signs) and all(signs)


# ---------------------------------------------------------------- values


def parse_amount(value: Cell, decimal_comma: bool) -> Decimal | None:
    """A cell as a signed Decimal, None when empty; ValueError when it is not an amount."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return _float_amount(value, "General")
    text = _SYMBOLS.sub("", str(value))
    if not text:
        return None
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1]
    if text.endswith("-") and not text.startswith(("-", "+")):
        negative, text = True, text[:-1]
    # The mapping's decimal separator is the only one; the other only groups thousands.
    amount = parse_number(text, decimal_mark="," if decimal_comma else ".", fixed_mark=True)
    if amount is None:
        raise ValueError(value)  # "()" or "-" alone
    return -amount if negative else amount


def parse_date(value: Cell, date_format: str) -> dt.date | None:
    """A cell as a date (datetime cells as they are), None when empty; ValueError otherwise."""
    if value is None:
        return None
    if isinstance(value, dt.date):
        return plain_date(value)
    text = str(value).strip()
    if not text:
        return None
    return dt.datetime.strptime(text, date_format).date()  # noqa: DTZ007 (a calendar date)


# ---------------------------------------------------------------- the statement


def _index(header: Sequence[Cell]) -> dict[str, int]:
    index: dict[str, int] = {}
    for i, cell in enumerate(header):
        index.setdefault(_norm(cell), i)
    return index


def _find_header(rows: list[list[Cell]], decimal_comma: bool) -> tuple[int, ColumnMapping]:
    """The first row (of the first few) whose names give a mapping, and that mapping."""
    first_error: StatementError | None = None
    for i, row in enumerate(rows[:_HEADER_SEARCH]):
        if sum(1 for c in row if clean(c)) < 2:
            continue
        try:
            return i, guess_mapping(row, rows[i + 1:], decimal_comma=decimal_comma)
        except StatementError as exc:
            first_error = first_error or exc
            if "date format" in exc.message:
                raise
    raise first_error or StatementError("The file has no header row.",
                                        "El archivo no tiene fila de encabezado.")


def read_tabular(
    data: bytes, mapping: ColumnMapping | None = None, *, decimal_comma: bool = False
) -> list[Statement]:
    """Read a CSV or XLSX export into one Statement. Without a mapping, one is guessed from the
    header; amounts that show no decimal separator beyond doubt are read with a decimal comma
    when ``decimal_comma`` (the importing person's language writes one)."""
    rows = rows_of(data, mapping)
    if mapping is None:
        header_at, mapping = _find_header(rows, decimal_comma)
    else:
        header_at = mapping.skip_rows
        if header_at >= len(rows):
            raise StatementError(f"The file has {len(rows)} rows; the header was expected in row "
                                 f"{header_at + 1}.")
    header = rows[header_at]
    index = _index(header)
    width = max((len(row) for row in rows[header_at:]), default=0)

    def column(name: str | None) -> int | None:
        if not name:
            return None
        if _norm(name) in index:
            return index[_norm(name)]
        text = name.strip()
        if text.isascii() and text.isdigit() and int(text) >= 1:  # the column's number
            if int(text) > width:
                raise StatementError(
                    f"The file has {width} columns: there is no column {int(text)}.",
                    f"El archivo tiene {width} columnas: no hay columna {int(text)}.",
                )
            return int(text) - 1
        shown = ", ".join(str(c) for c in header if clean(c)) or "nothing"
        raise StatementError(
            f"The column '{name}' is not in the header (row {header_at + 1} has: {shown}).",
            f"La columna '{name}' no está en el encabezado (la fila {header_at + 1} tiene: "
            f"{shown}).",
        )

    if not mapping.amount_column and not (mapping.debit_column and mapping.credit_column):
        raise StatementError("The column mapping names no amount column, nor debit and credit "
                             "columns.")
    cols = {
        "date": column(mapping.date_column),
        "amount": column(mapping.amount_column),
        "debit": column(mapping.debit_column),
        "credit": column(mapping.credit_column),
        "value_date": column(mapping.value_date_column),
        "description": column(mapping.description_column),
        "reference": column(mapping.reference_column),
        "name": column(mapping.counterparty_name_column),
        "account": column(mapping.counterparty_account_column),
        "currency": column(mapping.currency_column),
    }
    if cols["debit"] is not None and not mapping.debit_is_negative:
        debits = [row[cols["debit"]] for row in rows[header_at + 1:] if len(row) > cols["debit"]]
        mapping = replace(mapping, debit_is_negative=all_negative(debits, mapping.decimal_comma))
    entries = []
    dateless: _Dateless | None = None  # the first line without a date since the last dated one
    for number, row in enumerate(rows[header_at + 1:], header_at + 2):
        try:
            entry = _entry(row, number, cols, header, mapping)
        except _Dateless as exc:
            dateless = dateless or exc
            continue
        if entry is not None:
            if dateless is not None:
                raise dateless  # between dated lines: not a footer
            entries.append(entry)
    if dateless is not None and not entries:
        raise dateless
    currencies = {e.currency for e in entries if e.currency}
    currency = mapping.currency or (currencies.pop() if len(currencies) == 1 else None)
    dates = [e.booking_date for e in entries if e.booking_date]
    return [Statement(
        account=None,
        currency=currency,
        opening_balance=None,
        closing_balance=None,
        entries=tuple(entries),
        start_date=min(dates) if dates else None,
        end_date=max(dates) if dates else None,
    )]


class _Dateless(StatementError):
    """A line with an amount but without a date: a total or a balance when it comes after the
    last dated line."""


def _label(header: list[Cell], i: int) -> str:
    """A column as messages name it: its header, or its number when the header cell is blank."""
    name = clean(header[i]) if i < len(header) else None
    return name or str(i + 1)


def _entry(row: list[Cell], number: int, cols: dict[str, int | None], header: list[Cell],
           mapping: ColumnMapping) -> Entry | None:
    def cell(key: str) -> Cell:
        i = cols[key]
        if i is None or i >= len(row):
            return None
        value = row[i]
        return value.strip() or None if isinstance(value, str) else value

    def fail(key: str, what: str, what_es: str | None = None) -> StatementError:
        name = _label(header, cols[key])  # type: ignore[arg-type]
        return StatementError(f"row {number}, column '{name}': {what}",
                              f"fila {number}, columna '{name}': {what_es or what}")

    def money(key: str) -> Decimal | None:
        value = cell(key)
        try:
            amount = parse_amount(value, mapping.decimal_comma)
        except (ValueError, ArithmeticError):
            raise fail(key, f"'{value}' is not an amount",
                       f"'{value}' no es un importe") from None
        if amount is not None and not amount_fits(amount):
            raise fail(key, f"'{value}' is too large an amount (at most 15 digits before the "
                            "decimal point)",
                       f"'{value}' es un importe demasiado grande (como máximo 15 cifras antes "
                       "de los decimales)")
        return amount

    def day(key: str, required: bool) -> dt.date | None:
        value = cell(key)
        try:
            found = parse_date(value, mapping.date_format)
        except (ValueError, TypeError):
            raise fail(key, f"'{value}' is not a date in the format {mapping.date_format}",
                       f"'{value}' no es una fecha con el formato {mapping.date_format}"
                       ) from None
        if found is None and required:
            raise fail(key, "the date is empty", "la fecha está vacía")
        return found

    if not any(clean(c) for c in row):
        return None
    if cols["amount"] is not None:
        amount = money("amount")
        if amount is None:
            return None  # a title, note, balance or footer line: nothing moved
    else:
        debit, credit = money("debit"), money("credit")
        if debit is None and credit is None:
            return None
        debit, credit = debit or Decimal(0), credit or Decimal(0)
        # An unsigned debit column's negative value is a reversal: money in.
        amount = credit + debit if mapping.debit_is_negative else credit - debit
    try:
        booking = day("date", required=True)
    except StatementError as exc:
        written = cell("date")
        if written is not None and not (isinstance(written, str) and _WORD.search(written)):
            raise  # a date mistyped ("31/02/2024") is an error wherever it is
        raise _Dateless(exc.message, exc.message_es) from None
    currency_text = cell("currency")
    currency = currency_code(currency_text) if currency_text is not None else None
    if currency_text is not None and currency is None:
        raise fail("currency", f"'{currency_text}' is not a currency code",
                   f"'{currency_text}' no es un código de moneda")
    return Entry(
        booking_date=booking,
        value_date=day("value_date", required=False) if cols["value_date"] is not None else None,
        amount=amount,
        currency=currency or mapping.currency,
        reference=clean(cell("reference")),
        counterparty=Counterparty(name=clean(cell("name")), account=clean(cell("account"))),
        description=clean(cell("description")),
    )
