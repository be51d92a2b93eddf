"""The API described once: spectree reads each view's declared models and writes the OpenAPI.

Every /api/v1 view is decorated with ``api.validate(...)``: its query model and JSON body (the
``query`` and ``json`` arguments it takes, from ``schemas.py``), its answers by status (models
of ``responses.py``), tags and operation id; its docstring is its summary and description. From
those and the URL map, spectree writes the OpenAPI 3.1 document served at
``/api/v1/openapi.json`` (``openapi.py``), and checks each request and each response:

- input is read by ``schemas.query_arguments`` and ``schemas.json_body`` (strict, unknown
  fields and parameters refused, a 422 ``validation`` naming each path; a body not sent as
  JSON is a 415 and one that cannot be parsed a 400), never by spectree's lenient defaults;
  a view declared with ``xml_body=True`` also takes an XML body (``XML_TYPES``), left for the
  view to read (``POST /orders``: a UBL Order), the JSON model then being None;
  a refusal is a ``DomainError``, answered in the API's one error shape by ``errors.py``;
- a JSON response must fit the model declared for its status, or it is a server error: the
  description cannot drift from the bodies.

What spectree cannot say by itself is added here, from the routes: the errors every operation
behind ``require_token`` can answer (401, 403) and every operation can (429, any other in the
same shape), the paths relative to the ``/api/v1`` server, and ``openapi_extra`` for the few
things a model does not describe (an XML request body, a file download); ``WEBHOOKS`` adds the
outbound webhooks whose bodies have a model (``reconciliation.matched``, ``order.received``,
``order.responded``) as the document's
``webhooks``. spectree's Swagger and Redoc pages load their assets from a CDN, so they are not
served (``page_templates={}``, and ``register`` is never called).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app
from pydantic import BaseModel
from spectree import SecurityScheme, SpecTree
from spectree.metadata import iter_wrapped_functions
from spectree.models import SecuritySchemeData, Server
from spectree.plugins.base import Context
from spectree.plugins.flask_plugin import FlaskPlugin

from app.blueprints.api.responses import (
    Error,
    OrderReceived,
    OrderResponded,
    ReconciliationMatched,
)
from app.blueprints.api.schemas import NoQuery, json_body, query_arguments
from app.models.api import SCOPES
from app.models.webhook import ORDER_RECEIVED, ORDER_RESPONDED, RECONCILIATION_MATCHED

PREFIX = "/api/v1"
#: The XML bodies a view declared with ``xml_body=True`` takes besides its JSON model.
XML_TYPES = frozenset({"application/xml", "text/xml"})

#: The errors any operation can answer, and those of an operation behind a token.
COMMON_ERRORS = {
    "429": "Too many requests with this token; wait (code `rate_limited`)",
    "default": "Any other error, in the same shape",
}
TOKEN_ERRORS = {
    "401": "No token, or a token that is invalid or revoked (code `missing_token` or "
    "`invalid_token`)",
    "403": "The token lacks the scope this needs (code `insufficient_scope`)",
}

#: The 422 every operation can answer (a business rule's refusal is a 422 too).
UNPROCESSABLE = (
    Error,
    "The input was refused; `details.fields` maps each input's path (such as "
    "`person.id_number` or an unknown query parameter's name) to why. Code `validation` for "
    "a wrong type, value or unknown field, `unprocessable` for a business rule",
)
NOT_FOUND = (Error, "Nothing with this id, or it belongs to another company (code `not_found`)")


class StrictFlaskPlugin(FlaskPlugin):
    """spectree's Flask backend, reading input the API's strict way and refusing stray bodies."""

    def request_validation(self, request, query, json, form, headers, cookies):  # type: ignore[no-untyped-def]
        """Read the query string and the JSON body through the declared models."""
        # Multipart files and headers are read by the view and the services (the model of an
        # upload describes it); every other query parameter is refused, even where none is
        # declared. An XML body is the view's to read where it says it takes one.
        arguments = query_arguments(query or NoQuery)
        if json and request.mimetype in XML_TYPES and _takes_xml(request):
            json = None
        if json and _body_optional(request) and not request.get_data(cache=True):
            json = None  # no body at all: the view takes its model's defaults
        request.context = Context(arguments, json_body(json) if json else None, None, None, None)

    def validate_response(self, resp, resp_model, skip_validation, force_resp_serialize):  # type: ignore[no-untyped-def]
        """Serialise the view's model; refuse a JSON body its status does not declare."""
        response, error = super().validate_response(
            resp, resp_model, skip_validation, force_resp_serialize
        )
        if error is not None:
            raise error
        if resp_model and response.is_json and not resp_model.find_model(response.status_code):
            raise LookupError(f"status {response.status_code} is not declared for this view")
        return response, None


class ApiSpec(SpecTree):
    """spectree, completed with what the API's routes say about errors, servers and security."""

    def __init__(self) -> None:
        super().__init__(
            "flask",
            backend=StrictFlaskPlugin,
            mode="strict",  # only the views decorated here
            page_templates={},  # no documentation pages: they load their assets from a CDN
            naming_strategy=lambda model: model.__name__,
            nested_naming_strategy=lambda _parent, child: child,
            validation_error_model=Error,
            title="Portal API (Express Connect)",
            version="1.0.0",
            description=(
                "Authenticate with a company API token (created by an administrator in Company "
                "profile → API tokens) sent as `Authorization: Bearer <token>`. Each token holds "
                "scopes: " + ", ".join(f"`{s}`" for s in SCOPES) + ". Every error is JSON: "
                '`{"error": {"code", "message", "details"}}`. Requests are limited per '
                "token; the `X-RateLimit-*` headers tell how many remain."
            ),
            servers=[Server(url=PREFIX)],
            security_schemes=[
                SecurityScheme(
                    name="bearerToken",
                    data=SecuritySchemeData(
                        type="http",
                        scheme="bearer",
                        description="A company API token, shown once when it is created.",
                    ),
                )
            ],
            security={"bearerToken": []},
        )
        self._extras: dict[Callable[..., Any], dict[str, Any]] = {}

    def validate(
        self,
        *,
        openapi_extra: dict[str, Any] | None = None,
        xml_body: bool = False,
        optional_body: bool = False,
        **kwargs: Any,
    ) -> Callable:
        """Declare a view's input and answers (see SpecTree.validate); openapi_extra is merged
        into its operation for what no model says; xml_body: the view also takes an XML body
        (its JSON model is then None, the view reads the XML); optional_body: the JSON body may
        be left out altogether (its model is then None, the view takes the defaults)."""
        decorate = super().validate(**kwargs)
        extra = openapi_extra or {}
        if optional_body:
            optional = {"requestBody": {"required": False}}
            _merge(optional, extra)
            extra = optional
        if xml_body:
            xml = {
                "requestBody": {
                    "content": {t: {"schema": {"type": "string"}} for t in sorted(XML_TYPES)}
                }
            }
            _merge(xml, extra)
            extra = xml

        def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
            view.xml_body = xml_body  # type: ignore[attr-defined]  # wraps() carries it outwards
            view.optional_body = optional_body  # type: ignore[attr-defined]
            validated = decorate(view)
            self._extras[validated] = extra
            return validated

        return decorator

    def _generate_spec(self) -> dict[str, Any]:
        spec = super()._generate_spec()
        paths: dict[str, dict[str, Any]] = {}
        for route in self.backend.find_routes():
            for method, view in self.backend.parse_func(route):
                if self.backend.bypass(view, method) or self.bypass(view):
                    continue
                path = self.backend.parse_path(route, None)[0]
                operation = spec["paths"][path][method.lower()]
                errors = COMMON_ERRORS
                if getattr(view, "token_scope", None) is not None:
                    errors = TOKEN_ERRORS | errors
                else:
                    operation["security"] = []
                for status, description in errors.items():
                    operation["responses"].setdefault(status, _error(description))
                _merge(operation, self._extra(view))
                paths.setdefault(path.removeprefix(PREFIX), {})[method.lower()] = operation
        spec["paths"] = paths
        _add_webhooks(spec)
        spec["info"] |= {
            "summary": "Connect an ERP to the business network: partners, documents, events.",
            "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
        }
        return spec

    def _extra(self, view: Callable[..., Any]) -> dict[str, Any]:
        for candidate in iter_wrapped_functions(view):
            if candidate in self._extras:
                return self._extras[candidate]
        return {}


#: The outbound webhooks whose bodies the document describes: event type → (model, summary).
WEBHOOKS: dict[str, tuple[type[BaseModel], str]] = {
    RECONCILIATION_MATCHED: (
        ReconciliationMatched,
        "A bank line was matched (automatically, confirmed or by hand)",
    ),
    ORDER_RECEIVED: (
        OrderReceived,
        "A buyer placed an order with the company (sent to the supplier's endpoints)",
    ),
    ORDER_RESPONDED: (
        OrderResponded,
        "An order was answered by its supplier, confirmed or cancelled by its buyer (sent to "
        "both companies' endpoints)",
    ),
}
WEBHOOK_HEADERS = (
    "POSTed as JSON to each endpoint subscribed to the event (Company profile → Webhooks), "
    "signed: `X-Portal-Timestamp` and `X-Portal-Signature`, the hex HMAC-SHA256 of "
    "`timestamp.body` with the endpoint's secret. Answer 2xx; other answers are retried."
)


def _add_webhooks(spec: dict[str, Any]) -> None:
    """Describe the outbound webhooks (OpenAPI 3.1 ``webhooks``) and their bodies' schemas."""
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    hooks: dict[str, Any] = {}
    for event_type, (model, summary) in WEBHOOKS.items():
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, nested in schema.pop("$defs", {}).items():
            schemas.setdefault(name, nested)
        schemas.setdefault(model.__name__, schema)
        hooks[event_type] = {
            "post": {
                "operationId": "webhook_" + event_type.replace(".", "_"),
                "summary": summary,
                "description": WEBHOOK_HEADERS,
                "tags": ["webhooks"],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": f"#/components/schemas/{model.__name__}"}
                        }
                    },
                },
                "responses": {"200": {"description": "Received (any 2xx)"}},
            }
        }
    spec["webhooks"] = hooks


def _takes_xml(request: Any) -> bool:
    """Tell whether the view the request is routed to was declared with ``xml_body=True``."""
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "xml_body", False))


def _body_optional(request: Any) -> bool:
    """Tell whether the view the request is routed to may be called without a body."""
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "optional_body", False))


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _merge(into: dict[str, Any], extra: dict[str, Any]) -> None:
    """Merge extra into a part of the document, key by key (dictionaries deeply)."""
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


api = ApiSpec()
