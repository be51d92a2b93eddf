"""Notifications: the bell (in-app rows, live) and e-mail, per user preference per kind.

``notify`` is the one entry point the other services call, once per happening. It writes the
bell's rows in the caller's transaction, queues the e-mails (sent after commit, in each user's
language, with a link to the document) and tells each user's open pages, after commit, through
``app.realtime``. Only active members whose role deals with that side of the document hear of it:
``documents.receive`` for the buyer's side, ``documents.issue`` for the supplier's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask_babel import LazyString, get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, bindparam, func, select, update
from sqlalchemy.exc import IntegrityError

from app import humanize, realtime
from app.db import after_commit, begin_nested, lookup_once
from app.extensions import db
from app.mail import send_mail
from app.models import (
    Document,
    Membership,
    Notification,
    NotificationMark,
    NotificationPreference,
    User,
    utcnow,
)
from app.models.document import INVOICE, PAID
from app.permissions import role_can
from app.services.errors import NotFound
from app.tenancy import acting_as, unscoped

RECEIVED = "received"
CLAIMED = "claimed"
ACCEPTED = "accepted"
TACITLY_ACCEPTED = "tacitly_accepted"
WAITING = "waiting"
DUE_SOON = "due_soon"
OVERDUE = "overdue"
DISPUTE_OPENED = "dispute_opened"
DISPUTE_PROPOSAL = "dispute_proposal"
DISPUTE_RESOLVED = "dispute_resolved"
PAYMENT_RECEIVED = "payment_received"
PAYMENT_FAILED = "payment_failed"
PAYMENT_REFUNDED = "payment_refunded"
TRANSFER_RECORDED = "transfer_recorded"

DUE_SOON_DAYS = 3
BELL_SIZE = 10


@dataclass(frozen=True)
class Kind:
    """One kind of notification: its name in the preferences, its title, who hears of it."""

    code: str
    label: LazyString
    title: LazyString  # formatted with the notification's params
    permission: str  # for a notification without a document, or about the company's own side


KINDS: dict[str, Kind] = {
    k.code: k
    for k in (
        Kind(
            RECEIVED,
            _l("Document received"),
            _l("%(supplier)s sent you %(number)s"),
            "documents.receive",
        ),
        Kind(
            CLAIMED,
            _l("Invoice claimed"),
            _l("%(customer)s claimed invoice %(number)s"),
            "documents.issue",
        ),
        Kind(
            ACCEPTED,
            _l("Invoice accepted"),
            _l("%(customer)s accepted invoice %(number)s"),
            "documents.issue",
        ),
        Kind(
            TACITLY_ACCEPTED,
            _l("Invoice tacitly accepted"),
            _l("Invoice %(number)s was tacitly accepted"),
            "documents.issue",
        ),
        Kind(
            WAITING,
            _l("Waiting for the customer to register"),
            _l("%(number)s waits for %(customer)s to register"),
            "documents.issue",
        ),
        Kind(
            DUE_SOON,
            _l("Invoice due soon"),
            _l("Invoice %(number)s from %(supplier)s is due soon"),
            "documents.receive",
        ),
        Kind(
            OVERDUE,
            _l("Invoice overdue"),
            _l("Invoice %(number)s from %(supplier)s is overdue"),
            "documents.receive",
        ),
        Kind(
            DISPUTE_OPENED,
            _l("Dispute opened"),
            _l("%(company)s opened a dispute on %(number)s"),
            "disputes.participate",
        ),
        Kind(
            DISPUTE_PROPOSAL,
            _l("Resolution proposed"),
            _l("%(company)s proposed a resolution on %(number)s"),
            "disputes.participate",
        ),
        Kind(
            DISPUTE_RESOLVED,
            _l("Dispute resolved"),
            _l("The dispute on %(number)s was resolved"),
            "disputes.participate",
        ),
        Kind(
            PAYMENT_RECEIVED,
            _l("Payment received"),
            _l("%(payer)s paid you %(amount)s"),
            "documents.issue",
        ),
        Kind(
            PAYMENT_FAILED,
            _l("Payment failed"),
            _l("Your payment of %(amount)s did not go through"),
            "documents.receive",
        ),
        Kind(
            PAYMENT_REFUNDED,
            _l("Payment refunded"),
            _l("%(amount)s of your payment was refunded"),
            "documents.receive",
        ),
        Kind(
            TRANSFER_RECORDED,
            _l("Transfer to confirm"),
            _l("%(payer)s says it transferred %(amount)s: confirm it"),
            "documents.issue",
        ),
    )
}


def _permission_for(company_id: int, kind: Kind, document: Document | None) -> str:
    """The buyer's side reads with documents.receive, the supplier's with documents.issue."""
    if document is None:
        return kind.permission
    if company_id == document.receiver_company_id:
        return "documents.receive"
    return "documents.issue"


def _document_params(document: Document) -> dict[str, Any]:
    return {
        "number": document.number,
        "supplier": document.supplier_name,
        "customer": document.customer_name,
    }


def title(notification: Notification) -> str:
    """Word a notification's title in the reader's language."""
    kind = KINDS.get(notification.kind)
    if kind is None:
        return notification.kind
    params = {
        "number": "",
        "supplier": "",
        "customer": "",
        "company": "",
        "payer": "",
        "amount": "",
    } | dict(notification.params or {})
    if params.get("amount_value") and params.get("currency"):
        # Money is worded for the reader, whatever language the row was written in.
        params["amount"] = humanize.money(
            params["amount_value"], params["currency"], locale=get_locale()
        )
    return str(kind.title) % params


# --------------------------------------------------------------------------------- notifying


# Built once: it runs for every delivered document.
_ACTIVE_MEMBERS = unscoped(
    select(Membership)
    .join(User, User.id == Membership.user_id)
    .where(
        Membership.company_id == bindparam("company_id"),
        Membership.active.is_(True),
        User.active.is_(True),
    )
    .order_by(Membership.id)
)


def notify(
    company_id: int,
    *,
    kind: str,
    document: Document | None = None,
    exclude_user_id: int | None = None,
    **params: Any,
) -> list[Notification]:
    """Tell the company's members who deal with it: bell rows now, e-mails and pushes on commit."""
    spec = KINDS[kind]
    permission = _permission_for(company_id, spec, document)
    params = (_document_params(document) if document is not None else {}) | params
    members = lookup_once(
        db.session(),
        ("notify_members", company_id),
        lambda: db.session.scalars(_ACTIVE_MEMBERS, {"company_id": company_id}).unique().all(),
    )
    recipients = [
        m for m in members if role_can(m.role, permission) and m.user_id != exclude_user_id
    ]
    if not recipients:
        return []
    user_ids = [m.user_id for m in recipients]
    prefs = lookup_once(
        db.session(),
        ("notify_preferences", company_id, kind, tuple(user_ids)),
        lambda: _preferences(company_id, user_ids, kind),
    )
    created: list[Notification] = []
    for member in recipients:
        in_app, email = prefs.get(member.user_id, (True, True))
        if in_app:
            row = Notification(
                company_id=company_id,
                user_id=member.user_id,
                kind=kind,
                document_id=document.id if document is not None else None,
                params=params,
            )
            db.session.add(row)
            created.append(row)
        if email:
            user = member.user
            send_mail(
                user.email,
                f"notification_{kind}",
                locale=user.locale or member.company.locale,
                user=user,
                company=member.company,
                document=document,
                params=params,
            )
    if created:
        db.session.flush()
        for row in created:
            _push_after_commit(row.user_id, {"id": row.id, "kind": kind})
    return created


def _preferences(company_id: int, user_ids: list[int], kind: str) -> dict[int, tuple[bool, bool]]:
    rows = db.session.scalars(
        unscoped(
            select(NotificationPreference).where(
                NotificationPreference.company_id == company_id,
                NotificationPreference.kind == kind,
                NotificationPreference.user_id.in_(user_ids),
            )
        )
    )
    return {row.user_id: (row.in_app, row.email) for row in rows}


def _push_after_commit(user_id: int, payload: dict[str, Any]) -> None:
    def emit() -> None:
        realtime.notify_user(user_id, "notification:new", payload)

    after_commit(db.session(), emit)


# ------------------------------------------------------------------------ reminders (a job)


@dataclass
class ReminderReport:
    due_soon: list[int]
    overdue: list[int]


def notify_due_and_overdue(today: dt.date | None = None) -> ReminderReport:
    """Remind buyers of unpaid invoices due within DUE_SOON_DAYS, and of overdue ones.

    Once per document per kind, whatever how often it runs (or twice at once): a unique mark
    per (company, document, kind) is written in the same savepoint as the notifications.
    """
    today = today or utcnow().date()
    report = ReminderReport(due_soon=[], overdue=[])
    soon = today + dt.timedelta(days=DUE_SOON_DAYS)
    candidates = (
        select(Document)
        .where(
            Document.document_type == INVOICE,
            Document.receiver_company_id.is_not(None),
            Document.payment_status != PAID,
            Document.open_balance > 0,
            Document.due_date.is_not(None),
            Document.due_date <= soon,
        )
        .order_by(Document.id)
    )
    for document in db.session.scalars(unscoped(candidates)).all():
        assert document.due_date is not None and document.receiver_company_id is not None
        kind = OVERDUE if document.due_date < today else DUE_SOON
        if _already_marked(document.receiver_company_id, document.id, kind):
            continue
        savepoint = begin_nested(db.session())
        try:
            db.session.add(
                NotificationMark(
                    company_id=document.receiver_company_id, document_id=document.id, kind=kind
                )
            )
            db.session.flush()
        except IntegrityError:
            savepoint.rollback()
            continue
        with acting_as(document.receiver_company_id):
            notify(
                document.receiver_company_id,
                kind=kind,
                document=document,
                due_date=document.due_date.isoformat(),
            )
        savepoint.commit()
        (report.overdue if kind == OVERDUE else report.due_soon).append(document.id)
    return report


def _already_marked(company_id: int, document_id: int, kind: str) -> bool:
    return (
        db.session.scalars(
            unscoped(
                select(NotificationMark.id).where(
                    NotificationMark.company_id == company_id,
                    NotificationMark.document_id == document_id,
                    NotificationMark.kind == kind,
                )
            )
        ).first()
        is not None
    )


# ----------------------------------------------------------------------------- the bell, read


def _mine(company_id: int, user_id: int) -> Any:
    return and_(Notification.company_id == company_id, Notification.user_id == user_id)


def unread_count(company_id: int, user_id: int) -> int:
    """Return how many of the user's notifications in this company are unread."""
    return (
        db.session.scalar(
            select(func.count(Notification.id)).where(
                _mine(company_id, user_id), Notification.read_at.is_(None)
            )
        )
        or 0
    )


def latest(company_id: int, user_id: int, *, limit: int = BELL_SIZE) -> list[Notification]:
    """Return the user's newest notifications in this company."""
    return list(
        db.session.scalars(
            select(Notification)
            .where(_mine(company_id, user_id))
            .order_by(Notification.id.desc())
            .limit(limit)
        )
    )


def get(company_id: int, user_id: int, notification_id: int) -> Notification:
    """Return one of the user's notifications, or NotFound (another user's is not found)."""
    row = db.session.scalars(
        select(Notification).where(_mine(company_id, user_id), Notification.id == notification_id)
    ).first()
    if row is None:
        raise NotFound(_l("That notification does not exist."))
    return row


def mark_read(company_id: int, user_id: int, notification_id: int) -> Notification:
    """Mark one notification read (reading it twice changes nothing)."""
    row = get(company_id, user_id, notification_id)
    if row.read_at is None:
        row.read_at = utcnow()
    return row


def mark_all_read(company_id: int, user_id: int) -> int:
    """Mark every unread notification of the user in this company read; return how many."""
    result = db.session.execute(
        update(Notification)
        .where(_mine(company_id, user_id), Notification.read_at.is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


# ------------------------------------------------------------------------------ preferences


def preferences(company_id: int, user_id: int) -> dict[str, tuple[bool, bool]]:
    """Return (in_app, email) per kind for the user, defaults (both on) filled in."""
    stored = {
        row.kind: (row.in_app, row.email)
        for row in db.session.scalars(
            select(NotificationPreference).where(
                NotificationPreference.company_id == company_id,
                NotificationPreference.user_id == user_id,
            )
        )
    }
    return {code: stored.get(code, (True, True)) for code in KINDS}


def set_preferences(company_id: int, user_id: int, chosen: dict[str, tuple[bool, bool]]) -> None:
    """Store the user's (in_app, email) choice per kind; unknown kinds are ignored."""
    rows = {
        row.kind: row
        for row in db.session.scalars(
            select(NotificationPreference).where(
                NotificationPreference.company_id == company_id,
                NotificationPreference.user_id == user_id,
            )
        )
    }
    for code in KINDS:
        in_app, email = chosen.get(code, (False, False))
        row = rows.get(code)
        if row is None:
            row = NotificationPreference(company_id=company_id, user_id=user_id, kind=code)
            db.session.add(row)
        row.in_app, row.email = in_app, email
    db.session.flush()


def email_admins(company_id: int, template: str, **context: Any) -> None:
    """E-mail a company's active owners and admins, each in their language."""
    from app.permissions import ADMIN, OWNER

    admins = db.session.scalars(
        unscoped(
            select(Membership).where(
                Membership.company_id == company_id,
                Membership.role.in_((OWNER, ADMIN)),
                Membership.active.is_(True),
            )
        )
    ).unique()
    for membership in admins:
        send_mail(
            membership.user.email,
            template,
            locale=membership.user.locale,
            user=membership.user,
            company=membership.company,
            **context,
        )
