"""Reading payments: lists (Selects to filter and page), one payment, an invoice's payments,
a payment by its access token (the pay-link pages), and the signed pay links themselves."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import Select, or_, select

from app.extensions import db
from app.models.document import Document
from app.models.payment import Payment, PaymentAllocation, Refund
from app.services.errors import DomainError, NotFound
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
) -> Select[tuple[Payment]]:
    stmt = select(Payment).where(
        or_(Payment.payee_company_id == company_id, Payment.payer_company_id == company_id)
    )
    if side == "received":
        stmt = stmt.where(Payment.payee_company_id == company_id)
    elif side == "sent":
        stmt = stmt.where(Payment.payer_company_id == company_id)
    if status:
        stmt = stmt.where(Payment.status == status)
    if counterparty_id:
        stmt = stmt.where(
            or_(
                Payment.payee_company_id == counterparty_id,
                Payment.payer_company_id == counterparty_id,
            )
        )
    if since:
        stmt = stmt.where(Payment.created_at >= dt.datetime.combine(since, dt.time(), dt.UTC))
    if until:
        stmt = stmt.where(
            Payment.created_at
            < dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), dt.UTC)
        )
    return stmt.order_by(Payment.created_at.desc(), Payment.id.desc())


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
