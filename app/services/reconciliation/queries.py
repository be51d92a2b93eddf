"""Reading reconciliation: a bank account's lines with their running balance, the review queue,
what a match settles in words a person reads, and the reconciliation status of payments and
invoices (matched, suggested, unmatched)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import CompoundSelect, Select, func, or_, select

from app.extensions import db
from app.matching import model as m
from app.models.document import Document
from app.models.payment import Payment, PaymentAllocation
from app.models.reconciliation import (
    MATCH_CONFIRMED,
    MATCH_SUGGESTED,
    SUGGESTED,
    UNMATCHED,
    BankLine,
    GatewayPayout,
    GatewayPayoutLine,
    Match,
    MatchItem,
    StatementImport,
)
from app.services.reconciliation.candidates import payment_reference
from app.tenancy import unscoped

# A payment's or invoice's reconciliation status.
RECONCILED, SUGGESTED_STATUS, NOT_RECONCILED = "matched", "suggested", "unmatched"


@dataclass
class LineFilters:
    status: str | None = None  # unmatched | suggested | matched | ignored
    q: str = ""
    since: dt.date | None = None
    until: dt.date | None = None
    direction: str | None = None  # credit | debit


def lines(company_id: int, account_id: int | None, filters: LineFilters | None = None
          ) -> Select[tuple[BankLine]]:
    """The lines of one bank account (None: of every account), newest first."""
    f = filters or LineFilters()
    stmt = select(BankLine).where(BankLine.company_id == company_id)
    if account_id is not None:
        stmt = stmt.where(BankLine.bank_account_id == account_id)
    if f.status:
        stmt = stmt.where(BankLine.status == f.status)
    if f.since:
        stmt = stmt.where(BankLine.booking_date >= f.since)
    if f.until:
        stmt = stmt.where(BankLine.booking_date <= f.until)
    if f.direction == "credit":
        stmt = stmt.where(BankLine.amount > 0)
    elif f.direction == "debit":
        stmt = stmt.where(BankLine.amount < 0)
    if f.q:
        like = f"%{f.q.strip()[:100]}%"
        stmt = stmt.where(or_(BankLine.reference.ilike(like), BankLine.description.ilike(like),
                              BankLine.counterparty_name.ilike(like),
                              BankLine.end_to_end_id.ilike(like)))
    return stmt.order_by(BankLine.booking_date.desc(), BankLine.id.desc())


def opening_balance(company_id: int, account_id: int) -> Decimal:
    """The opening balance of the account's earliest imported statement (0 when unknown)."""
    first = db.session.execute(
        select(StatementImport.opening_balance)
        .where(StatementImport.company_id == company_id,
               StatementImport.bank_account_id == account_id,
               StatementImport.opening_balance.is_not(None))
        .order_by(StatementImport.start_date.asc().nulls_last(), StatementImport.id)
        .limit(1)
    ).scalar()
    return first if first is not None else Decimal("0")


def running_balances(company_id: int, account_id: int, line_ids: Sequence[int]
                     ) -> dict[int, Decimal]:
    """The account's balance after each of those lines (date order, then id)."""
    if not line_ids:
        return {}
    window = func.sum(BankLine.amount).over(order_by=(BankLine.booking_date, BankLine.id))
    inner = (
        select(BankLine.id.label("id"), window.label("balance"))
        .where(BankLine.company_id == company_id, BankLine.bank_account_id == account_id)
        .subquery()
    )
    base = opening_balance(company_id, account_id)
    rows = db.session.execute(select(inner.c.id, inner.c.balance)
                              .where(inner.c.id.in_(list(line_ids))))
    return {id_: base + Decimal(str(balance)) for id_, balance in rows}


def imports(company_id: int, account_id: int, limit: int = 20) -> list[StatementImport]:
    return list(db.session.scalars(
        select(StatementImport)
        .where(StatementImport.company_id == company_id,
               StatementImport.bank_account_id == account_id)
        .order_by(StatementImport.created_at.desc(), StatementImport.id.desc()).limit(limit)
    ))


def import_of(company_id: int, import_id: int) -> StatementImport | None:
    return db.session.scalars(
        select(StatementImport).where(
            StatementImport.id == import_id, StatementImport.company_id == company_id
        )
    ).first()


def review_queue(company_id: int, account_id: int | None = None) -> Select[tuple[BankLine]]:
    stmt = select(BankLine).where(
        BankLine.company_id == company_id, BankLine.status.in_((SUGGESTED, UNMATCHED))
    )
    if account_id:
        stmt = stmt.where(BankLine.bank_account_id == account_id)
    return stmt.order_by(BankLine.booking_date.desc(), BankLine.id.desc())


def counts(company_id: int) -> dict[str, int]:
    rows = db.session.execute(
        select(BankLine.status, func.count(BankLine.id))
        .where(BankLine.company_id == company_id).group_by(BankLine.status)
    )
    return {status: int(n) for status, n in rows}


@dataclass
class ItemView:
    kind: str
    amount: Decimal
    label: str  # "FE-1234 · Acme S.A.S." / "PAY-000012" / "po_… (Sandbox)"
    currency: str = ""
    document_id: int | None = None
    payment_id: int | None = None
    payout_id: int | None = None


@dataclass
class MatchView:
    match: Match
    items: list[ItemView] = field(default_factory=list)


def match_views(company_id: int, matches: Sequence[Match]) -> list[MatchView]:
    """Matches with what they settle named for people (numbers, partners, references)."""
    if not matches:
        return []
    ids = [x.id for x in matches]
    items = list(db.session.scalars(
        select(MatchItem).where(MatchItem.match_id.in_(ids)).order_by(MatchItem.id)
    ))
    doc_ids = {i.document_id for i in items if i.document_id}
    pay_ids = {i.payment_id for i in items if i.payment_id}
    payout_ids = {i.payout_id for i in items if i.payout_id}
    docs = {d.id: d for d in db.session.scalars(
        select(Document).where(Document.id.in_(doc_ids)))} if doc_ids else {}
    pays = {p.id: p for p in db.session.scalars(
        unscoped(select(Payment).where(Payment.id.in_(pay_ids))))} if pay_ids else {}
    payouts = {p.id: p for p in db.session.scalars(
        select(GatewayPayout).where(GatewayPayout.id.in_(payout_ids)))} if payout_ids else {}
    by_match: dict[int, list[ItemView]] = {i: [] for i in ids}
    for item in items:
        by_match[item.match_id].append(_item_view(company_id, item, docs, pays, payouts))
    return [MatchView(match=x, items=by_match[x.id]) for x in matches]


def _item_view(company_id: int, item: MatchItem, docs: dict[int, Document],
               pays: dict[int, Payment], payouts: dict[int, GatewayPayout]) -> ItemView:
    view = ItemView(kind=item.kind, amount=item.amount, label="", document_id=item.document_id,
                    payment_id=item.payment_id, payout_id=item.payout_id)
    if item.kind in (m.RECEIVABLE, m.PAYABLE) and item.document_id in docs:
        doc = docs[item.document_id]
        partner = doc.customer_name if item.kind == m.RECEIVABLE else doc.supplier_name
        view.label, view.currency = f"{doc.number} · {partner}", doc.currency
    elif item.payment_id in pays:
        pay = pays[item.payment_id]
        view.label = payment_reference(pay.id)
        if pay.payer_name and pay.payee_company_id == company_id:
            view.label += f" · {pay.payer_name}"
        view.currency = pay.currency
    elif item.payout_id in payouts:
        payout = payouts[item.payout_id]
        view.label, view.currency = payout.settlement_id, payout.currency
    return view


def line_matches(company_id: int, line_id: int, *, status: str | None = None) -> list[MatchView]:
    stmt = select(Match).where(Match.company_id == company_id, Match.bank_line_id == line_id)
    if status:
        stmt = stmt.where(Match.status == status)
    rows = list(db.session.scalars(stmt.order_by(Match.score.desc(), Match.id)))
    return match_views(company_id, rows)


def suggestions_for_lines(company_id: int, line_ids: Sequence[int]) -> dict[int, list[MatchView]]:
    if not line_ids:
        return {}
    rows = list(db.session.scalars(
        select(Match)
        .where(Match.company_id == company_id, Match.bank_line_id.in_(list(line_ids)),
               Match.status.in_((MATCH_SUGGESTED, MATCH_CONFIRMED)))
        .order_by(Match.score.desc(), Match.id)
    ))
    out: dict[int, list[MatchView]] = {i: [] for i in line_ids}
    for view in match_views(company_id, rows):
        out[view.match.bank_line_id].append(view)
    return out


def payment_statuses(company_id: int, payment_ids: Sequence[int]) -> dict[int, str]:
    """Per payment, from this company's side: matched (a confirmed match holds it, directly or
    through its gateway payout), suggested, or unmatched."""
    status = {i: NOT_RECONCILED for i in payment_ids}
    if not payment_ids:
        return status
    ids = list(payment_ids)
    direct = db.session.execute(
        select(MatchItem.payment_id, Match.status)
        .join(Match, Match.id == MatchItem.match_id)
        .where(MatchItem.company_id == company_id, MatchItem.payment_id.in_(ids),
               Match.status.in_((MATCH_SUGGESTED, MATCH_CONFIRMED)))
    )
    via_payout = db.session.execute(
        select(GatewayPayoutLine.payment_id, Match.status)
        .join(MatchItem, MatchItem.payout_id == GatewayPayoutLine.payout_id)
        .join(Match, Match.id == MatchItem.match_id)
        .where(GatewayPayoutLine.company_id == company_id,
               GatewayPayoutLine.payment_id.in_(ids),
               Match.status.in_((MATCH_SUGGESTED, MATCH_CONFIRMED)))
    )
    for payment_id, match_status in [*direct, *via_payout]:
        if match_status == MATCH_CONFIRMED:
            status[payment_id] = RECONCILED
        elif status[payment_id] != RECONCILED:
            status[payment_id] = SUGGESTED_STATUS
    return status


def payment_ids_held(company_id: int, *, confirmed_only: bool) -> CompoundSelect:
    """The ids of the payments a match of the company holds (directly or through its gateway
    payout): confirmed ones only, or confirmed and suggested — what payment_statuses reads,
    as a select a list narrows by (matched: in the confirmed; suggested: in the held, not in
    the confirmed; unmatched: not in the held)."""
    statuses = (MATCH_CONFIRMED,) if confirmed_only else (MATCH_SUGGESTED, MATCH_CONFIRMED)
    direct = (
        select(MatchItem.payment_id)
        .join(Match, Match.id == MatchItem.match_id)
        .where(MatchItem.company_id == company_id, MatchItem.payment_id.is_not(None),
               Match.status.in_(statuses))
    )
    via_payout = (
        select(GatewayPayoutLine.payment_id)
        .join(MatchItem, MatchItem.payout_id == GatewayPayoutLine.payout_id)
        .join(Match, Match.id == MatchItem.match_id)
        .where(GatewayPayoutLine.company_id == company_id,
               GatewayPayoutLine.payment_id.is_not(None), Match.status.in_(statuses))
    )
    return direct.union(via_payout)


def document_statuses(company_id: int, document_ids: Sequence[int]) -> dict[int, str]:
    """Per invoice: matched when every payment on it is matched, suggested when one is at least
    suggested (or the invoice itself is in a suggestion), else unmatched."""
    status = {i: NOT_RECONCILED for i in document_ids}
    if not document_ids:
        return status
    ids = list(document_ids)
    pays = db.session.execute(unscoped(
        select(PaymentAllocation.document_id, PaymentAllocation.payment_id)
        .join(Payment, Payment.id == PaymentAllocation.payment_id)
        .where(PaymentAllocation.document_id.in_(ids),
               or_(Payment.payee_company_id == company_id,
                   Payment.payer_company_id == company_id),
               Payment.status.in_(("succeeded", "partially_refunded", "disputed")))
    )).all()
    per_payment = payment_statuses(company_id, list({p for _d, p in pays}))
    by_doc: dict[int, list[str]] = {}
    for document_id, payment_id in pays:
        by_doc.setdefault(document_id, []).append(per_payment[payment_id])
    for document_id, states in by_doc.items():
        if all(s == RECONCILED for s in states):
            status[document_id] = RECONCILED
        elif any(s != NOT_RECONCILED for s in states):
            status[document_id] = SUGGESTED_STATUS
    suggested = db.session.scalars(
        select(MatchItem.document_id).join(Match, Match.id == MatchItem.match_id)
        .where(MatchItem.company_id == company_id, MatchItem.document_id.in_(ids),
               Match.status == MATCH_SUGGESTED)
    )
    for document_id in suggested:
        if status.get(document_id) == NOT_RECONCILED:
            status[document_id] = SUGGESTED_STATUS
    return status


@dataclass
class ChainLink:
    payment: Payment
    payout: GatewayPayout | None
    lines: list[BankLine]


def document_chain(company_id: int, document_id: int) -> list[ChainLink]:
    """From an invoice: its payments, each one's payout (gateway payments), and the bank lines
    confirmed against the payment or the payout — the whole chain."""
    pays = list(db.session.scalars(unscoped(
        select(Payment).join(PaymentAllocation, PaymentAllocation.payment_id == Payment.id)
        .where(PaymentAllocation.document_id == document_id,
               or_(Payment.payee_company_id == company_id,
                   Payment.payer_company_id == company_id))
        .order_by(Payment.created_at)
    )))
    chain = []
    for pay in pays:
        payout = db.session.scalars(
            select(GatewayPayout).join(GatewayPayoutLine,
                                       GatewayPayoutLine.payout_id == GatewayPayout.id)
            .where(GatewayPayoutLine.payment_id == pay.id,
                   GatewayPayout.company_id == company_id)
        ).first()
        targets = [MatchItem.payment_id == pay.id]
        if payout is not None:
            targets.append(MatchItem.payout_id == payout.id)
        lines_ = list(db.session.scalars(
            select(BankLine).join(Match, Match.bank_line_id == BankLine.id)
            .join(MatchItem, MatchItem.match_id == Match.id)
            .where(BankLine.company_id == company_id, Match.status == MATCH_CONFIRMED,
                   or_(*targets)).distinct()
        ))
        chain.append(ChainLink(payment=pay, payout=payout, lines=lines_))
    return chain


def account_counts(company_id: int) -> dict[int, dict[str, int]]:
    """Per bank account, how many of its lines are in each status (the accounts page)."""
    found: dict[int, dict[str, int]] = {}
    rows = db.session.execute(
        select(BankLine.bank_account_id, BankLine.status, func.count(BankLine.id))
        .where(BankLine.company_id == company_id)
        .group_by(BankLine.bank_account_id, BankLine.status)
    )
    for account_id, status, n in rows:
        found.setdefault(account_id, {})[status] = int(n)
    return found
