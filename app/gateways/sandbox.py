"""The sandbox gateway's adapter: the embedded default gateway, test payments, no real money.

Its counterpart (the gateway's own side: accounts, charges, the hosted checkout page, refunds,
payouts, signed webhooks) lives in ``app.services.sandbox_gateway`` and is handed in as
``backend``: an object whose methods take and return plain JSON-able values, as a real
gateway's HTTP API would (:class:`SandboxBackend`). Amounts cross it as integers in minor units
(``currencies.to_minor`` with gateway ``"sandbox"``); a refusal comes back as
``{"error": {"type": …, "message": …}}`` and is raised here as ``GatewayError``.

Webhooks carry ``Sandbox-Signature: t=<unix>,v1=<hex>``, the hex HMAC-SHA256 of
``f"{t}.{body}"`` with the account's webhook secret; a signature that does not verify, or a
timestamp more than :data:`TOLERANCE_SECONDS` away, raises ``SignatureError``. The amounts in a
verified event are under that signature, so the events carry them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Protocol

from app.gateways import base, currencies

NAME = "sandbox"
SIGNATURE_HEADER = "Sandbox-Signature"
TOLERANCE_SECONDS = 300

#: (key, label, secret): what a connection asks for, in the order a form shows it.
CREDENTIAL_FIELDS: tuple[tuple[str, str, bool], ...] = (
    ("account_id", "Account id", False),
    ("secret_key", "Secret key", True),
    ("webhook_secret", "Webhook signing secret", True),
)

#: The sandbox's event types and what each says in the portal's words.
EVENT_KINDS: dict[str, str] = {
    "charge.pending": base.PAYMENT_PENDING,
    "charge.succeeded": base.PAYMENT_SUCCEEDED,
    "charge.failed": base.PAYMENT_FAILED,
    "charge.canceled": base.PAYMENT_CANCELED,
    "charge.refunded": base.REFUND_SUCCEEDED,
}

#: A charge's status at the sandbox → the portal's kind (a charge still open is pending).
STATUS_KINDS: dict[str, str] = {
    "open": base.PAYMENT_PENDING,
    "challenge": base.PAYMENT_PENDING,
    "pending": base.PAYMENT_PENDING,
    "succeeded": base.PAYMENT_SUCCEEDED,
    "failed": base.PAYMENT_FAILED,
    "canceled": base.PAYMENT_CANCELED,
}

METHODS = (base.CARD, base.PSE)
CURRENCIES = ("COP", "USD", "EUR", "MXN", "CLP")


class SandboxBackend(Protocol):
    """The sandbox's side as the adapter reaches it: JSON-able values in and out.

    Each method answers ``{"error": {"type": …, "message": …}}`` instead of raising when it
    refuses (an unknown key, an amount above what is left to refund, …).
    """

    def create_checkout(self, secret_key: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Create (or, for a known idempotency key, find again) a charge with its page."""
        ...

    def get_charge(self, secret_key: str, charge_id: str) -> dict[str, Any]:
        """Return one charge of the account."""
        ...

    def refund(
        self, secret_key: str, charge_id: str, amount_minor: int, idempotency_key: str
    ) -> dict[str, Any]:
        """Refund part or all of a charge (the same key → the same refund)."""
        ...

    def list_payouts(
        self, secret_key: str, since: str | None
    ) -> list[dict[str, Any]] | dict[str, Any]:
        """Return the account's payouts paid on or after ``since`` (an ISO date), with lines."""
        ...


def is_test_mode(credentials: Mapping[str, str] | None = None) -> bool:
    """Whether a connection with these credentials moves test money: the sandbox always does."""
    return True


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``f"{timestamp}.{body}"`` with ``secret``."""
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    """The ``Sandbox-Signature`` value for a body sent at ``timestamp``."""
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


class SandboxGateway:
    """``base.Gateway`` for the sandbox; ``clock`` (Unix seconds) is for tests."""

    name = NAME

    def __init__(
        self,
        credentials: Mapping[str, str],
        *,
        backend: SandboxBackend,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.account_id = str(credentials.get("account_id", "") or "")
        self.secret_key = str(credentials.get("secret_key", "") or "")
        self.webhook_secret = str(credentials.get("webhook_secret", "") or "")
        self.backend = backend
        self.clock = clock

    def capabilities(self) -> base.Capabilities:
        """Cards and PSE in five currencies, always in test mode."""
        return base.Capabilities(methods=METHODS, currencies=CURRENCIES, test_mode=True)

    # ----------------------------------------------------------------------------- checkout

    def create_checkout(self, request: base.CheckoutRequest) -> base.Checkout:
        """Open a hosted checkout; the same idempotency key gives the same one back."""
        currency = _currency(request.currency)
        payload = {
            "reference": request.reference,
            "amount": _minor(request.amount, currency),
            "currency": currency,
            "description": request.description,
            "lines": [
                {
                    "reference": line.reference,
                    "description": line.description,
                    "amount": _minor(line.amount, currency),
                }
                for line in request.lines
            ],
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
            "customer_email": request.customer_email,
            "idempotency_key": request.idempotency_key,
        }
        charge = _answer(self.backend.create_checkout(self.secret_key, payload))
        return base.Checkout(gateway_reference=str(charge["id"]), url=str(charge["url"]))

    def fetch_payment(self, gateway_reference: str) -> base.PaymentStatus:
        """Ask the sandbox where a charge stands."""
        charge = _answer(self.backend.get_charge(self.secret_key, gateway_reference))
        currency = str(charge["currency"])
        return base.PaymentStatus(
            gateway_reference=str(charge["id"]),
            kind=STATUS_KINDS.get(str(charge["status"]), base.PAYMENT_PENDING),
            reference=charge.get("reference"),
            amount=_amount(charge["amount"], currency),
            currency=currency,
            method=charge.get("method"),
        )

    # ------------------------------------------------------------------------------ refunds

    def refund(self, request: base.RefundRequest) -> base.RefundResult:
        """Refund part or all of a charge, in the charge's own currency."""
        charge = _answer(self.backend.get_charge(self.secret_key, request.gateway_reference))
        currency = str(charge["currency"])
        if currency != (request.currency or "").upper():
            raise base.GatewayError(
                f"the charge is in {currency}, the refund asked for {request.currency}"
            )
        answer = _answer(
            self.backend.refund(
                self.secret_key,
                request.gateway_reference,
                _minor(request.amount, currency),
                request.idempotency_key,
            )
        )
        return base.RefundResult(
            refund_reference=str(answer["id"]),
            status=str(answer.get("status", "succeeded")),
            amount=_amount(answer["amount"], currency),
        )

    # -------------------------------------------------------------------------- settlements

    def list_settlements(self, *, since: date | None = None) -> list[base.Settlement]:
        """The account's payouts (paid on ``since`` or later) with their lines."""
        answer = self.backend.list_payouts(self.secret_key, since.isoformat() if since else None)
        if isinstance(answer, dict):
            _answer(answer)  # an error
            raise base.GatewayError("the sandbox answered no list of payouts")
        return [_settlement(payout) for payout in answer]

    # ----------------------------------------------------------------------------- webhooks

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> list[base.GatewayEvent]:
        """Verify ``Sandbox-Signature`` and read the event; SignatureError when it fails."""
        self._verify(body, base.header(headers, SIGNATURE_HEADER))
        try:
            event = json.loads(body)
            return [_event(event)]
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            raise base.SignatureError(f"unreadable sandbox event: {error}") from None

    def _verify(self, body: bytes, value: str) -> None:
        if not self.webhook_secret:
            raise base.SignatureError("no webhook secret to verify the signature with")
        timestamp, signatures = "", []
        for part in value.split(","):
            key, _, item = part.strip().partition("=")
            if key == "t":
                timestamp = item
            elif key == "v1":
                signatures.append(item)
        if not timestamp.isdigit() or not signatures:
            raise base.SignatureError("missing or malformed Sandbox-Signature header")
        expected = sign(self.webhook_secret, timestamp, body)
        if not any(hmac.compare_digest(expected, given) for given in signatures):
            raise base.SignatureError("the signature does not match the body")
        if abs(self.clock() - int(timestamp)) > TOLERANCE_SECONDS:
            raise base.SignatureError("the signature's timestamp is too old or in the future")


# ------------------------------------------------------------------------------------ helpers


def _answer(answer: Any) -> dict[str, Any]:
    """The backend's answer, or GatewayError with the message it gave."""
    if not isinstance(answer, dict):
        raise base.GatewayError("the sandbox answered something unreadable")
    error = answer.get("error")
    if error:
        message = error.get("message") if isinstance(error, dict) else str(error)
        raise base.GatewayError(str(message or "the sandbox refused the request"))
    return answer


def _currency(currency: str) -> str:
    code = (currency or "").upper()
    if code not in CURRENCIES:
        raise base.GatewayError(f"the sandbox does not take {currency!r}")
    return code


def _minor(amount: Decimal, currency: str) -> int:
    try:
        return currencies.to_minor(amount, currency, NAME)
    except currencies.CurrencyError as error:
        raise base.GatewayError(str(error)) from None


def _amount(value: Any, currency: str) -> Decimal:
    return currencies.from_minor(value, currency, NAME)


def _when(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return datetime.fromtimestamp(value, UTC)


def _event(event: dict[str, Any]) -> base.GatewayEvent:
    raw_type = str(event["type"])
    event_id = str(event["id"])
    occurred_at = _when(event.get("created"))
    kind = EVENT_KINDS.get(raw_type)
    data = event.get("data") or {}
    charge = data.get("charge")
    if kind is None or not isinstance(charge, dict):
        return base.GatewayEvent(
            event_id=event_id,
            kind="ignored",
            reference=None,
            gateway_reference=None,
            occurred_at=occurred_at,
            raw_type=raw_type,
        )
    currency = str(charge["currency"])
    common = {
        "event_id": event_id,
        "kind": kind,
        "reference": charge.get("reference"),
        "gateway_reference": str(charge["id"]),
        "occurred_at": occurred_at,
        "currency": currency,
        "method": charge.get("method"),
        "raw_type": raw_type,
    }
    if kind == base.REFUND_SUCCEEDED:
        refund = data["refund"]
        return base.GatewayEvent(
            **common,
            amount=_amount(refund["amount"], currency),
            refund_reference=str(refund["id"]),
            refunded_total=_amount(charge["refunded_amount"], currency),
        )
    return base.GatewayEvent(**common, amount=_amount(charge["amount"], currency))


def _settlement(payout: dict[str, Any]) -> base.Settlement:
    currency = str(payout["currency"])
    lines = tuple(
        base.SettlementLine(
            kind=str(line["type"]),
            gateway_reference=str(line["source"]),
            amount=_amount(line["amount"], currency),
            fee=_amount(line["fee"], currency),
            net=_amount(line["net"], currency),
            reference=line.get("reference"),
            description=str(line.get("description", "")),
        )
        for line in payout.get("lines", [])
    )
    return base.Settlement(
        settlement_id=str(payout["id"]),
        currency=currency,
        paid_on=date.fromisoformat(payout["paid_on"]) if payout.get("paid_on") else None,
        amount=_amount(payout["amount"], currency),
        status=str(payout.get("status", "paid")),
        lines=lines,
    )
