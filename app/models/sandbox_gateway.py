"""The sandbox gateway's own tables: the embedded counterpart that stands in for a real gateway.

These rows are the gateway's side, not the portal's: no company owns them (the sandbox knows
its merchants by account id and secret key), so they carry no tenancy mixin and only
``app.services.sandbox_gateway`` reads them.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, utcnow


class SandboxAccount(Base):
    """A merchant account at the sandbox gateway."""

    __tablename__ = "sandbox_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[str] = mapped_column(String(40), unique=True)  # "acct_…"
    secret_key: Mapped[str] = mapped_column(String(80), unique=True)  # "sk_sandbox_…"
    webhook_secret: Mapped[str] = mapped_column(String(80))  # "whsec_sandbox_…"
    # Where its webhooks go: the portal connection's public id (delivered in-process).
    webhook_target: Mapped[str] = mapped_column(String(200), default="")
    name: Mapped[str] = mapped_column(String(200), default="")
    fee_percent: Mapped[Decimal] = mapped_column(default=Decimal("2.90"))
    fee_fixed: Mapped[Decimal] = mapped_column(default=Decimal("900"))  # per charge, in currency
    # For tests and demos: how webhooks are sent ({"duplicate": n, "delay_seconds": s,
    # "reverse": bool}); see app.services.sandbox_gateway.set_delivery_options.
    delivery_options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SandboxCharge(Base):
    """A hosted checkout and the charge it becomes."""

    __tablename__ = "sandbox_charges"
    __table_args__ = (UniqueConstraint("account_id", "idempotency_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    charge_id: Mapped[str] = mapped_column(String(40), unique=True)  # "ch_…"
    account_id: Mapped[int] = mapped_column(ForeignKey("sandbox_accounts.id", ondelete="CASCADE"))
    idempotency_key: Mapped[str] = mapped_column(String(80))
    reference: Mapped[str] = mapped_column(String(80))  # the merchant's (the portal's payment id)
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3))
    description: Mapped[str] = mapped_column(String(500), default="")
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    success_url: Mapped[str] = mapped_column(Text, default="")
    cancel_url: Mapped[str] = mapped_column(Text, default="")
    customer_email: Mapped[str | None] = mapped_column(String(254))
    # How the payer paid ("card", "pse"), chosen on the hosted page; None until then.
    method: Mapped[str | None] = mapped_column(String(20))
    # open → succeeded | failed | canceled; open → pending → succeeded | failed (settle_due);
    # open → challenge → succeeded | failed (the 3-D Secure code)
    status: Mapped[str] = mapped_column(String(20), default="open")
    # For "pending": what happens later ("approve" or "decline") and when.
    settle_outcome: Mapped[str | None] = mapped_column(String(10))
    settle_at: Mapped[datetime | None]
    refunded_amount: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    fee: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    payout_id: Mapped[int | None] = mapped_column(
        ForeignKey("sandbox_payouts.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    paid_at: Mapped[datetime | None]


class SandboxRefund(Base):
    __tablename__ = "sandbox_refunds"
    __table_args__ = (UniqueConstraint("charge_id", "idempotency_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    refund_id: Mapped[str] = mapped_column(String(40), unique=True)  # "re_…"
    charge_id: Mapped[int] = mapped_column(ForeignKey("sandbox_charges.id", ondelete="CASCADE"))
    idempotency_key: Mapped[str] = mapped_column(String(80))
    amount: Mapped[Decimal]
    payout_id: Mapped[int | None] = mapped_column(
        ForeignKey("sandbox_payouts.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SandboxPayout(Base):
    """A daily payout: the day's charges less refunds and fees."""

    __tablename__ = "sandbox_payouts"
    __table_args__ = (UniqueConstraint("account_id", "currency", "paid_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    payout_id: Mapped[str] = mapped_column(String(40), unique=True)  # "po_…"
    account_id: Mapped[int] = mapped_column(ForeignKey("sandbox_accounts.id", ondelete="CASCADE"))
    currency: Mapped[str] = mapped_column(String(3))
    paid_on: Mapped[date]
    amount: Mapped[Decimal]  # net
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SandboxWebhook(Base):
    """A webhook the sandbox owes a merchant: sent by a job, retried on its backoff."""

    __tablename__ = "sandbox_webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(40))  # "evt_…" (a duplicate repeats it)
    account_id: Mapped[int] = mapped_column(ForeignKey("sandbox_accounts.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20), default="due", index=True)  # due|sent|dead
    attempts: Mapped[int] = mapped_column(default=0)
    due_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_until: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
