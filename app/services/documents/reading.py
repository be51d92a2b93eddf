"""A document's page: uploads of many files, the canonical reading, downloads and attachments.

Uploads arrive as one or several XML files or a ZIP of up to ``MAX_ZIP_FILES``; a ZIP is read
with caps on size and compression ratio (a zip bomb is refused, never expanded), and every file
goes through ``storing.submit_xml`` in a savepoint of its own, so one bad file spares the others.
Attachments are shared with the other party or kept for the uploader, as the uploader chooses.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, or_, select

from app.db import begin_nested
from app.einvoice import model as ubl
from app.einvoice.detect import detect_bytes
from app.einvoice.reader import read_document
from app.einvoice.render import render_pdf
from app.einvoice.signature import verify_document
from app.extensions import db
from app.models import Document, DocumentAttachment, DocumentEvent, QuarantinedUpload, User
from app.models.document import ORIGIN_PDF, VISIBILITIES, VISIBLE_TO_BOTH
from app.services import audit, pdf_documents
from app.services.documents import storing
from app.services.errors import DomainError, NotFound
from app.services.lifecycle import transitions

MAX_ZIP_FILES = 500
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_UNZIPPED_BYTES = 100 * 1024 * 1024
MAX_RATIO = 100
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024

SKIPPED = "skipped"


@dataclass
class UploadReport:
    """What became of every file of one upload, in the order they came."""

    submissions: list[storing.Submission] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        """Count the files that ended with outcome."""
        return sum(1 for s in self.submissions if s.outcome == outcome)

    @property
    def accepted(self) -> int:
        """How many files became documents."""
        return self.count(storing.ACCEPTED)

    @property
    def refused(self) -> int:
        """How many files were refused (quarantined or duplicates)."""
        return len(self.submissions) - self.accepted


# ------------------------------------------------------------------------------------ uploads


def expand_upload(filename: str, data: bytes) -> tuple[list[tuple[str, bytes]], list[str]]:
    """Return the XML files of one uploaded file (itself, or a ZIP's members) and what was skipped.

    Raises DomainError for a ZIP that is unreadable, holds too many files or expands too much.
    """
    name = (filename or "document.xml").rsplit("/", 1)[-1]
    if not zipfile.is_zipfile(io.BytesIO(data)):
        if len(data) > MAX_FILE_BYTES:
            raise DomainError(_l("%(file)s is larger than 5 MB.", file=name), field="files")
        return [(name, data)], []
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise DomainError(
            _l("%(file)s is not a ZIP the portal can read.", file=name), field="files"
        ) from None
    xml_members = [m for m in members if not m.is_dir() and m.filename.lower().endswith(".xml")]
    skipped = [m.filename for m in members if not m.is_dir() and m not in xml_members]
    if len(xml_members) > MAX_ZIP_FILES:
        raise DomainError(
            _l(
                "%(file)s holds %(count)d documents; a ZIP may hold at most %(max)d.",
                file=name,
                count=len(xml_members),
                max=MAX_ZIP_FILES,
            ),
            field="files",
        )
    files: list[tuple[str, bytes]] = []
    total = 0
    for member in xml_members:
        too_big = _l("%(file)s expands too much: it was refused.", file=name)
        if member.file_size > MAX_FILE_BYTES or (
            member.file_size > 1024 * 1024
            and member.file_size > MAX_RATIO * max(member.compress_size, 1)
        ):
            raise DomainError(too_big, field="files")
        try:
            with archive.open(member) as stream:
                # Read one byte past the cap: the header's sizes may lie.
                content = stream.read(MAX_FILE_BYTES + 1)
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, RuntimeError):
            raise DomainError(
                _l("%(file)s is not a ZIP the portal can read.", file=name), field="files"
            ) from None
        total += len(content)
        if len(content) > MAX_FILE_BYTES or total > MAX_UNZIPPED_BYTES:
            raise DomainError(too_big, field="files")
        files.append((member.filename.rsplit("/", 1)[-1], content))
    return files, skipped


def submit_files(company_id: int, *, files: list[tuple[str, bytes]], actor: User) -> UploadReport:
    """Submit every (name, bytes) pair, ZIPs expanded, each in its own savepoint."""
    expanded: list[tuple[str, bytes]] = []
    report = UploadReport()
    for name, data in files:
        members, skipped = expand_upload(name, data)
        expanded += members
        report.skipped += skipped
    if len(expanded) > MAX_ZIP_FILES:
        raise DomainError(
            _l("An upload may hold at most %(max)d documents.", max=MAX_ZIP_FILES), field="files"
        )
    if not expanded:
        raise DomainError(_l("Choose at least one XML file or a ZIP of them."), field="files")
    for name, data in expanded:
        savepoint = begin_nested(db.session())
        try:
            submission = storing.submit_xml(company_id, filename=name, data=data, actor=actor)
        except Exception:
            savepoint.rollback()
            raise
        savepoint.commit()
        report.submissions.append(submission)
    return report


def get_quarantined(company_id: int, quarantine_id: int) -> QuarantinedUpload:
    """Return one of the company's refused uploads, or raise NotFound."""
    entry = db.session.scalars(
        storing.quarantine(company_id).where(QuarantinedUpload.id == quarantine_id)
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
    next_events: list[str]
    is_receiver: bool
    signer: str = ""
    signed_at: dt.datetime | None = None
    #: A PDF-origin document's reviewed lines ([] when none were given); None for XML.
    pdf_lines: list[pdf_documents.PdfLine] | None = None


def canonical_document(document: Document) -> ubl.Document | None:
    """Read the document back from what its supplier signed (None when it cannot be read)."""
    if document.origin == ORIGIN_PDF:
        return None
    detection = detect_bytes(document.original)
    if detection.tree is None:
        return None
    outcome = verify_document(detection.tree)
    source = outcome.signed_root if outcome is not None and outcome.valid else detection.tree
    canonical, _findings = read_document(source)
    return canonical


def document_view(company_id: int, document_id: int) -> DocumentView:
    """Gather the page of a document the company sent or received."""
    document = storing.get_document(company_id, document_id)
    events = list(db.session.scalars(storing.document_events(company_id, document_id)))
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
        next_events=transitions.next_events(document.status) if is_receiver else [],
        is_receiver=is_receiver,
        signer=common_name.group(1).strip() if common_name else subject,
        signed_at=signed_at,
        pdf_lines=pdf_documents.stored_lines(document),
    )


def document_pdf(
    company_id: int, document_id: int, *, locale: str = "es", reviewed: bool = False
) -> bytes:
    """Render the PDF representation of a document the company sent or received.

    For a document sent as a PDF that PDF is the document; reviewed=True renders instead the
    data its sender reviewed (header and lines), marked as not a legal e-invoice.
    """
    document = storing.get_document(company_id, document_id)
    if document.origin == ORIGIN_PDF:
        if reviewed:
            return render_pdf(
                pdf_documents.reviewed_document(document), locale=locale, pdf_origin=True
            )
        return document.original  # the PDF its sender uploaded is the document
    canonical = canonical_document(document)
    if canonical is None:
        raise NotFound(_l("This document has no PDF representation."))
    return render_pdf(canonical, locale=locale, pdf_origin=not document.is_legal)


def get_event(company_id: int, document_id: int, event_id: int) -> DocumentEvent:
    """Return one event of a document the company sent or received, with its XML."""
    event = db.session.scalars(
        storing.document_events(company_id, document_id).where(DocumentEvent.id == event_id)
    ).first()
    if event is None or event.xml is None:
        raise NotFound(_l("That event does not exist."))
    return event


def document_zip(company_id: int, document_id: int, *, locale: str = "es") -> bytes:
    """Return a ZIP with the original, its PDF, its events and the attachments the company sees."""
    document = storing.get_document(company_id, document_id)
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
        for event in db.session.scalars(storing.document_events(company_id, document_id)):
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
    """Return the content type the bytes really are (PDF, PNG, JPEG, XML, text), or None."""
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
    document = storing.get_document(company_id, document_id)
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
