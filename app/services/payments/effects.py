"""What a payment's change tells people and machines, in one place: both companies' open
pages (Socket.IO, after commit), the bell and e-mail per preference, the payee's ERP
(outbound webhooks ``payment.succeeded``, ``payment.failed``, ``payment.refunded`` carrying the
remittance advice: which invoices, how much, the gateway's and the payer's references)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app import realtime
from app.db import after_commit
from app.extensions import db
from app.humanize import money
from app.models.document import Document
from app.models.payment import CONFIRMED, FAILED, NEEDS_REVIEW, Payment, PaymentAllocation, Refund
from app.models.webhook import PAYMENT_FAILED, PAYMENT_REFUNDED, PAYMENT_SUCCEEDED
from app.services import notifications, webhooks
from app.tenancy import unscoped


def changed(payment: Payment) -> None:
    """Tell both companies' open pages (and a pay-link page) that the payment moved."""
    payload = {"id": payment.id, "status": payment.status}
    companies = {payment.payee_company_id, payment.payer_company_id} - {None}
    documents = [a.document_id for a in _allocations(payment.id)]

    def emit() -> None:
        for company_id in companies:
            realtime.notify_company(company_id, "payment:changed", payload)  # type: ignore[arg-type]
            for document_id in documents:
                realtime.notify_company(
                    company_id,  # type: ignore[arg-type]
                    "document:changed",
                    {"id": document_id, "payment": payment.status},
                )

    after_commit(db.session(), emit)


def _allocations(payment_id: int) -> list[PaymentAllocation]:
    return list(
        db.session.scalars(
            unscoped(
                select(PaymentAllocation)
                .where(PaymentAllocation.payment_id == payment_id)
                .order_by(PaymentAllocation.id)
            )
        )
    )


def remittance(payment: Payment) -> dict[str, Any]:
    """The payment as the payee's ERP reads it: what reconciliation will match on."""
    rows = _allocations(payment.id)
    numbers = dict(
        db.session.execute(
            unscoped(
                select(Document.id, Document.number).where(
                    Document.id.in_([a.document_id for a in rows])
                )
            )
        ).all()
    )
    return {
        "id": payment.id,
        "status": payment.status,
        "method": payment.method,
        "amount": str(payment.amount),
        "currency": payment.currency,
        "confirmed_amount": None
        if payment.confirmed_amount is None
        else str(payment.confirmed_amount),
        "refunded_amount": str(payment.refunded_amount),
        "fee": None if payment.fee is None else str(payment.fee),
        "payer_company_id": payment.payer_company_id,
        "payer_name": payment.payer_name,
        "gateway_reference": payment.gateway_reference,
        "payer_reference": payment.payer_reference or None,
        "succeeded_at": payment.succeeded_at.isoformat() if payment.succeeded_at else None,
        "allocations": [
            {
                "document_id": a.document_id,
                "number": numbers.get(a.document_id, ""),
                "amount": str(a.amount),
                "refunded_amount": str(a.refunded_amount),
            }
            for a in rows
        ],
    }


def _params(payment: Payment, amount: Any = None) -> dict[str, Any]:
    return {
        "payment_id": payment.id,
        "amount": money(
            payment.amount if amount is None else amount, payment.currency, locale="es"
        ),
        "amount_value": str(payment.amount if amount is None else amount),
        "currency": payment.currency,
        "payer": payment.payer_name,
        "company": payment.payer_name,
    }


def settled(payment: Payment) -> None:
    """The payment reached succeeded, failed or needs review: tell everyone who should know."""
    changed(payment)
    if payment.status in CONFIRMED:
        notifications.notify(
            payment.payee_company_id, kind=notifications.PAYMENT_RECEIVED, **_params(payment)
        )
        webhooks.enqueue(payment.payee_company_id, PAYMENT_SUCCEEDED, remittance(payment))
    elif payment.status in (FAILED, NEEDS_REVIEW) and payment.payer_company_id is not None:
        notifications.notify(
            payment.payer_company_id, kind=notifications.PAYMENT_FAILED, **_params(payment)
        )
        webhooks.enqueue(payment.payee_company_id, PAYMENT_FAILED, remittance(payment))


def refunded(payment: Payment, refund: Refund) -> None:
    changed(payment)
    if payment.payer_company_id is not None:
        notifications.notify(
            payment.payer_company_id,
            kind=notifications.PAYMENT_REFUNDED,
            **_params(payment, refund.amount),
        )
    data = remittance(payment) | {"refund": {"id": refund.id, "amount": str(refund.amount)}}
    webhooks.enqueue(payment.payee_company_id, PAYMENT_REFUNDED, data)


def transfer_recorded(payment: Payment) -> None:
    notifications.notify(
        payment.payee_company_id, kind=notifications.TRANSFER_RECORDED, **_params(payment)
    )
