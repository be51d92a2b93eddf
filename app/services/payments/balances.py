"""An invoice's open balance, moved only here, each move one conditional UPDATE.

``open_balance`` = total − linked credit notes − confirmed payments (− early-payment discounts).
A payment in flight (a checkout not finished, a transfer not confirmed) *holds* its amount in
``held_amount`` so that two payers cannot both take the same balance: the hold succeeds only
while ``open_balance - held_amount`` covers it, in one statement, so concurrent payers are
serialised by the database whichever of SQLite or PostgreSQL it is.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import case, update

from app.extensions import db
from app.models.document import PAID, PARTIAL, REFUNDED, UNPAID, Document

_ZERO = Decimal("0")


def available(document: Document) -> Decimal:
    """What can still be paid on the invoice now (its open balance less what is held)."""
    return max(document.open_balance - document.held_amount, _ZERO)


def hold(document_id: int, amount: Decimal) -> bool:
    """Hold ``amount`` of the invoice's open balance for a payment in flight; False if it is not
    there any more."""
    result = db.session.execute(
        update(Document)
        .where(
            Document.id == document_id,
            Document.open_balance - Document.held_amount >= amount,
        )
        .values(held_amount=Document.held_amount + amount)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def release(document_id: int, amount: Decimal) -> None:
    """Give back a hold (the payment failed, was canceled or needs review)."""
    db.session.execute(
        update(Document)
        .where(Document.id == document_id)
        .values(
            held_amount=case(
                (Document.held_amount >= amount, Document.held_amount - amount), else_=_ZERO
            )
        )
        .execution_options(synchronize_session=False)
    )


def credit(document_id: int, amount: Decimal, *, discount: Decimal = _ZERO, held: bool) -> bool:
    """A confirmed payment of ``amount`` (and a discount forgiven) lowers the open balance;
    False, changing nothing, when the balance no longer covers it (credited meanwhile)."""
    settled = amount + discount
    remaining = Document.open_balance - settled
    result = db.session.execute(
        update(Document)
        .where(
            Document.id == document_id,
            Document.open_balance >= settled,
            *((Document.held_amount >= amount,) if held else ()),
        )
        .values(
            open_balance=remaining,
            paid_amount=Document.paid_amount + amount,
            held_amount=(Document.held_amount - amount) if held else Document.held_amount,
            payment_status=case((remaining <= 0, PAID), else_=PARTIAL),
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def uncredit(document_id: int, amount: Decimal) -> bool:
    """A refund of ``amount`` raises the open balance again."""
    paid = Document.paid_amount - amount
    result = db.session.execute(
        update(Document)
        .where(Document.id == document_id, Document.paid_amount >= amount)
        .values(
            open_balance=Document.open_balance + amount,
            paid_amount=paid,
            refunded_amount=Document.refunded_amount + amount,
            payment_status=case((paid <= 0, REFUNDED), else_=PARTIAL),
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def uncredit_unpaid(document_id: int, amount: Decimal) -> bool:
    """A payment recorded by mistake is taken back: the balance opens again, and it was never
    a refund (``refunded_amount`` stays)."""
    paid = Document.paid_amount - amount
    result = db.session.execute(
        update(Document)
        .where(Document.id == document_id, Document.paid_amount >= amount)
        .values(
            open_balance=Document.open_balance + amount,
            paid_amount=paid,
            payment_status=case(
                (paid > 0, PARTIAL),
                (Document.refunded_amount > 0, REFUNDED),
                else_=UNPAID,
            ),
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def status_of(document: Document) -> str:
    """The payment status the amounts say (what ``credit``/``uncredit`` write)."""
    if document.paid_amount > 0:
        return PAID if document.open_balance <= 0 else PARTIAL
    return REFUNDED if document.refunded_amount > 0 else UNPAID
