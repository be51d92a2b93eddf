"""Journeys through a dispute: a claim opens it, both sides talk live, a credit note settles it;
and the chat still works when websockets are blocked."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from test_inbox import (
    BUYER,
    LIVE_MS,
    SUPPLIER,
    number,
    open_document,
    record,
    signed_in,
    upload_xml,
)

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8ff"
    "ff3f0005fe02fea7d6a4b00000000049454e44ae426082"
)


def send(page: Page, text: str, *, file=None) -> None:
    form = page.get_by_test_id("chat-form")
    form.get_by_test_id("chat-body").fill(text)
    if file is not None:
        form.get_by_test_id("chat-file").set_input_files(file)
    form.get_by_test_id("chat-send").click()
    expect(page.get_by_test_id("chat-messages")).to_contain_text(text)


def test_does_a_claim_become_a_live_dispute_settled_by_a_credit_note(
    new_context, signed_invoice, tmp_path
):
    invoice = number()
    xml = signed_invoice(invoice)
    supplier = signed_in(new_context, SUPPLIER)
    upload_xml(supplier, xml)
    open_document(supplier, "sent", invoice)
    expect(supplier.get_by_test_id("dispute-panel")).to_be_visible()
    supplier.wait_for_timeout(1000)  # the socket connects after the page loads

    buyer = signed_in(new_context, BUYER)
    open_document(buyer, "received", invoice)
    record(buyer, "030")
    record(buyer, "032")
    buyer.locator('summary[data-event-button="031"]').click()
    buyer.locator('select[name="claim_reason"]').select_option("02")
    buyer.locator('textarea[name="note"]').fill("Llegaron 8 de las 10 cajas.")
    buyer.locator('#lifecycle form:has(select[name="claim_reason"]) button[type="submit"]').click()
    buyer.locator("dialog[data-confirm-dialog] [data-confirm-accept]").click()  # asked first
    expect(buyer.get_by_test_id("dispute-status")).to_have_attribute("data-status", "open")

    # The supplier's open page shows the dispute without a reload, with the claim's words.
    expect(supplier.get_by_test_id("dispute-status")).to_have_attribute(
        "data-status", "open", timeout=LIVE_MS
    )
    expect(supplier.get_by_test_id("chat-messages")).to_contain_text("8 de las 10 cajas")

    photo = tmp_path / "remision.png"
    photo.write_bytes(PNG)
    buyer.wait_for_timeout(500)
    send(supplier, "Adjunto la remisión firmada por su bodega.", file=str(photo))
    expect(supplier.get_by_test_id("chat-attachment")).to_contain_text("remision.png")
    # The buyer sees it arrive live, attachment included.
    expect(buyer.get_by_test_id("chat-messages")).to_contain_text(
        "remisión firmada", timeout=LIVE_MS
    )
    expect(buyer.get_by_test_id("chat-attachment")).to_contain_text("remision.png")

    buyer.get_by_test_id("propose-button").click()
    buyer.locator('select[name="resolution"]').select_option("credit_note")
    buyer.locator('#dispute-state input[name="amount"]').fill("100")
    buyer.locator('#dispute-state input[name="lines"]').fill("1")
    buyer.locator('#dispute-state textarea[name="description"]').fill("Dos cajas de menos")
    buyer.get_by_test_id("send-proposal").click()
    expect(buyer.get_by_test_id("dispute-status")).to_have_attribute("data-status", "proposed")

    # The supplier sees the proposal live and accepts it: the credit note form, pre-filled.
    expect(supplier.get_by_test_id("accept-proposal")).to_be_visible(timeout=LIVE_MS)
    supplier.get_by_test_id("accept-proposal").click()
    expect(supplier.locator("#note-form")).to_be_visible()
    expect(supplier.locator('#note-form textarea[name="notes"]')).to_contain_text("Dos cajas")
    supplier.locator('#note-form [data-testid="sign-and-send"]').click()
    expect(supplier.get_by_test_id("document-number")).to_have_text(re.compile(r"^NC"))

    open_document(supplier, "sent", invoice)
    expect(supplier.get_by_test_id("dispute-status")).to_have_attribute("data-status", "resolved")
    expect(supplier.get_by_test_id("dispute-resolution")).to_be_visible()
    # The transcript is attached to the invoice, for both parties.
    transcript = supplier.locator("#attachments li", has_text=re.compile(r"dispute-\d+-"))
    expect(transcript).to_have_count(1)
    expect(buyer.get_by_test_id("dispute-status")).to_have_attribute(
        "data-status", "resolved", timeout=LIVE_MS
    )
    buyer.reload()
    expect(buyer.locator("#attachments li", has_text=re.compile(r"dispute-\d+-"))).to_have_count(1)
    # Who accessed the invoice: both companies' views are listed to the buyer.
    access = buyer.get_by_test_id("document-access")
    expect(access.locator('tr[data-access="document.viewed"]').first).to_be_visible()
    companies = access.locator("tr[data-access]").evaluate_all(
        "rows => [...new Set(rows.map(r => r.dataset.company))]"
    )
    assert len(companies) == 2, companies


def test_does_the_chat_work_when_websockets_are_blocked(new_context, signed_invoice):
    invoice = number()
    supplier = signed_in(new_context, SUPPLIER)
    upload_xml(supplier, signed_invoice(invoice))

    blocked = new_context()
    blocked.route(re.compile(r".*/socket\.io/.*"), lambda route: route.abort())
    buyer = blocked.new_page()
    from test_foundation import DEMO_PASSWORD, sign_in

    sign_in(buyer, BUYER, DEMO_PASSWORD)
    expect(buyer.locator("#login-form")).to_have_count(0)
    open_document(buyer, "received", invoice)
    buyer.get_by_test_id("open-dispute").click()
    buyer.locator('#dispute select[name="reason"]').select_option("price")
    buyer.locator('#dispute textarea[name="message"]').fill("El precio no es el pactado.")
    buyer.get_by_test_id("send-dispute").click()
    expect(buyer.get_by_test_id("dispute-status")).to_have_attribute("data-status", "open")
    send(buyer, "Sin websockets también escribo.")

    open_document(supplier, "sent", invoice)
    expect(supplier.get_by_test_id("chat-messages")).to_contain_text("Sin websockets")
    send(supplier, "Y también le llega mi respuesta.")
    # Polled every 3 s while the socket cannot connect.
    expect(buyer.get_by_test_id("chat-messages")).to_contain_text(
        "llega mi respuesta", timeout=LIVE_MS
    )
    # Each message shows once, whatever the polling and the send both returned.
    mine = buyer.locator('[data-testid="chat-message"]', has_text="Sin websockets")
    expect(mine).to_have_count(1)
