"""The Inbox trays as a clerk works them: saved filters, exports and downloads.

Reading, filtering, sorting and paging the trays live in ``documents.queries``; this module
builds on its ``received``/``sent`` selects. Bulk events are the lifecycle's
(``app.services.lifecycle.bulk_events``).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, bindparam, select

from app import humanize
from app.einvoice.render import render_pdf
from app.extensions import db
from app.models import Document, SavedFilter, TrayVersion, User, utcnow
from app.models.document import (
    ACCEPTED,
    ACKNOWLEDGED,
    CLAIMED,
    GOODS_RECEIVED,
    ORIGIN_PDF,
    PAID,
    TACITLY_ACCEPTED,
)
from app.models.saved_filter import TRAYS
from app.services import audit
from app.services.documents import queries, reading
from app.services.errors import DomainError, NotFound

MAX_SAVED_FILTERS = 50
MAX_BULK = 500

# ------------------------------------------------------------------------------ status words

PENDING_GROUP = "pending"
STATUS_GROUPS = {
    ACKNOWLEDGED: "acknowledged",
    GOODS_RECEIVED: "acknowledged",
    ACCEPTED: "accepted",
    TACITLY_ACCEPTED: "accepted",
    CLAIMED: "claimed",
}
GROUP_NAMES = {
    "pending": _l("pending"),
    "acknowledged": _l("acknowledged"),
    "accepted": _l("accepted"),
    "claimed": _l("claimed"),
    "paid": _l("paid"),
}


def status_group(document: Document) -> str:
    """Return a document's status word: pending, acknowledged, accepted, claimed or paid."""
    if document.payment_status == PAID:
        return "paid"
    return STATUS_GROUPS.get(document.status, PENDING_GROUP)


# ------------------------------------------------------------------------------ tray version

_VERSION = select(TrayVersion.__table__.c.version).where(
    TrayVersion.__table__.c.company_id == bindparam("company_id")
)


def version(company_id: int) -> int:
    """Return the company's tray version: it rises with every change its trays show.

    Read it before reading the tray: a page rendered after the read holds at least what the
    version counts, so it may be served again while the version stays (app.models.tray_version).
    """
    value = db.session.connection().execute(_VERSION, {"company_id": company_id}).scalar()
    return value or 0


# ----------------------------------------------------------------------------- saved filters


def saved_filters(company_id: int, *, user_id: int, tray: str) -> Select[tuple[SavedFilter]]:
    """Return one user's saved filters on a tray, by name."""
    return (
        select(SavedFilter)
        .where(
            SavedFilter.company_id == company_id,
            SavedFilter.user_id == user_id,
            SavedFilter.tray == tray,
        )
        .order_by(SavedFilter.name, SavedFilter.id)
    )


def save_filter(company_id: int, *, user: User, tray: str, name: str, query: str) -> SavedFilter:
    """Save the tray's current query string under a name (the same name replaces it)."""
    name = (name or "").strip()[:80]
    if not name:
        raise DomainError(_l("Give the filter a name."), field="name")
    if tray not in TRAYS:
        raise DomainError(_l("There is no such tray."), field="tray")
    # A cursor is a position, not a filter: never keep it.
    query = re.sub(r"(^|&)cursor=[^&]*", "", (query or "").lstrip("?")).strip("&")[:2000]
    existing = list(db.session.scalars(saved_filters(company_id, user_id=user.id, tray=tray)))
    for saved in existing:
        if saved.name.casefold() == name.casefold():
            saved.query = query
            db.session.flush()
            return saved
    if len(existing) >= MAX_SAVED_FILTERS:
        raise DomainError(
            _l("You have %(count)d saved filters: delete one first.", count=MAX_SAVED_FILTERS),
            field="name",
        )
    saved = SavedFilter(company_id=company_id, user_id=user.id, tray=tray, name=name, query=query)
    db.session.add(saved)
    db.session.flush()
    return saved


def delete_filter(company_id: int, *, filter_id: int, user: User) -> SavedFilter:
    """Delete one of the user's saved filters; anybody else's answers NotFound."""
    saved = db.session.scalars(
        select(SavedFilter).where(
            SavedFilter.id == filter_id,
            SavedFilter.company_id == company_id,
            SavedFilter.user_id == user.id,
        )
    ).first()
    if saved is None:
        raise NotFound(_l("That saved filter does not exist."))
    db.session.delete(saved)
    db.session.flush()
    return saved


# ---------------------------------------------------------------------------------- exports

EXPORT_COLUMNS = (
    ("type", _l("Type")),
    ("number", _l("Number")),
    ("issue_date", _l("Issue date")),
    ("counterparty", _l("Counterparty")),
    ("tax_id", _l("Tax id")),
    ("currency", _l("Currency")),
    ("amount", _l("Amount")),
    ("open_balance", _l("Open balance")),
    ("status", _l("Status")),
    ("due_date", _l("Due date")),
    ("payment_status", _l("Payment status")),
)


def export_rows(
    stmt: Select[tuple[Document]], *, incoming: bool, limit: int, locale: Any = None
) -> list[list[Any]]:
    """Return the rows of a filtered tray for export, or refuse above limit.

    Amounts and dates stay typed; words (type, tax id, status, payment) are written for a
    person in the reader's language (``locale``), never as the codes stored."""
    documents = list(db.session.scalars(stmt.limit(limit + 1)))
    if len(documents) > limit:
        raise DomainError(
            _l(
                "The list has more than %(limit)s documents: narrow the filters (a date range, "
                "for example) and export again.",
                limit=f"{limit:,}",
            )
        )
    rows = []
    for d in documents:
        rows.append(
            [
                humanize.document_type(d.document_type, locale=locale),
                d.number,
                d.issue_date,
                d.supplier_name if incoming else d.customer_name,
                # A supplier's country is not kept: it is read as the customer's.
                humanize.tax_id(
                    d.supplier_tax_id if incoming else d.customer_tax_id, d.customer_country
                ),
                d.currency,
                d.payable,
                d.open_balance,
                str(GROUP_NAMES[status_group(d)]),
                d.due_date,
                humanize.payment_status(d.payment_status, locale=locale),
            ]
        )
    return rows


def export_header() -> list[str]:
    """Return the export's column titles in the current language."""
    return [str(label) for _key, label in EXPORT_COLUMNS]


def documents_zip(
    company_id: int, *, document_ids: list[int], locale: str = "es", actor: User | None = None
) -> bytes:
    """Return a ZIP of each document's original XML and its PDF representation.

    Each document put in it is recorded as downloaded (the access audit) by the actor.
    """
    out = io.BytesIO()
    written = 0
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for document_id in selection(document_ids):
            try:
                document = queries.get_document(company_id, document_id)
            except NotFound:
                continue
            stem = _safe_name(f"{document.document_type}-{document.number}-{document.id}")
            audit.record_access(
                actor, company_id, "document.zip_downloaded", document, {"bulk": True}
            )
            if document.origin == ORIGIN_PDF:  # the uploaded PDF is the whole document
                archive.writestr(f"{stem}.pdf", document.original)
                written += 1
                continue
            archive.writestr(f"{stem}.xml", document.original)
            pdf = _pdf_of(document, locale=locale)
            if pdf is not None:
                archive.writestr(f"{stem}.pdf", pdf)
            written += 1
    if not written:
        raise NotFound(_l("That document does not exist."))
    return out.getvalue()


def zip_name() -> str:
    """Return the download's file name, stamped with the time."""
    return f"documents-{utcnow():%Y%m%d-%H%M%S}.zip"


def _pdf_of(document: Document, *, locale: str) -> bytes | None:
    """Render the PDF of a stored e-invoice; None when it cannot be read back."""
    canonical = reading.canonical_document(document)
    if canonical is None:
        return None
    try:
        return render_pdf(canonical, locale=locale, pdf_origin=not document.is_legal)
    except Exception:  # a PDF is a convenience in a bulk download: the XML is the document
        return None


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)[:120]


def selection(ids: Iterable[int]) -> list[int]:
    """Return the chosen document ids once each, in order; refuse more than MAX_BULK."""
    seen: dict[int, None] = {}
    for ident in ids:
        seen.setdefault(int(ident), None)
    if len(seen) > MAX_BULK:
        raise DomainError(_l("Choose at most %(count)d documents at once.", count=MAX_BULK))
    return list(seen)
