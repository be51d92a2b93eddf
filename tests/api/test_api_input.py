"""Is every input of the API checked for its type — bodies, query strings, cursors — and does a
wrong one get a 4xx that names it, never a server error?"""

from __future__ import annotations

import datetime as dt

import jsonschema_rs
import pytest

from app.models import DocumentEvent
from tests.conftest import bearer, make_api_token, make_company
from tests.services.inbox_helpers import count, give_certificate, make_document


@pytest.fixture(autouse=True)
def _no_rate_limit(app, monkeypatch, no_official_rules):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "100000 per minute")


@pytest.fixture
def supplier():
    return make_company("Proveedor Tipos")


@pytest.fixture
def customer():
    company = make_company("Cliente Tipos")
    give_certificate(company)
    return company


@pytest.fixture
def supplier_key(supplier):
    return bearer(make_api_token(supplier)[1])


@pytest.fixture
def customer_key(customer):
    return bearer(make_api_token(customer)[1])


@pytest.fixture
def events_url(supplier, customer):
    return f"/api/v1/documents/{make_document(supplier, customer).id}/events"


def _refused(response, status=422):
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert set(error) == {"code", "message", "details"} and error["message"]
    return error


PERSON = {"id_type": "13", "id_number": "52123456", "first_name": "Ana", "family_name": "Gómez"}


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"code": {"$ne": 1}}, "code"),
        ({"code": ["accept"]}, "code"),
        ({"code": 33}, "code"),
        ({"code": True}, "code"),
        ({"code": None}, "code"),
        ({"code": "ACCEPT"}, "code"),
        ({}, "code"),
        ({"code": "claim", "reason": 2}, "reason"),
        ({"code": "claim", "reason": ["01"]}, "reason"),
        ({"code": "claim", "reason": "05"}, "reason"),
        ({"code": "claim", "reason": "02", "note": {"text": "x"}}, "note"),
        ({"code": "claim", "reason": "02", "note": 5}, "note"),
        ({"code": "claim", "reason": "02", "note": "x" * 2001}, "note"),
        ({"code": "acknowledge", "person": {**PERSON, "id_number": 52123456}}, "person.id_number"),
        ({"code": "acknowledge", "person": {**PERSON, "first_name": ["Ana"]}}, "person.first_name"),
        ({"code": "acknowledge", "person": {**PERSON, "id_type": 13}}, "person.id_type"),
        ({"code": "acknowledge", "person": {**PERSON, "role": "jefe"}}, "person.role"),
        ({"code": "acknowledge", "person": {"id_type": "13"}}, "person.id_number"),
        ({"code": "acknowledge", "person": [PERSON]}, "person"),
        ({"code": "acknowledge", "person": "Ana Gómez"}, "person"),
        ({"code": "acknowledge", "$where": "1"}, "$where"),
    ],
)
def test_is_a_field_of_the_wrong_type_a_422_that_names_its_path(
    client, customer_key, events_url, body, path
):
    error = _refused(client.post(events_url, json=body, headers=customer_key))
    assert error["code"] == "validation"
    assert path in error["details"]["fields"], error
    assert all(isinstance(m, str) and m for m in error["details"]["fields"][path])
    assert count(DocumentEvent) == 0


@pytest.mark.parametrize(
    "raw",
    [
        b"[]",
        b'[{"code": "acknowledge"}]',
        b'"acknowledge"',
        b"null",
        b"42",
        b"true",
        b"",
        b"{",
        b"{'code': 'acknowledge'}",
        b'{"code": NaN}',
        b'{"code": Infinity}',
        b'{"code": -Infinity}',
        b'{"code": "claim", "reason": "02", "note": NaN}',
        b'{"code": 1' + b"0" * 5000 + b"}",
        b'{"code": 1e999999}',
        b"[" * 100_000 + b"]" * 100_000,
        b'{"code": "acknowledge", "note": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        b'{"code": "\xff\xfe"}',
        b'{"code": "acknowledge"} trailing',
        b"\x00\x00\x00{",
    ],
)
def test_is_a_body_that_is_not_a_json_object_refused_with_a_message(
    client, customer_key, events_url, raw
):
    response = client.post(
        events_url, data=raw, headers={**customer_key, "Content-Type": "application/json"}
    )
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)
    _refused(response, response.status_code)
    assert count(DocumentEvent) == 0


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "application/xml", "multipart/x"],
)
def test_is_a_body_not_sent_as_json_a_415(client, customer_key, events_url, content_type):
    headers = dict(customer_key) | ({"Content-Type": content_type} if content_type else {})
    response = client.post(events_url, data=b'{"code": "acknowledge"}', headers=headers)
    error = _refused(response, 415)
    assert "application/json" in error["message"]


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("foo=1", {"foo"}),
        ("direction=sent&Direction=received&page=2", {"Direction", "page"}),
        ("limit=5&limit=6", {"limit"}),
        ("limit=1.0", {"limit"}),
        ("limit=1e2", {"limit"}),
        ("limit=abc", {"limit"}),
        ("limit=201", {"limit"}),
        ("limit=%20%205", {"limit"}),
        ("overdue=yes", {"overdue"}),
        ("date_from=20240301", {"date_from"}),
        ("date_from=2024-02-30", {"date_from"}),
        ("date_to=1709251200", {"date_to"}),
        ("amount_min=NaN", {"amount_min"}),
        ("amount_max=1e999", {"amount_max"}),
        ("amount_min=1_000", {"amount_min"}),
        ("counterparty_id=99999999999", {"counterparty_id"}),
        ("counterparty_id=-1", {"counterparty_id"}),
        ("document_type=invoice", {"document_type"}),
        ("status[]=received", {"status[]"}),
        ("tax_id=" + "9" * 41, {"tax_id"}),
        ("cursor=2024-02-30_5", {"cursor"}),
        ("cursor=2024-01-31_99999999999999999999999", {"cursor"}),
        ("direction=", {"direction"}),
    ],
)
def test_is_a_wrong_or_unknown_query_parameter_named_in_a_422(client, customer_key, query, names):
    error = _refused(client.get(f"/api/v1/documents?{query}", headers=customer_key))
    assert error["code"] == "validation"
    assert set(error["details"]["fields"]) == names


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/partners?relation=supplier&x=1",
        "/api/v1/documents/1?x=1",
        "/api/v1/openapi.json?x=1",
    ],
)
def test_do_other_operations_refuse_unknown_query_parameters(client, customer_key, path):
    error = _refused(client.get(path, headers=customer_key))
    assert set(error["details"]["fields"]) == {"x"}


def test_does_a_supplier_see_what_it_sent_without_naming_a_direction(
    client, supplier, customer, supplier_key, customer_key
):
    """Without direction=, a company sees every document it can see: sent and received."""
    sent = make_document(supplier, customer, issue_date=dt.date(2024, 3, 1))
    bought = make_document(customer, supplier, issue_date=dt.date(2024, 3, 2))
    elsewhere = make_document(make_company("Ajeno"), make_company("Ajeno 2"))

    def ids(key, query=""):
        response = client.get(f"/api/v1/documents{query}", headers=key)
        assert response.status_code == 200, response.get_data(as_text=True)
        return [(d["id"], d["direction"]) for d in response.get_json()["data"]]

    assert ids(supplier_key) == [(bought.id, "received"), (sent.id, "sent")]
    assert ids(supplier_key, "?direction=sent") == [(sent.id, "sent")]
    assert ids(supplier_key, "?direction=received") == [(bought.id, "received")]
    assert ids(customer_key) == [(bought.id, "sent"), (sent.id, "received")]
    # The counterparty is the other company, whichever way the document went.
    assert ids(supplier_key, f"?counterparty_id={customer.id}") == [
        (bought.id, "received"),
        (sent.id, "sent"),
    ]
    assert ids(supplier_key, f"?tax_id={customer.tax_id}&document_type=Invoice") == [
        (bought.id, "received"),
        (sent.id, "sent"),
    ]
    assert ids(supplier_key, f"?tax_id={supplier.tax_id}") == []
    assert elsewhere.id not in [i for i, _ in ids(supplier_key)]
    spec = client.get("/api/v1/openapi.json").get_json()
    description = next(
        p for p in spec["paths"]["/documents"]["get"]["parameters"] if p["name"] == "direction"
    )["description"]
    assert "received and sent" in description


def test_do_cursors_on_the_29th_30th_and_31st_page_through(
    client, supplier, customer, customer_key
):
    days = [
        dt.date(2024, 1, 31),
        dt.date(2024, 1, 30),
        dt.date(2024, 1, 29),
        dt.date(2024, 2, 29),
        dt.date(2023, 12, 31),
        dt.date(2024, 4, 30),
    ]
    made = {make_document(supplier, customer, issue_date=day).id for day in days}
    spec = client.get("/api/v1/openapi.json").get_json()
    cursor_schema = next(
        p for p in spec["paths"]["/documents"]["get"]["parameters"] if p["name"] == "cursor"
    )["schema"]
    seen, cursor, cursors = [], None, []
    while True:
        query = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        response = client.get("/api/v1/documents", query_string=query, headers=customer_key)
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        seen += [d["id"] for d in body["data"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
        jsonschema_rs.validate(cursor_schema, cursor)  # what the description promises a client
        cursors.append(cursor)
    assert set(seen) == made and len(seen) == len(made)
    assert {c.split("_")[0][-2:] for c in cursors} >= {"29", "30", "31"}
