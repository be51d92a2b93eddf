"""The DIAN lifecycle of an invoice, declared in one place (``TRANSITIONS``).

    received ─030─▶ acknowledged ─032─▶ goods_received ─033─▶ accepted
                                                    ├─031─▶ claimed (reason 01–04 + explanation)
                                                    └─034─▶ tacitly_accepted

The buyer (the document's receiver) records 030–033. The portal records 034 for the supplier
when three Colombian business days pass after 032 with no claim nor acceptance
(``record_tacit_acceptances``, a job safe to run twice or at once). Each event is a DIAN
ApplicationResponse written by the engine, signed with the acting company's certificate and
stored on its ``DocumentEvent``. Events are irreversible: a (document, code) pair is unique, and
a status moves only from the one it was read in (a conditional UPDATE), so two clicks, two
workers or a claim racing the job can never both win.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import holidays
from flask import current_app
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app import realtime
from app.db import after_commit, begin_nested, forget_callbacks_after, pending_callbacks
from app.einvoice import events as dian_events
from app.einvoice import model as ubl
from app.einvoice.detect import detect_bytes
from app.einvoice.reader import read_document
from app.einvoice.signature import COLOMBIA, SignatureError, sign_document, verify_document
from app.einvoice.writer import Software, WriterError
from app.extensions import db
from app.models import Document, DocumentEvent, User, utcnow
from app.models.document import (
    ACCEPTED,
    ACKNOWLEDGED,
    CLAIMED,
    GOODS_RECEIVED,
    INVOICE,
    RECEIVED,
    TACITLY_ACCEPTED,
)
from app.services import accounts, audit, certificates, events, notifications, webhooks
from app.services.documents import queries
from app.services.errors import Conflict, DomainError, FieldErrors, Forbidden
from app.services.events import ClaimRecorded
from app.tenancy import acting_as, unscoped

RECEIVER, SUPPLIER = "receiver", "supplier"
TACIT_BUSINESS_DAYS = 3


@dataclass(frozen=True)
class Transition:
    """One DIAN event: the statuses it may follow, the status it leads to, and who records it."""

    code: str
    sources: tuple[str, ...]
    target: str
    by: str
    name: Any


TRANSITIONS: dict[str, Transition] = {
    t.code: t
    for t in (
        Transition(
            "030", (RECEIVED,), ACKNOWLEDGED, RECEIVER, _l("acknowledgement of receipt (030)")
        ),
        Transition(
            "032",
            (ACKNOWLEDGED,),
            GOODS_RECEIVED,
            RECEIVER,
            _l("receipt of the goods or service (032)"),
        ),
        Transition("033", (GOODS_RECEIVED,), ACCEPTED, RECEIVER, _l("express acceptance (033)")),
        Transition("031", (GOODS_RECEIVED,), CLAIMED, RECEIVER, _l("claim (031)")),
        Transition(
            "034", (GOODS_RECEIVED,), TACITLY_ACCEPTED, SUPPLIER, _l("tacit acceptance (034)")
        ),
    )
}

STATUS_NAMES = {
    RECEIVED: _l("received"),
    ACKNOWLEDGED: _l("acknowledged"),
    GOODS_RECEIVED: _l("goods or service received"),
    ACCEPTED: _l("accepted"),
    CLAIMED: _l("claimed"),
    TACITLY_ACCEPTED: _l("tacitly accepted"),
}

#: DIAN's 'Concepto de Reclamo' (the engine writes the Spanish names into the XML).
CLAIM_REASONS = {
    "01": _l("Inconsistent document"),
    "02": _l("Goods not fully delivered"),
    "03": _l("Goods partially delivered"),
    "04": _l("Service not rendered"),
}
assert set(CLAIM_REASONS) == set(dian_events.CLAIM_REASONS)  # one list, two languages


def next_events(status: str, *, by: str = RECEIVER) -> list[str]:
    """Return the event codes that may follow status, recorded by the buyer (or the supplier)."""
    return [t.code for t in TRANSITIONS.values() if status in t.sources and t.by == by]


# ------------------------------------------------------------------------------- the buyer


def check_event(
    company_id: int,
    *,
    document_id: int,
    code: str,
    claim_reason: str | None = None,
    note: str = "",
) -> Document:
    """Check that the acting buyer may record event code on a document now; return the document.

    Records nothing: the edge asks for confirmation of an irreversible event only once it would
    be recorded (record_event checks the same again, in its transaction).
    """
    transition = TRANSITIONS.get(code)
    if transition is None:
        raise DomainError(_l("There is no event %(code)s.", code=str(code)[:10]), field="code")
    document = queries.get_document(company_id, document_id)
    if transition.by != RECEIVER:
        raise Forbidden(
            _l(
                "Tacit acceptance (034) is recorded by the portal itself, three business days "
                "after the receipt of the goods when there was no claim."
            )
        )
    if document.receiver_company_id != company_id:
        raise Forbidden(
            _l("Only the customer records the %(event)s of this invoice.", event=transition.name)
        )
    if document.document_type != INVOICE:
        raise DomainError(_l("Events are recorded on invoices, not on credit or debit notes."))
    _check_transition(document, transition)
    if code == "031":
        if claim_reason not in CLAIM_REASONS:
            raise DomainError(_l("Choose the reason of the claim."), field="claim_reason")
        if not (note or "").strip():
            raise DomainError(_l("Explain the claim: the supplier reads it."), field="note")
    return document


def record_event(
    company_id: int,
    *,
    document_id: int,
    code: str,
    actor: User,
    claim_reason: str | None = None,
    note: str = "",
    person: dian_events.Person | None = None,
    now: dt.datetime | None = None,
) -> DocumentEvent:
    """Record a buyer's event (030, 032, 033 or 031) on a received invoice, signed."""
    document = check_event(
        company_id, document_id=document_id, code=code, claim_reason=claim_reason, note=note
    )
    transition = TRANSITIONS[code]
    note = (note or "").strip()
    if code != "031":
        claim_reason = None
    if person is None and code in dian_events.EVENTS_WITH_PERSON:
        person = _person_of(actor)
    event = _record(
        document,
        transition,
        actor_company_id=company_id,
        actor_user_id=actor.id,
        claim_reason=claim_reason,
        note=note[:2000],
        person=person,
        now=now or utcnow(),
    )
    audit.record_event(
        actor,
        company_id,
        f"document.event_{code}",
        document,
        {"code": code, "status": document.status, "claim_reason": claim_reason},
    )
    if code in _SUPPLIER_NOTICES:
        notifications.notify(
            document.sender_company_id, kind=_SUPPLIER_NOTICES[code], document=document
        )
    if code == "031":  # a claim opens a dispute (reactions), so both sides can settle it
        claim = ClaimRecorded(document, claim_reason=claim_reason or "", note=note, actor=actor)
        events.publish(claim)
    return event


#: Events a buyer may reach through the ones before them in one go ("accept" on an invoice only
#: acknowledged records 032 and then 033). A claim never: it says the goods were not received.
CHAINED = frozenset({"032", "033"})


def steps_to(status: str, code: str) -> list[str] | None:
    """Return the buyer's events that lead from status through code, in order (code last).

    Only codes in CHAINED are reached through missing steps; None when code cannot follow.
    """
    if code not in TRANSITIONS or TRANSITIONS[code].by != RECEIVER:
        return None
    if code not in CHAINED:
        return [code] if status in TRANSITIONS[code].sources else None
    paths: dict[str, list[str]] = {status: []}
    frontier = [status]
    while frontier:  # breadth first over the buyer's transitions
        current = frontier.pop(0)
        for t in TRANSITIONS.values():
            if t.by != RECEIVER or current not in t.sources:
                continue
            if t.code == code:
                return [*paths[current], code]
            if t.code in CHAINED | {"030"} and t.target not in paths:
                paths[t.target] = [*paths[current], t.code]
                frontier.append(t.target)
    return None


def plan_event(company_id: int, *, document_id: int, code: str) -> list[str]:
    """Return the events recording code on a document takes now (missing steps first).

    Raises the DomainError that recording code alone would when no chain leads there.
    """
    document = queries.get_document(company_id, document_id)
    steps = steps_to(document.status, code) or [code]  # [code] alone raises the reason below
    check_event(company_id, document_id=document.id, code=steps[0])
    return steps


def record_chain(
    company_id: int,
    *,
    document_id: int,
    steps: list[str],
    actor: User,
    person: dian_events.Person | None = None,
) -> list[DocumentEvent]:
    """Record the events steps names on a document, in order, all or nothing.

    steps comes from plan_event ("accept" on an invoice only received: 030, 032, 033); each
    event is checked again as it is recorded, and when one is refused none stays written.
    """
    session = db.session()
    mark = pending_callbacks(session)
    savepoint = begin_nested(session)
    try:
        events = [
            record_event(company_id, document_id=document_id, code=step, actor=actor, person=person)
            for step in steps
        ]
    except DomainError:
        savepoint.rollback()
        forget_callbacks_after(session, mark)
        raise
    savepoint.commit()
    return events


_SUPPLIER_NOTICES = {"031": notifications.CLAIMED, "033": notifications.ACCEPTED}


def _check_transition(document: Document, transition: Transition) -> None:
    already = db.session.scalars(
        select(DocumentEvent.id).where(
            DocumentEvent.document_id == document.id, DocumentEvent.code == transition.code
        )
    ).first()
    if already is not None or document.status == transition.target:
        raise Conflict(
            _l("The %(event)s was already recorded on this invoice.", event=transition.name),
            field="code",
        )
    if document.status in transition.sources:
        return
    possible = [TRANSITIONS[c].name for c in next_events(document.status)]
    if not possible:
        raise DomainError(
            _l(
                "This invoice is %(status)s: no further event can be recorded on it.",
                status=STATUS_NAMES[document.status],
            ),
            field="code",
        )
    raise DomainError(
        _l(
            "The %(event)s cannot be recorded on an invoice that is %(status)s. Possible now: "
            "%(next)s.",
            event=transition.name,
            status=STATUS_NAMES[document.status],
            next=LazyString(lambda: ", ".join(str(name) for name in possible)),
        ),
        field="code",
    )


def event_person(
    *,
    id_type: str,
    id_number: str,
    first_name: str,
    family_name: str,
    job_title: str = "",
    department: str = "",
) -> dian_events.Person:
    """Check the person someone names as recording a 030 or 032 (an ERP, through the API).

    The identity document as on a profile (accounts.id_document_number), both names required,
    120 characters at most each; errors name the arguments.
    """
    values = {
        key: " ".join((value or "").split())
        for key, value in (
            ("first_name", first_name),
            ("family_name", family_name),
            ("job_title", job_title),
            ("department", department),
        )
    }
    errors: dict[str, list[Any]] = {}
    number = ""
    try:
        number = accounts.id_document_number(id_type, id_number, required=True)
    except FieldErrors as error:
        for key, messages in error.errors.items():
            errors[key.replace("id_document_", "id_")] = messages
    for key, message in (
        ("first_name", _l("Enter the person's first name.")),
        ("family_name", _l("Enter the person's family name.")),
    ):
        if not values[key]:
            errors[key] = [message]
    for key, value in values.items():
        if len(value) > 120:
            errors[key] = [_l("At most %(count)d characters.", count=120)]
    if errors:
        raise FieldErrors(errors)
    return dian_events.Person(id=number, id_scheme=id_type.strip(), **values)


def _person_of(actor: User) -> dian_events.Person:
    """Return the person DIAN's 030 and 032 name: the user, by the identity document on file."""
    if not (actor.id_document_type and actor.id_document_number):
        if actor.id is None:  # an API token nobody made stands in: the call names the person
            raise DomainError(
                _l(
                    "DIAN asks who records an acknowledgement (030) or a receipt (032): send "
                    '"person" with id_type, id_number, first_name and family_name.'
                ),
                field="person",
            )
        raise DomainError(
            _l(
                "DIAN asks who records an acknowledgement (030) or a receipt of the goods (032): "
                "add your identity document under “My profile” in your user menu first."
            ),
            field="person",
        )
    first, _, family = actor.name.strip().partition(" ")
    return dian_events.Person(
        id=actor.id_document_number,
        id_scheme=actor.id_document_type,
        first_name=first,
        family_name=family or first,
        job_title=actor.job_title or "",
        department=actor.department or "",
    )


# ------------------------------------------------------------------------------ writing one


def _record(
    document: Document,
    transition: Transition,
    *,
    actor_company_id: int,
    actor_user_id: int | None,
    claim_reason: str | None,
    note: str,
    person: dian_events.Person | None,
    now: dt.datetime,
    receipt: DocumentEvent | None = None,
) -> DocumentEvent:
    """Write, sign and store one event and move the document's status, all or nothing."""
    number = f"EV{transition.code}-{document.id}"
    xml = cude = None
    if document.is_legal:
        xml = _signed_event(
            document,
            transition.code,
            number=number,
            signer=actor_company_id,
            claim_reason=claim_reason,
            person=person,
            now=now,
            receipt=receipt,
            note=note,
        )
        cude = dian_events.event_cude_inputs(detect_bytes(xml).tree).declared or None
    event = DocumentEvent(
        document_id=document.id,
        sender_company_id=document.sender_company_id,
        receiver_company_id=document.receiver_company_id,
        code=transition.code,
        claim_reason=claim_reason,
        note=note,
        number=number,
        cude=cude,
        actor_company_id=actor_company_id,
        actor_user_id=actor_user_id,
        xml=xml,
        created_at=now,
    )
    savepoint = begin_nested(db.session())
    # Move the status only from one it may follow, as read in the database now: of two
    # concurrent events (033 and 031, a claim and the tacit job) exactly one moves it.
    moved = db.session.execute(
        update(Document)
        .where(Document.id == document.id, Document.status.in_(transition.sources))
        .values(status=transition.target, status_changed_at=now)
    ).rowcount
    if moved != 1:
        savepoint.rollback()
        db.session.refresh(document)
        raise Conflict(
            _l(
                "This invoice changed meanwhile: it is now %(status)s.",
                status=STATUS_NAMES.get(document.status, document.status),
            )
        )
    try:
        db.session.add(event)
        db.session.flush()
    except IntegrityError:
        savepoint.rollback()
        raise Conflict(
            _l("The %(event)s was already recorded on this invoice.", event=transition.name)
        ) from None
    savepoint.commit()
    document.status = transition.target
    document.status_changed_at = now
    for company_id in {document.sender_company_id, document.receiver_company_id} - {None}:
        _emit_after_commit(company_id, {"id": document.id, "status": transition.target})
    webhooks.event_recorded(document, event)  # outbox rows, committed with the event
    return event


def _signed_event(
    document: Document,
    code: str,
    *,
    number: str,
    signer: int,
    claim_reason: str | None,
    person: dian_events.Person | None,
    now: dt.datetime,
    receipt: DocumentEvent | None,
    note: str,
) -> bytes:
    """Write the event's ApplicationResponse with the engine and sign it as the signer company."""
    invoice = _signed_invoice(document)
    local = now.astimezone(COLOMBIA)
    config = current_app.config
    software = Software(
        config["DIAN_SOFTWARE_ID"],
        config["DIAN_SOFTWARE_PIN"],
        config["DIAN_SOFTWARE_PROVIDER_NIT"],
    )
    reference = (
        ubl.DocumentReference(id=receipt.number, uuid=receipt.cude or "")
        if receipt is not None
        else None
    )
    material = certificates.signing_material(signer)
    try:
        model = dian_events.make_event(
            code,
            number=number,
            invoice=invoice,
            issue_date=local.date(),
            issue_time=local.strftime("%H:%M:%S-05:00"),
            claim_reason=claim_reason,
            person=person,
            receipt=reference,
            notes=[note] if note and code != "034" else None,
        )
        unsigned = dian_events.write_event(
            model, software=software, environment=config["DIAN_ENVIRONMENT"]
        )
        return sign_document(
            unsigned, key=material.key, certificate=material.certificate, chain=material.chain
        )
    except (WriterError, SignatureError) as problem:
        current_app.logger.warning(
            "event %s on document %s not written: %s", code, document.id, problem
        )
        raise DomainError(
            _l("The event could not be written and signed: %(reason)s", reason=str(problem))
        ) from None


def _signed_invoice(document: Document) -> ubl.Document:
    """Read the invoice back from what its supplier signed (never from unsigned content)."""
    detection = detect_bytes(document.original)
    outcome = verify_document(detection.tree) if detection.tree is not None else None
    invoice = None
    if outcome is not None and outcome.valid:
        invoice, _ = read_document(outcome.signed_root)
    if invoice is None:
        raise DomainError(_l("The stored invoice cannot be read back: no event can be written."))
    return invoice


def _emit_after_commit(company_id: int, payload: dict[str, Any]) -> None:
    def emit() -> None:
        realtime.notify_company(company_id, "document:changed", payload)

    after_commit(db.session(), emit)


# --------------------------------------------------------------------- tacit acceptance (034)

_COLOMBIAN_HOLIDAYS = holidays.country_holidays("CO")


def is_business_day(day: dt.date) -> bool:
    """Tell whether day is a Colombian business day (Monday to Friday, not a holiday)."""
    return day.weekday() < 5 and day not in _COLOMBIAN_HOLIDAYS


def add_business_days(day: dt.date, count: int) -> dt.date:
    """Return the count-th Colombian business day after day."""
    while count > 0:
        day += dt.timedelta(days=1)
        if is_business_day(day):
            count -= 1
    return day


def acceptance_deadline(receipt_at: dt.datetime) -> dt.date:
    """Return the last day the buyer may accept or claim after a receipt (032) at receipt_at."""
    return add_business_days(receipt_at.astimezone(COLOMBIA).date(), TACIT_BUSINESS_DAYS)


def _receipt_cutoff(now: dt.datetime) -> dt.datetime:
    """Return the instant before which a 032 makes its invoice tacitly accepted by now."""
    today = now.astimezone(COLOMBIA).date()
    day = today - dt.timedelta(days=1)
    while add_business_days(day, TACIT_BUSINESS_DAYS) >= today:
        day -= dt.timedelta(days=1)
    next_midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), COLOMBIA)
    return next_midnight.astimezone(dt.UTC)


def due_for_tacit_acceptance(now: dt.datetime | None = None) -> list[int]:
    """Return the ids of invoices whose buyer let the three business days after 032 pass."""
    cutoff = _receipt_cutoff(now or utcnow())
    stmt = (
        select(Document.id)
        .join(DocumentEvent, DocumentEvent.document_id == Document.id)
        .where(
            Document.status == GOODS_RECEIVED,
            Document.document_type == INVOICE,
            DocumentEvent.code == "032",
            DocumentEvent.created_at < cutoff,
        )
        .order_by(Document.id)
    )
    return list(db.session.scalars(unscoped(stmt)))  # the job looks across every company


def record_tacit_acceptance(document_id: int, *, now: dt.datetime | None = None) -> DocumentEvent:
    """Record 034 on one due invoice, signed with its supplier's certificate."""
    now = now or utcnow()
    document = db.session.scalars(
        unscoped(select(Document).where(Document.id == document_id))
    ).first()
    if document is None:
        raise DomainError(_l("That document does not exist."))
    transition = TRANSITIONS["034"]
    if document.status not in transition.sources:
        raise Conflict(
            _l(
                "This invoice changed meanwhile: it is now %(status)s.",
                status=STATUS_NAMES.get(document.status, document.status),
            )
        )
    receipt = db.session.scalars(
        unscoped(
            select(DocumentEvent).where(
                DocumentEvent.document_id == document.id, DocumentEvent.code == "032"
            )
        )
    ).first()
    if receipt is None or receipt.created_at >= _receipt_cutoff(now):
        raise DomainError(_l("The buyer still has time to accept or claim this invoice."))
    # Signing needs the supplier's certificate, which only the supplier's context may read.
    with acting_as(document.sender_company_id):
        event = _record(
            document,
            transition,
            actor_company_id=document.sender_company_id,
            actor_user_id=None,
            claim_reason=None,
            note="",
            person=None,
            now=now,
            receipt=receipt,
        )
        audit.record_event(
            "system",
            document.sender_company_id,
            "document.event_034",
            document,
            {"code": "034", "receipt_event_id": receipt.id},
        )
    for company_id in (document.sender_company_id, document.receiver_company_id):
        if company_id is not None:
            notifications.notify(company_id, kind=notifications.TACITLY_ACCEPTED, document=document)
    return event


@dataclass
class TacitReport:
    recorded: list[int] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)


def record_tacit_acceptances(now: dt.datetime | None = None) -> TacitReport:
    """Record 034 on every due invoice; each in a savepoint, so one failure spares the rest."""
    now = now or utcnow()
    report = TacitReport()
    for document_id in due_for_tacit_acceptance(now):
        savepoint = begin_nested(db.session())
        try:
            record_tacit_acceptance(document_id, now=now)
        except DomainError as problem:
            savepoint.rollback()
            report.skipped[document_id] = str(problem.message)
            continue
        savepoint.commit()
        report.recorded.append(document_id)
    return report
