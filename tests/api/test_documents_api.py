"""Can an ERP send, read, download and answer documents through /api/v1 — and only its own?"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from lxml import etree
from sqlalchemy import select

from app.extensions import db
from app.models import ApiIdempotencyKey, Document, DocumentEvent, QuarantinedUpload
from app.models.api import DOCUMENTS_READ, DOCUMENTS_WRITE
from app.tenancy import unscoped
from tests.conftest import bearer, make_api_token, make_company
from tests.services.inbox_helpers import count, give_certificate, make_document, signed_invoice

XML = {"Content-Type": "application/xml"}


@pytest.fixture(autouse=True)
def _no_official_rules(app, monkeypatch, no_official_rules):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "100000 per minute")


@pytest.fixture
def supplier():
    company = make_company("Proveedor API")
    give_certificate(company)
    return company


@pytest.fixture
def customer():
    company = make_company("Cliente API")
    give_certificate(company)  # it signs the events it records
    return company


@pytest.fixture
def supplier_key(supplier):
    return bearer(make_api_token(supplier)[1])


@pytest.fixture
def customer_key(customer):
    return bearer(make_api_token(customer)[1])


def _post(client, headers, data, **extra):
    return client.post("/api/v1/documents", data=data, headers={**XML, **headers, **extra})


def _error(response, status, code=None):
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert set(error) == {"code", "message", "details"}
    if code:
        assert error["code"] == code
    return error


@pytest.fixture
def sent(client, supplier, customer, supplier_key):
    """An invoice the supplier sent to the customer through the API."""
    response = _post(client, supplier_key, signed_invoice(supplier, customer.tax_id))
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


# Sending


def test_does_a_posted_signed_invoice_reach_the_customer(client, sent, customer, customer_key):
    assert sent["status"] == "received" and sent["direction"] == "sent"
    assert sent["customer"]["company_id"] == customer.id and not sent["waiting"]
    assert isinstance(sent["findings"], list)
    listed = client.get("/api/v1/documents", headers=customer_key).get_json()
    assert [d["id"] for d in listed["data"]] == [sent["id"]]
    assert listed["data"][0]["direction"] == "received" and listed["next_cursor"] is None
    one = client.get(f"/api/v1/documents/{sent['id']}", headers=customer_key).get_json()
    assert one["number"] == sent["number"] and one["next_events"] == ["acknowledge"]


def test_can_the_xml_be_sent_as_a_multipart_file(client, supplier, customer, supplier_key):
    data = {"file": (io.BytesIO(signed_invoice(supplier, customer.tax_id)), "f1.xml")}
    response = client.post(
        "/api/v1/documents", data=data, headers=supplier_key, content_type="multipart/form-data"
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    missing = client.post(
        "/api/v1/documents", data={}, headers=supplier_key, content_type="multipart/form-data"
    )
    _error(missing, 422)


@pytest.mark.parametrize(
    "data",
    [
        b"this is not xml",
        b"<Invoice><unclosed></Invoice>",
        b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>',
        b'<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]><r>&b;</r>',
    ],
    ids=["not-xml", "malformed", "external-entity", "entity-expansion"],
)
def test_is_invalid_or_hostile_xml_refused_with_findings(client, supplier_key, data):
    error = _error(_post(client, supplier_key, data), 422, "document_refused")
    assert error["details"]["findings"] and error["details"]["quarantine_id"]
    assert "root:" not in str(error)  # the entity was never read
    assert count(Document) == 0 and count(QuarantinedUpload) == 1


def test_is_an_invoice_changed_after_signing_refused(client, supplier, customer, supplier_key):
    data = signed_invoice(supplier, customer.tax_id).replace(b"SETP990000001", b"SETP990000009")
    error = _error(_post(client, supplier_key, data), 422, "document_refused")
    assert any(f["severity"] == "error" for f in error["details"]["findings"])
    assert count(Document) == 0


def test_is_a_duplicate_refused_with_the_original_id(
    client, sent, supplier, customer, supplier_key
):
    again = _post(client, supplier_key, signed_invoice(supplier, customer.tax_id))
    error = _error(again, 409, "duplicate")
    assert error["details"]["original_id"] == sent["id"]
    assert count(Document) == 1


def test_is_another_content_type_refused(client, supplier_key):
    response = client.post(
        "/api/v1/documents", data="x", headers={**supplier_key, "Content-Type": "text/plain"}
    )
    _error(response, 415)


def test_does_an_idempotency_key_replay_the_first_answer(client, supplier, customer, supplier_key):
    data = signed_invoice(supplier, customer.tax_id)
    key = {"Idempotency-Key": "order-4711"}
    first = _post(client, supplier_key, data, **key)
    second = _post(client, supplier_key, data, **key)
    assert first.status_code == second.status_code == 201
    assert second.get_json() == first.get_json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert count(Document) == 1
    # The same key with another body is a mistake, not a replay.
    other = signed_invoice(supplier, customer.tax_id, number="SETP990000002")
    _error(_post(client, supplier_key, other, **key), 422)
    assert count(Document) == 1


def test_does_an_idempotency_key_expire_after_a_day(client, supplier, customer, supplier_key):
    data = signed_invoice(supplier, customer.tax_id)
    key = {"Idempotency-Key": "k-1"}
    assert _post(client, supplier_key, data, **key).status_code == 201
    stored = db.session.scalars(unscoped(select(ApiIdempotencyKey))).one()
    stored.created_at -= dt.timedelta(hours=25)
    db.session.commit()
    # Processed afresh: this time it is a duplicate of the first.
    _error(_post(client, supplier_key, data, **key), 409, "duplicate")


def test_is_a_key_of_another_company_a_different_key(client, supplier, customer, supplier_key):
    theirs = bearer(make_api_token(customer)[1])
    _post(client, theirs, b"<x/>", **{"Idempotency-Key": "same"})
    response = _post(
        client,
        supplier_key,
        signed_invoice(supplier, customer.tax_id),
        **{"Idempotency-Key": "same"},
    )
    assert response.status_code == 201


# Tokens


def test_is_a_bad_token_refused_with_401(client, supplier, customer):
    response = _post(client, bearer("not-a-token"), signed_invoice(supplier, customer.tax_id))
    _error(response, 401, "invalid_token")
    _error(client.get("/api/v1/documents"), 401, "missing_token")
    assert count(Document) == 0


def test_does_a_token_without_the_scope_get_403(client, supplier, customer):
    read_only = bearer(make_api_token(supplier, scopes=(DOCUMENTS_READ,))[1])
    _error(_post(client, read_only, signed_invoice(supplier, customer.tax_id)), 403)
    write_only = bearer(make_api_token(supplier, scopes=(DOCUMENTS_WRITE,))[1])
    _error(client.get("/api/v1/documents", headers=write_only), 403, "insufficient_scope")
    assert count(Document) == 0


def test_is_another_companys_document_a_json_404(client, sent):
    stranger = bearer(make_api_token(make_company("Extraña"))[1])
    base = f"/api/v1/documents/{sent['id']}"
    for path in ("", "/xml", "/pdf", "/events"):
        _error(client.get(base + path, headers=stranger), 404, "not_found")
    _error(client.post(base + "/events", json={"code": "acknowledge"}, headers=stranger), 404)
    _error(client.get("/api/v1/documents/999999", headers=stranger), 404)


# Reading


def test_do_filters_and_cursors_page_through_a_tray(client, supplier, customer, customer_key):
    other = make_company("Otro proveedor")
    for day in range(1, 6):
        make_document(supplier, customer, issue_date=dt.date(2024, 3, day), payable="100.00")
    big = make_document(other, customer, issue_date=dt.date(2024, 3, 9), payable="9000.00")
    seen, cursor = [], None
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/documents", query_string=query, headers=customer_key)
        body = page.get_json()
        seen += [d["id"] for d in body["data"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 6 and seen[0] == big.id
    only = client.get(
        "/api/v1/documents",
        query_string={"counterparty_id": other.id, "amount_min": "1000"},
        headers=customer_key,
    ).get_json()
    assert [d["id"] for d in only["data"]] == [big.id]
    march = client.get(
        "/api/v1/documents",
        query_string={"date_from": "2024-03-02", "date_to": "2024-03-04", "status": "received"},
        headers=customer_key,
    ).get_json()
    assert len(march["data"]) == 3
    assert (
        client.get("/api/v1/documents?direction=sent", headers=customer_key).get_json()["data"]
        == []
    )


def test_are_wrong_filters_named_in_a_422(client, customer_key):
    response = client.get(
        "/api/v1/documents?date_from=yesterday&direction=up&cursor=xyz&limit=0",
        headers=customer_key,
    )
    error = _error(response, 422)
    assert set(error["details"]["fields"]) == {"date_from", "direction", "cursor", "limit"}


def test_can_both_parties_download_the_xml_and_the_pdf(
    client, sent, supplier, customer, supplier_key, customer_key
):
    original = db.session.scalars(unscoped(select(Document.original))).one()
    for key in (supplier_key, customer_key):
        xml = client.get(f"/api/v1/documents/{sent['id']}/xml", headers=key)
        assert xml.status_code == 200 and xml.mimetype == "application/xml"
        assert xml.data == original and "attachment" in xml.headers["Content-Disposition"]
    pdf = client.get(f"/api/v1/documents/{sent['id']}/pdf", headers=customer_key)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")


# Events


#: Who received, as an ERP names them on a 030 or 032.
PERSON = {
    "id_type": "13",
    "id_number": "52.123.456",
    "first_name": "Ana",
    "family_name": "Gómez Ruiz",
    "job_title": "Almacenista",
}


def test_do_events_through_the_api_move_the_status(client, sent, customer_key, supplier_key):
    url = f"/api/v1/documents/{sent['id']}/events"
    for name, status in (("acknowledge", "acknowledged"), ("receipt", "goods_received")):
        response = client.post(url, json={"code": name, "person": PERSON}, headers=customer_key)
        assert response.status_code == 201, response.get_data(as_text=True)
        assert response.get_json()["code"] == name
        one = client.get(f"/api/v1/documents/{sent['id']}", headers=customer_key).get_json()
        assert one["status"] == status
    claim = client.post(
        url, json={"code": "claim", "reason": "02", "note": "Faltan 3 cajas"}, headers=customer_key
    )
    assert claim.status_code == 201 and claim.get_json()["dian_code"] == "031"
    events = client.get(url, headers=supplier_key).get_json()["data"]
    assert [e["code"] for e in events] == ["acknowledge", "receipt", "claim"]
    assert events[2]["claim_reason"] == "02" and events[2]["note"] == "Faltan 3 cajas"


def test_is_an_illegal_event_refused_and_nothing_changes(client, sent, customer_key, supplier_key):
    url = f"/api/v1/documents/{sent['id']}/events"
    _error(client.post(url, json={"code": "accept"}, headers=customer_key), 422)
    acknowledge = {"code": "acknowledge", "person": PERSON}
    assert client.post(url, json=acknowledge, headers=customer_key).status_code == 201
    _error(client.post(url, json=acknowledge, headers=customer_key), 409)
    _error(client.post(url, json={"code": "approve"}, headers=customer_key), 422)
    _error(client.post(url, data="x", headers=customer_key), 415)
    # The supplier cannot answer its own invoice.
    _error(client.post(url, json={"code": "receipt"}, headers=supplier_key), 403)
    events = client.get(url, headers=customer_key).get_json()["data"]
    assert [e["code"] for e in events] == ["acknowledge"]


def test_does_a_document_sent_with_a_token_name_who_made_the_token(client, supplier, customer):
    from app.models import AuditEvent
    from tests.conftest import make_user

    admin = make_user(supplier, role="admin")
    token, plaintext = make_api_token(supplier)
    token.created_by_id = admin.id
    db.session.commit()
    assert (
        _post(client, bearer(plaintext), signed_invoice(supplier, customer.tax_id)).status_code
        == 201
    )
    document = db.session.scalars(unscoped(select(Document))).one()
    assert document.submitted_by_user_id == admin.id
    # Without a creator, the token itself is named in the audit trail.
    anonymous = bearer(make_api_token(supplier)[1])
    other = signed_invoice(supplier, customer.tax_id, number="SETP990000002")
    assert _post(client, anonymous, other).status_code == 201
    actors = db.session.scalars(
        unscoped(select(AuditEvent.actor).where(AuditEvent.action == "document.submitted"))
    ).all()
    assert admin.email in actors
    assert any(a.startswith("api-token:") for a in actors)


def test_does_the_job_forget_keys_older_than_a_day(app, client, supplier, customer, supplier_key):
    _post(client, supplier_key, b"<x/>", **{"Idempotency-Key": "old"})
    _post(client, supplier_key, b"<y/>", **{"Idempotency-Key": "new"})
    old = db.session.scalars(
        unscoped(select(ApiIdempotencyKey).where(ApiIdempotencyKey.key == "old"))
    ).one()
    old.created_at -= dt.timedelta(hours=25)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["jobs", "idempotency-keys"])
    assert result.exit_code == 0 and "1 expired" in result.output, result.output
    keys = db.session.scalars(unscoped(select(ApiIdempotencyKey.key))).all()
    assert keys == ["new"]


def test_is_an_over_size_upload_a_json_413_and_nothing_kept(app, client, supplier_key, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1000)
    _error(_post(client, supplier_key, b"<x>" + b"a" * 2000 + b"</x>"), 413, "payload_too_large")
    assert count(Document) == 0 and count(QuarantinedUpload) == 0


def test_does_a_030_name_the_person_the_erp_sends(client, sent, customer_key):
    url = f"/api/v1/documents/{sent['id']}/events"
    response = client.post(
        url, json={"code": "acknowledge", "person": PERSON}, headers=customer_key
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    event = db.session.scalars(unscoped(select(DocumentEvent))).one()
    person = etree.fromstring(event.xml).find(".//{*}IssuerParty/{*}Person")
    assert person.findtext("{*}ID") == "52123456" and person.find("{*}ID").get("schemeName") == "13"
    assert (person.findtext("{*}FirstName"), person.findtext("{*}FamilyName")) == (
        "Ana",
        "Gómez Ruiz",
    )
    assert person.findtext("{*}JobTitle") == "Almacenista"


@pytest.mark.parametrize(
    ("person", "field"),
    [
        (None, "person"),
        ({**PERSON, "id_type": "31"}, "person.id_type"),  # a NIT names a company
        ({**PERSON, "id_number": "12AB"}, "person.id_number"),
        ({**PERSON, "first_name": " "}, "person.first_name"),
        ({**PERSON, "family_name": 7}, "person"),
        ("Ana Gómez", "person"),
    ],
)
def test_is_a_030_without_a_good_person_refused_and_nothing_recorded(
    client, sent, customer_key, person, field
):
    url = f"/api/v1/documents/{sent['id']}/events"
    body = {"code": "acknowledge"} | ({} if person is None else {"person": person})
    error = _error(client.post(url, json=body, headers=customer_key), 422)
    assert field in str(error["details"]) or error["details"].get("field") == field
    assert client.get(url, headers=customer_key).get_json()["data"] == []


def test_does_a_token_made_by_a_user_record_a_030_as_that_user(client, sent, customer):
    from tests.conftest import make_user

    clerk = make_user(customer, role="payables", name="Luis Pérez")
    token, plaintext = make_api_token(customer)
    token.created_by_id = clerk.id
    db.session.commit()
    url = f"/api/v1/documents/{sent['id']}/events"
    response = client.post(url, json={"code": "acknowledge"}, headers=bearer(plaintext))
    assert response.status_code == 201
    event = db.session.scalars(unscoped(select(DocumentEvent))).one()
    person = etree.fromstring(event.xml).find(".//{*}IssuerParty/{*}Person")
    assert person.findtext("{*}ID") == clerk.id_document_number
