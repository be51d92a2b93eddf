"""Disputes through the browser: the panel on the document page, the chat over htmx (the
fallback without websockets), proposals, the credit note form pre-filled, the list."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Dispute, DisputeMessage
from app.services.disputes import disputes
from app.tenancy import acting_as, unscoped
from tests.conftest import give_fiscal_profile, login, make_company, make_user

pytestmark = pytest.mark.usefixtures("no_official_rules")
HTMX = {"HX-Request": "true"}


def as_user(app, user, company, locale="en"):
    client = app.test_client()
    login(client, user, company)
    with client.session_transaction() as session:
        session["locale"] = locale
    return client


def open_dispute(client, invoice, **changes):
    data = {"reason": "price", "amount": "100", "message": "El precio no es el pactado"}
    return client.post(f"/disputes/documents/{invoice.id}", data=data | changes)


def the_dispute() -> Dispute:
    return db.session.scalars(unscoped(select(Dispute))).one()


def test_can_the_buyer_open_a_dispute_from_the_document_page(app, customer, buyer, supplier,
                                                             seller, invoice):
    client = as_user(app, buyer, customer)
    page = client.get(f"/documents/{invoice.id}").get_data(as_text=True)
    assert f'hx-get="/disputes/documents/{invoice.id}"' in page  # the panel loads by itself
    panel = client.get(f"/disputes/documents/{invoice.id}", headers=HTMX).get_data(as_text=True)
    assert "Open a dispute" in panel

    response = open_dispute(client, invoice)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/documents/{invoice.id}#dispute")
    supplier_view = as_user(app, seller, supplier).get(
        f"/disputes/documents/{invoice.id}", headers=HTMX
    ).get_data(as_text=True)
    assert "El precio no es el pactado" in supplier_view
    assert 'data-status="open"' in supplier_view
    assert "Waiting for your answer." in supplier_view


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"reason": ""}, "Choose the reason of the dispute."),
        ({"amount": "mil"}, "Type an amount such as 150000.00."),
        ({"amount": "OVER"}, "The amount in dispute cannot exceed the document"),
        ({"message": ""}, "Write a message."),
    ],
)
def test_does_a_bad_dispute_get_a_message_and_nothing_stored(app, customer, buyer, invoice,
                                                              changes, message):
    if changes.get("amount") == "OVER":
        changes = {"amount": str(invoice.payable + 1)}
    response = open_dispute(as_user(app, buyer, customer), invoice, **changes)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(unscoped(select(Dispute.id))) is None


def test_does_the_chat_work_over_plain_http(app, customer, buyer, supplier, seller, invoice):
    open_dispute(as_user(app, buyer, customer), invoice)
    dispute = the_dispute()
    client = as_user(app, seller, supplier)
    last = max(m.id for m in db.session.scalars(unscoped(select(DisputeMessage))))
    # htmx: the answer is the messages after the last one the page has, the new one included.
    response = client.post(f"/disputes/{dispute.id}/messages", headers=HTMX,
                           data={"body": "Le enviamos la lista de precios", "after": last,
                                 "client_id": "x1"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.count("data-message-id=") == 1 and "Le enviamos la lista de precios" in html
    # The buyer's page polls for what is new.
    polled = as_user(app, buyer, customer).get(f"/disputes/{dispute.id}/messages?after={last}",
                                               headers=HTMX).get_data(as_text=True)
    assert "Le enviamos la lista de precios" in polled
    # Without JavaScript: a redirect back to the document.
    plain = client.post(f"/disputes/{dispute.id}/messages", data={"body": "Sin JS"})
    assert plain.status_code == 303


def test_is_an_empty_or_oversized_message_refused(app, customer, buyer, invoice):
    client = as_user(app, buyer, customer)
    open_dispute(client, invoice)
    dispute = the_dispute()
    empty = client.post(f"/disputes/{dispute.id}/messages", headers=HTMX, data={"body": " "})
    assert empty.status_code == 422 and "Write a message." in empty.get_data(as_text=True)
    long = client.post(f"/disputes/{dispute.id}/messages", headers=HTMX, data={"body": "é" * 2100})
    assert long.status_code == 422
    assert "A message may be at most 4 KB long." in long.get_data(as_text=True)


def test_can_a_pdf_be_sent_in_the_chat_but_not_a_program(app, customer, buyer, invoice):
    client = as_user(app, buyer, customer)
    open_dispute(client, invoice)
    dispute = the_dispute()
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"
    sent = client.post(f"/disputes/{dispute.id}/messages", headers=HTMX,
                       data={"body": "Remisión firmada", "file": (io.BytesIO(pdf), "remision.pdf")},
                       content_type="multipart/form-data")
    assert sent.status_code == 200 and "remision.pdf" in sent.get_data(as_text=True)
    bad = client.post(f"/disputes/{dispute.id}/messages", headers=HTMX,
                      data={"body": "", "file": (io.BytesIO(b"MZ\x90\x00binary"), "x.pdf")},
                      content_type="multipart/form-data")
    assert bad.status_code == 422


def test_may_a_viewer_read_but_not_write(app, customer, buyer, invoice):
    open_dispute(as_user(app, buyer, customer), invoice)
    dispute = the_dispute()
    viewer = as_user(app, make_user(customer, role="viewer"), customer)
    assert viewer.get(f"/disputes/documents/{invoice.id}").status_code == 200
    assert viewer.post(f"/disputes/{dispute.id}/messages", data={"body": "x"}).status_code == 403
    assert open_dispute(viewer, invoice).status_code == 403


def test_does_a_stranger_get_404_everywhere(app, customer, buyer, invoice):
    open_dispute(as_user(app, buyer, customer), invoice)
    dispute = the_dispute()
    other = make_company("Ajena")
    client = as_user(app, make_user(other, role="owner"), other)
    for url in (f"/disputes/documents/{invoice.id}", f"/disputes/{dispute.id}",
                f"/disputes/{dispute.id}/messages", f"/disputes/{dispute.id}/receipts",
                f"/disputes/{dispute.id}/transcript.pdf"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/disputes/{dispute.id}/messages", data={"body": "x"}).status_code == 404
    assert client.post(f"/disputes/{dispute.id}/escalate").status_code == 404


def test_does_accepting_a_credit_note_open_the_prefilled_form(app, customer, buyer, supplier,
                                                              seller, invoice):
    give_fiscal_profile(supplier)  # a credit note's form is shown to a company that can issue it
    buyer_client = as_user(app, buyer, customer)
    open_dispute(buyer_client, invoice)
    dispute = the_dispute()
    proposed = buyer_client.post(f"/disputes/{dispute.id}/proposals", data={
        "resolution": "credit_note", "amount": "50.00", "lines": "1",
        "description": "Descuento acordado"})
    assert proposed.status_code == 303
    with acting_as(supplier.id):
        proposal = disputes.pending_proposal(disputes.get_dispute(supplier.id, dispute.id))
    seller_client = as_user(app, seller, supplier)
    accepted = seller_client.post(f"/disputes/{dispute.id}/proposals/{proposal.id}/accept")
    assert accepted.status_code == 303
    assert f"/documents/{invoice.id}/credit-note?dispute={dispute.id}" in accepted.headers[
        "Location"]
    form = seller_client.get(accepted.headers["Location"]).get_data(as_text=True)
    assert "Credit note agreed in dispute" in form
    prices = re.findall(r'name="lines-0-unit_price"[^>]*value="([^"]+)"', form)
    assert prices and float(prices[0]) > 0
    # The pre-filled lines add up, taxes included, to the agreed 50.00: the live totals say so.
    payable = re.search(r'data-total="payable"><strong>([^<]+)<', form).group(1)
    assert payable == "COP\xa050.00"
    panel = buyer_client.get(f"/disputes/documents/{invoice.id}").get_data(as_text=True)
    assert 'data-status="agreed"' in panel


@pytest.mark.parametrize(
    ("code", "english", "spanish"),
    [
        ("01", "Inconsistent document", "Documento con inconsistencias"),
        ("02", "Goods not fully delivered", "Mercancía no entregada totalmente"),
        ("03", "Goods partially delivered", "Mercancía no entregada parcialmente"),
        ("04", "Service not rendered", "Servicio no prestado"),
    ],
)
def test_does_the_panel_of_a_claims_dispute_say_the_claims_reason_and_amount_in_words(
    app, customer, buyer, supplier, seller, invoice, code, english, spanish
):
    """The claim's reason, in DIAN's words, and its amount as money ('$ 1.234,00', never
    '1234.00') on both sides' panels, in Spanish and in English."""
    from app.services.lifecycle import transitions

    with acting_as(customer.id, buyer.id):
        for event in ("030", "032", "031"):
            transitions.record_event(customer.id, document_id=invoice.id, code=event, actor=buyer,
                                   claim_reason=code if event == "031" else None,
                                   note="Faltaron cajas" if event == "031" else "")
        db.session.commit()
    amount = invoice.payable
    raw = f"{amount:.2f}"
    whole, cents = raw.split(".")
    in_spanish = "$\xa0" + f"{int(whole):,}".replace(",", ".") + "," + cents
    in_english = f"COP\xa0{amount:,.2f}"
    for user, company in ((seller, supplier), (buyer, customer)):
        en = as_user(app, user, company).get(f"/disputes/documents/{invoice.id}").get_data(
            as_text=True)
        es = as_user(app, user, company, "es").get(f"/disputes/documents/{invoice.id}").get_data(
            as_text=True)
        assert english in en and in_english in en and "031" in en
        assert spanish in es and in_spanish in es and "031" in es
        assert raw not in en.replace(in_english, "") and raw not in es
        assert "not received" not in en and "no recibidos" not in es


def test_does_the_list_filter_and_count(app, customer, buyer, supplier, seller, invoice):
    open_dispute(as_user(app, buyer, customer), invoice)
    seller_client = as_user(app, seller, supplier)
    waiting = seller_client.get("/disputes/?show=waiting").get_data(as_text=True)
    assert invoice.number in waiting
    assert 'data-testid="unread-' in waiting  # the buyer's first message is unread
    nav = seller_client.get("/disputes/nav").get_data(as_text=True)
    assert 'data-testid="disputes-count"' in nav
    assert invoice.number not in seller_client.get("/disputes/?show=resolved").get_data(
        as_text=True)
    other = make_company("Otra")
    assert invoice.number not in seller_client.get(f"/disputes/?counterparty={other.id}").get_data(
        as_text=True)
    assert invoice.number in seller_client.get(
        f"/disputes/?counterparty={customer.id}&age=abc&show=bogus").get_data(as_text=True)
    # The buyer wrote last: it is not waiting for the buyer.
    assert invoice.number not in as_user(app, buyer, customer).get(
        "/disputes/?show=waiting").get_data(as_text=True)


def test_is_the_transcript_a_pdf_for_both_parties(app, customer, buyer, supplier, seller,
                                                  invoice):
    open_dispute(as_user(app, buyer, customer), invoice)
    dispute = the_dispute()
    for client in (as_user(app, buyer, customer), as_user(app, seller, supplier, "es")):
        response = client.get(f"/disputes/{dispute.id}/transcript.pdf")
        assert response.status_code == 200 and response.data.startswith(b"%PDF")


def test_does_the_panel_speak_spanish(app, customer, buyer, invoice):
    client = as_user(app, buyer, customer, locale="es")
    assert "Abrir una disputa" in client.get(f"/disputes/documents/{invoice.id}").get_data(
        as_text=True)
    open_dispute(client, invoice)
    panel = client.get(f"/disputes/documents/{invoice.id}").get_data(as_text=True)
    assert "abierta" in panel


def test_do_both_trays_show_the_dispute(app, customer, buyer, supplier, seller, invoice):
    open_dispute(as_user(app, buyer, customer), invoice)
    received = as_user(app, buyer, customer).get("/inbox/received").get_data(as_text=True)
    sent = as_user(app, seller, supplier).get("/inbox/sent").get_data(as_text=True)
    for page in (received, sent):
        row = re.search(rf'<tr data-document="{invoice.number}".*?</tr>', page, re.S).group(0)
        assert 'data-dispute-status="open"' in row and "Dispute: open" in row


def test_is_a_bulk_zip_download_in_the_access_audit(app, customer, buyer, invoice):
    from app.models import AuditEvent

    client = as_user(app, buyer, customer)
    response = client.post("/inbox/bulk", data={"tray": "received", "action": "download",
                                                "document_ids": [invoice.id]})
    assert response.status_code == 200 and response.mimetype == "application/zip"
    recorded = db.session.scalars(unscoped(select(AuditEvent).where(
        AuditEvent.action == "document.zip_downloaded"))).all()
    assert [(e.target_id, e.company_id, e.actor_user_id) for e in recorded] == [
        (str(invoice.id), customer.id, buyer.id)]
