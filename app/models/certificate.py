"""A company's signing certificate (PKCS#12), kept encrypted at rest."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantScoped, utcnow


class SigningCertificate(TenantScoped, Base):
    __tablename__ = "signing_certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Fernet tokens: the PKCS#12 file and its password, encrypted with a key derived from
    # SECRET_KEY (app.services.certificates). Neither is ever logged or shown again.
    pkcs12_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    password_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    subject: Mapped[str] = mapped_column(String(500))
    issuer: Mapped[str] = mapped_column(String(500))
    serial_number: Mapped[str] = mapped_column(String(100))
    not_before: Mapped[datetime]
    not_after: Mapped[datetime]
    active: Mapped[bool] = mapped_column(default=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
