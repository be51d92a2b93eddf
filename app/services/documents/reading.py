"""Reading a document: its page, the canonical reading, downloads and attachments.

The page and the downloads read the document back from what its supplier signed (or, for one
sent as a PDF, from the lines its sender reviewed: ``stored_lines``, ``reviewed_document``).
Attachments are shared with the other party or kept for the uploader, as the uploader chooses.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, or_, select

from app.einvoice import model as ubl
from app.einvoice.detect import detect_bytes
from app.einvoice.reader import read_document
from app.einvoice.render import render_pdf
from app.einvoice.signature import verify_document
from app.extensions import db
from app.models import Document, DocumentAttachment, DocumentEvent, QuarantinedUpload, User
from app.models.document import ORIGIN_PDF, VISIBILITIES, VISIBLE_TO_BOTH
from app.services import audit
from app.services.documents import queries
from app.services.errors import DomainError, NotFound

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
CENT = Decimal("0.01")


def get_quarantined(company_id: int, quarantine_id: int) -> QuarantinedUpload:
    """Return one of the company's refused uploads, or raise NotFound."""
    entry = db.session.scalars(
        queries.quarantine(company_id).where(QuarantinedUpload.id == quarantine_id)
    ).first()
    if entry is None:
        raise NotFound(_l("That upload does not exist."))
    return entry


# ------------------------------------------------------------------------------ the document


@dataclass
class DocumentView:
    """Everything the document page shows, read for one of the document's two companies."""

    document: Document
    canonical: ubl.Document | None
    events: list[DocumentEvent]
    actors: dict[int, str]
    attachments: list[DocumentAttachment]
    is_receiver: bool
    signer: str = ""
    signed_at: dt.datetime | None = None
    #: A PDF-origin document's reviewed lines ([] when none were given); None for XML.
    pdf_lines: list[PdfLine] | None = None


def canonical_document(document: Document) -> ubl.Document | None:
    """Read the document back from what its supplier signed (None when it cannot be read)."""
    if document.origin == ORIGIN_PDF:
        return None
    return read_original(document.original)


def read_original(data: bytes) -> ubl.Document | None:
    """Read stored XML bytes as the engine does, the signed part only when the signature holds."""
    detection = detect_bytes(data)
    if detection.tree is None:
        return None
    outcome = verify_document(detection.tree)
    source = outcome.signed_root if outcome is not None and outcome.valid else detection.tree
    canonical, _findings = read_document(source)
    return canonical


def document_view(company_id: int, document_id: int) -> DocumentView:
    """Gather the page of a document the company sent or received."""
    document = queries.get_document(company_id, document_id)
    events = list(db.session.scalars(queries.document_events(company_id, document_id)))
    user_ids = {e.actor_user_id for e in events if e.actor_user_id}
    actors = (
        {u.id: u.name for u in db.session.scalars(select(User).where(User.id.in_(user_ids)))}
        if user_ids
        else {}
    )
    is_receiver = document.receiver_company_id == company_id
    signature = document.signature or {}
    subject = signature.get("subject") or ""
    common_name = re.search(r"(?:^|,)\s*CN=([^,]+)", subject)
    try:
        signed_at = dt.datetime.fromisoformat(signature.get("signing_time") or "")
    except ValueError:
        signed_at = None
    return DocumentView(
        document=document,
        canonical=canonical_document(document),
        events=events,
        actors=actors,
        attachments=list(db.session.scalars(attachments(company_id, document_id))),
        is_receiver=is_receiver,
        signer=common_name.group(1).strip() if common_name else subject,
        signed_at=signed_at,
        pdf_lines=stored_lines(document),
    )


def document_pdf(
    company_id: int, document_id: int, *, locale: str = "es", reviewed: bool = False
) -> bytes:
    """Render the PDF representation of a document the company sent or received.

    For a document sent as a PDF that PDF is the document; reviewed=True renders instead the
    data its sender reviewed (header and lines), marked as not a legal e-invoice.
    """
    document = queries.get_document(company_id, document_id)
    if document.origin == ORIGIN_PDF:
        if reviewed:
            return render_pdf(reviewed_document(document), locale=locale, pdf_origin=True)
        return document.original  # the PDF its sender uploaded is the document
    canonical = canonical_document(document)
    if canonical is None:
        raise NotFound(_l("This document has no PDF representation."))
    return render_pdf(canonical, locale=locale, pdf_origin=not document.is_legal)


def get_event(company_id: int, document_id: int, event_id: int) -> DocumentEvent:
    """Return one event of a document the company sent or received, with its XML."""
    event = db.session.scalars(
        queries.document_events(company_id, document_id).where(DocumentEvent.id == event_id)
    ).first()
    if event is None or event.xml is None:
        raise NotFound(_l("That event does not exist."))
    return event


def document_zip(company_id: int, document_id: int, *, locale: str = "es") -> bytes:
    """Return a ZIP with the original, its PDF, its events and the attachments the company sees."""
    document = queries.get_document(company_id, document_id)
    buffer = io.BytesIO()
    stem = f"{document.document_type}-{document.number}"
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        extension = "pdf" if document.origin == ORIGIN_PDF else "xml"
        archive.writestr(f"{stem}.{extension}", document.original)
        canonical = canonical_document(document)
        if canonical is not None:
            archive.writestr(
                f"{stem}.pdf",
                render_pdf(canonical, locale=locale, pdf_origin=not document.is_legal),
            )
        elif document.origin == ORIGIN_PDF:
            archive.writestr(
                f"{stem}-reviewed.pdf",
                document_pdf(company_id, document_id, locale=locale, reviewed=True),
            )
        for event in db.session.scalars(queries.document_events(company_id, document_id)):
            if event.xml is not None:
                archive.writestr(f"events/{event.code}-{event.number}.xml", event.xml)
        for attachment in db.session.scalars(attachments(company_id, document_id)):
            archive.writestr(f"attachments/{attachment.id}-{attachment.filename}", attachment.data)
    return buffer.getvalue()


# -------------------------------------------------------------------------------- attachments

_MAGIC = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)


def sniff_content_type(data: bytes) -> str | None:
    """Return the content type the bytes really are (PDF, PNG, JPEG, WebP, XML, text), or None."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    for magic, content_type in _MAGIC:
        if data.startswith(magic):
            return content_type
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if "\x00" in text or any(ord(c) < 32 and c not in "\r\n\t\f" for c in text[:4096]):
        return None
    if text.lstrip("\ufeff \r\n\t").startswith("<?xml") or text.lstrip().startswith("<"):
        return "application/xml"
    return "text/plain"


def attachments(company_id: int, document_id: int) -> Select[tuple[DocumentAttachment]]:
    """Return a document's attachments the company may see, oldest first."""
    return (
        select(DocumentAttachment)
        .where(
            DocumentAttachment.document_id == document_id,
            or_(
                DocumentAttachment.company_id == company_id,
                DocumentAttachment.visibility == VISIBLE_TO_BOTH,
            ),
        )
        .order_by(DocumentAttachment.created_at, DocumentAttachment.id)
    )


def add_attachment(
    company_id: int,
    *,
    document_id: int,
    filename: str,
    data: bytes,
    visibility: str,
    actor: User,
) -> DocumentAttachment:
    """Attach a file (PDF, PNG, JPEG, XML or text, up to 10 MB) to a document of the company."""
    document = queries.get_document(company_id, document_id)
    if visibility not in VISIBILITIES:
        raise DomainError(_l("Choose who may see the attachment."), field="visibility")
    if not data:
        raise DomainError(_l("The file is empty."), field="file")
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise DomainError(_l("An attachment may be at most 10 MB."), field="file")
    content_type = sniff_content_type(data)
    if content_type is None:
        raise DomainError(
            _l("Only PDF, PNG, JPEG, XML or text files can be attached."), field="file"
        )
    name = (filename or "attachment").replace("\\", "/").rsplit("/", 1)[-1].strip()[:255]
    attachment = DocumentAttachment(
        document_id=document.id,
        sender_company_id=document.sender_company_id,
        receiver_company_id=document.receiver_company_id,
        company_id=company_id,
        uploaded_by_user_id=actor.id,
        filename=name or "attachment",
        content_type=content_type,
        size=len(data),
        visibility=visibility,
        data=data,
    )
    db.session.add(attachment)
    db.session.flush()
    audit.record_event(
        actor,
        company_id,
        "document.attachment_added",
        document,
        {"attachment_id": attachment.id, "filename": attachment.filename, "visibility": visibility},
    )
    return attachment


def get_attachment(company_id: int, document_id: int, attachment_id: int) -> DocumentAttachment:
    """Return an attachment the company may see, or raise NotFound."""
    attachment = db.session.scalars(
        attachments(company_id, document_id).where(DocumentAttachment.id == attachment_id)
    ).first()
    if attachment is None:
        raise NotFound(_l("That attachment does not exist."))
    return attachment


@dataclass(frozen=True)
class PdfLine:
    """One stored line of a PDF-origin invoice, read back as Decimals."""

    description: str
    quantity: Decimal
    unit_price: Decimal
    tax_percent: Decimal
    line_total: Decimal


def stored_lines(document: Document) -> list[PdfLine] | None:
    """Return a PDF-origin document's reviewed lines (None for a document sent as XML)."""
    if document.origin != ORIGIN_PDF:
        return None
    return [
        PdfLine(
            description=line["description"],
            quantity=Decimal(line["quantity"]),
            unit_price=Decimal(line["unit_price"]),
            tax_percent=Decimal(line["tax_percent"]),
            line_total=Decimal(line["line_total"]),
        )
        for line in document.pdf_lines or []
    ]


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def reviewed_document(document: Document) -> ubl.Document:
    """Build the engine's Document from what the sender reviewed, for the PDF representation."""
    lines = stored_lines(document) or []
    bases: dict[Decimal, Decimal] = {}
    for line in lines:
        bases[line.tax_percent] = bases.get(line.tax_percent, Decimal(0)) + line.line_total
    subtotals = [
        ubl.TaxSubtotal(taxable_amount=base, tax_amount=_money(base * rate / 100), percent=rate)
        for rate, base in bases.items()
    ]
    tax_totals = (
        [
            ubl.TaxTotal(
                tax_amount=sum((t.tax_amount for t in subtotals), Decimal(0)), subtotals=subtotals
            )
        ]
        if subtotals
        else []
    )
    line_extension = sum((line.line_total for line in lines), Decimal(0)) if lines else None
    return ubl.Document(
        document_type=ubl.DocumentType.INVOICE,
        number=document.number,
        issue_date=document.issue_date,
        due_date=document.due_date,
        currency=document.currency,
        line_count=len(lines),
        supplier=ubl.Party(name=document.supplier_name, tax_id=document.supplier_tax_id),
        customer=ubl.Party(name=document.customer_name, tax_id=document.customer_tax_id),
        tax_totals=tax_totals,
        totals=ubl.MonetaryTotals(
            line_extension=line_extension
            if line_extension is not None
            else document.line_extension,
            tax_exclusive=document.tax_exclusive,
            tax_inclusive=document.tax_inclusive,
            payable=document.payable,
        ),
        lines=[
            ubl.Line(
                id=str(number),
                quantity=line.quantity,
                line_extension=line.line_total,
                description=line.description,
                price=line.unit_price,
                tax_percent=line.tax_percent,
            )
            for number, line in enumerate(lines, start=1)
        ],
    )
