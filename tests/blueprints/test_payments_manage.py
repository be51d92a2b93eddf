"""The payments pages from the supplier's side (and the shared ones): gateways, settings, the
list, one payment, transfers confirmed or rejected, refunds, receipts and the document panel."""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from decimal import Decimal

import pdfplumber
import pytest
from sqlalchemy import select

from app.extensions import db
from app.gateways import base as gw
from app.models import Document
from app.models.payment import GatewayConnection, Payment, PaymentSettings
from app.services.payments import connections, paying, webhooks
from app.services.payments.paying import Item
from app.tenancy import acting_as, unscoped
from tests.conftest import login, make_company, make_user
from tests.payments_helpers import connect_fake, invoice, sign, urls


@pytest.fixture
def client(app):
    browser = app.test_client()
    with browser.session_transaction() as session:
        session["locale"] = "en"
    return browser


@pytest.fixture
def parties():
    supplier = make_company("Proveedora Andina S.A.S.")
    buyer = make_company("Compradora del Valle S.A.S.")
    clerk = make_user(supplier, role="receivables", name="Rita Cartera")
    payer = make_user(buyer, role="payables", name="Pablo Pagos")
    return supplier, buyer, clerk, payer


def pay(buyer, payer, documents, connection, amount=None):
    """A payment by the buyer through the fake gateway, confirmed by a signed webhook."""
    with acting_as(buyer.id, payer.id):
        payment = paying.start_payment(
            buyer.id,
            items=[Item(d.id, amount) for d in documents],
            method="sandbox",
            actor=payer,
            urls=urls(),
        )
    db.session.commit()
    body, headers = sign(
        {
            "id": f"evt_{payment.id}",
            "kind": gw.PAYMENT_SUCCEEDED,
            "reference": str(payment.id),
            "gateway_reference": payment.gateway_reference,
            "amount": str(payment.amount),
            "currency": payment.currency,
        }
    )
    webhooks.receive_webhook(connection.gateway, connection.public_id, body, headers)
    db.session.commit()
    return payment


def transfer(buyer, payer, document, proof=b"%PDF-1.4 the bank's receipt"):
    with acting_as(buyer.id, payer.id):
        payment = paying.record_transfer(
            buyer.id,
            items=[Item(document.id)],
            actor=payer,
            transfer_date=dt.date(2026, 11, 20),
            reference="TRX-778",
            proof=proof,
            proof_filename="receipt.pdf",
        )
    db.session.commit()
    return payment


def status_of(payment):
    db.session.expire_all()
    return db.session.scalars(
        unscoped(select(Payment.status).where(Payment.id == payment.id))
    ).one()


def refreshed(document):
    db.session.expire_all()
    return db.session.scalars(unscoped(select(Document).where(Document.id == document.id))).one()


def active(connection):
    db.session.expire_all()
    return db.session.scalars(
        unscoped(select(GatewayConnection.active).where(GatewayConnection.id == connection.id))
    ).one()


def text(response):
    return html.unescape(response.get_data(as_text=True))


# ------------------------------------------------------------------------------ permissions


def test_can_a_viewer_connect_a_gateway_refund_or_confirm_a_transfer(client, parties, fake_gateway):
    """No: every supplier action answers 403 to a viewer, who still sees the payments."""
    supplier, buyer, _clerk, payer = parties
    paid = pay(buyer, payer, [invoice(supplier, buyer)], connect_fake(supplier))
    waiting = transfer(buyer, payer, invoice(supplier, buyer))
    viewer = make_user(supplier, role="viewer")
    login(client, viewer, supplier)
    assert client.get("/payments/").status_code == 200
    assert client.get(f"/payments/{paid.id}").status_code == 200
    for method, url, data in [
        ("GET", "/payments/gateways", {}),
        ("POST", "/payments/gateways/sandbox", {}),
        ("POST", "/payments/gateways/connect", {"gateway": "stripe"}),
        ("GET", "/payments/settings", {}),
        ("POST", "/payments/settings", {"partial_minimum": "1"}),
        ("POST", f"/payments/{paid.id}/refund", {"amount": "1", "confirm": "1"}),
        ("POST", f"/payments/{waiting.id}/confirm", {}),
        ("POST", f"/payments/{waiting.id}/reject", {"confirm": "1"}),
    ]:
        assert client.open(url, method=method, data=data).status_code == 403, url
    assert status_of(waiting) == "awaiting_confirmation"
    assert status_of(paid) == "succeeded"
    assert "refund-form" not in text(client.get(f"/payments/{paid.id}"))


def test_does_every_payment_route_answer_404_to_a_third_company(client, parties, fake_gateway):
    supplier, buyer, _clerk, payer = parties
    paid = pay(buyer, payer, [invoice(supplier, buyer)], connect_fake(supplier))
    waiting = transfer(buyer, payer, invoice(supplier, buyer))
    stranger = make_company("Ajena S.A.S.")
    login(client, make_user(stranger, role="owner"), stranger)
    for payment in (paid, waiting):
        for suffix in ("", "/proof", "/receipt.pdf"):
            assert client.get(f"/payments/{payment.id}{suffix}").status_code == 404
        for action in ("confirm", "reject", "refund"):
            response = client.post(
                f"/payments/{payment.id}/{action}", data={"amount": "1", "confirm": "1"}
            )
            assert response.status_code == 404, action
    assert status_of(waiting) == "awaiting_confirmation"
    assert status_of(paid) == "succeeded"
    assert "Proveedora" not in text(client.get("/payments/"))


# ------------------------------------------------------------------------------ gateways


def test_stripe_keys_that_cannot_be_stripes_are_refused_field_by_field(client, parties):
    supplier, _buyer, clerk, _payer = parties
    login(client, clerk, supplier)
    response = client.post(
        "/payments/gateways/connect",
        data={
            "gateway": "stripe",
            "stripe-secret_key": "pk_test_publishable",
            "stripe-webhook_secret": "not a secret",
        },
    )
    assert response.status_code == 422
    page = text(response)
    assert 'data-field-error="stripe-secret_key"' in page
    assert "This key should start with sk_live_" in page
    assert 'data-field-error="stripe-webhook_secret"' in page
    assert "pk_test_publishable" not in page  # secret inputs are never filled back
    assert db.session.scalars(unscoped(select(GatewayConnection))).all() == []


def test_stripe_keys_are_stored_encrypted_and_the_webhook_url_is_shown(client, parties):
    supplier, _buyer, clerk, _payer = parties
    login(client, clerk, supplier)
    secret = "sk_test_51abcdefGHIJKLMNOP4242"
    response = client.post(
        "/payments/gateways/connect",
        data={
            "gateway": "stripe",
            "stripe-label": "Cobros en dólares",
            "stripe-secret_key": secret,
            "stripe-webhook_secret": "whsec_signing_secret_123",
        },
    )
    assert response.status_code == 303
    connection = db.session.scalars(unscoped(select(GatewayConnection))).one()
    assert (connection.gateway, connection.company_id, connection.test_mode) == (
        "stripe",
        supplier.id,
        True,
    )
    assert secret.encode() not in connection.credentials_encrypted
    assert b"whsec_signing_secret_123" not in connection.credentials_encrypted
    assert connections.credentials_of(connection)["secret_key"] == secret
    page = text(client.get("/payments/gateways"))
    assert f"/payments/webhooks/stripe/{connection.public_id}" in page
    assert "http://" in page.split(f"/payments/webhooks/stripe/{connection.public_id}")[0][-80:]
    assert "…4242" in page and "Test mode" in page and "Cobros en dólares" in page
    assert secret not in page and "whsec_signing_secret_123" not in page


def test_wompi_connects_with_its_four_keys_and_refuses_mixed_environments(client, parties):
    supplier, _buyer, clerk, _payer = parties
    login(client, clerk, supplier)
    keys = {
        "wompi-public_key": "pub_test_abc",
        "wompi-private_key": "prv_prod_abc",  # production among sandbox keys
        "wompi-events_secret": "test_events_abc",
        "wompi-integrity_secret": "test_integrity_abc",
    }
    response = client.post("/payments/gateways/connect", data={"gateway": "wompi", **keys})
    assert response.status_code == 422
    assert "This key should start with prv_test_" in text(response)
    keys["wompi-private_key"] = "prv_test_abc"
    response = client.post("/payments/gateways/connect", data={"gateway": "wompi", **keys})
    assert response.status_code == 303
    assert db.session.scalars(unscoped(select(GatewayConnection.gateway))).all() == ["wompi"]


def test_disconnecting_asks_first_and_then_stops_the_connection(client, parties):
    supplier, _buyer, clerk, _payer = parties
    connection = connect_fake(supplier, gateway="stripe")
    login(client, clerk, supplier)
    asked = client.post(f"/payments/gateways/{connection.id}/disconnect")
    assert asked.status_code == 200 and "Customers can no longer pay through" in text(asked)
    assert active(connection)
    done = client.post(f"/payments/gateways/{connection.id}/disconnect", data={"confirm": "1"})
    assert done.status_code == 303
    assert not active(connection)
    other = connect_fake(make_company("Otra S.A.S."), gateway="stripe")
    response = client.post(f"/payments/gateways/{other.id}/disconnect", data={"confirm": "1"})
    assert response.status_code == 404


def test_the_sandbox_gateway_connects_in_one_click(client, parties, monkeypatch):
    supplier, _buyer, clerk, _payer = parties
    called = []

    def fake_connect(company_id, *, name, actor):
        called.append((company_id, name, actor.id))
        return connect_fake(supplier)

    monkeypatch.setattr(connections, "connect_sandbox", fake_connect)
    login(client, clerk, supplier)
    page = text(client.get("/payments/gateways"))
    assert "Connect the sandbox gateway" in page
    response = client.post("/payments/gateways/sandbox", follow_redirects=True)
    assert response.status_code == 200
    assert called == [(supplier.id, supplier.legal_name, clerk.id)]
    assert "The sandbox gateway is connected" in text(response)


# ------------------------------------------------------------------------------ settings


def test_payment_settings_are_saved_and_a_negative_minimum_is_refused(client, parties):
    supplier, _buyer, clerk, _payer = parties
    login(client, clerk, supplier)
    form = {
        "allow_partial": "y",
        "partial_minimum": "-5",
        "accept_transfers": "y",
        "bank_name": "Bancolombia",
        "account_type": "savings",
        "account_number": "123-456789-01",
        "account_holder": "Proveedora Andina S.A.S.",
        "instructions": "Escriba el número de la factura.",
    }
    refused = client.post("/payments/settings", data=form)
    assert refused.status_code == 422
    assert "The minimum cannot be negative." in text(refused)
    assert db.session.scalars(unscoped(select(PaymentSettings))).all() == []

    no_bank = client.post(
        "/payments/settings", data={**form, "partial_minimum": "1", "bank_name": ""}
    )
    assert no_bank.status_code == 422 and "Give the bank and the account number" in text(no_bank)

    saved = client.post("/payments/settings", data={**form, "partial_minimum": "50000"})
    assert saved.status_code == 303
    row = db.session.scalars(unscoped(select(PaymentSettings))).one()
    assert (row.company_id, row.partial_minimum, row.account_type, row.bank_name) == (
        supplier.id,
        Decimal("50000.00"),
        "savings",
        "Bancolombia",
    )
    # Saved again: the same row, partial payments now off.
    client.post("/payments/settings", data={**form, "allow_partial": "", "partial_minimum": "0"})
    db.session.expire_all()
    rows = db.session.scalars(unscoped(select(PaymentSettings))).all()
    assert len(rows) == 1 and rows[0].allow_partial is False
    assert 'value="123-456789-01"' in text(client.get("/payments/settings"))


# ------------------------------------------------------------------------------ transfers


def test_the_supplier_sees_the_proof_and_confirms_a_transfer(client, parties):
    supplier, buyer, clerk, payer = parties
    document = invoice(supplier, buyer, "250000.00")
    payment = transfer(buyer, payer, document)
    login(client, clerk, supplier)
    page = text(client.get(f"/payments/{payment.id}"))
    assert "TRX-778" in page and "Confirm the transfer" in page and "receipt.pdf" in page
    proof = client.get(f"/payments/{payment.id}/proof")
    assert proof.status_code == 200
    assert proof.mimetype == "application/pdf"
    assert proof.headers["Content-Disposition"].startswith("attachment")
    assert proof.headers["X-Content-Type-Options"] == "nosniff"
    assert proof.data == b"%PDF-1.4 the bank's receipt"

    assert client.post(f"/payments/{payment.id}/confirm").status_code == 303
    assert status_of(payment) == "succeeded"
    assert refreshed(document).payment_status == "paid"
    page = text(client.get(f"/payments/{payment.id}"))
    assert "Confirm the transfer" not in page and "Receipt (PDF)" in page


def test_rejecting_a_transfer_asks_first_and_reopens_the_invoice(client, parties):
    supplier, buyer, clerk, payer = parties
    document = invoice(supplier, buyer, "250000.00")
    payment = transfer(buyer, payer, document)
    login(client, clerk, supplier)
    asked = client.post(f"/payments/{payment.id}/reject", data={"reason": "No llegó"})
    assert asked.status_code == 200 and "Reject this transfer?" in text(asked)
    assert status_of(payment) == "awaiting_confirmation"
    done = client.post(
        f"/payments/{payment.id}/reject", data={"reason": "No llegó", "confirm": "1"}
    )
    assert done.status_code == 303
    assert status_of(payment) == "failed"
    document = refreshed(document)
    assert (document.payment_status, document.held_amount) == ("unpaid", Decimal("0"))
    # The payer cannot decide its own transfer.
    payer_client = client.application.test_client()
    login(payer_client, make_user(buyer, role="admin"), buyer)
    other = transfer(buyer, payer, invoice(supplier, buyer))
    assert payer_client.post(f"/payments/{other.id}/confirm").status_code in (303, 404)
    assert status_of(other) == "awaiting_confirmation"


# ------------------------------------------------------------------------------ refunds


def test_a_partial_refund_asks_first_and_reopens_part_of_the_invoice(client, parties, fake_gateway):
    supplier, buyer, clerk, payer = parties
    document = invoice(supplier, buyer, "100000.00")
    payment = pay(buyer, payer, [document], connect_fake(supplier))
    login(client, clerk, supplier)
    page = text(client.get(f"/payments/{payment.id}"))
    assert 'name="amount"' in page and 'value="100000.00"' in page  # prefilled with all

    too_much = client.post(
        f"/payments/{payment.id}/refund", data={"amount": "150000", "confirm": "1"}
    )
    assert too_much.status_code == 422 and "Refund more than zero" in text(too_much)

    asked = client.post(f"/payments/{payment.id}/refund", data={"amount": "30000"})
    assert asked.status_code == 200 and "Refund" in text(asked)
    assert refreshed(document).open_balance == Decimal("0.00")

    done = client.post(
        f"/payments/{payment.id}/refund",
        data={"amount": "30000", "reason": "Devolución parcial", "confirm": "1"},
    )
    assert done.status_code == 303
    document = refreshed(document)
    assert (document.open_balance, document.payment_status) == (
        Decimal("30000.00"),
        "partially_paid",
    )
    assert status_of(payment) == "partially_refunded"
    page = text(client.get(f"/payments/{payment.id}"))
    assert "Devolución parcial" in page and 'value="70000.00"' in page


def test_the_payer_sees_the_payment_but_cannot_refund_it(client, parties, fake_gateway):
    supplier, buyer, _clerk, payer = parties
    payment = pay(buyer, payer, [invoice(supplier, buyer)], connect_fake(supplier))
    login(client, make_user(buyer, role="admin"), buyer)
    page = text(client.get(f"/payments/{payment.id}"))
    assert "Proveedora Andina" in page and "refund-form" not in page
    response = client.post(f"/payments/{payment.id}/refund", data={"amount": "1", "confirm": "1"})
    assert response.status_code == 403
    assert status_of(payment) == "succeeded"


# ------------------------------------------------------------------------------ receipts


def pdf_text(data: bytes) -> str:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages)


def test_both_companies_download_a_receipt_and_only_a_confirmed_payment_has_one(
    client, parties, fake_gateway
):
    supplier, buyer, clerk, payer = parties
    document = invoice(supplier, buyer, "1234.50")
    payment = pay(buyer, payer, [document], connect_fake(supplier))
    login(client, clerk, supplier)
    response = client.get(f"/payments/{payment.id}/receipt.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    content = pdf_text(response.data)
    assert document.number in content and "COP 1,234.50" in content  # the reader's English
    buyer_client = client.application.test_client()
    login(buyer_client, payer, buyer)
    assert buyer_client.get(f"/payments/{payment.id}/receipt.pdf").status_code == 200
    waiting = transfer(buyer, payer, invoice(supplier, buyer))
    assert client.get(f"/payments/{waiting.id}/receipt.pdf").status_code == 409


def test_a_pay_link_payer_gets_the_receipt_by_its_access_token(client, parties, fake_gateway):
    supplier, buyer, _clerk, payer = parties
    document = invoice(supplier, buyer, "500000.00")
    payment = pay(buyer, payer, [document], connect_fake(supplier))
    response = client.get(f"/payments/return/{payment.access_token}/receipt.pdf")
    assert response.status_code == 200
    assert document.number in pdf_text(response.data)
    assert client.get("/payments/return/forged-token/receipt.pdf").status_code == 404


# ------------------------------------------------------------------------------ the list


def test_the_list_shows_received_and_sent_payments_and_filters_them(client, parties, fake_gateway):
    supplier, buyer, clerk, payer = parties
    connection = connect_fake(supplier)
    paid = pay(buyer, payer, [invoice(supplier, buyer, "1234.50")], connection)
    waiting = transfer(buyer, payer, invoice(supplier, buyer, "777.00"))
    third = make_company("Tercera Compradora S.A.S.")
    third_payer = make_user(third, role="payables")
    other = pay(third, third_payer, [invoice(supplier, third, "42.00")], connection)
    login(client, clerk, supplier)

    def rows(query=""):
        page = text(client.get(f"/payments/?{query}"))
        return set(map(int, re.findall(r'data-payment="(\d+)"', page))), page

    found, page = rows()
    assert found == {paid.id, waiting.id, other.id}
    assert "COP\xa01,234.50" in page and "Awaiting confirmation" in page and "Bank transfer" in page
    assert rows("status=awaiting_confirmation")[0] == {waiting.id}
    assert rows(f"counterparty={third.id}")[0] == {other.id}
    assert rows("side=sent")[0] == set()
    assert rows("date_from=2000-01-01&date_to=2000-01-31")[0] == set()
    assert client.get("/payments/?status=nonsense").status_code == 422
    assert client.get("/payments/?date_from=2026-02-01&date_to=2026-01-01").status_code == 422
    # The payer sees them as sent.
    buyer_client = client.application.test_client()
    login(buyer_client, payer, buyer)
    assert set(
        map(
            int, re.findall(r'data-payment="(\d+)"', text(buyer_client.get("/payments/?side=sent")))
        )
    ) == {paid.id, waiting.id}


# ------------------------------------------------------------------------------ document page


def test_the_document_page_lists_its_payments_and_the_supplier_gets_a_pay_link(
    client, parties, fake_gateway
):
    supplier, buyer, clerk, payer = parties
    document = invoice(supplier, buyer, "100000.00")
    payment = pay(buyer, payer, [document], connect_fake(supplier), amount=Decimal("40000"))
    login(client, clerk, supplier)
    page = text(client.get(f"/documents/{document.id}"))
    assert f"/payments/{payment.id}" in page and "COP\xa040,000.00" in page
    link = re.search(r'data-testid="pay-link"|value="([^"]*/payments/link/[^"]+)"', page)
    assert 'data-testid="pay-link"' in page and link
    token = re.search(r'value="[^"]*/payments/link/([^"]+)"', page).group(1)
    with client.application.test_request_context():
        from app.services.payments import queries

        assert [d.id for d in queries.read_pay_link(token)] == [document.id]
    buyer_client = client.application.test_client()
    login(buyer_client, payer, buyer)
    buyer_page = text(buyer_client.get(f"/documents/{document.id}"))
    assert f"/payments/{payment.id}" in buyer_page and 'data-testid="pay-link"' not in buyer_page


def test_the_supplier_gets_a_statement_link_for_all_the_customers_open_invoices(
    client, parties, fake_gateway
):
    supplier, buyer, clerk, payer = parties
    first, second = invoice(supplier, buyer, "100.00"), invoice(supplier, buyer, "200.00")
    paid = invoice(supplier, buyer, "300.00")
    pay(buyer, payer, [paid], connect_fake(supplier))
    # Paid: nothing left to pay (the fake gateway's payment is not confirmed: close it here).
    from sqlalchemy import update

    db.session.execute(update(Document).where(Document.id == paid.id).values(open_balance=0))
    db.session.commit()
    other_customer = invoice(supplier, make_company("Otra Cliente"), "50.00")
    login(client, clerk, supplier)
    page = text(client.get(f"/documents/{first.id}"))
    token = re.search(r'id="statement-link"[^>]*value="[^"]*/payments/link/([^"]+)"', page).group(1)
    with client.application.test_request_context():
        from app.services.payments import queries

        ids = {d.id for d in queries.read_pay_link(token)}
    assert ids == {first.id, second.id} and other_customer.id not in ids
    statement = client.application.test_client().get(f"/payments/link/{token}")
    assert statement.status_code == 200 and first.number in text(statement)


def test_the_e_mail_to_a_waiting_customer_carries_a_pay_link(app, outbox, no_official_rules):
    from tests.conftest import unique_nit
    from tests.services.inbox_helpers import give_certificate, signed_invoice, submit

    supplier = make_company("Proveedora con Firma S.A.S.")
    give_certificate(supplier)
    clerk = make_user(supplier, role="receivables")
    result = submit(supplier, clerk, signed_invoice(supplier, unique_nit(), email="pagos@x.test"))
    assert result.accepted and result.invitation_sent_to == "pagos@x.test"
    body = outbox()[0]["body"]
    token = re.search(r"/payments/link/(\S+)", body).group(1)
    with app.test_request_context():
        from app.services.payments import queries

        assert [d.id for d in queries.read_pay_link(token)] == [result.document.id]
