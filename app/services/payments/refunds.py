"""Refunds by the supplier through the gateway that took the money; refunds the gateway tells
about (made from its dashboard, or the portal's own heard back) applied exactly once.

A refund lowers the payment's allocations last first and raises each invoice's open balance
(``balances.uncredit``). The gateway's running total (``refunded_total``) decides: what the
portal already applied is never applied again.
"""

from __future__ import annotations

import secrets
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.gateways import base as gw
from app.models.base import utcnow
from app.models.payment import (
    CONFIRMED,
    DISPUTED,
    PARTIALLY_REFUNDED,
    REFUNDED,
    TRANSFER,
    GatewayConnection,
    Payment,
    Refund,
)
from app.models.user import User
from app.services import audit
from app.services.errors import Conflict, DomainError, FieldErrors, NotFound
from app.services.payments import balances, connections, effects, state

_ZERO = Decimal("0")


def refundable(payment: Payment) -> Decimal:
    if payment.status not in CONFIRMED or payment.status == DISPUTED:
        return _ZERO
    return max((payment.confirmed_amount or payment.amount) - payment.refunded_amount, _ZERO)


def refund_payment(
    payee_company_id: int,
    *,
    payment_id: int,
    amount: Decimal | None,
    reason: str,
    actor: User | None,
    idempotency_key: str | None = None,
) -> Refund:
    """Give back all or part of a payment through its gateway (a transfer is refunded outside
    the portal and recorded here)."""
    payment = db.session.scalars(
        select(Payment).where(
            Payment.id == payment_id, Payment.payee_company_id == payee_company_id
        )
    ).first()
    if payment is None:
        raise NotFound(_l("No such payment."))
    key = (idempotency_key or secrets.token_urlsafe(16))[:80]
    existing = db.session.scalars(
        select(Refund).where(Refund.payment_id == payment.id, Refund.idempotency_key == key)
    ).first()
    if existing is not None:
        return existing
    left = refundable(payment)
    if left <= 0:
        raise Conflict(_l("Nothing of this payment can be refunded."))
    amount = left if amount is None else amount
    if amount <= 0 or amount > left:
        raise FieldErrors(
            {
                "amount": [
                    _l(
                        "Refund more than zero and at most %(left)s.",
                        left=f"{left} {payment.currency}",
                    )
                ]
            }
        )
    refund = Refund(
        payment_id=payment.id,
        payee_company_id=payment.payee_company_id,
        payer_company_id=payment.payer_company_id,
        amount=amount,
        currency=payment.currency,
        reason=(reason or "")[:500],
        idempotency_key=key,
        created_by_user_id=actor.id if actor else None,
    )
    db.session.add(refund)
    db.session.flush()
    if payment.method == TRANSFER:
        refund.status = "succeeded"
    else:
        connection = db.session.get(GatewayConnection, payment.connection_id)
        if connection is None:
            raise DomainError(_l("The gateway that took this payment is no longer connected."))
        try:
            result = connections.adapter_for(connection).refund(
                gw.RefundRequest(
                    gateway_reference=payment.gateway_reference or "",
                    amount=amount,
                    currency=payment.currency,
                    idempotency_key=f"refund-{payment.id}-{key}",
                    reason=refund.reason,
                )
            )
        except gw.GatewayError as error:
            raise DomainError(
                _l("The gateway refused the refund: %(reason)s", reason=str(error))
            ) from error
        refund.gateway_reference = result.refund_reference
        refund.status = result.status
    if refund.status == "succeeded":
        _apply(payment, refund)
    audit.record_event(
        actor,
        payee_company_id,
        "payments.refunded",
        ("payment", payment.id),
        {"amount": str(amount), "currency": payment.currency, "refund": refund.id},
    )
    return refund


def _apply(payment: Payment, refund: Refund) -> None:
    """Lower the allocations (last first) and raise the invoices' balances by the refund."""
    remaining = refund.amount
    spread: dict[str, str] = {}
    for allocation in reversed(state.allocations(payment.id)):
        if remaining <= 0:
            break
        part = min(allocation.amount - allocation.refunded_amount, remaining)
        if part <= 0:
            continue
        if balances.uncredit(allocation.document_id, part):
            allocation.refunded_amount += part
            spread[str(allocation.document_id)] = str(part)
            remaining -= part
    refund.allocations = spread
    refund.status = "succeeded"
    refund.succeeded_at = utcnow()
    total = payment.refunded_amount + refund.amount
    to = REFUNDED if total >= (payment.confirmed_amount or payment.amount) else PARTIALLY_REFUNDED
    state.move(payment, to, refunded_amount=total)
    db.session.flush()
    effects.refunded(payment, refund)


def refund_heard(payment: Payment, event: gw.GatewayEvent) -> bool:
    """A refund the gateway reports: the portal's own (found by its reference) is completed if
    still pending; one made elsewhere is recorded; what was applied is never applied again."""
    if event.refund_reference:
        mine = db.session.scalars(
            select(Refund).where(
                Refund.payment_id == payment.id, Refund.gateway_reference == event.refund_reference
            )
        ).first()
        if mine is not None:
            if mine.status == "succeeded":
                return False
            _apply(payment, mine)
            return True
    total = event.refunded_total if event.refunded_total is not None else event.amount
    if total is None:
        return False
    extra = total - payment.refunded_amount
    if extra <= 0 or payment.status not in CONFIRMED:
        return False
    refund = Refund(
        payment_id=payment.id,
        payee_company_id=payment.payee_company_id,
        payer_company_id=payment.payer_company_id,
        amount=min(extra, refundable(payment) or extra),
        currency=payment.currency,
        reason="refunded at the gateway",
        gateway_reference=event.refund_reference,
        idempotency_key=f"heard-{event.event_id}"[:80],
    )
    db.session.add(refund)
    db.session.flush()
    _apply(payment, refund)
    audit.record_event(
        "gateway",
        payment.payee_company_id,
        "payments.refunded",
        ("payment", payment.id),
        {"amount": str(refund.amount), "currency": payment.currency, "refund": refund.id},
    )
    return True
