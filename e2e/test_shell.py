"""The app shell at a desk (1366×768) and on a phone (390×844): the top bar, the menu, the bell,
and pages that fit the window (app/templates/layouts, app/static/css/app.css)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from test_foundation import DEMO_PASSWORD, sign_in

DESK = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
BUYER = "buyer@demo.test"  # the owner of Distribuidora Andina: every group, every link
PAGES = (
    "/inbox/received",
    "/inbox/sent",
    "/disputes/",
    "/network/",
    "/network/directory",
    "/team/",
    "/company/",
    "/company/certificate",
    "/company/api-tokens",
    "/company/webhooks",
    "/issue/numbering",
    "/audit/",
    "/notifications/",
)
GROUPS = ("documents", "disputes", "network", "company")


def signed_in(new_context, viewport: dict[str, int]) -> Page:
    page = new_context(viewport=viewport).new_page()
    sign_in(page, BUYER, DEMO_PASSWORD)
    expect(page.locator("#login-form")).to_have_count(0)
    return page


def sideways_overflow(page: Page) -> int:
    """Return how many pixels the page is wider than the window (0 when it fits)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def header_height(page: Page) -> float:
    box = page.locator("header.topbar").bounding_box()
    assert box is not None
    return box["height"]


def test_does_the_desk_header_stay_on_one_row_with_the_navigation_beside_the_page(new_context):
    page = signed_in(new_context, DESK)
    page.goto("/inbox/received")

    assert header_height(page) <= 80  # one row: 3.5rem at Pico's 20 px desk font
    tops = [
        page.locator(selector).bounding_box()
        for selector in (
            ".brand",
            '[data-testid="active-company"]',
            '[data-testid="bell"] > summary',
            '[data-testid="user-menu"]',
            '[data-testid="switch-language"]',
        )
    ]
    centres = [box["y"] + box["height"] / 2 for box in tops if box]
    assert len(centres) == 5 and max(centres) - min(centres) < 8, centres
    # The whole navigation is shown, grouped, without opening anything.
    expect(page.locator('[data-testid="nav-menu"] > summary')).to_be_hidden()
    for key in ("received", "sent", "upload", "issue", "disputes", "partners", "team", "audit"):
        expect(page.get_by_test_id(f"nav-{key}")).to_be_visible()
    expect(page.get_by_test_id("nav-received")).to_have_attribute("aria-current", "page")
    nav = page.locator("nav.main-nav").bounding_box()
    main = page.locator("main").bounding_box()
    assert nav and main and main["x"] >= nav["x"] + nav["width"]  # beside, not over, the page
    assert sideways_overflow(page) <= 0


def test_does_the_bell_show_an_icon_from_the_sprite(new_context):
    page = signed_in(new_context, DESK)
    page.goto("/inbox/received")
    icon = page.locator('[data-testid="bell"] > summary svg')
    box = icon.bounding_box()
    assert box and box["width"] >= 16 and box["height"] >= 16
    href = icon.locator("use").get_attribute("href")
    assert href and href.endswith("#bell")
    sprite = page.request.get(href.split("#")[0])
    assert sprite.ok and 'id="bell"' in sprite.text()
    favicon = page.locator('link[rel="icon"]').get_attribute("href")
    assert favicon and page.request.get(favicon).headers["content-type"].startswith("image/svg")


def test_does_the_phone_header_stay_small_and_open_its_menu_with_the_keyboard(new_context):
    page = signed_in(new_context, PHONE)
    page.goto("/inbox/received")

    assert header_height(page) < 0.2 * PHONE["height"]
    menu = page.locator('[data-testid="nav-menu"]')
    expect(page.get_by_test_id("nav-received")).to_be_hidden()  # closed until asked for
    summary = menu.locator("summary")
    for _ in range(6):  # Tab from the top of the page until the menu button has the focus
        page.keyboard.press("Tab")
        if summary.evaluate("el => el === document.activeElement"):
            break
    expect(summary).to_be_focused()
    outline = summary.evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline != "none"  # the focus can be seen
    page.keyboard.press("Enter")

    expect(menu).to_have_attribute("open", "")
    for group in GROUPS:
        expect(menu.locator(f'[data-nav-group="{group}"]')).to_be_visible()
    expect(page.get_by_test_id("nav-received")).to_be_visible()
    page.keyboard.press("Tab")  # into the menu, first link
    expect(page.get_by_test_id("nav-home")).to_be_focused()
    for link in menu.locator("nav a").all():
        box = link.bounding_box()
        assert box and box["height"] >= 44, link.inner_text()  # touch targets
    assert sideways_overflow(page) <= 0
    page.keyboard.press("Escape")  # closes the menu, the focus back on its button
    expect(menu).not_to_have_attribute("open", "")
    expect(summary).to_be_focused()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.get_by_test_id("nav-home")).to_be_focused()
    page.keyboard.press("Enter")  # the focused link opens its page (the menu closes)
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator('[data-testid="nav-menu"]')).not_to_have_attribute("open", "")


@pytest.mark.parametrize("viewport", [PHONE, DESK], ids=["phone", "desk"])
def test_does_no_page_scroll_sideways(new_context, viewport):
    page = signed_in(new_context, viewport)
    wide = {}
    for path in PAGES:
        page.goto(path)
        expect(page.locator("main")).to_be_visible()
        if (extra := sideways_overflow(page)) > 0:
            wide[path] = extra
    page.goto("/inbox/received")
    page.locator("table.tray tbody tr a").first.click()
    expect(page.get_by_test_id("document-number")).to_be_visible()
    if (extra := sideways_overflow(page)) > 0:
        wide[page.url] = extra
    assert not wide, f"wider than {viewport['width']} px: {wide}"


def test_does_the_phone_tray_show_labelled_cards_and_filters_in_a_drawer(new_context):
    page = signed_in(new_context, PHONE)
    page.goto("/inbox/received")
    row = page.locator("table.tray tbody tr").first
    cell = row.locator("td[data-label]:visible").first
    label = cell.evaluate("el => getComputedStyle(el, '::before').content")
    assert label.strip('"') == cell.get_attribute("data-label") != ""
    # A card: number, counterparty, amount, status, due date, payment — not type, issue date
    # and tax id (sortable above, on the document's page).
    shown = [c.get_attribute("data-label") for c in row.locator("td[data-label]:visible").all()]
    assert shown == ["Número", "Proveedor", "Valor", "Estado", "Fecha de vencimiento", "Pago"]
    row_box, table_box = row.bounding_box(), page.locator("table.tray").bounding_box()
    assert row_box and table_box and row_box["width"] <= PHONE["width"]
    drawer = page.locator("details.filters-drawer")
    expect(page.locator("#tray-filters")).to_be_hidden()
    drawer.locator("summary").click()
    expect(page.locator("#tray-filters")).to_be_visible()
    # One field a row on a phone: no label squeezed into a narrow column.
    boxes = [
        box
        for label in page.locator("#tray-filters .form-grid > label").all()
        if (box := label.bounding_box())
    ]
    assert len(boxes) >= 8
    assert len({round(box["x"]) for box in boxes}) == 1  # one column
    fields = page.locator("#tray-filters .form-grid > label:not(:has([type=checkbox]))").all()
    widths = [box["width"] for label in fields if (box := label.bounding_box())]
    assert min(widths) > 0.8 * PHONE["width"], widths
