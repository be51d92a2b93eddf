"""In-app notifications (the bell), each user's preferences, and the marks of reminders sent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantScoped, utcnow


class Notification(TenantScoped, Base):
    """One line in a user's bell, about one company's business (usually one document)."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_id_read_at", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    # The title's parameters (number, counterparty): the title is worded when shown, in the
    # reader's language.
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    read_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class NotificationPreference(TenantScoped, Base):
    """Whether a user wants one kind of notification in the bell and by e-mail (no row: both)."""

    __tablename__ = "notification_preferences"
    __table_args__ = (UniqueConstraint("user_id", "company_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    in_app: Mapped[bool] = mapped_column(default=True)
    email: Mapped[bool] = mapped_column(default=True)


class NotificationMark(TenantScoped, Base):
    """A reminder (due soon, overdue) already given to a company about a document: once only."""

    __tablename__ = "notification_marks"
    __table_args__ = (UniqueConstraint("company_id", "document_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
