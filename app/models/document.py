"""Documents exchanged on the network (invoices, credit and debit notes), their DIAN events and
the uploads refused into quarantine."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    and_,
    or_,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from app.models.base import Base, SharedAccess, TenantScoped, utcnow

# Document types, as the engine names them (app.einvoice.model.DocumentType).
INVOICE, CREDIT_NOTE, DEBIT_NOTE = "Invoice", "CreditNote", "DebitNote"
DOCUMENT_TYPES = (INVOICE, CREDIT_NOTE, DEBIT_NOTE)

# Lifecycle statuses; the transitions between them live in app.services.lifecycle.
RECEIVED = "received"
ACKNOWLEDGED = "acknowledged"
GOODS_RECEIVED = "goods_received"
ACCEPTED = "accepted"
CLAIMED = "claimed"
TACITLY_ACCEPTED = "tacitly_accepted"
STATUSES = (RECEIVED, ACKNOWLEDGED, GOODS_RECEIVED, ACCEPTED, CLAIMED, TACITLY_ACCEPTED)

UNPAID, PARTIAL, PAID, REFUNDED = "unpaid", "partially_paid", "paid", "refunded"
PAYMENT_STATUSES = (UNPAID, PARTIAL, PAID, REFUNDED)

ORIGIN_XML, ORIGIN_PDF, ORIGIN_PORTAL = "xml", "pdf", "portal"
ORIGINS = (ORIGIN_XML, ORIGIN_PDF, ORIGIN_PORTAL)

# What a matching run reads of each side's open invoices (app.services.reconciliation).
_OPEN = text("open_balance > held_amount")
_OPEN_ITEM_COLUMNS = {
    side: (f"{side}_company_id", "document_type", "currency", f"{partner}_tax_id", "due_date",
           "issue_date", "number", "open_balance", "held_amount", f"{partner}_name")
    for side, partner in (("sender", "customer"), ("receiver", "supplier"))
}


class Document(SharedAccess, Base):
    """An invoice or note sent by one company to another.

    The receiver is NULL while the customer is not on the network: the document waits, keyed by
    the customer's country and compact tax id, until a company registers with them.
    """

    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("sender_company_id", "document_type", "number"),
        # Keyset pagination of the two trays: newest first, ties broken by id.
        Index("ix_documents_receiver_issue_date", "receiver_company_id", "issue_date", "id"),
        Index("ix_documents_sender_issue_date", "sender_company_id", "issue_date", "id"),
        # Routing and claiming what waits for a company that registers.
        Index("ix_documents_customer_key", "customer_country", "customer_tax_id"),
        # The home's figures (app.services.home), read from the indexes alone: documents per
        # status on each side, and invoices' open amounts by payment status and due date. Each
        # ends with the other party's column, which the tenancy filter (sender or receiver)
        # reads too: without it every row counted is a lookup in the table.
        Index(
            "ix_documents_receiver_status", "receiver_company_id", "status", "sender_company_id"
        ),
        Index(
            "ix_documents_sender_status", "sender_company_id", "status", "receiver_company_id"
        ),
        Index(
            "ix_documents_receiver_due",
            "receiver_company_id",
            "document_type",
            "payment_status",
            "due_date",
            "currency",
            "open_balance",
            "sender_company_id",
        ),
        Index(
            "ix_documents_sender_due",
            "sender_company_id",
            "document_type",
            "payment_status",
            "due_date",
            "currency",
            "open_balance",
            "receiver_company_id",
        ),
        # Bank reconciliation asks, for one bank line: which open invoices have this amount,
        # carry this number, or belong to this partner (app.services.reconciliation.candidates).
        Index("ix_documents_sender_open", "sender_company_id", "open_balance"),
        Index("ix_documents_receiver_open", "receiver_company_id", "open_balance"),
        Index("ix_documents_receiver_number", "receiver_company_id", "number"),
        Index("ix_documents_sender_partner", "sender_company_id", "customer_tax_id", "due_date"),
        Index(
            "ix_documents_receiver_partner", "receiver_company_id", "supplier_tax_id", "due_date"
        ),
        # Orders and three-way match find the invoices of one purchase order, on either side.
        Index("ix_documents_receiver_order", "receiver_company_id", "order_reference"),
        Index("ix_documents_sender_order", "sender_company_id", "order_reference"),
        # A whole matching run reads every open invoice of one side from these alone (partial:
        # open ones only; covering: no lookup in the table per row).
        Index(
            "ix_documents_sender_open_items",
            *_OPEN_ITEM_COLUMNS["sender"],
            sqlite_where=_OPEN,
            postgresql_where=_OPEN,
        ),
        Index(
            "ix_documents_receiver_open_items",
            *_OPEN_ITEM_COLUMNS["receiver"],
            sqlite_where=_OPEN,
            postgresql_where=_OPEN,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sender_company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    receiver_company_id: Mapped[int | None] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE")
    )
    # The routing key: the customer's country and compact tax id (check digit included).
    customer_country: Mapped[str] = mapped_column(String(2))
    customer_tax_id: Mapped[str] = mapped_column(String(20))
    # The parties as the document names them.
    supplier_name: Mapped[str] = mapped_column(String(200), default="")
    supplier_tax_id: Mapped[str] = mapped_column(String(20), default="")
    customer_name: Mapped[str] = mapped_column(String(200), default="")
    customer_email: Mapped[str | None] = mapped_column(String(254))

    document_type: Mapped[str] = mapped_column(String(20))
    number: Mapped[str] = mapped_column(String(60))
    cufe: Mapped[str | None] = mapped_column(String(128), index=True)
    issue_date: Mapped[date]
    due_date: Mapped[date | None]
    currency: Mapped[str] = mapped_column(String(3))
    line_extension: Mapped[Decimal | None]
    tax_exclusive: Mapped[Decimal | None]
    tax_inclusive: Mapped[Decimal | None]
    payable: Mapped[Decimal]
    open_balance: Mapped[Decimal]

    status: Mapped[str] = mapped_column(String(20), default=RECEIVED, index=True)
    status_changed_at: Mapped[datetime | None]
    payment_status: Mapped[str] = mapped_column(String(20), default=UNPAID)
    # Moved only by app.services.payments, with conditional updates: what confirmed payments
    # paid (net of refunds), what was refunded, and what payments still in flight hold (a
    # checkout not finished, a transfer not confirmed) so that two payers cannot both take
    # the same open balance. open_balance = total - credit notes - paid (- discounts).
    paid_amount: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    refunded_amount: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    held_amount: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    origin: Mapped[str] = mapped_column(String(10), default=ORIGIN_XML)
    # False for PDF-origin documents: structured data read from a PDF is not a legal e-invoice.
    is_legal: Mapped[bool] = mapped_column(default=True)

    # The bytes as uploaded, kept out of list queries.
    original: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    filename: Mapped[str] = mapped_column(String(255), default="")
    # JSON read only by the document's own page and API detail: kept out of list queries too
    # (fifty rows of findings parsed on every tray page cost more than the rest of the row).
    findings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, deferred=True)
    signature: Mapped[dict[str, Any]] = mapped_column(default=dict, deferred=True)
    # A PDF-origin invoice's lines as its sender reviewed them (None for XML documents): a list
    # of {description, quantity, unit_price, tax_percent, line_total}, each number a Decimal
    # written as a string so that no float ever touches the money; [] when there were none.
    pdf_lines: Mapped[list[dict[str, str]] | None] = mapped_column(JSON, deferred=True)

    # The buyer's purchase order the document names (cac:OrderReference/cbc:ID), as written.
    order_reference: Mapped[str | None] = mapped_column(String(100))

    # A credit or debit note → the invoice it corrects.
    related_document_id: Mapped[int | None] = mapped_column(
        ForeignKey("documents.id", ondelete="SET NULL"), index=True
    )
    submitted_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    # The state of the document's latest dispute (app.models.dispute), copied for the trays.
    dispute_status: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When the receiver got it: at submission, or when it registered and claimed it.
    received_at: Mapped[datetime | None]

    @classmethod
    def tenant_criteria(cls, company_id: int) -> ColumnElement[bool]:
        """A document is visible to its sender and its receiver."""
        return or_(cls.sender_company_id == company_id, cls.receiver_company_id == company_id)

    @property
    def waiting(self) -> bool:
        """True while the customer is not on the network."""
        return self.receiver_company_id is None

    def __repr__(self) -> str:
        return f"<Document {self.id} {self.document_type} {self.number!r}>"


class DocumentLine(SharedAccess, Base):
    """One line of a document (what was sold, how many, at what price), queryable by catalogs,
    orders and three-way match.

    Read from the signed XML (``app.einvoice.model.Line``) or, for a PDF invoice, from the lines
    its sender reviewed. The document's two companies are copied onto the row so the access rule
    needs no join.
    """

    __tablename__ = "document_lines"
    __table_args__ = (
        UniqueConstraint("document_id", "position"),
        # A supplier's sales of one of its items; a buyer's lines of its received documents.
        Index("ix_document_lines_sender_item", "sender_company_id", "seller_item_id"),
        Index("ix_document_lines_receiver_document", "receiver_company_id", "document_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    sender_company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    receiver_company_id: Mapped[int | None] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE")
    )
    # 1-based order in the document; line_id is its cbc:ID as written.
    position: Mapped[int]
    line_id: Mapped[str] = mapped_column(String(60))
    seller_item_id: Mapped[str] = mapped_column(String(100), default="")
    buyer_item_id: Mapped[str] = mapped_column(String(100), default="")
    # A GTIN or another scheme's id (standard_item_scheme: 0160 for GTIN, 999 DIAN's own…).
    standard_item_id: Mapped[str] = mapped_column(String(100), default="")
    standard_item_scheme: Mapped[str] = mapped_column(String(10), default="")
    name: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    quantity: Mapped[Decimal | None] = mapped_column(Numeric(20, 6))
    unit_code: Mapped[str] = mapped_column(String(10), default="")
    # The unit price (for base_quantity units when given).
    price: Mapped[Decimal | None] = mapped_column(Numeric(20, 6))
    base_quantity: Mapped[Decimal | None] = mapped_column(Numeric(20, 6))
    line_extension: Mapped[Decimal | None] = mapped_column(Numeric(20, 4))
    # The line's main tax (IVA when it has one): its rate and category (or DIAN tax scheme).
    tax_percent: Mapped[Decimal | None] = mapped_column(Numeric(7, 4))
    tax_category: Mapped[str] = mapped_column(String(10), default="")

    @classmethod
    def tenant_criteria(cls, company_id: int) -> ColumnElement[bool]:
        """A line is visible to the document's sender and receiver."""
        return or_(cls.sender_company_id == company_id, cls.receiver_company_id == company_id)

    def __repr__(self) -> str:
        return f"<DocumentLine {self.id} document={self.document_id} #{self.position}>"


class DocumentEvent(SharedAccess, Base):
    """One DIAN event (030–034) recorded on a document; irreversible and never duplicated.

    The document's sender and receiver are copied onto the row so the access rule needs no join.
    """

    __tablename__ = "document_events"
    __table_args__ = (UniqueConstraint("document_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    sender_company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    receiver_company_id: Mapped[int | None] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(3))
    claim_reason: Mapped[str | None] = mapped_column(String(2))
    note: Mapped[str] = mapped_column(Text, default="")
    # The event's own number (cbc:ID) and CUDE, as written in its ApplicationResponse.
    number: Mapped[str] = mapped_column(String(40), default="")
    cude: Mapped[str | None] = mapped_column(String(128))
    actor_company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The signed ApplicationResponse; NULL for documents that are not legal e-invoices.
    xml: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @classmethod
    def tenant_criteria(cls, company_id: int) -> ColumnElement[bool]:
        """An event is visible to the document's sender and receiver."""
        return or_(cls.sender_company_id == company_id, cls.receiver_company_id == company_id)

    def __repr__(self) -> str:
        return f"<DocumentEvent {self.id} {self.code} document={self.document_id}>"


class QuarantinedUpload(TenantScoped, Base):
    """A file its sender uploaded that was refused: kept with its findings, never delivered."""

    __tablename__ = "quarantined_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(255), default="")
    original: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    # Why: unreadable, invalid or not_supplier (app.services.documents.storing).
    reason: Mapped[str] = mapped_column(String(20))
    document_type: Mapped[str | None] = mapped_column(String(20))
    number: Mapped[str | None] = mapped_column(String(60))
    findings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    uploaded_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<QuarantinedUpload {self.id} {self.filename!r}>"


VISIBLE_TO_BOTH, VISIBLE_TO_UPLOADER = "both", "uploader"
VISIBILITIES = (VISIBLE_TO_BOTH, VISIBLE_TO_UPLOADER)


class DocumentAttachment(SharedAccess, Base):
    """A file either party adds to a document (an order, a delivery note, a payment proof).

    ``company_id`` is the uploader's company; the document's two companies are copied onto the
    row so the access rule needs no join.
    """

    __tablename__ = "document_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    sender_company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    receiver_company_id: Mapped[int | None] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE")
    )
    company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    uploaded_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    filename: Mapped[str] = mapped_column(String(255))
    # As sniffed from the bytes, never as the browser claimed.
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    # 'both' (the two parties) or 'uploader' (the uploader's company only).
    visibility: Mapped[str] = mapped_column(String(10), default=VISIBLE_TO_BOTH)
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @classmethod
    def tenant_criteria(cls, company_id: int) -> ColumnElement[bool]:
        """Visible to the uploader's company, and to the other party when shared with both."""
        return or_(
            cls.company_id == company_id,
            and_(
                cls.visibility == VISIBLE_TO_BOTH,
                or_(cls.sender_company_id == company_id, cls.receiver_company_id == company_id),
            ),
        )

    def __repr__(self) -> str:
        return f"<DocumentAttachment {self.id} {self.filename!r}>"
