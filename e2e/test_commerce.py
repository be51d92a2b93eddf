"""From invoices to a catalog, an order, its answer and the invoice that matches it.

A supplier's sales person publishes items its past invoices suggest; the buyer's payables person
finds them (a word typed without its accent), orders three from a phone; the supplier changes one
line's quantity with the keyboard only, the buyer confirms, the supplier's owner invoices the
agreed order in one click; the buyer's tray and invoice page say it matches the order.

The two companies are new on every run (e2e/commerce_data.py, in a child process with the
server's environment, like e2e/signed_invoice.py), so the journey runs again on the same database.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, _server_env
from playwright.sync_api import BrowserContext, Page, expect
from test_foundation import sign_in

PHONE = {"width": 390, "height": 844}
# (code, a word of its name, quantity ordered); the gloves' quantity is changed to CHANGED.
ORDERED = (("TOR-38", "nandu", "1000"), ("CEM-50", "cemento", "10"), ("GUA-01", "guantes", "8"))
CHANGED = "6"


@pytest.fixture
def parties(server) -> dict[str, str]:
    """Make the supplier, the buyer and their people; return their names and e-mails."""
    env = _server_env(Path(str(server["instance"])), 0)
    env["JOBS_IN_PROCESS"] = "0"  # a short script: no job consumer of its own
    result = subprocess.run(  # noqa: S603
        [sys.executable, str(ROOT / "e2e" / "commerce_data.py")],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
        capture_output=True,
        text=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def person(new_context, email: str, password: str, **options) -> Page:
    """A signed-in page of its own (its own cookies), watched for errors."""
    context: BrowserContext = new_context(**options)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        lambda m: (
            m.type == "error" and "Failed to load resource" not in m.text and errors.append(m.text)
        ),
    )
    page.on(
        "response",
        lambda r: (
            r.status >= 400 and "favicon" not in r.url and errors.append(f"{r.status} {r.url}")
        ),
    )
    page.errors = errors  # type: ignore[attr-defined]
    sign_in(page, email, password)
    expect(page.locator("#login-form")).to_have_count(0)
    return page


def fits_the_phone(page: Page) -> None:
    """Nothing makes the page scroll sideways at 390 px."""
    page.wait_for_load_state("load")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width}px wide"


def test_from_invoices_to_a_catalog_an_order_and_a_matched_invoice(new_context, parties):
    password = parties["password"]
    supplier_name = parties["supplier"]

    # 1. The sales person publishes three of the items its invoices suggest.
    seller = person(new_context, parties["seller"], password)
    seller.goto("/catalog/")
    seller.get_by_test_id("tab-suggestions").click()
    new_items = seller.get_by_test_id("new-items")
    rows = new_items.locator("tr[data-key]")
    expect(rows).to_have_count(4)
    screw = rows.filter(has_text="TOR-38")
    expect(screw).to_contain_text("Tornillo ñandú")
    expect(screw).to_contain_text("1.250,50")  # its last price (1.200,00 before)
    expect(rows.filter(has_text="CEM-50")).to_contain_text("32.000,00")
    for code, _word, _quantity in ORDERED:
        rows.filter(has_text=code).locator('input[name="key"]').check()
    seller.locator("#publish-visibility").select_option("connected")
    seller.locator('#suggestions-form button[value="publish"]').click()
    expect(rows).to_have_count(1)  # the drill was not ticked: still a suggestion
    expect(rows.first).to_contain_text("BRO-10")

    # 2. The buyer's payables person finds them from a phone and orders them.
    buyer = person(new_context, parties["purchaser"], password, viewport=PHONE)
    buyer.goto("/orders/shop")
    fits_the_phone(buyer)
    search = buyer.locator("#shop-q")
    cards = buyer.locator("li.item-card").filter(has_text=supplier_name)
    for added, (code, word, quantity) in enumerate(ORDERED, start=1):
        search.fill(word)  # htmx searches as one types, and puts the words in the address
        expect(buyer).to_have_url(re.compile(rf"[?&]q={word}&"))  # the answer is in
        card = cards.filter(has_text=code)
        expect(cards).to_have_count(1)
        if code == "TOR-38":  # "nandu" found "ñandú"
            expect(card).to_contain_text("Tornillo ñandú")
            expect(card.get_by_test_id("price")).to_contain_text("1.250,50")
        if code == "CEM-50":  # published at 32000, not at "32.000" read as 32
            expect(card.get_by_test_id("price")).to_contain_text("32.000,00")
        card.locator('input[name="quantity"]').fill(quantity)
        expect(card.locator('input[name="quantity"]')).to_have_value(quantity)
        with buyer.expect_navigation():  # the form is posted, and back to the same search
            card.locator('button[type="submit"]').click()
        expect(search).to_have_value(word)
        expect(buyer.get_by_test_id("cart-link")).to_contain_text(str(added))
        fits_the_phone(buyer)
    search.fill("broca")  # the drill was not published
    expect(buyer).to_have_url(re.compile(r"[?&]q=broca&"))
    expect(cards).to_have_count(0)

    buyer.get_by_test_id("cart-link").click()
    cart = buyer.locator("section.cart").filter(has_text=supplier_name)
    in_cart = cart.locator("tbody tr[data-item]")
    expect(in_cart).to_have_count(3)
    # Updating a row sends back the quantity the page wrote: 1000 stays 1000 (not "1.000").
    screws = in_cart.filter(has_text="TOR-38")
    with buyer.expect_navigation():
        screws.locator('button[type="submit"]').first.click()
    for code, _word, quantity in ORDERED:
        expect(in_cart.filter(has_text=code).locator('input[name="quantity"]')).to_have_value(
            quantity
        )
    # On a phone each line is a card: its "Remove" is on the screen, not in a box to scroll.
    for remove in cart.locator('form[action$="/cart/remove"] button').all():
        box = remove.bounding_box()
        assert box is not None and box["x"] + box["width"] <= PHONE["width"]
    fits_the_phone(buyer)
    deliver_on = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=14)
    cart.locator('input[name="delivery_date"]').fill(deliver_on.isoformat())
    cart.locator('input[name="buyer_reference"]').fill("OBRA-CALLE-80")
    cart.get_by_test_id("place-order").click()
    expect(buyer).to_have_url(re.compile(r"/orders/\d+$"))
    order_url = buyer.url
    order = buyer.get_by_test_id("order")
    expect(order.locator("h1 [data-status]")).to_have_attribute("data-status", "sent")
    expect(order).to_contain_text("OBRA-CALLE-80")
    number = re.search(r"OC-\d+", order.locator("h1").inner_text()).group(0)
    fits_the_phone(buyer)

    # 3. The sales person, on a phone, accepts two lines and changes the gloves' quantity,
    #    that line with the keyboard only.
    seller.set_viewport_size(PHONE)
    seller.goto("/orders/received")
    seller.get_by_test_id("orders-list").get_by_role("link", name=number).click()
    expect(seller).to_have_url(order_url)
    fits_the_phone(seller)
    lines = seller.locator("#order-lines tbody tr[data-line]")
    expect(lines).to_have_count(3)
    gloves = lines.filter(has_text="GUA-01")
    position = int(gloves.get_attribute("data-line"))
    # Focus what comes just before the line's answer: the line above's "Changes", or the box
    # the table scrolls in; Tab enters the radio group on the checked "Accept".
    if position > 1:
        lines.filter(has=seller.locator(f'[name="line-{position - 1}-status"]')).locator(
            "summary"
        ).focus()
    else:
        seller.locator('#answer-form [role="region"]').focus()
    seller.keyboard.press("Tab")
    expect(seller.locator(f"#l{position}-accepted")).to_be_focused()
    seller.keyboard.press("ArrowDown")  # Reject
    seller.keyboard.press("ArrowDown")  # Change
    seller.keyboard.press("Space")
    change = seller.locator(f"#l{position}-changed")
    expect(change).to_be_focused()
    expect(change).to_be_checked()
    seller.keyboard.press("Tab")
    expect(gloves.locator("summary")).to_be_focused()
    seller.keyboard.press("Enter")  # opens "Changes"
    expect(gloves.locator("details")).to_have_attribute("open", "")
    seller.keyboard.press("Tab")
    expect(seller.locator(f"#l{position}-q")).to_be_focused()
    seller.keyboard.type(CHANGED)
    # The order changes meanwhile (the page hears it as it hears the server's notice) and is
    # drawn again: the answer being written survives, and the cursor stays in its box.
    seller.locator("#answer-note").fill("Solo quedan 6 pares")
    seller.locator(f"#l{position}-q").focus()
    seller.evaluate(
        "document.getElementById('order').dataset.drawn = 'before';"
        "document.body.dispatchEvent(new CustomEvent('order-changed', {detail: {}}))"
    )
    expect(seller.locator('#order[data-drawn="before"]')).to_have_count(0)  # drawn anew
    expect(seller.locator(f"#l{position}-q")).to_have_value(CHANGED)
    expect(seller.locator(f"#l{position}-q")).to_be_focused()
    expect(change).to_be_checked()
    expect(seller.locator(f"#l{position}-accepted")).not_to_be_checked()
    expect(gloves.locator("details")).to_have_attribute("open", "")
    expect(seller.locator("#answer-note")).to_have_value("Solo quedan 6 pares")
    seller.keyboard.press("Enter")  # sends the answer form
    status = seller.locator("#order h1 [data-status]")
    expect(status).to_have_attribute("data-status", "changed")
    expect(gloves).to_have_attribute("data-line-status", "changed")
    for other in lines.filter(has_not_text="GUA-01").all():
        expect(other).to_have_attribute("data-line-status", "accepted")
    fits_the_phone(seller)

    # 4. The buyer sees the changes waiting and confirms them.
    buyer.goto(order_url)
    expect(buyer.get_by_test_id("changes-waiting")).to_be_visible()
    buyer.get_by_test_id("confirm-changes").click()
    expect(buyer.locator("#order h1 [data-status]")).to_have_attribute("data-status", "confirmed")
    fits_the_phone(buyer)

    # 5. The supplier's owner records the despatch and invoices the agreed order.
    owner = person(new_context, parties["owner"], password)
    owner.goto(order_url)
    delivery = owner.locator("#delivery-form")
    for code, _word, quantity in ORDERED:
        line = owner.locator("#order-lines tbody tr[data-line]").filter(has_text=code)
        at = line.get_attribute("data-line")
        delivery.locator(f"#qty-{at}").fill(CHANGED if code == "GUA-01" else quantity)
    delivery.locator('button[type="submit"]').click()
    expect(owner.locator("#deliveries [data-delivery]")).to_have_count(1)
    owner.get_by_test_id("invoice-order").click()
    expect(owner).to_have_url(re.compile(r"/issue/invoice\?order=\d+$"))
    expect(owner.get_by_test_id("from-order")).to_contain_text(number)
    invoice_lines = owner.locator("#lines-table tbody tr[data-line]")
    expect(invoice_lines).to_have_count(3)
    filled = {
        invoice_lines.nth(i).locator('input[name$="-item_code"]').input_value(): (
            invoice_lines.nth(i).locator('input[name$="-quantity"]').input_value()
        )
        for i in range(3)
    }
    assert filled == {code: (CHANGED if code == "GUA-01" else q) for code, _w, q in ORDERED}
    chosen = owner.locator('#customer-results input[name="customer_id"]:checked')
    expect(chosen).to_have_count(1)
    owner.get_by_test_id("sign-and-send").click()
    dialog = owner.locator("dialog[data-confirm-dialog]")
    expect(dialog).to_be_visible()
    dialog.locator("[data-confirm-accept]").click()
    expect(owner).to_have_url(re.compile(r"/documents/\d+$"))
    invoice = owner.get_by_test_id("document-number").inner_text()

    # 6. The buyer's tray and the invoice's page say it matches the order.
    buyer.goto("/inbox/received")
    row = buyer.locator(f'tr[data-document="{invoice}"]')
    mark = row.locator('[data-match="matched"]')
    expect(mark).to_be_visible()
    expect(mark).to_contain_text(number)
    row.locator("a").first.click()
    expect(buyer.get_by_test_id("document-number")).to_have_text(invoice)
    three_way = buyer.get_by_test_id("three-way")
    expect(three_way).to_have_attribute("data-match", "matched")
    expect(three_way).to_contain_text(number)

    for page in (seller, buyer, owner):
        assert page.errors == [], page.errors  # type: ignore[attr-defined]
