"""Invoices sent as PDFs: fields extracted by the engine, reviewed by the sender, then stored.

The flow has two steps. ``upload_pdf`` keeps the uploaded bytes in a ``PdfUpload`` row (named
by a random token — never in the session cookie) and ``extract_upload``, a job run right after
that commit, reads its fields into the row; the review page shows them when it is done.
``submit_pdf`` takes the fields as the sender corrected them and stores a Document with
``origin='pdf'`` and ``is_legal=False``: structured data read
from a PDF is not a legal e-invoice. Routing, duplicates and notifications work as for XML.

The invoice's lines are reviewed too (``review_lines`` pre-fills them from the extraction) and
stored in ``Document.pdf_lines`` after ``check_lines``: every cell valid, and the lines plus their
taxes equal to the header total within one peso (one cent in currencies with cents). A PDF whose
table was not read may be sent without lines; one that had lines may not lose them all.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import undefer

from app import realtime
from app.db import after_commit, begin_nested
from app.einvoice import pdfextract, pdflayout
from app.einvoice.findings import Finding
from app.extensions import db
from app.models import Company, Document, User, utcnow
from app.models.document import INVOICE, ORIGIN_PDF
from app.models.pdf_layout import PdfLayout
from app.models.pdf_upload import EXTRACTING, FAILED, READY, PdfUpload
from app.services import audit, notifications, webhooks
from app.services.documents import lines as document_lines
from app.services.documents import storing
from app.services.errors import DomainError, FieldErrors, NotFound
from app.taxids import TaxIdError, compact_tax_id, tax_id_from_document
from app.tenancy import current_company_id, unscoped

#: Below this confidence a field is highlighted for the sender to check.
LOW_CONFIDENCE = 0.6
MAX_BYTES = 10 * 1024 * 1024
#: A PDF left in review longer than this is forgotten.
PENDING_SECONDS = 24 * 3600
#: Extraction attempts (claims) before an upload is given up: a PDF that kills its worker
#: each time must not be retried forever.
MAX_EXTRACTION_ATTEMPTS = 3
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
DATE_FIELDS = frozenset({"issue_date", "due_date"})
MONEY_FIELDS = frozenset({"subtotal", "tax", "total"})
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
#: The cells of a line the sender reviews, in the form's order.
LINE_CELLS = ("description", "quantity", "unit_price", "tax_percent")
#: The rates offered first (Colombia's IVA); any other rate from 0 to 100 is accepted.
COMMON_TAX_RATES = ("0", "5", "19")
MAX_LINES = 500
CENT = Decimal("0.01")
#: Currencies counted in whole units: the lines may differ from the total by one of them.
WHOLE_UNIT_CURRENCIES = frozenset({"COP", "CLP", "JPY", "KRW", "PYG", "ISK", "HUF"})


@dataclass
class StagedPdf:
    """A PDF waiting for its sender's review: the token names it, fields are pre-filled."""

    token: str
    filename: str
    fields: dict[str, Any]
    confidence: dict[str, float]
    findings: list[Finding] = field(default_factory=list)
    #: The line rows for the form: the LINE_CELLS as strings, and ``low``, the cells to check.
    lines: list[dict[str, str]] = field(default_factory=list)

    def low_confidence(self, name: str) -> bool:
        """Tell whether the field should be highlighted for review."""
        return self.confidence.get(name, 0.0) < LOW_CONFIDENCE


def upload_pdf(company_id: int, *, filename: str, data: bytes, actor: User) -> PdfUpload:
    """Keep an uploaded PDF for review; its extraction is a job (``extract_upload``).

    The row is written ``extracting``: the job queue runs the extraction right after the
    commit, and its sweep runs it again if that run is lost (``stale_uploads``).
    """
    if len(data) > MAX_BYTES:
        raise DomainError(_l("The PDF is larger than 10 MB."), field="file")
    if not data.lstrip()[:5] == b"%PDF-":
        raise DomainError(_l("That file is not a PDF."), field="file")
    now = utcnow()
    upload = PdfUpload(
        company_id=company_id,
        token=secrets.token_urlsafe(24),
        filename=(filename or "invoice.pdf")[:255],
        data=data,
        digest=hashlib.sha256(data).hexdigest(),
        state=EXTRACTING,
        attempts=0,
        started_at=now,
        uploaded_by_id=actor.id,
        created_at=now,
    )
    db.session.add(upload)
    db.session.flush()
    return upload


def extract_upload(upload_id: int, *, now: dt.datetime | None = None) -> PdfUpload | None:
    """Extract an uploaded PDF's fields (in the engine's resource-limited child process).

    A job, run by the acting company: it commits its claim before the extraction and the
    result after it, so a second run at the same time finds the claim and does nothing (None),
    and a run whose worker died is claimed again once ``JOBS_LEASE_SECONDS`` have passed.
    After ``MAX_EXTRACTION_ATTEMPTS`` claims the upload is given up (``failed``).
    """
    now = now or utcnow()
    company_id = current_company_id()
    claimable = (
        (PdfUpload.id == upload_id)
        & (PdfUpload.company_id == company_id)
        & (PdfUpload.state == EXTRACTING)
        & ((PdfUpload.attempts == 0) | (PdfUpload.started_at <= now - _lease()))
    )
    claimed = db.session.execute(
        update(PdfUpload)
        .where(claimable, PdfUpload.attempts < MAX_EXTRACTION_ATTEMPTS)
        .values(attempts=PdfUpload.attempts + 1, started_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        # Every attempt died (a PDF that kills its worker): say so rather than wait forever.
        db.session.execute(
            update(PdfUpload)
            .where(claimable, PdfUpload.attempts >= MAX_EXTRACTION_ATTEMPTS)
            .values(state=FAILED, finished_at=now)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        return None
    db.session.commit()
    upload = db.session.scalars(
        select(PdfUpload).where(PdfUpload.id == upload_id).options(undefer(PdfUpload.data))
    ).one()
    attempt = upload.attempts
    result = _extraction_result(company_id, upload.data)
    done = db.session.execute(
        update(PdfUpload)
        .where(
            PdfUpload.id == upload_id,
            PdfUpload.state == EXTRACTING,
            PdfUpload.attempts == attempt,  # nobody took it over meanwhile
        )
        .values(state=READY, result=result, finished_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if done == 1 and upload.uploaded_by_id is not None:
        user_id = upload.uploaded_by_id
        payload = {"token": upload.token}
        after_commit(db.session(), lambda: realtime.notify_user(user_id, "pdf:extracted", payload))
    db.session.commit()
    return upload if done == 1 else None


def _extraction_result(company_id: int, data: bytes) -> dict[str, Any]:
    """Run the extraction and return what the review needs, as JSON."""
    extraction, findings = pdfextract.extract_pdf(data)
    if extraction.source == "text":
        apply_learned_layout(company_id, extraction)
    fields = {name: extraction.value(name) for name in REVIEW_FIELDS}
    if fields["total"] is None and extraction.value("payable") is not None:
        fields["total"] = extraction.value("payable")
    return {
        "fields": {name: _json_value(value) for name, value in fields.items()},
        "confidence": {name: extraction.confidence(name) for name in REVIEW_FIELDS},
        "findings": [f.to_json() for f in findings],
        "lines": review_lines(extraction),
        # The words with their places: the reviewed values are learned from them on sending.
        "words": {
            "words": [[w.text, w.x0, w.top, w.x1, w.bottom, w.page] for w in extraction.words],
            "page_sizes": extraction.page_sizes,
            "text": extraction.text[:100_000],
            "supplier_tax_id": str(extraction.value("supplier_tax_id") or ""),
            "source": extraction.source,
        },
    }


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _field_value(name: str, value: Any) -> Any:
    """Read a stored field back as the review form takes it (dates, Decimals)."""
    if value in (None, ""):
        return None
    try:
        if name in DATE_FIELDS:
            return dt.date.fromisoformat(str(value))
        if name in MONEY_FIELDS:
            return Decimal(str(value))
    except ValueError:
        return None
    return value


def _lease() -> dt.timedelta:
    return dt.timedelta(seconds=float(current_app.config.get("JOBS_LEASE_SECONDS", 120)))


def find_upload(company_id: int, token: str) -> PdfUpload:
    """Return the company's upload named by token (NotFound for any other, or a stale one)."""
    upload = None
    if _TOKEN.match(token or ""):
        upload = db.session.scalars(
            select(PdfUpload)
            .where(PdfUpload.company_id == company_id, PdfUpload.token == token)
            .execution_options(populate_existing=True)  # a worker's session wrote it
        ).first()
    if upload is None:
        raise NotFound(_l("That upload does not exist any more: upload the PDF again."))
    return upload


def staged_pdf(upload: PdfUpload) -> StagedPdf | None:
    """Return the extracted fields for review, or None while the extraction is not done."""
    if upload.state != READY or not upload.result:
        return None
    result = upload.result
    return StagedPdf(
        token=upload.token,
        filename=upload.filename,
        fields={name: _field_value(name, result["fields"].get(name)) for name in REVIEW_FIELDS},
        confidence={name: float(result["confidence"].get(name, 0.0)) for name in REVIEW_FIELDS},
        findings=[Finding(**f) for f in result.get("findings", [])],
        lines=result.get("lines", []),
    )


def stale_uploads(now: dt.datetime | None = None) -> list[tuple[int, int]]:
    """Return (company id, upload id) of extractions to run again, across companies (a
    sweep): never claimed within the lease (their job was lost), or claimed by a worker that
    did not finish within it."""
    cutoff = (now or utcnow()) - _lease()
    rows = db.session.execute(
        unscoped(
            select(PdfUpload.company_id, PdfUpload.id)
            .where(PdfUpload.state == EXTRACTING, PdfUpload.started_at <= cutoff)
            .order_by(PdfUpload.started_at)
            .limit(100)
        )
    ).all()
    return [(company_id, upload_id) for company_id, upload_id in rows]


def forget_abandoned_uploads(now: dt.datetime | None = None) -> int:
    """Delete the uploads left in review longer than a day, across companies (a job)."""
    cutoff = (now or utcnow()) - dt.timedelta(seconds=PENDING_SECONDS)
    result = db.session.execute(
        delete(PdfUpload)
        .where(PdfUpload.created_at <= cutoff)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


def review_lines(extraction: pdfextract.Extraction) -> list[dict[str, str]]:
    """Turn the extracted line table into form rows, marking the cells to check as ``low``.

    A rate the PDF does not give per line is taken from the header when tax / subtotal is one
    whole rate; a row whose quantity × price is not its amount has both cells highlighted.
    """
    rate = _header_rate(extraction)
    rows = []
    for line in extraction.lines[:MAX_LINES]:
        low = set() if line.confidence >= LOW_CONFIDENCE else set(LINE_CELLS)
        quantity, price = line.quantity, line.unit_price
        if price is None and line.amount is not None:
            quantity, price = quantity or Decimal(1), line.amount
            low |= {"quantity", "unit_price"}
        if quantity is None:
            quantity = Decimal(1)
            low.add("quantity")
        if (
            price is not None
            and line.amount is not None
            and _money(quantity * price) != _money(line.amount)
        ):
            low |= {"quantity", "unit_price"}
        percent = line.tax_percent if line.tax_percent is not None else rate
        if percent is None:
            low.add("tax_percent")
        if not line.description:
            low.add("description")
        rows.append(
            {
                "description": line.description,
                "quantity": _plain(quantity),
                "unit_price": _plain(price),
                "tax_percent": _plain(percent),
                "low": " ".join(c for c in LINE_CELLS if c in low),
            }
        )
    return rows


def _header_rate(extraction: pdfextract.Extraction) -> Decimal | None:
    """Return the one rate the header's tax and subtotal imply (19 for 285000 on 1500000)."""
    subtotal, tax = extraction.value("subtotal"), extraction.value("tax")
    if not isinstance(subtotal, Decimal) or not isinstance(tax, Decimal) or subtotal <= 0:
        return None
    if min(extraction.confidence("subtotal"), extraction.confidence("tax")) < LOW_CONFIDENCE:
        return None
    rate = (tax * 100 / subtotal).quantize(Decimal(1), ROUND_HALF_UP)
    return rate if 0 <= rate <= 100 and _money(subtotal * rate / 100) == _money(tax) else None


def _plain(value: Decimal | None) -> str:
    """Write a Decimal without exponent or needless trailing zeros ('20.0000' → '20')."""
    if value is None:
        return ""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def _decimal(text: str) -> Decimal | None:
    try:
        value = Decimal(str(text).strip().replace(" ", ""))
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def check_lines(
    rows: list[dict[str, Any]], *, currency: str, total: Decimal | None, required: bool
) -> list[dict[str, str]]:
    """Validate the reviewed rows and return them as stored (Decimals written as strings).

    Raises FieldErrors keyed by the form's cell names (``lines-<index>-quantity``, with the
    row's ``index``, else its position) and ``lines`` for the rows as a whole.
    """
    errors: dict[str, list[Any]] = {}
    stored: list[dict[str, str]] = []
    if len(rows) > MAX_LINES:
        raise FieldErrors(
            {"lines": [_l("An invoice may have at most %(max)d lines.", max=MAX_LINES)]}
        )
    for position, row in enumerate(rows):
        name = f"lines-{row.get('index', position)}-"
        description = str(row.get("description") or "").strip()
        quantity = _decimal(row.get("quantity") or "")
        price = _decimal(row.get("unit_price") or "")
        percent = _decimal(row.get("tax_percent") or "")
        if not description:
            errors[name + "description"] = [_l("Describe the line.")]
        elif len(description) > 300:
            errors[name + "description"] = [_l("A description may have at most 300 characters.")]
        if quantity is None or quantity <= 0:
            errors[name + "quantity"] = [_l("The quantity must be a number greater than 0.")]
        if price is None or price < 0:
            errors[name + "unit_price"] = [_l("The unit price must be a number, 0 or more.")]
        if percent is None or not 0 <= percent <= 100:
            errors[name + "tax_percent"] = [
                _l("The tax must be a percentage from 0 to 100, such as 0, 5 or 19.")
            ]
        if any(key.startswith(name) for key in errors):
            continue
        stored.append(
            {
                "description": description,
                "quantity": format(quantity, "f"),
                "unit_price": format(price, "f"),
                "tax_percent": format(percent, "f"),
                "line_total": str(_money(quantity * price)),
            }
        )
    if not rows and required:
        errors["lines"] = [
            _l("The PDF had lines: keep at least one (or add it again) before sending.")
        ]
    if errors:
        raise FieldErrors(errors)
    if stored and isinstance(total, Decimal):
        difference = lines_total(stored) - total
        tolerance = Decimal(1) if currency in WHOLE_UNIT_CURRENCIES else CENT
        if abs(difference) > tolerance:
            raise FieldErrors(
                {
                    "lines": [
                        _l(
                            "The lines and their taxes add up to %(lines)s, but the total is "
                            "%(total)s: a difference of %(difference)s. Correct the lines or "
                            "the total.",
                            lines=lines_total(stored),
                            total=total,
                            difference=f"{difference:+}",
                        )
                    ]
                }
            )
    return stored


def lines_total(lines: list[dict[str, str]]) -> Decimal:
    """Return the stored lines' amount with taxes, each rate's tax rounded once to the cent."""
    bases: dict[Decimal, Decimal] = {}
    for line in lines:
        rate = Decimal(line["tax_percent"])
        bases[rate] = bases.get(rate, Decimal(0)) + Decimal(line["line_total"])
    return sum((base + _money(base * rate / 100) for rate, base in bases.items()), Decimal("0.00"))


def load_staged(company_id: int, token: str) -> tuple[str, bytes]:
    """Return the filename and bytes of a PDF this company uploaded (NotFound for any other)."""
    upload = find_upload(company_id, token)
    return upload.filename, upload.data


def discard_staged(company_id: int, token: str) -> None:
    """Forget an uploaded PDF (after it was sent)."""
    db.session.execute(
        delete(PdfUpload)
        .where(PdfUpload.company_id == company_id, PdfUpload.token == token)
        .execution_options(synchronize_session=False)
    )


def staged_had_lines(company_id: int, token: str) -> bool:
    """Tell whether lines were read from a PDF this company uploaded."""
    staged = staged_pdf(find_upload(company_id, token))
    return bool(staged and staged.lines)


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
    lines: list[dict[str, Any]] | None = None,
    lines_required: bool = False,
    invite_email: str | None = None,
) -> Document:
    """Store a PDF invoice with the fields and lines its sender reviewed; route it like XML.

    lines_required says the PDF had lines (``staged_had_lines``): then at least one is needed.
    """
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
    try:
        pdf_lines = check_lines(
            lines or [],
            currency=currency,
            total=None if "total" in errors else total,
            required=lines_required,
        )
    except FieldErrors as problem:
        errors.update(problem.errors)
    if errors:
        raise FieldErrors(errors)

    if storing.find_duplicate(company_id, INVOICE, number[:60]) is not None:
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
        pdf_lines=pdf_lines,
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
    document_lines.add_lines([(document, document_lines.pdf_lines_values(pdf_lines))])
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
        storing.emit_after_commit(receiver.id, "document:received", {"id": document.id})
        webhooks.document_received(document)
        notifications.notify(receiver.id, kind=notifications.RECEIVED, document=document)
    else:
        storing.invite_customer(company, document, invite_email)
        notifications.notify(
            company_id, kind=notifications.WAITING, document=document, exclude_user_id=actor.id
        )
    storing.emit_after_commit(company_id, "document:sent", {"id": document.id})
    learn_pdf_layout(company_id, data=data, fields=fields)
    return document


# ------------------------------------------------------------------ learned supplier layouts


def _kept_extraction(company_id: int, data: bytes) -> pdfextract.Extraction | None:
    """Return the words extraction kept for this PDF's upload (None when it is gone)."""
    kept = db.session.scalar(
        select(PdfUpload.result)
        .where(
            PdfUpload.company_id == company_id,
            PdfUpload.digest == hashlib.sha256(data).hexdigest(),
            PdfUpload.state == READY,
        )
        .order_by(PdfUpload.id.desc())
        .limit(1)
    )
    kept = (kept or {}).get("words")
    if not kept:
        return None
    extraction = pdfextract.Extraction(
        source=kept.get("source", "text"),
        text=kept.get("text", ""),
        words=[
            pdfextract.Word(str(w[0]), *map(float, w[1:5]), int(w[5]))
            for w in kept.get("words", [])
        ],
        page_sizes=[(float(w), float(h)) for w, h in kept.get("page_sizes", [])],
    )
    if kept.get("supplier_tax_id"):
        extraction.fields["supplier_tax_id"] = pdfextract.Field(kept["supplier_tax_id"], 1.0)
    return extraction


def _layout_keys(extraction: pdfextract.Extraction) -> list[str]:
    keys = [pdflayout.supplier_key(extraction), pdflayout.header_key(extraction)]
    return list(dict.fromkeys(k for k in keys if k))


def _layouts(company_id: int, keys: list[str]) -> dict[str, PdfLayout]:
    if not keys:
        return {}
    rows = db.session.scalars(
        select(PdfLayout).where(
            PdfLayout.company_id == company_id, PdfLayout.supplier_key.in_(keys)
        )
    )
    return {row.supplier_key: row for row in rows}


def apply_learned_layout(company_id: int, extraction: pdfextract.Extraction) -> list[str]:
    """Read a PDF with the layout this company learned for its supplier; return the fields set.

    The supplier is looked up by tax id first, then by the header's fingerprint. Only the
    acting company's layouts are read (the query is tenant-scoped and names the company too).
    """
    keys = _layout_keys(extraction)
    found = _layouts(company_id, keys)
    for key in keys:
        if key in found:
            return pdflayout.apply_layout(extraction, found[key].hints)
    return []


def learn_pdf_layout(company_id: int, *, data: bytes, fields: dict[str, Any]) -> None:
    """Remember where the reviewed values were in this PDF, for the supplier's next one."""
    extraction = _kept_extraction(company_id, data)
    if extraction is None:  # staged before the words were kept, or forgotten: read it again
        extraction, _ = pdfextract.extract_pdf(data)
    if extraction.source != "text" or not extraction.words:
        return
    values = {
        name: fields.get(name) for name in REVIEW_FIELDS if fields.get(name) not in (None, "")
    }
    keys = _layout_keys(extraction)
    existing = _layouts(company_id, keys)
    savepoint = begin_nested(db.session())
    try:
        for key in keys:
            row = existing.get(key)
            hints = pdflayout.learn_layout(extraction, values, previous=row.hints if row else None)
            if not hints.get("fields"):
                continue
            if row is None:
                db.session.add(PdfLayout(company_id=company_id, supplier_key=key, hints=hints))
            else:
                row.hints = hints
                row.samples = (row.samples or 0) + 1
        db.session.flush()
    except IntegrityError:
        # Another review of the same supplier learned its layout at the same moment: that one
        # is kept, and this invoice is sent all the same.
        savepoint.rollback()
