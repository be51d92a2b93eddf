"""Does the Stripe adapter ask Stripe for the right things and believe only signed webhooks?

Stripe is replaced by a fake ``stripe.HTTPClient`` that records every request the official SDK
sends (method, path, query, headers, form body) and answers with JSON shaped like Stripe's
documented objects. Nothing reaches the network.

The fake and Stripe's canned objects live in ``tests/gateways/stripe_fake.py``.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import stripe

from app.gateways import base
from app.gateways.stripe import CREDENTIAL_FIELDS, StripeGateway, is_test_mode
from tests.gateways.stripe_fake import (
    NOW,
    SECRET_KEY,
    WEBHOOK_SECRET,
    FakeStripe,
    charge_json,
    error_json,
    event_json,
    list_json,
    refund_json,
    session_json,
    signed,
)


@pytest.fixture
def fake() -> FakeStripe:
    return FakeStripe()


@pytest.fixture
def gateway(fake) -> StripeGateway:
    return StripeGateway(
        {"secret_key": SECRET_KEY, "webhook_secret": WEBHOOK_SECRET}, http_client=fake
    )


def checkout_request(**overrides) -> base.CheckoutRequest:
    values = {
        "reference": "pay-42",
        "amount": Decimal("1234.56"),
        "currency": "USD",
        "lines": (
            base.CheckoutLine("doc-1", "Invoice FE-1001", Decimal("1000.00")),
            base.CheckoutLine("doc-2", "Invoice FE-1002", Decimal("234.56")),
        ),
        "success_url": "https://portal.example/pay/42/done",
        "cancel_url": "https://portal.example/pay/42/cancel",
        "idempotency_key": "payment-42-attempt-1",
        "customer_email": "ap@buyer.example",
    }
    values.update(overrides)
    return base.CheckoutRequest(**values)


# -- connecting --------------------------------------------------------------------------------


def test_does_the_connect_form_ask_for_both_keys_as_secrets():
    assert [(key, secret) for key, _, secret in CREDENTIAL_FIELDS] == [
        ("secret_key", True),
        ("webhook_secret", True),
    ]
    assert all(label for _, label, _ in CREDENTIAL_FIELDS)


@pytest.mark.parametrize(
    ("key", "test"),
    [
        ("sk_test_abc", True),
        ("rk_test_abc", True),
        ("sk_live_abc", False),
        ("rk_live_abc", False),
        ("", False),
    ],
)
def test_is_a_test_key_told_from_a_live_one(key, test):
    assert is_test_mode({"secret_key": key}) is test


def test_does_the_connection_say_what_it_offers(gateway, fake):
    caps = gateway.capabilities()
    assert caps.methods == ("card",)
    assert caps.currencies == ("USD", "EUR", "MXN", "COP", "CLP")
    assert caps.max_lines == 100
    assert caps.test_mode is True
    live = StripeGateway({"secret_key": "sk_live_x", "webhook_secret": "whsec_x"}, http_client=fake)
    assert live.capabilities().test_mode is False


@pytest.mark.parametrize("key", ["pk_test_abc", "", "sk_abc", "whsec_abc"])
def test_is_a_key_that_is_not_a_secret_key_refused(key):
    with pytest.raises(base.GatewayError, match="secret key"):
        StripeGateway({"secret_key": key, "webhook_secret": WEBHOOK_SECRET})


def test_does_each_connection_use_its_own_key_and_never_the_global_one(fake):
    one = StripeGateway({"secret_key": "sk_test_one"}, http_client=fake)
    two = StripeGateway({"secret_key": "sk_test_two"}, http_client=fake)
    fake.reply(session_json())
    fake.reply(session_json())
    one.fetch_payment("cs_test_a1B2c3")
    two.fetch_payment("cs_test_a1B2c3")
    assert [s.headers["Authorization"] for s in fake.sent] == [
        "Bearer sk_test_one",
        "Bearer sk_test_two",
    ]
    assert stripe.api_key is None


# -- checkout ----------------------------------------------------------------------------------


def test_does_a_checkout_send_one_line_per_invoice_in_cents(gateway, fake):
    fake.reply(session_json())
    checkout = gateway.create_checkout(checkout_request(description="Invoices of March"))

    assert checkout == base.Checkout(
        gateway_reference="cs_test_a1B2c3",
        url="https://checkout.stripe.com/c/pay/cs_test_a1B2c3",
        expires_at=datetime.fromtimestamp(NOW + 86400, UTC),
    )
    (sent,) = fake.sent
    assert (sent.method, sent.path) == ("POST", "/v1/checkout/sessions")
    assert sent.headers["Idempotency-Key"] == "payment-42-attempt-1"
    assert sent.headers["Authorization"] == f"Bearer {SECRET_KEY}"
    assert sent.form == {
        "mode": ["payment"],
        "payment_method_types[0]": ["card"],
        "line_items[0][quantity]": ["1"],
        "line_items[0][price_data][currency]": ["usd"],
        "line_items[0][price_data][unit_amount]": ["100000"],
        "line_items[0][price_data][product_data][name]": ["Invoice FE-1001"],
        "line_items[1][quantity]": ["1"],
        "line_items[1][price_data][currency]": ["usd"],
        "line_items[1][price_data][unit_amount]": ["23456"],
        "line_items[1][price_data][product_data][name]": ["Invoice FE-1002"],
        "client_reference_id": ["pay-42"],
        "metadata[payment_reference]": ["pay-42"],
        "payment_intent_data[metadata][payment_reference]": ["pay-42"],
        "payment_intent_data[description]": ["Invoices of March"],
        "success_url": ["https://portal.example/pay/42/done"],
        "cancel_url": ["https://portal.example/pay/42/cancel"],
        "customer_email": ["ap@buyer.example"],
    }


def test_are_chilean_pesos_sent_without_cents(gateway, fake):
    fake.reply(session_json(currency="clp", amount_total=150000))
    gateway.create_checkout(
        checkout_request(
            amount=Decimal("150000"),
            currency="CLP",
            lines=(
                base.CheckoutLine("doc-1", "Factura 501", Decimal("100000")),
                base.CheckoutLine("doc-2", "Factura 502", Decimal("50000")),
            ),
            customer_email=None,
        )
    )
    (sent,) = fake.sent
    assert sent.field("line_items[0][price_data][currency]") == "clp"
    assert sent.field("line_items[0][price_data][unit_amount]") == "100000"
    assert sent.field("line_items[1][price_data][unit_amount]") == "50000"
    assert "customer_email" not in sent.form


def test_are_colombian_pesos_sent_in_cents(gateway, fake):
    fake.reply(session_json(currency="cop"))
    gateway.create_checkout(
        checkout_request(
            amount=Decimal("1500000.50"),
            currency="COP",
            lines=(base.CheckoutLine("doc-1", "Factura FE-9", Decimal("1500000.50")),),
        )
    )
    assert fake.sent[0].field("line_items[0][price_data][unit_amount]") == "150000050"
    assert fake.sent[0].field("line_items[0][price_data][currency]") == "cop"


def test_does_a_checkout_take_a_hundred_invoices_but_not_a_hundred_and_one(gateway, fake):
    def lines(count):
        return tuple(
            base.CheckoutLine(f"doc-{i}", f"Invoice {i}", Decimal("1.00")) for i in range(count)
        )

    with pytest.raises(base.GatewayError, match="at most 100") as refused:
        gateway.create_checkout(checkout_request(amount=Decimal("101.00"), lines=lines(101)))
    assert refused.value.retryable is False
    assert fake.sent == []

    fake.reply(session_json())
    gateway.create_checkout(checkout_request(amount=Decimal("100.00"), lines=lines(100)))
    form = fake.sent[0].form
    assert form["line_items[99][price_data][product_data][name]"] == ["Invoice 99"]
    assert "line_items[100][quantity]" not in form


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"amount": Decimal("1234.55")}, "do not add up"),
        ({"currency": "PEN"}, "not offered"),
        ({"lines": ()}, "at least one"),
        (
            {
                "amount": Decimal("10.5"),
                "currency": "CLP",
                "lines": (base.CheckoutLine("d", "Factura", Decimal("10.5")),),
            },
            "more decimals than CLP",
        ),
        (
            {
                "amount": Decimal("0"),
                "lines": (base.CheckoutLine("d", "Invoice", Decimal("0")),),
            },
            "more than zero",
        ),
    ],
)
def test_is_a_checkout_stripe_could_not_charge_rightly_refused_before_asking(
    gateway, fake, overrides, message
):
    with pytest.raises(base.GatewayError, match=message) as refused:
        gateway.create_checkout(checkout_request(**overrides))
    assert refused.value.retryable is False
    assert fake.sent == []


def test_is_a_payment_or_refund_without_an_idempotency_key_refused(gateway, fake):
    with pytest.raises(base.GatewayError, match="idempotency key"):
        gateway.create_checkout(checkout_request(idempotency_key=" "))
    with pytest.raises(base.GatewayError, match="idempotency key"):
        gateway.refund(base.RefundRequest("cs_test_a1B2c3", Decimal("1.00"), "USD", ""))
    assert fake.sent == []


def test_is_a_stripe_outage_retried_with_the_same_key_then_reported_as_retryable(gateway, fake):
    fake.reply(error_json("api_error", "Something went wrong on Stripe's end."), 500, times=3)
    with pytest.raises(base.GatewayError, match="Something went wrong") as failed:
        gateway.create_checkout(checkout_request())
    assert failed.value.retryable is True
    assert len(fake.sent) == 3
    assert {s.headers["Idempotency-Key"] for s in fake.sent} == {"payment-42-attempt-1"}


def test_is_a_connection_error_retryable(gateway, fake):
    fake.fail(stripe.APIConnectionError("Could not connect", should_retry=True), times=3)
    with pytest.raises(base.GatewayError, match="Could not connect") as failed:
        gateway.create_checkout(checkout_request())
    assert failed.value.retryable is True


def test_is_a_rate_limit_retryable(gateway, fake):
    fake.reply(error_json("invalid_request_error", "Too many requests", "rate_limit"), 429)
    with pytest.raises(base.GatewayError) as failed:
        gateway.create_checkout(checkout_request())
    assert failed.value.retryable is True
    assert len(fake.sent) == 1


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (402, error_json("card_error", "Your card was declined.", "card_declined")),
        (400, error_json("invalid_request_error", "Invalid email address: x", "email_invalid")),
        (401, error_json("invalid_request_error", "Invalid API Key provided: sk_test_****0000")),
        (400, error_json("idempotency_error", "Keys for idempotent requests can only be used…")),
    ],
)
def test_is_a_refusal_by_stripe_not_retryable(gateway, fake, status, body):
    fake.reply(body, status)
    with pytest.raises(base.GatewayError, match=body["error"]["message"][:20]) as failed:
        gateway.create_checkout(checkout_request())
    assert failed.value.retryable is False
    assert len(fake.sent) == 1


# -- fetching a payment ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "payment_status", "kind"),
    [
        ("complete", "paid", base.PAYMENT_SUCCEEDED),
        ("open", "unpaid", base.PAYMENT_PENDING),
        ("expired", "unpaid", base.PAYMENT_CANCELED),
        ("complete", "unpaid", base.PAYMENT_PENDING),
    ],
)
def test_does_asking_for_a_payment_read_the_session(gateway, fake, status, payment_status, kind):
    fake.reply(session_json(status=status, payment_status=payment_status))
    payment = gateway.fetch_payment("cs_test_a1B2c3")
    assert payment == base.PaymentStatus(
        gateway_reference="cs_test_a1B2c3",
        kind=kind,
        reference="pay-42",
        amount=Decimal("1234.56"),
        currency="USD",
        method="card",
    )
    (sent,) = fake.sent
    assert (sent.method, sent.path) == ("GET", "/v1/checkout/sessions/cs_test_a1B2c3")


def test_is_an_unknown_session_a_clear_refusal(gateway, fake):
    fake.reply(
        error_json(
            "invalid_request_error", "No such checkout.session: 'cs_nope'", "resource_missing"
        ),
        404,
    )
    with pytest.raises(base.GatewayError, match="No such checkout.session") as failed:
        gateway.fetch_payment("cs_nope")
    assert failed.value.retryable is False


# -- refunds -----------------------------------------------------------------------------------


def test_does_a_refund_carry_its_amount_and_idempotency_key(gateway, fake):
    fake.reply(session_json(status="complete", payment_status="paid", payment_intent="pi_3Pay42"))
    fake.reply(refund_json(amount=2550, status="pending"))
    result = gateway.refund(
        base.RefundRequest(
            gateway_reference="cs_test_a1B2c3",
            amount=Decimal("25.50"),
            currency="USD",
            idempotency_key="refund-7",
            reason="requested_by_customer",
        )
    )
    assert result == base.RefundResult(
        refund_reference="re_1", status="pending", amount=Decimal("25.50")
    )
    read, refund = fake.sent
    assert (read.method, read.path) == ("GET", "/v1/checkout/sessions/cs_test_a1B2c3")
    assert (refund.method, refund.path) == ("POST", "/v1/refunds")
    assert refund.headers["Idempotency-Key"] == "refund-7"
    assert refund.form == {
        "payment_intent": ["pi_3Pay42"],
        "amount": ["2550"],
        "reason": ["requested_by_customer"],
        "metadata[payment_reference]": ["pay-42"],
        "metadata[reason]": ["requested_by_customer"],
    }


def test_does_a_refund_in_chilean_pesos_send_whole_pesos(gateway, fake):
    fake.reply(
        session_json(
            currency="clp", status="complete", payment_status="paid", payment_intent="pi_clp"
        )
    )
    fake.reply(refund_json(amount=35000, currency="clp"))
    result = gateway.refund(
        base.RefundRequest("cs_test_a1B2c3", Decimal("35000"), "CLP", "refund-8", "overbilled")
    )
    assert result.amount == Decimal("35000")
    refund = fake.sent[1]
    assert refund.field("amount") == "35000"
    assert "reason" not in refund.form  # not one of Stripe's reasons: kept in metadata only
    assert refund.field("metadata[reason]") == "overbilled"


@pytest.mark.parametrize(
    ("session", "request_currency", "message"),
    [
        (session_json(status="open", payment_intent=None), "USD", "never paid"),
        (session_json(status="complete", payment_intent="pi_1"), "EUR", "payment was in USD"),
    ],
)
def test_is_a_refund_that_cannot_be_right_refused_before_sending(
    gateway, fake, session, request_currency, message
):
    fake.reply(session)
    with pytest.raises(base.GatewayError, match=message):
        gateway.refund(
            base.RefundRequest("cs_test_a1B2c3", Decimal("10"), request_currency, "refund-9")
        )
    assert [s.method for s in fake.sent] == ["GET"]


# -- settlements -------------------------------------------------------------------------------


def txn(txn_id, kind, amount, fee, source, description=""):
    return {
        "id": txn_id,
        "object": "balance_transaction",
        "amount": amount,
        "available_on": NOW,
        "created": NOW,
        "currency": "usd",
        "description": description,
        "fee": fee,
        "fee_details": [],
        "net": amount - fee,
        "reporting_category": kind,
        "source": source,
        "status": "available",
        "type": kind,
    }


def test_does_each_payout_list_its_charges_refunds_and_fees(gateway, fake):
    payout = {
        "id": "po_1",
        "object": "payout",
        "amount": 7410,
        "arrival_date": 1_795_132_800,  # 2026-11-20 00:00 UTC
        "created": NOW,
        "currency": "usd",
        "status": "paid",
    }
    charge = charge_json(id="ch_1")
    refund = refund_json(refund_id="re_1", amount=2000)
    fake.reply(list_json("/v1/payouts", [payout]))
    fake.reply(
        list_json(
            "/v1/balance_transactions",
            [
                txn("txn_charge", "charge", 10000, 320, charge, "Invoice FE-1001"),
                txn("txn_refund", "refund", -2000, 0, refund),
            ],
            has_more=True,
        )
    )
    fake.reply(
        list_json(
            "/v1/balance_transactions",
            [
                txn("txn_fee", "stripe_fee", -150, 0, None, "Billing - Usage Fee"),
                txn("txn_adj", "adjustment", -120, 0, {"id": "dp_1", "object": "dispute"}),
                txn("txn_payout", "payout", -7410, 0, "po_1"),
            ],
        )
    )

    (settlement,) = gateway.list_settlements(since=date(2026, 11, 1))

    assert settlement.settlement_id == "po_1"
    assert settlement.currency == "USD"
    assert settlement.paid_on == date(2026, 11, 20)
    assert settlement.amount == Decimal("74.10")
    assert settlement.status == "paid"
    assert settlement.lines == (
        base.SettlementLine(
            "charge",
            "ch_1",
            Decimal("100.00"),
            Decimal("3.20"),
            Decimal("96.80"),
            "pay-42",
            "Invoice FE-1001",
        ),
        base.SettlementLine(
            "refund",
            "re_1",
            Decimal("-20.00"),
            Decimal("0.00"),
            Decimal("-20.00"),
            "pay-42",
            "refund",
        ),
        base.SettlementLine(
            "fee",
            "txn_fee",
            Decimal("-1.50"),
            Decimal("0.00"),
            Decimal("-1.50"),
            None,
            "Billing - Usage Fee",
        ),
        base.SettlementLine(
            "adjustment",
            "dp_1",
            Decimal("-1.20"),
            Decimal("0.00"),
            Decimal("-1.20"),
            None,
            "adjustment",
        ),
    )
    # the lines add up to what reached the bank
    assert sum(line.net for line in settlement.lines) == settlement.amount

    payouts, first_page, second_page = fake.sent
    assert (payouts.method, payouts.path) == ("GET", "/v1/payouts")
    since = int(datetime(2026, 11, 1, tzinfo=UTC).timestamp())
    assert payouts.param("created[gte]") == str(since)
    assert first_page.path == second_page.path == "/v1/balance_transactions"
    for page in (first_page, second_page):
        assert page.param("payout") == "po_1"
        assert page.param("expand[0]") == "data.source"
    assert second_page.param("starting_after") == "txn_refund"


def test_does_a_payout_in_chilean_pesos_stay_in_whole_pesos(gateway, fake):
    payout = {
        "id": "po_clp",
        "object": "payout",
        "amount": 96800,
        "arrival_date": 1_795_132_800,
        "currency": "clp",
        "status": "in_transit",
    }
    fake.reply(list_json("/v1/payouts", [payout]))
    charge_txn = txn("txn_c", "charge", 100000, 3200, charge_json(currency="clp"))
    charge_txn["currency"] = "clp"
    fake.reply(list_json("/v1/balance_transactions", [charge_txn]))
    (settlement,) = gateway.list_settlements()
    assert "created[gte]" not in fake.sent[0].query
    assert settlement.amount == Decimal("96800")
    assert settlement.status == "in_transit"
    (line,) = settlement.lines
    assert (line.amount, line.fee, line.net) == (
        Decimal("100000"),
        Decimal("3200"),
        Decimal("96800"),
    )


def test_is_a_failure_while_listing_payouts_a_gateway_error(gateway, fake):
    fake.reply(error_json("api_error", "Something went wrong"), 503, times=3)
    with pytest.raises(base.GatewayError) as failed:
        gateway.list_settlements()
    assert failed.value.retryable is True


# -- webhooks ----------------------------------------------------------------------------------


def parse(gateway, kind, obj, **event) -> base.GatewayEvent:
    payload = event_json(kind, obj, **event)
    (parsed,) = gateway.parse_webhook(payload.encode(), signed(payload))
    return parsed


def test_does_a_paid_checkout_become_a_succeeded_payment_with_stripes_amount(gateway, fake):
    session = session_json(status="complete", payment_status="paid", payment_intent="pi_3Pay42")
    event = parse(gateway, "checkout.session.completed", session, event_id="evt_paid")
    assert event == base.GatewayEvent(
        event_id="evt_paid",
        kind=base.PAYMENT_SUCCEEDED,
        reference="pay-42",
        gateway_reference="cs_test_a1B2c3",
        occurred_at=datetime.fromtimestamp(NOW, UTC),
        amount=Decimal("1234.56"),
        currency="USD",
        method="card",
        raw_type="checkout.session.completed",
    )
    assert fake.sent == []  # read from the signed body alone


def test_is_a_chilean_checkout_read_in_whole_pesos(gateway):
    session = session_json(currency="clp", amount_total=150000, payment_status="paid")
    event = parse(gateway, "checkout.session.completed", session)
    assert (event.amount, event.currency) == (Decimal("150000"), "CLP")


@pytest.mark.parametrize(
    ("kind", "payment_status", "expected"),
    [
        ("checkout.session.completed", "unpaid", base.PAYMENT_PENDING),
        ("checkout.session.async_payment_succeeded", "paid", base.PAYMENT_SUCCEEDED),
        ("checkout.session.async_payment_failed", "unpaid", base.PAYMENT_FAILED),
        ("checkout.session.expired", "unpaid", base.PAYMENT_CANCELED),
    ],
)
def test_does_each_checkout_event_say_what_happened(gateway, kind, payment_status, expected):
    event = parse(gateway, kind, session_json(payment_status=payment_status))
    assert event.kind == expected
    assert (event.reference, event.gateway_reference) == ("pay-42", "cs_test_a1B2c3")
    assert event.raw_type == kind


def test_does_a_refunded_charge_name_the_payment_and_its_latest_refund(gateway):
    charge = charge_json(
        amount_refunded=3000,
        refunds=list_json(
            "/v1/charges/ch_3Pay42/refunds",
            [
                refund_json("re_new", amount=1000, created=NOW + 60),
                refund_json("re_old", amount=2000, created=NOW),
            ],
        ),
    )
    event = parse(gateway, "charge.refunded", charge, event_id="evt_refund")
    assert event.kind == base.REFUND_SUCCEEDED
    assert event.event_id == "evt_refund"
    assert event.reference == "pay-42"
    assert event.gateway_reference == "pi_3Pay42"
    assert event.refund_reference == "re_new"
    assert event.refunded_total == Decimal("30.00")
    assert (event.amount, event.currency) == (Decimal("10.00"), "USD")


def test_does_a_refunded_charge_without_its_refunds_still_give_the_total(gateway):
    event = parse(gateway, "charge.refunded", charge_json(amount_refunded=123456))
    assert event.kind == base.REFUND_SUCCEEDED
    assert event.refund_reference is None
    assert event.refunded_total == Decimal("1234.56")


def test_is_a_dispute_reported(gateway):
    dispute = {
        "id": "dp_1",
        "object": "dispute",
        "amount": 123456,
        "charge": "ch_3Pay42",
        "created": NOW,
        "currency": "usd",
        "livemode": False,
        "metadata": {},
        "payment_intent": "pi_3Pay42",
        "reason": "fraudulent",
        "status": "needs_response",
    }
    event = parse(gateway, "charge.dispute.created", dispute)
    assert event.kind == base.PAYMENT_DISPUTED
    assert event.gateway_reference == "pi_3Pay42"
    assert (event.amount, event.currency) == (Decimal("1234.56"), "USD")


@pytest.mark.parametrize(
    ("kind", "obj", "event"),
    [
        ("payment_intent.succeeded", {"id": "pi_1", "object": "payment_intent"}, {}),
        ("customer.created", {"id": "cus_1", "object": "customer"}, {}),
        # a subscription's checkout is none of the portal's payments
        ("checkout.session.completed", session_json(mode="subscription"), {}),
        # a live event on a test connection moved no money here
        ("checkout.session.completed", session_json(payment_status="paid"), {"livemode": True}),
    ],
)
def test_is_any_other_event_acknowledged_and_ignored(gateway, kind, obj, event):
    parsed = parse(gateway, kind, obj, event_id="evt_other", **event)
    assert parsed.kind == "ignored"
    assert parsed.event_id == "evt_other"
    assert parsed.raw_type == kind
    assert (parsed.reference, parsed.amount) == (None, None)


def _paid_event() -> str:
    return event_json("checkout.session.completed", session_json(payment_status="paid"))


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"Stripe-Signature": f"t={int(time.time())},v1={'ab' * 32}"}, id="forged"),
        pytest.param(signed(_paid_event(), secret="whsec_someone_else"), id="wrong-secret"),
        pytest.param({}, id="missing"),
        pytest.param({"Stripe-Signature": ""}, id="empty"),
        pytest.param({"Stripe-Signature": "garbage"}, id="garbled"),
        pytest.param(signed(_paid_event(), timestamp=int(time.time()) - 1000), id="stale"),
        pytest.param(
            {"Stripe-Signature": signed(_paid_event())["Stripe-Signature"].replace("v1=", "v0=")},
            id="other-scheme",
        ),
    ],
)
def test_is_a_webhook_that_does_not_verify_refused(gateway, fake, headers):
    with pytest.raises(base.SignatureError):
        gateway.parse_webhook(_paid_event().encode(), headers)
    assert fake.sent == []


def test_is_a_tampered_body_refused(gateway):
    payload = _paid_event()
    headers = signed(payload)
    tampered = payload.replace('"amount_total": 123456', '"amount_total": 1')
    assert tampered != payload
    with pytest.raises(base.SignatureError):
        gateway.parse_webhook(tampered.encode(), headers)


def test_is_a_body_that_is_not_utf8_refused(gateway):
    body = b"\xff\xfe" + _paid_event().encode()
    with pytest.raises(base.SignatureError):
        gateway.parse_webhook(body, {"Stripe-Signature": "t=1,v1=00"})


def test_is_a_webhook_refused_when_no_signing_secret_is_configured(fake):
    gateway = StripeGateway({"secret_key": SECRET_KEY}, http_client=fake)
    payload = _paid_event()
    with pytest.raises(base.SignatureError):
        gateway.parse_webhook(payload.encode(), signed(payload))


def test_is_a_signature_within_five_minutes_accepted_whatever_the_header_case(gateway):
    payload = _paid_event()
    header = signed(payload, timestamp=int(time.time()) - 200)["Stripe-Signature"]
    (event,) = gateway.parse_webhook(payload.encode(), {"stripe-signature": header})
    assert event.kind == base.PAYMENT_SUCCEEDED


def test_does_a_rolled_secret_still_verify_with_either_signature(gateway):
    """While a secret is rolled Stripe signs with both; one matching v1 is enough."""
    payload = _paid_event()
    ours = signed(payload)["Stripe-Signature"]
    theirs = signed(payload, secret="whsec_old")["Stripe-Signature"].split(",")[1]
    (event,) = gateway.parse_webhook(payload.encode(), {"Stripe-Signature": f"{ours},{theirs}"})
    assert event.kind == base.PAYMENT_SUCCEEDED
