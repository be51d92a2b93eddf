"""Paying through the real sandbox gateway: its checkout, its signed webhooks sent by its job to
the portal's receiver, whatever it duplicates, delays or reorders, and its refunds."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.jobs import tasks
from app.models import Document, Payment, SandboxCharge, SandboxWebhook
from app.models.base import utcnow
from app.services import sandbox_gateway
from app.services.payments import connections, paying, refunds
from app.services.payments.paying import Item
from app.tenancy import acting_as, unscoped
from tests.conftest import make_company, make_user
from tests.payments_helpers import invoice, urls


@pytest.fixture
def shop():
    supplier, buyer = make_company("Proveedora Sandbox"), make_company("Compradora Sandbox")
    payer = make_user(buyer, role="payables")
    with acting_as(supplier.id):
        connection = connections.connect_sandbox(supplier.id, name=supplier.legal_name, actor=None)
        account_id = connections.credentials_of(connection)["account_id"]
    db.session.commit()
    return supplier, buyer, payer, account_id


def start(buyer, payer, items):
    with acting_as(buyer.id, payer.id):
        payment = paying.start_payment(
            buyer.id, items=items, method="sandbox", actor=payer, urls=urls()
        )
    db.session.commit()
    return payment


def charge_of(payment) -> str:
    return payment.gateway_reference


def decide(payment, outcome: str) -> None:
    sandbox_gateway.decide(charge_of(payment), outcome)
    db.session.commit()  # the webhook row's job runs after this commit (eagerly in tests)


def state(payment_id: int) -> str:
    db.session.expire_all()
    return db.session.scalar(unscoped(select(Payment.status).where(Payment.id == payment_id)))


def document(doc_id: int) -> Document:
    db.session.expire_all()
    return db.session.scalars(unscoped(select(Document).where(Document.id == doc_id))).one()


def test_approve_on_the_hosted_checkout_pays_both_invoices(shop):
    supplier, buyer, payer, _account = shop
    a, b = invoice(supplier, buyer, "100000.00"), invoice(supplier, buyer, "50000.00")
    payment = start(buyer, payer, [Item(a.id), Item(b.id)])
    assert payment.checkout_url.startswith("/sandbox-gateway/checkout/")
    decide(payment, "approve")
    assert state(payment.id) == "succeeded"
    assert document(a.id).payment_status == document(b.id).payment_status == "paid"


def test_duplicated_delayed_and_reordered_webhooks_credit_once(shop):
    supplier, buyer, payer, account = shop
    sandbox_gateway.set_delivery_options(account, duplicate=2, reverse=True)
    db.session.commit()
    doc = invoice(supplier, buyer, "80000.00")
    payment = start(buyer, payer, [Item(doc.id)])
    decide(payment, "pending")  # pending now, approved when it settles
    assert state(payment.id) == "pending"
    # Its time to settle comes (the sandbox settles pending charges two minutes later).
    db.session.execute(update(SandboxCharge).values(settle_at=utcnow() - dt.timedelta(seconds=1)))
    sandbox_gateway.settle_due(utcnow())
    db.session.commit()
    assert state(payment.id) == "succeeded"
    assert document(doc.id).paid_amount == Decimal("80000.00")
    sent = db.session.scalars(select(SandboxWebhook)).all()
    assert len(sent) >= 6 and all(w.state == "sent" for w in sent)


def test_a_decline_then_a_retry(shop):
    supplier, buyer, payer, _account = shop
    doc = invoice(supplier, buyer, "1000.00")
    first = start(buyer, payer, [Item(doc.id)])
    decide(first, "decline")
    assert state(first.id) == "failed" and document(doc.id).held_amount == Decimal("0")
    second = start(buyer, payer, [Item(doc.id)])
    decide(second, "approve")
    assert state(second.id) == "succeeded" and document(doc.id).payment_status == "paid"


def test_the_portal_down_for_hours_still_ends_in_one_payment(shop, monkeypatch):
    supplier, buyer, payer, _account = shop
    doc = invoice(supplier, buyer, "5000.00")
    payment = start(buyer, payer, [Item(doc.id)])

    def down(*_args, **_kwargs):
        raise ConnectionError("portal down")

    monkeypatch.setattr(tasks, "send_to_portal", down)
    decide(payment, "approve")
    assert state(payment.id) == "created"
    webhook = db.session.scalars(select(SandboxWebhook)).one()
    assert webhook.state == "due" and webhook.attempts == 1
    monkeypatch.undo()
    # Hours later the gateway's retry is due (its backoff ran out); it signs and sends it now.
    db.session.execute(update(SandboxWebhook).values(due_at=utcnow() - dt.timedelta(seconds=1)))
    db.session.commit()
    for _ in range(2):  # a second run finds nothing more to send
        sandbox_gateway.deliver_due(utcnow(), tasks.send_to_portal)
        db.session.commit()
    assert state(payment.id) == "succeeded"
    assert document(doc.id).paid_amount == Decimal("5000.00")


def test_a_refund_through_the_sandbox_is_heard_back_once(shop):
    supplier, buyer, payer, _account = shop
    doc = invoice(supplier, buyer, "10000.00")
    payment = start(buyer, payer, [Item(doc.id)])
    decide(payment, "approve")
    assert state(payment.id) == "succeeded"
    with acting_as(supplier.id):
        refunds.refund_payment(
            supplier.id, payment_id=payment.id, amount=Decimal("4000"), reason="", actor=None
        )
    db.session.commit()  # the sandbox's charge.refunded webhook comes back to the portal
    assert state(payment.id) == "partially_refunded"
    charge = db.session.scalars(select(SandboxCharge)).one()
    assert charge.refunded_amount == Decimal("4000.00")
    assert document(doc.id).open_balance == Decimal("4000.00")


def test_a_payout_settles_the_days_charges_less_the_fee(shop):
    supplier, buyer, payer, _account = shop
    doc = invoice(supplier, buyer, "100000.00")
    payment = start(buyer, payer, [Item(doc.id)])
    decide(payment, "approve")
    payouts = sandbox_gateway.pay_out(utcnow().date())
    db.session.commit()
    (payout,) = payouts
    fee = (Decimal("100000.00") * Decimal("0.029") + Decimal("900")).quantize(Decimal("0.01"))
    assert payout.amount == Decimal("100000.00") - fee
    with acting_as(supplier.id):
        connection = connections.connections(supplier.id)[0]
        (settlement,) = connections.adapter_for(connection).list_settlements()
    assert settlement.amount == payout.amount
    assert [line.reference for line in settlement.lines] == [str(payment.id)]
