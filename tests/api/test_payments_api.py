"""/api/v1/payments in the exact form reviewers script against, with a fake gateway."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.gateways import base as gw
from app.models.api import DOCUMENTS_READ, PAYMENTS_READ, PAYMENTS_WRITE
from app.tenancy import unscoped
from tests.conftest import bearer, make_api_token, make_company
from tests.payments_helpers import connect_fake, invoice, sign


@pytest.fixture
def world(fake_gateway):
    supplier, buyer = make_company("Proveedora API"), make_company("Compradora API")
    connection = connect_fake(supplier)
    connection = type("Connection", (), {"public_id": connection.public_id})
    _, buyer_key = make_api_token(buyer, scopes=(PAYMENTS_READ, PAYMENTS_WRITE, DOCUMENTS_READ))
    _, supplier_key = make_api_token(supplier, scopes=(PAYMENTS_READ, PAYMENTS_WRITE))
    return supplier, buyer, connection, bearer(buyer_key), bearer(supplier_key)


def pay(client, headers, documents, **extra):
    return client.post(
        "/api/v1/payments",
        json={"documents": documents, "method": "sandbox"},
        headers=headers | extra,
    )


def test_a_payment_is_created_confirmed_and_shown_on_the_document(client, world):
    supplier, buyer, connection, buyer_h, supplier_h = world
    a, b = invoice(supplier, buyer, "100.00"), invoice(supplier, buyer, "250.50")
    response = pay(client, buyer_h, [{"id": a.id, "amount": "40.00"}, {"id": b.id}])
    assert response.status_code == 201, response.json
    body = response.json
    assert body["status"] == "created" and body["amount"] == "290.50"
    assert body["currency"] == "COP" and body["checkout_url"].startswith("https://")
    assert body["allocations"] == [
        {"document_id": a.id, "amount": "40.00", "refunded_amount": "0.00"},
        {"document_id": b.id, "amount": "250.50", "refunded_amount": "0.00"},
    ]
    payload, headers = sign(
        {
            "id": "evt_1",
            "kind": gw.PAYMENT_SUCCEEDED,
            "reference": str(body["id"]),
            "amount": "290.50",
            "currency": "COP",
        }
    )
    webhook = client.post(
        f"/payments/webhooks/sandbox/{connection.public_id}", data=payload, headers=headers
    )
    assert webhook.status_code == 200
    assert (
        client.get(f"/api/v1/payments/{body['id']}", headers=buyer_h).json["status"] == "succeeded"
    )
    assert (
        client.get(f"/api/v1/payments/{body['id']}", headers=supplier_h).json["status"]
        == "succeeded"
    )
    document = client.get(f"/api/v1/documents/{a.id}", headers=buyer_h).json
    assert document["open_balance"] == "60.00" and document["payment_status"] == "partially_paid"
    assert [p["id"] for p in document["payments"]] == [body["id"]]
    partly = client.get("/api/v1/documents?payment_status=partially_paid", headers=buyer_h).json
    assert [d["id"] for d in partly["data"]] == [a.id]
    paid = client.get("/api/v1/documents?payment_status=paid", headers=buyer_h).json
    assert [d["id"] for d in paid["data"]] == [b.id]
    bad = client.get("/api/v1/documents?payment_status=partial", headers=buyer_h)
    assert bad.status_code == 422
    listed = client.get("/api/v1/payments?status=succeeded", headers=supplier_h).json["data"]
    assert [p["id"] for p in listed] == [body["id"]]
    assert client.get("/api/v1/payments?status=failed", headers=supplier_h).json["data"] == []


def test_other_companies_documents_and_payments_are_not_found(client, world):
    supplier, buyer, _c, buyer_h, _s = world
    stranger = make_company("Ajena API")
    theirs = invoice(supplier, stranger)
    assert pay(client, buyer_h, [{"id": theirs.id}]).status_code == 404
    _, stranger_key = make_api_token(stranger, scopes=(PAYMENTS_READ, PAYMENTS_WRITE))
    mine = pay(client, buyer_h, [{"id": invoice(supplier, buyer).id}]).json
    assert (
        client.get(f"/api/v1/payments/{mine['id']}", headers=bearer(stranger_key)).status_code
        == 404
    )
    assert (
        client.post(
            f"/api/v1/payments/{mine['id']}/refunds", json={}, headers=bearer(stranger_key)
        ).status_code
        == 404
    )


@pytest.mark.parametrize(
    "item",
    [
        {"amount": "100.01"},  # more than the open balance
        {"amount": "0"},
        {"amount": "12.345"},  # more decimals than COP
        {"amount": 12.5},  # a JSON number, not a decimal string
        {"amount": "-5"},
        {"amount": "1e3"},
    ],
)
def test_wrong_amounts_are_422(client, world, item):
    supplier, buyer, _c, buyer_h, _s = world
    document = invoice(supplier, buyer, "100.00")
    response = pay(client, buyer_h, [{"id": document.id} | item])
    assert response.status_code == 422, response.json
    assert response.json["error"]["message"]


def test_the_same_idempotency_key_answers_the_same_payment(client, world, fake_gateway):
    supplier, buyer, _c, buyer_h, _s = world
    document = invoice(supplier, buyer)
    first = pay(client, buyer_h, [{"id": document.id}], **{"Idempotency-Key": "erp-77"})
    again = pay(client, buyer_h, [{"id": document.id}], **{"Idempotency-Key": "erp-77"})
    assert first.status_code == again.status_code == 201
    assert first.json["id"] == again.json["id"] and len(fake_gateway.checkouts) == 1


def test_scopes_are_required(client, world):
    supplier, buyer, *_ = world
    _, read_only = make_api_token(buyer, scopes=(PAYMENTS_READ,))
    document = invoice(supplier, buyer)
    assert pay(client, bearer(read_only), [{"id": document.id}]).status_code == 403
    _, docs_only = make_api_token(buyer, scopes=(DOCUMENTS_READ,))
    assert client.get("/api/v1/payments", headers=bearer(docs_only)).status_code == 403


def test_the_payee_refunds_and_the_balance_opens_again(client, world):
    supplier, buyer, connection, buyer_h, supplier_h = world
    document = invoice(supplier, buyer, "100.00")
    created = pay(client, buyer_h, [{"id": document.id}]).json
    payload, headers = sign(
        {
            "id": "evt_9",
            "kind": gw.PAYMENT_SUCCEEDED,
            "reference": str(created["id"]),
            "amount": "100.00",
            "currency": "COP",
        }
    )
    client.post(f"/payments/webhooks/sandbox/{connection.public_id}", data=payload, headers=headers)
    refused = client.post(f"/api/v1/payments/{created['id']}/refunds", json={}, headers=buyer_h)
    assert refused.status_code == 404  # the payer does not refund
    too_much = client.post(
        f"/api/v1/payments/{created['id']}/refunds", json={"amount": "100.01"}, headers=supplier_h
    )
    assert too_much.status_code == 422
    done = client.post(
        f"/api/v1/payments/{created['id']}/refunds", json={"amount": "25.00"}, headers=supplier_h
    )
    assert done.status_code == 201 and done.json["status"] == "partially_refunded"
    assert done.json["refunds"][0]["amount"] == "25.00"
    document = client.get(f"/api/v1/documents/{document.id}", headers=buyer_h).json
    assert document["open_balance"] == "25.00"


def test_the_webhook_endpoint_refuses_forgeries(client, world):
    _s, _b, connection, *_ = world
    payload, headers = sign({"id": "evt_x", "kind": gw.PAYMENT_SUCCEEDED, "reference": "1"})
    assert (
        client.post(
            f"/payments/webhooks/sandbox/{connection.public_id}",
            data=payload + b" ",
            headers=headers,
        ).status_code
        == 400
    )
    assert (
        client.post(
            "/payments/webhooks/sandbox/gc_nobody", data=payload, headers=headers
        ).status_code
        == 404
    )
    assert client.get(f"/payments/webhooks/sandbox/{connection.public_id}").status_code == 405


def test_the_return_page_says_processing_then_paid(client, world):
    supplier, buyer, connection, buyer_h, _s = world
    document = invoice(supplier, buyer, "100.00")
    created = pay(client, buyer_h, [{"id": document.id}]).json
    from app.models.payment import Payment

    token = db.session.scalar(
        unscoped(select(Payment.access_token).where(Payment.id == created["id"]))
    )
    page = client.get(f"/payments/return/{token}")
    assert page.status_code == 200
    assert 'hx-trigger="every 2s, payment-changed from:body"' in page.text
    payload, headers = sign(
        {
            "id": "evt_r",
            "kind": gw.PAYMENT_SUCCEEDED,
            "reference": str(created["id"]),
            "amount": "100.00",
            "currency": "COP",
        }
    )
    client.post(f"/payments/webhooks/sandbox/{connection.public_id}", data=payload, headers=headers)
    page = client.get(f"/payments/return/{token}", headers={"HX-Request": "true"})
    assert "every 2s" not in page.text and document.number in page.text
    assert client.get("/payments/return/not-a-token").status_code == 404
