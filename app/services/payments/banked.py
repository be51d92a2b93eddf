"""Payments first seen on a bank statement: reconciliation found a bank line that pays open
invoices and asks for the payment that closes them (method ``bank``).

One payment serves both companies: the supplier's credit line and the buyer's debit line tie
to the same record, so recording it from either side closes the payer's payable and the
payee's receivable at once. The money moves through ``balances`` like any other payment.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models.document import DEBIT_NOTE, INVOICE, Document
from app.models.payment import (
    AWAITING_CONFIRMATION,
    BANK,
    CONFIRMED,
    CREATED,
    REVERSED,
    SUCCEEDED,
    TRANSFER,
    Payment,
    PaymentAllocation,
)
from app.models.user import User
from app.services import audit
from app.services.errors import Conflict, DomainError, NotFound
from app.services.payments import balances, effects, state
from app.tenancy import unscoped

_ZERO = Decimal("0")


def record_bank_payment(
    company_id: int,
    *,
    allocations: Sequence[tuple[int, Decimal]],
    booked_on: dt.date | None,
    reference: str = "",
    end_to_end_id: str = "",
    fee: Decimal = _ZERO,
    actor: User | None = None,
) -> Payment:
    """Record the payment a bank line shows, for invoices ``company_id`` issued (a credit) or
    received (a debit); each allocation is (document id, amount). All or nothing."""
    if not allocations:
        raise DomainError(_l("Choose at least one invoice."))
    ids = [document_id for document_id, _amount in allocations]
    documents = {
        d.id: d
        for d in db.session.scalars(
            select(Document)
            .where(Document.id.in_(ids))
            .execution_options(populate_existing=True)
        )
    }
    if len(documents) != len(set(ids)):
        raise NotFound(_l("That document does not exist."))
    chosen = [documents[i] for i in ids]
    if any(d.document_type not in (INVOICE, DEBIT_NOTE) for d in chosen):
        raise DomainError(_l("Only invoices and debit notes are paid; credit notes lower them."))
    suppliers = {d.sender_company_id for d in chosen}
    customers = {d.receiver_company_id for d in chosen}
    if len(suppliers) != 1 or len(customers) != 1:
        raise DomainError(_l("One bank line pays invoices between the same two companies."))
    payee, payer = suppliers.pop(), customers.pop()
    if company_id not in (payee, payer):
        raise NotFound(_l("That document does not exist."))
    currencies = {d.currency for d in chosen}
    if len(currencies) != 1:
        raise DomainError(_l("Choose invoices in one currency."))
    total = sum((amount for _i, amount in allocations), _ZERO)
    if total <= 0 or any(amount <= 0 for _i, amount in allocations):
        raise DomainError(_l("Each invoice needs an amount above zero."))
    payment = Payment(
        payee_company_id=payee,
        payer_company_id=payer,
        payer_name=(chosen[0].customer_name or "")[:200],
        method=BANK,
        currency=currencies.pop(),
        amount=total,
        fee=fee if fee else None,
        idempotency_key="bank-" + secrets.token_urlsafe(16),
        access_token=secrets.token_urlsafe(32),
        transfer_date=booked_on,
        payer_reference=(reference or "")[:100],
        end_to_end_id=(end_to_end_id or None) and end_to_end_id[:100],
        created_by_user_id=actor.id if actor else None,
        status=CREATED,
    )
    db.session.add(payment)
    db.session.flush()
    for document, (_id, amount) in zip(chosen, allocations, strict=True):
        if not balances.hold(document.id, amount):
            raise Conflict(
                _l("%(number)s has less open than that: it was paid meanwhile.",
                   number=document.number)
            )
        db.session.add(
            PaymentAllocation(
                payment_id=payment.id,
                document_id=document.id,
                payee_company_id=payee,
                payer_company_id=payer,
                amount=amount,
            )
        )
    db.session.flush()
    if state.succeed(payment, confirmed=total) != SUCCEEDED:
        raise Conflict(_l("These invoices were paid meanwhile: nothing was recorded."))
    audit.record_event(
        actor or "reconciliation",
        company_id,
        "payments.bank_recorded",
        ("payment", payment.id),
        {"amount": str(total), "currency": payment.currency, "reference": reference[:100]},
    )
    effects.settled(payment)
    effects.changed(payment)
    return payment


def reverse_bank_payment(company_id: int, *, payment_id: int, actor: User | None) -> None:
    """Undo a payment that reconciliation recorded: the invoices open again."""
    payment = db.session.get(Payment, payment_id)
    if payment is None or company_id not in (payment.payee_company_id, payment.payer_company_id):
        raise NotFound(_l("No such payment."))
    if payment.method != BANK or payment.status != SUCCEEDED:
        raise Conflict(_l("Only a payment recorded from a bank line can be undone here."))
    if not state.move(payment, REVERSED, review_reason="undone in reconciliation"):
        raise Conflict(_l("Only a payment recorded from a bank line can be undone here."))
    for allocation in state.allocations(payment.id):
        if not balances.uncredit_unpaid(allocation.document_id, allocation.amount):
            raise Conflict(_l("The invoice changed since: undo its other payments first."))
    audit.record_event(
        actor or "reconciliation", company_id, "payments.bank_reversed", ("payment", payment.id), {}
    )
    effects.changed(payment)


def confirm_transfer_seen(company_id: int, *, payment_id: int, actor: User | None) -> Payment:
    """A transfer the payer recorded shows on the payee's statement: it is confirmed."""
    payment = db.session.get(Payment, payment_id)
    if payment is None or payment.payee_company_id != company_id or payment.method != TRANSFER:
        raise NotFound(_l("No such payment."))
    if payment.status in CONFIRMED:
        return payment
    if payment.status != AWAITING_CONFIRMATION:
        raise Conflict(_l("This transfer was already decided."))
    if actor is not None:
        payment.decided_by_user_id = actor.id
    if state.succeed(payment, confirmed=payment.amount) is None:
        raise Conflict(_l("This transfer was already decided."))
    audit.record_event(
        actor or "reconciliation",
        company_id,
        "payments.transfer_confirmed",
        ("payment", payment.id),
        {"by": "bank statement"},
    )
    effects.settled(payment)
    return payment


def payments_by_ids(ids: Sequence[int]) -> dict[int, Payment]:
    """Payments the caller already tied to its own match items (read across companies)."""
    if not ids:
        return {}
    return {
        p.id: p for p in db.session.scalars(unscoped(select(Payment).where(Payment.id.in_(ids))))
    }
