"""The Wompi adapter, checked against the examples of Wompi's developer documentation.

Worked examples from docs.wompi.co (Colombia):

* "Widget & Checkout Web", step 3: reference ``sk8-438k4-xmxm392-sn2m``, 2490000 cents, COP,
  integrity secret ``prod_integrity_Z5mMke9x0k8gpErbDqwrJXMqsI6SFli6`` → SHA-256
  ``37c84077…33bf5``; with ``expiration-time`` the date goes between the currency and the secret.
* "Eventos": the ``transaction.updated`` body below, properties ``transaction.id``,
  ``transaction.status``, ``transaction.amount_in_cents``, timestamp 1530291411, events secret
  ``prod_events_OcHnIzeBl5socpwByQ4hA52Em3USQ93Z``, concatenated string
  ``1234-1610641025-49201APPROVED44900001530291411prod_events_…``. The page prints
  ``3476DDA5…8BD0`` as its hash, but that is not the SHA-256 of its own string (which is
  ``5a18ec5e…efbe``), so the tests hash the documented string rather than copy that value.

No network: every HTTP call goes through a fake transport.
"""

from __future__ import annotations

import copy
import hashlib
import json
from decimal import Decimal
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from app.gateways import base, wompi
from app.gateways.wompi import WompiGateway

DOC_INTEGRITY_SECRET = "prod_integrity_Z5mMke9x0k8gpErbDqwrJXMqsI6SFli6"
DOC_EVENTS_SECRET = "prod_events_OcHnIzeBl5socpwByQ4hA52Em3USQ93Z"
DOC_TIMESTAMP = 1530291411

PROD = {
    "public_key": "pub_prod_Kw4aC0rZVgLZQn209NbEKPuXLzBD28Zx",
    "private_key": "prv_prod_434092Xa65F54dd6a181D1f87DFa03CzS",
    "events_secret": DOC_EVENTS_SECRET,
    "integrity_secret": DOC_INTEGRITY_SECRET,
}
SANDBOX = {
    "public_key": "pub_test_X0zDA9xoKdePzhd8a0x9HAez7HgGO2fH",
    "private_key": "prv_test_434092Xa65F54dd6a181D1f87DFa03CzS",
    "events_secret": "test_events_Y49rL5FGw4vTeiUaZaJ957hlpezdPQ0r",
    "integrity_secret": "test_integrity_ep4b3kSYJg2bWHwL7ulhPCDvaiyGDW7V",
}

# The transaction.updated event of the "Eventos" page, checksum left to each test.
DOC_EVENT = {
    "event": "transaction.updated",
    "data": {
        "transaction": {
            "id": "1234-1610641025-49201",
            "amount_in_cents": 4490000,
            "reference": "MZQ3X2DE2SMX",
            "customer_email": "juan.perez@gmail.com",
            "currency": "COP",
            "payment_method_type": "NEQUI",
            "redirect_url": "https://mitienda.com.co/pagos/redireccion",
            "status": "APPROVED",
            "shipping_address": None,
            "payment_link_id": None,
            "payment_source_id": None,
        }
    },
    "environment": "prod",
    "signature": {
        "properties": ["transaction.id", "transaction.status", "transaction.amount_in_cents"],
        "checksum": "",
    },
    "timestamp": DOC_TIMESTAMP,
    "sent_at": "2018-07-20T16:45:05.000Z",
}
DOC_EVENT_STRING = (
    "1234-1610641025-49201APPROVED44900001530291411prod_events_OcHnIzeBl5socpwByQ4hA52Em3USQ93Z"
)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def signed(event: dict, secret: str = DOC_EVENTS_SECRET) -> dict:
    """The event with the checksum Wompi's documented recipe gives (computed here, by hand)."""
    event = copy.deepcopy(event)
    values = ""
    for path in event["signature"]["properties"]:
        node = event["data"]
        for part in path.split("."):
            node = node[part]
        values += str(node)
    event["signature"]["checksum"] = sha256(f"{values}{event['timestamp']}{secret}")
    return event


def gateway(credentials=PROD, transport=None, now: float = DOC_TIMESTAMP + 3600) -> WompiGateway:
    return WompiGateway(credentials, transport=transport, clock=lambda: now)


def parse(event: dict, headers=None, **kwargs) -> list[base.GatewayEvent]:
    return gateway(**kwargs).parse_webhook(json.dumps(event).encode(), headers or {})


class FakeTransport:
    """Answers queued (status, body) pairs and records each request; may raise instead."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls: list[tuple[str, str, dict, dict | None]] = []

    def __call__(self, method, url, headers, json_body):
        self.calls.append((method, url, headers, json_body))
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer


def checkout_request(**overrides) -> base.CheckoutRequest:
    values = {
        "reference": "4711",
        "amount": Decimal("150000"),
        "currency": "COP",
        "lines": (
            base.CheckoutLine("101", "Invoice FE-1001", Decimal("100000")),
            base.CheckoutLine("102", "Invoice FE-1002", Decimal("50000")),
        ),
        "success_url": "https://portal.test/payments/4711/back",
        "cancel_url": "https://portal.test/payments/4711",
        "idempotency_key": "pay-4711-attempt-1",
        "customer_email": "ana@example.com",
    }
    values.update(overrides)
    return base.CheckoutRequest(**values)


# -- the integrity signature -------------------------------------------------------------------


def test_the_integrity_signature_is_the_documented_example():
    assert (
        wompi.integrity_signature("sk8-438k4-xmxm392-sn2m", 2490000, "COP", DOC_INTEGRITY_SECRET)
        == "37c8407747e595535433ef8f6a811d853cd943046624a0ec04662b17bbf33bf5"
    )


def test_an_expiration_time_goes_between_the_currency_and_the_secret():
    expected = sha256(
        "sk8-438k4-xmxm392-sn2m2490000COP2023-06-09T20:28:50.000Z" + DOC_INTEGRITY_SECRET
    )
    assert (
        wompi.integrity_signature(
            "sk8-438k4-xmxm392-sn2m",
            2490000,
            "COP",
            DOC_INTEGRITY_SECRET,
            expiration_time="2023-06-09T20:28:50.000Z",
        )
        == expected
    )


# -- the checkout ------------------------------------------------------------------------------


def test_the_checkout_url_carries_the_documented_parameters_signed():
    checkout = gateway().create_checkout(checkout_request())

    parts = urlsplit(checkout.url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://checkout.wompi.co/p/"
    params = dict(parse_qsl(parts.query))
    assert params["public-key"] == PROD["public_key"]
    assert params["currency"] == "COP"
    assert params["amount-in-cents"] == "15000000"  # $150.000 in cents
    assert params["redirect-url"] == "https://portal.test/payments/4711/back"
    assert params["customer-data:email"] == "ana@example.com"
    reference = params["reference"]
    assert params["signature:integrity"] == sha256(f"{reference}15000000COP{DOC_INTEGRITY_SECRET}")
    assert checkout.gateway_reference == reference
    assert checkout.expires_at is None
    # The secrets never travel in the URL.
    assert DOC_INTEGRITY_SECRET not in checkout.url and PROD["private_key"] not in checkout.url


def test_the_wompi_reference_names_the_portal_payment_and_the_attempt():
    first = gateway().create_checkout(checkout_request())
    retried = gateway().create_checkout(checkout_request())
    second_attempt = gateway().create_checkout(checkout_request(idempotency_key="pay-4711-try-2"))

    assert retried.url == first.url  # a retried creation gives the same checkout
    assert second_attempt.gateway_reference != first.gateway_reference  # Wompi refuses reuse
    assert wompi.payment_reference(first.gateway_reference) == "4711"
    assert wompi.payment_reference(second_attempt.gateway_reference) == "4711"
    assert first.gateway_reference.startswith("4711_")


def test_a_portal_reference_with_an_underscore_is_read_back_whole():
    checkout = gateway().create_checkout(checkout_request(reference="pay_4711"))
    assert wompi.payment_reference(checkout.gateway_reference) == "pay_4711"


@pytest.mark.parametrize(
    "reference",
    ["MZQ3X2DE2SMX", "4711_nothex", "", None, "_0123456789abcdef", "47 11_0123456789abcdef"],
)
def test_a_reference_the_portal_did_not_make_names_no_payment(reference):
    assert wompi.payment_reference(reference) is None


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"currency": "USD"}, "only in COP"),
        (
            {
                "amount": Decimal("1500.50"),
                "lines": (base.CheckoutLine("1", "x", Decimal("1500.50")),),
            },
            "whole pesos",
        ),
        ({"amount": Decimal("1.005"), "lines": ()}, "more decimals"),
        ({"amount": Decimal("160000")}, "not the sum of its lines"),
        ({"reference": "47 11"}, "payment reference"),
        ({"idempotency_key": ""}, "idempotency key"),
    ],
)
def test_a_checkout_wompi_cannot_take_is_refused_with_its_reason(overrides, message):
    with pytest.raises(base.GatewayError, match=message) as caught:
        gateway().create_checkout(checkout_request(**overrides))
    assert not caught.value.retryable


def test_a_checkout_needs_the_integrity_secret_of_the_same_environment():
    mixed = dict(SANDBOX, integrity_secret=DOC_INTEGRITY_SECRET)
    with pytest.raises(base.GatewayError, match="mixes sandbox and production"):
        gateway(mixed).create_checkout(checkout_request())
    with pytest.raises(base.GatewayError, match="no integrity secret"):
        gateway(dict(PROD, integrity_secret="")).create_checkout(checkout_request())


# -- events ------------------------------------------------------------------------------------


def test_the_documented_event_verifies_by_the_documented_recipe():
    event = copy.deepcopy(DOC_EVENT)
    event["signature"]["checksum"] = sha256(DOC_EVENT_STRING).upper()  # the docs print upper case

    [read] = parse(event)

    assert read.kind == base.PAYMENT_SUCCEEDED
    assert read.event_id == "1234-1610641025-49201:APPROVED:1530291411"
    assert read.gateway_reference == "1234-1610641025-49201"
    assert read.method == base.NEQUI
    assert read.raw_type == "transaction.updated"
    assert read.occurred_at.isoformat() == "2018-06-29T16:56:51+00:00"
    # The reference was not made by the portal; the currency and reference are not signed.
    assert read.reference is None
    assert read.amount is None and read.currency is None


def test_an_event_checksum_also_sent_in_the_header_must_match_too():
    event = signed(DOC_EVENT)
    checksum = event["signature"]["checksum"]

    assert parse(event, {"x-event-checksum": checksum})[0].kind == base.PAYMENT_SUCCEEDED
    with pytest.raises(base.SignatureError):
        parse(event, {"X-Event-Checksum": sha256("forged")})


def test_a_checksum_only_in_the_header_is_enough():
    event = signed(DOC_EVENT)
    checksum = event["signature"].pop("checksum")
    assert parse(event, {"X-Event-Checksum": checksum})[0].kind == base.PAYMENT_SUCCEEDED


@pytest.mark.parametrize(
    "checksum",
    [
        sha256("1234-1610641025-49201APPROVED44900001530291411prod_events_another"),
        "3476DDA50F64CD7CBD160689640506FEBEA93239BC524FC0469B2C68A3CC8BD0",
        "",
        "ñ" * 64,
    ],
)
def test_a_forged_checksum_is_refused(checksum):
    event = copy.deepcopy(DOC_EVENT)
    event["signature"]["checksum"] = checksum
    with pytest.raises(base.SignatureError):
        parse(event)


def test_an_event_signed_with_another_secret_is_refused():
    with pytest.raises(base.SignatureError):
        parse(signed(DOC_EVENT, secret="prod_events_someone-else"))


def test_a_tampered_signed_amount_breaks_the_checksum():
    event = signed(DOC_EVENT)
    event["data"]["transaction"]["amount_in_cents"] = 100
    with pytest.raises(base.SignatureError, match="checksum"):
        parse(event)


def test_a_tampered_status_breaks_the_checksum():
    event = copy.deepcopy(DOC_EVENT)
    event["data"]["transaction"]["status"] = "DECLINED"
    event = signed(event)
    event["data"]["transaction"]["status"] = "APPROVED"
    with pytest.raises(base.SignatureError):
        parse(event)


def test_an_event_that_does_not_sign_the_amount_gives_no_amount():
    event = copy.deepcopy(DOC_EVENT)
    event["signature"]["properties"] = ["transaction.id", "transaction.status"]
    event = signed(event)
    event["data"]["transaction"]["amount_in_cents"] = 100  # unsigned: anyone could change it

    [read] = parse(event)

    assert read.kind == base.PAYMENT_SUCCEEDED
    assert read.amount is None and read.currency is None  # the caller asks fetch_payment


def test_an_event_that_signs_amount_currency_and_reference_gives_them():
    event = copy.deepcopy(DOC_EVENT)
    event["data"]["transaction"]["reference"] = wompi.wompi_reference("4711", "attempt-1")
    event["signature"]["properties"] = [
        "transaction.id",
        "transaction.status",
        "transaction.amount_in_cents",
        "transaction.currency",
        "transaction.reference",
    ]

    [read] = parse(signed(event))

    assert read.reference == "4711"
    assert read.amount == Decimal("44900.00") and read.currency == "COP"


def test_a_signed_amount_with_an_unsigned_reference_gives_no_amount():
    # The amount alone could be moved to another payment by changing the unsigned reference.
    event = copy.deepcopy(DOC_EVENT)
    event["data"]["transaction"]["reference"] = wompi.wompi_reference("4711", "attempt-1")
    event["signature"]["properties"] = [
        "transaction.id",
        "transaction.status",
        "transaction.amount_in_cents",
        "transaction.currency",
    ]

    [read] = parse(signed(event))

    assert read.reference == "4711"
    assert read.amount is None


def test_an_event_that_does_not_sign_the_status_is_refused():
    event = copy.deepcopy(DOC_EVENT)
    event["signature"]["properties"] = ["transaction.id", "transaction.amount_in_cents"]
    with pytest.raises(base.SignatureError, match="status"):
        parse(signed(event))


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b'{"event": ',
        b"[]",
        b"\xff\xfe",
        json.dumps({"event": "transaction.updated", "timestamp": DOC_TIMESTAMP}).encode(),
    ],
)
def test_an_unparsable_or_incomplete_body_is_refused(body):
    with pytest.raises(base.SignatureError):
        gateway().parse_webhook(body, {})


@pytest.mark.parametrize(
    "change",
    [
        lambda e: e.pop("timestamp"),
        lambda e: e.update(timestamp=str(DOC_TIMESTAMP)),
        lambda e: e.update(timestamp=True),
        lambda e: e["signature"].pop("properties"),
        lambda e: e["signature"].update(properties="transaction.id"),
        lambda e: e["signature"].update(properties=["transaction.missing"]),
        lambda e: e["data"]["transaction"].update(id={"nested": 1}),
    ],
)
def test_an_event_missing_what_its_signature_needs_is_refused(change):
    event = signed(DOC_EVENT)
    change(event)
    with pytest.raises(base.SignatureError):
        parse(event)


def test_an_event_from_the_future_is_refused_but_an_old_one_is_not():
    event = copy.deepcopy(DOC_EVENT)
    event["timestamp"] = 2_000_000_000
    event = signed(event)

    with pytest.raises(base.SignatureError, match="future"):
        parse(event, now=2_000_000_000 - 301)
    assert parse(event, now=2_000_000_000 - 299)[0].kind == base.PAYMENT_SUCCEEDED
    # A week later (a retry, or a replay the caller refuses by its stored event id) still reads.
    assert parse(event, now=2_000_000_000 + 7 * 86400)[0].kind == base.PAYMENT_SUCCEEDED


@pytest.mark.parametrize(
    "status, kind",
    [
        ("APPROVED", base.PAYMENT_SUCCEEDED),
        ("DECLINED", base.PAYMENT_FAILED),
        ("ERROR", base.PAYMENT_FAILED),
        ("VOIDED", base.REFUND_SUCCEEDED),
        ("PENDING", base.PAYMENT_PENDING),
        ("SOMETHING_NEW", "ignored"),
    ],
)
def test_each_transaction_status_maps_to_its_event(status, kind):
    event = copy.deepcopy(DOC_EVENT)
    event["data"]["transaction"]["status"] = status

    [read] = parse(signed(event))

    assert read.kind == kind
    assert read.event_id == f"1234-1610641025-49201:{status}:{DOC_TIMESTAMP}"


def test_a_voided_card_payment_is_a_full_refund():
    event = copy.deepcopy(DOC_EVENT)
    transaction = event["data"]["transaction"]
    transaction.update(
        status="VOIDED",
        payment_method_type="CARD",
        reference=wompi.wompi_reference("4711", "attempt-1"),
    )
    event["signature"]["properties"] += ["transaction.currency", "transaction.reference"]

    [read] = parse(signed(event))

    assert read.kind == base.REFUND_SUCCEEDED
    assert read.method == base.CARD
    assert read.refund_reference == "1234-1610641025-49201:void"
    assert read.refunded_total == Decimal("44900.00") == read.amount


@pytest.mark.parametrize(
    "method_type, method",
    [("CARD", base.CARD), ("PSE", base.PSE), ("NEQUI", base.NEQUI), ("DAVIPLATA", None)],
)
def test_the_payment_method_is_named_as_the_portal_names_it(method_type, method):
    event = copy.deepcopy(DOC_EVENT)
    event["data"]["transaction"]["payment_method_type"] = method_type
    assert parse(signed(event))[0].method == method


def test_an_event_about_something_else_is_verified_then_ignored():
    event = {
        "event": "nequi_token.updated",
        "data": {"token": {"id": "nequi_prod_L90x", "status": "APPROVED"}},
        "signature": {"properties": ["token.id", "token.status"], "checksum": ""},
        "timestamp": DOC_TIMESTAMP,
    }
    [read] = parse(signed(event))
    assert read.kind == "ignored" and read.reference is None
    assert read.raw_type == "nequi_token.updated"

    event = signed(event)
    event["data"]["token"]["status"] = "DECLINED"
    with pytest.raises(base.SignatureError):
        parse(event)


def test_a_sandbox_event_verifies_with_the_sandbox_secret():
    event = signed(DOC_EVENT, secret=SANDBOX["events_secret"])
    assert parse(event, credentials=SANDBOX)[0].kind == base.PAYMENT_SUCCEEDED
    with pytest.raises(base.SignatureError):
        parse(event)  # the production secret does not verify it


# -- fetching a payment ------------------------------------------------------------------------

# The answer of GET /transactions/{id} in Wompi's API reference, with a portal reference.
TRANSACTION = {
    "data": {
        "id": "1292-1602113476-10985",
        "created_at": "2018-07-01 23:49:45 UTC",
        "amount_in_cents": 3000000,
        "status": "APPROVED",
        "reference": wompi.wompi_reference("4711", "attempt-1"),
        "customer_email": "juan@example.com",
        "currency": "COP",
        "payment_method_type": "NEQUI",
        "payment_method": {"type": "NEQUI", "phone_number": "573109990001"},
        "redirect_url": "http://mitienda.com.co/pago/redirect",
        "payment_link_id": None,
    }
}


def with_status(status: str, method_type: str = "CARD") -> tuple[int, dict]:
    answer = copy.deepcopy(TRANSACTION)
    answer["data"].update(status=status, payment_method_type=method_type)
    return 200, answer


def test_fetch_reads_the_transaction_from_the_sandbox_with_the_public_key():
    transport = FakeTransport((200, TRANSACTION))

    status = gateway(SANDBOX, transport).fetch_payment("1292-1602113476-10985")

    [(method, url, headers, body)] = transport.calls
    assert (method, url, body) == (
        "GET",
        "https://sandbox.wompi.co/v1/transactions/1292-1602113476-10985",
        None,
    )
    assert headers["Authorization"] == f"Bearer {SANDBOX['public_key']}"
    assert status == base.PaymentStatus(
        gateway_reference="1292-1602113476-10985",
        kind=base.PAYMENT_SUCCEEDED,
        reference="4711",
        amount=Decimal("30000.00"),
        currency="COP",
        method=base.NEQUI,
    )


def test_production_keys_ask_the_production_api():
    transport = FakeTransport((200, TRANSACTION))
    gateway(PROD, transport).fetch_payment("1292-1602113476-10985")
    assert transport.calls[0][1].startswith("https://production.wompi.co/v1/transactions/")


def test_a_transaction_id_cannot_reach_another_path():
    transport = FakeTransport((200, TRANSACTION))
    gateway(PROD, transport).fetch_payment("../merchants/x?y")
    assert transport.calls[0][1] == (
        "https://production.wompi.co/v1/transactions/..%2Fmerchants%2Fx%3Fy"
    )


@pytest.mark.parametrize(
    "status, kind",
    [
        ("PENDING", base.PAYMENT_PENDING),
        ("DECLINED", base.PAYMENT_FAILED),
        ("ERROR", base.PAYMENT_FAILED),
        ("VOIDED", base.REFUND_SUCCEEDED),
    ],
)
def test_fetch_names_each_status(status, kind):
    transport = FakeTransport(with_status(status))
    assert gateway(PROD, transport).fetch_payment("1292-1602113476-10985").kind == kind


@pytest.mark.parametrize(
    "failure, retryable",
    [
        (requests.ConnectionError("refused"), True),
        (requests.Timeout("10 s"), True),
        (TimeoutError(), True),
        ((503, {}), True),
        ((429, {}), True),
        ((404, {"error": {"type": "NOT_FOUND_ERROR", "reason": "La entidad no existe"}}), False),
        ((401, {"error": {"type": "INVALID_ACCESS_TOKEN"}}), False),
    ],
)
def test_transport_failures_and_error_answers_raise_gateway_error(failure, retryable):
    transport = FakeTransport(failure)
    with pytest.raises(base.GatewayError) as caught:
        gateway(PROD, transport).fetch_payment("1292-1602113476-10985")
    assert caught.value.retryable is retryable
    assert not isinstance(caught.value, base.SignatureError)


def test_an_error_answer_says_what_wompi_said():
    answer = (404, {"error": {"type": "NOT_FOUND_ERROR", "reason": "La entidad no existe"}})
    with pytest.raises(base.GatewayError, match="404 .*NOT_FOUND_ERROR.*La entidad no existe"):
        gateway(PROD, FakeTransport(answer)).fetch_payment("nope")


def test_an_answer_without_a_transaction_is_an_error():
    with pytest.raises(base.GatewayError, match="no transaction"):
        gateway(PROD, FakeTransport((200, {"unexpected": True}))).fetch_payment("x")


def test_the_default_transport_uses_requests_with_a_ten_second_timeout(monkeypatch):
    seen = {}

    class Response:
        status_code = 200

        def json(self):
            return TRANSACTION

    def fake_request(method, url, **kwargs):
        seen.update(kwargs, method=method, url=url)
        return Response()

    monkeypatch.setattr(wompi.requests, "request", fake_request)

    status = WompiGateway(PROD).fetch_payment("1292-1602113476-10985")

    assert status.kind == base.PAYMENT_SUCCEEDED
    assert seen["timeout"] == 10 and seen["json"] is None
    assert seen["url"] == "https://production.wompi.co/v1/transactions/1292-1602113476-10985"


def test_the_default_transport_reads_a_non_json_answer_as_empty(monkeypatch):
    class Response:
        status_code = 502

        def json(self):
            raise ValueError("<html>Bad gateway</html>")

    monkeypatch.setattr(wompi.requests, "request", lambda *a, **k: Response())
    with pytest.raises(base.GatewayError) as caught:
        WompiGateway(PROD).fetch_payment("1292-1602113476-10985")
    assert caught.value.retryable


# -- refunds -----------------------------------------------------------------------------------


def refund_request(amount: str = "30000", **overrides) -> base.RefundRequest:
    values = {
        "gateway_reference": "1292-1602113476-10985",
        "amount": Decimal(amount),
        "currency": "COP",
        "idempotency_key": "refund-1",
    }
    values.update(overrides)
    return base.RefundRequest(**values)


def test_a_full_refund_of_an_approved_card_payment_voids_it_with_the_private_key():
    voided = copy.deepcopy(TRANSACTION["data"])
    voided.update(status="VOIDED", payment_method_type="CARD")
    transport = FakeTransport(with_status("APPROVED"), (201, {"data": voided}))

    result = gateway(PROD, transport).refund(refund_request())

    method, url, headers, body = transport.calls[1]
    assert (method, url) == (
        "POST",
        "https://production.wompi.co/v1/transactions/1292-1602113476-10985/void",
    )
    assert headers["Authorization"] == f"Bearer {PROD['private_key']}"
    assert body == {"amount_in_cents": 3000000}
    assert result == base.RefundResult(
        "1292-1602113476-10985:void", "succeeded", Decimal("30000.00")
    )


def test_a_void_still_in_progress_is_pending_until_its_event():
    transport = FakeTransport(with_status("APPROVED"), (201, {"data": {"status": "PENDING"}}))
    assert gateway(PROD, transport).refund(refund_request()).status == "pending"


def test_refunding_an_already_voided_payment_again_succeeds_without_a_second_void():
    transport = FakeTransport(with_status("VOIDED"))
    result = gateway(PROD, transport).refund(refund_request())
    assert result.status == "succeeded" and len(transport.calls) == 1


@pytest.mark.parametrize(
    "answer, request_, message",
    [
        (with_status("APPROVED"), refund_request("10000"), "partial refunds are not available"),
        (with_status("APPROVED", "PSE"), refund_request(), "cannot refund a PSE payment"),
        (with_status("APPROVED", "NEQUI"), refund_request(), "cannot refund a NEQUI payment"),
        (with_status("DECLINED"), refund_request(), "only an approved payment"),
        (with_status("APPROVED"), refund_request(currency="USD"), "only COP"),
    ],
)
def test_a_refund_the_api_cannot_make_is_refused_without_voiding(answer, request_, message):
    transport = FakeTransport(answer)
    with pytest.raises(base.GatewayError, match=message) as caught:
        gateway(PROD, transport).refund(request_)
    assert not caught.value.retryable
    assert all(call[0] == "GET" for call in transport.calls)


def test_a_refused_void_says_why():
    refused = (422, {"error": {"type": "INPUT_VALIDATION_ERROR", "messages": {"id": ["no"]}}})
    transport = FakeTransport(with_status("APPROVED"), refused)
    with pytest.raises(base.GatewayError, match="422 .*INPUT_VALIDATION_ERROR.*id: no"):
        gateway(PROD, transport).refund(refund_request())


def test_a_refund_needs_the_private_key():
    transport = FakeTransport(with_status("APPROVED"))
    with pytest.raises(base.GatewayError, match="no private key"):
        gateway(dict(PROD, private_key=""), transport).refund(refund_request())
    assert transport.calls == []


# -- the rest ----------------------------------------------------------------------------------


def test_capabilities_and_test_mode():
    live = gateway(PROD).capabilities()
    assert live.methods == (base.CARD, base.PSE, base.NEQUI)
    assert live.currencies == ("COP",) and live.max_lines == 100
    assert not live.test_mode
    assert gateway(SANDBOX).capabilities().test_mode
    assert wompi.is_test_mode(SANDBOX) and not wompi.is_test_mode(PROD)
    assert wompi.is_test_mode({"private_key": "prv_test_x"})
    assert not wompi.is_test_mode({})


def test_the_connection_form_asks_for_four_keys_three_of_them_secret():
    assert [key for key, _, _ in wompi.CREDENTIAL_FIELDS] == [
        "public_key",
        "private_key",
        "events_secret",
        "integrity_secret",
    ]
    assert [key for key, _, secret in wompi.CREDENTIAL_FIELDS if not secret] == ["public_key"]


def test_settlements_are_not_offered_by_wompi():
    transport = FakeTransport()
    assert gateway(PROD, transport).list_settlements() == []
    assert transport.calls == []


def test_the_adapter_is_the_gateway_named_wompi():
    adapter: base.Gateway = gateway()
    assert adapter.name == "wompi"
