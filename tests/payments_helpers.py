"""A fake gateway that implements app.gateways.base.Gateway and records its calls, plus
invoice factories, for the payments tests. Signed webhooks: the fake's ``sign`` builds a body
and headers that only its own ``parse_webhook`` accepts (HMAC-SHA256 with its secret)."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest

from app.extensions import db
from app.gateways import base as gw
from app.models import Company, Document, User
from app.models.payment import GatewayConnection, PaymentSettings
from app.services.payments import connections

_numbers = itertools.count(1)
SECRET = "whsec_fake_secret"


@dataclass
class FakeGateway:
    name: str = "sandbox"
    calls: list[tuple[str, Any]] = field(default_factory=list)
    checkouts: dict[str, gw.Checkout] = field(default_factory=dict)
    fail_next: list[gw.GatewayError] = field(default_factory=list)
    statuses: dict[str, gw.PaymentStatus] = field(default_factory=dict)
    currencies: tuple[str, ...] = ("COP", "USD", "CLP")

    def capabilities(self) -> gw.Capabilities:
        return gw.Capabilities(methods=("card",), currencies=self.currencies, test_mode=True)

    def create_checkout(self, request: gw.CheckoutRequest) -> gw.Checkout:
        self.calls.append(("create_checkout", request))
        if self.fail_next:
            raise self.fail_next.pop(0)
        if request.idempotency_key not in self.checkouts:
            ref = f"cs_{len(self.checkouts) + 1}"
            self.checkouts[request.idempotency_key] = gw.Checkout(ref, f"https://pay.test/{ref}")
        return self.checkouts[request.idempotency_key]

    def parse_webhook(self, body: bytes, headers: dict[str, str]) -> list[gw.GatewayEvent]:
        expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(gw.header(headers, "X-Fake-Signature"), expected):
            raise gw.SignatureError("bad signature")
        data = json.loads(body)
        return [
            gw.GatewayEvent(
                event_id=data["id"],
                kind=data["kind"],
                reference=data.get("reference"),
                gateway_reference=data.get("gateway_reference"),
                amount=Decimal(data["amount"]) if data.get("amount") is not None else None,
                currency=data.get("currency"),
                refund_reference=data.get("refund_reference"),
                refunded_total=Decimal(data["refunded_total"])
                if data.get("refunded_total") is not None
                else None,
            )
        ]

    def fetch_payment(self, gateway_reference: str) -> gw.PaymentStatus:
        self.calls.append(("fetch_payment", gateway_reference))
        return self.statuses[gateway_reference]

    def refund(self, request: gw.RefundRequest) -> gw.RefundResult:
        self.calls.append(("refund", request))
        return gw.RefundResult(f"re_{len(self.calls)}", "succeeded", request.amount)

    def list_settlements(self, *, since=None) -> list[gw.Settlement]:
        return []


def sign(event: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(event).encode()
    return body, {"X-Fake-Signature": hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()}


@pytest.fixture
def fake_gateway(monkeypatch) -> FakeGateway:
    """Every connection's adapter is this fake (whatever its gateway)."""
    fake = FakeGateway()
    monkeypatch.setattr(connections, "adapter_for", lambda connection: fake)
    return fake


def connect_fake(company: Company, *, gateway: str = "sandbox") -> GatewayConnection:
    connection = GatewayConnection(
        company_id=company.id,
        gateway=gateway,
        public_id=f"gc_test_{company.id}_{next(_numbers)}",
        label="Fake",
        credentials_encrypted=b"",
        test_mode=True,
    )
    db.session.add(connection)
    db.session.commit()
    return connection


def set_payment_settings(company: Company, **values: Any) -> PaymentSettings:
    row = PaymentSettings(company_id=company.id, **values)
    db.session.add(row)
    db.session.commit()
    return row


def invoice(
    supplier: Company,
    buyer: Company | None,
    amount: str = "100000.00",
    *,
    currency: str = "COP",
    document_type: str = "Invoice",
) -> Document:
    document = Document(
        sender_company_id=supplier.id,
        receiver_company_id=buyer.id if buyer else None,
        customer_country="CO",
        customer_tax_id=buyer.tax_id if buyer else "9001234560",
        supplier_name=supplier.legal_name,
        supplier_tax_id=supplier.tax_id,
        customer_name=buyer.legal_name if buyer else "Cliente sin cuenta",
        customer_email=None if buyer else "pagos@cliente.test",
        document_type=document_type,
        number=f"FE{next(_numbers):05d}",
        issue_date=__import__("datetime").date(2026, 11, 1),
        due_date=__import__("datetime").date(2026, 12, 1),
        currency=currency,
        payable=Decimal(amount),
        open_balance=Decimal(amount),
        status="received",
        original=b"<Invoice/>",
        is_legal=False,
    )
    db.session.add(document)
    db.session.commit()
    return document


def refreshed(document: Document) -> Document:
    db.session.expire_all()
    found = db.session.get(Document, document.id)
    assert found is not None
    return found


URLS = None  # set below (import cycle-free)


def urls():
    from app.services.payments.paying import ReturnUrls

    return ReturnUrls(
        success="https://portal.test/pay/{token}/done",
        cancel="https://portal.test/pay/{token}/canceled",
    )


__all__ = ["FakeGateway", "User", "connect_fake", "fake_gateway", "invoice", "sign", "urls"]
