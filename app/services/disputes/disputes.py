"""Disputes: buyer and supplier settle a disagreement about a document on the document itself.

    open ─propose─▶ proposed ─accept─▶ resolved (corrected invoice, claim withdrawn, paid)
     ▲  ╲              │ ╲─accept a credit note─▶ agreed ─credit note issued─▶ resolved
     │   ╲─escalate─▶ escalated ◀─────────────────────────┘
     └──reject──────────┘            (the opener may withdraw at any time before resolved)

Either party opens a dispute on a shared document; a claim (DIAN 031) opens one by itself.
Messages are written to the database before they are broadcast (``after_commit``), carry their
id to the sender, and are never edited nor deleted. Who may see a dispute is the document's rule:
the supplier and the buyer (``app.models.dispute``). Every change is audited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import LazyString, get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from app import humanize, realtime
from app.db import after_commit, begin_nested
from app.extensions import db
from app.models import (
    Company,
    Dispute,
    DisputeMessage,
    DisputeProposal,
    DisputeRead,
    Document,
    Membership,
    User,
    utcnow,
)
from app.models.dispute import (
    ACCEPTED,
    ACTIVE_STATUSES,
    AGREED,
    CLAIM_WITHDRAWN,
    CREDIT_NOTE,
    ESCALATED,
    MESSAGE,
    OPEN,
    PENDING,
    PROPOSED,
    REASONS,
    REJECTED,
    RESOLUTIONS,
    RESOLVED,
    SUPERSEDED,
    SYSTEM,
)
from app.models.document import INVOICE
from app.permissions import role_can
from app.services import audit, events, notifications
from app.services.documents import queries, reading
from app.services.errors import Conflict, DomainError, Forbidden, NotFound
from app.services.events import DisputeResolved
from app.tenancy import unscoped

MAX_MESSAGE_BYTES = 4096
CHAT_ATTACHMENT_TYPES = ("application/pdf", "image/png", "image/jpeg")
PARTICIPATE = "disputes.participate"

REASON_NAMES: dict[str, LazyString] = {
    "price": _l("Price"),
    "quantity": _l("Quantity"),
    "not_received": _l("Goods or service not received"),
    "tax_error": _l("Tax error"),
    "duplicate": _l("Duplicate invoice"),
    "payment": _l("Payment"),
    "other": _l("Other"),
    # DIAN's claim reasons, worded as transitions.CLAIM_REASONS words them (the same messages).
    "doc_inconsistent": _l("Inconsistent document"),
    "not_fully_delivered": _l("Goods not fully delivered"),
    "partially_delivered": _l("Goods partially delivered"),
    "service_not_rendered": _l("Service not rendered"),
}
assert set(REASON_NAMES) == set(REASONS)
assert all(len(reason) <= 20 for reason in REASONS)  # disputes.reason is a String(20)

STATUS_NAMES: dict[str, LazyString] = {
    OPEN: _l("open"),
    PROPOSED: _l("resolution proposed"),
    AGREED: _l("agreed: credit note pending"),
    ESCALATED: _l("escalated"),
    RESOLVED: _l("resolved"),
}

RESOLUTION_NAMES: dict[str, LazyString] = {
    CREDIT_NOTE: _l("Credit note"),
    "corrected_invoice": _l("Corrected invoice"),
    CLAIM_WITHDRAWN: _l("Claim withdrawn"),
    "paid": _l("Paid"),
}

# What a claim's DIAN reason (031 'Concepto de Reclamo') is as a dispute reason: the same one.
CLAIM_REASON_TO_DISPUTE = {
    "01": "doc_inconsistent",
    "02": "not_fully_delivered",
    "03": "partially_delivered",
    "04": "service_not_rendered",
}

# System lines in the transcript: stored as a code and parameters, worded when shown.
SYSTEM_LINES: dict[str, LazyString] = {
    "opened": _l("%(company)s opened the dispute: %(reason)s, %(amount)s."),
    "claimed": _l(
        "%(company)s claimed the invoice (DIAN event 031, reason %(claim)s: %(reason)s), which "
        "opened the dispute: %(amount)s."
    ),
    "proposed": _l("%(company)s proposed a resolution: %(resolution)s %(amount)s. %(description)s"),
    "accepted": _l("%(company)s accepted the proposed resolution."),
    "rejected": _l("%(company)s rejected the proposed resolution."),
    "escalated": _l("%(company)s escalated the dispute."),
    "resolved": _l("The dispute was resolved: %(resolution)s."),
    "credit_note": _l("Credit note %(number)s was issued."),
}


# ------------------------------------------------------------------------------------ reading


def get_dispute(company_id: int, dispute_id: int) -> Dispute:
    """Return a dispute the company is a party to, or raise NotFound."""
    dispute = db.session.scalars(
        select(Dispute)
        .where(Dispute.id == dispute_id, _party(Dispute, company_id))
        .execution_options(populate_existing=True)
    ).first()
    if dispute is None:
        raise NotFound(_l("That dispute does not exist."))
    return dispute


def _party(model: Any, company_id: int) -> Any:
    # The session hook already applies this rule; repeating it keeps a system context safe too.
    return or_(model.supplier_company_id == company_id, model.buyer_company_id == company_id)


def active_dispute(company_id: int, document_id: int) -> Dispute | None:
    """Return the document's dispute that is not resolved yet, if any."""
    return db.session.scalars(
        select(Dispute).where(
            Dispute.document_id == document_id,
            Dispute.status.in_(ACTIVE_STATUSES),
            _party(Dispute, company_id),
        )
    ).first()


def document_disputes(company_id: int, document_id: int) -> list[Dispute]:
    """Return every dispute on a document, newest first."""
    return list(
        db.session.scalars(
            select(Dispute)
            .where(Dispute.document_id == document_id, _party(Dispute, company_id))
            .order_by(Dispute.id.desc())
        )
    )


def messages(
    company_id: int, dispute_id: int, *, after: int = 0, limit: int = 500
) -> list[DisputeMessage]:
    """Return the conversation after a message id (0: from the start), oldest first.

    Nothing for a dispute the company is not party to (every message row carries both parties,
    so no look-up of the dispute is needed: this runs on every announcement of a message).
    """
    return list(
        db.session.scalars(
            select(DisputeMessage)
            .where(
                DisputeMessage.dispute_id == dispute_id,
                DisputeMessage.id > max(after, 0),
                _party(DisputeMessage, company_id),
            )
            .order_by(DisputeMessage.id)
            .limit(limit)
        )
    )


def pending_proposal(dispute: Dispute) -> DisputeProposal | None:
    """Return the proposal that waits for an answer (or an accepted credit note), if any."""
    return db.session.scalars(
        select(DisputeProposal)
        .where(
            DisputeProposal.dispute_id == dispute.id,
            DisputeProposal.status.in_((PENDING, ACCEPTED)),
        )
        .order_by(DisputeProposal.id.desc())
    ).first()


def proposals(dispute: Dispute) -> list[DisputeProposal]:
    """Return every proposal made in a dispute, oldest first."""
    return list(
        db.session.scalars(
            select(DisputeProposal)
            .where(DisputeProposal.dispute_id == dispute.id)
            .order_by(DisputeProposal.id)
        )
    )


@dataclass(frozen=True)
class Receipt:
    """How far one participant has read: shown under the conversation, by the last message
    read (its author and time), never by its internal id."""

    user_id: int
    name: str
    company_id: int
    last_read_message_id: int
    read_at: dt.datetime
    #: The last message read: who wrote it and when (empty when it is gone).
    message_author: str = ""
    message_at: dt.datetime | None = None
    #: Nothing was written after the last message read.
    read_all: bool = False


def read_receipts(company_id: int, dispute_id: int) -> list[Receipt]:
    """Return who read the conversation up to which message (both companies; nothing for a
    dispute the company is not party to)."""
    rows = db.session.execute(
        select(DisputeRead, User.name, User.email, DisputeMessage.author,
               DisputeMessage.created_at)
        .join(User, User.id == DisputeRead.user_id)
        .outerjoin(DisputeMessage, DisputeMessage.id == DisputeRead.last_read_message_id)
        .where(DisputeRead.dispute_id == dispute_id, _party(DisputeRead, company_id))
        .order_by(DisputeRead.read_at.desc())
    ).all()
    latest = db.session.scalar(
        select(func.max(DisputeMessage.id)).where(
            DisputeMessage.dispute_id == dispute_id, _party(DisputeMessage, company_id)
        )
    ) or 0
    return [
        Receipt(r.user_id, name or email, r.company_id, r.last_read_message_id, r.read_at,
                author or "", written_at, r.last_read_message_id >= latest)
        for r, name, email, author, written_at in rows
    ]


def unread_counts(company_id: int, user_id: int, dispute_ids: list[int]) -> dict[int, int]:
    """Return, per dispute, how many messages the user has not read (others' messages only)."""
    if not dispute_ids:
        return {}
    read = (
        select(DisputeRead.dispute_id, DisputeRead.last_read_message_id)
        .where(DisputeRead.user_id == user_id, DisputeRead.dispute_id.in_(dispute_ids))
        .subquery()
    )
    rows = db.session.execute(
        select(DisputeMessage.dispute_id, func.count())
        .outerjoin(read, read.c.dispute_id == DisputeMessage.dispute_id)
        .where(
            DisputeMessage.dispute_id.in_(dispute_ids),
            DisputeMessage.id > func.coalesce(read.c.last_read_message_id, 0),
            or_(DisputeMessage.user_id.is_(None), DisputeMessage.user_id != user_id),
        )
        .group_by(DisputeMessage.dispute_id)
    ).all()
    return {dispute_id: count for dispute_id, count in rows}


@dataclass(frozen=True)
class NavCounts:
    """The numbers next to "Disputes" in the navigation and in the bell."""

    active: int
    waiting: int
    unread: int


def nav_counts(company_id: int, user_id: int) -> NavCounts:
    """Count the company's active disputes, those waiting for it, and the user's unread messages."""
    active = db.session.execute(
        select(Dispute.id, Dispute.waiting_company_id).where(
            _party(Dispute, company_id), Dispute.status.in_(ACTIVE_STATUSES)
        )
    ).all()
    active_ids = [dispute_id for dispute_id, _waiting in active]
    waiting = sum(1 for _id, waiting_id in active if waiting_id == company_id)
    unread = sum(unread_counts(company_id, user_id, active_ids).values())
    return NavCounts(len(active_ids), waiting, unread)


# The list's filters.
FILTER_OPEN, FILTER_WAITING, FILTER_RESOLVED, FILTER_ALL = "open", "waiting", "resolved", "all"
FILTERS = (FILTER_OPEN, FILTER_WAITING, FILTER_RESOLVED, FILTER_ALL)
# Which side of the documents the company is on (the home's payables and receivables).
SIDE_BUYER, SIDE_SUPPLIER = "buyer", "supplier"


def disputes(
    company_id: int,
    *,
    show: str = FILTER_OPEN,
    counterparty_id: int | None = None,
    older_than_days: int | None = None,
    now: dt.datetime | None = None,
    side: str | None = None,
) -> Select[tuple[Dispute, Document]]:
    """Return the company's disputes with their documents, filtered, newest activity first.

    side narrows them to those where the company is the buyer or the supplier.
    """
    stmt = (
        select(Dispute, Document)
        .join(Document, Document.id == Dispute.document_id)
        .where(_party(Dispute, company_id))
    )
    if show == FILTER_OPEN:
        stmt = stmt.where(Dispute.status.in_(ACTIVE_STATUSES))
    elif show == FILTER_WAITING:
        stmt = stmt.where(
            Dispute.status.in_(ACTIVE_STATUSES), Dispute.waiting_company_id == company_id
        )
    elif show == FILTER_RESOLVED:
        stmt = stmt.where(Dispute.status == RESOLVED)
    if counterparty_id:
        stmt = stmt.where(
            or_(
                and_(
                    Dispute.supplier_company_id == company_id,
                    Dispute.buyer_company_id == counterparty_id,
                ),
                and_(
                    Dispute.buyer_company_id == company_id,
                    Dispute.supplier_company_id == counterparty_id,
                ),
            )
        )
    if side == SIDE_BUYER:
        stmt = stmt.where(Dispute.buyer_company_id == company_id)
    elif side == SIDE_SUPPLIER:
        stmt = stmt.where(Dispute.supplier_company_id == company_id)
    if older_than_days:
        cutoff = (now or utcnow()) - dt.timedelta(days=older_than_days)
        stmt = stmt.where(Dispute.created_at <= cutoff)
    return stmt.order_by(Dispute.updated_at.desc(), Dispute.id.desc())


def counterparties(company_id: int) -> list[Company]:
    """Return the companies the company has disputes with (for the list's filter)."""
    ids = {
        other
        for supplier, buyer in db.session.execute(
            select(Dispute.supplier_company_id, Dispute.buyer_company_id)
            .where(_party(Dispute, company_id))
            .distinct()
        )
        for other in (supplier, buyer)
        if other != company_id
    }
    if not ids:
        return []
    # Companies are read by id: the company's own disputes chose them.
    return list(
        db.session.scalars(
            unscoped(select(Company).where(Company.id.in_(ids)).order_by(Company.legal_name))
        )
    )


# ------------------------------------------------------------------------------------ access


def may_participate(company_id: int, user: User) -> bool:
    """Tell whether the user, as an active member of the company, may write in its disputes."""
    if not user.active:
        return False
    membership = db.session.scalars(
        select(Membership).where(
            Membership.company_id == company_id,
            Membership.user_id == user.id,
            Membership.active.is_(True),
        )
    ).first()
    return membership is not None and role_can(membership.role, PARTICIPATE)


def _require_participant(company_id: int, user: User) -> None:
    if not may_participate(company_id, user):
        raise Forbidden(_l("Your role cannot take part in disputes."))


def _company_name(company_id: int) -> str:
    company = db.session.get(Company, company_id)
    return company.legal_name if company else ""


# ---------------------------------------------------------------------------------- changing


def _amount(value: Any, *, field: str, required: bool = True) -> Decimal | None:
    if value in (None, "") and not required:
        return None
    try:
        amount = Decimal(str(value).strip().replace(" ", ""))
    except (InvalidOperation, ValueError):
        raise DomainError(_l("Type an amount such as 150000.00."), field=field) from None
    if not amount.is_finite() or amount <= 0:
        raise DomainError(_l("The amount must be greater than zero."), field=field)
    if amount.as_tuple().exponent < -2 or amount >= Decimal("1e16"):  # type: ignore[operator]
        raise DomainError(_l("Type an amount with at most two decimals."), field=field)
    return amount


def open_dispute(
    company_id: int,
    *,
    document_id: int,
    reason: str,
    amount: Any,
    message: str,
    actor: User,
) -> Dispute:
    """Open a dispute on a document the company sent or received, with a first message."""
    _require_participant(company_id, actor)
    document = queries.get_document(company_id, document_id)
    return _open(company_id, document, reason=reason, amount=amount, message=message, actor=actor)


def _open(
    company_id: int,
    document: Document,
    *,
    reason: str,
    amount: Any,
    message: str,
    actor: User,
    claim_reason: str | None = None,
) -> Dispute:
    if document.receiver_company_id is None:
        raise DomainError(_l("The customer is not on the network yet: there is nobody to talk to."))
    if reason not in REASONS:
        raise DomainError(_l("Choose the reason of the dispute."), field="reason")
    value = _amount(amount, field="amount")
    assert value is not None
    if value > document.payable:
        raise DomainError(
            _l("The amount in dispute cannot exceed the document's total."), field="amount"
        )
    text = _clean(message, field="message")
    # Only one active dispute per document: lock the document row while checking.
    _lock_document(document.id)
    if active_dispute(company_id, document.id) is not None:
        raise Conflict(_l("This document already has an open dispute: write in it."))
    now = utcnow()
    dispute = Dispute(
        document_id=document.id,
        supplier_company_id=document.sender_company_id,
        buyer_company_id=document.receiver_company_id,
        opened_by_company_id=company_id,
        opened_by_user_id=actor.id,
        reason=reason,
        amount=value,
        currency=document.currency,
        status=OPEN,
        waiting_company_id=None,
        created_at=now,
        updated_at=now,
    )
    db.session.add(dispute)
    db.session.flush()
    dispute.waiting_company_id = dispute.other_company_id(company_id)
    # Amounts are kept as data (with their currency) and worded for each reader by system_text.
    opened = {"reason": reason, "amount": str(value), "currency": dispute.currency}
    if claim_reason:
        _system(dispute, company_id, "claimed", actor=actor, claim=claim_reason, **opened)
    else:
        _system(dispute, company_id, "opened", actor=actor, **opened)
    _add_message(dispute, company_id, actor, body=text)
    _set_document_status(dispute)
    audit.record_event(
        actor,
        company_id,
        "dispute.opened",
        document,
        {"dispute_id": dispute.id, "reason": reason, "amount": str(value)},
    )
    notifications.notify(
        dispute.other_company_id(company_id),
        kind=notifications.DISPUTE_OPENED,
        document=document,
        company=_company_name(company_id),
    )
    _changed_after_commit(dispute)
    return dispute


def open_from_claim(
    document: Document, *, claim_reason: str, note: str, actor: User
) -> Dispute | None:
    """Open the dispute a claim (031) implies, unless the invoice already has one."""
    company_id = document.receiver_company_id
    assert company_id is not None
    if active_dispute(company_id, document.id) is not None:
        return None
    return _open(
        company_id,
        document,
        reason=CLAIM_REASON_TO_DISPUTE.get(claim_reason, "other"),
        amount=document.open_balance if document.open_balance > 0 else document.payable,
        message=note,
        actor=actor,
        claim_reason=claim_reason if claim_reason in CLAIM_REASON_TO_DISPUTE else None,
    )


def _lock_document(document_id: int) -> None:
    # A no-op UPDATE takes the row lock on PostgreSQL; SQLite serialises writers anyway.
    db.session.execute(
        update(Document)
        .where(Document.id == document_id)
        .values(dispute_status=Document.dispute_status)
        .execution_options(synchronize_session=False)
    )


def _clean(text: Any, *, field: str = "body", required: bool = True) -> str:
    body = str(text or "").replace("\r\n", "\n").strip()
    if required and not body:
        raise DomainError(_l("Write a message."), field=field)
    if len(body.encode("utf-8")) > MAX_MESSAGE_BYTES:
        raise DomainError(_l("A message may be at most 4 KB long."), field=field)
    if "\x00" in body:
        raise DomainError(_l("The message has characters that cannot be stored."), field=field)
    return body


def _lines(document: Document, lines: Any) -> list[int]:
    """Parse line numbers ("2, 3" or "2-3" or a list) and keep those the invoice has."""
    if not lines:
        return []
    if isinstance(lines, str):
        parts = [p for p in lines.replace(";", ",").split(",") if p.strip()]
    else:
        parts = [str(p) for p in lines]
    found: set[int] = set()
    for part in parts:
        bounds = part.strip().split("-", 1)
        try:
            low = int(bounds[0])
            high = int(bounds[1]) if len(bounds) == 2 else low
        except ValueError:
            raise DomainError(_l("Line numbers look like 2, 3 or 2-3."), field="lines") from None
        if low < 1 or high < low or high - low > 500:
            raise DomainError(_l("Line numbers look like 2, 3 or 2-3."), field="lines")
        found.update(range(low, high + 1))
    count = _line_count(document)
    if count and max(found) > count:
        raise DomainError(_l("The invoice has %(count)d lines.", count=count), field="lines")
    return sorted(found)


def _line_count(document: Document) -> int:
    canonical = reading.canonical_document(document)
    return len(canonical.lines) if canonical is not None else 0


def post_message(
    company_id: int,
    *,
    dispute_id: int,
    actor: User,
    body: str = "",
    client_id: str | None = None,
    lines: Any = None,
    attachment: tuple[str, bytes] | None = None,
) -> tuple[DisputeMessage, bool]:
    """Write a chat message (or return the one already written with that client id).

    Returns the message and whether it is new; the broadcast happens after commit.
    """
    _require_participant(company_id, actor)
    dispute = get_dispute(company_id, dispute_id)
    client_id = (str(client_id)[:64] or None) if client_id else None
    if client_id:
        earlier = _by_client_id(dispute.id, actor.id, client_id)
        if earlier is not None:
            return earlier, False
    if dispute.status == RESOLVED:
        raise Conflict(_l("This dispute is resolved: open a new one to talk again."))
    text = _clean(body, required=attachment is None)
    document = db.session.get(Document, dispute.document_id)
    assert document is not None
    line_numbers = _lines(document, lines)
    attachment_id = None
    if attachment is not None:
        filename, data = attachment
        if data and reading.sniff_content_type(data) not in CHAT_ATTACHMENT_TYPES:
            raise DomainError(
                _l("Only images (PNG, JPEG) and PDF files can be sent in the chat."), field="file"
            )
        attached = reading.add_attachment(
            company_id,
            document_id=document.id,
            filename=filename,
            data=data,
            visibility="both",
            actor=actor,
        )
        attachment_id = attached.id
    savepoint = begin_nested(db.session())
    try:
        message = _add_message(
            dispute,
            company_id,
            actor,
            body=text,
            client_id=client_id,
            lines=line_numbers,
            attachment_id=attachment_id,
        )
        savepoint.commit()
    except IntegrityError:  # the same client id, sent twice at once
        savepoint.rollback()
        earlier = _by_client_id(dispute.id, actor.id, client_id or "")
        if earlier is None:
            raise
        return earlier, False
    dispute.waiting_company_id = dispute.other_company_id(company_id)
    dispute.updated_at = message.created_at
    audit.record_event(
        actor,
        company_id,
        "dispute.message",
        ("documents", document.id),
        {"dispute_id": dispute.id, "message_id": message.id, "attachment_id": attachment_id},
    )
    mark_read(company_id, dispute_id=dispute.id, user=actor, message_id=message.id)
    return message, True


def _by_client_id(dispute_id: int, user_id: int, client_id: str) -> DisputeMessage | None:
    return db.session.scalars(
        select(DisputeMessage).where(
            DisputeMessage.dispute_id == dispute_id,
            DisputeMessage.user_id == user_id,
            DisputeMessage.client_id == client_id,
        )
    ).first()


def _add_message(
    dispute: Dispute,
    company_id: int,
    actor: User | None,
    *,
    body: str = "",
    kind: str = MESSAGE,
    params: dict[str, Any] | None = None,
    client_id: str | None = None,
    lines: list[int] | None = None,
    attachment_id: int | None = None,
) -> DisputeMessage:
    message = DisputeMessage(
        dispute_id=dispute.id,
        supplier_company_id=dispute.supplier_company_id,
        buyer_company_id=dispute.buyer_company_id,
        company_id=company_id,
        user_id=actor.id if actor else None,
        author=(actor.name or actor.email) if actor else "",
        kind=kind,
        body=body,
        params=params or {},
        lines=lines or [],
        attachment_id=attachment_id,
        client_id=client_id,
        created_at=utcnow(),
    )
    db.session.add(message)
    db.session.flush()
    dispute.last_message_id = message.id
    _broadcast_after_commit(dispute, message)
    return message


def _system(
    dispute: Dispute, company_id: int, code: str, *, actor: User | None, **params: Any
) -> DisputeMessage:
    params = {"code": code, "company": _company_name(company_id), **params}
    return _add_message(dispute, company_id, actor, kind=SYSTEM, params=params)


def system_text(message: DisputeMessage) -> str:
    """Word a system line of the transcript in the reader's language."""
    params = dict(message.params or {})
    template = SYSTEM_LINES.get(params.get("code", ""))
    if template is None:
        return ""
    words = {
        "company": params.get("company", ""),
        "reason": str(REASON_NAMES.get(params.get("reason", ""), params.get("reason", ""))),
        "resolution": str(
            RESOLUTION_NAMES.get(params.get("resolution", ""), params.get("resolution", ""))
        ),
        "amount": _money_text(params.get("amount"), params.get("currency") or "COP"),
        "description": params.get("description") or "",
        "number": params.get("number") or "",
        "claim": params.get("claim") or "",
    }
    return (str(template) % words).strip()


def _money_text(amount: Any, currency: str) -> str:
    """Word a stored amount ("804300.00") in the reader's locale ("$ 804.300,00")."""
    if amount in (None, ""):
        return ""
    try:
        return humanize.money(Decimal(str(amount)), currency, locale=get_locale())
    except (InvalidOperation, ValueError):
        return str(amount)


def mark_read(
    company_id: int, *, dispute_id: int, user: User, message_id: int
) -> DisputeRead | None:
    """Record that the user read the conversation up to a message (never backwards)."""
    dispute = get_dispute(company_id, dispute_id)
    message_id = min(int(message_id), dispute.last_message_id)
    if message_id <= 0:
        return None
    read = db.session.scalars(
        select(DisputeRead).where(
            DisputeRead.dispute_id == dispute.id, DisputeRead.user_id == user.id
        )
    ).first()
    now = utcnow()
    if read is None:
        savepoint = begin_nested(db.session())
        read = DisputeRead(
            dispute_id=dispute.id,
            supplier_company_id=dispute.supplier_company_id,
            buyer_company_id=dispute.buyer_company_id,
            user_id=user.id,
            company_id=company_id,
            last_read_message_id=message_id,
            read_at=now,
        )
        try:
            db.session.add(read)
            db.session.flush()
            savepoint.commit()
        except IntegrityError:  # the same user, two tabs at once
            savepoint.rollback()
            return mark_read(company_id, dispute_id=dispute_id, user=user, message_id=message_id)
    elif message_id > read.last_read_message_id:
        read.last_read_message_id = message_id
        read.read_at = now
    else:
        return read
    payload = {"dispute_id": dispute.id, "user_id": user.id, "message_id": message_id}
    after_commit(db.session(), lambda: realtime.notify_dispute(dispute.id, "dispute:read", payload))
    return read


def propose_resolution(
    company_id: int,
    *,
    dispute_id: int,
    resolution: str,
    amount: Any = None,
    lines: Any = None,
    description: str = "",
    actor: User,
) -> DisputeProposal:
    """Propose how to settle the dispute; it replaces an earlier proposal still unanswered."""
    _require_participant(company_id, actor)
    dispute = get_dispute(company_id, dispute_id)
    if dispute.status not in (OPEN, PROPOSED, ESCALATED):
        raise Conflict(
            _l(
                "This dispute cannot take a proposal now: it is %(status)s.",
                status=STATUS_NAMES[dispute.status],
            )
        )
    if resolution not in RESOLUTIONS:
        raise DomainError(_l("Choose how the dispute would be resolved."), field="resolution")
    document = db.session.get(Document, dispute.document_id)
    assert document is not None
    value = _amount(amount, field="amount", required=resolution == CREDIT_NOTE)
    if resolution == CREDIT_NOTE and document.document_type != INVOICE:
        raise DomainError(_l("Credit notes correct invoices, not notes."), field="resolution")
    if value is not None and value > document.payable:
        raise DomainError(_l("The amount cannot exceed the document's total."), field="amount")
    line_numbers = _lines(document, lines)
    text = _clean(description, field="description", required=False)[:2000]
    if not _move(dispute, (OPEN, PROPOSED, ESCALATED), PROPOSED):
        raise Conflict(_l("This dispute changed meanwhile; reload it."))
    _supersede_pending(dispute)
    proposal = DisputeProposal(
        dispute_id=dispute.id,
        supplier_company_id=dispute.supplier_company_id,
        buyer_company_id=dispute.buyer_company_id,
        company_id=company_id,
        user_id=actor.id,
        resolution=resolution,
        amount=value,
        lines=line_numbers,
        description=text,
        status=PENDING,
        created_at=utcnow(),
    )
    db.session.add(proposal)
    db.session.flush()
    dispute.waiting_company_id = dispute.other_company_id(company_id)
    _system(
        dispute,
        company_id,
        "proposed",
        actor=actor,
        resolution=resolution,
        amount=str(value) if value is not None else "",
        currency=dispute.currency,
        description=text,
    )
    _touch(dispute)
    audit.record_event(
        actor,
        company_id,
        "dispute.proposed",
        document,
        {
            "dispute_id": dispute.id,
            "proposal_id": proposal.id,
            "resolution": resolution,
            "amount": str(value) if value is not None else None,
        },
    )
    notifications.notify(
        dispute.other_company_id(company_id),
        kind=notifications.DISPUTE_PROPOSAL,
        document=document,
        company=_company_name(company_id),
    )
    return proposal


def accept_proposal(company_id: int, *, dispute_id: int, proposal_id: int, actor: User) -> Dispute:
    """Accept the other side's proposal: it resolves the dispute, or (a credit note) agrees it."""
    _require_participant(company_id, actor)
    dispute = get_dispute(company_id, dispute_id)
    proposal = _pending(dispute, proposal_id)
    if proposal.company_id == company_id:
        raise Forbidden(_l("The other party answers your proposal."))
    target = AGREED if proposal.resolution == CREDIT_NOTE else RESOLVED
    if not _move(dispute, (PROPOSED,), target):
        raise Conflict(_l("This dispute changed meanwhile; reload it."))
    proposal.status = ACCEPTED
    proposal.decided_by_user_id = actor.id
    proposal.decided_at = utcnow()
    _system(dispute, company_id, "accepted", actor=actor)
    document = db.session.get(Document, dispute.document_id)
    audit.record_event(
        actor,
        company_id,
        "dispute.accepted",
        document,
        {"dispute_id": dispute.id, "proposal_id": proposal.id},
    )
    if target == AGREED:
        dispute.waiting_company_id = dispute.supplier_company_id  # the supplier issues the note
        _touch(dispute)
    else:
        _resolve(dispute, company_id, proposal.resolution, actor=actor)
    return dispute


def reject_proposal(company_id: int, *, dispute_id: int, proposal_id: int, actor: User) -> Dispute:
    """Reject the other side's proposal: the dispute is open again."""
    _require_participant(company_id, actor)
    dispute = get_dispute(company_id, dispute_id)
    proposal = _pending(dispute, proposal_id)
    if proposal.company_id == company_id:
        raise Forbidden(_l("The other party answers your proposal."))
    if not _move(dispute, (PROPOSED,), OPEN):
        raise Conflict(_l("This dispute changed meanwhile; reload it."))
    proposal.status = REJECTED
    proposal.decided_by_user_id = actor.id
    proposal.decided_at = utcnow()
    dispute.waiting_company_id = proposal.company_id
    _system(dispute, company_id, "rejected", actor=actor)
    _touch(dispute)
    audit.record_event(
        actor,
        company_id,
        "dispute.rejected",
        ("documents", dispute.document_id),
        {"dispute_id": dispute.id, "proposal_id": proposal.id},
    )
    return dispute


def _supersede_pending(dispute: Dispute) -> None:
    """Mark the proposal still waiting for an answer, if any, as replaced."""
    db.session.execute(
        update(DisputeProposal)
        .where(DisputeProposal.dispute_id == dispute.id, DisputeProposal.status == PENDING)
        .values(status=SUPERSEDED)
        .execution_options(synchronize_session="fetch")
    )


def _pending(dispute: Dispute, proposal_id: int) -> DisputeProposal:
    proposal = db.session.scalars(
        select(DisputeProposal).where(
            DisputeProposal.id == proposal_id, DisputeProposal.dispute_id == dispute.id
        )
    ).first()
    if proposal is None:
        raise NotFound(_l("That proposal does not exist."))
    if proposal.status != PENDING:
        raise Conflict(_l("That proposal was already answered or replaced."))
    return proposal


def escalate(company_id: int, *, dispute_id: int, actor: User, note: str = "") -> Dispute:
    """Escalate the dispute (to managers on both sides); it can still be resolved."""
    _require_participant(company_id, actor)
    dispute = get_dispute(company_id, dispute_id)
    if not _move(dispute, (OPEN, PROPOSED), ESCALATED):
        raise Conflict(
            _l(
                "This dispute cannot be escalated now: it is %(status)s.",
                status=STATUS_NAMES[dispute.status],
            )
        )
    _supersede_pending(dispute)
    _system(dispute, company_id, "escalated", actor=actor)
    text = _clean(note, required=False)
    if text:
        _add_message(dispute, company_id, actor, body=text)
    _touch(dispute)
    audit.record_event(
        actor,
        company_id,
        "dispute.escalated",
        ("documents", dispute.document_id),
        {"dispute_id": dispute.id},
    )
    return dispute


def withdraw(company_id: int, *, dispute_id: int, actor: User) -> Dispute:
    """Withdraw a dispute the company opened: it is resolved as "claim withdrawn"."""
    _require_participant(company_id, actor)
    dispute = get_dispute(company_id, dispute_id)
    if dispute.opened_by_company_id != company_id:
        raise Forbidden(_l("Only the party that opened the dispute can withdraw it."))
    if not _move(dispute, ACTIVE_STATUSES, RESOLVED):
        raise Conflict(_l("This dispute is already resolved."))
    _supersede_pending(dispute)
    _resolve(dispute, company_id, CLAIM_WITHDRAWN, actor=actor)
    return dispute


def agreed_credit_note(company_id: int, document_id: int) -> tuple[Dispute, DisputeProposal] | None:
    """Return the dispute and accepted proposal a credit note on this invoice would settle."""
    dispute = db.session.scalars(
        select(Dispute).where(
            Dispute.document_id == document_id,
            Dispute.status == AGREED,
            Dispute.supplier_company_id == company_id,
        )
    ).first()
    if dispute is None:
        return None
    proposal = pending_proposal(dispute)
    if proposal is None or proposal.status != ACCEPTED or proposal.resolution != CREDIT_NOTE:
        return None
    return dispute, proposal


def credit_note_linked(invoice_id: int, note: Document, *, actor: User) -> Dispute | None:
    """Resolve the invoice's agreed dispute when a credit note for it is issued or uploaded."""
    found = agreed_credit_note(note.sender_company_id, invoice_id)
    if found is None:
        return None
    dispute, _proposal = found
    if not _move(dispute, (AGREED,), RESOLVED):
        return None
    dispute.credit_note_id = note.id
    _system(dispute, note.sender_company_id, "credit_note", actor=actor, number=note.number)
    _resolve(dispute, note.sender_company_id, CREDIT_NOTE, actor=actor)
    return dispute


def _move(dispute: Dispute, sources: tuple[str, ...], target: str) -> bool:
    """Move the status only from one it may follow, as the database has it now."""
    moved = db.session.execute(
        update(Dispute)
        .where(Dispute.id == dispute.id, Dispute.status.in_(sources))
        .values(status=target, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        db.session.refresh(dispute)
        return False
    dispute.status = target
    _set_document_status(dispute)
    return True


def _touch(dispute: Dispute) -> None:
    dispute.updated_at = utcnow()
    _changed_after_commit(dispute)


def _set_document_status(dispute: Dispute) -> None:
    db.session.execute(
        update(Document)
        .where(Document.id == dispute.document_id)
        .values(dispute_status=dispute.status)
        .execution_options(synchronize_session="fetch")
    )


def _resolve(dispute: Dispute, company_id: int, resolution: str, *, actor: User) -> None:
    dispute.status = RESOLVED
    dispute.resolution = resolution
    dispute.resolved_at = utcnow()
    dispute.waiting_company_id = None
    _set_document_status(dispute)
    _system(dispute, company_id, "resolved", actor=actor, resolution=resolution)
    db.session.flush()
    events.publish(DisputeResolved(dispute=dispute, company_id=company_id, actor=actor))
    document = db.session.get(Document, dispute.document_id)
    audit.record_event(
        actor,
        company_id,
        "dispute.resolved",
        document,
        {"dispute_id": dispute.id, "resolution": resolution},
    )
    notifications.notify(
        dispute.other_company_id(company_id),
        kind=notifications.DISPUTE_RESOLVED,
        document=document,
    )
    _touch(dispute)


# ------------------------------------------------------------------------------- broadcasting


def message_payload(message: DisputeMessage) -> dict[str, Any]:
    """Return what a socket hears of a message: enough to show it and to ask for what it missed."""
    return {
        "dispute_id": message.dispute_id,
        "id": message.id,
        "company_id": message.company_id,
        "user_id": message.user_id,
        "author": message.author,
        "kind": message.kind,
        "body": message.body if message.kind == MESSAGE else system_text(message),
        "lines": list(message.lines or []),
        "attachment_id": message.attachment_id,
        "created_at": message.created_at.isoformat(),
    }


def _broadcast_after_commit(dispute: Dispute, message: DisputeMessage) -> None:
    def emit() -> None:
        realtime.notify_dispute(dispute.id, "message:new", message_payload(message))
        # Unread counts in the navigation and the list of every member of both companies.
        realtime.notify_throttled(
            f"dispute-activity:{dispute.id}",
            (
                realtime.company_room(dispute.supplier_company_id),
                realtime.company_room(dispute.buyer_company_id),
            ),
            "dispute:activity",
            {"dispute_id": dispute.id},
        )

    after_commit(db.session(), emit)


def _changed_after_commit(dispute: Dispute) -> None:
    payload = {
        "dispute_id": dispute.id,
        "document_id": dispute.document_id,
        "status": dispute.status,
    }

    def emit() -> None:
        for company_id in (dispute.supplier_company_id, dispute.buyer_company_id):
            realtime.notify_company(company_id, "dispute:changed", payload)

    after_commit(db.session(), emit)
