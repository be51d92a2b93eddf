"""Does a Stripe payment go through the portal's real services and webhook endpoint?

A supplier connects Stripe with its keys (``connections.connect_gateway``); the official SDK
talks to a fake ``stripe.HTTPClient`` (tests/gateways/stripe_fake.py) handed in through
``connections.adapter_options``, which records every request. Webhooks are signed here as Stripe
signs them and posted to ``/payments/webhooks/stripe/<public id>`` with the Flask test client;
the processing job runs at once after the endpoint commits. Nothing reaches the network.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal

import pytest
from sqlalchemy import select

from app import tenancy
from app.extensions import db
from app.models.payment import GatewayEventRecord, Payment, Refund
from app.services.payments import connections, paying, refunds
from app.services.payments.paying import Item
from app.tenancy import acting_as
from tests.conftest import make_company, make_user
from tests.gateways.stripe_fake import (
    NOW,
    SECRET_KEY,
    WEBHOOK_SECRET,
    FakeStripe,
    charge_json,
    event_json,
    refund_json,
    session_json,
    signed,
)
from tests.payments_helpers import invoice, refreshed, urls


@dataclass(frozen=True)
class Money:
    """Two invoices in one currency, as the portal stores them and as Stripe counts them."""

    currency: str
    amounts: tuple[str, str]
    minor: tuple[int, int]

    @property
    def total(self) -> Decimal:
        return sum((Decimal(a) for a in self.amounts), Decimal("0"))

    @property
    def minor_total(self) -> int:
        return sum(self.minor)


USD = Money("USD", ("1000.00", "234.56"), (100000, 23456))
CLP = Money("CLP", ("150000", "35000"), (150000, 35000))  # zero-decimal: no cents at Stripe


@pytest.fixture
def stripe_fake(monkeypatch) -> FakeStripe:
    fake = FakeStripe()
    monkeypatch.setitem(connections.adapter_options, "stripe", {"http_client": fake})
    return fake


@pytest.fixture
def world(stripe_fake):
    supplier = make_company("Proveedora S.A.S.")
    buyer = make_company("Compradora S.A.S.")
    payer = make_user(buyer, role="payables")
    clerk = make_user(supplier, role="receivables")
    with acting_as(supplier.id, clerk.id):
        connection = connections.connect_gateway(
            supplier.id,
            gateway="stripe",
            credentials={"secret_key": SECRET_KEY, "webhook_secret": WEBHOOK_SECRET},
            label="Stripe",
            actor=clerk,
        )
    db.session.commit()
    # The test reads what the supplier sees (its payments, their events, its invoices' balances);
    # each request and job binds its own company.
    token = tenancy.bind(tenancy.Acting(company_id=supplier.id))
    yield World(supplier, buyer, payer, clerk, connection.public_id, stripe_fake)
    tenancy.unbind(token)


@dataclass
class World:
    supplier: object
    buyer: object
    payer: object
    clerk: object
    public_id: str
    stripe: FakeStripe

    def invoices(self, money: Money):
        return snapshots(
            [invoice(self.supplier, self.buyer, a, currency=money.currency) for a in money.amounts]
        )

    def start(self, documents, session_id="cs_test_flow"):
        """The buyer pays the invoices; Stripe answers the session it created."""
        self.stripe.reply(
            session_json(id=session_id, url=f"https://checkout.stripe.com/c/pay/{session_id}")
        )
        with acting_as(self.buyer.id, self.payer.id):
            payment = paying.start_payment(
                self.buyer.id,
                items=[Item(d.id) for d in documents],
                method="stripe",
                actor=self.payer,
                urls=urls(),
            )
        db.session.commit()
        return snapshots([payment])[0]


def snapshots(rows):
    """The rows as they are now, kept readable by the test: each request ends the thread's
    session, and the helpers below read fresh rows by id."""
    for row in rows:
        db.session.refresh(row)
        db.session.expunge(row)
    return rows


def post(client, world, payload: str, *, timestamp=None):
    return client.post(
        f"/payments/webhooks/stripe/{world.public_id}",
        data=payload.encode(),
        headers={**signed(payload, timestamp=timestamp), "Content-Type": "application/json"},
    )


def completed(payment, money: Money, *, event_id="evt_paid", amount_total=None, **session):
    obj = session_json(
        id=payment.gateway_reference,
        status="complete",
        payment_status="paid",
        payment_intent=f"pi_{payment.id}",
        amount_subtotal=money.minor_total,
        amount_total=money.minor_total if amount_total is None else amount_total,
        currency=money.currency.lower(),
        client_reference_id=str(payment.id),
        metadata={"payment_reference": str(payment.id)},
        **session,
    )
    return event_json("checkout.session.completed", obj, event_id=event_id)


def charge_refunded(payment, money, *, refunded: int, refund_ids, event_id, metadata=True):
    """Stripe's charge.refunded: the charge's running total and its refunds, newest last."""
    refunds_ = [
        refund_json(rid, amount=amt, created=NOW + i, currency=money.currency.lower())
        for i, (rid, amt) in enumerate(refund_ids)
    ]
    charge = charge_json(
        id=f"ch_{payment.id}",
        amount=money.minor_total,
        amount_captured=money.minor_total,
        amount_refunded=refunded,
        currency=money.currency.lower(),
        payment_intent=f"pi_{payment.id}",
        metadata={"payment_reference": str(payment.id)} if metadata else {},
        refunded=refunded == money.minor_total,
        refunds={"object": "list", "data": refunds_, "has_more": False},
    )
    return event_json("charge.refunded", charge, event_id=event_id)


def payment_of(payment) -> Payment:
    db.session.expire_all()
    return db.session.get(Payment, payment.id)


def balances(documents):
    return [
        (d.open_balance, d.paid_amount, d.held_amount, d.payment_status)
        for d in map(refreshed, documents)
    ]


def paid(money):
    return [(Decimal("0"), Decimal(a), Decimal("0"), "paid") for a in money.amounts]


def events_stored() -> int:
    return db.session.query(GatewayEventRecord).count()


@pytest.mark.parametrize("money", [USD, CLP], ids=["USD", "CLP"])
def test_is_a_stripe_checkout_for_two_invoices_paid_once_whatever_stripe_repeats(
    world, client, money
):
    documents = world.invoices(money)
    payment = world.start(documents)

    (sent,) = world.stripe.sent
    assert (sent.method, sent.path) == ("POST", "/v1/checkout/sessions")
    assert sent.headers["Idempotency-Key"] == f"payment-{payment.id}-{payment.idempotency_key}"
    assert sent.headers["Authorization"] == f"Bearer {SECRET_KEY}"
    lines = [
        (
            sent.field(f"line_items[{i}][price_data][unit_amount]"),
            sent.field(f"line_items[{i}][price_data][currency]"),
            sent.field(f"line_items[{i}][price_data][product_data][name]"),
        )
        for i in range(2)
    ]
    assert lines == [
        (str(minor), money.currency.lower(), d.number)
        for minor, d in zip(money.minor, documents, strict=True)
    ]
    assert "line_items[2][quantity]" not in sent.form
    assert sent.field("metadata[payment_reference]") == str(payment.id)
    assert sent.field("payment_intent_data[metadata][payment_reference]") == str(payment.id)
    assert sent.field("client_reference_id") == str(payment.id)
    assert payment.access_token in sent.field("success_url")
    assert payment.gateway_reference == "cs_test_flow"
    assert payment.checkout_url == "https://checkout.stripe.com/c/pay/cs_test_flow"
    assert [d.held_amount for d in map(refreshed, documents)] == [Decimal(a) for a in money.amounts]

    payload = completed(payment, money)
    answer = post(client, world, payload)
    assert answer.status_code == 200 and answer.json["stored"] == 1
    assert payment_of(payment).status == "succeeded"
    assert payment_of(payment).confirmed_amount == money.total
    assert balances(documents) == paid(money)

    # Stripe delivers the same event again (and again, re-signed later): nothing more.
    assert post(client, world, payload).json["stored"] == 0
    assert post(client, world, payload, timestamp=int(time.time()) - 60).json["stored"] == 0
    # A stale signature is refused outright, even for a new event.
    stale = completed(payment, money, event_id="evt_stale")
    answer = post(client, world, stale, timestamp=int(time.time()) - 3600)
    assert answer.status_code == 400
    # A late "async payment failed" for the paid session changes nothing.
    failed = event_json(
        "checkout.session.async_payment_failed",
        session_json(id=payment.gateway_reference, status="complete", payment_status="unpaid"),
        event_id="evt_failed_late",
    )
    assert post(client, world, failed).status_code == 200
    assert payment_of(payment).status == "succeeded"
    assert balances(documents) == paid(money)
    assert events_stored() == 2
    assert world.stripe.sent == [sent]  # every event read from its signed body alone


def test_is_a_forged_or_unsigned_webhook_refused_and_nothing_stored(world, client):
    documents = world.invoices(USD)
    payment = world.start(documents)
    payload = completed(payment, USD)
    forged = signed(payload, secret="whsec_someone_else")
    answer = client.post(
        f"/payments/webhooks/stripe/{world.public_id}", data=payload, headers=forged
    )
    assert answer.status_code == 400
    assert (
        client.post(f"/payments/webhooks/stripe/{world.public_id}", data=payload).status_code == 400
    )
    assert client.post("/payments/webhooks/stripe/gc_nobody", data=payload).status_code == 404
    assert events_stored() == 0
    assert payment_of(payment).status == "created"


@pytest.mark.parametrize("money", [USD, CLP], ids=["USD", "CLP"])
def test_does_an_amount_stripe_signs_other_than_the_payments_need_review(world, client, money):
    documents = world.invoices(money)
    payment = world.start(documents)
    # Stripe itself says (under a good signature) that less was paid.
    payload = completed(payment, money, amount_total=money.minor_total - 1)
    assert post(client, world, payload).status_code == 200
    found = payment_of(payment)
    assert found.status == "needs_review"
    assert str(money.total) in found.review_reason or "expected" in found.review_reason
    assert balances(documents) == [
        (Decimal(a), Decimal("0"), Decimal("0"), "unpaid") for a in money.amounts
    ]


@pytest.mark.parametrize("money", [USD, CLP], ids=["USD", "CLP"])
def test_does_a_refund_made_in_stripes_dashboard_raise_the_balances_once(world, client, money):
    documents = world.invoices(money)
    payment = world.start(documents)
    post(client, world, completed(payment, money))
    part = money.minor[1]  # the second invoice's amount, refunded from the dashboard
    payload = charge_refunded(
        payment, money, refunded=part, refund_ids=[("re_dash", part)], event_id="evt_ref1"
    )
    assert post(client, world, payload).json["stored"] == 1
    assert post(client, world, payload).json["stored"] == 0
    found = payment_of(payment)
    assert (found.status, found.refunded_amount) == (
        "partially_refunded",
        Decimal(money.amounts[1]),
    )
    # Refunds lower the allocations last first: the second invoice is open again.
    assert balances(documents) == [
        (Decimal("0"), Decimal(money.amounts[0]), Decimal("0"), "paid"),
        (Decimal(money.amounts[1]), Decimal("0"), Decimal("0"), "refunded"),
    ]
    (refund,) = db.session.scalars(select(Refund)).all()
    assert refund.gateway_reference == "re_dash"
    # The rest refunded later, the charge no longer carrying the payment's id: Stripe's
    # PaymentIntent is asked, and names it.
    world.stripe.reply(
        {
            "id": f"pi_{payment.id}",
            "object": "payment_intent",
            "amount": money.minor_total,
            "amount_received": money.minor_total,
            "currency": money.currency.lower(),
            "status": "succeeded",
            "metadata": {"payment_reference": str(payment.id)},
            "payment_method_types": ["card"],
        }
    )
    rest = charge_refunded(
        payment,
        money,
        refunded=money.minor_total,
        refund_ids=[("re_dash", part), ("re_dash2", money.minor[0])],
        event_id="evt_ref2",
        metadata=False,
    )
    assert post(client, world, rest).status_code == 200
    assert world.stripe.sent[-1].path == f"/v1/payment_intents/pi_{payment.id}"
    assert payment_of(payment).status == "refunded"
    assert [b[3] for b in balances(documents)] == ["refunded", "refunded"]
    assert [b[0] for b in balances(documents)] == [Decimal(a) for a in money.amounts]


@pytest.mark.parametrize("status", ["succeeded", "pending"])
@pytest.mark.parametrize("money", [USD, CLP], ids=["USD", "CLP"])
def test_is_a_refund_made_in_the_portal_and_heard_back_applied_once(world, client, money, status):
    documents = world.invoices(money)
    payment = world.start(documents)
    post(client, world, completed(payment, money))
    world.stripe.reply(
        session_json(
            id=payment.gateway_reference,
            status="complete",
            payment_status="paid",
            payment_intent=f"pi_{payment.id}",
            currency=money.currency.lower(),
            amount_total=money.minor_total,
        )
    )
    world.stripe.reply(
        refund_json(
            "re_portal", amount=money.minor[1], currency=money.currency.lower(), status=status
        )
    )
    with acting_as(world.supplier.id, world.clerk.id):
        refund = refunds.refund_payment(
            world.supplier.id,
            payment_id=payment.id,
            amount=Decimal(money.amounts[1]),
            reason="requested_by_customer",
            actor=world.clerk,
            idempotency_key="refund-form-1",
        )
    db.session.commit()
    (refund,) = snapshots([refund])
    sent = world.stripe.sent[-1]
    assert (sent.method, sent.path) == ("POST", "/v1/refunds")
    assert sent.field("payment_intent") == f"pi_{payment.id}"
    assert sent.field("amount") == str(money.minor[1])
    assert sent.headers["Idempotency-Key"] == f"refund-{payment.id}-refund-form-1"
    expected = [
        (Decimal("0"), Decimal(money.amounts[0]), Decimal("0"), "paid"),
        (Decimal(money.amounts[1]), Decimal("0"), Decimal("0"), "refunded"),
    ]
    assert balances(documents) == (expected if status == "succeeded" else paid(money))

    heard = charge_refunded(
        payment,
        money,
        refunded=money.minor[1],
        refund_ids=[("re_portal", money.minor[1])],
        event_id="evt_heard",
    )
    assert post(client, world, heard).status_code == 200
    again = charge_refunded(  # another event id telling the same total
        payment,
        money,
        refunded=money.minor[1],
        refund_ids=[("re_portal", money.minor[1])],
        event_id="evt_heard_again",
    )
    assert post(client, world, again).status_code == 200
    assert balances(documents) == expected
    found = payment_of(payment)
    assert (found.status, found.refunded_amount) == (
        "partially_refunded",
        Decimal(money.amounts[1]),
    )
    assert [r.id for r in db.session.scalars(select(Refund))] == [refund.id]
    assert db.session.get(Refund, refund.id).status == "succeeded"


def dispute_json(payment, money, **overrides) -> dict:
    dispute = {
        "id": "dp_1",
        "object": "dispute",
        "amount": money.minor_total,
        "charge": f"ch_{payment.id}",
        "created": NOW,
        "currency": money.currency.lower(),
        "livemode": False,
        "metadata": {},
        "payment_intent": f"pi_{payment.id}",
        "reason": "fraudulent",
        "status": "needs_response",
    }
    dispute.update(overrides)
    return dispute


def intent_json(intent_id, reference, money) -> dict:
    return {
        "id": intent_id,
        "object": "payment_intent",
        "amount": money.minor_total,
        "amount_received": money.minor_total,
        "currency": money.currency.lower(),
        "status": "succeeded",
        "metadata": {"payment_reference": reference} if reference else {},
        "payment_method_types": ["card"],
    }


def test_is_a_dispute_found_through_its_payment_intent(world, client):
    """A dispute names only the PaymentIntent; the payment stores the Checkout Session."""
    documents = world.invoices(USD)
    payment = world.start(documents)
    post(client, world, completed(payment, USD))
    world.stripe.reply(intent_json(f"pi_{payment.id}", str(payment.id), USD))
    payload = event_json("charge.dispute.created", dispute_json(payment, USD), event_id="evt_dp")
    assert post(client, world, payload).status_code == 200
    asked = world.stripe.sent[-1]
    assert (asked.method, asked.path) == ("GET", f"/v1/payment_intents/pi_{payment.id}")
    found = payment_of(payment)
    assert (found.status, found.gateway_reference) == ("disputed", "cs_test_flow")
    record = db.session.scalars(
        select(GatewayEventRecord).where(GatewayEventRecord.event_id == "evt_dp")
    ).one()
    assert (record.state, record.payment_id) == ("processed", payment.id)


def test_is_a_dispute_with_its_charge_expanded_read_without_asking_stripe(world, client):
    documents = world.invoices(USD)
    payment = world.start(documents)
    post(client, world, completed(payment, USD))
    calls = len(world.stripe.sent)
    charge = charge_json(id=f"ch_{payment.id}", metadata={"payment_reference": str(payment.id)})
    payload = event_json(
        "charge.dispute.created", dispute_json(payment, USD, charge=charge), event_id="evt_dp2"
    )
    assert post(client, world, payload).status_code == 200
    assert len(world.stripe.sent) == calls
    assert payment_of(payment).status == "disputed"


@pytest.mark.parametrize("whose", ["nobody", "another connection"])
def test_is_a_dispute_about_a_payment_not_of_this_connection_ignored_safely(world, client, whose):
    documents = world.invoices(USD)
    payment = world.start(documents)
    post(client, world, completed(payment, USD))
    # Another supplier's Stripe payment: its PaymentIntent names a payment of the portal that
    # this connection did not take.
    other = make_company("Ajena S.A.S.")
    theirs = invoice(other, world.buyer, "10.00", currency="USD")
    with acting_as(other.id):
        stranger = Payment(
            payee_company_id=other.id,
            payer_company_id=world.buyer.id,
            method="stripe",
            currency="USD",
            amount=Decimal("10.00"),
            idempotency_key="x",
            access_token="t" * 20,
            status="succeeded",
        )
        db.session.add(stranger)
        db.session.commit()
    reference = None if whose == "nobody" else str(stranger.id)
    world.stripe.reply(intent_json("pi_elsewhere", reference, USD))
    payload = event_json(
        "charge.dispute.created",
        dispute_json(payment, USD, payment_intent="pi_elsewhere", charge="ch_elsewhere"),
        event_id="evt_dp3",
    )
    assert post(client, world, payload).status_code == 200
    record = db.session.scalars(
        select(GatewayEventRecord).where(GatewayEventRecord.event_id == "evt_dp3")
    ).one()
    assert (record.state, record.payment_id) == ("ignored", None)
    assert payment_of(payment).status == "succeeded"
    with acting_as(other.id):
        assert payment_of(stranger).status == "succeeded"
        assert refreshed(theirs).payment_status == "unpaid"


def test_is_a_dispute_whose_payment_intent_stripe_cannot_find_ignored(world, client):
    documents = world.invoices(USD)
    payment = world.start(documents)
    post(client, world, completed(payment, USD))
    world.stripe.reply(
        {"error": {"type": "invalid_request_error", "code": "resource_missing", "message": "No"}},
        404,
    )
    payload = event_json(
        "charge.dispute.created",
        dispute_json(payment, USD, payment_intent="pi_gone", charge="ch_gone"),
        event_id="evt_dp4",
    )
    assert post(client, world, payload).status_code == 200
    assert payment_of(payment).status == "succeeded"
    record = db.session.scalars(
        select(GatewayEventRecord).where(GatewayEventRecord.event_id == "evt_dp4")
    ).one()
    assert record.state == "ignored"
