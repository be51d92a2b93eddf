"""Does a Wompi payment go through the portal's real services and webhook endpoint?

A supplier connects Wompi with its four sandbox keys; the adapter's HTTP goes through a fake
transport handed in by ``connections.adapter_options`` (it answers ``GET /transactions/{id}``
and records each call). Events are signed here the way Wompi documents it (SHA-256 over the
listed properties' values, the timestamp and the events secret) and posted to
``/payments/webhooks/wompi/<public id>``. Wompi's events sign the transaction's id, status and
amount but not its reference, so the portal asks Wompi's API before crediting anything.
"""

from __future__ import annotations

import copy
import hashlib
import time
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from app import tenancy
from app.extensions import db
from app.gateways import wompi
from app.models.payment import GatewayEventRecord, Payment
from app.services.payments import connections, paying, refunds
from app.services.payments.paying import Item
from app.tenancy import acting_as
from tests.conftest import make_company, make_user
from tests.payments_helpers import invoice, refreshed, urls

KEYS = {
    "public_key": "pub_test_X0zDA9xoKdePzhd8a0x9HAez7HgGO2fH",
    "private_key": "prv_test_434092Xa65F54dd6a181D1f87DFa03CzS",
    "events_secret": "test_events_Y49rL5FGw4vTeiUaZaJ957hlpezdPQ0r",
    "integrity_secret": "test_integrity_ep4b3kSYJg2bWHwL7ulhPCDvaiyGDW7V",
}
API = "https://sandbox.wompi.co/v1"


class FakeWompi:
    """Wompi's API: the transactions it holds, answered to GET /transactions/{id}; voids."""

    def __init__(self) -> None:
        self.transactions: dict[str, dict] = {}
        self.calls: list[tuple[str, str, dict, dict | None]] = []

    def __call__(self, method, url, headers, json_body):
        self.calls.append((method, url, headers, json_body))
        path = url.removeprefix(API)
        if method == "GET" and path.startswith("/transactions/"):
            found = self.transactions.get(path.removeprefix("/transactions/"))
            return (200, {"data": found}) if found else (404, {"error": {"type": "NOT_FOUND"}})
        if method == "POST" and path.endswith("/void"):
            transaction = self.transactions[path.split("/")[2]]
            transaction["status"] = "VOIDED"
            return 201, {"data": {"transaction": transaction}}
        raise AssertionError(f"unexpected {method} {url}")


@pytest.fixture
def fake_wompi(monkeypatch) -> FakeWompi:
    fake = FakeWompi()
    monkeypatch.setitem(connections.adapter_options, "wompi", {"transport": fake})
    return fake


def connect(company, actor=None):
    with acting_as(company.id):
        connection = connections.connect_gateway(
            company.id, gateway="wompi", credentials=KEYS, label="Wompi", actor=actor
        )
    db.session.commit()
    return connection.public_id


@pytest.fixture
def world(fake_wompi):
    supplier = make_company("Proveedora S.A.S.")
    buyer = make_company("Compradora S.A.S.")
    payer = make_user(buyer, role="payables")
    clerk = make_user(supplier, role="receivables")
    public_id = connect(supplier, clerk)
    keep([supplier, buyer, payer, clerk])
    token = tenancy.bind(tenancy.Acting(company_id=supplier.id))  # the test reads as the supplier
    yield {
        "supplier": supplier,
        "buyer": buyer,
        "payer": payer,
        "clerk": clerk,
        "public_id": public_id,
        "wompi": fake_wompi,
    }
    tenancy.unbind(token)


def keep(rows):
    """The rows as they are now, readable after requests end the thread's session."""
    for row in rows:
        db.session.refresh(row)
        db.session.expunge(row)
    return rows


def invoices(world, *amounts):
    return keep([invoice(world["supplier"], world["buyer"], a) for a in amounts])


def start(world, documents):
    with acting_as(world["buyer"].id, world["payer"].id):
        payment = paying.start_payment(
            world["buyer"].id,
            items=[Item(d.id) for d in documents],
            method="wompi",
            actor=world["payer"],
            urls=urls(),
        )
    db.session.commit()
    return keep([payment])[0]


def transaction(payment, *, status="APPROVED", cents=None, tx_id=None, reference=None):
    return {
        "id": tx_id or f"1234-1610641025-{payment.id:05d}",
        "amount_in_cents": int(payment.amount * 100) if cents is None else cents,
        "reference": reference or payment.gateway_reference,
        "customer_email": "pagos@compradora.test",
        "currency": "COP",
        "payment_method_type": "CARD",
        "redirect_url": "https://portal.test/pay/done",
        "status": status,
    }


def event(tx: dict, *, secret=KEYS["events_secret"], timestamp=None) -> dict:
    """A transaction.updated event, its checksum computed by Wompi's documented recipe."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    properties = ["transaction.id", "transaction.status", "transaction.amount_in_cents"]
    values = "".join(str(tx[p.split(".")[1]]) for p in properties)
    checksum = hashlib.sha256(f"{values}{timestamp}{secret}".encode()).hexdigest()
    return {
        "event": "transaction.updated",
        "data": {"transaction": copy.deepcopy(tx)},
        "environment": "test",
        "signature": {"properties": properties, "checksum": checksum},
        "timestamp": timestamp,
        "sent_at": "2026-11-18T16:45:05.000Z",
    }


def post(client, public_id, body: dict):
    return client.post(
        f"/payments/webhooks/wompi/{public_id}",
        json=body,
        headers={"X-Event-Checksum": body["signature"]["checksum"]},
    )


def payment_of(payment) -> Payment:
    db.session.expire_all()
    return db.session.get(Payment, payment.id)


def balances(documents):
    return [
        (d.open_balance, d.paid_amount, d.held_amount, d.payment_status)
        for d in map(refreshed, documents)
    ]


def record(event_id: str) -> GatewayEventRecord:
    return db.session.scalars(
        select(GatewayEventRecord).where(GatewayEventRecord.event_id == event_id)
    ).one()


def test_is_a_wompi_checkout_signed_and_an_approved_transaction_credited_once(world, client):
    documents = invoices(world, "100000.00", "50000.00")
    payment = start(world, documents)
    key = f"payment-{payment.id}-{payment.idempotency_key}"
    assert payment.gateway_reference == wompi.wompi_reference(str(payment.id), key)
    assert wompi.payment_reference(payment.gateway_reference) == str(payment.id)
    url = urlsplit(payment.checkout_url)
    query = {k: v for k, (v,) in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}{url.path}" == wompi.CHECKOUT_URL
    assert query["amount-in-cents"] == "15000000"  # whole pesos, in cents
    assert (query["currency"], query["reference"]) == ("COP", payment.gateway_reference)
    assert query["public-key"] == KEYS["public_key"]
    assert (
        query["signature:integrity"]
        == hashlib.sha256(
            f"{payment.gateway_reference}15000000COP{KEYS['integrity_secret']}".encode()
        ).hexdigest()
    )
    assert payment.access_token in query["redirect-url"]
    assert world["wompi"].calls == []  # the checkout URL is computed, not asked for

    tx = transaction(payment)
    world["wompi"].transactions[tx["id"]] = tx
    body = event(tx)
    answer = post(client, world["public_id"], body)
    assert answer.status_code == 200 and answer.json["stored"] == 1
    ((method, url_, headers, _),) = world["wompi"].calls
    assert (method, url_) == ("GET", f"{API}/transactions/{tx['id']}")
    assert headers["Authorization"] == f"Bearer {KEYS['public_key']}"
    found = payment_of(payment)
    assert (found.status, found.confirmed_amount) == ("succeeded", Decimal("150000.00"))
    assert found.gateway_reference == tx["id"]  # refunds and later events name the transaction
    assert balances(documents) == [
        (Decimal("0"), Decimal("100000.00"), Decimal("0"), "paid"),
        (Decimal("0"), Decimal("50000.00"), Decimal("0"), "paid"),
    ]
    assert post(client, world["public_id"], body).json["stored"] == 0  # Wompi retries
    assert len(world["wompi"].calls) == 1
    assert payment_of(payment).confirmed_amount == Decimal("150000.00")


def test_does_an_amount_wompi_holds_other_than_the_payments_need_review(world, client):
    documents = invoices(world, "100000.00")
    payment = start(world, documents)
    tx = transaction(payment)
    # The event tells the right amount; Wompi's API (the one trusted) holds less.
    world["wompi"].transactions[tx["id"]] = {**tx, "amount_in_cents": 1000000}
    assert post(client, world["public_id"], event(tx)).status_code == 200
    found = payment_of(payment)
    assert found.status == "needs_review"
    assert "10000" in found.review_reason
    assert balances(documents) == [(Decimal("100000.00"), Decimal("0"), Decimal("0"), "unpaid")]


def test_does_a_declined_transaction_fail_the_payment_and_free_the_invoice(world, client):
    documents = invoices(world, "100000.00")
    payment = start(world, documents)
    assert refreshed(documents[0]).held_amount == Decimal("100000.00")
    tx = transaction(payment, status="DECLINED")
    assert post(client, world["public_id"], event(tx)).status_code == 200
    assert payment_of(payment).status == "failed"
    assert balances(documents) == [(Decimal("100000.00"), Decimal("0"), Decimal("0"), "unpaid")]
    # The payer tries again: a new attempt, a new Wompi reference, and this one is approved.
    retry = start(world, documents)
    assert retry.gateway_reference != payment.gateway_reference
    approved = transaction(retry, tx_id="1234-1610641025-99999")
    world["wompi"].transactions[approved["id"]] = approved
    post(client, world["public_id"], event(approved))
    assert payment_of(retry).status == "succeeded"
    assert refreshed(documents[0]).payment_status == "paid"


@pytest.mark.parametrize("forgery", ["checksum", "secret", "future", "amount"])
def test_is_a_forged_event_refused_and_nothing_stored(world, client, forgery):
    documents = invoices(world, "100000.00")
    payment = start(world, documents)
    tx = transaction(payment)
    world["wompi"].transactions[tx["id"]] = tx
    if forgery == "checksum":
        body = event(tx)
        body["signature"]["checksum"] = "ab" * 32
    elif forgery == "secret":
        body = event(tx, secret="test_events_someone_else")
    elif forgery == "future":
        body = event(tx, timestamp=int(time.time()) + 3600)
    else:  # a signed amount changed after signing
        body = event(tx)
        body["data"]["transaction"]["amount_in_cents"] = 100
    answer = post(client, world["public_id"], body)
    assert answer.status_code == 400
    assert db.session.query(GatewayEventRecord).count() == 0
    assert payment_of(payment).status == "created"
    assert world["wompi"].calls == []


def test_is_a_transaction_wompi_says_is_another_payments_not_credited_here(world, client):
    """The reference is not signed: Wompi's API says whose money it is."""
    first = start(world, invoices(world, "100000.00"))
    second_docs = invoices(world, "100000.00")
    second = start(world, second_docs)
    tx = transaction(first)  # paid for the first payment...
    world["wompi"].transactions[tx["id"]] = tx
    lying = {**tx, "reference": second.gateway_reference}  # ...announced as the second's
    assert post(client, world["public_id"], event(lying)).status_code == 200
    assert payment_of(second).status == "created"
    assert refreshed(second_docs[0]).payment_status == "unpaid"


def test_does_an_event_find_only_its_own_connections_payments(world, client, fake_wompi):
    documents = invoices(world, "100000.00")
    payment = start(world, documents)
    other = make_company("Ajena S.A.S.")
    theirs = connect(other)
    tx = transaction(payment)
    world["wompi"].transactions[tx["id"]] = tx
    body = event(tx)
    assert post(client, theirs, body).status_code == 200
    assert payment_of(payment).status == "created"
    with acting_as(other.id):
        (stored,) = db.session.scalars(select(GatewayEventRecord)).all()
        assert (stored.state, stored.payment_id) == ("ignored", None)


def test_is_a_refund_through_the_portal_a_void_heard_back_once(world, client):
    documents = invoices(world, "100000.00")
    payment = start(world, documents)
    tx = transaction(payment)
    world["wompi"].transactions[tx["id"]] = tx
    post(client, world["public_id"], event(tx))
    assert payment_of(payment).status == "succeeded"
    with acting_as(world["supplier"].id, world["clerk"].id):
        refund = refunds.refund_payment(
            world["supplier"].id,
            payment_id=payment.id,
            amount=None,
            reason="duplicate",
            actor=world["clerk"],
        )
    db.session.commit()
    assert (refund.status, refund.gateway_reference) == ("succeeded", f"{tx['id']}:void")
    method, url, headers, body = world["wompi"].calls[-1]
    assert (method, url) == ("POST", f"{API}/transactions/{tx['id']}/void")
    assert headers["Authorization"] == f"Bearer {KEYS['private_key']}"
    assert body == {"amount_in_cents": 10000000}
    voided = event({**tx, "status": "VOIDED"})
    assert post(client, world["public_id"], voided).status_code == 200
    assert record(f"{tx['id']}:VOIDED:{voided['timestamp']}").state == "ignored"
    found = payment_of(payment)
    assert (found.status, found.refunded_amount) == ("refunded", Decimal("100000.00"))
    assert balances(documents) == [(Decimal("100000.00"), Decimal("0"), Decimal("0"), "refunded")]


def test_is_a_void_made_in_wompis_dashboard_applied_once(world, client):
    """A VOIDED event does not sign its amount: Wompi's API says the whole amount went back."""
    documents = invoices(world, "100000.00")
    payment = start(world, documents)
    tx = transaction(payment)
    world["wompi"].transactions[tx["id"]] = tx
    post(client, world["public_id"], event(tx))
    tx["status"] = "VOIDED"  # voided by the supplier in Wompi's dashboard
    voided = event(tx)
    assert post(client, world["public_id"], voided).status_code == 200
    assert world["wompi"].calls[-1][:2] == ("GET", f"{API}/transactions/{tx['id']}")
    assert (
        post(client, world["public_id"], event(tx, timestamp=voided["timestamp"] + 5)).json[
            "stored"
        ]
        == 1
    )  # Wompi tells again, later: nothing more
    found = payment_of(payment)
    assert (found.status, found.refunded_amount) == ("refunded", Decimal("100000.00"))
    assert balances(documents) == [(Decimal("100000.00"), Decimal("0"), Decimal("0"), "refunded")]
