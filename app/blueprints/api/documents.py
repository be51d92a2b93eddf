"""/api/v1/documents: send a signed document, read the trays, download, record DIAN events."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from flask import Response, jsonify, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import UnsupportedMediaType

from app.blueprints.api import bp
from app.blueprints.api.auth import acting_user, current_token, require_token
from app.blueprints.api.schemas import (
    EVENT_CODES,
    MAX_ID,
    DocumentQuery,
    EventPerson,
    NewEvent,
    json_body,
    printable,
    takes_query,
)
from app.einvoice import events as dian_events
from app.extensions import db
from app.models import Document, DocumentEvent
from app.models.api import DOCUMENTS_READ, DOCUMENTS_WRITE, EVENTS_WRITE
from app.services import audit, idempotency
from app.services.documents import queries, reading, storing
from app.services.errors import DomainError, FieldErrors
from app.services.lifecycle import transitions
from app.web.findings import finding_message

XML_TYPES = {"application/xml", "text/xml"}
EVENT_NAMES = {code: name for name, code in EVENT_CODES.items()} | {"034": "tacit_acceptance"}
#: An id an INTEGER column can hold: a larger one is a 404 from the router, not an overflow.
ID = f"int(min=1, max={MAX_ID})"
#: The most files one multipart request may carry (several parts named "file").
MAX_BATCH_FILES = 100


class TooManyFiles(DomainError):
    """More files in one request than a batch may carry."""

    status = 413


@bp.post("/documents")
@require_token(DOCUMENTS_WRITE)
@takes_query()
def create_document() -> Any:
    files = _uploaded_files()
    company_id = current_token().company_id
    if len(files) == 1:
        (filename, data), parts = files[0], ("POST /documents", *files[0])
        return _answer_once(company_id, parts, lambda: _submit(company_id, filename, data))
    parts = ("POST /documents batch", *(part for file in files for part in file))
    return _answer_once(company_id, parts, lambda: _submit_batch(company_id, files))


def _answer_once(
    company_id: int, parts: tuple[bytes | str, ...], work: Callable[[], tuple[int, dict[str, Any]]]
) -> Response:
    """Do the work and commit; with an Idempotency-Key, keep the answer and replay it."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        status, body = work()
        db.session.commit()
        return _json(status, body)
    key = idempotency.check_key(key)
    fingerprint = idempotency.request_hash(*parts)
    stored = idempotency.find_replay(company_id, key=key, fingerprint=fingerprint)
    if stored is None:
        status, body = work()
        idempotency.remember_response(
            company_id, key=key, fingerprint=fingerprint, status=status, body=body
        )
        try:
            db.session.commit()
            return _json(status, body)
        except IntegrityError:  # the same key, sent twice at once: the first one won
            db.session.rollback()
            stored = idempotency.find_replay(company_id, key=key, fingerprint=fingerprint)
            if stored is None:
                raise
    response = _json(stored.status_code, stored.response)
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _uploaded_files() -> list[tuple[str, bytes]]:
    """Read the XML from the raw body, or the multipart field "file" (several: a batch)."""
    if request.mimetype == "multipart/form-data":
        uploads = request.files.getlist("file")
        if not uploads:
            raise DomainError(_l("Send the XML file in the multipart field “file”."), field="file")
        if len(uploads) > MAX_BATCH_FILES:
            raise TooManyFiles(
                _l(
                    "Send at most %(max)d files in one request (this one has %(count)d).",
                    max=MAX_BATCH_FILES,
                    count=len(uploads),
                ),
                field="file",
            )
        return [(printable(u.filename or "") or "document.xml", u.read()) for u in uploads]
    if request.mimetype not in XML_TYPES:
        raise UnsupportedMediaType(
            _("Send the XML with Content-Type application/xml, or as multipart field “file”.")
        )
    data = request.get_data(cache=False)
    if not data:
        raise DomainError(_l("The request body is empty: send the signed XML."), field="body")
    return [(printable(request.headers.get("X-Filename") or "") or "document.xml", data)]


def _submit(company_id: int, filename: str, data: bytes) -> tuple[int, dict[str, Any]]:
    """Submit one file and return the status and body to answer (and to replay)."""
    submission = storing.submit_xml(company_id, filename=filename, data=data, actor=acting_user())
    return _answer(submission, company_id)


def _submit_batch(company_id: int, files: list[tuple[str, bytes]]) -> tuple[int, dict[str, Any]]:
    """Submit several files, each on its own; answer 207 with each file's status and body."""
    submissions = storing.submit_batch(company_id, files=files, actor=acting_user())
    results = []
    for submission in submissions:
        status, body = _answer(submission, company_id)
        entry: dict[str, Any] = {"filename": submission.filename, "status": status}
        results.append(entry | ({"document": body} if status == 201 else body))
    return 207, {"results": results}


def _answer(submission: storing.Submission, company_id: int) -> tuple[int, dict[str, Any]]:
    """Return the status and body that answer one submission."""
    findings = [f.as_dict(_language()) for f in submission.findings]
    if submission.accepted:
        return 201, {**_document(submission.document, company_id), "findings": findings}
    if submission.duplicate_of is not None:
        return 409, _error_body(
            "duplicate",
            submission.message,
            {
                "original_id": submission.duplicate_of.id,
                "quarantine_id": submission.quarantined.id if submission.quarantined else None,
                "findings": findings,
            },
        )
    if submission.quarantined is None:  # a file of a batch that failed and was rolled back
        return 500, _error_body("server_error", submission.message, {})
    return 422, _error_body(
        "document_refused",
        submission.message,
        {
            "reason": submission.outcome,
            "quarantine_id": submission.quarantined.id,
            "findings": findings,
        },
    )


@bp.get("/documents")
@require_token(DOCUMENTS_READ)
@takes_query(DocumentQuery)
def list_documents(query: DocumentQuery) -> Any:
    company_id = current_token().company_id
    read = {None: queries.visible, "received": queries.received, "sent": queries.sent}[
        query.direction
    ]
    page = queries.page(
        read(company_id, filters=query.filters()), cursor=query.cursor, limit=query.limit
    )
    return jsonify(
        {
            "data": [_document(d, company_id) for d in page.items],
            "next_cursor": page.next_cursor,
        }
    )


@bp.get(f"/documents/<{ID}:document_id>")
@require_token(DOCUMENTS_READ)
@takes_query()
def get_document(document_id: int) -> Any:
    company_id = current_token().company_id
    document = queries.get_document(company_id, document_id)
    _accessed("document.viewed", document)
    return jsonify(_document(document, company_id, detail=True))


@bp.get(f"/documents/<{ID}:document_id>/xml")
@require_token(DOCUMENTS_READ)
@takes_query()
def get_document_xml(document_id: int) -> Any:
    document = queries.get_document(current_token().company_id, document_id)
    filename = document.filename or f"{document.number}.xml"
    _accessed("document.xml_downloaded", document)
    return _download(document.original, "application/xml", filename)


@bp.get(f"/documents/<{ID}:document_id>/pdf")
@require_token(DOCUMENTS_READ)
@takes_query()
def get_document_pdf(document_id: int) -> Any:
    company_id = current_token().company_id
    data = reading.document_pdf(company_id, document_id, locale=_language())
    document = queries.get_document(company_id, document_id)
    _accessed("document.pdf_downloaded", document)
    return _download(data, "application/pdf", f"{document.number}.pdf")


@bp.get(f"/documents/<{ID}:document_id>/events")
@require_token(DOCUMENTS_READ)
@takes_query()
def list_document_events(document_id: int) -> Any:
    company_id = current_token().company_id
    queries.get_document(company_id, document_id)  # 404 for another company's document
    events = db.session.scalars(queries.document_events(company_id, document_id)).all()
    return jsonify({"data": [_event(e) for e in events]})


@bp.post(f"/documents/<{ID}:document_id>/events")
@require_token(EVENTS_WRITE)
@takes_query()
def create_document_event(document_id: int) -> Any:
    company_id = current_token().company_id
    queries.get_document(company_id, document_id)  # 404 before any check of the body
    body = json_body(NewEvent)
    actor = acting_user()
    code = EVENT_CODES[body.code]
    person = None
    if code in dian_events.EVENTS_WITH_PERSON:
        person = _event_person(body.person)
    event = transitions.record_event(
        company_id,
        document_id=document_id,
        code=code,
        actor=actor,
        claim_reason=body.reason,
        note=body.note,
        person=person,  # None: the token's creator, by the identity on their profile
    )
    db.session.commit()
    return _json(201, _event(event))


# ------------------------------------------------------------------------------- the shapes


def _document(document: Document, company_id: int, *, detail: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": document.id,
        "direction": "sent" if document.sender_company_id == company_id else "received",
        "document_type": document.document_type,
        "number": document.number,
        "cufe": document.cufe,
        "issue_date": document.issue_date.isoformat(),
        "due_date": document.due_date.isoformat() if document.due_date else None,
        "currency": document.currency,
        "payable": _money(document.payable),
        "open_balance": _money(document.open_balance),
        "status": document.status,
        "payment_status": document.payment_status,
        "is_legal": document.is_legal,
        "waiting": document.waiting,
        "supplier": {
            "name": document.supplier_name,
            "tax_id": document.supplier_tax_id,
            "company_id": document.sender_company_id,
        },
        "customer": {
            "name": document.customer_name,
            "tax_id": document.customer_tax_id,
            "country": document.customer_country,
            "company_id": document.receiver_company_id,
        },
        "related_document_id": document.related_document_id,
        "created_at": document.created_at.isoformat(),
        "received_at": document.received_at.isoformat() if document.received_at else None,
    }
    if detail:
        body["next_events"] = [
            EVENT_NAMES[code]
            for code in transitions.next_events(document.status)
            if document.receiver_company_id == company_id
        ]
        body["findings"] = [_stored_finding(f) for f in document.findings or []]
    return body


def _event(event: DocumentEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "document_id": event.document_id,
        "code": EVENT_NAMES.get(event.code, event.code),
        "dian_code": event.code,
        "claim_reason": event.claim_reason,
        "note": event.note,
        "number": event.number,
        "cude": event.cude,
        "actor_company_id": event.actor_company_id,
        "created_at": event.created_at.isoformat(),
    }


def _stored_finding(finding: dict[str, Any]) -> dict[str, Any]:
    return {
        "severity": finding.get("severity", ""),
        "code": finding.get("code", ""),
        "message": finding_message(finding, _language()),
        "path": finding.get("path", ""),
    }


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _error_body(code: str, message: Any, details: dict[str, Any]) -> dict[str, Any]:
    return {"error": {"code": code, "message": str(message), "details": details}}


def _json(status: int, body: dict[str, Any]) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response


def _accessed(action: str, document: Document) -> None:
    """Record that the token's company read the document (the access audit), and commit."""
    audit.record_access(acting_user(), current_token().company_id, action, document, {"via": "api"})
    db.session.commit()


def _download(data: bytes, mimetype: str, filename: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{_safe(filename)}"'
    return response


def _safe(filename: str) -> str:
    return "".join(c for c in filename if c.isalnum() or c in "._-")[:120] or "document"


def _language() -> str:
    return "en" if str(get_locale() or "es").startswith("en") else "es"


def _event_person(person: EventPerson | None) -> dian_events.Person | None:
    """Check the "person" an ERP names on a 030 or 032 (who received); None when not sent."""
    if person is None:
        return None
    try:
        return transitions.event_person(**person.model_dump())
    except FieldErrors as error:
        raise FieldErrors({f"person.{key}": m for key, m in error.errors.items()}) from None
