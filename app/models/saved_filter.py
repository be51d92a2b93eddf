"""Filters a user saved on an Inbox tray, to come back to with one click."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantScoped, utcnow

TRAYS = ("received", "sent")


class SavedFilter(TenantScoped, Base):
    """One user's named query string on one tray of one company; only that user sees it."""

    __tablename__ = "saved_filters"
    __table_args__ = (Index("ix_saved_filters_user_tray", "user_id", "company_id", "tray"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    tray: Mapped[str] = mapped_column(String(10))
    # The tray's query string as the user saw it (filters and sort, never a cursor).
    query: Mapped[str] = mapped_column(String(2000), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<SavedFilter {self.id} {self.tray} {self.name!r}>"
