"""Partnerships: who supplies whom on the network."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint, or_
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement

from app.models.base import Base, SharedAccess, utcnow
from app.models.company import Company

PENDING, ACTIVE, DECLINED = "pending", "active", "declined"


class Partnership(SharedAccess, Base):
    """A supplier–customer relationship; one side may be a company not on the network yet.

    The side that is not on the network yet is described by the ``invited_*`` columns; when a
    company registers with that tax id it takes that side and the partnership becomes active.
    """

    __tablename__ = "partnerships"
    __table_args__ = (UniqueConstraint("supplier_id", "customer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_id: Mapped[int | None] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    requested_by_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(10), default=PENDING)
    invited_name: Mapped[str | None] = mapped_column(String(200))
    invited_country: Mapped[str | None] = mapped_column(String(2))
    invited_tax_id: Mapped[str | None] = mapped_column(String(20), index=True)
    invited_email: Mapped[str | None] = mapped_column(String(254))
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    responded_at: Mapped[datetime | None]

    supplier: Mapped[Company | None] = relationship(foreign_keys=[supplier_id], lazy="joined")
    customer: Mapped[Company | None] = relationship(foreign_keys=[customer_id], lazy="joined")
    requested_by: Mapped[Company] = relationship(foreign_keys=[requested_by_id], lazy="joined")

    @classmethod
    def tenant_criteria(cls, company_id: int) -> ColumnElement[bool]:
        """A partnership is visible to its supplier, its customer and the company that asked."""
        return or_(
            cls.supplier_id == company_id,
            cls.customer_id == company_id,
            cls.requested_by_id == company_id,
        )

    def relation_for(self, company_id: int) -> str:
        """Return what the other side is to company_id: 'supplier' or 'customer'."""
        return "customer" if self.supplier_id == company_id else "supplier"

    def partner_of(self, company_id: int) -> Company | None:
        """Return the other side's company (None while it is not on the network)."""
        return self.customer if self.supplier_id == company_id else self.supplier

    def partner_name_for(self, company_id: int) -> str:
        partner = self.partner_of(company_id)
        return partner.display_name if partner else (self.invited_name or "")

    def awaits_answer_from(self, company_id: int) -> bool:
        """True when company_id is the side that must accept or decline."""
        return (
            self.status == PENDING
            and self.requested_by_id != company_id
            and company_id in (self.supplier_id, self.customer_id)
        )
