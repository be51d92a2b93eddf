"""Does the sandbox adapter speak the one gateway interface: signed webhooks checked, events
read in the portal's words, amounts exchanged in minor units? (Against a fake backend: no
database; the real counterpart is tested in tests/services/test_sandbox_gateway.py.)"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from app.gateways import base, build
from app.gateways import sandbox as adapter
from app.gateways.sandbox import SandboxGateway

NOW = 1_780_000_000
SECRET = "whsec_sandbox_test"
CREDENTIALS = {"account_id": "acct_1", "secret_key": "sk_sandbox_1", "webhook_secret": SECRET}


class FakeBackend:
    """Records what the adapter asks and answers what it is told."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.charge = {
            "id": "ch_1",
            "url": "/sandbox-gateway/checkout/ch_1",
            "reference": "42",
            "amount": 150000,
            "currency": "COP",
            "status": "succeeded",
            "refunded_amount": 0,
            "method": "pse",
        }
        self.refund_answer: dict = {"id": "re_1", "amount": 50000, "status": "succeeded"}
        self.payouts: list[dict] | dict = []

    def create_checkout(self, secret_key, payload):
        self.calls.append(("create_checkout", secret_key, payload))
        return {**self.charge, "status": "open"}

    def get_charge(self, secret_key, charge_id):
        self.calls.append(("get_charge", secret_key, charge_id))
        return self.charge

    def refund(self, secret_key, charge_id, amount_minor, idempotency_key):
        self.calls.append(("refund", secret_key, charge_id, amount_minor, idempotency_key))
        return self.refund_answer

    def list_payouts(self, secret_key, since):
        self.calls.append(("list_payouts", secret_key, since))
        return self.payouts


@pytest.fixture
def backend():
    return FakeBackend()


@pytest.fixture
def gateway(backend):
    return SandboxGateway(CREDENTIALS, backend=backend, clock=lambda: NOW)


def event_body(kind="charge.succeeded", **charge) -> bytes:
    data = {
        "charge": {
            "id": "ch_1",
            "reference": "42",
            "amount": 150000,
            "currency": "COP",
            "status": "succeeded",
            "refunded_amount": 0,
            "method": "card",
            **charge,
        }
    }
    if kind == "charge.refunded":
        data["refund"] = {"id": "re_9", "amount": 50000, "charge": "ch_1"}
    event = {"id": "evt_1", "type": kind, "created": NOW - 5, "data": data}
    return json.dumps(event).encode()


def signed(body: bytes, *, at: int = NOW, secret: str = SECRET) -> dict[str, str]:
    return {"Sandbox-Signature": adapter.signature_header(secret, at, body)}


# ------------------------------------------------------------------------------- signatures


def test_is_a_webhook_signed_with_the_accounts_secret_read():
    body = event_body()
    gateway = SandboxGateway(CREDENTIALS, backend=FakeBackend(), clock=lambda: NOW)
    [event] = gateway.parse_webhook(body, signed(body))
    assert event.event_id == "evt_1"
    assert event.kind == base.PAYMENT_SUCCEEDED


def test_is_the_signature_the_hmac_of_timestamp_dot_body():
    """The format a receiver elsewhere would check: hex HMAC-SHA256(secret, f"{t}.{body}")."""
    body = event_body()
    expected = hmac.new(SECRET.encode(), f"{NOW}.{body.decode()}".encode(), hashlib.sha256)
    assert signed(body) == {"Sandbox-Signature": f"t={NOW},v1={expected.hexdigest()}"}


def test_is_the_signature_header_found_whatever_its_case(gateway):
    body = event_body()
    headers = {"sandbox-signature": signed(body)["Sandbox-Signature"]}
    assert gateway.parse_webhook(body, headers)[0].event_id == "evt_1"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Sandbox-Signature": ""},
        {"Sandbox-Signature": "t=abc,v1=00"},
        {"Sandbox-Signature": f"t={NOW}"},
        {"Sandbox-Signature": f"t={NOW},v1={'0' * 64}"},
    ],
    ids=["absent", "empty", "bad-timestamp", "no-signature", "wrong-signature"],
)
def test_is_a_missing_or_malformed_signature_refused(gateway, headers):
    with pytest.raises(base.SignatureError):
        gateway.parse_webhook(event_body(), headers)


def test_is_a_webhook_forged_with_another_secret_refused(gateway):
    body = event_body()
    with pytest.raises(base.SignatureError, match="does not match"):
        gateway.parse_webhook(body, signed(body, secret="whsec_sandbox_guess"))


def test_is_a_tampered_body_refused(gateway):
    body = event_body()
    headers = signed(body)
    tampered = event_body(amount=1)  # a payer who lowers the amount after signing
    with pytest.raises(base.SignatureError):
        gateway.parse_webhook(tampered, headers)


@pytest.mark.parametrize("offset", [-301, 301], ids=["stale", "future"])
def test_is_a_signature_outside_five_minutes_refused(gateway, offset):
    body = event_body()
    with pytest.raises(base.SignatureError, match="too old"):
        gateway.parse_webhook(body, signed(body, at=NOW + offset))


@pytest.mark.parametrize("offset", [-300, 300])
def test_is_a_signature_at_the_edge_of_the_tolerance_accepted(gateway, offset):
    body = event_body()
    assert gateway.parse_webhook(body, signed(body, at=NOW + offset))


def test_does_a_connection_without_a_webhook_secret_verify_nothing(backend):
    body = event_body()
    gateway = SandboxGateway({**CREDENTIALS, "webhook_secret": ""}, backend=backend)
    with pytest.raises(base.SignatureError):
        gateway.parse_webhook(body, signed(body, secret=""))


def test_is_one_of_several_signatures_enough(gateway):
    """As during a rotation of the secret: any v1 that verifies is enough."""
    body = event_body()
    good = adapter.sign(SECRET, NOW, body)
    headers = {"Sandbox-Signature": f"t={NOW},v1={'0' * 64},v1={good}"}
    assert gateway.parse_webhook(body, headers)[0].event_id == "evt_1"


def test_is_a_signed_body_that_is_not_an_event_refused(gateway):
    body = b"not json"
    with pytest.raises(base.SignatureError, match="unreadable"):
        gateway.parse_webhook(body, signed(body))


# --------------------------------------------------------------------------------- events


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ("charge.pending", base.PAYMENT_PENDING),
        ("charge.succeeded", base.PAYMENT_SUCCEEDED),
        ("charge.failed", base.PAYMENT_FAILED),
        ("charge.canceled", base.PAYMENT_CANCELED),
        ("charge.refunded", base.REFUND_SUCCEEDED),
        ("payout.paid", "ignored"),
    ],
)
def test_is_each_sandbox_event_told_in_the_portals_words(gateway, raw, kind):
    body = event_body(raw)
    [event] = gateway.parse_webhook(body, signed(body))
    assert (event.kind, event.raw_type) == (kind, raw)


def test_does_an_event_carry_its_signed_amount_reference_and_method(gateway):
    body = event_body(amount=150050, method="pse")
    [event] = gateway.parse_webhook(body, signed(body))
    assert event.reference == "42"
    assert event.gateway_reference == "ch_1"
    assert event.amount == Decimal("1500.50")
    assert event.currency == "COP"
    assert event.method == "pse"
    assert event.occurred_at == datetime.fromtimestamp(NOW - 5, UTC)


def test_does_a_refund_event_tell_the_refund_and_all_refunded_so_far(gateway):
    body = event_body("charge.refunded", refunded_amount=80000)
    [event] = gateway.parse_webhook(body, signed(body))
    assert event.refund_reference == "re_9"
    assert event.amount == Decimal("500.00")
    assert event.refunded_total == Decimal("800.00")


def test_is_a_clp_amount_read_without_decimals(gateway):
    body = event_body(amount=15000, currency="CLP")
    [event] = gateway.parse_webhook(body, signed(body))
    assert event.amount == Decimal("15000")


# ------------------------------------------------------------------------- calls through it


def checkout_request(amount="1500.50", currency="COP", lines=None) -> base.CheckoutRequest:
    lines = lines or (base.CheckoutLine("7", "Invoice FE-7", Decimal(amount)),)
    return base.CheckoutRequest(
        reference="42",
        amount=Decimal(amount),
        currency=currency,
        lines=tuple(lines),
        success_url="https://portal.test/pay/ok",
        cancel_url="https://portal.test/pay/cancel",
        idempotency_key="pay-42-1",
    )


def test_does_a_checkout_send_minor_units_and_give_the_hosted_page(gateway, backend):
    checkout = gateway.create_checkout(checkout_request())
    assert checkout == base.Checkout(gateway_reference="ch_1", url="/sandbox-gateway/checkout/ch_1")
    (_name, key, payload) = backend.calls[0]
    assert key == "sk_sandbox_1"
    assert payload["amount"] == 150050
    assert payload["lines"] == [{"reference": "7", "description": "Invoice FE-7", "amount": 150050}]
    assert payload["idempotency_key"] == "pay-42-1"
    json.dumps(payload)  # plain data only


def test_is_a_clp_checkout_sent_in_whole_pesos(gateway, backend):
    gateway.create_checkout(checkout_request("15000", "CLP"))
    assert backend.calls[0][2]["amount"] == 15000


def test_is_an_amount_the_currency_cannot_carry_refused_before_the_gateway(gateway, backend):
    with pytest.raises(base.GatewayError, match="decimals"):
        gateway.create_checkout(checkout_request("15000.5", "CLP"))
    with pytest.raises(base.GatewayError, match="does not take"):
        gateway.create_checkout(checkout_request("10", "JPY"))
    assert backend.calls == []


def test_is_a_refusal_of_the_sandbox_a_gateway_error(gateway, backend):
    backend.create_checkout = lambda key, payload: {
        "error": {"type": "authentication", "message": "invalid secret key"}
    }
    with pytest.raises(base.GatewayError, match="invalid secret key"):
        gateway.create_checkout(checkout_request())


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        ("open", base.PAYMENT_PENDING),
        ("challenge", base.PAYMENT_PENDING),
        ("pending", base.PAYMENT_PENDING),
        ("succeeded", base.PAYMENT_SUCCEEDED),
        ("failed", base.PAYMENT_FAILED),
        ("canceled", base.PAYMENT_CANCELED),
    ],
)
def test_does_fetching_a_payment_tell_where_it_stands(gateway, backend, status, kind):
    backend.charge["status"] = status
    found = gateway.fetch_payment("ch_1")
    assert found == base.PaymentStatus(
        gateway_reference="ch_1",
        kind=kind,
        reference="42",
        amount=Decimal("1500.00"),
        currency="COP",
        method="pse",
    )


def test_is_a_refund_sent_in_minor_units_with_its_key(gateway, backend):
    result = gateway.refund(
        base.RefundRequest("ch_1", Decimal("500"), "COP", idempotency_key="refund-1")
    )
    assert ("refund", "sk_sandbox_1", "ch_1", 50000, "refund-1") in backend.calls
    assert result == base.RefundResult("re_1", "succeeded", Decimal("500.00"))


def test_is_a_refund_in_another_currency_than_the_charge_refused(gateway, backend):
    with pytest.raises(base.GatewayError, match="COP"):
        gateway.refund(base.RefundRequest("ch_1", Decimal("5"), "USD", idempotency_key="r"))
    assert not [call for call in backend.calls if call[0] == "refund"]


def test_are_payouts_read_as_settlements_with_their_lines(gateway, backend):
    backend.payouts = [
        {
            "id": "po_1",
            "currency": "CLP",
            "paid_on": "2026-03-02",
            "amount": 9000,
            "status": "paid",
            "lines": [
                {
                    "type": "charge",
                    "source": "ch_1",
                    "reference": "42",
                    "amount": 10000,
                    "fee": 500,
                    "net": 9500,
                    "description": "",
                },
                {
                    "type": "refund",
                    "source": "re_1",
                    "reference": "42",
                    "amount": -500,
                    "fee": 0,
                    "net": -500,
                    "description": "Refund of ch_1",
                },
            ],
        }
    ]
    [settlement] = gateway.list_settlements(since=date(2026, 3, 1))
    assert backend.calls[-1] == ("list_payouts", "sk_sandbox_1", "2026-03-01")
    assert settlement.settlement_id == "po_1"
    assert settlement.paid_on == date(2026, 3, 2)
    assert settlement.amount == Decimal("9000")
    charge, refund = settlement.lines
    assert (charge.kind, charge.amount, charge.fee, charge.net) == (
        "charge",
        Decimal("10000"),
        Decimal("500"),
        Decimal("9500"),
    )
    assert (refund.kind, refund.gateway_reference, refund.net) == (
        "refund",
        "re_1",
        Decimal("-500"),
    )


def test_is_a_refused_payout_listing_a_gateway_error(gateway, backend):
    backend.payouts = {"error": {"type": "authentication", "message": "invalid secret key"}}
    with pytest.raises(base.GatewayError, match="invalid secret key"):
        gateway.list_settlements()


# ------------------------------------------------------------------------------ the module


def test_does_the_sandbox_say_what_it_offers_and_that_it_is_a_test():
    gateway = build("sandbox", CREDENTIALS, sandbox_backend=FakeBackend())
    assert gateway.name == "sandbox"
    capabilities = gateway.capabilities()
    assert capabilities.methods == ("card", "pse")
    assert capabilities.currencies == ("COP", "USD", "EUR", "MXN", "CLP")
    assert capabilities.test_mode is True
    assert adapter.is_test_mode(CREDENTIALS) is True
    assert [key for key, _label, _secret in adapter.CREDENTIAL_FIELDS] == [
        "account_id",
        "secret_key",
        "webhook_secret",
    ]
    assert {key for key, _label, secret in adapter.CREDENTIAL_FIELDS if secret} == {
        "secret_key",
        "webhook_secret",
    }
