"""A company's DIAN numbering range (resolución de facturación): where invoices take numbers."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantScoped, utcnow


class NumberingRange(TenantScoped, Base):
    __tablename__ = "numbering_ranges"

    id: Mapped[int] = mapped_column(primary_key=True)
    prefix: Mapped[str] = mapped_column(String(4), default="")
    range_from: Mapped[int]
    range_to: Mapped[int]
    # The next consecutive to issue; taken with a compare-and-set UPDATE (app.services.issuing).
    next_number: Mapped[int]
    resolution: Mapped[str] = mapped_column(String(40))
    valid_from: Mapped[date]
    valid_to: Mapped[date]
    # A Fernet token (app.services.certificates.encrypt): the CUFE's technical key.
    technical_key_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
