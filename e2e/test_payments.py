"""Journeys through payments on the demo data: Andina (buyer@demo.test) pays El Tornillo
(supplier@demo.test), connected to the embedded sandbox gateway, which takes part payments and
transfers. Each journey pays invoices El Tornillo uploads for it, so journeys do not meet."""

from __future__ import annotations

import datetime as dt
import re
import secrets

from playwright.sync_api import BrowserContext, Page, expect
from test_disputes import PNG
from test_foundation import new_company
from test_inbox import BUYER, LIVE_MS, SUPPLIER, confirm, signed_in, upload_xml

PHONE = {"width": 390, "height": 844}


def numbers(count: int) -> tuple[str, list[str]]:
    """A shared prefix (to find them together in a tray) and that many invoice numbers."""
    prefix = f"SETP{secrets.randbelow(10**7):07d}"
    return prefix, [f"{prefix}{i}" for i in range(1, count + 1)]


def uploaded(new_context, signed_invoice, count: int, **kwargs) -> tuple[Page, str, list[str]]:
    """El Tornillo, signed in, uploads count invoices to Andina; its page, prefix, numbers."""
    supplier = signed_in(new_context, SUPPLIER)
    prefix, invoices = numbers(count)
    for invoice in invoices:
        upload_xml(supplier, signed_invoice(invoice, **kwargs))
    return supplier, prefix, invoices


def row(page: Page, invoice: str):
    return page.locator(f'tr[data-document="{invoice}"]')


def paid_state(page: Page, invoice: str, state: str, **kwargs) -> None:
    """The tray row of the invoice shows this payment status (unpaid, partially_paid, paid)."""
    expect(row(page, invoice).locator(f".status-payment-{state}")).to_be_visible(**kwargs)


def review(buyer: Page, prefix: str, invoices: list[str]) -> None:
    """Tick the invoices in the received tray and press "Pay selected": the review page."""
    buyer.goto(f"/inbox/received?q={prefix}")
    for invoice in invoices:
        row(buyer, invoice).locator('input[name="document_ids"]').check()
    buyer.get_by_test_id("pay-selected").click()
    expect(buyer.get_by_test_id("pay-invoices")).to_be_visible()
    expect(buyer.locator('[data-testid="pay-invoices"] tbody tr')).to_have_count(len(invoices))


def pay_at_sandbox(page: Page, outcome: str) -> None:
    """On the sandbox's hosted checkout, press the outcome's button."""
    expect(page).to_have_url(re.compile(r"/sandbox-gateway/checkout/"))
    page.locator(f'button[name="outcome"][value="{outcome}"]').click()


def checkout(buyer: Page, outcome: str = "approve") -> None:
    """Choose the sandbox on the review page and decide the payment at its checkout."""
    buyer.locator("#method-sandbox").check()
    expect(buyer.get_by_test_id("test-mode")).to_be_visible()
    buyer.get_by_test_id("pay-submit").click()
    pay_at_sandbox(buyer, outcome)


def expect_paid(page: Page) -> None:
    """The return page polls every 2 s until the gateway's webhook is heard: "Paid"."""
    expect(page).to_have_url(re.compile(r"/payments/return/"))
    status = page.locator("#payment-status h1")
    expect(status).to_have_text(re.compile(r"^(Pagad[ao]|Paid)$"), timeout=LIVE_MS)


def open_payment(page: Page, tray: str, invoice: str) -> None:
    """From the tray, open the invoice and then its (newest) payment."""
    page.goto(f"/inbox/{tray}?q={invoice}")
    row(page, invoice).locator("a").first.click()
    expect(page.get_by_test_id("document-number")).to_have_text(invoice)
    page.locator("#document-payments tbody a").last.click()
    expect(page.get_by_test_id("payment")).to_be_visible()


def sideways(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def test_does_a_buyer_pay_two_invoices_at_the_sandbox_and_the_supplier_see_it_live(
    new_context, signed_invoice
):
    supplier, prefix, invoices = uploaded(new_context, signed_invoice, 2)
    supplier.goto(f"/inbox/sent?q={prefix}")
    for invoice in invoices:
        paid_state(supplier, invoice, "unpaid")
    supplier.wait_for_timeout(1000)  # the socket connects after the page loads

    buyer = signed_in(new_context, BUYER)
    review(buyer, prefix, invoices)
    expect(buyer.get_by_test_id("pay-total")).to_have_text(re.compile(r"11\.900"))
    checkout(buyer, "approve")
    expect_paid(buyer)
    expect(buyer.locator("#payment-status tbody tr")).to_have_count(2)

    # The supplier's open tray shows both paid without a reload.
    for invoice in invoices:
        paid_state(supplier, invoice, "paid", timeout=LIVE_MS)
    open_payment(supplier, "sent", invoices[0])
    expect(supplier.get_by_test_id("payment-amount")).to_contain_text("11.900")
    with supplier.expect_download() as download:
        supplier.get_by_test_id("receipt-link").click(modifiers=["Alt"])
    path = download.value.path()
    assert path is not None and open(path, "rb").read(5) == b"%PDF-"


def test_does_a_partial_payment_leave_the_invoice_partially_paid(new_context, signed_invoice):
    _supplier, prefix, invoices = uploaded(new_context, signed_invoice, 1)
    buyer = signed_in(new_context, BUYER)
    review(buyer, prefix, invoices)
    amount = buyer.locator('[data-testid="pay-invoices"] input[name^="amount-"]')
    amount.fill("2000")
    buyer.get_by_test_id("recalculate").click()
    expect(buyer.get_by_test_id("pay-total")).to_have_text(re.compile(r"2\.000"))
    checkout(buyer, "approve")
    expect_paid(buyer)
    buyer.goto(f"/inbox/received?q={prefix}")
    paid_state(buyer, invoices[0], "partially_paid")
    # What is left is offered next time.
    review(buyer, prefix, invoices)
    expect(amount).to_have_value(re.compile(r"^3\.?950"))


def test_does_a_declined_payment_leave_the_invoice_open_for_a_retry(new_context, signed_invoice):
    _supplier, prefix, invoices = uploaded(new_context, signed_invoice, 1)
    buyer = signed_in(new_context, BUYER)
    review(buyer, prefix, invoices)
    checkout(buyer, "decline")
    expect(buyer).to_have_url(re.compile(r"/payments/return/"))
    expect(buyer.locator("#payment-status h1")).to_have_text(
        re.compile("no se realizó|did not go through"), timeout=LIVE_MS
    )
    buyer.goto(f"/inbox/received?q={prefix}")
    paid_state(buyer, invoices[0], "unpaid")

    review(buyer, prefix, invoices)  # the declined attempt holds nothing back
    checkout(buyer, "approve")
    expect_paid(buyer)
    buyer.goto(f"/inbox/received?q={prefix}")
    paid_state(buyer, invoices[0], "paid")


def test_does_a_refund_by_the_supplier_reopen_the_invoice_for_the_buyer(
    new_context, signed_invoice
):
    supplier, prefix, invoices = uploaded(new_context, signed_invoice, 1)
    buyer = signed_in(new_context, BUYER)
    review(buyer, prefix, invoices)
    checkout(buyer, "approve")
    expect_paid(buyer)
    buyer.goto(f"/inbox/received?q={prefix}")
    paid_state(buyer, invoices[0], "paid")
    buyer.wait_for_timeout(1000)  # the socket connects after the page loads

    open_payment(supplier, "sent", invoices[0])
    form = supplier.get_by_test_id("refund-form")
    form.locator('input[name="amount"]').fill("1000")
    form.locator('[name="reason"]').fill("Una caja llegó abierta")
    form.locator('button[type="submit"]').click()
    confirm(supplier)  # a refund is asked first
    expect(supplier.get_by_test_id("payment-refunded")).to_contain_text("1.000", timeout=LIVE_MS)
    expect(supplier.locator("#payment-refunds")).to_contain_text("Una caja llegó abierta")

    # The buyer's tray shows the invoice open again by the refund, live.
    paid_state(buyer, invoices[0], "partially_paid", timeout=LIVE_MS)


def test_does_a_customer_off_the_network_pay_by_the_link(new_context, signed_invoice):
    customer = new_company()  # not registered: the invoice waits for it
    supplier, _prefix, invoices = uploaded(
        new_context, signed_invoice, 1, customer_tax_id=customer.tax_id.replace("-", "")
    )
    supplier.goto(f"/inbox/sent?q={invoices[0]}")
    row(supplier, invoices[0]).locator("a").first.click()
    expect(supplier.get_by_test_id("waiting")).to_be_visible()
    link = supplier.get_by_test_id("pay-link").input_value()
    assert "/payments/link/" in link

    stranger = new_context().new_page()  # no sign-in
    stranger.goto(link)
    expect(stranger.locator("#pay-link-form")).to_be_visible()
    stranger.locator('input[name="payer_email"]').fill(customer.contact_email)
    stranger.locator('input[name="payer_name"]').fill(customer.legal_name)
    stranger.locator("#method-sandbox").check()
    stranger.get_by_test_id("pay-submit").click()
    pay_at_sandbox(stranger, "approve")
    expect_paid(stranger)
    expect(stranger.locator("#payment-status")).to_contain_text(invoices[0])

    supplier.reload()
    expect(supplier.locator("#document-payments")).to_contain_text(re.compile("[Pp]agad"))
    expect(supplier.get_by_test_id("pay-link")).to_have_count(0)  # nothing left to pay


def test_does_a_transfer_with_its_photo_count_once_the_supplier_confirms(
    new_context, signed_invoice, tmp_path
):
    supplier, prefix, invoices = uploaded(new_context, signed_invoice, 1)
    buyer = signed_in(new_context, BUYER)
    review(buyer, prefix, invoices)
    buyer.locator("#method-transfer").check()
    buyer.get_by_test_id("pay-submit").click()
    form = buyer.locator("#transfer-form")
    expect(form).to_be_visible()
    expect(form).to_contain_text("Bancolombia")  # the supplier's bank details
    photo = tmp_path / "comprobante.png"
    photo.write_bytes(PNG)
    form.locator('input[name="transfer_date"]').fill(dt.date.today().isoformat())
    form.locator('input[name="reference"]').fill("TRF-E2E-0001")
    form.locator('input[name="proof"]').set_input_files(str(photo))
    buyer.get_by_test_id("transfer-submit").click()
    expect(buyer.locator("#payment-status h1")).to_contain_text("confirmación")
    buyer.goto(f"/inbox/received?q={prefix}")
    paid_state(buyer, invoices[0], "unpaid")  # not until the supplier confirms
    buyer.wait_for_timeout(1000)  # the socket connects after the page loads

    open_payment(supplier, "sent", invoices[0])
    expect(supplier.get_by_test_id("payer-reference")).to_have_text("TRF-E2E-0001")
    expect(supplier.get_by_test_id("proof-link")).to_have_text("comprobante.png")
    supplier.get_by_test_id("confirm-transfer").click()
    expect(supplier.get_by_test_id("payment-status")).to_contain_text(re.compile("[Pp]agad"))

    paid_state(buyer, invoices[0], "paid", timeout=LIVE_MS)


def test_do_the_review_and_payment_pages_fit_a_phone(new_context, signed_invoice):
    _supplier, prefix, invoices = uploaded(new_context, signed_invoice, 2)
    context: BrowserContext = new_context(viewport=PHONE)
    buyer = context.new_page()
    from test_foundation import DEMO_PASSWORD, sign_in

    sign_in(buyer, BUYER, DEMO_PASSWORD)
    expect(buyer.locator("#login-form")).to_have_count(0)
    review(buyer, prefix, invoices)
    assert sideways(buyer) <= 0
    checkout(buyer, "approve")
    expect_paid(buyer)
    assert sideways(buyer) <= 0
    open_payment(buyer, "received", invoices[0])
    expect(buyer.get_by_test_id("receipt-link")).to_be_visible()
    assert sideways(buyer) <= 0
