"""/api/v1/documents: send a signed document, read the trays, download, record DIAN events.

Each view declares what it takes and answers once, with ``api.validate`` (``spec.py``); the
bodies are built through the models of ``responses.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response as FlaskResponse
from flask import request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from pydantic import BaseModel
from spectree import Response
from werkzeug.exceptions import UnsupportedMediaType

from app.blueprints.api import bp
from app.blueprints.api.auth import acting_user, current_token, require_token
from app.blueprints.api.replay import answer_once
from app.blueprints.api.responses import (
    BatchDocument,
    BatchError,
    BatchResults,
    Document,
    DocumentDetail,
    DocumentList,
    DocumentPayment,
    Error,
    Event,
    EventList,
    Finding,
    SubmittedDocument,
)
from app.blueprints.api.schemas import (
    EVENT_CODES,
    MAX_BATCH_FILES,
    MAX_ID,
    DocumentHeaders,
    DocumentQuery,
    DocumentUpload,
    EventPerson,
    NewEvent,
    printable,
)
from app.blueprints.api.spec import NOT_FOUND, UNPROCESSABLE, api
from app.einvoice import events as dian_events
from app.extensions import db
from app.models import Document as DocumentRow
from app.models.api import DOCUMENTS_READ, DOCUMENTS_WRITE, EVENTS_WRITE
from app.services import audit
from app.services.documents import queries, reading, storing
from app.services.errors import DomainError, FieldErrors
from app.services.lifecycle import transitions
from app.services.payments import queries as payment_queries

XML_TYPES = {"application/xml", "text/xml"}
#: An id an INTEGER column can hold: a larger one is a 404 from the router, not an overflow.
ID = f"int(min=1, max={MAX_ID})"
DOCUMENT_ID = {"document_id": "The document's id"}


class TooManyFiles(DomainError):
    """More files in one request than a batch may carry."""

    status = 413


def file_answer(mimetype: str) -> dict[str, Any]:
    """Describe a 200 that is a file download (no JSON model says it)."""
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {"responses": {"200": {"content": {mimetype: binary}}}}


def visible_document(view: Callable[..., Any]) -> Callable[..., Any]:
    """Answer 404 for a document the company cannot see, before any check of the input."""

    @wraps(view)
    def wrapped(*args: Any, document_id: int, **kwargs: Any) -> Any:
        queries.get_document(current_token().company_id, document_id)
        return view(*args, document_id=document_id, **kwargs)

    return wrapped


@bp.post("/documents")
@require_token(DOCUMENTS_WRITE)
@api.validate(
    form=DocumentUpload,
    headers=DocumentHeaders,
    resp=Response(
        HTTP_201=(SubmittedDocument, "Accepted: delivered or waiting"),
        HTTP_207=(BatchResults, "A batch: one result per file, in order"),
        HTTP_409=(
            Error,
            "A duplicate (code `duplicate`, `details.original_id`, `details.quarantine_id`)",
        ),
        HTTP_413=(Error, "The file is too large, or a batch of more files than it may carry"),
        HTTP_415=(Error, "Neither application/xml nor multipart"),
        HTTP_422=(
            Error,
            "Refused (code `document_refused`, `details.findings`), or a wrong input such as "
            "a reused Idempotency-Key",
        ),
    ),
    tags=["documents"],
    operation_id="createDocument",
    openapi_extra={"requestBody": {"content": {"application/xml": {"schema": {"type": "string"}}}}},
)
def create_document() -> Any:
    """Send a signed invoice, credit note or debit note

    The XML goes through the same checks as an upload in the portal. A valid document is
    delivered to the company with the customer's tax id (or waits for it to join). A refused one
    is kept in the sender's quarantine and answered with code `document_refused` and its
    findings; a duplicate with code `duplicate`, `details.original_id` and
    `details.quarantine_id` (a duplicate is kept in the quarantine too). Send the same
    `Idempotency-Key` again within 24 hours to get the first answer back without a second
    document. Several multipart parts named `file` make a batch (as many as the request body's
    schema allows): each file is accepted or refused on its own and the answer is 207 with one
    result per file, in order, carrying the status and the body that file alone would have got
    (`document` for a 201, `error` otherwise; a file that failed unexpectedly is a 500 result,
    rolled back alone: send it again). Needs the `documents:write` scope.
    """
    files = _uploaded_files()
    company_id = current_token().company_id
    if len(files) == 1:
        (filename, data), parts = files[0], ("POST /documents", *files[0])
        return answer_once(company_id, parts, lambda: _submit(company_id, filename, data))
    parts = ("POST /documents batch", *(part for file in files for part in file))
    return answer_once(company_id, parts, lambda: _submit_batch(company_id, files))


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


def _submit(company_id: int, filename: str, data: bytes) -> tuple[int, BaseModel]:
    """Submit one file and return the status and body to answer (and to replay)."""
    submission = storing.submit_xml(company_id, filename=filename, data=data, actor=acting_user())
    return _answer(submission, company_id)


def _submit_batch(company_id: int, files: list[tuple[str, bytes]]) -> tuple[int, BaseModel]:
    """Submit several files, each on its own; answer 207 with each file's status and body."""
    submissions = storing.submit_batch(company_id, files=files, actor=acting_user())
    results: list[BatchDocument | BatchError] = []
    for submission in submissions:
        status, answer = _answer(submission, company_id)
        name = submission.filename
        if isinstance(answer, SubmittedDocument):
            results.append(BatchDocument(filename=name, status=201, document=answer))
        else:
            assert isinstance(answer, Error)
            results.append(BatchError(filename=name, status=status, error=answer.error))
    return 207, BatchResults(results=results)


def _answer(
    submission: storing.Submission, company_id: int
) -> tuple[int, SubmittedDocument | Error]:
    """Return the status and body that answer one submission."""
    findings = [Finding(**f.as_dict(_language())) for f in submission.findings]
    if submission.accepted:
        return 201, SubmittedDocument.of(submission.document, company_id, findings=findings)
    found = [f.model_dump() for f in findings]
    if submission.duplicate_of is not None:
        return 409, Error.of(
            "duplicate",
            submission.message,
            {
                "original_id": submission.duplicate_of.id,
                "quarantine_id": submission.quarantined.id if submission.quarantined else None,
                "findings": found,
            },
        )
    if submission.quarantined is None:  # a file of a batch that failed and was rolled back
        return 500, Error.of("server_error", submission.message)
    return 422, Error.of(
        "document_refused",
        submission.message,
        {
            "reason": submission.outcome,
            "quarantine_id": submission.quarantined.id,
            "findings": found,
        },
    )


@bp.get("/documents")
@require_token(DOCUMENTS_READ)
@api.validate(
    resp=Response(HTTP_200=(DocumentList, "One page of documents"), HTTP_422=UNPROCESSABLE),
    tags=["documents"],
    operation_id="listDocuments",
)
def list_documents(query: DocumentQuery) -> Any:
    """List the documents the company received and sent, newest first

    Every document the company can see — received and sent — unless `direction` narrows it to
    one tray; the Inbox's filters, the counterparty being the other company of each document.
    Paged by cursor: pass the `next_cursor` of a page as `cursor` to read the next one (null on
    the last page); a cursor is opaque, only this server reads it. A query parameter this
    operation does not know is refused (422, naming it). Needs the `documents:read` scope.
    """
    company_id = current_token().company_id
    read = {None: queries.visible, "received": queries.received, "sent": queries.sent}[
        query.direction
    ]
    page = queries.page(
        read(company_id, filters=query.filters()), cursor=query.cursor, limit=query.limit
    )
    return DocumentList(
        data=[Document.of(d, company_id) for d in page.items], next_cursor=page.next_cursor
    )


@bp.get(f"/documents/<{ID}:document_id>")
@require_token(DOCUMENTS_READ)
@api.validate(
    resp=Response(
        HTTP_200=(DocumentDetail, "The document"), HTTP_404=NOT_FOUND, HTTP_422=UNPROCESSABLE
    ),
    tags=["documents"],
    operation_id="getDocument",
    path_parameter_descriptions=DOCUMENT_ID,
)
def get_document(document_id: int) -> Any:
    """One document the company sent or received"""
    company_id = current_token().company_id
    document = queries.get_document(company_id, document_id)
    _accessed("document.viewed", document)
    detail = DocumentDetail.detail(document, company_id, language=_language())
    detail.payments = [
        DocumentPayment(
            id=p.id,
            status=p.status,
            method=p.method,
            amount=a.amount,
            refunded_amount=a.refunded_amount,
            created_at=p.created_at,
        )
        for p, a in payment_queries.document_payments(company_id, document_id)
    ]
    return detail


@bp.get(f"/documents/<{ID}:document_id>/xml")
@require_token(DOCUMENTS_READ)
@api.validate(
    resp=Response(HTTP_200=(None, "The XML file"), HTTP_404=NOT_FOUND, HTTP_422=UNPROCESSABLE),
    tags=["documents"],
    operation_id="getDocumentXml",
    path_parameter_descriptions=DOCUMENT_ID,
    openapi_extra=file_answer("application/xml"),
)
def get_document_xml(document_id: int) -> Any:
    """The document's XML, as its sender signed it"""
    document = queries.get_document(current_token().company_id, document_id)
    filename = document.filename or f"{document.number}.xml"
    _accessed("document.xml_downloaded", document)
    return download(document.original, "application/xml", filename)


@bp.get(f"/documents/<{ID}:document_id>/pdf")
@require_token(DOCUMENTS_READ)
@api.validate(
    resp=Response(HTTP_200=(None, "The PDF file"), HTTP_404=NOT_FOUND, HTTP_422=UNPROCESSABLE),
    tags=["documents"],
    operation_id="getDocumentPdf",
    path_parameter_descriptions=DOCUMENT_ID,
    openapi_extra=file_answer("application/pdf"),
)
def get_document_pdf(document_id: int) -> Any:
    """The document's graphic representation (PDF with DIAN's QR code)"""
    company_id = current_token().company_id
    data = reading.document_pdf(company_id, document_id, locale=_language())
    document = queries.get_document(company_id, document_id)
    _accessed("document.pdf_downloaded", document)
    return download(data, "application/pdf", f"{document.number}.pdf")


@bp.get(f"/documents/<{ID}:document_id>/events")
@require_token(DOCUMENTS_READ)
@api.validate(
    resp=Response(HTTP_200=(EventList, "The events"), HTTP_404=NOT_FOUND, HTTP_422=UNPROCESSABLE),
    tags=["events"],
    operation_id="listDocumentEvents",
    path_parameter_descriptions=DOCUMENT_ID,
)
def list_document_events(document_id: int) -> Any:
    """The document's DIAN events, oldest first"""
    company_id = current_token().company_id
    queries.get_document(company_id, document_id)  # 404 for another company's document
    events = db.session.scalars(queries.document_events(company_id, document_id)).all()
    return EventList(data=[Event.of(e) for e in events])


@bp.post(f"/documents/<{ID}:document_id>/events")
@require_token(EVENTS_WRITE)
@visible_document
@api.validate(
    resp=Response(
        HTTP_201=(Event, "The event, signed and recorded"),
        HTTP_400=(Error, "The body is not JSON that can be read"),
        HTTP_404=NOT_FOUND,
        HTTP_409=(Error, "Already recorded, or the invoice changed meanwhile"),
        HTTP_415=(Error, "The body is not sent as application/json"),
        HTTP_422=UNPROCESSABLE,
    ),
    tags=["events"],
    operation_id="createDocumentEvent",
    path_parameter_descriptions=DOCUMENT_ID,
)
def create_document_event(document_id: int, json: NewEvent) -> Any:
    """Acknowledge, record the receipt of, accept or claim a received invoice

    `acknowledge` (DIAN 030) → `receipt` (032) → `accept` (033) or `claim` (031, with `reason`
    01–04 and a `note`). Events are irreversible: one already recorded answers 409, one that
    cannot follow the current status answers 422. Only the invoice's customer records them.
    Needs the `events:write` scope.
    """
    code = EVENT_CODES[json.code]
    person = None
    if code in dian_events.EVENTS_WITH_PERSON:
        person = _event_person(json.person)
    event = transitions.record_event(
        current_token().company_id,
        document_id=document_id,
        code=code,
        actor=acting_user(),
        claim_reason=json.reason,
        note=json.note,
        person=person,  # None: the token's creator, by the identity on their profile
    )
    db.session.commit()
    return Event.of(event), 201


# ------------------------------------------------------------------------------- the helpers


def _accessed(action: str, document: DocumentRow) -> None:
    """Record that the token's company read the document (the access audit), and commit."""
    audit.record_access(acting_user(), current_token().company_id, action, document, {"via": "api"})
    db.session.commit()


def download(data: bytes, mimetype: str, filename: str) -> FlaskResponse:
    """Answer a file download (the orders' documents too)."""
    response = FlaskResponse(data, mimetype=mimetype)
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
