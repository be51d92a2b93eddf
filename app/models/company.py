"""Companies: the tenants of the portal."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app import humanize
from app.models.base import Base, utcnow


class Company(Base):
    __tablename__ = "companies"
    __table_args__ = (UniqueConstraint("country", "tax_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    legal_name: Mapped[str] = mapped_column(String(200))
    trade_name: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    tax_id: Mapped[str] = mapped_column(String(20), index=True)
    contact_email: Mapped[str] = mapped_column(String(254))
    locale: Mapped[str] = mapped_column(String(5), default="es")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The fiscal profile (RUT) an issued invoice writes for this company; see services/fiscal.
    person_type: Mapped[str | None] = mapped_column(String(1))  # DIAN AdditionalAccountID
    tax_responsibilities: Mapped[str | None] = mapped_column(String(100))  # "O-13;O-15"
    tax_scheme: Mapped[str | None] = mapped_column(String(2))  # "01" IVA … "ZZ"
    address_line: Mapped[str | None] = mapped_column(String(200))
    municipality_code: Mapped[str | None] = mapped_column(String(5))  # DIVIPOLA
    municipality_name: Mapped[str | None] = mapped_column(String(100))
    postal_code: Mapped[str | None] = mapped_column(String(6))

    @property
    def display_name(self) -> str:
        return self.trade_name or self.legal_name

    @property
    def department_code(self) -> str:
        """Return the DIVIPOLA department: the municipality code's first two digits."""
        return (self.municipality_code or "")[:2]

    @property
    def tax_id_display(self) -> str:
        return humanize.tax_id(self.tax_id, self.country)

    def __repr__(self) -> str:
        return f"<Company {self.id} {self.legal_name!r}>"
