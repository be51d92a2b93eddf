"""The payments core with a fake gateway: holds, credits, the forward-only state machine and
the hostile webhook cases (replays, duplicates, reordering, tampered amounts)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.extensions import db
from app.gateways import base as gw
from app.models.payment import GatewayEventRecord, Payment
from app.services.errors import Conflict, DomainError, FieldErrors, NotFound
from app.services.payments import paying, refunds, webhooks
from app.services.payments.paying import Item, OverBalance
from app.tenancy import acting_as
from tests.conftest import make_company, make_user
from tests.payments_helpers import (
    connect_fake,
    invoice,
    refreshed,
    set_payment_settings,
    sign,
    urls,
)


@pytest.fixture
def parties():
    supplier = make_company("Proveedora S.A.S.")
    buyer = make_company("Compradora S.A.S.")
    payer = make_user(buyer, role="payables")
    return supplier, buyer, payer


def start(buyer, payer, items, **kw):
    with acting_as(buyer.id, payer.id):
        payment = paying.start_payment(
            buyer.id, items=items, method="sandbox", actor=payer, urls=urls(), **kw
        )
    db.session.commit()
    return payment


def status(payment):
    db.session.expire_all()
    return db.session.get(Payment, payment.id).status


def deliver(connection, event):
    body, headers = sign(event)
    stored = webhooks.receive_webhook(connection.gateway, connection.public_id, body, headers)
    db.session.commit()  # the relay runs the processing job eagerly after commit
    return stored


def succeeded(payment, amount=None, *, event_id=None, currency="COP"):
    return {
        "id": event_id or f"evt_ok_{payment.id}",
        "kind": gw.PAYMENT_SUCCEEDED,
        "reference": str(payment.id),
        "gateway_reference": payment.gateway_reference,
        "amount": str(payment.amount if amount is None else amount),
        "currency": currency,
    }


def test_two_invoices_paid_by_one_checkout_are_paid_once_whatever_the_gateway_repeats(
    parties, fake_gateway
):
    supplier, buyer, payer = parties
    connection = connect_fake(supplier)
    a, b = invoice(supplier, buyer, "100000.00"), invoice(supplier, buyer, "50000.00")
    payment = start(buyer, payer, [Item(a.id), Item(b.id)])
    assert payment.amount == Decimal("150000.00") and payment.status == "created"
    request = fake_gateway.calls[0][1]
    assert [line.amount for line in request.lines] == [Decimal("100000.00"), Decimal("50000.00")]
    assert refreshed(a).held_amount == Decimal("100000.00")

    deliver(connection, succeeded(payment))
    for _ in range(3):  # the same event again, and a late "pending"
        assert deliver(connection, succeeded(payment)) == []
    deliver(
        connection, {"id": "evt_late", "kind": gw.PAYMENT_PENDING, "reference": str(payment.id)}
    )
    a, b = refreshed(a), refreshed(b)
    assert (a.open_balance, a.paid_amount, a.held_amount, a.payment_status) == (
        Decimal("0"),
        Decimal("100000.00"),
        Decimal("0"),
        "paid",
    )
    assert b.payment_status == "paid"
    assert status(payment) == "succeeded"
    # A second event id saying the same thing credits nothing more.
    deliver(connection, succeeded(payment, event_id="evt_other"))
    assert refreshed(a).paid_amount == Decimal("100000.00")


def test_a_forged_or_tampered_webhook_is_refused_and_stores_nothing(parties, fake_gateway):
    supplier, buyer, payer = parties
    connection = connect_fake(supplier)
    payment = start(buyer, payer, [Item(invoice(supplier, buyer).id)])
    body, headers = sign(succeeded(payment))
    with pytest.raises(webhooks.WebhookRejected):
        webhooks.receive_webhook(
            "sandbox", connection.public_id, body.replace(b"100000", b"1"), headers
        )
    with pytest.raises(webhooks.WebhookRejected):
        webhooks.receive_webhook("sandbox", connection.public_id, body, {})
    with pytest.raises(NotFound):
        webhooks.receive_webhook("sandbox", "gc_unknown", body, headers)
    with pytest.raises(NotFound):  # the right id under another gateway's name
        webhooks.receive_webhook("stripe", connection.public_id, body, headers)
    db.session.rollback()
    assert db.session.query(GatewayEventRecord).count() == 0


def test_an_amount_other_than_expected_needs_review_instead_of_crediting(parties, fake_gateway):
    supplier, buyer, payer = parties
    connection = connect_fake(supplier)
    document = invoice(supplier, buyer)
    payment = start(buyer, payer, [Item(document.id)])
    deliver(connection, succeeded(payment, "1000.00"))
    assert status(payment) == "needs_review"
    document = refreshed(document)
    assert (document.open_balance, document.held_amount, document.payment_status) == (
        Decimal("100000.00"),
        Decimal("0"),
        "unpaid",
    )
    payment2 = start(buyer, payer, [Item(document.id)])
    deliver(connection, succeeded(payment2, currency="USD"))
    assert status(payment2) == "needs_review"


def test_an_event_for_another_connection_changes_nothing(parties, fake_gateway):
    supplier, buyer, payer = parties
    connect_fake(supplier)
    intruder = make_company("Otra S.A.S.")
    theirs = connect_fake(intruder)
    document = invoice(supplier, buyer)
    payment = start(buyer, payer, [Item(document.id)])
    deliver(theirs, succeeded(payment))
    assert status(payment) == "created"
    assert refreshed(document).payment_status == "unpaid"


def test_events_out_of_order_end_paid(parties, fake_gateway):
    supplier, buyer, payer = parties
    connection = connect_fake(supplier)
    document = invoice(supplier, buyer)
    payment = start(buyer, payer, [Item(document.id)])
    deliver(connection, succeeded(payment))
    deliver(connection, {"id": "evt_p", "kind": gw.PAYMENT_PENDING, "reference": str(payment.id)})
    deliver(connection, {"id": "evt_f", "kind": gw.PAYMENT_FAILED, "reference": str(payment.id)})
    assert status(payment) == "succeeded"
    assert refreshed(document).payment_status == "paid"


def test_a_decline_gives_the_balance_back_for_a_retry(parties, fake_gateway):
    supplier, buyer, payer = parties
    connection = connect_fake(supplier)
    document = invoice(supplier, buyer)
    payment = start(buyer, payer, [Item(document.id)])
    deliver(connection, {"id": "evt_d", "kind": gw.PAYMENT_FAILED, "reference": str(payment.id)})
    assert status(payment) == "failed"
    assert refreshed(document).held_amount == Decimal("0")
    retry = start(buyer, payer, [Item(document.id)])
    deliver(connection, succeeded(retry))
    assert refreshed(document).payment_status == "paid"


def test_partial_payments_follow_the_suppliers_rules_and_never_exceed_the_balance(
    parties, fake_gateway
):
    supplier, buyer, payer = parties
    connection = connect_fake(supplier)
    document = invoice(supplier, buyer, "100000.00")
    with pytest.raises(OverBalance):
        start(buyer, payer, [Item(document.id, Decimal("100000.01"))])
    db.session.rollback()
    with pytest.raises(FieldErrors):
        start(buyer, payer, [Item(document.id, Decimal("0"))])
    db.session.rollback()
    with pytest.raises(FieldErrors):
        start(buyer, payer, [Item(document.id, Decimal("10.001"))])
    db.session.rollback()
    payment = start(buyer, payer, [Item(document.id, Decimal("40000"))])
    deliver(connection, succeeded(payment))
    document = refreshed(document)
    assert (document.open_balance, document.payment_status) == (
        Decimal("60000.00"),
        "partially_paid",
    )
    set_payment_settings(supplier, allow_partial=False)
    with pytest.raises(FieldErrors):
        start(buyer, payer, [Item(document.id, Decimal("1000"))])


def test_a_second_payer_cannot_take_a_balance_already_held(parties, fake_gateway):
    supplier, buyer, payer = parties
    connect_fake(supplier)
    document = invoice(supplier, buyer)
    start(buyer, payer, [Item(document.id)])
    other = make_user(buyer, role="payables")
    with pytest.raises(DomainError):
        start(buyer, other, [Item(document.id)])


def test_pay_submitted_twice_is_one_payment(parties, fake_gateway):
    supplier, buyer, payer = parties
    connect_fake(supplier)
    document = invoice(supplier, buyer, "100.00")
    first = start(buyer, payer, [Item(document.id)], idempotency_key="form-123")
    again = start(buyer, payer, [Item(document.id)], idempotency_key="form-123")
    assert again.id == first.id and len(fake_gateway.checkouts) == 1
    with pytest.raises(Conflict):
        start(buyer, payer, [Item(document.id, Decimal("50"))], idempotency_key="form-123")


def test_a_gateway_timeout_is_retried_with_the_same_key_for_one_checkout(parties, fake_gateway):
    supplier, buyer, payer = parties
    connect_fake(supplier)
    document = invoice(supplier, buyer)
    fake_gateway.fail_next = [gw.GatewayError("timeout", retryable=True)]
    payment = start(buyer, payer, [Item(document.id)])
    keys = {call[1].idempotency_key for call in fake_gateway.calls}
    assert len(fake_gateway.calls) == 2 and len(keys) == 1
    assert payment.checkout_url and len(fake_gateway.checkouts) == 1


def test_a_gateway_that_stays_down_leaves_nothing_behind(parties, fake_gateway):
    supplier, buyer, payer = parties
    connect_fake(supplier)
    document = invoice(supplier, buyer)
    fake_gateway.fail_next = [gw.GatewayError("down", retryable=True)] * 3
    with pytest.raises(DomainError):
        start(buyer, payer, [Item(document.id)])
    db.session.rollback()
    assert db.session.query(Payment).count() == 0
    assert refreshed(document).held_amount == Decimal("0")


def test_another_companys_invoice_is_not_found(parties, fake_gateway):
    supplier, buyer, payer = parties
    connect_fake(supplier)
    stranger = make_company("Ajena S.A.S.")
    theirs = invoice(supplier, stranger)
    with pytest.raises(NotFound):
        start(buyer, payer, [Item(theirs.id)])


def test_a_payment_for_an_invoice_credited_in_full_meanwhile_needs_review(parties, fake_gateway):
    supplier, buyer, payer = parties
    connection = connect_fake(supplier)
    document = invoice(supplier, buyer)
    payment = start(buyer, payer, [Item(document.id)])
    # A credit note for the whole invoice is linked meanwhile (what documents.storing does to
    # the balance when one arrives).
    from sqlalchemy import update

    from app.models import Document

    db.session.execute(update(Document).where(Document.id == document.id).values(open_balance=0))
    db.session.commit()
    deliver(connection, succeeded(payment))
    assert status(payment) == "needs_review"
    assert refreshed(document).paid_amount == Decimal("0")


def test_refunds_raise_the_balance_and_a_heard_refund_is_not_applied_twice(parties, fake_gateway):
    supplier, buyer, payer = parties
    connection = connect_fake(supplier)
    document = invoice(supplier, buyer)
    payment = start(buyer, payer, [Item(document.id)])
    deliver(connection, succeeded(payment))
    assert status(payment) == "succeeded"
    with acting_as(supplier.id):
        refund = refunds.refund_payment(
            supplier.id, payment_id=payment.id, amount=Decimal("30000"), reason="", actor=None
        )
    db.session.commit()
    document = refreshed(document)
    assert (document.open_balance, document.payment_status) == (
        Decimal("30000.00"),
        "partially_paid",
    )
    deliver(
        connection,
        {
            "id": "evt_r1",
            "kind": gw.REFUND_SUCCEEDED,
            "reference": str(payment.id),
            "refund_reference": refund.gateway_reference,
            "refunded_total": "30000",
        },
    )
    deliver(
        connection,
        {  # same total, no refund id: already applied
            "id": "evt_r2",
            "kind": gw.REFUND_SUCCEEDED,
            "reference": str(payment.id),
            "refunded_total": "30000",
        },
    )
    assert refreshed(document).open_balance == Decimal("30000.00")
    deliver(
        connection,
        {  # the rest refunded at the gateway's dashboard
            "id": "evt_r3",
            "kind": gw.REFUND_SUCCEEDED,
            "reference": str(payment.id),
            "refunded_total": "100000",
        },
    )
    document = refreshed(document)
    assert (document.open_balance, document.payment_status) == (Decimal("100000.00"), "refunded")
    assert status(payment) == "refunded"
    with pytest.raises(Conflict), acting_as(supplier.id):
        refunds.refund_payment(
            supplier.id, payment_id=payment.id, amount=None, reason="", actor=None
        )


def test_a_transfer_counts_only_once_the_supplier_confirms(parties, fake_gateway):
    import datetime as dt

    supplier, buyer, payer = parties
    set_payment_settings(supplier, account_number="123-456", bank_name="Banco")
    document = invoice(supplier, buyer)
    with acting_as(buyer.id, payer.id):
        payment = paying.record_transfer(
            buyer.id,
            items=[Item(document.id)],
            actor=payer,
            transfer_date=dt.date(2026, 12, 1),
            reference="TRX-1",
            proof=b"%PDF-1.4 receipt",
            proof_filename="r.pdf",
        )
    db.session.commit()
    assert refreshed(document).payment_status == "unpaid"
    clerk = make_user(supplier, role="receivables")
    with acting_as(supplier.id, clerk.id):
        paying.decide_transfer(supplier.id, payment_id=payment.id, confirm=True, actor=clerk)
    db.session.commit()
    assert refreshed(document).payment_status == "paid"
    with pytest.raises(Conflict), acting_as(supplier.id, clerk.id):
        paying.decide_transfer(supplier.id, payment_id=payment.id, confirm=False, actor=clerk)
    with pytest.raises(FieldErrors), acting_as(buyer.id, payer.id):
        paying.record_transfer(
            buyer.id,
            items=[Item(invoice(supplier, buyer).id)],
            actor=payer,
            transfer_date=dt.date(2026, 12, 1),
            reference="X",
            proof=b"MZ\x90\x00 not a receipt",
        )


def test_the_trays_filter_by_payment_status(parties, fake_gateway):
    from app.services.documents import queries

    supplier, buyer, payer = parties
    connection = connect_fake(supplier)
    paid, part, unpaid = (invoice(supplier, buyer) for _ in range(3))
    deliver(connection, succeeded(start(buyer, payer, [Item(paid.id)])))
    deliver(connection, succeeded(start(buyer, payer, [Item(part.id, Decimal("10"))])))

    def listed(status):
        filters = queries.DocumentFilters(payment_status=status)
        with acting_as(buyer.id):
            return [d.id for d in db.session.scalars(queries.received(buyer.id, filters=filters))]

    assert listed("paid") == [paid.id]
    assert listed("partially_paid") == [part.id]
    assert listed("unpaid") == [unpaid.id]
    assert sorted(listed(None)) == sorted([paid.id, part.id, unpaid.id])
    assert sorted(listed("bogus")) == sorted([paid.id, part.id, unpaid.id])


def test_an_abandoned_checkout_does_not_stop_its_payer_paying_again(parties, fake_gateway):
    supplier, buyer, payer = parties
    connection = connect_fake(supplier)
    document = invoice(supplier, buyer)
    abandoned = start(buyer, payer, [Item(document.id)])
    again = start(buyer, payer, [Item(document.id)])  # came back from the gateway, pays anew
    assert status(abandoned) == "canceled" and again.id != abandoned.id
    assert refreshed(document).held_amount == Decimal("100000.00")
    deliver(connection, succeeded(again))
    assert refreshed(document).payment_status == "paid"
    # The abandoned checkout was paid after all: the money is real, the invoice closed: review.
    deliver(connection, succeeded(abandoned, event_id="evt_late_old"))
    assert status(abandoned) == "needs_review"
    assert refreshed(document).paid_amount == Decimal("100000.00")


def test_an_abandoned_checkout_paid_later_is_credited_while_the_invoice_is_open(
    parties, fake_gateway
):
    supplier, buyer, payer = parties
    connection = connect_fake(supplier)
    document = invoice(supplier, buyer)
    abandoned = start(buyer, payer, [Item(document.id, Decimal("100"))])
    start(buyer, payer, [Item(document.id, Decimal("200"))])
    deliver(connection, succeeded(abandoned))
    assert status(abandoned) == "succeeded"
    document = refreshed(document)
    assert document.paid_amount == Decimal("100") and document.held_amount == Decimal("200.00")


def test_checkouts_left_for_a_day_give_their_holds_back(parties, fake_gateway):
    import datetime as dt

    from app.models.base import utcnow

    supplier, buyer, payer = parties
    connect_fake(supplier)
    document = invoice(supplier, buyer)
    payment = start(buyer, payer, [Item(document.id)])
    assert paying.expire_abandoned(utcnow()) == 0
    assert paying.expire_abandoned(utcnow() + dt.timedelta(hours=25)) == 1
    db.session.commit()
    assert status(payment) == "canceled" and refreshed(document).held_amount == Decimal("0")


def test_a_customer_who_pays_by_link_then_registers_keeps_the_payment(parties, fake_gateway, app):
    from sqlalchemy import select

    from app.services import accounts
    from app.services.payments import queries
    from app.tenancy import unscoped
    from tests.conftest import unique_nit
    from tests.services.test_accounts import registration

    supplier, _buyer, _payer = parties
    connection = connect_fake(supplier)
    nit = unique_nit()
    document = invoice(supplier, None)
    document.customer_tax_id = nit
    db.session.commit()
    payment = paying.start_payment(
        None,
        items=[Item(document.id)],
        method="sandbox",
        actor=None,
        urls=urls(),
        link=True,
        payer_email="pagos@cliente.test",
    )
    db.session.commit()
    assert payment.payer_company_id is None
    deliver(connection, succeeded(payment))
    with app.test_request_context():
        user = accounts.register_company(registration(tax_id=nit))
    db.session.commit()
    from app.models import Membership

    company_id = db.session.scalar(
        unscoped(select(Membership.company_id).where(Membership.user_id == user.id))
    )
    assert refreshed(document).receiver_company_id == company_id
    with acting_as(company_id):
        mine = queries.get_payment(company_id, payment.id)
        assert mine.status == "succeeded" and mine.payer_company_id == company_id
        assert [d.id for _a, d in queries.allocations(payment.id)] == [document.id]


def test_the_bell_words_a_payment_in_the_readers_language(parties, fake_gateway, app):
    from flask_babel import force_locale
    from sqlalchemy import select

    from app.models import Notification
    from app.services import notifications
    from app.tenancy import unscoped

    supplier, buyer, payer = parties
    make_user(supplier, role="receivables")
    connection = connect_fake(supplier)
    payment = start(buyer, payer, [Item(invoice(supplier, buyer, "1234.50").id)])
    deliver(connection, succeeded(payment))
    row = db.session.scalars(
        unscoped(select(Notification).where(Notification.kind == "payment_received"))
    ).first()
    with app.test_request_context():
        with force_locale("en"):
            english = notifications.title(row)
        with force_locale("es"):
            spanish = notifications.title(row)
    assert "1,234.50" in english and "paid you" in english
    assert "1.234,50" in spanish and "le pagó" in spanish


def test_the_payees_erp_hears_of_the_payment_with_its_remittance(parties, fake_gateway):
    from sqlalchemy import select

    from app.models import WebhookDelivery, WebhookEndpoint
    from app.tenancy import unscoped

    supplier, buyer, payer = parties
    db.session.add(
        WebhookEndpoint(
            company_id=supplier.id,
            url="http://127.0.0.1:9/hooks",
            secret="whsec_x",
            events=["payment.succeeded", "payment.refunded"],
        )
    )
    db.session.commit()
    connection = connect_fake(supplier)
    a, b = invoice(supplier, buyer, "100.00"), invoice(supplier, buyer, "50.00")
    payment = start(buyer, payer, [Item(a.id), Item(b.id, Decimal("20.00"))])
    deliver(connection, succeeded(payment))
    (delivery,) = db.session.scalars(
        unscoped(select(WebhookDelivery).where(WebhookDelivery.company_id == supplier.id))
    ).all()
    data = delivery.payload["data"]
    assert delivery.event_type == "payment.succeeded"
    assert (data["id"], data["amount"], data["currency"]) == (payment.id, "120.00", "COP")
    assert [(x["number"], x["amount"]) for x in data["allocations"]] == [
        (a.number, "100.00"),
        (b.number, "20.00"),
    ]
    assert data["gateway_reference"] == payment.gateway_reference


@pytest.mark.parametrize(("typed", "amount"), [
    ("1234.50", Decimal("1234.50")), (" 12 ", Decimal("12.00")), (".5", Decimal("0.50")),
    (Decimal("7.5"), Decimal("7.50")), (3, Decimal("3.00")),
])
def test_is_a_typed_amount_read_with_one_decimal_point(typed, amount):
    found = paying.parse_amount(typed, "USD")
    assert found == amount and str(found) == str(amount)


@pytest.mark.parametrize("typed", [
    "1.234,50", "1,234.50", "1,5", "1 000", "1e3", "NaN", "Infinity", "5.", "", None, True, "abc",
])
def test_is_an_amount_not_written_with_one_decimal_point_refused(typed):
    with pytest.raises(FieldErrors) as caught:
        paying.parse_amount(typed, "USD")
    assert "amount" in caught.value.errors
