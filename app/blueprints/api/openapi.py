"""GET /api/v1/openapi.json: the OpenAPI 3.1 description of the API, written by hand.

tests/api/test_openapi.py checks that every /api/v1 route is described here and that nothing
described is missing from the code, and runs schemathesis against it. Add a path here with
every route you add.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify

from app.blueprints.api import bp
from app.models.api import SCOPES


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
            "TooManyRequests": _error_response("Too many requests with this token; wait"),
            "Error": _error_response("Any other error, in the same shape"),
        },
        "schemas": {
            "Error": {
                "type": "object",
                "required": ["error"],
                "additionalProperties": False,
                "properties": {
                    "error": {
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
                },
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
