"""Reading payments: lists (Selects to filter and page), one payment, an invoice's payments,
a payment by its access token (the pay-link pages), and the signed pay links themselves."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import Select, case, or_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import SelectBase

from app.extensions import db
from app.humanize import day_start
from app.models.document import Document
from app.models.payment import Payment, PaymentAllocation, Refund
from app.services.errors import DomainError, NotFound
from app.taxids import search_digits
from app.tenancy import unscoped

#: A pay link works this long after it was made (the invoice e-mail's, the document page's).
PAY_LINK_DAYS = 45


def payments(
    company_id: int,
    *,
    status: str | None = None,
    counterparty_id: int | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    side: str | None = None,  # "received" (as payee) or "sent" (as payer)
    tax_id: str = "",
    document_type: str | None = None,
    method: str | None = None,
    payment_id: int | None = None,
    within: SelectBase | None = None,
    without: SelectBase | None = None,
    zone: str = "UTC",
) -> Select[tuple[Payment]]:
    """The company's payments, newest first, narrowed by each filter given.

    since / until: calendar days in ``zone`` (the reader's time zone: a payment made at 8 p.m.
    in Bogotá on the 1st is the 1st's, though it is the 2nd in UTC).
    tax_id: the counterparty's tax id or its first characters (as the company is registered,
    or as the invoices paid name it, for a payer not on the network); document_type: a payment
    allocated to at least one document of that type; within / without: a select of payment ids
    the payment must (not) be among (how an upper layer narrows by what it knows).
    """
    stmt = select(Payment).where(
        or_(Payment.payee_company_id == company_id, Payment.payer_company_id == company_id)
    )
    if side == "received":
        stmt = stmt.where(Payment.payee_company_id == company_id)
    elif side == "sent":
        stmt = stmt.where(Payment.payer_company_id == company_id)
    if status:
        stmt = stmt.where(Payment.status == status)
    if method:
        stmt = stmt.where(Payment.method == method)
    if payment_id is not None:
        stmt = stmt.where(Payment.id == payment_id)
    if counterparty_id:
        stmt = stmt.where(
            or_(
                Payment.payee_company_id == counterparty_id,
                Payment.payer_company_id == counterparty_id,
            )
        )
    digits = search_digits(tax_id or "")[:40]
    if digits:
        stmt = stmt.where(_counterparty_tax_id(company_id, digits))
    if document_type:
        stmt = stmt.where(
            select(PaymentAllocation.id)
            .join(Document, Document.id == PaymentAllocation.document_id)
            .where(
                PaymentAllocation.payment_id == Payment.id,
                Document.document_type == document_type,
            )
            .exists()
        )
    if within is not None:
        stmt = stmt.where(Payment.id.in_(within))
    if without is not None:
        stmt = stmt.where(Payment.id.not_in(without))
    if since:
        stmt = stmt.where(Payment.created_at >= day_start(since, zone))
    if until:
        stmt = stmt.where(Payment.created_at < day_start(until + dt.timedelta(days=1), zone))
    return stmt.order_by(Payment.created_at.desc(), Payment.id.desc())


def _counterparty_tax_id(company_id: int, digits: str) -> ColumnElement[bool]:
    """The other party's tax id starts with digits: its company's, or the one its invoices
    carry (a payer by link has no company)."""
    from app.models.company import Company

    payer_is_other = Payment.payee_company_id == company_id
    other_id = case(
        (payer_is_other, Payment.payer_company_id), else_=Payment.payee_company_id
    )
    company_match = (
        select(Company.id)
        .where(Company.id == other_id, Company.tax_id.startswith(digits, autoescape=True))
        .exists()
    )
    on_documents = (
        select(PaymentAllocation.id)
        .join(Document, Document.id == PaymentAllocation.document_id)
        .where(
            PaymentAllocation.payment_id == Payment.id,
            case(
                (payer_is_other, Document.customer_tax_id), else_=Document.supplier_tax_id
            ).startswith(digits, autoescape=True),
        )
        .exists()
    )
    return or_(company_match, on_documents)


def get_payment(company_id: int, payment_id: int) -> Payment:
    payment = db.session.scalars(
        select(Payment)
        .where(
            Payment.id == payment_id,
            or_(Payment.payee_company_id == company_id, Payment.payer_company_id == company_id),
        )
        .execution_options(populate_existing=True)
    ).first()
    if payment is None:
        raise NotFound(_l("No such payment."))
    return payment


def by_access_token(token: str) -> Payment:
    """A payment found by its access token (the pay-link payer has no account)."""
    payment = db.session.scalars(
        unscoped(
            select(Payment).where(Payment.access_token == (token or "")[:64])
        ).execution_options(populate_existing=True)
    ).first()
    if payment is None or not token:
        raise NotFound(_l("No such payment."))
    return payment


def allocations(payment_id: int) -> list[tuple[PaymentAllocation, Document]]:
    """The payment's allocations with their documents (read across companies: the payment
    was already found by its payee, payer or access token)."""
    return list(
        db.session.execute(
            unscoped(
                select(PaymentAllocation, Document)
                .join(Document, Document.id == PaymentAllocation.document_id)
                .where(PaymentAllocation.payment_id == payment_id)
                .order_by(PaymentAllocation.id)
            )
        )
    )


def refunds_of(payment_id: int) -> list[Refund]:
    return list(
        db.session.scalars(
            unscoped(select(Refund).where(Refund.payment_id == payment_id).order_by(Refund.id))
        )
    )


def document_payments(company_id: int, document_id: int) -> list[tuple[Payment, PaymentAllocation]]:
    """An invoice's payments as one of its two companies sees them (newest first)."""
    return list(
        db.session.execute(
            select(Payment, PaymentAllocation)
            .join(PaymentAllocation, PaymentAllocation.payment_id == Payment.id)
            .where(
                PaymentAllocation.document_id == document_id,
                or_(
                    Payment.payee_company_id == company_id,
                    Payment.payer_company_id == company_id,
                ),
            )
            .order_by(Payment.created_at.desc())
        )
    )


# -------------------------------------------------------------------------------- pay links


def customer_open_invoices(supplier_company_id: int, document: Document) -> list[int]:
    """The ids of every invoice and debit note the supplier sent the same customer (by its
    country and tax id, on the network or not) with something still open: a statement's pay
    link pays them together (at most 100, oldest first)."""
    return list(
        db.session.scalars(
            select(Document.id)
            .where(
                Document.sender_company_id == supplier_company_id,
                Document.customer_country == document.customer_country,
                Document.customer_tax_id == document.customer_tax_id,
                Document.document_type.in_(("Invoice", "DebitNote")),
                Document.currency == document.currency,
                Document.open_balance - Document.held_amount > 0,
            )
            .order_by(Document.issue_date, Document.id)
            .limit(100)
        )
    )


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="portal.pay-link.v1")


def pay_link_token(document_ids: Sequence[int]) -> str:
    """A signed token naming the invoices a pay link pays (one, or a statement of several)."""
    return _serializer().dumps({"d": sorted({int(i) for i in document_ids})})


def read_pay_link(token: str) -> list[Document]:
    """The invoices a pay link names, while it is valid; DomainError when it is not."""
    try:
        data = _serializer().loads(token, max_age=PAY_LINK_DAYS * 86400)
    except SignatureExpired:
        raise DomainError(
            _l("This pay link has expired. Ask the supplier for a new one.")
        ) from None
    except BadSignature:
        raise NotFound(_l("This pay link is not valid.")) from None
    ids = [int(i) for i in data.get("d", [])][:100] if isinstance(data, dict) else []
    documents = list(
        db.session.scalars(
            unscoped(select(Document).where(Document.id.in_(ids)).order_by(Document.issue_date))
        )
    )
    if not documents:
        raise NotFound(_l("This pay link is not valid."))
    return documents


def counterparties(company_id: int) -> list[tuple[int, str]]:
    """The companies this one paid or was paid by, (id, legal name) by name: the list filter."""
    from app.models.company import Company

    ids = set()
    for payee_id, payer_id in db.session.execute(
        select(Payment.payee_company_id, Payment.payer_company_id)
        .where(or_(Payment.payee_company_id == company_id, Payment.payer_company_id == company_id))
        .distinct()
        .limit(5000)
    ):
        ids.update({payee_id, payer_id})
    ids -= {None, company_id}
    if not ids:
        return []
    rows = db.session.execute(
        unscoped(select(Company.id, Company.legal_name).where(Company.id.in_(ids)))
    )
    return sorted(((i, name) for i, name in rows), key=lambda row: row[1].lower())


def list_details(company_id: int, payments_: Sequence[Payment]) -> dict[int, tuple[str, int]]:
    """For a page of payments: each one's counterparty name and how many invoices it pays."""
    from sqlalchemy import func

    from app.models.company import Company

    if not payments_:
        return {}
    ids = [p.id for p in payments_]
    counts = dict(
        db.session.execute(
            unscoped(
                select(PaymentAllocation.payment_id, func.count(PaymentAllocation.id))
                .where(PaymentAllocation.payment_id.in_(ids))
                .group_by(PaymentAllocation.payment_id)
            )
        ).all()
    )
    others = {
        p.payer_company_id if p.payee_company_id == company_id else p.payee_company_id
        for p in payments_
    } - {None}
    names = (
        dict(
            db.session.execute(
                unscoped(select(Company.id, Company.legal_name).where(Company.id.in_(others)))
            ).all()
        )
        if others
        else {}
    )
    details = {}
    for p in payments_:
        other = p.payer_company_id if p.payee_company_id == company_id else p.payee_company_id
        name = names.get(other, "") if other else (p.payer_name or p.payer_email or "")
        details[p.id] = (name, int(counts.get(p.id, 0)))
    return details


@dataclass(frozen=True)
class Party:
    """A payment's other party as a list or an export names it, and the invoices it pays."""

    name: str
    country: str
    tax_id: str
    numbers: tuple[str, ...]


def parties(company_id: int, payments_: Sequence[Payment]) -> dict[int, Party]:
    """For a page (or an export) of payments: each one's other party, with its tax id, and the
    numbers of the documents it pays, in allocation order."""
    from app.models.company import Company

    if not payments_:
        return {}
    ids = [p.id for p in payments_]
    numbers: dict[int, list[str]] = {i: [] for i in ids}
    first: dict[int, Document] = {}
    for start in range(0, len(ids), 500):
        for payment_id, document in db.session.execute(
            unscoped(
                select(PaymentAllocation.payment_id, Document)
                .join(Document, Document.id == PaymentAllocation.document_id)
                .where(PaymentAllocation.payment_id.in_(ids[start : start + 500]))
                .order_by(PaymentAllocation.id)
            )
        ):
            numbers[payment_id].append(document.number)
            first.setdefault(payment_id, document)
    others = {_other(company_id, p) for p in payments_} - {None}
    companies = {
        c.id: c
        for c in db.session.scalars(unscoped(select(Company).where(Company.id.in_(others))))
    } if others else {}
    found = {}
    for p in payments_:
        other = companies.get(_other(company_id, p) or 0)
        document = first.get(p.id)
        receiving = p.payee_company_id == company_id
        if other is not None:
            name, country, tax_id = other.legal_name, other.country, other.tax_id
        elif document is not None and receiving:
            name = p.payer_name or document.customer_name or p.payer_email or ""
            country, tax_id = document.customer_country, document.customer_tax_id
        else:
            name, country, tax_id = p.payer_name or p.payer_email or "", "", ""
        found[p.id] = Party(name, country or "", tax_id or "", tuple(numbers[p.id]))
    return found


def _other(company_id: int, payment: Payment) -> int | None:
    if payment.payee_company_id == company_id:
        return payment.payer_company_id
    return payment.payee_company_id
