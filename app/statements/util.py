"""Small helpers the statement readers share: the size cap, the largest amount, text decoding
(UTF-16 with its byte order mark too), plain dates."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from app.statements.model import MAX_AMOUNT, StatementError

MAX_BYTES = 20 * 1024 * 1024

_CURRENCY = re.compile(r"^[A-Z]{3}$")
# The largest amount kept: anything that rounds to MAX_AMOUNT at five decimals is too large.
_LARGEST = MAX_AMOUNT - Decimal("0.000005")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def check_size(data: bytes) -> None:
    """Refuse input over MAX_BYTES and empty input."""
    if len(data) > MAX_BYTES:
        raise StatementError(
            f"The file is {len(data):,} bytes; the limit is {MAX_BYTES // (1024 * 1024)} MB.",
            f"El archivo pesa {len(data):,} bytes; el máximo es {MAX_BYTES // (1024 * 1024)} MB.",
        )
    if not data.strip():
        raise StatementError("The file is empty.", "El archivo está vacío.")


def decode_text(data: bytes, encoding: str | None = None, *, fallback: str = "iso-8859-1"
                ) -> str:
    """Decode with ``encoding`` if given, else UTF-16 when a byte order mark says so, else
    UTF-8 (BOM dropped), else ``fallback`` (ISO-8859-1 for SWIFT files; Windows-1252 for
    spreadsheets' CSV exports)."""
    if not encoding and is_utf16(data):
        encoding = "utf-16"  # the byte order mark tells the order; decoding drops it
    if encoding:
        try:
            return data.decode(encoding)
        except (LookupError, UnicodeDecodeError) as exc:
            raise StatementError(
                f"The file cannot be decoded as {encoding}: {exc}",
                f"El archivo no se puede decodificar como {encoding}: {exc}",
            ) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode(fallback)
    except UnicodeDecodeError:
        return data.decode("iso-8859-1")  # every byte decodes


def is_utf16(data: bytes) -> bool:
    """Whether the data starts with a UTF-16 byte order mark (Excel's "Unicode text")."""
    return data.startswith(_UTF16_BOMS)


def amount_fits(value: Decimal) -> bool:
    """Whether an amount or balance is within what the app keeps (``MAX_AMOUNT``)."""
    return value.is_finite() and abs(value) < _LARGEST


def plain_date(value: dt.date | dt.datetime) -> dt.date:
    """A ``datetime.date`` (not a datetime nor a library's date subclass)."""
    return dt.date(value.year, value.month, value.day)


def currency_code(value: object) -> str | None:
    """The value when it is a three-letter ISO 4217 code, else None."""
    if isinstance(value, str) and _CURRENCY.match(value.strip().upper()):
        return value.strip().upper()
    return None


def clean(value: object) -> str | None:
    """Text stripped, None when empty or absent."""
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None
