"""GET /api/v1/openapi.json: the OpenAPI 3.1 description of the API, written by hand.

tests/api/test_openapi.py checks that every /api/v1 route is described here and that nothing
described is missing from the code, and runs schemathesis against it. Add a path here with
every route you add.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify

from app.blueprints.api import bp
from app.blueprints.api.documents import EVENT_CODES, EVENT_NAMES, MAX_BATCH_FILES
from app.einvoice.events import PERSON_ID_TYPES
from app.models.api import SCOPES
from app.models.document import DOCUMENT_TYPES, STATUSES


def _error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _json(schema_name: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}
        },
    }


# Every operation behind a token can answer these.
TOKEN_ERRORS = {
    "401": {"$ref": "#/components/responses/Unauthorized"},
    "403": {"$ref": "#/components/responses/Forbidden"},
    "429": {"$ref": "#/components/responses/TooManyRequests"},
    "default": {"$ref": "#/components/responses/Error"},
}

DOCUMENT_ID = {
    "name": "document_id",
    "in": "path",
    "required": True,
    "description": "The document's id",
    "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
}


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


_AMOUNT = {"type": "number", "minimum": -(10**15), "maximum": 10**15}
DOCUMENT_FILTERS = [
    _query(
        "direction",
        "The tray: documents received (default) or sent by the company.",
        {"type": "string", "enum": ["received", "sent"]},
    ),
    _query("date_from", "Issued on or after this day.", {"type": "string", "format": "date"}),
    _query("date_to", "Issued on or before this day.", {"type": "string", "format": "date"}),
    _query(
        "counterparty_id",
        "The other company's id.",
        {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
    ),
    _query(
        "tax_id",
        "The other party's tax id, or its first digits.",
        {"type": "string", "maxLength": 40},
    ),
    _query(
        "document_type",
        "Only this kind of document.",
        {"type": "string", "enum": list(DOCUMENT_TYPES)},
    ),
    _query("status", "Only documents in this status.", {"type": "string", "enum": list(STATUSES)}),
    _query("amount_min", "Payable amount at least this.", _AMOUNT),
    _query("amount_max", "Payable amount at most this.", _AMOUNT),
    _query("overdue", "Only unpaid invoices past their due date.", {"type": "boolean"}),
    _query(
        "q",
        "Search in the number and the counterparty's name.",
        {"type": "string", "maxLength": 100},
    ),
    _query(
        "cursor",
        "The `next_cursor` of the previous page.",
        {
            "type": "string",
            "pattern": "^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])_[1-9][0-9]{0,8}$",
        },
    ),
    _query(
        "limit",
        "Documents per page (default 50).",
        {"type": "integer", "minimum": 1, "maximum": 200},
    ),
]

_NULLABLE_STRING = {"type": ["string", "null"]}
_MONEY = {"type": "string", "pattern": "^-?[0-9]+\\.[0-9]{2}$", "examples": ["1190000.00"]}
_PARTY = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "tax_id", "company_id"],
    "properties": {
        "name": {"type": "string"},
        "tax_id": {"type": "string"},
        "country": {"type": "string"},
        "company_id": {
            "type": ["integer", "null"],
            "description": "null while it is not on the network",
        },
    },
}
_DOCUMENT_PROPERTIES: dict[str, Any] = {
    "id": {"type": "integer"},
    "direction": {"type": "string", "enum": ["received", "sent"]},
    "document_type": {"type": "string", "enum": list(DOCUMENT_TYPES)},
    "number": {"type": "string"},
    "cufe": _NULLABLE_STRING,
    "issue_date": {"type": "string", "format": "date"},
    "due_date": {"type": ["string", "null"], "format": "date"},
    "currency": {"type": "string", "examples": ["COP"]},
    "payable": _MONEY,
    "open_balance": _MONEY,
    "status": {"type": "string", "enum": list(STATUSES)},
    "payment_status": {"type": "string"},
    "is_legal": {"type": "boolean"},
    "waiting": {"type": "boolean", "description": "The customer is not on the network yet"},
    "supplier": _PARTY,
    "customer": _PARTY,
    "related_document_id": {"type": ["integer", "null"]},
    "created_at": {"type": "string", "format": "date-time"},
    "received_at": {"type": ["string", "null"], "format": "date-time"},
}
_FINDINGS = {"type": "array", "items": {"$ref": "#/components/schemas/Finding"}}
_ERROR_OBJECT: dict[str, Any] = {
    "type": "object",
    "required": ["code", "message", "details"],
    "additionalProperties": False,
    "properties": {
        "code": {
            "type": "string",
            "description": "Stable and machine-readable, e.g. not_found",
            "examples": ["not_found", "invalid_token", "unprocessable"],
        },
        "message": {
            "type": "string",
            "description": "For people, in the request's language",
        },
        "details": {"type": "object"},
    },
}


def _object(properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": list(properties),
        "properties": properties,
        **extra,
    }


SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Portal API (Express Connect)",
        "version": "1.0.0",
        "summary": "Connect an ERP to the business network: partners, documents, events.",
        "description": (
            "Authenticate with a company API token (created by an administrator in Company "
            "profile → API tokens) sent as `Authorization: Bearer <token>`. Each token holds "
            "scopes: " + ", ".join(f"`{s}`" for s in SCOPES) + ". Every error is JSON: "
            '`{"error": {"code", "message", "details"}}`. Requests are limited per '
            "token; the `X-RateLimit-*` headers tell how many remain."
        ),
        "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
    },
    "servers": [{"url": "/api/v1"}],
    "security": [{"bearerToken": []}],
    "paths": {
        "/partners": {
            "get": {
                "operationId": "listPartners",
                "summary": "List the company's suppliers and customers",
                "description": (
                    "Partnerships that are active or waiting for an answer, with the partner "
                    "company (or, when it is not on the network yet, the name and tax id it "
                    "was invited with). Needs the `documents:read` scope."
                ),
                "tags": ["partners"],
                "parameters": [
                    {
                        "name": "relation",
                        "in": "query",
                        "required": False,
                        "description": "Only suppliers, or only customers, of the company.",
                        "schema": {"type": "string", "enum": ["supplier", "customer"]},
                    }
                ],
                "responses": {
                    "200": _json("PartnerList", "The partners"),
                    "422": {"$ref": "#/components/responses/Unprocessable"},
                    **TOKEN_ERRORS,
                },
            }
        },
        "/documents": {
            "get": {
                "operationId": "listDocuments",
                "summary": "List received or sent documents, newest first",
                "description": (
                    "The Inbox trays with the same filters, paged by cursor: pass the "
                    "`next_cursor` of a page as `cursor` to read the next one (null on the "
                    "last page). Needs the `documents:read` scope."
                ),
                "tags": ["documents"],
                "parameters": DOCUMENT_FILTERS,
                "responses": {
                    "200": _json("DocumentList", "One page of documents"),
                    "422": {"$ref": "#/components/responses/Unprocessable"},
                    **TOKEN_ERRORS,
                },
            },
            "post": {
                "operationId": "createDocument",
                "summary": "Send a signed invoice, credit note or debit note",
                "description": (
                    "The XML goes through the same checks as an upload in the portal. A valid "
                    "document is delivered to the company with the customer's tax id (or waits "
                    "for it to join). A refused one is kept in the sender's quarantine and "
                    "answered with code `document_refused` and its findings; a duplicate with "
                    "code `duplicate`, `details.original_id` and `details.quarantine_id` (a "
                    "duplicate is kept in the quarantine too). Send the same "
                    "`Idempotency-Key` again within 24 hours to get the first answer back "
                    "without a second document. Several multipart parts named `file` (at most "
                    f"{MAX_BATCH_FILES}) make a batch: each file is accepted or refused on its "
                    "own and the answer is 207 with one result per file, in order, carrying "
                    "the status and the body that file alone would have got (`document` for a "
                    "201, `error` otherwise; a file that failed unexpectedly is a 500 result, "
                    "rolled back alone: send it again). Needs the `documents:write` scope."
                ),
                "tags": ["documents"],
                "parameters": [
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": False,
                        "description": "Any unique string of yours; retries reuse it.",
                        "schema": {
                            "type": "string",
                            "minLength": 1,
                            "maxLength": 255,
                            "pattern": "^[A-Za-z0-9_.:-]+$",
                        },
                    }
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/xml": {"schema": {"type": "string"}},
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["file"],
                                "properties": {
                                    "file": {
                                        "description": "One XML file, or several (a batch)",
                                        "oneOf": [
                                            {"type": "string", "format": "binary"},
                                            {
                                                "type": "array",
                                                "minItems": 2,
                                                "maxItems": MAX_BATCH_FILES,
                                                "items": {"type": "string", "format": "binary"},
                                            },
                                        ],
                                    }
                                },
                            }
                        },
                    },
                },
                "responses": {
                    "201": _json("SubmittedDocument", "Accepted: delivered or waiting"),
                    "207": _json("BatchResults", "A batch: one result per file, in order"),
                    "409": _error_response(
                        "A duplicate (code `duplicate`, `details.original_id`, "
                        "`details.quarantine_id`)"
                    ),
                    "413": _error_response(
                        f"The file is too large, or a batch of more than {MAX_BATCH_FILES} files"
                    ),
                    "415": _error_response("Neither application/xml nor multipart"),
                    "422": _error_response(
                        "Refused (code `document_refused`, `details.findings`), or a wrong "
                        "input such as a reused Idempotency-Key"
                    ),
                    **TOKEN_ERRORS,
                },
            },
        },
        "/documents/{document_id}": {
            "get": {
                "operationId": "getDocument",
                "summary": "One document the company sent or received",
                "tags": ["documents"],
                "parameters": [DOCUMENT_ID],
                "responses": {
                    "200": _json("DocumentDetail", "The document"),
                    "404": {"$ref": "#/components/responses/NotFound"},
                    **TOKEN_ERRORS,
                },
            }
        },
        "/documents/{document_id}/xml": {
            "get": {
                "operationId": "getDocumentXml",
                "summary": "The document's XML, as its sender signed it",
                "tags": ["documents"],
                "parameters": [DOCUMENT_ID],
                "responses": {
                    "200": {
                        "description": "The XML file",
                        "content": {
                            "application/xml": {"schema": {"type": "string", "format": "binary"}}
                        },
                    },
                    "404": {"$ref": "#/components/responses/NotFound"},
                    **TOKEN_ERRORS,
                },
            }
        },
        "/documents/{document_id}/pdf": {
            "get": {
                "operationId": "getDocumentPdf",
                "summary": "The document's graphic representation (PDF with DIAN's QR code)",
                "tags": ["documents"],
                "parameters": [DOCUMENT_ID],
                "responses": {
                    "200": {
                        "description": "The PDF file",
                        "content": {
                            "application/pdf": {"schema": {"type": "string", "format": "binary"}}
                        },
                    },
                    "404": {"$ref": "#/components/responses/NotFound"},
                    "422": {"$ref": "#/components/responses/Unprocessable"},
                    **TOKEN_ERRORS,
                },
            }
        },
        "/documents/{document_id}/events": {
            "get": {
                "operationId": "listDocumentEvents",
                "summary": "The document's DIAN events, oldest first",
                "tags": ["events"],
                "parameters": [DOCUMENT_ID],
                "responses": {
                    "200": _json("EventList", "The events"),
                    "404": {"$ref": "#/components/responses/NotFound"},
                    **TOKEN_ERRORS,
                },
            },
            "post": {
                "operationId": "createDocumentEvent",
                "summary": "Acknowledge, record the receipt of, accept or claim a received invoice",
                "description": (
                    "`acknowledge` (DIAN 030) → `receipt` (032) → `accept` (033) or `claim` "
                    "(031, with `reason` 01–04 and a `note`). Events are irreversible: one "
                    "already recorded answers 409, one that cannot follow the current status "
                    "answers 422. Only the invoice's customer records them. Needs the "
                    "`events:write` scope."
                ),
                "tags": ["events"],
                "parameters": [DOCUMENT_ID],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/NewEvent"}}
                    },
                },
                "responses": {
                    "201": _json("Event", "The event, signed and recorded"),
                    "404": {"$ref": "#/components/responses/NotFound"},
                    "409": _error_response("Already recorded, or the invoice changed meanwhile"),
                    "422": {"$ref": "#/components/responses/Unprocessable"},
                    **TOKEN_ERRORS,
                },
            },
        },
        "/openapi.json": {
            "get": {
                "operationId": "getOpenApi",
                "summary": "This description of the API",
                "tags": ["meta"],
                "security": [],
                "responses": {
                    "200": {
                        "description": "The OpenAPI 3.1 document",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    "429": {"$ref": "#/components/responses/TooManyRequests"},
                    "default": {"$ref": "#/components/responses/Error"},
                },
            }
        },
    },
    "components": {
        "securitySchemes": {
            "bearerToken": {
                "type": "http",
                "scheme": "bearer",
                "description": "A company API token, shown once when it is created.",
            }
        },
        "responses": {
            "Unauthorized": _error_response(
                "No token, or a token that is invalid or revoked (code `missing_token` or "
                "`invalid_token`)"
            ),
            "Forbidden": _error_response(
                "The token lacks the scope this needs (code `insufficient_scope`)"
            ),
            "Unprocessable": _error_response(
                "The input was refused; `details.fields` names the inputs and why"
            ),
            "NotFound": _error_response(
                "Nothing with this id, or it belongs to another company (code `not_found`)"
            ),
            "TooManyRequests": _error_response("Too many requests with this token; wait"),
            "Error": _error_response("Any other error, in the same shape"),
        },
        "schemas": {
            "Error": {
                "type": "object",
                "required": ["error"],
                "additionalProperties": False,
                "properties": {"error": _ERROR_OBJECT},
            },
            "Partner": {
                "type": "object",
                "additionalProperties": False,
                "required": [
                    "id",
                    "relation",
                    "status",
                    "awaiting_your_answer",
                    "name",
                    "on_network",
                    "company_id",
                    "country",
                    "tax_id",
                    "created_at",
                ],
                "properties": {
                    "id": {"type": "integer", "description": "The partnership's id"},
                    "relation": {
                        "type": "string",
                        "enum": ["supplier", "customer"],
                        "description": "What the partner is to the company",
                    },
                    "status": {"type": "string", "enum": ["pending", "active"]},
                    "awaiting_your_answer": {
                        "type": "boolean",
                        "description": "The partner asked to connect; the company must answer",
                    },
                    "name": {"type": "string"},
                    "on_network": {"type": "boolean"},
                    "company_id": {"type": ["integer", "null"]},
                    "country": {"type": ["string", "null"], "examples": ["CO"]},
                    "tax_id": {"type": ["string", "null"], "description": "Digits only"},
                    "created_at": {"type": "string", "format": "date-time"},
                },
            },
            "Finding": _object(
                {
                    "severity": {"type": "string", "enum": ["error", "warning"]},
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "path": {"type": "string"},
                }
            ),
            "Document": _object(_DOCUMENT_PROPERTIES),
            "DocumentDetail": _object(
                {
                    **_DOCUMENT_PROPERTIES,
                    "next_events": {
                        "type": "array",
                        "items": {"type": "string", "enum": list(EVENT_CODES)},
                        "description": "What the company may record now",
                    },
                    "findings": _FINDINGS,
                }
            ),
            "SubmittedDocument": _object({**_DOCUMENT_PROPERTIES, "findings": _FINDINGS}),
            "BatchResults": _object(
                {
                    "results": {
                        "type": "array",
                        "items": {"$ref": "#/components/schemas/BatchResult"},
                    }
                }
            ),
            "BatchResult": {
                "type": "object",
                "required": ["filename", "status"],
                "properties": {
                    "filename": {"type": "string"},
                    "status": {"type": "integer", "enum": [201, 409, 422, 500]},
                    "document": {"$ref": "#/components/schemas/SubmittedDocument"},
                    "error": _ERROR_OBJECT,
                },
                "oneOf": [
                    {"required": ["document"], "properties": {"status": {"const": 201}}},
                    {"required": ["error"], "properties": {"status": {"enum": [409, 422, 500]}}},
                ],
                "additionalProperties": False,
            },
            "DocumentList": _object(
                {
                    "data": {"type": "array", "items": {"$ref": "#/components/schemas/Document"}},
                    "next_cursor": {"type": ["string", "null"]},
                }
            ),
            "NewEvent": {
                "type": "object",
                "required": ["code"],
                "properties": {
                    "code": {"type": "string", "enum": list(EVENT_CODES)},
                    "reason": {
                        "type": ["string", "null"],
                        "enum": ["01", "02", "03", "04", None],
                        "description": "For a claim: 01 inconsistent document, 02 goods not "
                        "fully delivered, 03 partially delivered, 04 service not rendered",
                    },
                    "note": {"type": "string", "maxLength": 2000},
                    "person": {
                        "type": "object",
                        "description": "Who records an acknowledgement or a receipt (DIAN "
                        "names them on 030 and 032). Without it, the token's creator by the "
                        "identity document on their profile; a token nobody created must "
                        "send it.",
                        "required": ["id_type", "id_number", "first_name", "family_name"],
                        "properties": {
                            "id_type": {"type": "string", "enum": sorted(PERSON_ID_TYPES)},
                            "id_number": {"type": "string", "maxLength": 40},
                            "first_name": {"type": "string", "maxLength": 120},
                            "family_name": {"type": "string", "maxLength": 120},
                            "job_title": {"type": "string", "maxLength": 120},
                            "department": {"type": "string", "maxLength": 120},
                        },
                    },
                },
            },
            "Event": _object(
                {
                    "id": {"type": "integer"},
                    "document_id": {"type": "integer"},
                    "code": {"type": "string", "enum": sorted(EVENT_NAMES.values())},
                    "dian_code": {"type": "string", "enum": ["030", "031", "032", "033", "034"]},
                    "claim_reason": _NULLABLE_STRING,
                    "note": {"type": "string"},
                    "number": {"type": "string"},
                    "cude": _NULLABLE_STRING,
                    "actor_company_id": {"type": "integer"},
                    "created_at": {"type": "string", "format": "date-time"},
                }
            ),
            "EventList": _object(
                {"data": {"type": "array", "items": {"$ref": "#/components/schemas/Event"}}}
            ),
            "PartnerList": {
                "type": "object",
                "additionalProperties": False,
                "required": ["data"],
                "properties": {
                    "data": {"type": "array", "items": {"$ref": "#/components/schemas/Partner"}}
                },
            },
        },
    },
}


@bp.get("/openapi.json")
def get_openapi() -> Any:
    return jsonify(SPEC)
