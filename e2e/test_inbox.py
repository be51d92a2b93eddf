"""Journeys through the Inbox: invoices sent, received live, acknowledged, accepted, claimed.

Signed invoices come from El Tornillo's demo certificate: e2e/signed_invoice.py runs with the
server's environment and reads it from the server's database. Each journey uses invoice
numbers of its own, so the journeys run in any order and again on the same database.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from conftest import ANDINA_NIT
from playwright.sync_api import Page, expect
from test_foundation import DEMO_PASSWORD, new_company, register, sign_in

from app.einvoice.render import render_pdf

SUPPLIER = "supplier@demo.test"
BUYER = "buyer@demo.test"
LIVE_MS = 30_000  # two cores shared with other runs: give the socket time


def number() -> str:
    return f"SETP{secrets.randbelow(10**8):08d}"


def signed_in(new_context, email: str) -> Page:
    page = new_context().new_page()
    sign_in(page, email, DEMO_PASSWORD)
    expect(page.locator("#login-form")).to_have_count(0)
    return page


def upload_xml(page: Page, path: Path) -> None:
    page.goto("/documents/upload")
    page.locator('#upload-form input[name="files"]').set_input_files(str(path))
    page.locator('#upload-form button[type="submit"]').click()
    expect(page.locator(f'[data-file="{path.name}"]')).to_have_attribute("data-outcome", "accepted")


def open_document(page: Page, tray: str, invoice: str) -> None:
    page.goto(f"/inbox/{tray}?q={invoice}")
    page.locator(f'tr[data-document="{invoice}"] a').first.click()
    expect(page.get_by_test_id("document-number")).to_have_text(invoice)


def confirm(page: Page) -> None:
    """Answer yes in the dialog an irreversible action opens (app/web/confirm.py)."""
    dialog = page.locator("dialog[data-confirm-dialog]")
    expect(dialog).to_be_visible()
    dialog.locator("[data-confirm-accept]").click()


def record(page: Page, code: str) -> None:
    page.locator(f'button[data-event-button="{code}"]').click()
    if code == "033":  # acceptance is final: asked first
        confirm(page)
    expect(page.locator(f'#lifecycle li[data-event="{code}"]')).to_be_visible()


def test_does_a_sent_invoice_arrive_live_and_its_events_reach_the_supplier(
    new_context, signed_invoice
):
    invoice = number()
    xml = signed_invoice(invoice)
    buyer = signed_in(new_context, BUYER)
    buyer.goto("/inbox/received")
    expect(buyer.get_by_test_id("tray")).to_be_visible()
    buyer.wait_for_timeout(1000)  # the socket connects after the page loads
    ticked = buyer.locator('tr[data-document="SETT1"] input[name="document_ids"]')
    ticked.check()  # a demo invoice, chosen for a bulk action before the new one arrives

    supplier = signed_in(new_context, SUPPLIER)
    upload_xml(supplier, xml)
    # No reload: the tray re-fetches itself when the socket says a document arrived.
    row = buyer.locator(f'tr[data-document="{invoice}"]')
    expect(row).to_be_visible(timeout=LIVE_MS)
    expect(ticked).to_be_checked()  # the refresh kept the clerk's choice
    expect(row.locator('input[name="document_ids"]')).not_to_be_checked()

    open_document(supplier, "sent", invoice)
    row.locator("a").first.click()
    expect(buyer.get_by_test_id("document-number")).to_have_text(invoice)
    for code in ("030", "032", "033"):
        record(buyer, code)
        # The supplier's page follows each event without reload.
        expect(supplier.locator(f'#lifecycle li[data-event="{code}"]')).to_be_visible(
            timeout=LIVE_MS
        )
    expect(buyer.get_by_test_id("document-status")).to_have_attribute(
        "class", re.compile(r"status-accepted")
    )
    supplier.reload()
    expect(supplier.get_by_test_id("document-status")).to_have_attribute(
        "class", re.compile(r"status-accepted")
    )


def test_can_a_supplier_send_a_pdf_after_fixing_a_low_confidence_field(new_context, tmp_path):
    from tests.einvoice.test_render import make_invoice

    invoice = f"PDF-{secrets.token_hex(4)}"
    doc = make_invoice()
    doc.number = invoice
    doc.customer.tax_id, doc.customer.check_digit = ANDINA_NIT[:-1], ANDINA_NIT[-1]
    doc.due_date = None  # not in the PDF: the form asks for it
    pdf = tmp_path / "factura.pdf"
    pdf.write_bytes(render_pdf(doc))

    supplier = signed_in(new_context, SUPPLIER)
    supplier.goto("/documents/upload")
    supplier.get_by_test_id("upload-pdf-link").click()
    supplier.locator('#pdf-upload-form input[name="file"]').set_input_files(str(pdf))
    supplier.locator('#pdf-upload-form button[type="submit"]').click()

    form = supplier.get_by_test_id("pdf-review-form")
    expect(form.locator('input[name="number"]')).to_have_value(invoice, timeout=60_000)
    due = form.locator('input[name="due_date"]')
    expect(due).to_have_class(re.compile(r"low-confidence"))
    expect(due).to_have_attribute("aria-describedby", re.compile(r"due_date-low"))
    due.fill("2019-02-15")
    form.locator('button[type="submit"]').click()

    expect(supplier.get_by_test_id("document-number")).to_have_text(invoice)
    expect(supplier.get_by_test_id("pdf-origin")).to_be_visible()

    buyer = signed_in(new_context, BUYER)
    open_document(buyer, "received", invoice)
    expect(buyer.get_by_test_id("pdf-origin")).to_be_visible()


def test_can_a_buyer_claim_an_invoice_with_reason_02(new_context, signed_invoice):
    invoice = number()
    xml = signed_invoice(invoice)
    supplier = signed_in(new_context, SUPPLIER)
    upload_xml(supplier, xml)

    buyer = signed_in(new_context, BUYER)
    open_document(buyer, "received", invoice)
    record(buyer, "030")
    record(buyer, "032")
    buyer.locator('summary[data-event-button="031"]').click()
    buyer.locator('select[name="claim_reason"]').select_option("02")
    buyer.locator('textarea[name="note"]').fill("Llegaron 8 de las 10 cajas.")
    buyer.locator('#lifecycle form:has(select[name="claim_reason"]) button[type="submit"]').click()
    confirm(buyer)
    expect(buyer.locator('#lifecycle li[data-event="031"]')).to_be_visible()
    expect(buyer.locator('#lifecycle li[data-event="031"]')).to_contain_text("8 de las 10")
    expect(buyer.get_by_test_id("document-status")).to_have_attribute(
        "class", re.compile(r"status-claimed")
    )

    open_document(supplier, "sent", invoice)
    expect(supplier.locator('#lifecycle li[data-event="031"]')).to_be_visible()


def test_does_an_invoice_to_an_unregistered_customer_wait_and_appear_when_it_registers(
    new_context, base_url, signed_invoice
):
    company = new_company()
    invoice = number()
    xml = signed_invoice(invoice, company.tax_id.replace("-", ""))
    supplier = signed_in(new_context, SUPPLIER)
    supplier.goto("/documents/upload")
    supplier.locator('#upload-form input[name="files"]').set_input_files(str(xml))
    supplier.locator('#upload-form button[type="submit"]').click()
    report = supplier.locator(f'[data-file="{xml.name}"]')
    expect(report).to_have_attribute("data-outcome", "accepted")
    report.locator("a").first.click()
    expect(supplier.get_by_test_id("document-number")).to_have_text(invoice)
    expect(supplier.get_by_test_id("waiting")).to_be_visible()

    customer = new_context().new_page()
    register(customer, base_url, company)
    customer.goto("/inbox/received")
    expect(customer.locator(f'tr[data-document="{invoice}"]')).to_be_visible()
    supplier.reload()
    expect(supplier.get_by_test_id("waiting")).to_have_count(0)
