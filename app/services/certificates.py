"""Companies' signing certificates: uploaded as PKCS#12, stored encrypted, loaded to sign."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.einvoice import signature
from app.extensions import db
from app.models import SigningCertificate, User, utcnow
from app.services import audit
from app.services.errors import DomainError, NotFound

MAX_PKCS12_BYTES = 64 * 1024


def _fernet() -> Fernet:
    """Return the cipher whose key is derived from SECRET_KEY (HKDF-SHA256, own label)."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=b"portal.signing-certificates.v1").derive(current_app.secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(data: bytes) -> bytes:
    """Encrypt a secret for storage with the server's key (certificates, technical keys)."""
    return _fernet().encrypt(data)


def decrypt(token: bytes) -> bytes:
    """Decrypt a stored secret, or raise DomainError when this server's key cannot."""
    try:
        return _fernet().decrypt(token)
    except InvalidToken:
        raise DomainError(
            _l("A stored secret cannot be opened with this server's secret key. Enter it again.")
        ) from None


def upload_certificate(
    company_id: int, *, data: bytes, password: str, actor: User
) -> SigningCertificate:
    """Check a PKCS#12 file and its password, then store both encrypted as the active one."""
    if not data or len(data) > MAX_PKCS12_BYTES:
        raise DomainError(_l("Choose a .p12 or .pfx file of at most 64 KB."), field="file")
    try:
        _key, certificate, _chain = signature.load_pkcs12(data, password)
    except signature.SignatureError as error:
        wrong_password = "password" in str(error).lower()
        raise DomainError(
            _l("The password does not open this certificate.") if wrong_password
            else _l("This is not a PKCS#12 certificate (.p12 or .pfx) with an RSA key."),
            field="password" if wrong_password else "file",
        ) from None
    not_after = certificate.not_valid_after_utc
    if not_after < utcnow():
        raise DomainError(_l("This certificate expired on %(date)s.",
                             date=not_after.date().isoformat()), field="file")
    previous = active_certificate(company_id)
    if previous is not None:
        previous.active = False
    stored = _store(company_id, data, password, certificate, uploaded_by_id=actor.id)
    db.session.flush()
    audit.record_event(actor, company_id, "certificate.uploaded", stored,
                       {"subject": stored.subject, "serial": stored.serial_number})
    return stored


def active_certificate(company_id: int) -> SigningCertificate | None:
    """Return the company's certificate in use, if any."""
    return db.session.scalars(
        select(SigningCertificate).where(SigningCertificate.company_id == company_id,
                                         SigningCertificate.active.is_(True))
    ).first()


@dataclass
class SigningMaterial:
    key: Any
    certificate: Any
    chain: list[Any]


def signing_material(company_id: int) -> SigningMaterial:
    """Decrypt the active certificate and return its key and certificate, to sign with."""
    stored = active_certificate(company_id)
    if stored is None:
        raise NotFound(_l("Upload the company's signing certificate first."))
    cipher = _fernet()
    try:
        data = cipher.decrypt(stored.pkcs12_encrypted)
        password = cipher.decrypt(stored.password_encrypted).decode()
    except InvalidToken:
        raise DomainError(
            _l("The stored certificate cannot be opened with this server's secret key. "
               "Upload it again.")
        ) from None
    key, certificate, chain = signature.load_pkcs12(data, password)
    return SigningMaterial(key, certificate, chain)


def store_test_certificate(company_id: int, *, name: str, nit: str) -> SigningCertificate:
    """Generate and store a self-signed test certificate (demo companies)."""
    data, password = signature.make_test_certificate(name, nit)
    certificate = signature.load_pkcs12(data, password)[1]
    return _store(company_id, data, password, certificate, uploaded_by_id=None)


def _store(
    company_id: int, data: bytes, password: str, certificate: Any, *, uploaded_by_id: int | None
) -> SigningCertificate:
    """Add the certificate, encrypted, with what people need to recognise it."""
    cipher = _fernet()
    stored = SigningCertificate(
        company_id=company_id,
        pkcs12_encrypted=cipher.encrypt(data),
        password_encrypted=cipher.encrypt(password.encode()),
        subject=certificate.subject.rfc4514_string()[:500],
        issuer=certificate.issuer.rfc4514_string()[:500],
        serial_number=str(certificate.serial_number)[:100],
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        uploaded_by_id=uploaded_by_id,
    )
    db.session.add(stored)
    return stored
