"""/api/v1/payments: pay invoices through the supplier's gateway, read payments and their
allocations (the remittance advice), refund."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import wraps
from typing import Any

from flask import request
from spectree import Response

from app.blueprints.api import bp
from app.blueprints.api.auth import acting_user, current_token, require_token
from app.blueprints.api.responses import Error, Payment, PaymentList
from app.blueprints.api.schemas import MAX_ID, NewPayment, NewRefund, PaymentQuery
from app.blueprints.api.spec import NOT_FOUND, UNPROCESSABLE, api
from app.extensions import db
from app.models.api import PAYMENTS_READ, PAYMENTS_WRITE
from app.services.payments import paying, queries, refunds

ID = f"int(min=1, max={MAX_ID})"
PAYMENT_ID = {"payment_id": "The payment's id"}


def visible_payment(view: Callable[..., Any]) -> Callable[..., Any]:
    """Answer 404 for a payment the company cannot see, before any check of the input."""

    @wraps(view)
    def wrapped(*args: Any, payment_id: int, **kwargs: Any) -> Any:
        queries.get_payment(current_token().company_id, payment_id)
        return view(*args, payment_id=payment_id, **kwargs)

    return wrapped


def _answer(payment: Any) -> Payment:
    return Payment.of(
        payment,
        [a for a, _d in queries.allocations(payment.id)],
        queries.refunds_of(payment.id),
        request.host_url,
    )


def _urls() -> paying.ReturnUrls:
    base = request.host_url.rstrip("/")
    return paying.ReturnUrls(
        success=f"{base}/payments/return/{{token}}", cancel=f"{base}/payments/return/{{token}}"
    )


@bp.post("/payments")
@require_token(PAYMENTS_WRITE)
@api.validate(
    resp=Response(
        HTTP_201=(Payment, "The payment, created: send the payer to its checkout_url"),
        HTTP_400=(Error, "The body is not JSON that can be read"),
        HTTP_404=NOT_FOUND,
        HTTP_409=(Error, "The Idempotency-Key was used for other invoices"),
        HTTP_415=(Error, "The body is not sent as application/json"),
        HTTP_422=UNPROCESSABLE,
    ),
    tags=["payments"],
    operation_id="createPayment",
)
def create_payment(json: NewPayment) -> Any:
    """Pay one or many open invoices of one supplier through its gateway

    Each document's `amount` (a decimal string) may be less than its open balance where the
    supplier takes partial payments; more than the open balance answers 422, another
    company's document 404. The same `Idempotency-Key` header again answers the same payment.
    Needs the `payments:write` scope.
    """
    items = [
        paying.Item(d.id, Decimal(d.amount) if d.amount is not None else None)
        for d in json.documents
    ]
    payment = paying.start_payment(
        current_token().company_id,
        items=items,
        method=json.method,
        actor=acting_user(),
        urls=_urls(),
        idempotency_key=request.headers.get("Idempotency-Key") or None,
    )
    db.session.commit()
    return _answer(payment), 201


@bp.get("/payments")
@require_token(PAYMENTS_READ)
@api.validate(
    resp=Response(HTTP_200=(PaymentList, "Payments, newest first"), HTTP_422=UNPROCESSABLE),
    tags=["payments"],
    operation_id="listPayments",
)
def list_payments(query: PaymentQuery) -> Any:
    """The payments the company made or received

    Filter by `status`, `counterparty_id` and the day they started. Needs `payments:read`.
    """
    stmt = queries.payments(
        current_token().company_id,
        status=query.status,
        counterparty_id=query.counterparty_id,
        since=query.date_from,
        until=query.date_to,
    ).limit(query.limit)
    return PaymentList(data=[_answer(p) for p in db.session.scalars(stmt)])


@bp.get(f"/payments/<{ID}:payment_id>")
@require_token(PAYMENTS_READ)
@api.validate(
    resp=Response(HTTP_200=(Payment, "The payment"), HTTP_404=NOT_FOUND, HTTP_422=UNPROCESSABLE),
    tags=["payments"],
    operation_id="getPayment",
    path_parameter_descriptions=PAYMENT_ID,
)
def get_payment(payment_id: int) -> Any:
    """One payment, with its allocations and refunds

    `status` becomes `succeeded` once the gateway confirms. Needs `payments:read`.
    """
    return _answer(queries.get_payment(current_token().company_id, payment_id))


@bp.post(f"/payments/<{ID}:payment_id>/refunds")
@require_token(PAYMENTS_WRITE)
@visible_payment
@api.validate(
    resp=Response(
        HTTP_201=(Payment, "The payment, with the refund"),
        HTTP_400=(Error, "The body is not JSON that can be read"),
        HTTP_404=NOT_FOUND,
        HTTP_409=(Error, "Nothing of this payment can be refunded"),
        HTTP_415=(Error, "The body is not sent as application/json"),
        HTTP_422=UNPROCESSABLE,
    ),
    tags=["payments"],
    operation_id="createRefund",
    path_parameter_descriptions=PAYMENT_ID,
)
def create_refund(payment_id: int, json: NewRefund) -> Any:
    """Refund all or part of a payment the company received, through its gateway

    Needs `payments:write`; only the payee refunds.
    """
    company_id = current_token().company_id
    refunds.refund_payment(
        company_id,
        payment_id=payment_id,
        amount=Decimal(json.amount) if json.amount is not None else None,
        reason=json.reason,
        actor=acting_user(),
        idempotency_key=request.headers.get("Idempotency-Key") or None,
    )
    db.session.commit()
    return _answer(queries.get_payment(company_id, payment_id)), 201
