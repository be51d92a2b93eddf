"""The Inbox: documents sent between companies — submitted, checked, routed, waiting, read.

A submitted file goes through the engine (``app.einvoice.engine.ingest``). A file that is not
readable, not valid, or not the submitting company's own document is refused into quarantine
(kept for its sender, never delivered); so is a duplicate, naming the original. Anything
else is routed to the company whose country and tax id are the customer's; when no company has
them yet, the document waits and the customer is invited, and ``claim_waiting_documents`` hands
everything waiting to the company that registers with that tax id. ``submit_batch`` takes
several files at once (the API's batch): each is answered as it would be alone, the look-ups
they share are made once, and a file that fails is rolled back alone.

The trays are read through ``received`` and ``sent`` (a ``Select``, newest first) and paged with
``page`` on the key (issue_date, id), so a page costs the same at any depth.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, bindparam, case, func, or_, select, tuple_, update
from sqlalchemy.exc import IntegrityError

from app import realtime
from app.db import (
    after_commit,
    begin_nested,
    forget_callbacks_after,
    pending_callbacks,
    shared_lookups,
)
from app.einvoice import engine
from app.einvoice import model as ubl
from app.einvoice.findings import Finding, error
from app.extensions import db
from app.mail import send_mail
from app.models import (
    Company,
    Document,
    DocumentAttachment,
    DocumentEvent,
    Membership,
    QuarantinedUpload,
    User,
    utcnow,
)
from app.models.document import (
    CREDIT_NOTE,
    DEBIT_NOTE,
    DOCUMENT_TYPES,
    INVOICE,
    ORIGIN_XML,
    PAID,
)
from app.services import audit, notifications, webhooks
from app.services.errors import DomainError, NotFound
from app.services.inputs import normalize_email
from app.taxids import COUNTRIES, TaxIdError, search_digits, tax_id_from_document
from app.tenancy import unscoped

ACCEPTED = "accepted"
UNREADABLE = "unreadable"
INVALID = "invalid"
NOT_SUPPLIER = "not_supplier"
DUPLICATE = "duplicate"
FAILED = "failed"  # a file of a batch that could not be stored (rolled back; send it again)

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


@dataclass
class Submission:
    """What became of one submitted file: a document, a quarantined entry, or a duplicate."""

    filename: str
    outcome: str
    findings: list[Finding] = field(default_factory=list)
    document: Document | None = None
    quarantined: QuarantinedUpload | None = None
    duplicate_of: Document | None = None
    invitation_sent_to: str | None = None
    message: Any = ""

    @property
    def accepted(self) -> bool:
        """True when the file became a document (delivered, or waiting for its customer)."""
        return self.outcome == ACCEPTED


# ---------------------------------------------------------------------------------- submitting


def submit_xml(
    company_id: int,
    *,
    filename: str,
    data: bytes,
    actor: User,
    invite_email: str | None = None,
) -> Submission:
    """Check one XML file and deliver it, keep it waiting for its customer, or refuse it."""
    company = _submitting_company(company_id)
    checked = _check(company, filename, data)
    return _deliver(company, checked, actor=actor, invite_email=invite_email, known=_Known())


def submit_batch(
    company_id: int, *, files: list[tuple[str, bytes]], actor: User
) -> list[Submission]:
    """Check several XML files and deliver or refuse each on its own, in the order they came.

    A file that fails unexpectedly is rolled back whole (its rows, audit events, e-mails and
    live events) and answered FAILED; the others go on. The files are first stored under one
    savepoint; only when one of them fails is the batch stored again with a savepoint per file,
    which costs a savepoint per file only when it is needed. The look-ups files share are made
    once: the duplicate check of every file in one query, each customer company, each
    receiver's webhook endpoints and members.
    """
    company = _submitting_company(company_id)
    checked = [_check(company, name, data) for name, data in files]
    session = db.session()
    with shared_lookups(session):
        callbacks = pending_callbacks(session)
        savepoint = begin_nested(session)
        known = _Known.for_batch(company_id, checked)
        try:
            submissions = _deliver_all(company, checked, actor=actor, known=known)
            savepoint.commit()
            return submissions
        except Exception:
            savepoint.rollback()
            forget_callbacks_after(session, callbacks)
        known = _Known.for_batch(company_id, checked, receivers=known.receivers)
        return [_deliver_in_savepoint(company, item, actor=actor, known=known) for item in checked]


def _deliver_all(
    company: Company, checked: list[_Checked], *, actor: User, known: _Known
) -> list[Submission]:
    """Deliver a batch under the caller's savepoint, inserting its invoices in one flush.

    Every answer is the one the files would get one after the other: duplicates (of earlier
    files too) are decided in file order, and the documents whose handling depends on what
    came before them in the batch (a note linked to its invoice, a document waiting for a
    customer that is invited once) are inserted one by one, in order.
    """
    plans: list[tuple[_Checked, Document | None, Company | None, bool]] = []
    for item in checked:
        doc = item.doc
        if item.refusal is not None or doc is None:
            plans.append((item, None, None, False))
            continue
        key = (doc.document_type.value, item.number)
        if known.original(company.id, *key) is not None:
            plans.append((item, None, None, False))  # answered as a duplicate below
            continue
        receiver = known.receiver(item.customer_country, item.customer_tax_id)
        document = _new_document(company, item, receiver, actor)
        grouped = receiver is not None and doc.document_type is ubl.DocumentType.INVOICE
        if grouped:
            db.session.add(document)
        known.sent[key] = document
        plans.append((item, document, receiver, grouped))
    db.session.flush()  # the grouped invoices at once (one INSERT where RETURNING allows)
    submissions = []
    for item, document, receiver, grouped in plans:
        if document is None:
            submissions.append(
                _deliver(company, item, actor=actor, invite_email=None, known=known, guard=False)
            )
            continue
        if not grouped:
            db.session.add(document)
            db.session.flush()
        submissions.append(
            _announce(company, item, document, receiver, actor=actor, invite_email=None)
        )
    return submissions


def _deliver_one(company: Company, item: _Checked, *, actor: User, known: _Known) -> Submission:
    """Deliver one file of a batch under the caller's savepoint (the file's or the batch's)."""
    submission = _deliver(company, item, actor=actor, invite_email=None, known=known, guard=False)
    if submission.document is not None and item.doc is not None:  # a later copy: 409
        known.sent[(item.doc.document_type.value, item.number)] = submission.document
    return submission


def _deliver_in_savepoint(
    company: Company, item: _Checked, *, actor: User, known: _Known
) -> Submission:
    """Deliver one file of a batch in a savepoint of its own; roll it back whole if it fails."""
    session = db.session()
    callbacks = pending_callbacks(session)
    savepoint = begin_nested(session)
    try:
        submission = _deliver_one(company, item, actor=actor, known=known)
        savepoint.commit()
        return submission
    except Exception as problem:
        savepoint.rollback()
        forget_callbacks_after(session, callbacks)
        # The same document sent at once by another request: the unique constraint decided.
        original = None
        if isinstance(problem, IntegrityError) and item.doc is not None and item.refusal is None:
            original = _find_duplicate(company.id, item.doc.document_type.value, item.number)
        if original is not None and item.doc is not None:
            return _duplicate(company.id, item, original, actor)
        current_app.logger.exception("A file of a batch failed: %s", item.filename)
        message = _l("%(file)s could not be stored: send it again.", file=item.filename)
        return Submission(item.filename, FAILED, message=message)


@dataclass
class _Checked:
    """One file after the engine: why it is refused (None: deliverable) and where it goes."""

    filename: str
    data: bytes
    result: engine.Result
    findings: list[Finding]
    doc: ubl.Document | None
    refusal: str | None = None
    customer_country: str = ""
    customer_tax_id: str = ""
    number: str = ""


@dataclass
class _Known:
    """Look-ups shared by the files of one submission: receivers by (country, tax id) and,
    once prefetched, the sender's documents by (type, number)."""

    receivers: dict[tuple[str, str], Company | None] = field(default_factory=dict)
    sent: dict[tuple[str, str], Document] = field(default_factory=dict)
    prefetched: bool = False

    @classmethod
    def for_batch(
        cls,
        company_id: int,
        checked: list[_Checked],
        *,
        receivers: dict[tuple[str, str], Company | None] | None = None,
    ) -> _Known:
        """Return the look-ups of a batch, its duplicate check already made."""
        known = cls(receivers=dict(receivers or {}))
        known.prefetch_sent(
            company_id,
            [(c.doc.document_type.value, c.number) for c in checked if c.refusal is None and c.doc],
        )
        return known

    def prefetch_sent(self, company_id: int, keys: list[tuple[str, str]]) -> None:
        """Read the sender's documents with any of these numbers in one query."""
        self.prefetched = True
        numbers = sorted({number for _type, number in keys})
        wanted = set(keys)
        for start in range(0, len(numbers), 500):
            for document in db.session.scalars(
                unscoped(
                    select(Document)
                    .where(
                        Document.sender_company_id == company_id,
                        Document.number.in_(numbers[start : start + 500]),
                    )
                    .order_by(Document.id)
                )
            ):
                key = (document.document_type, document.number)
                if key in wanted:
                    self.sent.setdefault(key, document)

    def original(self, company_id: int, document_type: str, number: str) -> Document | None:
        """Return the document this one would duplicate, if any."""
        if self.prefetched:
            return self.sent.get((document_type, number))
        return _find_duplicate(company_id, document_type, number)

    def receiver(self, country: str, tax_id: str) -> Company | None:
        """Return the company with this country and tax id (None: not on the network)."""
        key = (country, tax_id)
        if key not in self.receivers:
            self.receivers[key] = db.session.scalars(
                _COMPANY_BY_TAX_ID, {"country": country, "tax_id": tax_id}
            ).first()
        return self.receivers[key]


def _submitting_company(company_id: int) -> Company:
    company = db.session.get(Company, company_id)
    if company is None:
        raise NotFound(_l("That company is not on the network."))
    return company


def _check(company: Company, filename: str, data: bytes) -> _Checked:
    """Run the engine on one file and decide whether it can be delivered (no database writes)."""
    filename = (filename or "document.xml").strip()[:255]
    result = engine.ingest(data, rules_dir=current_app.config.get("EINVOICE_RULES_DIR") or None)
    checked = _Checked(filename, data, result, list(result.findings), result.document)
    doc = checked.doc
    if doc is None or doc.document_type.value not in DOCUMENT_TYPES:
        if doc is not None:
            checked.findings.append(_not_a_document(doc))
        checked.refusal = UNREADABLE
        return checked
    if not _is_own_document(company, doc):
        checked.findings.append(_not_supplier_finding(company, doc))
        checked.refusal = NOT_SUPPLIER
        return checked
    checked.customer_country = _country_of(doc, doc.customer, company.country)
    try:
        checked.customer_tax_id = tax_id_from_document(
            checked.customer_country, doc.customer.tax_id, doc.customer.check_digit
        )
    except TaxIdError:
        checked.findings.append(_customer_tax_id_finding(doc))
    if not result.valid or doc.issue_date is None or not checked.customer_tax_id:
        checked.refusal = INVALID
        return checked
    checked.number = doc.number.strip()
    return checked


def _deliver(
    company: Company,
    checked: _Checked,
    *,
    actor: User,
    invite_email: str | None,
    known: _Known,
    guard: bool = True,
) -> Submission:
    """Quarantine a refused file, answer a duplicate, or store and route the document."""
    company_id, filename, findings, doc = (
        company.id,
        checked.filename,
        checked.findings,
        checked.doc,
    )
    if checked.refusal is not None or doc is None:
        return _quarantine(
            company_id, filename, checked.data, checked.refusal or UNREADABLE, findings, doc, actor
        )
    number = checked.number
    original = known.original(company_id, doc.document_type.value, number)
    if original is not None:
        return _duplicate(company_id, checked, original, actor)
    receiver = known.receiver(checked.customer_country, checked.customer_tax_id)
    document = _new_document(company, checked, receiver, actor)
    # Two uploads of the same document at once: the unique constraint decides, not a race.
    # Inside a batch the batch's or the file's own savepoint is the guard.
    savepoint = begin_nested(db.session()) if guard else None
    try:
        db.session.add(document)
        db.session.flush()
    except IntegrityError:
        if savepoint is None:
            raise
        savepoint.rollback()
        original = _find_duplicate(company_id, doc.document_type.value, number)
        if original is None:
            raise
        return _duplicate(company_id, checked, original, actor)
    if savepoint is not None:
        savepoint.commit()
    return _announce(company, checked, document, receiver, actor=actor, invite_email=invite_email)


def _new_document(
    company: Company, checked: _Checked, receiver: Company | None, actor: User
) -> Document:
    """Build (not add) the document row of a checked, deliverable file."""
    doc = checked.doc
    assert doc is not None and doc.issue_date is not None
    now = utcnow()
    totals = doc.totals
    payable = totals.payable if totals.payable is not None else Decimal("0")
    return Document(
        sender_company_id=company.id,
        receiver_company_id=receiver.id if receiver else None,
        customer_country=checked.customer_country,
        customer_tax_id=checked.customer_tax_id,
        supplier_name=(doc.supplier.display_name or company.legal_name)[:200],
        supplier_tax_id=company.tax_id,
        customer_name=doc.customer.display_name[:200],
        customer_email=(doc.customer.email or None) and doc.customer.email[:254],
        document_type=doc.document_type.value,
        number=checked.number[:60],
        cufe=(doc.uuid or None) and doc.uuid[:128],
        issue_date=doc.issue_date,
        due_date=doc.due_date,
        currency=(doc.currency or "COP")[:3],
        line_extension=totals.line_extension,
        tax_exclusive=totals.tax_exclusive,
        tax_inclusive=totals.tax_inclusive,
        payable=payable,
        # A credit note is not something the buyer owes: it lowers its invoice's balance.
        open_balance=Decimal("0") if doc.document_type is ubl.DocumentType.CREDIT_NOTE else payable,
        origin=ORIGIN_XML,
        is_legal=True,
        original=checked.data,
        filename=checked.filename,
        findings=[f.to_json() for f in checked.findings],
        signature=_signature_summary(checked.result.signature),
        submitted_by_user_id=actor.id,
        created_at=now,
        received_at=now if receiver else None,
    )


def _announce(
    company: Company,
    checked: _Checked,
    document: Document,
    receiver: Company | None,
    *,
    actor: User,
    invite_email: str | None,
) -> Submission:
    """After the document's insert: link a note, audit, tell the receiver (or invite it)."""
    company_id, doc = company.id, checked.doc
    assert doc is not None
    if doc.document_type in (ubl.DocumentType.CREDIT_NOTE, ubl.DocumentType.DEBIT_NOTE):
        _link_to_invoice(document, doc, actor=actor)

    submission = Submission(checked.filename, ACCEPTED, checked.findings, document=document)
    audit.record_event(
        actor,
        company_id,
        "document.submitted",
        document,
        {
            "number": document.number,
            "type": document.document_type,
            "receiver_company_id": document.receiver_company_id,
            "waiting": receiver is None,
        },
    )
    if receiver is not None:
        submission.message = _l(
            "Document %(number)s was delivered to %(name)s.",
            number=document.number,
            name=receiver.display_name,
        )
        _emit_after_commit(receiver.id, "document:received", {"id": document.id})
        webhooks.document_received(document)  # an outbox row, committed with the document
        notifications.notify(receiver.id, kind=notifications.RECEIVED, document=document)
    else:
        submission.invitation_sent_to = _invite_customer(company, document, invite_email)
        notifications.notify(
            company_id, kind=notifications.WAITING, document=document, exclude_user_id=actor.id
        )
        submission.message = (
            _l(
                "%(name)s is not on the network yet: document %(number)s waits for it, and "
                "an invitation was e-mailed to %(email)s.",
                name=document.customer_name,
                number=document.number,
                email=submission.invitation_sent_to,
            )
            if submission.invitation_sent_to
            else _l(
                "%(name)s is not on the network yet: document %(number)s waits for it "
                "until it registers.",
                name=document.customer_name,
                number=document.number,
            )
        )
    _emit_after_commit(company_id, "document:sent", {"id": document.id})
    return submission


def _quarantine(
    company_id: int,
    filename: str,
    data: bytes,
    reason: str,
    findings: list[Finding],
    doc: ubl.Document | None,
    actor: User,
) -> Submission:
    entry = _keep_refused(company_id, filename, data, reason, findings, doc, actor)
    messages = {
        UNREADABLE: _l(
            "%(file)s is not an invoice or note the portal can read: it was not sent.",
            file=filename,
        ),
        INVALID: _l("%(file)s has errors: it was not sent. See the findings.", file=filename),
        NOT_SUPPLIER: _l(
            "%(file)s names another supplier: a company can only send its own "
            "documents. It was not sent.",
            file=filename,
        ),
    }
    return Submission(filename, reason, findings, quarantined=entry, message=messages[reason])


def _keep_refused(
    company_id: int,
    filename: str,
    data: bytes,
    reason: str,
    findings: list[Finding],
    doc: ubl.Document | None,
    actor: User,
    **details: Any,
) -> QuarantinedUpload:
    """Keep a refused file in its sender's quarantine, with the findings that say why."""
    entry = QuarantinedUpload(
        company_id=company_id,
        filename=filename,
        original=data,
        reason=reason,
        document_type=doc.document_type.value if doc is not None else None,
        number=(doc.number.strip()[:60] or None) if doc is not None else None,
        findings=[f.to_json() for f in findings],
        uploaded_by_user_id=actor.id,
    )
    db.session.add(entry)
    db.session.flush()
    audit.record_event(
        actor,
        company_id,
        "document.quarantined",
        entry,
        {
            "reason": reason,
            "filename": filename,
            "codes": sorted({f.code for f in findings if f.severity == "error"}),
            **details,
        },
    )
    return entry


# The words a duplicate's finding names the original by (Spanish, English).
TYPE_WORDS = {
    INVOICE: ("la factura", "invoice"),
    CREDIT_NOTE: ("la nota crédito", "credit note"),
    DEBIT_NOTE: ("la nota débito", "debit note"),
}


def _duplicate(company_id: int, checked: _Checked, original: Document, actor: User) -> Submission:
    """Refuse a second copy of a document into quarantine, naming the original."""
    doc = checked.doc
    assert doc is not None
    received_on = original.created_at.date().isoformat()
    type_es, type_en = TYPE_WORDS.get(original.document_type, ("el documento", "document"))
    finding = error(
        "DUPLICATE",
        f"Duplicado de {type_es} {original.number}, que el portal recibió el {received_on} "
        f"(id {original.id}): no se envió otra vez.",
        f"Duplicate of {type_en} {original.number}, received on {received_on} "
        f"(id {original.id}): it was not sent again.",
        f"/{doc.document_type.value}/cbc:ID",
    )
    findings = [*checked.findings, finding]
    entry = _keep_refused(
        company_id,
        checked.filename,
        checked.data,
        DUPLICATE,
        findings,
        doc,
        actor,
        original_id=original.id,
    )
    return Submission(
        checked.filename,
        DUPLICATE,
        findings,
        quarantined=entry,
        duplicate_of=original,
        message=_l(
            "%(number)s was already sent on %(date)s: see the original (id %(id)s).",
            number=original.number,
            date=received_on,
            id=original.id,
        ),
    )


# The look-ups every submitted file makes, built (and given their cache keys) once.
# The sender's own documents: unscoped so the check holds whoever is bound (API, job).
_DUPLICATE = unscoped(
    select(Document).where(
        Document.sender_company_id == bindparam("company_id"),
        Document.document_type == bindparam("document_type"),
        Document.number == bindparam("number"),
    )
)
_COMPANY_BY_TAX_ID = unscoped(
    select(Company).where(
        Company.country == bindparam("country"), Company.tax_id == bindparam("tax_id")
    )
)


def _find_duplicate(company_id: int, document_type: str, number: str) -> Document | None:
    return db.session.scalars(
        _DUPLICATE, {"company_id": company_id, "document_type": document_type, "number": number}
    ).first()


def _country_of(doc: ubl.Document, party: ubl.Party, default: str) -> str:
    if doc.is_dian:
        return "CO"
    country = (party.address.country if party.address else "").upper()
    return country if country in COUNTRIES else default


def _is_own_document(company: Company, doc: ubl.Document) -> bool:
    """Tell whether the document's supplier is the submitting company."""
    if _country_of(doc, doc.supplier, company.country) != company.country:
        return False
    try:
        supplier = tax_id_from_document(
            company.country, doc.supplier.tax_id, doc.supplier.check_digit
        )
    except TaxIdError:
        return False
    return supplier == company.tax_id


def _not_a_document(doc: ubl.Document) -> Finding:
    return error(
        "PORTAL-TYPE",
        f"Un {doc.document_type.value} no es una factura ni una nota: no se envía.",
        f"A {doc.document_type.value} is not an invoice or a note: it is not sent.",
    )


def _not_supplier_finding(company: Company, doc: ubl.Document) -> Finding:
    named = doc.supplier.tax_id or "—"
    return error(
        "PORTAL-SUPPLIER",
        f"El emisor del documento ({named}) no es su empresa ({company.tax_id}): una empresa "
        "solo puede enviar sus propios documentos.",
        f"The document's supplier ({named}) is not your company ({company.tax_id}): a company "
        "can only send its own documents.",
        f"/{doc.document_type.value}/cac:AccountingSupplierParty",
    )


def _customer_tax_id_finding(doc: ubl.Document) -> Finding:
    named = doc.customer.tax_id or "—"
    return error(
        "PORTAL-CUSTOMER",
        f"El número de identificación del adquirente ({named}) no es válido: no se puede entregar.",
        f"The customer's tax id ({named}) is not valid: the document cannot be delivered.",
        f"/{doc.document_type.value}/cac:AccountingCustomerParty",
    )


def _signature_summary(outcome: Any) -> dict[str, Any]:
    if outcome is None:
        return {"present": False}
    signing_time = outcome.signing_time
    return {
        "present": outcome.present,
        "valid": outcome.valid,
        "subject": outcome.subject,
        "issuer": outcome.issuer,
        "serial": outcome.serial,
        "signer_tax_id": outcome.signer_tax_id,
        "signing_time": signing_time.isoformat() if signing_time else None,
        "role": outcome.role,
        "covers_whole_document": outcome.covers_whole_document,
    }


def _link_to_invoice(note: Document, doc: ubl.Document, *, actor: User) -> None:
    """Link a note to the invoice it references; a credit note lowers that invoice's balance
    and settles a dispute that agreed on it."""
    for reference in doc.billing_references:
        conditions = []
        if reference.uuid:
            conditions.append(Document.cufe == reference.uuid.strip())
        if reference.id:
            conditions.append(Document.number == reference.id.strip())
        if not conditions:
            continue
        invoice = db.session.scalars(
            unscoped(
                select(Document).where(
                    Document.sender_company_id == note.sender_company_id,
                    Document.customer_country == note.customer_country,
                    Document.customer_tax_id == note.customer_tax_id,
                    Document.document_type == INVOICE,
                    or_(*conditions),
                )
            )
        ).first()
        if invoice is None:
            continue
        note.related_document_id = invoice.id
        if note.document_type == CREDIT_NOTE:
            # In SQL, so two credit notes arriving at once both count.
            remaining = Document.open_balance - note.payable
            db.session.execute(
                update(Document)
                .where(Document.id == invoice.id)
                .values(open_balance=case((remaining < 0, Decimal("0")), else_=remaining))
                .execution_options(synchronize_session="fetch")
            )
            from app.services import disputes  # disputes reads documents through this module

            disputes.credit_note_linked(invoice.id, note, actor=actor)
        return


def _invite_customer(company: Company, document: Document, invite_email: str | None) -> str | None:
    """E-mail the customer an invitation, once per customer and sender unless asked again."""
    address = invite_email or document.customer_email
    if not address:
        return None
    try:
        address = normalize_email(address, field="invite_email")
    except DomainError:
        if invite_email:
            raise
        return None
    if not invite_email:
        already = db.session.scalars(
            unscoped(
                select(Document.id)
                .where(
                    Document.sender_company_id == company.id,
                    Document.receiver_company_id.is_(None),
                    Document.customer_country == document.customer_country,
                    Document.customer_tax_id == document.customer_tax_id,
                    Document.id != document.id,
                )
                .limit(1)
            )
        ).first()
        if already is not None:
            return None
    document.customer_email = address
    send_mail(address, "document_waiting", locale=company.locale, sender=company, document=document)
    return address


def claim_waiting_documents(company: Company, *, actor: User) -> list[Document]:
    """Give a newly registered company every document waiting for its tax id; tell the senders."""
    waiting = list(
        db.session.scalars(
            unscoped(
                select(Document)
                .where(
                    Document.receiver_company_id.is_(None),
                    Document.customer_country == company.country,
                    Document.customer_tax_id == company.tax_id,
                )
                .order_by(Document.id)
            )
        )
    )
    if not waiting:
        return []
    now = utcnow()
    ids = [document.id for document in waiting]
    for document in waiting:
        document.receiver_company_id = company.id
        document.received_at = now
    # Events are recorded only by a receiver, so none exist yet; kept in step all the same.
    # Attachments the sender shared while the document waited become visible to the receiver.
    for model in (DocumentEvent, DocumentAttachment):
        db.session.execute(
            update(model)
            .where(model.document_id.in_(ids))
            .values(receiver_company_id=company.id)
            .execution_options(synchronize_session=False)
        )
    db.session.flush()
    by_sender: dict[int, list[Document]] = {}
    for document in waiting:
        by_sender.setdefault(document.sender_company_id, []).append(document)
    for sender_id, documents in by_sender.items():
        audit.record_event(
            actor,
            company,
            "document.waiting_claimed",
            None,
            {"sender_company_id": sender_id, "document_ids": [d.id for d in documents]},
        )
        _notify_admins(sender_id, "documents_claimed", joined=company, documents=documents)
        _emit_after_commit(sender_id, "document:changed", {"ids": [d.id for d in documents]})
    _emit_after_commit(company.id, "document:received", {"ids": ids})
    return waiting


def _notify_admins(company_id: int, template: str, **context: Any) -> None:
    """E-mail a company's owners and admins."""
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


def _emit_after_commit(company_id: int, event: str, payload: dict[str, Any]) -> None:
    """Tell a company's open pages once the change is safe in the database."""

    def emit() -> None:
        realtime.notify_company(company_id, event, payload)

    after_commit(db.session(), emit)


# ------------------------------------------------------------------------------------ reading


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


def visible(
    company_id: int, *, filters: DocumentFilters | None = None
) -> Select[tuple[Document]]:
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
    if filters.status:
        stmt = stmt.where(Document.status == filters.status)
    if filters.amount_min is not None:
        stmt = stmt.where(Document.payable >= filters.amount_min)
    if filters.amount_max is not None:
        stmt = stmt.where(Document.payable <= filters.amount_max)
    if filters.overdue:
        today = filters.today or utcnow().date()
        stmt = stmt.where(
            Document.document_type == INVOICE,
            Document.due_date < today,
            Document.payment_status != PAID,
            Document.open_balance > 0,
        )
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
