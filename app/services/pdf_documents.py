"""Invoices sent as PDFs: fields extracted by the engine, reviewed by the sender, then stored.

The flow has two steps. ``stage_pdf`` runs the extraction and keeps the uploaded bytes on the
server (under the instance folder, in a folder of the uploading company, named by a random
token) — never in the session cookie. ``submit_pdf`` takes the fields as the sender corrected
them and stores a Document with ``origin='pdf'`` and ``is_legal=False``: structured data read
from a PDF is not a legal e-invoice. Routing, duplicates and notifications work as for XML.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.db import begin_nested
from app.einvoice import pdfextract
from app.einvoice.findings import Finding
from app.extensions import db
from app.models import Company, Document, User, utcnow
from app.models.document import INVOICE, ORIGIN_PDF
from app.services import audit, notifications, webhooks
from app.services.errors import DomainError, FieldErrors, NotFound
from app.services.inbox import _emit_after_commit, _find_duplicate, _invite_customer
from app.taxids import TaxIdError, compact_tax_id, tax_id_from_document
from app.tenancy import unscoped

#: Below this confidence a field is highlighted for the sender to check.
LOW_CONFIDENCE = 0.6
MAX_BYTES = 10 * 1024 * 1024
#: A PDF left in review longer than this is forgotten.
PENDING_SECONDS = 24 * 3600
#: The fields the sender reviews, in the form's order.
REVIEW_FIELDS = (
    "number",
    "issue_date",
    "due_date",
    "currency",
    "customer_name",
    "customer_tax_id",
    "subtotal",
    "tax",
    "total",
)
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


@dataclass
class StagedPdf:
    """A PDF waiting for its sender's review: the token names it, fields are pre-filled."""

    token: str
    filename: str
    fields: dict[str, Any]
    confidence: dict[str, float]
    findings: list[Finding] = field(default_factory=list)

    def low_confidence(self, name: str) -> bool:
        """Tell whether the field should be highlighted for review."""
        return self.confidence.get(name, 0.0) < LOW_CONFIDENCE


def _folder(company_id: int) -> Path:
    return Path(current_app.instance_path) / "pending_pdfs" / str(int(company_id))


def _path(company_id: int, token: str) -> Path:
    if not _TOKEN.match(token or ""):
        raise NotFound(_l("That upload does not exist any more: upload the PDF again."))
    return _folder(company_id) / f"{token}.pdf"


def stage_pdf(company_id: int, *, filename: str, data: bytes) -> StagedPdf:
    """Extract a PDF's fields and keep its bytes for the confirmation step."""
    if len(data) > MAX_BYTES:
        raise DomainError(_l("The PDF is larger than 10 MB."), field="file")
    if not data.lstrip()[:5] == b"%PDF-":
        raise DomainError(_l("That file is not a PDF."), field="file")
    extraction, findings = pdfextract.extract_pdf(data)
    token = secrets.token_urlsafe(24)
    folder = _folder(company_id)
    folder.mkdir(parents=True, exist_ok=True)
    _forget_old(folder)
    (folder / f"{token}.pdf").write_bytes(data)
    (folder / f"{token}.name").write_text((filename or "invoice.pdf")[:255], encoding="utf-8")
    fields = {name: extraction.value(name) for name in REVIEW_FIELDS}
    if fields["total"] is None and extraction.value("payable") is not None:
        fields["total"] = extraction.value("payable")
    return StagedPdf(
        token=token,
        filename=filename or "invoice.pdf",
        fields=fields,
        confidence={name: extraction.confidence(name) for name in REVIEW_FIELDS},
        findings=findings,
    )


def _forget_old(folder: Path) -> None:
    """Drop the company's reviews abandoned for more than a day."""
    cutoff = time.time() - PENDING_SECONDS
    for each in folder.iterdir():
        try:
            if each.stat().st_mtime < cutoff:
                each.unlink(missing_ok=True)
        except OSError:
            continue


def load_staged(company_id: int, token: str) -> tuple[str, bytes]:
    """Return the filename and bytes of a PDF this company staged (NotFound for any other)."""
    path = _path(company_id, token)
    if not path.is_file():
        raise NotFound(_l("That upload does not exist any more: upload the PDF again."))
    name_path = path.with_suffix(".name")
    name = name_path.read_text(encoding="utf-8") if name_path.is_file() else "invoice.pdf"
    return name, path.read_bytes()


def discard_staged(company_id: int, token: str) -> None:
    """Forget a staged PDF (after it was sent)."""
    path = _path(company_id, token)
    for each in (path, path.with_suffix(".name")):
        each.unlink(missing_ok=True)


def _customer_tax_id(country: str, value: str) -> str:
    try:
        return compact_tax_id(country, value)
    except TaxIdError:
        return tax_id_from_document(country, value)


def submit_pdf(
    company_id: int,
    *,
    filename: str,
    data: bytes,
    fields: dict[str, Any],
    actor: User,
    invite_email: str | None = None,
) -> Document:
    """Store a PDF invoice with the fields its sender reviewed; route it like an XML one."""
    company = db.session.get(Company, company_id)
    if company is None:
        raise NotFound(_l("That company is not on the network."))
    errors: dict[str, list[Any]] = {}
    number = str(fields.get("number") or "").strip()
    if not number:
        errors["number"] = [_l("The invoice number is required.")]
    issue_date = fields.get("issue_date")
    if not isinstance(issue_date, dt.date):
        errors["issue_date"] = [_l("The issue date is required.")]
    total = fields.get("total")
    if not isinstance(total, Decimal) or total < 0:
        errors["total"] = [_l("The total is required.")]
    currency = str(fields.get("currency") or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        errors["currency"] = [_l("Give a three-letter currency code, such as COP.")]
    customer_tax_id = ""
    try:
        customer_tax_id = _customer_tax_id(
            company.country, str(fields.get("customer_tax_id") or "")
        )
    except TaxIdError:
        errors["customer_tax_id"] = [_l("That is not a valid tax id.")]
    if errors:
        raise FieldErrors(errors)

    if _find_duplicate(company_id, INVOICE, number[:60]) is not None:
        raise DomainError(_l("Invoice %(number)s was already sent.", number=number), field="number")
    receiver = db.session.scalars(
        unscoped(
            select(Company).where(
                Company.country == company.country, Company.tax_id == customer_tax_id
            )
        )
    ).first()
    now = utcnow()
    document = Document(
        sender_company_id=company_id,
        receiver_company_id=receiver.id if receiver else None,
        customer_country=company.country,
        customer_tax_id=customer_tax_id,
        supplier_name=company.legal_name[:200],
        supplier_tax_id=company.tax_id,
        customer_name=(
            str(fields.get("customer_name") or "") or (receiver.legal_name if receiver else "")
        )[:200],
        document_type=INVOICE,
        number=number[:60],
        issue_date=issue_date,
        due_date=fields.get("due_date") if isinstance(fields.get("due_date"), dt.date) else None,
        currency=currency,
        line_extension=fields.get("subtotal"),
        tax_exclusive=fields.get("subtotal"),
        tax_inclusive=total,
        payable=total,
        open_balance=total,
        origin=ORIGIN_PDF,
        is_legal=False,
        original=data,
        filename=(filename or "invoice.pdf")[:255],
        findings=[],
        signature={},
        submitted_by_user_id=actor.id,
        created_at=now,
        received_at=now if receiver else None,
    )
    savepoint = begin_nested(db.session())
    try:
        db.session.add(document)
        db.session.flush()
    except IntegrityError:
        savepoint.rollback()
        raise DomainError(
            _l("Invoice %(number)s was already sent.", number=number), field="number"
        ) from None
    savepoint.commit()
    audit.record_event(
        actor,
        company_id,
        "document.submitted",
        document,
        {
            "number": document.number,
            "type": document.document_type,
            "origin": ORIGIN_PDF,
            "receiver_company_id": document.receiver_company_id,
            "waiting": receiver is None,
        },
    )
    if receiver is not None:
        _emit_after_commit(receiver.id, "document:received", {"id": document.id})
        webhooks.document_received(document)
        notifications.notify(receiver.id, kind=notifications.RECEIVED, document=document)
    else:
        _invite_customer(company, document, invite_email)
        notifications.notify(
            company_id, kind=notifications.WAITING, document=document, exclude_user_id=actor.id
        )
    _emit_after_commit(company_id, "document:sent", {"id": document.id})
    return document
