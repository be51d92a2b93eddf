"""GET /api/v1/openapi.json: the OpenAPI 3.1 description of the API.

What the API accepts is written once, as the pydantic models of ``schemas.py``: each operation's
query parameters come from its view's ``query_model`` and the JSON bodies' schemas from
``schemas.BODY_MODELS``, so the description and the checks cannot drift apart. The paths,
answers and response shapes are written here by hand.

tests/api/test_openapi.py checks that every /api/v1 route is described here and that nothing
described is missing from the code, and runs schemathesis against it (valid and invalid
requests alike: no server error, every invalid one refused). Add a path here with every route
you add.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify
from pydantic.json_schema import models_json_schema

from app.blueprints.api import bp, documents, partners
from app.blueprints.api.documents import EVENT_CODES, EVENT_NAMES, MAX_BATCH_FILES
from app.blueprints.api.schemas import BODY_MODELS, MAX_ID, Schema, takes_query
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
    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
}


def query_parameters(model: type[Schema]) -> list[dict[str, Any]]:
    """Describe a query model's fields as OpenAPI query parameters."""
    schema = model.model_json_schema(mode="validation")
    parameters = []
    for name, field_schema in schema.get("properties", {}).items():
        field_schema = {k: v for k, v in field_schema.items() if k not in ("title", "default")}
        description = field_schema.pop("description", "")
        # An optional parameter is one that is left out, never a null.
        options = [o for o in field_schema.pop("anyOf", []) if o.get("type") != "null"]
        if options:
            (only,) = options
            field_schema |= only
        default = schema["properties"][name].get("default")
        if default not in (None, "", False):
            field_schema["default"] = default
        parameters.append(
            {
                "name": name,
                "in": "query",
                "required": name in schema.get("required", []),
                "description": description,
                "schema": field_schema,
            }
        )
    return parameters


def _query_of(view: Any) -> list[dict[str, Any]]:
    return query_parameters(view.query_model)


_BODY_SCHEMAS = models_json_schema(
    [(model, "validation") for model in BODY_MODELS], ref_template="#/components/schemas/{model}"
)[1]["$defs"]


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
                "parameters": _query_of(partners.list_partners),
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
                "summary": "List the documents the company received and sent, newest first",
                "description": (
                    "Every document the company can see — received and sent — unless "
                    "`direction` narrows it to one tray; the Inbox's filters, the counterparty "
                    "being the other company of each document. Paged by cursor: pass the "
                    "`next_cursor` of a page as `cursor` to read the next one (null on the "
                    "last page); a cursor is opaque, only this server reads it. A query "
                    "parameter this operation does not know is refused (422, naming it). "
                    "Needs the `documents:read` scope."
                ),
                "tags": ["documents"],
                "parameters": _query_of(documents.list_documents),
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
                    *_query_of(documents.create_document),
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
                    },
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
                "parameters": [DOCUMENT_ID, *_query_of(documents.get_document)],
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
                "parameters": [DOCUMENT_ID, *_query_of(documents.get_document_xml)],
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
                "parameters": [DOCUMENT_ID, *_query_of(documents.get_document_pdf)],
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
                "parameters": [DOCUMENT_ID, *_query_of(documents.list_document_events)],
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
                "parameters": [DOCUMENT_ID, *_query_of(documents.create_document_event)],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/NewEvent"}}
                    },
                },
                "responses": {
                    "201": _json("Event", "The event, signed and recorded"),
                    "400": _error_response("The body is not JSON that can be read"),
                    "404": {"$ref": "#/components/responses/NotFound"},
                    "415": _error_response("The body is not sent as application/json"),
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
                "The input was refused; `details.fields` maps each input's path (such as "
                "`person.id_number` or an unknown query parameter's name) to why. Code "
                "`validation` for a wrong type, value or unknown field, `unprocessable` for a "
                "business rule"
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
            **_BODY_SCHEMAS,
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
@takes_query()
def get_openapi() -> Any:
    return jsonify(SPEC)
