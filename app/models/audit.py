"""The audit trail: who did what, when and from where, in one hash chain per company.

Each event carries the hash of the previous event of its company (``prev_hash``) and its own
``hash`` over a canonical form of every recorded field, so altering, removing or inserting a
row breaks the chain (``flask --app wsgi audit verify``). Events with no company (a failed
sign-in with an unknown e-mail) form the "system" chain, key 0.

The actor columns are plain ids, not foreign keys: a foreign key with ``SET NULL`` would
rewrite a hashed field when a user is deleted, and the trail must outlive who it names.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from app.models.base import Base, SharedAccess, utcnow

GENESIS_HASH = "0" * 64
SYSTEM_CHAIN = 0  # the chain key of events without a company


def chain_key(company_id: int | None) -> int:
    """Return the key of the chain a company's events belong to (0: no company)."""
    return company_id or SYSTEM_CHAIN


def canonical_json(value: Any) -> str:
    """Serialise a value the one way the chain hashes it (sorted keys, no spaces)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class AuditEvent(SharedAccess, Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        UniqueConstraint("company_id", "seq"),
        Index("ix_audit_events_company_created", "company_id", "created_at"),
        Index("ix_audit_events_company_actor", "company_id", "actor_user_id"),
        Index("ix_audit_events_company_action", "company_id", "action"),
        Index("ix_audit_events_target", "target_type", "target_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Null for events with no company yet, such as a failed sign-in with an unknown e-mail.
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    actor_user_id: Mapped[int | None]
    actor_token_id: Mapped[int | None]  # the API token an API call was made with
    actor: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(60))
    target_type: Mapped[str | None] = mapped_column(String(40))
    target_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Position in the company's chain (from 1), the previous event's hash and this one's: set
    # just before the transaction commits (app.services.audit), so null only until then.
    seq: Mapped[int | None]
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))

    @classmethod
    def tenant_criteria(cls, company_id: int) -> ColumnElement[bool]:
        """A company reads only its own audit events."""
        return cls.company_id == company_id

    def compute_hash(self) -> str:
        """Return the hex SHA-256 of prev_hash and every recorded field, as stored."""
        created = self.created_at.astimezone(UTC).isoformat(timespec="microseconds")
        fields = [
            1,  # version of this serialisation
            self.prev_hash,
            self.seq,
            self.company_id,
            self.actor_user_id,
            self.actor_token_id,
            self.actor,
            self.action,
            self.target_type,
            self.target_id,
            self.details or {},
            self.ip,
            self.user_agent,
            created,
        ]
        return hashlib.sha256(canonical_json(fields).encode("utf-8")).hexdigest()


class AuditChainHead(Base):
    """The last link of one company's chain; updating it serialises that company's writers."""

    __tablename__ = "audit_chain_heads"

    chain_key: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    # Null for the system chain; deleting a company deletes its chain and its head.
    company_id: Mapped[int | None] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), unique=True
    )
    last_seq: Mapped[int] = mapped_column(default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)
