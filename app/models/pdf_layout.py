"""Where a supplier's PDFs keep their fields: learned from the sender's reviewed values."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantScoped, utcnow


class PdfLayout(TenantScoped, Base):
    """One supplier layout as one company saw it: per field, the label near the value and where.

    ``supplier_key`` is ``tax:<compact tax id>`` when the PDF shows the supplier's tax id, else
    ``head:<hash of the first page's header words>``; ``hints`` is the JSON the engine's
    ``app.einvoice.pdflayout.learn_layout`` writes. Only the company that learned a layout reads it.
    """

    __tablename__ = "pdf_layouts"
    __table_args__ = (UniqueConstraint("company_id", "supplier_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_key: Mapped[str] = mapped_column(String(80))
    hints: Mapped[dict] = mapped_column(JSON, default=dict)
    #: How many reviewed PDFs taught this layout.
    samples: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<PdfLayout {self.company_id} {self.supplier_key}>"
