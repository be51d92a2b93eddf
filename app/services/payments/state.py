"""The payment's state machine: transitions only move forward, each one conditional.

created → pending → succeeded | failed | canceled | needs_review;
awaiting_confirmation (a transfer) → succeeded | failed | canceled;
succeeded → partially_refunded → refunded; succeeded → disputed; succeeded → reversed (a
payment recorded from a bank line, undone in reconciliation: ``reverse``).
A late "pending" after "succeeded" changes nothing: ``move`` answers False and the caller
ignores the event.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select, update

from app.db import begin_nested
from app.extensions import db
from app.models.base import utcnow
from app.models.payment import (
    AWAITING_CONFIRMATION,
    CANCELED,
    CREATED,
    DISPUTED,
    FAILED,
    HOLDING,
    NEEDS_REVIEW,
    PARTIALLY_REFUNDED,
    PENDING,
    REFUNDED,
    REVERSED,
    SUCCEEDED,
    Payment,
    PaymentAllocation,
)
from app.services.payments import balances
from app.tenancy import unscoped

#: For each status, the statuses a payment may come from.
FROM: dict[str, tuple[str, ...]] = {
    PENDING: (CREATED,),
    # A checkout the portal gave up on (abandoned, then replaced) may still be paid at the
    # gateway: the money is real, so it is credited if the invoice is still open, else reviewed.
    SUCCEEDED: (CREATED, PENDING, AWAITING_CONFIRMATION, CANCELED),
    FAILED: (CREATED, PENDING, AWAITING_CONFIRMATION),
    CANCELED: (CREATED, PENDING, AWAITING_CONFIRMATION),
    NEEDS_REVIEW: (CREATED, PENDING, AWAITING_CONFIRMATION, CANCELED),
    PARTIALLY_REFUNDED: (SUCCEEDED, PARTIALLY_REFUNDED, DISPUTED),
    REFUNDED: (SUCCEEDED, PARTIALLY_REFUNDED, DISPUTED),
    DISPUTED: (SUCCEEDED, PARTIALLY_REFUNDED),
    REVERSED: (SUCCEEDED,),
}
FINAL = (FAILED, NEEDS_REVIEW, REFUNDED)


def move(payment: Payment, to: str, **values: object) -> bool:
    """Move the payment to ``to`` if its current status allows it (one conditional UPDATE);
    False when another process got there first or the move would go backwards."""
    now = utcnow()
    extra = dict(values)
    if to == SUCCEEDED:
        extra.setdefault("succeeded_at", now)
    result = db.session.execute(
        update(Payment)
        .where(Payment.id == payment.id, Payment.status.in_(FROM[to]))
        .values(status=to, updated_at=now, **extra)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    db.session.refresh(payment)
    return True


def allocations(payment_id: int) -> list[PaymentAllocation]:
    """A payment's allocations (read across companies: the caller already holds the payment,
    found by its payee, its payer, a job or a gateway's event)."""
    return list(
        db.session.scalars(
            unscoped(
                select(PaymentAllocation)
                .where(PaymentAllocation.payment_id == payment_id)
                .order_by(PaymentAllocation.id)
            )
        )
    )


def release_holds(payment: Payment) -> None:
    """A payment that will not be credited gives its holds back."""
    for allocation in allocations(payment.id):
        balances.release(allocation.document_id, allocation.amount)


def fail(payment: Payment, to: str = FAILED, *, reason: str = "") -> bool:
    """failed / canceled / needs_review: the holds go back; nothing was credited."""
    was_holding = payment.status in HOLDING
    values: dict[str, object] = {"review_reason": reason[:200]} if reason else {}
    if not move(payment, to, **values):
        return False
    if was_holding:
        release_holds(payment)
    return True


def succeed(payment: Payment, *, confirmed: Decimal) -> str | None:
    """Credit every allocation, all or none; the status reached, or None if the payment had
    already left the states that can succeed.

    When an invoice no longer has the balance (a credit note covered it meanwhile) nothing is
    credited and the payment needs review: the money is real, a person decides (refund it).
    """
    was_holding = payment.status in HOLDING
    if not move(payment, SUCCEEDED, confirmed_amount=confirmed):
        return None
    rows = allocations(payment.id)
    savepoint = begin_nested(db.session())
    for allocation in rows:
        if not balances.credit(
            allocation.document_id,
            allocation.amount,
            discount=allocation.discount,
            held=was_holding,
        ):
            savepoint.rollback()
            db.session.execute(
                update(Payment)
                .where(Payment.id == payment.id)
                .values(
                    status=NEEDS_REVIEW,
                    review_reason="an invoice no longer had this open balance",
                )
                .execution_options(synchronize_session=False)
            )
            db.session.refresh(payment)
            if was_holding:
                release_holds(payment)
            return NEEDS_REVIEW
    savepoint.commit()
    return SUCCEEDED
