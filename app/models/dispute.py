"""Disputes on a shared document: the dispute, its proposals, its chat messages and who read what.

Every row copies the document's two companies (supplier and buyer) so the access rule needs no
join: a dispute is visible to exactly the two companies that share the document.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, or_
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from app.models.base import Base, SharedAccess, utcnow

# Why a dispute was opened. The last four are DIAN's claim reasons (031 'Concepto de Reclamo'
# 01–04), which a claim opens its dispute with. A plain string column: no migration to add one.
REASONS = (
    "price",
    "quantity",
    "not_received",
    "tax_error",
    "duplicate",
    "payment",
    "other",
    "doc_inconsistent",
    "not_fully_delivered",
    "partially_delivered",
    "service_not_rendered",
)

# Dispute statuses; the transitions live in app.services.disputes.
OPEN = "open"
PROPOSED = "proposed"  # a resolution waits for the other side's answer
AGREED = "agreed"  # a credit-note resolution was accepted: it resolves once the note is issued
ESCALATED = "escalated"
RESOLVED = "resolved"
STATUSES = (OPEN, PROPOSED, AGREED, ESCALATED, RESOLVED)
ACTIVE_STATUSES = (OPEN, PROPOSED, AGREED, ESCALATED)

# How a dispute ends.
CREDIT_NOTE = "credit_note"
CORRECTED_INVOICE = "corrected_invoice"
CLAIM_WITHDRAWN = "claim_withdrawn"
PAID = "paid"
RESOLUTIONS = (CREDIT_NOTE, CORRECTED_INVOICE, CLAIM_WITHDRAWN, PAID)

# Proposal statuses.
PENDING, ACCEPTED, REJECTED, SUPERSEDED = "pending", "accepted", "rejected", "superseded"

# Message kinds: what a person wrote, or a line the portal wrote about a change of state.
MESSAGE, SYSTEM = "message", "system"


class _BothParties(SharedAccess):
    supplier_company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    buyer_company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )

    @classmethod
    def tenant_criteria(cls, company_id: int) -> ColumnElement[bool]:
        """A dispute and everything in it is visible to the supplier and the buyer only."""
        return or_(cls.supplier_company_id == company_id, cls.buyer_company_id == company_id)


class Dispute(_BothParties, Base):
    """A disagreement about one document, opened by either party."""

    __tablename__ = "disputes"
    __table_args__ = (Index("ix_disputes_document_id_status", "document_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    opened_by_company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE")
    )
    opened_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    reason: Mapped[str] = mapped_column(String(20))
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20), default=OPEN, index=True)
    resolution: Mapped[str | None] = mapped_column(String(20))
    # The credit note that resolved it, when one did.
    credit_note_id: Mapped[int | None] = mapped_column(
        ForeignKey("documents.id", ondelete="SET NULL")
    )
    # Who must answer now (the other side of the last message or proposal): "waiting for me".
    waiting_company_id: Mapped[int | None] = mapped_column(
        ForeignKey("companies.id", ondelete="SET NULL")
    )
    last_message_id: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]

    @property
    def active(self) -> bool:
        """True until the dispute is resolved."""
        return self.status != RESOLVED

    def other_company_id(self, company_id: int) -> int:
        """Return the id of the other party."""
        return (
            self.buyer_company_id
            if company_id == self.supplier_company_id
            else (self.supplier_company_id)
        )


class DisputeProposal(_BothParties, Base):
    """A resolution one side proposes and the other accepts or rejects."""

    __tablename__ = "dispute_proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    dispute_id: Mapped[int] = mapped_column(
        ForeignKey("disputes.id", ondelete="CASCADE"), index=True
    )
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    resolution: Mapped[str] = mapped_column(String(20))
    amount: Mapped[Decimal | None]
    # Invoice line numbers the proposal is about (for a credit note: the lines to credit).
    lines: Mapped[list[int]] = mapped_column(JSON, default=list)
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default=PENDING)
    decided_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DisputeMessage(_BothParties, Base):
    """One chat message, written before it is broadcast; never edited, never deleted."""

    __tablename__ = "dispute_messages"
    __table_args__ = (
        Index("ix_dispute_messages_dispute_id_id", "dispute_id", "id"),
        # A client's retry of the same message is recognised by its own id.
        UniqueConstraint("dispute_id", "user_id", "client_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("disputes.id", ondelete="CASCADE"))
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    author: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10), default=MESSAGE)
    body: Mapped[str] = mapped_column(Text, default="")
    # System lines are stored as a message id and parameters, translated when shown.
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    lines: Mapped[list[int]] = mapped_column(JSON, default=list)
    attachment_id: Mapped[int | None] = mapped_column(
        ForeignKey("document_attachments.id", ondelete="SET NULL")
    )
    client_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DisputeRead(_BothParties, Base):
    """How far one user has read a dispute's conversation (read receipts, unread counts)."""

    __tablename__ = "dispute_reads"
    __table_args__ = (UniqueConstraint("dispute_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("disputes.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    last_read_message_id: Mapped[int] = mapped_column(default=0)
    read_at: Mapped[datetime] = mapped_column(default=utcnow)
