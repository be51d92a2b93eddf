"""Manual matching's search: what a bank line may settle, found by invoice number, partner name,
reference or amount.

Invoices are filtered in SQL (a company may have a million open); payments and gateway payouts
come from ``candidates`` (those still open, a few per bank line) and are filtered here.
"""

from __future__ import annotations

import re
from decimal import Decimal

from sqlalchemy import or_, select

from app.extensions import db
from app.matching import model as m
from app.models.document import DEBIT_NOTE, INVOICE, Document
from app.numbers import parse_number
from app.services.reconciliation import candidates

LIMIT = 20
_AMOUNT = re.compile(r"[0-9.,]+")  # no sign: "-5" is text to look for


def parse_amount(text: str) -> Decimal | None:
    """The amount a person typed ("1.234,56", "1,234.56", "$ 1.234", "1234"), or None when it
    is not one. Spaces, ``$``, ``€`` and COP/USD/EUR are taken out; a lone ``1.234`` or
    ``1,234`` is a thousand two hundred and thirty-four either way (``app.numbers``, mark
    None)."""
    raw = re.sub(r"[\s$€]|COP|USD|EUR", "", (text or "").strip(), flags=re.IGNORECASE)
    if not _AMOUNT.fullmatch(raw):
        return None
    try:
        return parse_number(raw, decimal_mark=None)
    except ValueError:
        return None


def search(
    company_id: int, *, credit: bool, currency: str, query: str = "", limit: int = LIMIT
) -> list[m.Candidate]:
    """Open candidates of the line's direction and currency whose number, reference, partner or
    amount matches ``query`` (all, up to ``limit``, when it is empty)."""
    text = (query or "").strip()[:100]
    amount = parse_amount(text)
    found = _invoices(company_id, m.RECEIVABLE if credit else m.PAYABLE, currency, text, amount,
                      limit)
    others = (
        [candidates.payments_in(company_id, currency), candidates.payouts(company_id, currency)]
        if credit else [candidates.payments_out(company_id, currency)]
    )
    for source in others:
        for candidate in source:
            if len(found) >= limit:
                return found
            if _fits(candidate, text, amount):
                found.append(candidate)
    return found[:limit]


def search_keeping(
    company_id: int, *, credit: bool, currency: str, query: str = "",
    kept: list[tuple[str, int]] = (),  # type: ignore[assignment]
    limit: int = LIMIT,
) -> list[m.Candidate]:
    """``search``, with the items already ticked on the form first (those still open, of the
    line's direction and currency), so that a new search does not drop what was chosen."""
    allowed = m.CREDIT_KINDS if credit else m.DEBIT_KINDS
    chosen: list[m.Candidate] = []
    by_kind: dict[str, list[int]] = {}
    for kind, id_ in kept[:limit]:
        if kind in allowed:
            by_kind.setdefault(kind, []).append(id_)
    for kind, ids in by_kind.items():
        found = candidates.open_ones(company_id, kind, ids)
        chosen += [found[i] for i in ids if i in found and found[i].currency == currency]
    seen = {(c.kind, c.id) for c in chosen}
    rest = search(company_id, credit=credit, currency=currency, query=query, limit=limit)
    return chosen + [c for c in rest if (c.kind, c.id) not in seen]


def _fits(candidate: m.Candidate, text: str, amount: Decimal | None) -> bool:
    if not text:
        return True
    if amount is not None and candidate.amount == amount:
        return True
    needle = text.casefold()
    haystack = [*candidate.references, candidate.partner_name, candidate.partner or ""]
    return any(needle in value.casefold() for value in haystack if value)


def _invoices(company_id: int, kind: str, currency: str, text: str, amount: Decimal | None,
              limit: int) -> list[m.Candidate]:
    receivable = kind == m.RECEIVABLE
    mine = Document.sender_company_id if receivable else Document.receiver_company_id
    partner = Document.customer_tax_id if receivable else Document.supplier_tax_id
    name = Document.customer_name if receivable else Document.supplier_name
    open_amount = Document.open_balance - Document.held_amount
    stmt = select(
        Document.id, open_amount, Document.currency, Document.number, partner, name,
        Document.due_date, Document.issue_date,
    ).where(
        mine == company_id,
        Document.document_type.in_((INVOICE, DEBIT_NOTE)),
        open_amount > 0,
        Document.currency == currency,
    )
    if text:
        like = f"%{text}%"
        conditions = [Document.number.ilike(like), name.ilike(like), partner.ilike(like)]
        if amount is not None:
            conditions.append(open_amount == amount)
        stmt = stmt.where(or_(*conditions))
    stmt = stmt.order_by(Document.due_date.asc().nulls_last(), Document.id).limit(limit)
    return [
        m.Candidate(kind=kind, id=id_, amount=value, currency=cur, references=(number,),
                    partner=tax_id or None, partner_name=partner_name or "", date=due or issued)
        for id_, value, cur, number, tax_id, partner_name, due, issued in db.session.execute(stmt)
    ]
