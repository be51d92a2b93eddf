"""API tokens: how a company's ERP signs in to the JSON API (/api/v1)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, TenantScoped, utcnow
from app.models.company import Company

DOCUMENTS_READ, DOCUMENTS_WRITE, EVENTS_WRITE = "documents:read", "documents:write", "events:write"
PAYMENTS_READ, PAYMENTS_WRITE = "payments:read", "payments:write"
RECONCILIATION_READ, RECONCILIATION_WRITE = "reconciliation:read", "reconciliation:write"
ORDERS_READ, ORDERS_WRITE = "orders:read", "orders:write"
CATALOG_READ, CATALOG_WRITE = "catalog:read", "catalog:write"
SCOPES = (
    DOCUMENTS_READ,
    DOCUMENTS_WRITE,
    EVENTS_WRITE,
    PAYMENTS_READ,
    PAYMENTS_WRITE,
    RECONCILIATION_READ,
    RECONCILIATION_WRITE,
    ORDERS_READ,
    ORDERS_WRITE,
    CATALOG_READ,
    CATALOG_WRITE,
)
PREFIX_LENGTH = 8


class ApiToken(TenantScoped, Base):
    """A bearer token of one company; only its SHA-256 hash is kept, the token is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    # The first characters of the token, so an admin can tell tokens apart in a list.
    prefix: Mapped[str] = mapped_column(String(PREFIX_LENGTH))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    # Loaded with the token when a call authenticates (api_tokens.authenticate).
    company: Mapped[Company] = relationship()

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def allows(self, scope: str | None) -> bool:
        """Tell whether the token holds the scope (None: any valid token)."""
        return scope is None or scope in (self.scopes or [])

    def __repr__(self) -> str:
        return f"<ApiToken {self.id} {self.prefix}… company={self.company_id}>"


class ApiIdempotencyKey(TenantScoped, Base):
    """The first answer to a POST sent with an ``Idempotency-Key``, replayed for 24 hours."""

    __tablename__ = "api_idempotency_keys"
    __table_args__ = (UniqueConstraint("company_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(255))
    # SHA-256 of the request (method, path and body): the same key with another body is refused.
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int]
    response: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<ApiIdempotencyKey {self.id} company={self.company_id}>"
