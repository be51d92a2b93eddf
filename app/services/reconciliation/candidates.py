"""What a company's bank lines may settle, read from the database as plain
``app.matching.model.Candidate`` rows: open receivables and payables, payments received or made
that no confirmed match holds yet, and gateway payouts not reconciled.

Read as tuples (no ORM objects): a run over a million open invoices loads them in seconds.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal

from sqlalchemy import Select, exists, func, literal, select

from app.extensions import db
from app.matching import model as m
from app.models.company import Company
from app.models.document import DEBIT_NOTE, INVOICE, Document
from app.models.payment import (
    AWAITING_CONFIRMATION,
    BANK,
    CONFIRMED,
    GATEWAYS,
    TRANSFER,
    Payment,
    PaymentAllocation,
)
from app.models.reconciliation import MATCH_CONFIRMED, GatewayPayout, Match, MatchItem
from app.tenancy import unscoped

_BATCH = 20_000


def payment_reference(payment_id: int) -> str:
    """The reference a payer writes in its bank transfer, shown on the payment's pages."""
    return f"PAY-{payment_id:06d}"


def _unmatched_payment(company_id: int) -> object:
    return ~exists(
        select(MatchItem.id)
        .join(Match, Match.id == MatchItem.match_id)
        .where(
            MatchItem.payment_id == Payment.id,
            MatchItem.company_id == company_id,
            Match.status == MATCH_CONFIRMED,
        )
    )


def invoice_columns(company_id: int, kind: str, currency: str | None = None) -> list[list]:
    """Open receivables or payables as the engine's columns (``Matcher.from_columns``: kind, id,
    open amount, currency, number, partner's tax id, partner's name, due date): read on the
    connection, with the company's side named, so neither the ORM nor the tenancy filter's OR
    of both sides stands between a million rows and the matcher."""
    receivable = kind == m.RECEIVABLE
    mine = Document.sender_company_id if receivable else Document.receiver_company_id
    stmt = select(
        literal(kind),
        Document.id,
        Document.open_balance - Document.held_amount,
        Document.currency,
        Document.number,
        Document.customer_tax_id if receivable else Document.supplier_tax_id,
        Document.customer_name if receivable else Document.supplier_name,
        func.coalesce(Document.due_date, Document.issue_date),
    ).where(
        mine == company_id,
        Document.document_type.in_((INVOICE, DEBIT_NOTE)),
        Document.open_balance > Document.held_amount,  # (the open items index's condition)
    )
    if currency:
        stmt = stmt.where(Document.currency == currency)
    side = "sender" if receivable else "receiver"
    # Read from the partial covering index alone (SQLite, with no statistics, might otherwise
    # walk a wider index and look every row up in the table: three times slower).
    stmt = stmt.with_hint(Document, f"INDEXED BY ix_documents_{side}_open_items", "sqlite")
    return read_columns(unscoped(stmt))


def read_columns(stmt: Select) -> list[list]:
    """The statement's result as one list per column, with the values SQLAlchemy gives (its
    own result processors: Decimal for a Numeric kept as REAL by SQLite, dates read from
    SQLite's text), applied a column at a time rather than a row at a time — a million rows
    read through the driver's ``fetchall`` cost half of what SQLAlchemy's rows do."""
    connection = db.session.connection()
    result = connection.execute(stmt)
    try:
        cursor = result.cursor
        rows = cursor.fetchall()
        codes = [d[1] for d in cursor.description]
    finally:
        result.close()
    width = len(stmt.selected_columns)
    columns = [list(col) for col in zip(*rows, strict=True)] if rows else [[] for _ in range(width)]
    del rows
    dialect = connection.dialect
    for i, column in enumerate(stmt.selected_columns):
        process = column.type.dialect_impl(dialect).result_processor(dialect, codes[i])
        if process is None:
            continue
        values = columns[i]
        distinct = set(values)  # (the values a driver returns are hashable)
        if len(distinct) * 4 < len(values):  # dates: a few thousand days, each converted once
            converted = {v: process(v) for v in distinct}
            columns[i] = list(map(converted.__getitem__, values))
        else:
            columns[i] = list(map(process, values))
    return columns


def as_row(candidate: m.Candidate) -> tuple:
    c = candidate
    return (c.kind, c.id, c.amount, c.currency, c.references, c.partner, c.partner_name, c.date,
            c.end_to_end_id)


def payments_in(company_id: int, currency: str | None = None) -> Iterator[m.Candidate]:
    """Payments the company received by transfer or recorded from the payer's bank line, that
    its own bank statement has not shown yet (gateway payments arrive in payouts)."""
    return _payments(company_id, m.PAYMENT_IN, currency)


def payments_out(company_id: int, currency: str | None = None) -> Iterator[m.Candidate]:
    return _payments(company_id, m.PAYMENT_OUT, currency)


def _payments(company_id: int, kind: str, currency: str | None) -> Iterator[m.Candidate]:
    incoming = kind == m.PAYMENT_IN
    side = Payment.payee_company_id if incoming else Payment.payer_company_id
    other = Payment.payer_company_id if incoming else Payment.payee_company_id
    statuses = (*CONFIRMED, AWAITING_CONFIRMATION)
    stmt = (
        unscoped(select(
            Payment.id,
            Payment.confirmed_amount,
            Payment.amount,
            Payment.refunded_amount,
            Payment.currency,
            Payment.payer_reference,
            Payment.gateway_reference,
            Payment.end_to_end_id,
            Payment.payer_name,
            Company.tax_id,
            Company.legal_name,
            Payment.transfer_date,
            Payment.succeeded_at,
            Payment.created_at,
        ))
        .outerjoin(Company, Company.id == other)
        .where(side == company_id, Payment.status.in_(statuses), _unmatched_payment(company_id))
    )
    if incoming:
        stmt = stmt.where(Payment.method.in_((TRANSFER, BANK)))
    else:
        stmt = stmt.where(Payment.method.in_((TRANSFER, BANK, *GATEWAYS)))
    if currency:
        stmt = stmt.where(Payment.currency == currency)
    rows = list(db.session.execute(stmt))
    numbers = _allocation_numbers([r[0] for r in rows])
    for (id_, confirmed, amount, refunded, cur, payer_ref, gw_ref, e2e, payer_name, tax_id,
         company_name, transfer_date, succeeded_at, created_at) in rows:
        value = (confirmed if confirmed is not None else amount) - (refunded or Decimal("0"))
        if value <= 0:
            continue
        refs = [payment_reference(id_), *numbers.get(id_, ())]
        refs += [r for r in (payer_ref, gw_ref, e2e) if r]
        when = transfer_date or (succeeded_at or created_at).date()
        yield m.Candidate(
            kind=kind,
            id=id_,
            amount=value,
            currency=cur,
            references=tuple(refs),
            partner=tax_id or None,
            partner_name=company_name or payer_name or "",
            date=when,
            end_to_end_id=e2e or "",
        )


def _allocation_numbers(payment_ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for start in range(0, len(payment_ids), 1000):
        chunk = payment_ids[start : start + 1000]
        rows = db.session.execute(
            unscoped(
                select(PaymentAllocation.payment_id, Document.number)
                .join(Document, Document.id == PaymentAllocation.document_id)
                .where(PaymentAllocation.payment_id.in_(chunk))
            )
        )
        for payment_id, number in rows:
            found.setdefault(payment_id, []).append(number)
    return found


def payouts(company_id: int, currency: str | None = None) -> Iterator[m.Candidate]:
    stmt = select(
        GatewayPayout.id,
        GatewayPayout.amount,
        GatewayPayout.currency,
        GatewayPayout.settlement_id,
        GatewayPayout.gateway,
        GatewayPayout.paid_on,
    ).where(
        GatewayPayout.company_id == company_id,
        GatewayPayout.reconciled.is_(False),
        GatewayPayout.status.in_(("paid", "in_transit", "pending")),
        GatewayPayout.amount > 0,
    )
    if currency:
        stmt = stmt.where(GatewayPayout.currency == currency)
    for id_, amount, cur, settlement_id, gateway, paid_on in db.session.execute(stmt):
        yield m.Candidate(
            kind=m.PAYOUT,
            id=id_,
            amount=amount,
            currency=cur,
            references=(settlement_id,),
            partner=None,
            partner_name=gateway,
            date=paid_on,
        )


def open_ones(company_id: int, kind: str, ids: list[int]) -> dict[int, m.Candidate]:
    """The candidates of ``kind`` with those ids that are still open for the company."""
    wanted = set(ids)
    if kind in (m.RECEIVABLE, m.PAYABLE):
        return _invoices_by_id(company_id, kind, wanted)
    source = {m.PAYMENT_IN: payments_in, m.PAYMENT_OUT: payments_out, m.PAYOUT: payouts}[kind]
    return {c.id: c for c in source(company_id) if c.id in wanted}


def _invoices_by_id(company_id: int, kind: str, ids: set[int]) -> dict[int, m.Candidate]:
    mine = Document.sender_company_id if kind == m.RECEIVABLE else Document.receiver_company_id
    found: dict[int, m.Candidate] = {}
    rows = db.session.execute(
        select(Document.id, Document.open_balance - Document.held_amount, Document.currency,
               Document.number, Document.customer_tax_id, Document.customer_name,
               Document.supplier_tax_id, Document.supplier_name, Document.due_date,
               Document.issue_date)
        .where(Document.id.in_(list(ids)), mine == company_id,
               Document.document_type.in_((INVOICE, DEBIT_NOTE)))
    )
    for id_, amount, cur, number, c_tax, c_name, s_tax, s_name, due, issued in rows:
        receivable = kind == m.RECEIVABLE
        found[id_] = m.Candidate(
            kind=kind, id=id_, amount=amount, currency=cur, references=(number,),
            partner=(c_tax if receivable else s_tax) or None,
            partner_name=(c_name if receivable else s_name) or "", date=due or issued,
        )
    return found



# ------------------------------------------------------------------ one line's shortlist

_REF = re.compile(r"[A-Za-z]{0,8}[-/ ]?\d[\d-]{1,19}")
PARTNER_WINDOW = 60


def reference_forms(text: str) -> set[str]:
    """The ways an invoice number in free text may be stored: 'fe 1234' → FE 1234, FE1234,
    FE-1234 (the database is asked for these exactly; the engine then scores the shortlist)."""
    forms: set[str] = set()
    for found in _REF.findall(text or ""):
        head = re.match(r"[A-Za-z]*", found).group(0)  # type: ignore[union-attr]
        digits = found[len(head):].lstrip("-/ ")
        for prefix in {head, head.upper()}:
            for sep in ("", "-", " ", "/"):
                forms.add(f"{prefix}{sep}{digits}" if prefix else digits)
    return {f for f in forms if len(f) >= 3}


def line_candidates(company_id: int, line: m.Line, partners: set[str]) -> list[m.Candidate]:
    """What one line may settle, asked of the database by its indexes: invoices whose number
    the text names, whose open amount is near the line's, of the partners the line points to
    (a learnt account or label, a name), and the open payments and payouts (few)."""
    credit = line.amount > 0
    kind = m.RECEIVABLE if credit else m.PAYABLE
    mine = Document.sender_company_id if credit else Document.receiver_company_id
    partner_col = Document.customer_tax_id if credit else Document.supplier_tax_id
    amount = abs(line.amount)
    spread = max(amount * Decimal("0.01"), Decimal("1"))
    conditions = [Document.open_balance.between(amount - spread, amount + spread)]
    forms = reference_forms(f"{line.reference} {line.description}")
    if forms:
        conditions.append(Document.number.in_(list(forms)[:200]))
    found: dict[int, m.Candidate] = {}
    base = (Document.document_type.in_((INVOICE, DEBIT_NOTE)),
            Document.open_balance - Document.held_amount > 0,
            Document.currency == line.currency)
    side = "sender" if credit else "receiver"
    found.update(_invoices_where(kind, mine == company_id, conditions[0], *base, limit=100,
                                 index=f"ix_documents_{side}_open"))
    if len(conditions) > 1:  # the number: the unique (sender, type, number) or receiver's index
        found.update(_invoices_where(kind, mine == company_id, conditions[1], *base, limit=100,
                                     index=None if credit else "ix_documents_receiver_number"))
    day = line.booking_date
    partner_index = f"ix_documents_{side}_partner"
    for partner in list(partners)[:5]:
        mine_partner = (mine == company_id, partner_col == partner, *base)
        if day is None:
            found.update(_invoices_where(kind, *mine_partner, limit=PARTNER_WINDOW,
                                         index=partner_index))
            continue
        # The partner's open invoices due around the line's day: those a payment combines.
        found.update(_invoices_where(kind, *mine_partner, Document.due_date <= day,
                                     limit=PARTNER_WINDOW, order=Document.due_date.desc(),
                                     index=partner_index))
        found.update(_invoices_where(kind, *mine_partner, Document.due_date > day,
                                     limit=PARTNER_WINDOW // 3, order=Document.due_date.asc(),
                                     index=partner_index))
    extra = (payments_in, payouts) if credit else (payments_out,)
    rows = list(found.values())
    for source in extra:
        rows.extend(source(company_id, line.currency))
    return rows


def _invoices_where(kind: str, *conditions: object, limit: int, order: object = None,
                    index: str | None = None) -> dict[int, m.Candidate]:
    """Open invoices on the conditions, which name the company's own side explicitly (so the
    tenancy filter's OR of both sides, which hides the narrow indexes, is left out)."""
    receivable = kind == m.RECEIVABLE
    stmt = select(
        Document.id, Document.open_balance - Document.held_amount, Document.currency,
        Document.number,
        Document.customer_tax_id if receivable else Document.supplier_tax_id,
        Document.customer_name if receivable else Document.supplier_name,
        Document.due_date, Document.issue_date,
    ).where(*conditions)  # type: ignore[arg-type]
    if order is not None:
        stmt = stmt.order_by(order)  # type: ignore[arg-type]
    if index:
        # SQLite has no statistics unless ANALYZE ran: without the hint it may walk a wider
        # index of the company's documents (all of them) instead of this narrow one.
        stmt = stmt.with_hint(Document, f"INDEXED BY {index}", "sqlite")
    out = {}
    for id_, value, cur, number, tax_id, name, due, issued in db.session.execute(
            unscoped(stmt.limit(limit))):
        out[id_] = m.Candidate(kind=kind, id=id_, amount=value, currency=cur,
                               references=(number,), partner=tax_id or None,
                               partner_name=name or "", date=due or issued)
    return out


def partner_names(company_id: int, *, credit: bool, limit: int = 5000) -> dict[str, str]:
    """Partner tax id → name, of the companies in the network with this one (the fuzzy name
    match of one line compares against these)."""
    from app.models.network import Partnership

    mine, other = ((Partnership.supplier_id, Partnership.customer_id) if credit
                   else (Partnership.customer_id, Partnership.supplier_id))
    rows = db.session.execute(unscoped(
        select(Company.tax_id, Company.legal_name).join(Partnership, other == Company.id)
        .where(mine == company_id).limit(limit)
    ))
    return {tax_id: name for tax_id, name in rows}
