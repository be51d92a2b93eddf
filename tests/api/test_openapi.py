"""Does /api/v1/openapi.json describe exactly the API the code serves, and does the API hold up?"""

from __future__ import annotations

import contextvars
import datetime as dt
import os
import re

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance

from app.blueprints.api.openapi import SPEC, query_parameters
from app.extensions import db
from app.models import Partnership
from app.models.network import ACTIVE
from app.services.documents import queries
from tests.conftest import bearer, make_api_token, make_company
from tests.services.inbox_helpers import give_certificate, make_document

API_PREFIX = "/api/v1"
IGNORED_METHODS = {"HEAD", "OPTIONS"}


def _code_operations(app) -> set[tuple[str, str]]:
    """Return (method, OpenAPI path) for every /api/v1 route in the URL map."""
    operations = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(API_PREFIX + "/"):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule[len(API_PREFIX) :])
        operations |= {(m.lower(), path) for m in rule.methods - IGNORED_METHODS}
    return operations


def _spec_operations() -> set[tuple[str, str]]:
    methods = {"get", "put", "post", "delete", "patch"}
    return {(m, path) for path, item in SPEC["paths"].items() for m in item if m in methods}


def test_is_every_api_route_described_and_every_described_operation_served(app):
    assert SPEC["servers"] == [{"url": API_PREFIX}]
    in_code, in_spec = _code_operations(app), _spec_operations()
    assert in_code - in_spec == set(), "routes missing from app/blueprints/api/openapi.py"
    assert in_spec - in_code == set(), "operations described but not served"


def test_is_the_served_document_the_written_one(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.get_json() == SPEC
    assert SPEC["openapi"].startswith("3.1")


def test_are_the_query_parameters_described_those_each_view_checks(app):
    """Each /api/v1 view reads its query through a model, and the description is that model."""
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(API_PREFIX + "/"):
            continue
        view = app.view_functions[rule.endpoint]
        assert hasattr(view, "query_model"), f"{rule.endpoint}: add @takes_query(...)"
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule[len(API_PREFIX) :])
        for method in rule.methods - IGNORED_METHODS:
            described = SPEC["paths"][path][method.lower()].get("parameters", [])
            in_query = [p for p in described if p["in"] == "query"]
            assert in_query == query_parameters(view.query_model), f"{method} {path}"


def test_does_every_operation_have_an_id_and_json_error_responses():
    for path, item in SPEC["paths"].items():
        for method, operation in item.items():
            assert operation.get("operationId"), f"{method} {path}"
            assert "default" in operation["responses"], f"{method} {path}"


@pytest.fixture
def api_company(app, monkeypatch):
    """A company with a partner, a document received and one sent; no rate limit to speak of."""
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "100000 per minute")
    company, partner = make_company("Esquema"), make_company("Socio")
    give_certificate(company)  # it signs the events the fuzzer records
    db.session.add(
        Partnership(
            supplier_id=partner.id,
            customer_id=company.id,
            requested_by_id=partner.id,
            status=ACTIVE,
        )
    )
    db.session.commit()
    received = make_document(partner, company, issue_date=dt.date(2024, 1, 31))
    sent = make_document(company, partner, issue_date=dt.date(2024, 2, 29))
    return company, [received.id, sent.id]


@pytest.fixture
def api_headers(api_company):
    """The header of a valid token of that company."""
    _token, plaintext = make_api_token(api_company[0])
    return bearer(plaintext)


@pytest.fixture
def api_schema(app):
    """The schema as the API serves it, called through the WSGI app itself."""

    def isolated_app(environ, start_response):
        # Each call in a context of its own, as a real request (see tests/conftest.py).
        return contextvars.Context().run(app.wsgi_app, environ, start_response)

    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", isolated_app)


# schemathesis' pytest plugin (``from_fixture``/``parametrize``) does not run on pytest 9 yet,
# so the strategies it builds are driven by Hypothesis here directly.
FUZZ = settings(
    max_examples=int(os.environ.get("API_FUZZ_EXAMPLES", 60)),  # more for a longer hunt
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def _negated(case, location: str) -> bool:
    """Tell whether schemathesis made this part of the request invalid on purpose."""
    components = case.meta.components if case.meta else {}
    return any(
        str(getattr(where, "value", where)) == location and info.mode.is_negative
        for where, info in components.items()
    )


#: Operations whose valid requests a business rule may still refuse with a 422: no schema can
#: say "a signed e-invoice of this company" or "an event that may follow this status".
BUSINESS_REFUSALS = {"createDocument", "createDocumentEvent"}


@pytest.mark.parametrize("mode", list(GenerationMode), ids=lambda m: m.value)
def test_does_the_api_hold_up_against_its_own_description(
    api_schema, api_headers, api_company, mode
):
    """Generated requests, valid and type-confused, with a token: never a server error, every
    invalid one refused with a described JSON 4xx, every valid one answered as described."""
    _company, document_ids = api_company
    real_cursor = queries.Cursor(dt.date(2024, 3, 31), document_ids[-1]).encode()
    seen = {"document": 0}

    @FUZZ
    @given(case=api_schema.as_strategy(generation_mode=mode), pick=st.integers(0, 2))
    def call(case, pick):
        # Aim at this company's documents as well as at ids nobody has (404s), so bodies and
        # queries reach the checks behind the 404, as a real client's would.
        path_id = (case.path_parameters or {}).get("document_id")
        if not _negated(case, "path") and path_id is not None and pick < len(document_ids):
            case.path_parameters["document_id"] = document_ids[pick]
            seen["document"] += 1
        # A cursor is opaque: a valid one is one this server wrote.
        if mode is GenerationMode.POSITIVE and (case.query or {}).get("cursor") is not None:
            case.query["cursor"] = real_cursor
        excluded = []
        if case.operation.definition.raw.get("operationId") in BUSINESS_REFUSALS:
            excluded.append(positive_data_acceptance)
        # Negated headers stay as generated (a missing or malformed token: refused with a 401).
        headers = {} if _negated(case, "header") else api_headers
        case.call_and_validate(headers=headers, excluded_checks=excluded)

    call()
    assert seen["document"], "no generated request reached a real document"


def test_does_the_api_hold_up_without_a_token(api_schema):
    """The same requests with no token: refused with the described 401, never a server error."""

    @FUZZ
    @given(case=api_schema.as_strategy())
    def call(case):
        case.call_and_validate()

    call()
