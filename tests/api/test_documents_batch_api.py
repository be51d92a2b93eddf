"""Can an ERP send many signed documents in one request, each accepted or refused on its own?

``POST /api/v1/documents`` with several multipart parts named ``file`` answers 207 with one
result per file, in order: the status and the body the same file alone would have got.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from sqlalchemy import event, select
from stdnum.co import nit

from app.blueprints.api.schemas import MAX_BATCH_FILES
from app.extensions import db
from app.models import ApiToken, AuditEvent, Document, QuarantinedUpload, WebhookDelivery
from app.services import audit
from app.tenancy import unscoped
from tests.conftest import bearer, make_api_token, make_company
from tests.services.inbox_helpers import (
    count,
    give_certificate,
    signed_invoice,
    written_invoice_and_credit_note,
)

MULTIPART = "multipart/form-data"


def fresh_nit() -> str:
    """Return a valid NIT no company has yet."""
    base = f"8{dt.datetime.now().microsecond:08d}"
    return base + nit.calc_check_digit(base)


@pytest.fixture(autouse=True)
def _no_official_rules(app, monkeypatch, no_official_rules):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "100000 per minute")


@pytest.fixture
def supplier():
    company = make_company("Proveedor Lotes")
    give_certificate(company)
    return company


@pytest.fixture
def customer():
    return make_company("Cliente Lotes")


@pytest.fixture
def supplier_key(supplier):
    return bearer(make_api_token(supplier)[1])


def _batch(client, headers, files, **extra):
    parts = {"file": [(io.BytesIO(data), name) for name, data in files]}
    return client.post(
        "/api/v1/documents", data=parts, headers={**headers, **extra}, content_type=MULTIPART
    )


def _events(company_id: int, action: str) -> list[AuditEvent]:
    return db.session.scalars(
        unscoped(
            select(AuditEvent)
            .where(AuditEvent.company_id == company_id, AuditEvent.action == action)
            .order_by(AuditEvent.seq)
        )
    ).all()


def _numbers() -> list[str]:
    return sorted(db.session.scalars(unscoped(select(Document.number))).all())


def test_does_a_batch_answer_each_file_on_its_own(client, supplier, customer, supplier_key):
    first = signed_invoice(supplier, customer.tax_id, number="SETP990000101")
    second = signed_invoice(supplier, customer.tax_id, number="SETP990000102")
    response = _batch(
        client,
        supplier_key,
        [
            ("a.xml", first),
            ("broken.xml", b"this is not xml"),
            ("again.xml", first),
            ("b.xml", second),
        ],
    )
    assert response.status_code == 207, response.get_data(as_text=True)
    results = response.get_json()["results"]
    assert [(r["filename"], r["status"]) for r in results] == [
        ("a.xml", 201),
        ("broken.xml", 422),
        ("again.xml", 409),
        ("b.xml", 201),
    ]
    accepted, refused, duplicate, other = results
    assert accepted["document"]["number"] == "SETP990000101"
    assert accepted["document"]["status"] == "received"
    assert all(f["severity"] != "error" for f in accepted["document"]["findings"])
    assert refused["error"]["code"] == "document_refused"
    assert refused["error"]["details"]["findings"] and refused["error"]["details"]["quarantine_id"]
    assert duplicate["error"]["code"] == "duplicate"
    assert duplicate["error"]["details"]["original_id"] == accepted["document"]["id"]
    assert _numbers() == ["SETP990000101", "SETP990000102"]
    # The duplicate is kept in the quarantine like the unreadable file, each saying why.
    assert duplicate["error"]["details"]["quarantine_id"] not in (
        None,
        refused["error"]["details"]["quarantine_id"],
    )
    assert count(QuarantinedUpload) == 2
    # One request: one api.call event, and each document's own audit event.
    assert len(_events(supplier.id, "api.call")) == 1
    assert len(_events(supplier.id, "document.submitted")) == 2
    assert len(_events(supplier.id, "document.quarantined")) == 2
    # The buyer sees both, as if they had been sent one by one.
    customer_key = bearer(make_api_token(customer)[1])
    listed = client.get("/api/v1/documents", headers=customer_key).get_json()["data"]
    ids = {accepted["document"]["id"], other["document"]["id"]}
    assert {d["id"] for d in listed} == ids
    assert all(d["direction"] == "received" for d in listed)
    assert audit.verify_chains().intact


def test_is_a_batch_answered_as_the_single_calls_would(client, supplier, customer, supplier_key):
    """The 409 of a file sent earlier alone is the same error a single call would give."""
    data = signed_invoice(supplier, customer.tax_id, number="SETP990000111")
    alone = client.post(
        "/api/v1/documents",
        data={"file": (io.BytesIO(data), "alone.xml")},
        headers=supplier_key,
        content_type=MULTIPART,
    )
    assert alone.status_code == 201  # one part named file: the single form, as before
    again_alone = client.post(
        "/api/v1/documents", data=data, headers={**supplier_key, "Content-Type": "application/xml"}
    )
    assert again_alone.status_code == 409
    response = _batch(client, supplier_key, [("x.xml", data), ("y.xml", b"<x/>")])
    duplicate = response.get_json()["results"][0]
    assert duplicate["status"] == 409
    # The same error, but each refused copy is an entry of the quarantine of its own.
    batch_error, single_error = duplicate["error"], again_alone.get_json()["error"]
    batch_kept = batch_error["details"].pop("quarantine_id")
    single_kept = single_error["details"].pop("quarantine_id")
    assert batch_error == single_error
    assert batch_kept and single_kept and batch_kept != single_kept


def test_is_a_batch_over_the_cap_refused_whole(client, supplier, customer, supplier_key):
    files = [(f"f{i}.xml", b"<x/>") for i in range(MAX_BATCH_FILES + 1)]
    response = _batch(client, supplier_key, files)
    assert response.status_code == 413, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == "payload_too_large"
    assert str(MAX_BATCH_FILES) in error["message"] and str(MAX_BATCH_FILES + 1) in error["message"]
    assert count(Document) == 0 and count(QuarantinedUpload) == 0
    # The refused call is on record all the same.
    (call,) = _events(supplier.id, "api.call")
    assert call.details == {"method": "POST", "path": "/api/v1/documents"}


def test_is_a_batch_with_a_bad_token_refused(client, supplier, customer):
    data = signed_invoice(supplier, customer.tax_id)
    for headers in (bearer("not-a-token"), {}):
        response = _batch(client, headers, [("a.xml", data), ("b.xml", data)])
        assert response.status_code == 401
        assert response.get_json()["error"]["code"] in {"invalid_token", "missing_token"}
    revoked = bearer(make_api_token(supplier, revoked=True)[1])
    assert _batch(client, revoked, [("a.xml", data), ("b.xml", data)]).status_code == 401
    assert count(Document) == 0 and count(QuarantinedUpload) == 0


def test_are_a_batchs_documents_still_404_to_another_company(
    client, supplier, customer, supplier_key
):
    files = [
        (f"{n}.xml", signed_invoice(supplier, customer.tax_id, number=f"SETP99000012{n}"))
        for n in range(2)
    ]
    results = _batch(client, supplier_key, files).get_json()["results"]
    ids = [r["document"]["id"] for r in results]
    stranger = bearer(make_api_token(make_company("Extraña Lotes"))[1])
    for document_id in ids:
        for path in ("", "/xml", "/events"):
            response = client.get(f"/api/v1/documents/{document_id}{path}", headers=stranger)
            assert response.status_code == 404, path
    assert client.get("/api/v1/documents", headers=stranger).get_json()["data"] == []


def test_does_a_failure_half_way_spare_the_others(client, supplier, customer, supplier_key, app):
    """The middle file fails after its row was written: it is rolled back whole, alone."""
    files = [
        (f"{n}.xml", signed_invoice(supplier, customer.tax_id, number=f"SETP99000013{n}"))
        for n in range(3)
    ]

    def fail_after_insert(_mapper, _connection, target):
        if target.number == "SETP990000131":
            raise RuntimeError("the disk is full")

    event.listen(Document, "after_insert", fail_after_insert)
    try:
        response = _batch(client, supplier_key, files)
    finally:
        event.remove(Document, "after_insert", fail_after_insert)
    assert response.status_code == 207, response.get_data(as_text=True)
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == [201, 500, 201]
    assert (
        results[1]["error"]["code"] == "server_error" and "1.xml" in results[1]["error"]["message"]
    )
    assert _numbers() == ["SETP990000130", "SETP990000132"]
    submitted = _events(supplier.id, "document.submitted")
    assert sorted(e.details["number"] for e in submitted) == ["SETP990000130", "SETP990000132"]
    assert count(QuarantinedUpload) == 0
    assert audit.verify_chains().intact
    # Sent again, the failed file goes through.
    again = _batch(client, supplier_key, [files[1], files[0]]).get_json()["results"]
    assert [r["status"] for r in again] == [201, 409]


def test_does_an_idempotency_key_replay_a_whole_batch(client, supplier, customer, supplier_key):
    files = [
        ("a.xml", signed_invoice(supplier, customer.tax_id, number="SETP990000141")),
        ("b.xml", b"<not-an-invoice/>"),
    ]
    key = {"Idempotency-Key": "batch-0001"}
    first = _batch(client, supplier_key, files, **key)
    second = _batch(client, supplier_key, files, **key)
    assert first.status_code == second.status_code == 207
    assert second.get_json() == first.get_json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert count(Document) == 1 and count(QuarantinedUpload) == 1
    # The same key with another batch is a mistake, not a replay.
    other = [files[0], ("c.xml", b"<other/>")]
    response = _batch(client, supplier_key, other, **key)
    assert response.status_code == 422
    assert count(Document) == 1 and count(QuarantinedUpload) == 1


# One commit a request, and the call on record whatever the view did


def test_does_a_sent_document_cost_one_commit(client, supplier, customer, supplier_key):
    commits = []

    def count_commit(_connection):
        commits.append(True)

    event.listen(db.engine, "commit", count_commit)
    try:
        response = client.post(
            "/api/v1/documents",
            data=signed_invoice(supplier, customer.tax_id),
            headers={**supplier_key, "Content-Type": "application/xml"},
        )
    finally:
        event.remove(db.engine, "commit", count_commit)
    assert response.status_code == 201
    assert len(commits) == 1
    (call,) = _events(supplier.id, "api.call")
    (submitted,) = _events(supplier.id, "document.submitted")
    assert call.seq + 1 == submitted.seq  # recorded in the same transaction, the call first
    token = db.session.scalars(
        unscoped(select(ApiToken).where(ApiToken.company_id == supplier.id))
    ).one()
    assert token.last_used_at is not None


def test_is_the_call_recorded_when_the_view_refuses(client, supplier, supplier_key):
    response = client.post(
        "/api/v1/documents", data=b"", headers={**supplier_key, "Content-Type": "application/xml"}
    )
    assert response.status_code == 422
    (call,) = _events(supplier.id, "api.call")
    assert call.details == {"method": "POST", "path": "/api/v1/documents"}
    token = db.session.scalars(
        unscoped(select(ApiToken).where(ApiToken.company_id == supplier.id))
    ).one()
    assert token.last_used_at is not None


def test_is_the_call_recorded_when_the_view_fails(
    client, supplier, customer, supplier_key, monkeypatch
):
    from app.services import webhooks

    def broken(_document):
        raise RuntimeError("outbox down")

    monkeypatch.setattr(webhooks, "document_received", broken)
    with pytest.raises(RuntimeError):
        client.post(
            "/api/v1/documents",
            data=signed_invoice(supplier, customer.tax_id),
            headers={**supplier_key, "Content-Type": "application/xml"},
        )
    assert count(Document) == 0 and count(WebhookDelivery) == 0
    assert _events(supplier.id, "document.submitted") == []
    (call,) = _events(supplier.id, "api.call")
    assert call.details == {"method": "POST", "path": "/api/v1/documents"}
    assert audit.verify_chains().intact


def test_does_each_file_of_a_batch_count_against_the_rate_limit(
    app, client, supplier, customer, supplier_key, monkeypatch
):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "3 per minute")
    files = [
        (f"{n}.xml", signed_invoice(supplier, customer.tax_id, number=f"SETP99000015{n}"))
        for n in range(4)
    ]
    response = _batch(client, supplier_key, files)  # four files: over three a minute
    assert response.status_code == 429, response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] == "rate_limited"
    assert count(Document) == 0
    other_key = bearer(make_api_token(supplier)[1])  # the limit counts per token
    assert _batch(client, other_key, files[:2]).status_code == 207
    single = client.post(
        "/api/v1/documents",
        data=files[2][1],
        headers={**other_key, "Content-Type": "application/xml"},
    )
    assert single.status_code == 201
    assert _batch(client, other_key, [files[3], files[3]]).status_code == 429
    assert count(Document) == 3


def test_is_a_customer_off_the_network_invited_once_by_a_batch(
    client, supplier, supplier_key, outbox
):
    """As when the invoices come one by one: the first invites, the others wait with it."""
    tax_id = fresh_nit()
    files = [
        (
            f"{n}.xml",
            signed_invoice(supplier, tax_id, number=f"SETP99000016{n}", email="pagos@nueva.test"),
        )
        for n in range(3)
    ]
    results = _batch(client, supplier_key, files).get_json()["results"]
    assert [r["status"] for r in results] == [201, 201, 201]
    assert all(r["document"]["waiting"] for r in results)
    invitations = [m for m in outbox() if m["to"] == "pagos@nueva.test"]
    assert len(invitations) == 1


def test_is_a_credit_note_linked_to_its_invoice_in_the_same_batch(
    client, supplier, customer, supplier_key
):
    invoice, note = written_invoice_and_credit_note(supplier, customer)
    results = _batch(client, supplier_key, [("f.xml", invoice), ("nc.xml", note)]).get_json()
    sent_invoice, sent_note = (r["document"] for r in results["results"])
    assert sent_note["related_document_id"] == sent_invoice["id"]
    stored = {
        d.id: d
        for d in db.session.scalars(
            unscoped(select(Document)).execution_options(populate_existing=True)
        )
    }
    invoice_row, note_row = stored[sent_invoice["id"]], stored[sent_note["id"]]
    assert note_row.payable > 0
    assert invoice_row.open_balance == invoice_row.payable - note_row.payable
