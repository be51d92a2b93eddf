"""The Inbox trays as a clerk works them: saved filters, exports, bulk events and downloads.

Reading, filtering, sorting and paging the trays live in ``app.services.inbox``; this module
builds on its ``received``/``sent`` selects.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, bindparam, select

from app.einvoice.render import render_pdf
from app.extensions import db
from app.models import Document, SavedFilter, TrayVersion, User, utcnow
from app.models.document import (
    ACCEPTED,
    ACKNOWLEDGED,
    CLAIMED,
    GOODS_RECEIVED,
    INVOICE,
    ORIGIN_PDF,
    PAID,
    TACITLY_ACCEPTED,
)
from app.models.saved_filter import TRAYS
from app.services import audit
from app.services.documents import reading, storing
from app.services.errors import DomainError, NotFound
from app.services.lifecycle import transitions

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


def export_rows(stmt: Select[tuple[Document]], *, incoming: bool, limit: int) -> list[list[Any]]:
    """Return the rows of a filtered tray for export (typed values), or refuse above limit."""
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
                d.document_type,
                d.number,
                d.issue_date,
                d.supplier_name if incoming else d.customer_name,
                d.supplier_tax_id if incoming else d.customer_tax_id,
                d.currency,
                d.payable,
                d.open_balance,
                str(GROUP_NAMES[status_group(d)]),
                d.due_date,
                d.payment_status,
            ]
        )
    return rows


def export_header() -> list[str]:
    """Return the export's column titles in the current language."""
    return [str(label) for _key, label in EXPORT_COLUMNS]


# ------------------------------------------------------------------------------ bulk actions


@dataclass
class BulkOutcome:
    """What a bulk action did to one document."""

    document_id: int
    number: str
    done: bool
    message: Any


#: The events a clerk records on a selection, by the bulk bar's action names.
BULK_EVENTS = {"acknowledge": "030", "receive": "032", "accept": "033"}
#: How the confirmation names each action ("accepting records 032 and then 033 for them").
BULK_VERBS = {
    "030": _l("acknowledging"),
    "032": _l("recording the receipt"),
    "033": _l("accepting"),
}
#: How the confirmation of each bulk event names it (title, consequence, button).
BULK_QUESTIONS = {
    "030": (
        _l("Acknowledge these invoices?"),
        _l("The acknowledgement of receipt (030) is sent to each supplier; it cannot be undone."),
        _l("Acknowledge"),
    ),
    "032": (
        _l("Record the receipt of the goods?"),
        _l(
            "The receipt of the goods or service (032) is sent to each supplier; it cannot be "
            "undone, and three business days later an invoice not claimed is accepted tacitly."
        ),
        _l("Record the receipt"),
    ),
    "033": (
        _l("Accept these invoices?"),
        _l("Acceptance is final and is sent to the supplier."),
        _l("Accept the invoices"),
    ),
}
#: Events after which nothing can be undone or changed by the buyer: always confirmed first.
FINAL_EVENTS = frozenset({"033"})


def bulk_actions(status: str, document_type: str) -> tuple[str, ...]:
    """Return the bulk actions (BULK_EVENTS keys) a received document in status allows."""
    if document_type != INVOICE:
        return ()
    return tuple(
        action
        for action, code in BULK_EVENTS.items()
        if transitions.steps_to(status, code) is not None
    )


@dataclass
class PlannedRow:
    """One selected document: the events recording the action takes on it, or why it cannot."""

    document_id: int
    number: str
    steps: tuple[str, ...] = ()
    problem: Any = None


@dataclass
class BulkPlan:
    """What a bulk event would do to each selected document, before anything is recorded."""

    code: str
    rows: list[PlannedRow]
    person_missing: bool  # some chain needs 030/032 and the user has no identity document

    @property
    def ready(self) -> list[PlannedRow]:
        return [r for r in self.rows if r.problem is None]

    @property
    def refused(self) -> list[PlannedRow]:
        return [r for r in self.rows if r.problem is not None]

    @property
    def needs_confirmation(self) -> bool:
        """Tell whether the clerk must confirm: a final event, or steps they did not choose.

        Nothing to confirm when no document would change (the report says why).
        """
        ready = self.ready
        return bool(ready) and (self.code in FINAL_EVENTS or any(len(r.steps) > 1 for r in ready))

    def details(self) -> list[Any]:
        """Return what the confirmation lists: the count, the missing steps, who is left out."""
        return [
            _l("%(count)d documents selected.", count=len(self.rows)),
            *self.summary(),
            *(
                _l(
                    "%(number)s is left as it is: %(reason)s",
                    number=row.number or f"#{row.document_id}",
                    reason=row.problem,
                )
                for row in self.refused
            ),
        ]

    def summary(self) -> list[Any]:
        """Return one sentence per group of documents that still need events before the action."""
        groups: dict[tuple[str, ...], int] = {}
        for row in self.ready:
            if len(row.steps) > 1:
                groups[row.steps] = groups.get(row.steps, 0) + 1
        sentences = []
        for steps, count in sorted(groups.items(), key=lambda item: -len(item[0])):
            missing = [transitions.TRANSITIONS[c].name for c in steps[:-1]]
            sentences.append(
                _l(
                    "%(count)d invoices still need %(missing)s; %(action)s records %(steps)s "
                    "for them.",
                    count=count,
                    missing=_joined(missing, _l(" and ")),
                    action=BULK_VERBS.get(self.code, self.code),
                    steps=_joined(list(steps), _l(" and then ")),
                )
            )
        return sentences


def _joined(items: list[Any], last: Any) -> Any:
    """Join items as a sentence does: "a, b and then c" (last is the final separator)."""

    def text() -> str:
        words = [str(item) for item in items]
        if len(words) < 2:
            return "".join(words)
        return ", ".join(words[:-1]) + str(last) + words[-1]

    return LazyString(text)


def plan_events(company_id: int, *, document_ids: list[int], code: str, actor: User) -> BulkPlan:
    """Say, per selected document, which events recording code takes, or why it cannot be."""
    rows = []
    for document_id in _unique(document_ids):
        try:
            number = storing.get_document(company_id, document_id).number
        except NotFound as problem:
            rows.append(PlannedRow(document_id, "", problem=problem.message))
            continue
        try:
            steps = transitions.plan_event(company_id, document_id=document_id, code=code)
        except DomainError as problem:
            rows.append(PlannedRow(document_id, number, problem=problem.message))
            continue
        rows.append(PlannedRow(document_id, number, tuple(steps)))
    needs_person = any({"030", "032"} & set(r.steps) for r in rows if r.problem is None)
    has_person = bool(actor.id_document_type and actor.id_document_number)
    return BulkPlan(code, rows, person_missing=needs_person and not has_person)


def record_events(company_id: int, *, plan: BulkPlan, actor: User) -> list[BulkOutcome]:
    """Record a plan's events on each document it found ready; say why not on the others.

    Each document's events are all or nothing (transitions.record_chain, which checks each event
    again as it records it), and a refusal leaves the other documents' events in place.
    """
    outcomes = []
    for row in plan.rows:
        if row.problem is not None:
            outcomes.append(BulkOutcome(row.document_id, row.number, False, row.problem))
            continue
        try:
            events = transitions.record_chain(
                company_id, document_id=row.document_id, steps=list(row.steps), actor=actor
            )
        except DomainError as problem:
            outcomes.append(BulkOutcome(row.document_id, row.number, False, problem.message))
            continue
        names = [transitions.TRANSITIONS[e.code].name for e in events]
        outcomes.append(
            BulkOutcome(
                row.document_id,
                row.number,
                True,
                _l("%(events)s recorded.", events=_joined(names, _l(" and then "))),
            )
        )
    return outcomes


def documents_zip(
    company_id: int, *, document_ids: list[int], locale: str = "es", actor: User | None = None
) -> bytes:
    """Return a ZIP of each document's original XML and its PDF representation.

    Each document put in it is recorded as downloaded (the access audit) by the actor.
    """
    out = io.BytesIO()
    written = 0
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for document_id in _unique(document_ids):
            try:
                document = storing.get_document(company_id, document_id)
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


def _unique(ids: Iterable[int]) -> list[int]:
    seen: dict[int, None] = {}
    for ident in ids:
        seen.setdefault(int(ident), None)
    if len(seen) > MAX_BULK:
        raise DomainError(_l("Choose at most %(count)d documents at once.", count=MAX_BULK))
    return list(seen)
