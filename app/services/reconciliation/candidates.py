"""What a company's bank lines may settle, read from the database as plain
``app.matching.model.Candidate`` rows: open receivables and payables, payments received or made
that no confirmed match holds yet, and gateway payouts not reconciled.

Read as tuples (no ORM objects): a run over a million open invoices loads them in seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from sqlalchemy import exists, select

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


def receivables(company_id: int, currency: str | None = None) -> Iterator[m.Candidate]:
    return _invoices(company_id, m.RECEIVABLE, currency)


def payables(company_id: int, currency: str | None = None) -> Iterator[m.Candidate]:
    return _invoices(company_id, m.PAYABLE, currency)


def _invoices(company_id: int, kind: str, currency: str | None) -> Iterator[m.Candidate]:
    mine = Document.sender_company_id if kind == m.RECEIVABLE else Document.receiver_company_id
    partner = Document.customer_tax_id if kind == m.RECEIVABLE else Document.supplier_tax_id
    name = Document.customer_name if kind == m.RECEIVABLE else Document.supplier_name
    stmt = select(
        Document.id,
        Document.open_balance - Document.held_amount,
        Document.currency,
        Document.number,
        partner,
        name,
        Document.due_date,
        Document.issue_date,
    ).where(
        mine == company_id,
        Document.document_type.in_((INVOICE, DEBIT_NOTE)),
        Document.open_balance - Document.held_amount > 0,
    )
    if currency:
        stmt = stmt.where(Document.currency == currency)
    rows = db.session.execute(stmt.execution_options(yield_per=_BATCH))
    for id_, amount, cur, number, tax_id, partner_name, due, issued in rows:
        yield m.Candidate(
            kind=kind,
            id=id_,
            amount=amount,
            currency=cur,
            references=(number,),
            partner=tax_id or None,
            partner_name=partner_name or "",
            date=due or issued,
        )


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


def all_candidates(company_id: int, *, credits: bool = True, debits: bool = True,
                   currency: str | None = None) -> Iterator[m.Candidate]:
    if credits:
        yield from receivables(company_id, currency)
        yield from payments_in(company_id, currency)
        yield from payouts(company_id, currency)
    if debits:
        yield from payables(company_id, currency)
        yield from payments_out(company_id, currency)


def open_ones(company_id: int, kind: str, ids: list[int]) -> dict[int, m.Candidate]:
    """The candidates of ``kind`` with those ids that are still open for the company."""
    wanted = set(ids)
    source = {
        m.RECEIVABLE: receivables, m.PAYABLE: payables, m.PAYMENT_IN: payments_in,
        m.PAYMENT_OUT: payments_out, m.PAYOUT: payouts,
    }[kind]
    if kind in (m.RECEIVABLE, m.PAYABLE):
        return _invoices_by_id(company_id, kind, wanted)
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

