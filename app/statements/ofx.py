"""OFX bank (STMTRS) and credit-card (CCSTMTRS) statements, 1.x SGML and 2.x XML.

``ofxtools`` reads the header and the markup into an element tree. Its typed conversion
(``OFXTree.convert``) is left out on purpose: it refuses common real files, such as ones with
several BANKTRANLIST in a statement or no sign-on block (both shared sample files), so the fields
are read from the tree here and each is checked, naming the element at fault.

Safety: a DOCTYPE or entity declaration is refused before anything is parsed, like
``app.einvoice.xmlsafe`` does. Only LEDGERBAL is a balance in OFX: it is the closing balance; the
opening balance is left absent rather than worked out from the entries.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
import xml.etree.ElementTree as ET
from decimal import Decimal

from ofxtools.header import OFXHeaderError
from ofxtools.Parser import OFXTree, ParseError

from app.statements.model import Counterparty, Entry, Statement, StatementError
from app.statements.util import clean, currency_code

# ofxtools logs each parse at INFO level; that is noise in the app's log and the CLI's output.
logging.getLogger("ofxtools").setLevel(logging.WARNING)

_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST)", re.IGNORECASE)
_AMOUNT = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)$")
_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})")
_KINDS = {"STMTRS": "BANKACCTFROM", "CCSTMTRS": "CCACCTFROM"}


def refuse_dtd(data: bytes) -> None:
    """Refuse OFX that declares a DOCTYPE or entities (also in UTF-16)."""
    if _DTD.search(data) or _DTD.search(data.replace(b"\x00", b"")):
        raise StatementError(
            "The OFX file declares a DOCTYPE or entities; they are refused for safety.",
            "El archivo OFX declara un DOCTYPE o entidades; por seguridad no se aceptan.",
        )


def read_ofx(data: bytes) -> list[Statement]:
    """Read every bank and credit-card statement of an OFX file."""
    refuse_dtd(data)
    if not re.search(rb"</OFX>\s*$", data.replace(b"\x00", b""), re.IGNORECASE):
        raise StatementError(
            "The OFX file is incomplete: it does not end with </OFX> (truncated?).",
            "El archivo OFX está incompleto: no termina en </OFX> (¿cortado?).",
        )
    tree = OFXTree()
    try:
        # Blank lines before the header (some exports start with a dozen) hide it from ofxtools.
        tree.parse(io.BytesIO(data.lstrip(b"\r\n\t \xef\xbb\xbf")))
    except (OFXHeaderError, ParseError, ET.ParseError) as exc:
        raise StatementError(f"The OFX file could not be read: {_first_line(exc)}") from None
    except (ValueError, UnicodeError, LookupError) as exc:
        raise StatementError(f"The OFX file could not be read: {exc}") from None
    root = tree.getroot()
    if root is None or root.tag != "OFX":
        raise StatementError("The OFX file has no <OFX> element.")
    found = [el for el in root.iter() if el.tag in _KINDS]
    status = next((el for el in root.iter("STATUS") if _text(el, "CODE") not in (None, "0")),
                  None)
    if not found and status is not None:  # a bank's error answer instead of a statement
        said = _text(status, "MESSAGE") or f"code {_text(status, 'CODE')}"
        raise StatementError(
            "The OFX file holds no bank or credit-card statement (STMTRS, CCSTMTRS): the bank "
            f"answered with an error: {said}.",
            "El archivo OFX no trae ningún extracto bancario ni de tarjeta (STMTRS, CCSTMTRS): el "
            f"banco respondió con un error: {said}.",
        )
    return [_statement(el, n) for n, el in enumerate(found, 1)]


def _first_line(exc: Exception) -> str:
    text = str(exc.args[0] if exc.args else exc)
    text = re.sub(r"\s*-?\s*<[^<>]*object at 0x[0-9a-f]+>", "", text)  # (ofxtools' own repr)
    first = text.splitlines()[0][:300] if text.strip() else ""
    if first.strip(" -:").lower() in ("invalid ofx header", "ofx header is malformed", ""):
        return "its header (OFXHEADER:100 … or <?OFX …?>) is missing or malformed"
    return first


def _text(el: ET.Element | None, path: str) -> str | None:
    found = el.find(path) if el is not None else None
    return clean(found.text) if found is not None else None


def _amount(text: str | None, label: str) -> Decimal:
    value = (text or "").strip()
    if not value:
        raise StatementError(f"{label} is missing")
    if not _AMOUNT.match(value):
        raise StatementError(f"{label} '{value}' is not an amount")
    return Decimal(value.replace(",", "."))


def _date(text: str | None, label: str) -> dt.date | None:
    if text is None:
        return None
    found = _DATE.match(text)
    try:
        if not found:
            raise ValueError
        return dt.date(int(found.group(1)), int(found.group(2)), int(found.group(3)))
    except ValueError:
        raise StatementError(f"{label} '{text}' is not a date") from None


def _statement(rs: ET.Element, n: int) -> Statement:
    where = f"{rs.tag} {n}"
    currency = currency_code(_text(rs, "CURDEF"))
    lists = rs.findall("BANKTRANLIST")
    entries = tuple(
        _entry(trn, currency, f"{where}, STMTTRN {m}")
        for m, trn in enumerate((t for tl in lists for t in tl.findall("STMTTRN")), 1)
    )
    # (Nested wherever the file left it: a BANKTRANLIST never closed holds what follows it.)
    ledger = rs.find(".//LEDGERBAL")
    balance = _text(ledger, "BALAMT")
    closing = _amount(balance, f"{where}: LEDGERBAL/BALAMT") if balance else None
    return Statement(
        account=_text(rs, f"{_KINDS[rs.tag]}/ACCTID"),
        currency=currency,
        opening_balance=None,
        closing_balance=closing,
        entries=entries,
        statement_id=None,
        start_date=_date(_text(lists[0], "DTSTART"), f"{where}: DTSTART") if lists else None,
        end_date=_date(_text(lists[-1], "DTEND"), f"{where}: DTEND") if lists else None,
    )


def _entry(trn: ET.Element, currency: str | None, where: str) -> Entry:
    value_date = _text(trn, "DTUSER") or _text(trn, "DTAVAIL")
    account = _text(trn, "BANKACCTTO/ACCTID") or _text(trn, "CCACCTTO/ACCTID")
    return Entry(
        booking_date=_date(_text(trn, "DTPOSTED"), f"{where}: DTPOSTED"),
        value_date=_date(value_date, f"{where}: DTUSER"),
        amount=_amount(_text(trn, "TRNAMT"), f"{where}: TRNAMT"),
        currency=currency_code(_text(trn, "CURRENCY/CURSYM")) or currency,
        reference=_text(trn, "REFNUM") or _text(trn, "CHECKNUM"),
        end_to_end_id=None,
        counterparty=Counterparty(
            name=_text(trn, "NAME") or _text(trn, "PAYEE/NAME"), account=account),
        description=_text(trn, "MEMO"),
        bank_reference=_text(trn, "FITID"),
    )
