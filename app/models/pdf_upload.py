"""A PDF invoice uploaded for review: its bytes, and the extraction a job fills in."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantScoped, utcnow

EXTRACTING = "extracting"
READY = "ready"
FAILED = "failed"
PDF_UPLOAD_STATES = (EXTRACTING, READY, FAILED)


class PdfUpload(TenantScoped, Base):
    """One uploaded PDF waiting for its sender's review.

    The row is the truth about the extraction job: ``extracting`` until a worker wrote
    ``result`` (``ready``) or gave up (``failed``); ``started_at`` is when the current attempt
    was claimed, so a sweep can hand an attempt whose worker died to another worker.
    """

    __tablename__ = "pdf_uploads"
    __table_args__ = (Index("ix_pdf_uploads_state_started_at", "state", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The unguessable name the review page and its form carry.
    token: Mapped[str] = mapped_column(String(64), unique=True)
    filename: Mapped[str] = mapped_column(String(255))
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    #: sha256 of the bytes: the sent invoice finds its kept words by it (learning the layout).
    digest: Mapped[str] = mapped_column(String(64), index=True)
    state: Mapped[str] = mapped_column(String(16), default=EXTRACTING)
    attempts: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    #: What extraction found: fields (as text), confidence, findings, lines, words.
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<PdfUpload {self.id} {self.state}>"
