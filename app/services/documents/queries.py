"""Querying documents: the trays a company reads, one document, its events, the quarantine.

The trays are read through ``received`` and ``sent`` (a ``Select``, newest first) and paged with
``page`` on the key (issue_date, id), so a page costs the same at any depth.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select, tuple_

from app.extensions import db
from app.models import Document, DocumentEvent, QuarantinedUpload, utcnow
from app.models.document import (
    ACKNOWLEDGED,
    GOODS_RECEIVED,
    INVOICE,
    PAID,
    PAYMENT_STATUSES,
    RECEIVED,
)
from app.services.documents.storing import DUPLICATE, INVALID, NOT_SUPPLIER, UNREADABLE
from app.services.errors import DomainError, NotFound
from app.taxids import search_digits

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


@dataclass
class DocumentFilters:
    """What the trays can be narrowed by; every field is optional."""

    date_from: dt.date | None = None
    date_to: dt.date | None = None
    counterparty_id: int | None = None
    tax_id: str = ""
    document_type: str | None = None
    status: str | None = None
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    overdue: bool = False
    search: str = ""
    today: dt.date | None = None
    """The day 'overdue' is judged on (default: today in UTC)."""
    due_from: dt.date | None = None
    due_to: dt.date | None = None
    payment_status: str | None = None
    """unpaid, partially_paid, paid or refunded (derived from confirmed payments)."""


#: A status filter that stands for several statuses: sent or received, not yet accepted (the
#: documents still waiting for DIAN's 030, 032 or 033).
NOT_ACCEPTED = "not_accepted"
STATUS_GROUPS = {NOT_ACCEPTED: (RECEIVED, ACKNOWLEDGED, GOODS_RECEIVED)}


def overdue_condition(today: dt.date) -> ColumnElement[bool]:
    """Return what makes a document overdue on today: an invoice past its due date, not paid,
    with something still open (the trays' "overdue" filter and the home's figures)."""
    return and_(
        Document.document_type == INVOICE,
        Document.due_date < today,
        Document.payment_status != PAID,
        Document.open_balance > 0,
    )


#: The columns a tray can be sorted on (the counterparty's depend on the tray).
SORT_KEYS = (
    "issue_date",
    "type",
    "number",
    "counterparty",
    "tax_id",
    "amount",
    "status",
    "due_date",
    "payment_status",
)


# Documents without a due date sort as if due last; keyset conditions cannot compare NULL.
_NO_DUE_DATE = dt.date(9999, 12, 31)


@dataclass(frozen=True)
class Sort:
    """How a tray is ordered: one column (ties broken by id), ascending or descending."""

    key: str = "issue_date"
    descending: bool = True

    @classmethod
    def parse(cls, text: str | None) -> Sort:
        """Read '-amount' or 'number'; anything unknown is the default (newest first)."""
        text = (text or "").strip()
        key = text.lstrip("-")
        if key not in SORT_KEYS:
            return cls()
        return cls(key, text.startswith("-"))

    def encode(self) -> str:
        """Return the sort as it travels in a URL ('-issue_date')."""
        return ("-" if self.descending else "") + self.key

    @property
    def is_default(self) -> bool:
        """True for newest first, the order the (issue_date, id) indexes serve."""
        return self == Sort()

    def column(self, *, incoming: bool) -> Any:
        """Return the SQL expression sorted on, for the received (incoming) or sent tray."""
        columns = {
            "issue_date": Document.issue_date,
            "type": Document.document_type,
            "number": Document.number,
            "counterparty": Document.supplier_name if incoming else Document.customer_name,
            "tax_id": Document.supplier_tax_id if incoming else Document.customer_tax_id,
            "amount": Document.payable,
            "status": Document.status,
            "due_date": func.coalesce(Document.due_date, _NO_DUE_DATE),
            "payment_status": Document.payment_status,
        }
        return columns[self.key]

    def value_of(self, document: Document, *, incoming: bool) -> Any:
        """Return the sorted value of one row (what a cursor remembers)."""
        if self.key == "due_date":
            return document.due_date or _NO_DUE_DATE
        if self.key in ("counterparty", "tax_id"):
            party = "supplier" if incoming else "customer"
            suffix = "name" if self.key == "counterparty" else "tax_id"
            return getattr(document, f"{party}_{suffix}")
        attribute = {"type": "document_type", "amount": "payable"}.get(self.key, self.key)
        return getattr(document, attribute)

    def read_value(self, text: str) -> Any:
        """Turn a cursor's value back into the column's type."""
        if self.key in ("issue_date", "due_date"):
            return dt.date.fromisoformat(text)
        if self.key == "amount":
            return Decimal(text)
        return text


def received(
    company_id: int, *, filters: DocumentFilters | None = None, sort: Sort | None = None
) -> Select[tuple[Document]]:
    """Return the documents the company received, newest first (or by sort), filtered."""
    stmt = select(Document).where(Document.receiver_company_id == company_id)
    return _filtered(stmt, filters or DocumentFilters(), incoming=True, sort=sort or Sort())


def sent(
    company_id: int, *, filters: DocumentFilters | None = None, sort: Sort | None = None
) -> Select[tuple[Document]]:
    """Return the documents the company sent (delivered or waiting), newest first, filtered."""
    stmt = select(Document).where(Document.sender_company_id == company_id)
    return _filtered(stmt, filters or DocumentFilters(), incoming=False, sort=sort or Sort())


def visible(company_id: int, *, filters: DocumentFilters | None = None) -> Select[tuple[Document]]:
    """Return every document the company received or sent, newest first, filtered (the
    counterparty of each being the other company)."""
    incoming = Document.receiver_company_id == company_id
    stmt = select(Document).where(or_(incoming, Document.sender_company_id == company_id))
    return _filtered(stmt, filters or DocumentFilters(), incoming=incoming, sort=Sort())


def _filtered(
    stmt: Select[tuple[Document]],
    filters: DocumentFilters,
    *,
    incoming: bool | ColumnElement[bool],
    sort: Sort,
) -> Select[tuple[Document]]:
    def side(received: Any, sent: Any) -> Any:
        # incoming is a bool for one tray, a condition per row when both trays are read.
        if isinstance(incoming, bool):
            return received if incoming else sent
        return case((incoming, received), else_=sent)

    counterparty = side(Document.sender_company_id, Document.receiver_company_id)
    counterparty_tax_id = side(Document.supplier_tax_id, Document.customer_tax_id)
    counterparty_name = side(Document.supplier_name, Document.customer_name)
    if filters.date_from:
        stmt = stmt.where(Document.issue_date >= filters.date_from)
    if filters.date_to:
        stmt = stmt.where(Document.issue_date <= filters.date_to)
    if filters.counterparty_id:
        stmt = stmt.where(counterparty == filters.counterparty_id)
    digits = search_digits(filters.tax_id or "")
    if digits:
        stmt = stmt.where(counterparty_tax_id.startswith(digits, autoescape=True))
    if filters.document_type:
        stmt = stmt.where(Document.document_type == filters.document_type)
    if filters.status in STATUS_GROUPS:
        stmt = stmt.where(Document.status.in_(STATUS_GROUPS[filters.status]))
    elif filters.status:
        stmt = stmt.where(Document.status == filters.status)
    if filters.amount_min is not None:
        stmt = stmt.where(Document.payable >= filters.amount_min)
    if filters.amount_max is not None:
        stmt = stmt.where(Document.payable <= filters.amount_max)
    if filters.due_from:
        stmt = stmt.where(Document.due_date >= filters.due_from)
    if filters.due_to:
        stmt = stmt.where(Document.due_date <= filters.due_to)
    if filters.payment_status in PAYMENT_STATUSES:
        stmt = stmt.where(Document.payment_status == filters.payment_status)
    if filters.overdue:
        stmt = stmt.where(overdue_condition(filters.today or utcnow().date()))
    text = (filters.search or "").strip().lower()
    if text:
        stmt = stmt.where(
            or_(
                func.lower(Document.number).contains(text, autoescape=True),
                func.lower(counterparty_name).contains(text, autoescape=True),
            )
        )
    if sort.is_default:
        return stmt.order_by(Document.issue_date.desc(), Document.id.desc())
    column = sort.column(incoming=incoming)
    if sort.descending:
        return stmt.order_by(column.desc(), Document.id.desc())
    return stmt.order_by(column.asc(), Document.id.asc())


@dataclass(frozen=True)
class Cursor:
    """A position in a tray: the last row shown, by (issue_date, id)."""

    issue_date: dt.date
    id: int

    def encode(self) -> str:
        """Return the cursor as it travels in a URL."""
        return f"{self.issue_date.isoformat()}_{self.id}"

    @classmethod
    def decode(cls, token: str) -> Cursor:
        """Read a cursor from a URL, or raise DomainError."""
        try:
            day, _, ident = token.partition("_")
            return cls(dt.date.fromisoformat(day), int(ident))
        except (ValueError, TypeError):
            raise DomainError(_l("This page link is not valid."), field="cursor") from None


@dataclass
class Page:
    items: list[Any]  # Documents, or rows of a listed() select
    next_cursor: str | None


@dataclass(frozen=True)
class SortCursor:
    """A position in a tray sorted on another column: the last row's (value, id)."""

    value: Any
    id: int

    def encode(self) -> str:
        """Return the cursor as it travels in a URL (opaque: values may hold any character)."""
        raw = json.dumps([str(self.value), self.id]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str, sort: Sort) -> SortCursor:
        """Read a cursor for sort from a URL, or raise DomainError."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            value, ident = json.loads(raw)
            return cls(sort.read_value(str(value)), int(ident))
        except (ValueError, TypeError, ArithmeticError):
            raise DomainError(_l("This page link is not valid."), field="cursor") from None


def after(
    stmt: Select[tuple[Document]],
    cursor: Cursor | SortCursor | None,
    *,
    sort: Sort | None = None,
    incoming: bool = True,
) -> Select[tuple[Document]]:
    """Continue a tray after cursor (a keyset condition on (sorted column, id))."""
    if cursor is None:
        return stmt
    if isinstance(cursor, Cursor):
        return stmt.where(
            tuple_(Document.issue_date, Document.id) < tuple_(cursor.issue_date, cursor.id)
        )
    key = tuple_((sort or Sort()).column(incoming=incoming), Document.id)
    position = tuple_(cursor.value, cursor.id)
    return stmt.where(key < position if (sort or Sort()).descending else key > position)


#: What a tray's list shows of each document (and its cursors read): not the whole row.
LISTED_COLUMNS = (
    Document.id,
    Document.sender_company_id,
    Document.receiver_company_id,
    Document.supplier_name,
    Document.supplier_tax_id,
    Document.customer_name,
    Document.customer_tax_id,
    Document.customer_country,
    Document.document_type,
    Document.number,
    Document.issue_date,
    Document.due_date,
    Document.currency,
    Document.payable,
    Document.open_balance,
    Document.status,
    Document.payment_status,
    Document.dispute_status,
    Document.order_reference,
)


def listed(stmt: Select[tuple[Document]]) -> Select[Any]:
    """Narrow a tray's select to LISTED_COLUMNS: plain rows, named as the model's attributes.

    Fifty documents loaded as ORM objects, every column and identity map included, cost more
    than the query that finds them.
    """
    return stmt.with_only_columns(*LISTED_COLUMNS)


def page(
    stmt: Select[Any],
    *,
    cursor: str | Cursor | SortCursor | None = None,
    limit: int = PAGE_SIZE,
    sort: Sort | None = None,
    incoming: bool = True,
) -> Page:
    """Run one page of a tray: up to limit documents after cursor, and the next cursor.

    A tray sorted with sort (and read as received when incoming) must be paged with the same.
    """
    sort = sort or Sort()
    if isinstance(cursor, str):
        if not cursor:
            cursor = None
        elif sort.is_default:
            cursor = Cursor.decode(cursor)
        else:
            cursor = SortCursor.decode(cursor, sort)
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    result = db.session.execute(after(stmt, cursor, sort=sort, incoming=incoming).limit(limit + 1))
    # Documents for select(Document), rows for a listed() select.
    rows = list(result.scalars() if len(stmt.column_descriptions) == 1 else result)
    items = rows[:limit]
    following = None
    if len(rows) > limit:
        last = items[-1]
        if sort.is_default:
            following = Cursor(last.issue_date, last.id).encode()
        else:
            following = SortCursor(sort.value_of(last, incoming=incoming), last.id).encode()
    return Page(items, following)


def get_document(company_id: int, document_id: int) -> Document:
    """Return a document the company sent or received, or raise NotFound."""
    document = db.session.scalars(
        select(Document)
        .where(
            Document.id == document_id,
            or_(
                Document.sender_company_id == company_id,
                Document.receiver_company_id == company_id,
            ),
        )
        .execution_options(populate_existing=True)
    ).first()
    if document is None:
        raise NotFound(_l("That document does not exist."))
    return document


def document_events(company_id: int, document_id: int) -> Select[tuple[DocumentEvent]]:
    """Return a document's events, oldest first (the document's two companies only)."""
    return (
        select(DocumentEvent)
        .where(
            DocumentEvent.document_id == document_id,
            or_(
                DocumentEvent.sender_company_id == company_id,
                DocumentEvent.receiver_company_id == company_id,
            ),
        )
        .order_by(DocumentEvent.created_at, DocumentEvent.id)
    )


def quarantine(company_id: int) -> Select[tuple[QuarantinedUpload]]:
    """Return the company's refused uploads, newest first."""
    return (
        select(QuarantinedUpload)
        .where(QuarantinedUpload.company_id == company_id)
        .order_by(QuarantinedUpload.created_at.desc(), QuarantinedUpload.id.desc())
    )


# Why a file is in quarantine, in words (its findings give the details).
REFUSAL_WORDS = {
    UNREADABLE: _l("Not an invoice or note the portal can read"),
    INVALID: _l("It has errors"),
    NOT_SUPPLIER: _l("It names another supplier"),
    DUPLICATE: _l("Already sent: a duplicate"),
}


@dataclass
class QuarantineRow:
    """One refused upload as the quarantine page lists it: why, and the original it repeats."""

    entry: QuarantinedUpload
    reason: Any
    original: Document | None = None


def quarantine_rows(company_id: int, *, limit: int = 200) -> list[QuarantineRow]:
    """Return the company's latest refused uploads, each with its reason in words and, for a
    duplicate, the document it repeats."""
    entries = db.session.scalars(quarantine(company_id).limit(limit)).all()
    keys = {(e.document_type, e.number) for e in entries if e.reason == DUPLICATE and e.number}
    originals: dict[tuple[str, str], Document] = {}
    if keys:
        found = db.session.scalars(
            select(Document).where(
                Document.sender_company_id == company_id,
                tuple_(Document.document_type, Document.number).in_(sorted(keys)),
            )
        )
        originals = {(d.document_type, d.number): d for d in found}
    return [
        QuarantineRow(
            e,
            REFUSAL_WORDS.get(e.reason, e.reason),
            originals.get((e.document_type or "", e.number or ""))
            if e.reason == DUPLICATE
            else None,
        )
        for e in entries
    ]


def waiting_documents(company_id: int) -> Select[tuple[Document]]:
    """Return what the company sent to customers not on the network yet."""
    return (
        select(Document)
        .where(Document.sender_company_id == company_id, Document.receiver_company_id.is_(None))
        .order_by(Document.created_at.desc(), Document.id.desc())
    )
