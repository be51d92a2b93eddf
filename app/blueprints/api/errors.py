"""The API's one error shape: ``{"error": {"code", "message", "details"}}``, for every status.

The shape is the ``Error`` model of ``responses.py``, which the OpenAPI document describes.

``app.web.errors`` hands over every error under ``/api/`` to these functions, whether it was
raised in an API view or before any view was found (a 404 or 405 from the router).
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from app.blueprints.api.responses import Error
from app.services.errors import DomainError

API_PREFIX = "/api/"

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
    429: "rate_limited",
    500: "server_error",
}

MESSAGES = {
    400: lambda: _("The request could not be understood."),
    401: lambda: _("Send a valid API token in the Authorization header: Bearer <token>."),
    403: lambda: _("This token does not allow this."),
    404: lambda: _("There is nothing here, or it belongs to another company."),
    405: lambda: _("This method is not allowed here."),
    413: lambda: _("The request body is too large."),
    429: lambda: _("Too many requests with this token. Slow down and try again."),
    500: lambda: _("Something went wrong on our side. Please try again."),
}


def is_api_request() -> bool:
    """Tell whether the request is addressed to the JSON API."""
    return request.path.startswith(API_PREFIX)


def error_response(
    status: int,
    message: Any,
    *,
    code: str | None = None,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """Return the JSON error body with its status (and headers, such as WWW-Authenticate)."""
    body = Error.of(code or CODES.get(status, "error"), message, details)
    response = jsonify(body.model_dump(mode="json"))
    response.status_code = status
    response.headers.update(headers or {})
    return response


def http_error(error: HTTPException) -> Response:
    """Answer an HTTP error (404, 405, 413, 429, 500...) in the API's shape."""
    status = error.code or 500
    details: dict[str, Any] = {}
    message = MESSAGES.get(status, lambda: error.name)()
    # Werkzeug's default descriptions talk to browsers; a description we set ourselves stays.
    custom = bool(error.description) and error.description != type(error).description
    if status == 429:
        details["limit"] = str(error.description)  # Flask-Limiter puts the limit there
    elif custom and status < 500:
        message = str(error.description)
    headers = {k: v for k, v in error.get_headers() if k.lower() in {"allow", "retry-after"}}
    return error_response(status, message, details=details, headers=headers)


def domain_error(error: DomainError) -> Response:
    """Answer a business rule's refusal, naming the inputs it concerns."""
    details: dict[str, Any] = {}
    fields = getattr(error, "errors", None)
    if fields:
        details["fields"] = {name: [str(m) for m in messages] for name, messages in fields.items()}
    elif error.field:
        details["fields"] = {error.field: [str(error.message)]}
    return error_response(
        error.status, error.message, code=getattr(error, "code", None), details=details
    )
