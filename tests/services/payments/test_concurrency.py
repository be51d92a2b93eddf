"""Two people at the same moment: two payers taking the same invoice's balance, a gateway
delivering the same event twice at once. Each thread has its own app context and session, as
two requests in two worker threads do; a barrier makes them reach the racy part together.

Run on SQLite by default and on PostgreSQL with DATABASE_URL (tests/conftest.py).
"""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.gateways import base as gw
from app.models.payment import GatewayEventRecord, Payment, PaymentAllocation
from app.services.payments import paying
from app.services.payments.paying import Item
from app.tenancy import acting_as
from tests.conftest import make_company, make_user
from tests.payments_helpers import connect_fake, invoice, refreshed, sign, urls


def race(app, *targets, barrier: threading.Barrier):
    """Run each target in its own thread (own app context and session); their outcomes."""
    outcomes: list[object] = [None] * len(targets)

    def run(index, target):
        with app.app_context():
            try:
                outcomes[index] = target()
            except Exception as error:  # noqa: BLE001 - the outcome is what the test reads
                db.session.rollback()
                outcomes[index] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, t)) for i, t in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a thread is stuck"
    assert not barrier.broken, "the threads never met"
    return outcomes


@pytest.mark.parametrize("repeat", range(3))
def test_can_two_payers_paying_the_same_invoice_at_once_take_more_than_its_balance(
    app, fake_gateway, monkeypatch, repeat
):
    supplier = make_company("Proveedora S.A.S.")
    buyer = make_company("Compradora S.A.S.")
    first, second = make_user(buyer, role="payables"), make_user(buyer, role="payables")
    connect_fake(supplier)
    document = invoice(supplier, buyer, "100000.00")
    document_id, buyer_id = document.id, buyer.id
    users = {first.id: first, second.id: second}

    # Both payers have read the open balance (and chosen to pay all of it) before either
    # writes: the check in Python passes for both; only the database can stop the second.
    barrier = threading.Barrier(2, timeout=20)
    allocations = paying._allocations

    def read_then_wait(selection, items):
        chosen = allocations(selection, items)
        barrier.wait()
        return chosen

    monkeypatch.setattr(paying, "_allocations", read_then_wait)

    def pay(user_id):
        def target():
            with acting_as(buyer_id, user_id):
                payment = paying.start_payment(
                    buyer_id,
                    items=[Item(document_id)],
                    method="sandbox",
                    actor=users[user_id],
                    urls=urls(),
                )
                db.session.commit()
                return payment.id

        return target

    outcomes = race(app, pay(first.id), pay(second.id), barrier=barrier)
    paid = [o for o in outcomes if isinstance(o, int)]
    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert len(paid) == 1 and len(refused) == 1, outcomes
    # The second hold found the balance taken: the payer reads that someone else is paying.
    assert isinstance(refused[0], paying.OverBalance), repr(refused[0])
    assert "FE" in str(refused[0].message)  # names the invoice, in the reader's language

    with acting_as(supplier.id):
        document = refreshed(document)
        assert (document.held_amount, document.open_balance) == (
            Decimal("100000.00"),
            Decimal("100000.00"),
        )
        held = db.session.scalar(select(func.sum(PaymentAllocation.amount)))
        assert held == Decimal("100000.00")
        assert db.session.scalar(select(func.count(Payment.id))) == 1


@pytest.mark.parametrize("repeat", range(3))
def test_is_the_same_event_delivered_twice_at_once_stored_and_credited_once(
    app, fake_gateway, monkeypatch, repeat
):
    supplier = make_company("Proveedora S.A.S.")
    buyer = make_company("Compradora S.A.S.")
    payer = make_user(buyer, role="payables")
    connection = connect_fake(supplier)
    document = invoice(supplier, buyer, "100000.00")
    with acting_as(buyer.id, payer.id):
        payment = paying.start_payment(
            buyer.id, items=[Item(document.id)], method="sandbox", actor=payer, urls=urls()
        )
    db.session.commit()
    body, headers = sign(
        {
            "id": "evt_twice",
            "kind": gw.PAYMENT_SUCCEEDED,
            "reference": str(payment.id),
            "gateway_reference": payment.gateway_reference,
            "amount": str(payment.amount),
            "currency": "COP",
        }
    )
    url = f"/payments/webhooks/sandbox/{connection.public_id}"

    # Both deliveries are verified, then look for the event and find it not stored yet.
    barrier = threading.Barrier(2, timeout=20)
    parse = fake_gateway.parse_webhook

    def verified_then_wait(body_, headers_):
        events = parse(body_, headers_)
        barrier.wait()
        return events

    monkeypatch.setattr(fake_gateway, "parse_webhook", verified_then_wait)

    def deliver():
        answer = app.test_client().post(url, data=body, headers=headers)
        return answer.status_code, answer.get_json()

    outcomes = race(app, deliver, deliver, barrier=barrier)
    assert [status for status, _ in outcomes] == [200, 200], outcomes
    assert sorted(answer["stored"] for _, answer in outcomes) == [0, 1]

    with acting_as(supplier.id):
        assert db.session.scalar(select(func.count(GatewayEventRecord.id))) == 1
        document = refreshed(document)
        assert (document.paid_amount, document.open_balance, document.payment_status) == (
            Decimal("100000.00"),
            Decimal("0"),
            "paid",
        )
        assert db.session.get(Payment, payment.id).status == "succeeded"
