"""The home in a real browser: the chart is drawn from its table under the strict CSP, again
after a boosted navigation, and the page fits a phone."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from test_foundation import DEMO_PASSWORD, sign_in

BUYER = "buyer@demo.test"


def test_is_the_chart_drawn_from_the_table_without_console_errors(new_context):
    """Does the buyer's home draw its chart (no CSP violation), and again after navigating?"""
    page: Page = new_context().new_page()
    errors: list[str] = []
    page.on(
        "console",
        lambda m: errors.append(f"{m.text} {m.location}") if m.type == "error" else None,
    )
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on(
        "response",
        lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    sign_in(page, BUYER, DEMO_PASSWORD)
    expect(page.locator("#login-form")).to_have_count(0)
    page.goto("/")
    table = page.locator("#home-due-table")
    expect(table.locator("tbody tr")).to_have_count(8)
    frame = page.locator("[data-chart-frame]")
    expect(frame).to_be_visible()
    page.wait_for_function("document.getElementById('home-chart').homeChart !== undefined")
    # A boosted navigation away and back draws it again.
    page.locator("a.brand").click()
    page.wait_for_function("document.getElementById('home-chart').homeChart !== undefined")
    # The browser's own request for /favicon.ico (no page asks for it) is not the home's.
    assert [e for e in errors if "/favicon.ico" not in e] == []


def test_does_the_home_fit_a_phone(new_context):
    """Is there no sideways scrolling at 390 px, the figures and the table readable?"""
    page: Page = new_context(viewport={"width": 390, "height": 844}).new_page()
    sign_in(page, BUYER, DEMO_PASSWORD)
    expect(page.locator("#login-form")).to_have_count(0)
    page.goto("/")
    expect(page.get_by_test_id("home-payables")).to_be_visible()
    wide = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert not wide
