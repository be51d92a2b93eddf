"""Payments between companies: gateway connections, payments, their allocations to invoices,
refunds, and the gateways' webhook events as received.

A payment never edits an invoice's amounts: the invoice's ``open_balance``, ``paid_amount`` and
``payment_status`` are moved by ``app.services.payments`` with conditional updates, from the
allocations of confirmed payments and refunds.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    or_,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from app.models.base import Base, SharedAccess, TenantScoped, utcnow

# Gateways a supplier can connect; "transfer" is the bank transfer with proof (no gateway).
SANDBOX, STRIPE, WOMPI, TRANSFER = "sandbox", "stripe", "wompi", "transfer"
# A payment first seen on a bank statement (recorded by reconciliation).
BANK = "bank"
GATEWAYS = (SANDBOX, STRIPE, WOMPI)
METHODS = (*GATEWAYS, TRANSFER, BANK)

# The payment's state machine (app.services.payments.state).
CREATED = "created"
PENDING = "pending"
SUCCEEDED = "succeeded"
FAILED = "failed"
CANCELED = "canceled"
NEEDS_REVIEW = "needs_review"
PARTIALLY_REFUNDED = "partially_refunded"
REFUNDED = "refunded"
DISPUTED = "disputed"
# A payment recorded from a bank line, undone in reconciliation (its invoices opened again).
REVERSED = "reversed"
# A transfer the payer recorded and the supplier has not confirmed yet.
AWAITING_CONFIRMATION = "awaiting_confirmation"
PAYMENT_STATUSES = (
    CREATED,
    PENDING,
    AWAITING_CONFIRMATION,
    SUCCEEDED,
    FAILED,
    CANCELED,
    NEEDS_REVIEW,
    PARTIALLY_REFUNDED,
    REFUNDED,
    DISPUTED,
    REVERSED,
)
# Statuses whose allocations hold part of an invoice's open balance.
HOLDING = (CREATED, PENDING, AWAITING_CONFIRMATION)
# Statuses whose allocations count as paid.
CONFIRMED = (SUCCEEDED, PARTIALLY_REFUNDED, REFUNDED, DISPUTED)


class GatewayConnection(TenantScoped, Base):
    """A supplier's account at a gateway: keys encrypted at rest, found by an opaque public id."""

    __tablename__ = "gateway_connections"

    id: Mapped[int] = mapped_column(primary_key=True)
    gateway: Mapped[str] = mapped_column(String(20))
    # Opaque id in the webhook URL (/payments/webhooks/<gateway>/<public_id>).
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    # Fernet token of the JSON credentials (app.services.certificates.encrypt).
    credentials_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    # The last characters of the main key, to recognise it ("…4242").
    key_hint: Mapped[str] = mapped_column(String(20), default="")
    test_mode: Mapped[bool] = mapped_column(default=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<GatewayConnection {self.id} {self.gateway}>"


class PaymentSettings(TenantScoped, Base):
    """What a supplier accepts: partial payments (and their minimum) and its bank details."""

    __tablename__ = "payment_settings"
    __table_args__ = (UniqueConstraint("company_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    allow_partial: Mapped[bool] = mapped_column(default=True)
    partial_minimum: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    accept_transfers: Mapped[bool] = mapped_column(default=True)
    bank_name: Mapped[str] = mapped_column(String(100), default="")
    account_type: Mapped[str] = mapped_column(String(20), default="")
    account_number: Mapped[str] = mapped_column(String(40), default="")
    account_holder: Mapped[str] = mapped_column(String(200), default="")
    instructions: Mapped[str] = mapped_column(Text, default="")


class Payment(SharedAccess, Base):
    """Money from a payer to a payee for one or more invoices of that payee.

    ``payer_company_id`` is NULL for a customer not on the network paying by a link; such a
    payment is visible to the payee (and to the payer once it registers and claims the invoice).
    """

    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("payee_company_id", "idempotency_key"),
        Index("ix_payments_payee_created", "payee_company_id", "created_at"),
        Index("ix_payments_payer_created", "payer_company_id", "created_at"),
        Index("ix_payments_gateway_reference", "connection_id", "gateway_reference"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    payee_company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    payer_company_id: Mapped[int | None] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE")
    )
    payer_name: Mapped[str] = mapped_column(String(200), default="")
    payer_email: Mapped[str | None] = mapped_column(String(254))
    method: Mapped[str] = mapped_column(String(20))
    connection_id: Mapped[int | None] = mapped_column(
        ForeignKey("gateway_connections.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(30), default=CREATED, index=True)
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[Decimal]  # what the payer chose to pay (the sum of the allocations)
    # What the gateway confirmed (None until then); a mismatch → needs_review.
    confirmed_amount: Mapped[Decimal | None]
    fee: Mapped[Decimal | None]  # the gateway's fee, a separate line, known at settlement
    refunded_amount: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    review_reason: Mapped[str] = mapped_column(String(200), default="")
    gateway_reference: Mapped[str | None] = mapped_column(String(120))
    checkout_url: Mapped[str | None] = mapped_column(Text)
    # The attempt's key: a retried creation reuses it and gets the same checkout.
    idempotency_key: Mapped[str] = mapped_column(String(80))
    # For the public pages of a payment made by link (no account): a random token.
    access_token: Mapped[str] = mapped_column(String(64), unique=True)
    # A bank transfer with proof: the payer's date and reference, and the receipt's file.
    transfer_date: Mapped[date | None]
    payer_reference: Mapped[str] = mapped_column(String(100), default="")
    # The bank transfer's end-to-end id (ISO 20022), when a statement showed it: the other
    # side's statement line carries the same id and matches the payment by it.
    end_to_end_id: Mapped[str | None] = mapped_column(String(100), index=True)
    proof: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    proof_filename: Mapped[str] = mapped_column(String(255), default="")
    proof_content_type: Mapped[str] = mapped_column(String(100), default="")
    decided_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    succeeded_at: Mapped[datetime | None]

    @classmethod
    def tenant_criteria(cls, company_id: int) -> ColumnElement[bool]:
        """A payment is visible to its payee and its payer."""
        return or_(cls.payee_company_id == company_id, cls.payer_company_id == company_id)

    def __repr__(self) -> str:
        return f"<Payment {self.id} {self.status} {self.amount} {self.currency}>"


class PaymentAllocation(SharedAccess, Base):
    """The part of a payment that goes to one invoice.

    ``discount`` is what the payee forgave for paying early (the early-payment offers to come):
    the invoice's open balance falls by ``amount + discount``.
    """

    __tablename__ = "payment_allocations"
    __table_args__ = (UniqueConstraint("payment_id", "document_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id", ondelete="CASCADE"))
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    payee_company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    payer_company_id: Mapped[int | None] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE")
    )
    amount: Mapped[Decimal]
    discount: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    refunded_amount: Mapped[Decimal] = mapped_column(default=Decimal("0"))

    @classmethod
    def tenant_criteria(cls, company_id: int) -> ColumnElement[bool]:
        return or_(cls.payee_company_id == company_id, cls.payer_company_id == company_id)


class Refund(SharedAccess, Base):
    """Money given back to the payer, through the gateway that took it."""

    __tablename__ = "refunds"
    __table_args__ = (UniqueConstraint("payment_id", "idempotency_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(
        ForeignKey("payments.id", ondelete="CASCADE"), index=True
    )
    payee_company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    payer_company_id: Mapped[int | None] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE")
    )
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending|succeeded|failed
    reason: Mapped[str] = mapped_column(String(500), default="")
    gateway_reference: Mapped[str | None] = mapped_column(String(120))
    idempotency_key: Mapped[str] = mapped_column(String(80))
    # Per invoice: {document_id: amount} as strings.
    allocations: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    succeeded_at: Mapped[datetime | None]

    @classmethod
    def tenant_criteria(cls, company_id: int) -> ColumnElement[bool]:
        return or_(cls.payee_company_id == company_id, cls.payer_company_id == company_id)


# A received webhook event's processing state.
EVENT_RECEIVED, EVENT_PROCESSED, EVENT_IGNORED, EVENT_FAILED = (
    "received",
    "processed",
    "ignored",
    "failed",
)


class GatewayEventRecord(TenantScoped, Base):
    """One verified webhook event, stored once by the gateway's event id, processed by a job."""

    __tablename__ = "gateway_events"
    __table_args__ = (UniqueConstraint("connection_id", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(
        ForeignKey("gateway_connections.id", ondelete="CASCADE")
    )
    event_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    raw_type: Mapped[str] = mapped_column(String(80), default="")
    # The parsed event (app.gateways.base.GatewayEvent as JSON) and the raw body, kept for audit.
    event: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    body: Mapped[str] = mapped_column(Text, default="", deferred=True)
    state: Mapped[str] = mapped_column(String(20), default=EVENT_RECEIVED, index=True)
    error: Mapped[str] = mapped_column(String(500), default="")
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_until: Mapped[datetime | None]
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id", ondelete="SET NULL"))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]
