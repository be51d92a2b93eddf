"""Irreversible actions ask in a real <dialog>: Escape cancels (nothing recorded, focus back on
the button), and the dialog's own button does it."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from test_inbox import BUYER, SUPPLIER, number, open_document, record, signed_in, upload_xml


def test_does_acceptance_ask_in_a_dialog_that_escape_cancels(new_context, signed_invoice):
    invoice = number()
    supplier = signed_in(new_context, SUPPLIER)
    upload_xml(supplier, signed_invoice(invoice))
    buyer = signed_in(new_context, BUYER)
    open_document(buyer, "received", invoice)
    record(buyer, "030")
    record(buyer, "032")
    # A recorded event leaves one page: one timeline, one header badge (not a page nested in it).
    expect(buyer.locator("article#lifecycle")).to_have_count(1)
    expect(buyer.get_by_test_id("document-status")).to_have_count(1)

    accept = buyer.locator('button[data-event-button="033"]')
    accept.click()
    dialog = buyer.locator("dialog[data-confirm-dialog]")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(re.compile(r"final|definitiva"))
    expect(dialog.locator("[data-confirm-cancel]")).to_be_focused()
    buyer.keyboard.press("Tab")  # focus stays inside the modal dialog
    expect(dialog.locator("[data-confirm-accept]")).to_be_focused()

    buyer.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(accept).to_be_focused()  # back where the clerk was
    expect(buyer.get_by_test_id("document-status")).to_have_attribute(
        "data-status", "goods_received"
    )
    expect(buyer.locator('#lifecycle li[data-event="033"]')).to_have_count(0)

    accept.click()
    dialog.locator("[data-confirm-accept]").click()
    expect(buyer.locator('#lifecycle li[data-event="033"]')).to_be_visible()
    expect(buyer.get_by_test_id("document-status")).to_have_attribute("data-status", "accepted")
