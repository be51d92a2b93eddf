"""Storing documents sent between companies: submitted, checked, routed, waiting.

A submitted file goes through the engine (``app.einvoice.engine.ingest``). A file that is not
readable, not valid, or not the submitting company's own document is refused into quarantine
(kept for its sender, never delivered); so is a duplicate, naming the original. Anything
else is routed to the company whose country and tax id are the customer's; when no company has
them yet, the document waits and the customer is invited, and ``claim_waiting_documents`` hands
everything waiting to the company that registers with that tax id. ``submit_batch`` takes
several files at once (the API's batch): each is answered as it would be alone, the look-ups
they share are made once, and a file that fails is rolled back alone.

Uploads from the page arrive as one or several XML files or a ZIP of up to ``MAX_ZIP_FILES``
(``submit_files``); a ZIP is read with caps on size and compression ratio (a zip bomb is refused,
never expanded), and every file goes through ``submit_xml`` in a savepoint of its own, so one bad
file spares the others.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, case, or_, select, update
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
    DocumentLine,
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
)
from app.services import audit, events, notifications, webhooks
from app.services.documents import lines
from app.services.errors import DomainError, NotFound
from app.services.events import CreditNoteLinked
from app.services.inputs import normalize_email
from app.taxids import COUNTRIES, TaxIdError, tax_id_from_document
from app.tenancy import unscoped

ACCEPTED = "accepted"
UNREADABLE = "unreadable"
INVALID = "invalid"
NOT_SUPPLIER = "not_supplier"
DUPLICATE = "duplicate"
FAILED = "failed"  # a file of a batch that could not be stored (rolled back; send it again)


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
    stored: list[tuple[Document, list[dict[str, Any]]]] = []
    for item, document, receiver, grouped in plans:
        if document is None:
            submissions.append(
                _deliver(company, item, actor=actor, invite_email=None, known=known, guard=False)
            )
            continue
        if not grouped:
            db.session.add(document)
            db.session.flush()
        assert item.doc is not None
        stored.append((document, lines.xml_line_values(item.doc)))
        submissions.append(
            _announce(company, item, document, receiver, actor=actor, invite_email=None)
        )
    lines.add_lines(stored)  # every document's lines of the batch in one INSERT
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
            original = find_duplicate(company.id, item.doc.document_type.value, item.number)
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
        return find_duplicate(company_id, document_type, number)

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
        elif result.ordering is not None:
            # An Order, Catalogue… reads well but is not an invoice: say so, not "unreadable".
            kind = result.ordering.document_type.value
            checked.findings.append(
                error(
                    "PORTAL-TYPE",
                    f"Un {kind} no es una factura ni una nota: no se envía.",
                    f"A {kind} is not an invoice or a note: it is not sent.",
                )
            )
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
        original = find_duplicate(company_id, doc.document_type.value, number)
        if original is None:
            raise
        return _duplicate(company_id, checked, original, actor)
    if savepoint is not None:
        savepoint.commit()
    lines.add_lines([(document, lines.xml_line_values(doc))])
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
    document = Document(
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
        order_reference=lines.order_reference(doc),
    )
    return document


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
        emit_after_commit(receiver.id, "document:received", {"id": document.id})
        webhooks.document_received(document)  # an outbox row, committed with the document
        notifications.notify(receiver.id, kind=notifications.RECEIVED, document=document)
    else:
        submission.invitation_sent_to = invite_customer(company, document, invite_email)
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
    emit_after_commit(company_id, "document:sent", {"id": document.id})
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


def find_duplicate(company_id: int, document_type: str, number: str) -> Document | None:
    """Return the company's own document of that type and number, if it sent one already."""
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
            events.publish(CreditNoteLinked(invoice_id=invoice.id, note=note, actor=actor))
        return


def invite_customer(company: Company, document: Document, invite_email: str | None) -> str | None:
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
    # Attachments the sender shared while the document waited, and the document's lines,
    # become visible to the receiver.
    for model in (DocumentEvent, DocumentAttachment, DocumentLine):
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
        notifications.email_admins(
            sender_id, "documents_claimed", joined=company, documents=documents
        )
        emit_after_commit(sender_id, "document:changed", {"ids": [d.id for d in documents]})
    emit_after_commit(company.id, "document:received", {"ids": ids})
    return waiting


def emit_after_commit(company_id: int, event: str, payload: dict[str, Any]) -> None:
    """Tell a company's open pages once the change is safe in the database."""

    def emit() -> None:
        realtime.notify_company(company_id, event, payload)

    after_commit(db.session(), emit)


MAX_ZIP_FILES = 500


MAX_FILE_BYTES = 5 * 1024 * 1024


MAX_UNZIPPED_BYTES = 100 * 1024 * 1024


MAX_RATIO = 100


SKIPPED = "skipped"


@dataclass
class UploadReport:
    """What became of every file of one upload, in the order they came."""

    submissions: list[Submission] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        """Count the files that ended with outcome."""
        return sum(1 for s in self.submissions if s.outcome == outcome)

    @property
    def accepted(self) -> int:
        """How many files became documents."""
        return self.count(ACCEPTED)

    @property
    def refused(self) -> int:
        """How many files were refused (quarantined or duplicates)."""
        return len(self.submissions) - self.accepted


def expand_upload(filename: str, data: bytes) -> tuple[list[tuple[str, bytes]], list[str]]:
    """Return the XML files of one uploaded file (itself, or a ZIP's members) and what was skipped.

    Raises DomainError for a ZIP that is unreadable, holds too many files or expands too much.
    """
    name = (filename or "document.xml").rsplit("/", 1)[-1]
    if not zipfile.is_zipfile(io.BytesIO(data)):
        if len(data) > MAX_FILE_BYTES:
            raise DomainError(_l("%(file)s is larger than 5 MB.", file=name), field="files")
        return [(name, data)], []
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise DomainError(
            _l("%(file)s is not a ZIP the portal can read.", file=name), field="files"
        ) from None
    xml_members = [m for m in members if not m.is_dir() and m.filename.lower().endswith(".xml")]
    skipped = [m.filename for m in members if not m.is_dir() and m not in xml_members]
    if len(xml_members) > MAX_ZIP_FILES:
        raise DomainError(
            _l(
                "%(file)s holds %(count)d documents; a ZIP may hold at most %(max)d.",
                file=name,
                count=len(xml_members),
                max=MAX_ZIP_FILES,
            ),
            field="files",
        )
    files: list[tuple[str, bytes]] = []
    total = 0
    for member in xml_members:
        too_big = _l("%(file)s expands too much: it was refused.", file=name)
        if member.file_size > MAX_FILE_BYTES or (
            member.file_size > 1024 * 1024
            and member.file_size > MAX_RATIO * max(member.compress_size, 1)
        ):
            raise DomainError(too_big, field="files")
        try:
            with archive.open(member) as stream:
                # Read one byte past the cap: the header's sizes may lie.
                content = stream.read(MAX_FILE_BYTES + 1)
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, RuntimeError):
            raise DomainError(
                _l("%(file)s is not a ZIP the portal can read.", file=name), field="files"
            ) from None
        total += len(content)
        if len(content) > MAX_FILE_BYTES or total > MAX_UNZIPPED_BYTES:
            raise DomainError(too_big, field="files")
        files.append((member.filename.rsplit("/", 1)[-1], content))
    return files, skipped


def submit_files(company_id: int, *, files: list[tuple[str, bytes]], actor: User) -> UploadReport:
    """Submit every (name, bytes) pair, ZIPs expanded, each in its own savepoint."""
    expanded: list[tuple[str, bytes]] = []
    report = UploadReport()
    for name, data in files:
        members, skipped = expand_upload(name, data)
        expanded += members
        report.skipped += skipped
    if len(expanded) > MAX_ZIP_FILES:
        raise DomainError(
            _l("An upload may hold at most %(max)d documents.", max=MAX_ZIP_FILES), field="files"
        )
    if not expanded:
        raise DomainError(_l("Choose at least one XML file or a ZIP of them."), field="files")
    for name, data in expanded:
        savepoint = begin_nested(db.session())
        try:
            submission = submit_xml(company_id, filename=name, data=data, actor=actor)
        except Exception:
            savepoint.rollback()
            raise
        savepoint.commit()
        report.submissions.append(submission)
    return report
