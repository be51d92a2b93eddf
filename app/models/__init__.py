"""All models, imported here so the metadata is complete wherever one is used."""

from app.models.api import ApiToken
from app.models.audit import AuditEvent
from app.models.base import Base, SharedAccess, TenantScoped, utcnow
from app.models.certificate import SigningCertificate
from app.models.company import Company
from app.models.document import Document, DocumentEvent, QuarantinedUpload
from app.models.network import Partnership
from app.models.user import Membership, TeamInvitation, User

__all__ = [
    "ApiToken",
    "AuditEvent",
    "Base",
    "Company",
    "Document",
    "DocumentEvent",
    "Membership",
    "Partnership",
    "QuarantinedUpload",
    "SharedAccess",
    "SigningCertificate",
    "TeamInvitation",
    "TenantScoped",
    "User",
    "utcnow",
]
