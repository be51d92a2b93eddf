"""The payer's side of paying invoices: from the Received tray or a document's page to the
review, the gateway's checkout, a bank transfer with its receipt, and the public pay link."""

from __future__ import annotations

import re
import time
from decimal import Decimal

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import func, select

from app.extensions import db
from app.gateways import base as gw
from app.models.payment import Payment
from app.services.payments import queries
from app.tenancy import acting_as, unscoped
from tests.conftest import login, make_company, make_user
from tests.payments_helpers import connect_fake, invoice, refreshed, set_payment_settings, sign

EN = {"Accept-Language": "en"}


@pytest.fixture
def world(client, fake_gateway):
    supplier = make_company("Proveedora Pagos")
    buyer = make_company("Compradora Pagos")
    payer = make_user(buyer, role="payables", locale="en")
    connection = connect_fake(supplier)
    login(client, payer, buyer)
    return supplier, buyer, payer, connection


def payments_count() -> int:
    return db.session.scalar(unscoped(select(func.count(Payment.id))))


def only_payment() -> Payment:
    db.session.expire_all()
    return db.session.scalars(unscoped(select(Payment))).one()


def amount_field(page: str, document_id: int) -> str:
    found = re.search(rf'name="amount-{document_id}"[^>]*?value="([^"]*)"', page, re.S)
    assert found, f"no amount field for {document_id}"
    return found.group(1)


def test_can_a_payer_pick_two_invoices_in_the_tray_and_review_them_with_the_total(client, world):
    supplier, buyer, _payer, _c = world
    a, b = invoice(supplier, buyer, "100000.00"), invoice(supplier, buyer, "50000.00")
    tray = client.get("/inbox/received")
    assert 'data-testid="pay-selected"' in tray.text
    chosen = client.post(
        "/inbox/bulk", data={"action": "pay", "tray": "received", "document_ids": [a.id, b.id]}
    )
    assert chosen.status_code == 303
    assert chosen.location == f"/payments/new?document={a.id}&document={b.id}"
    page = client.get(chosen.location)
    assert page.status_code == 200
    assert a.number in page.text and b.number in page.text
    assert amount_field(page.text, a.id) == "100000.00"
    assert amount_field(page.text, b.id) == "50000.00"
    total = re.search(r'data-testid="pay-total">([^<]*)<', page.text).group(1)
    assert "150,000.00" in total
    assert 'data-testid="test-mode"' in page.text  # the fake connection is in test mode
    assert re.search(r'name="idempotency_key"[^>]*value="[0-9a-f]{32}"', page.text)


def test_does_a_received_invoice_page_offer_to_pay_it(client, world):
    supplier, buyer, _payer, _c = world
    document = invoice(supplier, buyer)
    page = client.get(f"/documents/{document.id}")
    assert f'href="/payments/new?document={document.id}"' in page.text


def test_paying_goes_to_the_gateway_checkout_and_a_double_submit_is_one_payment(
    client, world, fake_gateway
):
    supplier, buyer, _payer, _c = world
    document = invoice(supplier, buyer, "100000.00")
    form = {
        "document": [document.id],
        f"amount-{document.id}": "100000.00",
        "method": "sandbox",
        "idempotency_key": "k" * 32,
    }
    first = client.post("/payments/new", data=form)
    again = client.post("/payments/new", data=form)
    assert first.status_code == again.status_code == 303
    assert first.location == again.location == "https://pay.test/cs_1"
    assert payments_count() == 1
    payment = only_payment()
    assert (payment.amount, payment.payer_company_id, payment.status) == (
        Decimal("100000.00"),
        buyer.id,
        "created",
    )
    request = fake_gateway.calls[0][1]
    assert request.success_url.startswith("http")
    assert request.success_url.endswith(f"/payments/return/{payment.access_token}")
    assert request.cancel_url.endswith(f"/payments/return/{payment.access_token}?canceled=1")


def test_a_part_of_an_invoice_can_be_paid_when_the_supplier_allows_it(client, world):
    supplier, buyer, _payer, _c = world
    set_payment_settings(supplier, allow_partial=True, partial_minimum=Decimal("10000"))
    document = invoice(supplier, buyer, "100000.00")
    page = client.get(f"/payments/new?document={document.id}")
    assert "You may pay part of an invoice" in page.text and "10,000.00" in page.text
    form = {"document": [document.id], "method": "sandbox", "idempotency_key": "p" * 32}
    answer = client.post("/payments/new", data={**form, f"amount-{document.id}": "40000.50"})
    assert answer.status_code == 303
    assert only_payment().amount == Decimal("40000.50")
    with acting_as(buyer.id):
        assert refreshed(document).held_amount == Decimal("40000.50")


def test_a_supplier_that_takes_only_full_payments_refuses_a_part_with_a_message(client, world):
    supplier, buyer, _payer, _c = world
    set_payment_settings(supplier, allow_partial=False)
    document = invoice(supplier, buyer, "100000.00")
    assert "each invoice paid in full" in client.get(f"/payments/new?document={document.id}").text
    answer = client.post(
        "/payments/new",
        data={"document": [document.id], f"amount-{document.id}": "10", "method": "sandbox"},
    )
    assert answer.status_code == 422
    assert 'data-testid="pay-problem"' in answer.text
    assert payments_count() == 0


def test_an_amount_above_the_open_balance_is_refused_next_to_the_amount(client, world):
    supplier, buyer, _payer, _c = world
    document = invoice(supplier, buyer, "100000.00")
    answer = client.post(
        "/payments/new",
        data={"document": [document.id], f"amount-{document.id}": "200000", "method": "sandbox"},
    )
    assert answer.status_code == 422
    problem = re.search(r'data-testid="pay-problem">([^<]*)<', answer.text).group(1)
    assert document.number in problem and "at most" in problem
    assert amount_field(answer.text, document.id) == "200000"  # what was typed stays
    unreadable = client.post(
        "/payments/new",
        data={"document": [document.id], f"amount-{document.id}": "12,5x", "method": "sandbox"},
    )
    assert unreadable.status_code == 422
    assert f'data-field-error="amount-{document.id}"' in unreadable.text
    assert payments_count() == 0


def test_another_companys_invoice_cannot_be_reviewed_or_paid(client, world):
    supplier, _buyer, _payer, _c = world
    theirs = invoice(supplier, make_company("Otra Compradora"))
    assert client.get(f"/payments/new?document={theirs.id}").status_code == 404
    answer = client.post("/payments/new", data={"document": [theirs.id], "method": "sandbox"})
    assert answer.status_code == 404
    assert client.get(f"/payments/transfer?document={theirs.id}").status_code == 404
    assert payments_count() == 0


def test_a_viewer_cannot_pay(client, world):
    supplier, buyer, _payer, _c = world
    document = invoice(supplier, buyer)
    viewer = make_user(buyer, role="viewer", locale="en")
    login(client, viewer, buyer)
    assert client.get(f"/payments/new?document={document.id}").status_code == 403
    form = {"document": [document.id], "method": "sandbox"}
    assert client.post("/payments/new", data=form).status_code == 403
    assert client.get(f"/payments/transfer?document={document.id}").status_code == 403
    assert "pay-selected" not in client.get("/inbox/received").text
    assert "pay-document" not in client.get(f"/documents/{document.id}").text
    bulk = {"action": "pay", "tray": "received", "document_ids": [document.id]}
    assert client.post("/inbox/bulk", data=bulk).status_code == 403


def test_invoices_of_two_suppliers_are_refused_with_a_message(client, world):
    supplier, buyer, _payer, _c = world
    a = invoice(supplier, buyer)
    b = invoice(make_company("Otro Proveedor"), buyer)
    page = client.get(f"/payments/new?document={a.id}&document={b.id}")
    assert page.status_code == 422 and "one supplier" in page.text


def _png(size: int = 200) -> bytes:
    return b"\x89PNG\r\n\x1a\n" + b"\0" * size


def _transfer_form(document, **extra):
    return {
        "document": [document.id],
        f"amount-{document.id}": "100000.00",
        "transfer_date": "2026-11-20",
        "reference": "TRX-991",
        "idempotency_key": "t" * 32,
        **extra,
    }


@pytest.fixture
def with_bank(world):
    supplier = world[0]
    set_payment_settings(
        supplier, bank_name="Banco Andino", account_type="Ahorros", account_number="123-456789-00"
    )
    return world


def test_choosing_bank_transfer_leads_to_the_transfer_form_with_the_bank_details(client, with_bank):
    supplier, buyer, _payer, _c = with_bank
    document = invoice(supplier, buyer, "100000.00")
    review = client.get(f"/payments/new?document={document.id}")
    assert "Bank transfer" in review.text and "123-456789-00" in review.text
    chosen = client.post(
        "/payments/new",
        data={"document": [document.id], f"amount-{document.id}": "60000", "method": "transfer"},
    )
    assert chosen.status_code == 303 and chosen.location.startswith("/payments/transfer?")
    page = client.get(chosen.location)
    assert page.status_code == 200
    assert amount_field(page.text, document.id) == "60000.00"
    assert 'accept="image/*,application/pdf"' in page.text
    assert 'capture="environment"' in page.text and "Banco Andino" in page.text
    assert payments_count() == 0


def test_a_transfer_with_a_photo_of_the_receipt_waits_for_the_supplier(client, with_bank):
    supplier, buyer, _payer, _c = with_bank
    document = invoice(supplier, buyer, "100000.00")
    form = _transfer_form(document)
    sent = client.post(
        "/payments/transfer",
        data={**form, "proof": (__import__("io").BytesIO(_png()), "recibo.png")},
        content_type="multipart/form-data",
    )
    assert sent.status_code == 303
    payment = only_payment()
    assert (payment.status, payment.method, payment.payer_reference) == (
        "awaiting_confirmation",
        "transfer",
        "TRX-991",
    )
    assert payment.proof_content_type == "image/png" and payment.proof.startswith(b"\x89PNG")
    assert sent.location == f"/payments/return/{payment.access_token}"
    page = client.get(sent.location)
    assert "Waiting for the supplier" in page.text
    assert 'data-testid="back-to-tray"' in page.text


def test_a_receipt_too_large_or_not_an_image_is_refused_with_a_message(client, with_bank):
    supplier, buyer, _payer, _c = with_bank
    document = invoice(supplier, buyer, "100000.00")
    io = __import__("io")
    from app.services.payments import paying

    big = client.post(
        "/payments/transfer",
        data={
            **_transfer_form(document),
            "proof": (io.BytesIO(_png(paying.MAX_PROOF_BYTES)), "big.png"),
        },
        content_type="multipart/form-data",
    )
    assert big.status_code == 413 and "too large" in big.text
    text = client.post(
        "/payments/transfer",
        data={**_transfer_form(document), "proof": (io.BytesIO(b"just text"), "r.png")},
        content_type="multipart/form-data",
    )
    assert text.status_code == 422 and "must be a photo" in text.text
    assert 'data-field-error="proof"' in text.text
    assert payments_count() == 0


def test_the_return_page_says_paid_after_the_gateways_webhook(client, world):
    supplier, buyer, _payer, connection = world
    document = invoice(supplier, buyer, "100000.00")
    client.post(
        "/payments/new",
        data={"document": [document.id], f"amount-{document.id}": "100000", "method": "sandbox"},
    )
    payment = only_payment()
    url = f"/payments/return/{payment.access_token}"
    waiting = client.get(url)
    assert 'hx-trigger="every 2s, payment-changed from:body"' in waiting.text
    assert 'data-testid="back-to-tray"' in waiting.text
    body, headers = sign(
        {
            "id": "evt_paid",
            "kind": gw.PAYMENT_SUCCEEDED,
            "reference": str(payment.id),
            "gateway_reference": payment.gateway_reference,
            "amount": "100000.00",
            "currency": "COP",
        }
    )
    hook = client.post(
        f"/payments/webhooks/sandbox/{connection.public_id}", data=body, headers=headers
    )
    assert hook.status_code == 200
    page = client.get(url, headers={"HX-Request": "true"})
    assert "<h1>Paid</h1>" in page.text and "every 2s" not in page.text
    with acting_as(buyer.id):
        assert refreshed(document).payment_status == "paid"
    assert 'data-testid="pay-document"' not in client.get(f"/documents/{document.id}").text


# --------------------------------------------------------------------------- the pay link


@pytest.fixture
def link_world(app, fake_gateway):
    supplier = make_company("Proveedora Enlace")
    connect_fake(supplier)
    a, b = invoice(supplier, None, "70000.00"), invoice(supplier, None, "30000.00")
    with app.test_request_context():
        token = queries.pay_link_token([a.id, b.id])
    return supplier, a, b, token


def test_a_customer_without_an_account_pays_a_statement_by_its_link(client, link_world):
    supplier, a, b, token = link_world
    page = client.get(f"/payments/link/{token}", headers=EN)
    assert page.status_code == 200
    assert a.number in page.text and b.number in page.text and supplier.legal_name in page.text
    assert "Statement from" in page.text and 'name="payer_email"' in page.text
    assert "Bank transfer" not in page.text
    answer = client.post(
        f"/payments/link/{token}",
        data={
            "payer_email": "pagos@cliente.test",
            "method": "sandbox",
            "idempotency_key": "l" * 32,
        },
        headers=EN,
    )
    assert answer.status_code == 303 and answer.location.startswith("https://pay.test/")
    payment = only_payment()
    assert payment.payer_company_id is None and payment.payer_email == "pagos@cliente.test"
    assert payment.amount == Decimal("100000.00")


def test_a_tampered_pay_link_is_not_found_and_an_old_one_has_expired(app, client, link_world):
    _supplier, a, _b, token = link_world
    assert client.get(f"/payments/link/{token[:-3]}abc").status_code == 404
    assert client.post(f"/payments/link/{token[:-3]}abc", data={}).status_code == 404

    class Then(TimestampSigner):  # a link signed the day after it would have expired
        def get_timestamp(self) -> int:
            return int(time.time()) - (queries.PAY_LINK_DAYS + 1) * 86400

    old = URLSafeTimedSerializer(app.secret_key, salt="portal.pay-link.v1", signer=Then).dumps(
        {"d": [a.id]}
    )
    expired = client.get(f"/payments/link/{old}", headers=EN)
    assert expired.status_code == 410 and "expired" in expired.text
    assert payments_count() == 0


def test_a_bad_email_on_the_pay_link_is_named(client, link_world):
    _supplier, _a, _b, token = link_world
    answer = client.post(
        f"/payments/link/{token}",
        data={"payer_email": "not-an-email", "method": "sandbox"},
        headers=EN,
    )
    assert answer.status_code == 422 and 'data-field-error="payer_email"' in answer.text
    assert payments_count() == 0


def test_posting_a_pay_link_over_and_over_is_slowed_down(app, client, link_world, monkeypatch):
    _supplier, _a, _b, token = link_world
    monkeypatch.setitem(app.config, "PAY_LINK_RATE_LIMIT", "2 per minute")
    bad = {"payer_email": "not-an-email", "method": "sandbox"}
    answers = [client.post(f"/payments/link/{token}", data=bad).status_code for _ in range(3)]
    assert answers == [422, 422, 429]
    assert client.get(f"/payments/link/{token}").status_code == 200  # reading is not limited
