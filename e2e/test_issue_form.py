"""Issuing an invoice on a phone: lines added and removed as needed, the customer found by typing
in the picker, the hand-typed customer hidden once a partner is chosen, and the invoice sent."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from test_foundation import DEMO_PASSWORD, sign_in

PHONE = {"width": 390, "height": 844}
SUPPLIER = "supplier@demo.test"  # El Tornillo, whose customer on the network is Andina


def test_does_a_clerk_issue_an_invoice_from_a_phone(new_context):
    page = new_context(viewport=PHONE).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(  # refused requests are checked by URL below (the browser asks for a favicon)
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
    sign_in(page, SUPPLIER, DEMO_PASSWORD)
    expect(page.locator("#login-form")).to_have_count(0)
    page.goto("/issue/invoice")
    rows = page.locator("#lines-table tbody tr[data-line]")
    expect(rows).to_have_count(1)
    posts: list[str] = []
    page.on("request", lambda r: r.method == "POST" and posts.append(r.url.split("/", 3)[3]))

    # Two more lines, each fetched as a row; the new row's description takes the focus.
    page.get_by_test_id("add-line").click()
    expect(rows).to_have_count(2)
    expect(page.locator('[name="lines-1-description"]')).to_be_focused()
    page.get_by_test_id("add-line").click()
    expect(rows).to_have_count(3)
    # The focus moves to the new row once it is in: typing elsewhere before that would land
    # in the new row (as it would for a person typing that fast).
    expect(page.locator('[name="lines-2-description"]')).to_be_focused()
    for index, (description, quantity, price) in enumerate(
        [("Tornillos", "100", "250"), ("Taladro", "1", "180000"), ("Sobra", "1", "1")]
    ):
        page.locator(f'[name="lines-{index}-description"]').fill(description)
        page.locator(f'[name="lines-{index}-quantity"]').fill(quantity)
        page.locator(f'[name="lines-{index}-unit_price"]').fill(price)
    # The third was a mistake: Remove takes it away at once, and the totals follow.
    rows.nth(2).locator("button[data-remove-line]").click()
    expect(rows).to_have_count(2)
    expect(rows.nth(1).locator("button[data-remove-line]")).to_be_focused()  # the row before
    expect(rows.nth(1).locator("button[data-remove-line]")).to_have_attribute(
        "aria-label", "Quitar la línea 2"
    )
    # 25,000 + 180,000 = 205,000 + IVA 19 % = 243,950
    expect(page.locator('[data-total="payable"]')).to_contain_text("243.950,00")

    # The customer typed by hand shows until a partner is chosen from the search.
    typed = page.locator("#customer-typed")
    expect(typed).to_be_visible()
    search = page.get_by_label(re.compile("Buscar entre sus clientes"))
    search.fill("andi")
    andina = page.locator("#customer-results label", has_text="Distribuidora Andina")
    expect(andina).to_be_visible()
    expect(page.locator("#customer-results label", has_text="Papelería")).to_have_count(0)
    # Enter searches again (the form is not sent): wait for that answer to be drawn before
    # choosing, or the late redraw would undo the choice.
    page.evaluate(
        "document.querySelectorAll('#customer-results label')"
        ".forEach(function (l) { l.dataset.drawn = 'before'; })"
    )
    search.press("Enter")
    expect(page.locator('#customer-results label[data-drawn="before"]')).to_have_count(0)
    expect(andina).to_have_count(1)
    # By keyboard: Tab past "Search" into the choices, an arrow picks Andina.
    search.press("Tab")
    page.keyboard.press("Tab")
    expect(page.locator("#customer-none")).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(andina.locator("input[type=radio]")).to_be_checked()
    expect(typed).to_be_hidden()
    expect(page.locator("#customer-fiscal")).to_be_hidden()  # Andina's fiscal data are on file

    # Lines and customers came by htmx: the form itself was not sent meanwhile.
    assert "issue/lines" in posts and "issue/invoice" not in posts

    # Nothing on the page is wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    page.get_by_test_id("sign-and-send").click()
    dialog = page.locator("dialog[data-confirm-dialog]")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Distribuidora Andina")
    dialog.locator("[data-confirm-accept]").click()
    expect(page).to_have_url(re.compile(r"/documents/\d+$"))
    expect(page.get_by_text(re.compile(r"Factura SETT\d+"))).to_be_visible()
    assert errors == []


def test_does_the_form_work_without_javascript(new_context):
    """Add, remove, search and choose by plain form submissions; the page confirms, then issues."""
    page = new_context(viewport=PHONE, java_script_enabled=False).new_page()
    page.goto("/auth/login")
    page.locator("#login-form #email").fill(SUPPLIER)
    page.locator("#login-form #password").fill(DEMO_PASSWORD)
    page.locator("#login-form [type=submit]").click()
    page.goto("/issue/invoice")
    rows = page.locator("#lines-table tbody tr[data-line]")
    page.locator('[name="lines-0-description"]').fill("Tornillos")
    page.locator('[name="lines-0-quantity"]').fill("100")
    page.locator('[name="lines-0-unit_price"]').fill("250")
    page.get_by_test_id("add-line").click()  # the form comes back with one more line
    expect(rows).to_have_count(2)
    expect(page.locator('[name="lines-0-description"]')).to_have_value("Tornillos")
    page.locator('[name="lines-1-description"]').fill("Sobra")
    page.get_by_test_id("add-line").click()
    expect(rows).to_have_count(3)
    rows.nth(1).locator("button[data-remove-line]").click()  # "Sobra" goes, the rest stay
    expect(rows).to_have_count(2)
    expect(page.locator('[name="lines-1-description"]')).to_have_value("")
    expect(page.locator('[name="lines-0-unit_price"]')).to_have_value("250")

    typed = page.locator("#customer-typed")
    expect(typed).to_be_visible()
    page.locator("#customer_q").fill("andina")
    page.locator('button[name="find_customer"]').click()
    andina = page.locator("#customer-results label", has_text="Distribuidora Andina")
    andina.click()
    expect(typed).to_be_hidden()  # CSS alone hides it
    expect(page.locator('[name="lines-0-description"]')).to_have_value("Tornillos")

    page.get_by_test_id("sign-and-send").click()  # the question comes as a page
    expect(page.get_by_test_id("confirm-consequence")).to_contain_text("Distribuidora Andina")
    page.locator("[data-confirm-accept]").click()
    expect(page).to_have_url(re.compile(r"/documents/\d+$"))
    expect(page.get_by_text(re.compile(r"Factura SETT\d+"))).to_be_visible()
