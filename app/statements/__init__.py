"""Bank statements: read camt.053, MT940, OFX, CSV and XLSX files into plain ``Statement`` data.

No Flask, no database. ``read_statement`` raises ``StatementError`` with a message a person
understands for anything it cannot read; ``inspect_file`` never raises for bad input.
"""

from __future__ import annotations

import logging
import re
from decimal import Decimal
from pathlib import Path

from app.statements.model import (
    FORMATS,
    MAX_AMOUNT,
    ColumnMapping,
    Counterparty,
    Entry,
    ParseResult,
    Statement,
    StatementError,
)
from app.statements.util import MAX_BYTES, amount_fits, check_size, is_utf16

__all__ = [
    "FORMATS", "MAX_AMOUNT", "MAX_BYTES", "ColumnMapping", "Counterparty", "Entry", "ParseResult",
    "Statement", "StatementError", "detect_format", "inspect_file", "read_statement",
]

logger = logging.getLogger(__name__)

_LABELS = {"camt053": "camt.053", "mt940": "MT940", "ofx": "OFX", "csv": "CSV/XLSX"}
_MT940 = re.compile(r"(?m)^:20:.*$")
_MT940_BALANCE = re.compile(r"(?m)^:(60[FM]|25|61):")
_UNKNOWN_EN = ("The file is not a bank statement this app reads (camt.053 XML, MT940, OFX, CSV or "
               "XLSX).")
_UNKNOWN_ES = ("El archivo no es un extracto bancario de un formato admitido (camt.053 XML, MT940, "
               "OFX, CSV o XLSX).")


def _head_text(data: bytes) -> str:
    head = data[:8192]
    if is_utf16(head):
        try:
            return head.decode("utf-16", errors="ignore").lstrip("\ufeff")
        except UnicodeError:
            return ""
    return head.decode("latin-1").removeprefix("\xef\xbb\xbf").lstrip()


def _looks_binary(head: bytes) -> bool:
    if b"\x00" in head:
        return True
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 13, 12))
    return controls > len(head) // 100 + 1


def _looks_tabular(text: str) -> bool:
    """Two lines in a row that split into the same number (two or more) of fields."""
    from app.statements.tabular import _field_count

    lines = [ln for ln in text.splitlines()[:30] if ln.strip()]
    for delimiter in (";", ",", "\t"):
        counts = [_field_count(ln, delimiter) for ln in lines]
        if any(a == b > 1 for a, b in zip(counts, counts[1:], strict=False)):
            return True
    return False


def detect_format(data: bytes, filename: str = "") -> str | None:
    """The statement format the content looks like ("camt053", "mt940", "ofx", "csv"), or None.

    XLSX is reported as "csv" (the tabular reader handles both).
    """
    if not data.strip():
        return None
    if data.startswith(b"PK\x03\x04"):
        from app.statements.tabular import is_xlsx

        return "csv" if is_xlsx(data) else None
    if data.startswith(b"%PDF"):
        return None
    text = _head_text(data)
    upper = text[:2048].upper()
    if "OFXHEADER" in upper or "<OFX>" in upper:
        return "ofx"
    if text.startswith("<"):
        if "camt.053" in text or "BkToCstmrStmt" in text:
            return "camt053"
        return None
    if _MT940.search(text) and _MT940_BALANCE.search(text):
        return "mt940"
    if not is_utf16(data) and _looks_binary(data[:8192]):  # UTF-16 text is half zero bytes
        return None
    if _looks_tabular(text) or filename.lower().endswith((".csv", ".tsv")):
        return "csv"
    return None


def read_statement(
    data: bytes, *, filename: str = "", mapping: ColumnMapping | None = None,
    decimal_comma: bool = False,
) -> tuple[str, list[Statement]]:
    """Read a statement file: (format, statements). Raises StatementError, also for an amount
    or balance beyond ``MAX_AMOUNT``.

    ``decimal_comma``: the person importing writes a decimal comma (their language). A CSV or
    XLSX read without a mapping whose amounts show no decimal separator beyond doubt (only
    ``150.000`` or ``1,500``) is then read with a decimal comma, else with a point.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise StatementError("The input is not bytes.", "La entrada no son bytes.")
    data = bytes(data)
    check_size(data)
    fmt = detect_format(data, filename)
    if fmt is None and mapping is not None and not data.startswith((b"%PDF", b"PK", b"<")):
        fmt = "csv"
    if fmt is None:
        _refuse_unknown(data)
    assert fmt is not None  # for the type checker: _refuse_unknown always raises
    try:
        statements = _read(fmt, data, mapping, decimal_comma)
    except StatementError:
        raise
    except Exception as exc:  # noqa: BLE001 (a library's own error on odd input: say what failed)
        logger.warning("reading a %s statement failed unexpectedly", fmt, exc_info=True)
        raise StatementError(
            f"The {_LABELS[fmt]} file could not be read (internal error: "
            f"{type(exc).__name__}: {exc}).",
            f"El archivo {_LABELS[fmt]} no se pudo leer (error interno: "
            f"{type(exc).__name__}: {exc}).",
        ) from exc
    _check_amounts(statements)
    return fmt, statements


def _read(
    fmt: str, data: bytes, mapping: ColumnMapping | None, decimal_comma: bool
) -> list[Statement]:
    if fmt == "camt053":
        from app.statements.camt import read_camt053

        return read_camt053(data)
    if fmt == "mt940":
        from app.statements.mt940 import read_mt940

        return read_mt940(data)
    if fmt == "ofx":
        from app.statements.ofx import read_ofx

        return read_ofx(data)
    from app.statements.tabular import read_tabular

    return read_tabular(data, mapping, decimal_comma=decimal_comma)


def _shown(value: Decimal) -> str:
    text = format(value, "f")
    return text if len(text) <= 30 else text[:30] + "…"


def _check_amounts(statements: list[Statement]) -> None:
    """Refuse an amount or balance the app cannot keep, naming the entry or the balance."""
    limit_en = "at most 15 digits before the decimal point"
    limit_es = "como máximo 15 cifras antes de los decimales"
    for number, statement in enumerate(statements, 1):
        of_en = f" of statement {number}" if len(statements) > 1 else ""
        of_es = f" del extracto {number}" if len(statements) > 1 else ""
        for label_en, label_es, value in (
            ("opening balance", "saldo inicial", statement.opening_balance),
            ("closing balance", "saldo final", statement.closing_balance),
        ):
            if value is not None and not amount_fits(value):
                raise StatementError(
                    f"The {label_en}{of_en}, {_shown(value)}, is too large ({limit_en}).",
                    f"El {label_es}{of_es}, {_shown(value)}, es demasiado grande ({limit_es}).",
                )
        for index, entry in enumerate(statement.entries, 1):
            if not amount_fits(entry.amount):
                day = entry.booking_date or entry.value_date
                on = f" ({day.isoformat()})" if day else ""
                raise StatementError(
                    f"Entry {index}{of_en}{on}: the amount {_shown(entry.amount)} is too large "
                    f"({limit_en}).",
                    f"Movimiento {index}{of_es}{on}: el importe {_shown(entry.amount)} es "
                    f"demasiado grande ({limit_es}).",
                )
        gap = statement.balance_gap()
        if gap is not None and not amount_fits(gap):
            raise StatementError(
                f"The closing balance{of_en} differs from the opening balance plus the entries "
                f"by {_shown(gap)}, too large an amount ({limit_en}).",
                f"El saldo final{of_es} difiere del saldo inicial más los movimientos en "
                f"{_shown(gap)}, un importe demasiado grande ({limit_es}).",
            )


def _refuse_unknown(data: bytes) -> None:
    if data.startswith(b"%PDF"):
        raise StatementError(
            "The file is a PDF; statements are read from camt.053 XML, MT940, OFX, CSV or XLSX "
            "files (ask the bank for one of those exports).",
            "El archivo es un PDF; los extractos se leen de archivos camt.053 XML, MT940, OFX, "
            "CSV o XLSX (pida al banco una de esas exportaciones).",
        )
    if data.startswith(b"PK\x03\x04"):
        raise StatementError(
            "The file is a zip archive but not an XLSX workbook.",
            "El archivo es un zip pero no un libro XLSX.",
        )
    if _head_text(data).startswith("<"):
        from app.statements.camt import read_camt053

        read_camt053(data)  # raises, naming the root element or the XML error
    raise StatementError(_UNKNOWN_EN, _UNKNOWN_ES)


def inspect_file(path: str | Path) -> ParseResult:
    """Read one file for `flask statements inspect`; the error message instead of raising."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise StatementError(
                f"The file is {size:,} bytes; the limit is {MAX_BYTES // (1024 * 1024)} MB.")
        data = path.read_bytes()
    except OSError as exc:
        return ParseResult(file=str(path), format=None,
                           error=f"The file cannot be read: {exc.strerror or exc}")
    except StatementError as exc:
        return ParseResult(file=str(path), format=None, error=exc.message)
    fmt = detect_format(data, path.name)
    try:
        fmt, statements = read_statement(data, filename=path.name)
    except StatementError as exc:
        return ParseResult(file=str(path), format=fmt, error=exc.message)
    return ParseResult(file=str(path), format=fmt, statements=tuple(statements))
