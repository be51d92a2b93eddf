"""Record who did what (and who saw what): the audit_events trail, a hash chain per company.

``record_event`` adds an event in the caller's transaction; just before that transaction
commits, its events are linked to the previous event of their company through
``audit_chain_heads``: the head row is advanced (an upsert that locks the row on PostgreSQL
until the commit, so two transactions of one company cannot fork the chain; SQLite serialises
writers anyway), in the same transaction, so a rollback undoes events and head together.
``verify_chains`` recomputes every chain (``flask --app wsgi audit verify``).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, bindparam, event, inspect, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from app import humanize, tenancy
from app.db import PortalSession
from app.extensions import db
from app.models import AuditEvent, Company, Document, Membership, User, utcnow
from app.models.audit import GENESIS_HASH, AuditChainHead, chain_key
from app.services.errors import DomainError
from app.tenancy import unscoped

# What counts as seeing a document: the events of the "who accessed this document" panel.
ACCESS_ACTIONS = (
    "document.viewed",
    "document.xml_downloaded",
    "document.pdf_downloaded",
    "document.zip_downloaded",
    "document.event_xml_downloaded",
    "attachment.downloaded",
)
PAGE_SIZE = 50
EXPORT_MAX_ROWS = 100_000


def record_event(
    actor: User | str | None,
    company: Company | int | None,
    action: str,
    target: Any = None,
    details: dict[str, Any] | None = None,
    *,
    token_id: int | None = None,
) -> AuditEvent:
    """Add an audit event in the current transaction; it is chained when that commits.

    The origin (IP, user agent) and the API token, unless token_id is given, come from the
    acting context. A rollback drops the event with the rest of the transaction.
    """
    acting = tenancy.current()
    if isinstance(actor, User):
        actor_user_id, actor_label = actor.id, actor.email
    else:
        actor_user_id, actor_label = acting.user_id, actor or "system"
    company_id = company.id if isinstance(company, Company) else company
    target_type = target_id = None
    if isinstance(target, tuple):
        target_type, target_id = target[0], str(target[1])
    elif target is not None:
        target_type, target_id = type(target).__tablename__, str(target.id)
    recorded = AuditEvent(
        company_id=company_id,
        actor_user_id=actor_user_id,
        actor_token_id=token_id if token_id is not None else acting.token_id,
        actor=actor_label[:254],
        action=action,
        target_type=target_type,
        target_id=target_id,
        # Stored exactly as hashed: what the JSON column gives back (lists, string keys).
        details=json.loads(json.dumps(details or {})),
        ip=acting.ip,
        user_agent=(acting.user_agent or "")[:300] or None,
        created_at=utcnow(),
    )
    db.session.add(recorded)
    db.session.info.setdefault(_UNCHAINED, []).append(recorded)
    return recorded


_UNCHAINED = "audit_unchained_events"


@event.listens_for(PortalSession, "before_commit")
def _chain_events(session: Session) -> None:
    """Link the transaction's new audit events into their chains, just before it commits.

    The chain head is taken here, not when the event is recorded, so a long transaction (a
    bulk upload) holds its company's head row for the commit only, not while it works.
    Events whose savepoint was rolled back are no longer in the session and are skipped.
    """
    if session.get_nested_transaction() is not None:
        return  # a savepoint: the outermost commit chains
    recorded = [e for e in session.info.pop(_UNCHAINED, []) if inspect(e).session is session]
    if not recorded:
        return
    # Every other change is written before the head row is locked: a commit holding the head
    # then needs no other lock, so it cannot deadlock with one waiting for the head.
    # The events not written yet stay pending: the commit's own flush inserts them with their
    # place in the chain, one INSERT instead of an INSERT and then an UPDATE each.
    ours = {id(e) for e in recorded}
    others = [o for o in (*session.new, *session.dirty, *session.deleted) if id(o) not in ours]
    if others:
        session.flush(others)
    connection = session.connection()
    by_chain: dict[int, list[AuditEvent]] = {}
    for e in recorded:
        by_chain.setdefault(chain_key(e.company_id), []).append(e)
    written: list[dict[str, Any]] = []  # events an earlier flush inserted: updated in one go
    for key in sorted(by_chain):  # always the same order: two commits never deadlock
        chained = by_chain[key]
        last_seq, prev_hash = _take_positions(
            connection, {"key": key, "company": chained[0].company_id, "count": len(chained)}
        )
        for seq, e in enumerate(chained, start=last_seq - len(chained) + 1):
            if inspect(e).pending:
                e.seq, e.prev_hash = seq, prev_hash
                e.hash = prev_hash = e.compute_hash()
                continue
            set_committed_value(e, "seq", seq)
            set_committed_value(e, "prev_hash", prev_hash)
            set_committed_value(e, "hash", e.compute_hash())
            prev_hash = e.hash
            written.append(
                {"event_id": e.id, "e_seq": seq, "e_prev": e.prev_hash, "e_hash": e.hash}
            )
        connection.execute(_HEAD_UPDATE, {"key": key, "hash": prev_hash})
    if written:
        connection.execute(_EVENT_UPDATE, written)


@event.listens_for(PortalSession, "after_soft_rollback")
def _forget_unchained(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:  # the outermost transaction was rolled back
        session.info.pop(_UNCHAINED, None)


_HEADS = AuditChainHead.__table__
_EVENTS = AuditEvent.__table__
_EVENT_UPDATE = (
    update(_EVENTS)
    .where(_EVENTS.c.id == bindparam("event_id"))
    .values(seq=bindparam("e_seq"), prev_hash=bindparam("e_prev"), hash=bindparam("e_hash"))
)
_HEAD_UPDATE = (
    update(_HEADS).where(_HEADS.c.chain_key == bindparam("key")).values(last_hash=bindparam("hash"))
)


_HEAD_ADVANCE = (
    update(_HEADS)
    .where(_HEADS.c.chain_key == bindparam("key"))
    .values(last_seq=_HEADS.c.last_seq + bindparam("count"))
    .returning(_HEADS.c.last_seq, _HEADS.c.last_hash)
)


def _take_positions(connection: Any, params: dict[str, Any]) -> tuple[int, str]:
    """Advance a chain's head by count (locking it until commit); return its seq and hash.

    An existing chain is one UPDATE. A new one is created by the upsert: two first commits of
    one company race to create its head, and PostgreSQL reports the loser's clash on the
    company_id constraint (not the upsert's chain_key) as an error, so the loser tries again
    once, in a savepoint, and then advances the winner's row.
    """
    row = connection.execute(_HEAD_ADVANCE, params).first()
    if row is not None:
        return row[0], row[1]
    for attempt in range(2):
        try:
            with connection.begin_nested():
                row = connection.execute(_head_upsert(connection.dialect.name), params).one()
                return row[0], row[1]
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


@functools.cache
def _head_upsert(dialect: str) -> Any:
    """Return the statement that takes the next positions of a chain (built once per dialect).

    One upsert: a new chain starts after the genesis hash; an existing head is advanced by
    count (which locks its row until commit) and still returns the previous hash.
    Core, not ORM, with bound parameters: it is compiled once and runs on every page view.
    """
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(_HEADS).values(
        chain_key=bindparam("key"),
        company_id=bindparam("company"),
        last_seq=bindparam("count"),
        last_hash=GENESIS_HASH,
    )
    return stmt.on_conflict_do_update(
        index_elements=[_HEADS.c.chain_key],
        set_={"last_seq": _HEADS.c.last_seq + stmt.excluded.last_seq},
    ).returning(_HEADS.c.last_seq, _HEADS.c.last_hash)


def access_events_enabled() -> bool:
    """Tell whether views and downloads are recorded (AUDIT_ACCESS_EVENTS, on by default)."""
    return bool(current_app.config.get("AUDIT_ACCESS_EVENTS", True))


def record_access(
    actor: User | str | None,
    company: Company | int | None,
    action: str,
    target: Any,
    details: dict[str, Any] | None = None,
) -> AuditEvent | None:
    """Record that someone saw or downloaded something (unless AUDIT_ACCESS_EVENTS is off)."""
    if not access_events_enabled():
        return None
    return record_event(actor, company, action, target, details)


# ------------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class EventFilters:
    """What the audit page narrows the list to; None means any."""

    user_id: int | None = None
    document: str | None = None  # a document id or number
    action: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None


def events(
    company_id: int, *, filters: EventFilters | None = None, zone: str = "UTC"
) -> Select[tuple[AuditEvent]]:
    """Return the company's audit events matching filters, newest first; the period's days are
    read in time zone ``zone`` (the reader's, as the list shows the times)."""
    f = filters or EventFilters()
    stmt = select(AuditEvent).where(AuditEvent.company_id == company_id)
    if f.user_id is not None:
        stmt = stmt.where(AuditEvent.actor_user_id == f.user_id)
    if f.action:
        stmt = stmt.where(AuditEvent.action == f.action)
    if f.date_from is not None:
        stmt = stmt.where(AuditEvent.created_at >= humanize.day_start(f.date_from, zone))
    if f.date_to is not None:
        end = humanize.day_start(f.date_to + dt.timedelta(days=1), zone)
        stmt = stmt.where(AuditEvent.created_at < end)
    if f.document:
        stmt = stmt.where(
            AuditEvent.target_type == Document.__tablename__,
            AuditEvent.target_id.in_(_document_ids(company_id, f.document)),
        )
    return stmt.order_by(AuditEvent.seq.desc())


def _document_ids(company_id: int, text: str) -> list[str]:
    """Return the ids (as audit target ids) of the company's documents with this id or number."""
    text = text.strip()
    condition = Document.number == text
    if text.isdigit():
        condition = or_(condition, Document.id == int(text))
    ids = db.session.scalars(select(Document.id).where(condition).limit(100))
    return [str(i) for i in ids]


@dataclass
class EventPage:
    """One page of audit events and the cursor of the next one (None: the last page)."""

    events: list[AuditEvent]
    next_cursor: str | None


def page(stmt: Select[tuple[AuditEvent]], *, cursor: str = "", limit: int = PAGE_SIZE) -> EventPage:
    """Run one page of events (newest first) after cursor, a chain position."""
    if cursor:
        if not cursor.isdigit():
            raise DomainError(_l("This page link is not valid."), field="cursor")
        stmt = stmt.where(AuditEvent.seq < int(cursor))
    rows = list(db.session.scalars(stmt.limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return EventPage(rows, str(rows[-1].seq) if more and rows else None)


def actors(company_id: int) -> list[tuple[int, str]]:
    """Return the company's members (id, e-mail), past ones included, for the user filter."""
    stmt = (
        select(User.id, User.email)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.company_id == company_id)
        .order_by(User.email)
    )
    return [(user_id, email) for user_id, email in db.session.execute(stmt)]


def action_names(company_id: int) -> list[str]:
    """Return the actions found in the company's audit trail, for the action filter."""
    stmt = select(AuditEvent.action).where(AuditEvent.company_id == company_id).distinct()
    return sorted(db.session.scalars(stmt))


EXPORT_COLUMNS = (
    _l("When"),
    _l("User"),
    _l("API token"),
    _l("What happened"),
    _l("Target"),
    _l("Details"),
    _l("IP address"),
    _l("User agent"),
    _l("Chain position"),
)


def export_rows(
    stmt: Select[tuple[AuditEvent]],
    *,
    limit: int = EXPORT_MAX_ROWS,
    locale: Any = None,
    timezone: str = humanize.DEFAULT_TIMEZONE,
) -> list[list[Any]]:
    """Return the rows of a filtered audit list for export, or refuse above limit.

    Each event as a sentence in the reader's language, its time in the reader's zone (a
    typed date-time cell), its document by number."""
    found = list(db.session.scalars(stmt.limit(limit + 1)))
    if len(found) > limit:
        raise DomainError(
            _l(
                "The list has more than %(limit)s events: narrow the filters (a period, for "
                "example) and export again.",
                limit=f"{limit:,}",
            )
        )
    names = event_names(found)
    return [
        [
            humanize.local(e.created_at, timezone).replace(tzinfo=None),
            e.actor,
            "" if e.actor_token_id is None else str(e.actor_token_id),
            names.sentence(e, locale=locale),
            names.target(e, locale=locale)
            or (f"{e.target_type}:{e.target_id}" if e.target_type else ""),
            json.dumps(e.details, sort_keys=True, ensure_ascii=False) if e.details else "",
            e.ip or "",
            e.user_agent or "",
            str(e.seq),
        ]
        for e in found
    ]


@dataclass
class EventNames:
    """What a person reads in place of the ids an audit event keeps: people by name,
    documents by type and number."""

    people: dict[int, str] = field(default_factory=dict)
    documents: dict[str, tuple[str, str]] = field(default_factory=dict)

    def actor(self, event: AuditEvent) -> str:
        """The person who acted, by name (else the label recorded with the event)."""
        if event.actor_user_id is not None and event.actor_user_id in self.people:
            return self.people[event.actor_user_id]
        return event.actor

    def target(self, event: AuditEvent, *, locale: Any = None) -> str:
        """What the action was done to, named: 'invoice FV-1001' (or '' when unnamed)."""
        if event.target_type == Document.__tablename__ and event.target_id in self.documents:
            number, kind = self.documents[event.target_id]
            return humanize.document_name(number, kind, locale=locale)
        return ""

    def sentence(self, event: AuditEvent, *, locale: Any = None) -> str:
        """The event as a sentence: 'María Pérez viewed invoice FV-1001'."""
        return humanize.audit_sentence(
            event.action,
            self.actor(event),
            self.target(event, locale=locale) or None,
            locale=locale,
        )


def event_names(events: list[AuditEvent]) -> EventNames:
    """Read the names of the people and documents a list of events refers to, in two queries.

    Documents are read through the acting company's access rule: one it cannot see (any
    more) keeps no name, and its events say "a document".
    """
    user_ids = {e.actor_user_id for e in events if e.actor_user_id is not None}
    document_ids = {
        int(e.target_id)
        for e in events
        if e.target_type == Document.__tablename__ and (e.target_id or "").isdigit()
    }
    names = EventNames()
    if user_ids:
        rows = db.session.execute(select(User.id, User.name).where(User.id.in_(user_ids)))
        names.people = {user_id: name for user_id, name in rows if name}
    if document_ids:
        rows = db.session.execute(
            select(Document.id, Document.number, Document.document_type).where(
                Document.id.in_(document_ids)
            )
        )
        names.documents = {str(doc_id): (number, kind) for doc_id, number, kind in rows}
    return names


def export_header(timezone: str = humanize.DEFAULT_TIMEZONE) -> list[str]:
    """Return the export's column titles in the current language (the time's zone named)."""
    labels = [str(label) for label in EXPORT_COLUMNS]
    labels[0] = f"{labels[0]} ({timezone})"
    return labels


def document_access(document: Document) -> Select[tuple[AuditEvent]]:
    """Return who saw or downloaded a shared document, in both companies that share it.

    A deliberate cross-company read (``unscoped``): the sender and the receiver each see the
    other's access to the documents they share, and nothing else of the other's trail. The
    caller must have loaded ``document`` through the acting company's access rule (a document
    it may not see is a 404 before this is called). Only access events whose target is this
    document and whose company is its sender or receiver are returned, newest first.
    """
    companies = [c for c in (document.sender_company_id, document.receiver_company_id) if c]
    return unscoped(
        select(AuditEvent)
        .where(
            AuditEvent.target_type == Document.__tablename__,
            AuditEvent.target_id == str(document.id),
            AuditEvent.company_id.in_(companies),
            AuditEvent.action.in_(ACCESS_ACTIONS),
        )
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    )


def company_names(document: Document) -> dict[int, str]:
    """Return the names of the two companies that share a document, by company id."""
    names = {document.sender_company_id: document.supplier_name}
    if document.receiver_company_id:
        names[document.receiver_company_id] = document.customer_name
    return names


# ------------------------------------------------------------------------------ verifying


@dataclass
class ChainReport:
    """The outcome of checking one chain: its records and the first broken link, if any."""

    company_id: int | None
    records: int = 0
    problem: str | None = None
    seq: int | None = None
    event_id: int | None = None

    @property
    def intact(self) -> bool:
        return self.problem is None


@dataclass
class VerifyReport:
    """Every chain checked by ``verify_chains``."""

    chains: list[ChainReport] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return all(c.intact for c in self.chains)

    @property
    def records(self) -> int:
        return sum(c.records for c in self.chains)


def verify_chains(*, batch: int = 5000) -> VerifyReport:
    """Recompute every company's chain (and the system chain) and name its first broken link.

    Reads every company's trail (``unscoped``: this is the system checking itself). A link is
    broken when a record's content no longer matches its hash (altered content), its
    prev_hash is not the previous record's hash (broken link), its position skips one (missing
    record), or the chain head disagrees with the last record (records removed at the end).
    """
    heads = {h.chain_key: h for h in db.session.scalars(unscoped(select(AuditChainHead)))}
    report = VerifyReport()
    current: ChainReport | None = None
    expected_seq, expected_prev = 1, GENESIS_HASH
    for e in _all_events(batch):
        key = chain_key(e.company_id)
        if current is None or chain_key(current.company_id) != key:
            if current is not None:
                _check_head(
                    current,
                    heads.pop(chain_key(current.company_id), None),
                    expected_seq - 1,
                    expected_prev,
                )
            current = ChainReport(e.company_id)
            report.chains.append(current)
            expected_seq, expected_prev = 1, GENESIS_HASH
        current.records += 1
        if current.problem is None:
            problem = _link_problem(e, expected_seq, expected_prev)
            if problem:
                current.problem, current.seq, current.event_id = problem, e.seq, e.id
        expected_seq, expected_prev = e.seq + 1, e.hash
    if current is not None:
        _check_head(
            current, heads.pop(chain_key(current.company_id), None), expected_seq - 1, expected_prev
        )
    reports = {chain_key(c.company_id): c for c in report.chains}
    unchained = unscoped(select(AuditEvent).where(AuditEvent.seq.is_(None)).order_by(AuditEvent.id))
    for e in db.session.scalars(unchained):  # committed outside record_event's chaining
        chain = reports.get(chain_key(e.company_id))
        if chain is None:
            chain = reports[chain_key(e.company_id)] = ChainReport(e.company_id)
            report.chains.append(chain)
        chain.records += 1
        if chain.intact:
            chain.problem, chain.event_id = "record outside the chain", e.id
    for key, head in heads.items():  # a head whose every record is gone
        if head.last_seq:
            orphan = ChainReport(None if key == 0 else key)
            _check_head(orphan, head, 0, GENESIS_HASH)
            report.chains.append(orphan)
    return report


def _all_events(batch: int) -> Iterator[AuditEvent]:
    """Yield every event in chain order, a batch at a time (keyset on chain key, seq)."""
    last: tuple[int, int] | None = None
    key_column = AuditEvent.company_id
    while True:
        stmt = unscoped(select(AuditEvent).where(AuditEvent.seq.is_not(None))).order_by(
            key_column.is_not(None), key_column, AuditEvent.seq
        )
        if last is not None:
            key, seq = last
            if key == 0:
                stmt = stmt.where(
                    or_(key_column.is_not(None), (key_column.is_(None) & (AuditEvent.seq > seq)))
                )
            else:
                stmt = stmt.where(
                    or_(key_column > key, (key_column == key) & (AuditEvent.seq > seq))
                )
        rows = list(db.session.scalars(stmt.limit(batch)))
        yield from rows
        for row in rows:  # keep memory flat over millions of records
            db.session.expunge(row)
        if len(rows) < batch:
            return
        last = (chain_key(rows[-1].company_id), rows[-1].seq)


def _link_problem(event: AuditEvent, expected_seq: int, expected_prev: str) -> str | None:
    if event.seq != expected_seq:
        return "missing record" if event.seq > expected_seq else "duplicate position"
    if event.prev_hash != expected_prev:
        return "broken link"
    if event.compute_hash() != event.hash:
        return "altered content"
    return None


def _check_head(
    chain: ChainReport, head: AuditChainHead | None, last_seq: int, last_hash: str
) -> None:
    """Check the chain's head row against its last record (removals at the end show here)."""
    if chain.problem is not None:
        return
    if head is None:
        chain.problem, chain.seq = "chain head missing", last_seq
    elif head.last_seq > last_seq:
        chain.problem, chain.seq = "missing record at the end", last_seq + 1
    elif head.last_seq != last_seq or head.last_hash != last_hash:
        chain.problem, chain.seq = "chain head disagrees with the last record", head.last_seq
