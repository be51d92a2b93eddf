"""What the sandbox gateway's tests share: a merchant account, its adapter, a checkout, and a
receiver that stands in for the portal (records what it is sent, answers what it is told)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from sqlalchemy import select

from app.extensions import db
from app.gateways import base
from app.gateways.sandbox import SandboxGateway
from app.models import SandboxAccount, SandboxCharge, SandboxWebhook
from app.services import sandbox_gateway

#: A fixed moment the tests run at (the adapter's clock agrees with it).
T0 = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC)


class Receiver:
    """The portal's receiver as the sandbox sees it: ``send(target, body, headers) -> status``.

    ``answers`` are used in order (an int is the status; an exception is raised), then 200.
    """

    def __init__(self, *answers: int | Exception) -> None:
        self.answers = list(answers)
        self.received: list[tuple[str, bytes, dict[str, str]]] = []

    def __call__(self, target: str, body: bytes, headers) -> int:
        self.received.append((target, body, dict(headers)))
        answer = self.answers.pop(0) if self.answers else 200
        if isinstance(answer, Exception):
            raise answer
        return answer

    def events(self) -> list[dict]:
        return [json.loads(body) for _target, body, _headers in self.received]

    def types(self) -> list[str]:
        return [event["type"] for event in self.events()]


def open_account(target: str = "conn_public_1", **options) -> SandboxAccount:
    account = sandbox_gateway.open_account("Proveedora Andina", target, **options)
    db.session.commit()
    return account


def gateway_for(account: SandboxAccount, now: dt.datetime = T0) -> SandboxGateway:
    """The adapter a portal connection to the account builds, its clock at ``now``."""
    return SandboxGateway(
        sandbox_gateway.credentials(account),
        backend=sandbox_gateway.BACKEND,
        clock=lambda: now.timestamp(),
    )


def checkout_request(
    amount: str = "150000.00",
    currency: str = "COP",
    *,
    key: str = "pay-1-attempt-1",
    reference: str = "1",
) -> base.CheckoutRequest:
    value = Decimal(amount)
    half = (value / 2).quantize(Decimal(1).scaleb(-2 if currency != "CLP" else 0))
    return base.CheckoutRequest(
        reference=reference,
        amount=value,
        currency=currency,
        lines=(
            base.CheckoutLine("101", "Invoice FE-101", half),
            base.CheckoutLine("102", "Invoice FE-102", value - half),
        ),
        success_url="https://portal.test/payments/1/done",
        cancel_url="https://portal.test/payments/1/canceled",
        idempotency_key=key,
        customer_email="pagos@example.test",
        description="Invoices FE-101, FE-102",
    )


def new_charge(account: SandboxAccount, **request) -> SandboxCharge:
    """A charge opened through the adapter, as the portal opens one."""
    checkout = gateway_for(account).create_checkout(checkout_request(**request))
    db.session.commit()
    return charge(checkout.gateway_reference)


def charge(charge_id: str) -> SandboxCharge:
    stmt = select(SandboxCharge).where(SandboxCharge.charge_id == charge_id)
    return db.session.scalars(stmt.execution_options(populate_existing=True)).one()


def webhooks() -> list[SandboxWebhook]:
    stmt = select(SandboxWebhook).order_by(SandboxWebhook.id)
    return list(db.session.scalars(stmt.execution_options(populate_existing=True)))
