"""All models, imported here so the metadata is complete wherever one is used."""

from app.models.api import ApiIdempotencyKey, ApiToken
from app.models.audit import AuditChainHead, AuditEvent
from app.models.base import Base, SharedAccess, TenantScoped, utcnow
from app.models.catalog import CatalogAudience, CatalogItem, CustomerPrice, SuggestionDismissal
from app.models.certificate import SigningCertificate
from app.models.company import Company
from app.models.dispute import Dispute, DisputeMessage, DisputeProposal, DisputeRead
from app.models.document import (
    Document,
    DocumentAttachment,
    DocumentEvent,
    DocumentLine,
    QuarantinedUpload,
)
from app.models.network import Partnership
from app.models.notification import Notification, NotificationMark, NotificationPreference
from app.models.numbering import NumberingRange
from app.models.order import (
    CartLine,
    MatchTolerance,
    Order,
    OrderDelivery,
    OrderDeliveryLine,
    OrderLine,
)
from app.models.payment import (
    GatewayConnection,
    GatewayEventRecord,
    Payment,
    PaymentAllocation,
    PaymentSettings,
    Refund,
)
from app.models.pdf_layout import PdfLayout
from app.models.pdf_upload import PdfUpload
from app.models.reconciliation import (
    BankAccount,
    BankLine,
    CounterpartyHint,
    GatewayPayout,
    GatewayPayoutLine,
    Match,
    MatchItem,
    ReconciliationRule,
    StatementImport,
)
from app.models.sandbox_gateway import (
    SandboxAccount,
    SandboxCharge,
    SandboxPayout,
    SandboxRefund,
    SandboxWebhook,
)
from app.models.saved_filter import SavedFilter
from app.models.tray_version import TrayVersion
from app.models.user import Membership, TeamInvitation, User
from app.models.webhook import WebhookDelivery, WebhookEndpoint

__all__ = [
    "CartLine",
    "MatchTolerance",
    "Order",
    "OrderDelivery",
    "OrderDeliveryLine",
    "OrderLine",
    "CatalogAudience",
    "CatalogItem",
    "CustomerPrice",
    "SuggestionDismissal",
    "BankAccount",
    "BankLine",
    "CounterpartyHint",
    "GatewayPayout",
    "GatewayPayoutLine",
    "Match",
    "MatchItem",
    "ReconciliationRule",
    "StatementImport",
    "SandboxWebhook",
    "SandboxRefund",
    "SandboxPayout",
    "SandboxCharge",
    "SandboxAccount",
    "Refund",
    "PaymentSettings",
    "PaymentAllocation",
    "Payment",
    "GatewayEventRecord",
    "GatewayConnection",
    "ApiIdempotencyKey",
    "ApiToken",
    "AuditChainHead",
    "AuditEvent",
    "Base",
    "Company",
    "Dispute",
    "DisputeMessage",
    "DisputeProposal",
    "DisputeRead",
    "Document",
    "DocumentAttachment",
    "DocumentEvent",
    "DocumentLine",
    "Membership",
    "Notification",
    "NotificationMark",
    "NotificationPreference",
    "NumberingRange",
    "Partnership",
    "PdfLayout",
    "PdfUpload",
    "QuarantinedUpload",
    "SavedFilter",
    "SharedAccess",
    "SigningCertificate",
    "TeamInvitation",
    "TenantScoped",
    "TrayVersion",
    "User",
    "WebhookDelivery",
    "WebhookEndpoint",
    "utcnow",
]
