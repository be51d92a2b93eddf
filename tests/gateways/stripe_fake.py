"""A fake Stripe for tests: a ``stripe.HTTPClient`` that records every request the official SDK
sends and answers canned JSON shaped like Stripe's documented objects, those objects, and
webhooks signed locally as Stripe documents it. Nothing reaches the network.

Used by the adapter's own tests (tests/gateways/test_stripe.py) and by the payment flows that
go through the portal's services and endpoints (tests/services/payments/test_stripe_flow.py).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections import deque
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import stripe

SECRET_KEY = "sk_test_51Portal000000000000000000"
WEBHOOK_SECRET = "whsec_test_portal_0123456789abcdef"
NOW = 1_795_000_000  # 2026-11-18, a fixed "created" for the canned objects


@dataclass
class Sent:
    """One request as it left the SDK."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    form: dict[str, list[str]]

    def field(self, name: str) -> str:
        (value,) = self.form[name]
        return value

    def param(self, name: str) -> str:
        (value,) = self.query[name]
        return value


class FakeStripe(stripe.HTTPClient):
    """Records each request and answers the next canned reply (or raises it)."""

    name = "fake"

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[Sent] = []
        self.replies: deque[tuple[int, dict] | Exception] = deque()

    def reply(self, body: dict, status: int = 200, *, times: int = 1) -> None:
        for _ in range(times):
            self.replies.append((status, body))

    def fail(self, error: Exception, *, times: int = 1) -> None:
        for _ in range(times):
            self.replies.append(error)

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        parts = urlsplit(url)
        assert parts.netloc == "api.stripe.com", url
        self.sent.append(
            Sent(
                method=method.upper(),
                path=parts.path,
                query=parse_qs(parts.query),
                headers=dict(headers or {}),
                form=parse_qs(post_data or ""),
            )
        )
        assert self.replies, f"unexpected request {method} {url}"
        reply = self.replies.popleft()
        if isinstance(reply, Exception):
            raise reply
        status, body = reply
        return json.dumps(body), status, {"request-id": "req_fake"}

    def close(self) -> None:
        pass

    def _sleep_time_seconds(self, num_retries: int) -> float:
        return 0  # the SDK's retries, without the wait


# -- Stripe's objects, as its API reference shows them ----------------------------------------


def session_json(**overrides) -> dict:
    session = {
        "id": "cs_test_a1B2c3",
        "object": "checkout.session",
        "amount_subtotal": 123456,
        "amount_total": 123456,
        "cancel_url": "https://portal.example/pay/42/cancel",
        "client_reference_id": "pay-42",
        "created": NOW,
        "currency": "usd",
        "customer": None,
        "customer_email": "ap@buyer.example",
        "expires_at": NOW + 86400,
        "livemode": False,
        "metadata": {"payment_reference": "pay-42"},
        "mode": "payment",
        "payment_intent": None,
        "payment_method_types": ["card"],
        "payment_status": "unpaid",
        "status": "open",
        "success_url": "https://portal.example/pay/42/done",
        "url": "https://checkout.stripe.com/c/pay/cs_test_a1B2c3",
    }
    session.update(overrides)
    return session


def charge_json(**overrides) -> dict:
    charge = {
        "id": "ch_3Pay42",
        "object": "charge",
        "amount": 123456,
        "amount_captured": 123456,
        "amount_refunded": 0,
        "balance_transaction": "txn_charge",
        "created": NOW,
        "currency": "usd",
        "livemode": False,
        "metadata": {"payment_reference": "pay-42"},
        "paid": True,
        "payment_intent": "pi_3Pay42",
        "payment_method_details": {"type": "card", "card": {"brand": "visa", "last4": "4242"}},
        "refunded": False,
        "status": "succeeded",
    }
    charge.update(overrides)
    return charge


def refund_json(refund_id="re_1", amount=2550, created=NOW, **overrides) -> dict:
    refund = {
        "id": refund_id,
        "object": "refund",
        "amount": amount,
        "balance_transaction": "txn_refund",
        "charge": "ch_3Pay42",
        "created": created,
        "currency": "usd",
        "metadata": {"payment_reference": "pay-42"},
        "payment_intent": "pi_3Pay42",
        "reason": None,
        "status": "succeeded",
    }
    refund.update(overrides)
    return refund


def list_json(url: str, data: list, has_more: bool = False) -> dict:
    return {"object": "list", "url": url, "has_more": has_more, "data": data}


def error_json(kind: str, message: str, code: str | None = None) -> dict:
    return {"error": {"type": kind, "code": code, "message": message}}


def event_json(kind: str, obj: dict, *, event_id="evt_1", livemode=False) -> str:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "api_version": "2026-10-28.endive",
            "created": NOW,
            "data": {"object": obj},
            "livemode": livemode,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": kind,
        }
    )


def signed(payload: str, *, secret=WEBHOOK_SECRET, timestamp=None) -> dict[str, str]:
    """The Stripe-Signature header, computed as Stripe documents it."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256)
    return {"Stripe-Signature": f"t={timestamp},v1={mac.hexdigest()}"}
