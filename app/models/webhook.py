"""Outbound webhooks: a company's ERP endpoints and every delivery made (or tried) to them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, TenantScoped, utcnow

DOCUMENT_RECEIVED, EVENT_RECORDED = "document.received", "document.event_recorded"
PAYMENT_SUCCEEDED, PAYMENT_FAILED, PAYMENT_REFUNDED = (
    "payment.succeeded",
    "payment.failed",
    "payment.refunded",
)
RECONCILIATION_MATCHED = "reconciliation.matched"
ORDER_RECEIVED, ORDER_RESPONDED = "order.received", "order.responded"
WEBHOOK_EVENTS = (
    DOCUMENT_RECEIVED,
    EVENT_RECORDED,
    PAYMENT_SUCCEEDED,
    PAYMENT_FAILED,
    PAYMENT_REFUNDED,
    RECONCILIATION_MATCHED,
    ORDER_RECEIVED,
    ORDER_RESPONDED,
)


class WebhookEndpoint(TenantScoped, Base):
    """A URL of the company's ERP that the portal POSTs signed events to."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    # Kept in clear: every delivery is signed with it (HMAC). Shown to the admin once.
    secret: Mapped[str] = mapped_column(String(100))
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def wants(self, event_type: str) -> bool:
        """Tell whether the endpoint subscribed to the event type."""
        return self.active and event_type in (self.events or [])

    def __repr__(self) -> str:
        return f"<WebhookEndpoint {self.id} company={self.company_id}>"


class WebhookDelivery(TenantScoped, Base):
    """One event to deliver to one endpoint, with its attempts so far."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # The delivery job's scan: what is still undelivered and due.
        Index("ix_webhook_deliveries_due", "delivered_at", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True
    )
    event_type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    attempts: Mapped[int] = mapped_column(default=0)
    # NULL once delivered or given up.
    next_attempt_at: Mapped[datetime | None]
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    endpoint: Mapped[WebhookEndpoint] = relationship(lazy="joined")

    @property
    def status(self) -> str:
        """Return delivered, pending or failed (given up)."""
        if self.delivered_at is not None:
            return "delivered"
        return "pending" if self.next_attempt_at is not None else "failed"

    def __repr__(self) -> str:
        return f"<WebhookDelivery {self.id} {self.event_type} attempts={self.attempts}>"
