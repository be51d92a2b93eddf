"""The one interface every payment gateway adapter implements.

Plain data in, plain data out: no Flask, no database. An adapter is built from a connection's
credentials (a dict decrypted by the caller) and, for tests, an HTTP transport; it never holds
state between calls.

The portal's payment id travels to the gateway as ``reference`` (a string) and comes back in
every event, so an event finds its payment without trusting anything else the payer could
change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

# What an event says happened, in the portal's words.
PAYMENT_PENDING = "payment.pending"
PAYMENT_SUCCEEDED = "payment.succeeded"
PAYMENT_FAILED = "payment.failed"
PAYMENT_CANCELED = "payment.canceled"
REFUND_SUCCEEDED = "refund.succeeded"
PAYMENT_DISPUTED = "payment.disputed"
EVENT_KINDS = (
    PAYMENT_PENDING,
    PAYMENT_SUCCEEDED,
    PAYMENT_FAILED,
    PAYMENT_CANCELED,
    REFUND_SUCCEEDED,
    PAYMENT_DISPUTED,
)

# Payment methods, as the portal names them.
CARD, PSE, NEQUI, BANK_TRANSFER = "card", "pse", "nequi", "bank_transfer"


class GatewayError(Exception):
    """The gateway refused or could not be reached; ``retryable`` when trying again may work."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class SignatureError(GatewayError):
    """A webhook whose signature, checksum or timestamp does not verify: never processed."""


@dataclass(frozen=True)
class CheckoutLine:
    """One invoice paid by the checkout."""

    reference: str  # the document id, as text
    description: str  # "Invoice FE-1001"
    amount: Decimal


@dataclass(frozen=True)
class CheckoutRequest:
    reference: str  # the portal's payment id
    amount: Decimal  # the sum of the lines
    currency: str
    lines: tuple[CheckoutLine, ...]
    success_url: str
    cancel_url: str
    idempotency_key: str  # fixed per payment attempt: a retry creates no second checkout
    customer_email: str | None = None
    description: str = ""


@dataclass(frozen=True)
class Checkout:
    gateway_reference: str  # the gateway's id for the checkout/session/transaction
    url: str  # where to send the payer
    expires_at: datetime | None = None


@dataclass(frozen=True)
class GatewayEvent:
    """One thing the gateway tells, already verified.

    ``amount``/``currency`` are what the gateway confirms, or None when the event does not carry
    them under its signature: the caller then asks :meth:`Gateway.fetch_payment`.
    """

    event_id: str  # the gateway's id for this event: stored once
    kind: str  # one of EVENT_KINDS, or "ignored"
    reference: str | None  # the portal's payment id, when the event names it
    gateway_reference: str | None  # the gateway's payment/transaction id
    occurred_at: datetime | None = None
    amount: Decimal | None = None
    currency: str | None = None
    method: str | None = None
    refund_reference: str | None = None  # for REFUND_SUCCEEDED: the gateway's refund id
    refunded_total: Decimal | None = None  # for REFUND_SUCCEEDED: all refunded so far
    raw_type: str = ""  # the gateway's own event name, for people reading the log


@dataclass(frozen=True)
class PaymentStatus:
    """What the gateway says of one payment when asked."""

    gateway_reference: str
    kind: str  # one of EVENT_KINDS (pending, succeeded, failed, canceled)
    reference: str | None
    amount: Decimal | None
    currency: str | None
    method: str | None = None


@dataclass(frozen=True)
class RefundRequest:
    gateway_reference: str  # the payment's id at the gateway
    amount: Decimal
    currency: str
    idempotency_key: str
    reason: str = ""


@dataclass(frozen=True)
class RefundResult:
    refund_reference: str
    status: str  # "succeeded", "pending" or "failed"
    amount: Decimal


@dataclass(frozen=True)
class SettlementLine:
    kind: str  # "charge", "refund", "fee", "adjustment"
    gateway_reference: str  # the charge/refund the line is about
    amount: Decimal  # gross, signed (refunds negative)
    fee: Decimal  # the gateway's fee on this line (positive)
    net: Decimal  # amount - fee
    reference: str | None = None  # the portal's payment id, when known
    description: str = ""


@dataclass(frozen=True)
class Settlement:
    """A payout to the merchant's bank, with the lines it settles."""

    settlement_id: str
    currency: str
    paid_on: date | None
    amount: Decimal  # net paid out
    status: str  # "paid", "pending", "in_transit", "failed"
    lines: tuple[SettlementLine, ...] = ()


@dataclass(frozen=True)
class Capabilities:
    methods: tuple[str, ...]
    currencies: tuple[str, ...]
    max_lines: int = 100
    test_mode: bool = False


class Gateway(Protocol):
    """What the portal asks of every gateway."""

    name: str

    def capabilities(self) -> Capabilities: ...

    def create_checkout(self, request: CheckoutRequest) -> Checkout: ...

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> list[GatewayEvent]:
        """Verify and read a webhook; raise SignatureError when it does not verify."""
        ...

    def fetch_payment(self, gateway_reference: str) -> PaymentStatus: ...

    def refund(self, request: RefundRequest) -> RefundResult: ...

    def list_settlements(self, *, since: date | None = None) -> list[Settlement]: ...


def header(headers: Mapping[str, str], name: str) -> str:
    """A header's value whatever its case ('' when absent)."""
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return ""
