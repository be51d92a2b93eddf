"""Journeys through a real browser: registering, the team, the network, the language.

Each journey registers companies of its own (a random NIT and e-mail per run), so the journeys
run in any order, and again on the same database. Selectors rest on ids, names and data-*
attributes, not on visible text: the texts change with the language and with translations.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from babel.support import Translations
from playwright.sync_api import Page, expect
from stdnum.co import nit

PASSWORD = "Quetzal-Parsnip-42x"
COLLEAGUE_PASSWORD = "Marimba-Tundra-73q"
DEMO_PASSWORD = "demo-pass-2026"
TORNILLO = "Ferretería El Tornillo S.A.S."
TORNILLO_TRADE_NAME = "El Tornillo"
TRANSLATIONS = Path(__file__).resolve().parent.parent / "app" / "translations"


@dataclass(frozen=True)
class NewCompany:
    """Registration data no other journey (or earlier run) uses."""

    legal_name: str
    trade_name: str
    nit_base: str
    contact_email: str
    user_name: str
    user_email: str

    @property
    def tax_id(self) -> str:
        """The NIT with its right check digit, written the usual way: 712345678-9."""
        return f"{self.nit_base}-{nit.calc_check_digit(self.nit_base)}"

    @property
    def wrong_tax_id(self) -> str:
        """The same NIT with a wrong check digit."""
        right = int(nit.calc_check_digit(self.nit_base))
        wrong = f"{self.nit_base}-{(right + 1) % 10}"
        assert not nit.is_valid(wrong)
        return wrong


def new_company() -> NewCompany:
    """Return fresh registration data: a random 9-digit NIT base and unique e-mails."""
    token = secrets.token_hex(4)
    base = f"7{secrets.randbelow(10**8):08d}"
    return NewCompany(
        legal_name=f"Comercializadora E2E {token} S.A.S.",
        trade_name=f"E2E {token}",
        nit_base=base,
        contact_email=f"facturas-{token}@example.com",
        user_name=f"Dueña {token}",
        user_email=f"owner-{token}@example.com",
    )


def home(base_url: str) -> re.Pattern[str]:
    """Match the dashboard's address (the site root)."""
    return re.compile(re.escape(base_url) + r"/?$")


def fill_registration(page: Page, company: NewCompany, *, tax_id: str) -> None:
    """Fill the registration form (the password again too: it is never sent back)."""
    form = page.locator("#register-form")
    form.locator("#legal_name").fill(company.legal_name)
    form.locator("#trade_name").fill(company.trade_name)
    form.locator("#country").select_option("CO")
    form.locator("#tax_id").fill(tax_id)
    form.locator("#contact_email").fill(company.contact_email)
    form.locator("#user_name").fill(company.user_name)
    form.locator("#user_email").fill(company.user_email)
    form.locator("#password").fill(PASSWORD)


def submit(page: Page, form: str) -> None:
    """Click the submit button of the form matched by the selector."""
    page.locator(form).locator('button[type="submit"]').click()


def register(page: Page, base_url: str, company: NewCompany) -> None:
    """Register the company and land on its dashboard."""
    page.goto("/auth/register")
    fill_registration(page, company, tax_id=company.tax_id)
    submit(page, "#register-form")
    expect(page).to_have_url(home(base_url))
    expect(page.get_by_test_id("active-company")).to_have_text(company.trade_name)


def sign_in(page: Page, email: str, password: str) -> None:
    """Fill and send the sign-in form."""
    page.goto("/auth/login")
    page.locator("#login-form #email").fill(email)
    page.locator("#login-form #password").fill(password)
    submit(page, "#login-form")


def mail_link(page: Page, to: str, path: str) -> str:
    """Open the newest e-mail to `to` in the development outbox; return its link to `path`."""
    page.goto("/dev/mail")
    row = page.locator("table tbody tr").filter(has=page.locator(f'td:text-is("{to}")'))
    row.first.locator("a").click()  # the outbox lists the newest first
    link = page.locator(f'pre.mail-body a[href*="{path}"]')
    expect(link).to_have_count(1)
    return str(link.get_attribute("href"))


def confirm_email(page: Page, base_url: str, email: str) -> None:
    """Follow the confirmation link of the newest confirmation e-mail to the address."""
    href = mail_link(page, email, "/auth/confirm/")
    page.goto(href)
    expect(page).to_have_url(home(base_url))
    # The banner asking to confirm the address (with its "send again" form) is gone.
    expect(page.locator('form[action$="/auth/confirm/resend"]')).to_have_count(0)


def test_is_a_nit_with_a_wrong_check_digit_refused_and_the_right_one_accepted(
    page, new_context, base_url
):
    """Does registration refuse a wrong NIT check digit next to the field, then accept the
    right one and open the new company's dashboard?"""
    company = new_company()
    page.goto("/auth/register")
    fill_registration(page, company, tax_id=company.wrong_tax_id)
    submit(page, "#register-form")

    error = page.locator('label:has(#tax_id) [data-field-error="tax_id"]')
    expect(error).to_be_visible()
    expect(error).not_to_be_empty()
    expect(page.locator("#tax_id")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("[data-field-error]")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"/auth/register$"))

    # Nothing was registered: the address cannot sign in.
    stranger = new_context().new_page()
    sign_in(stranger, company.user_email, PASSWORD)
    expect(stranger.locator("#login-form .form-error[role=alert]")).to_be_visible()
    expect(stranger).to_have_url(re.compile(r"/auth/login"))

    fill_registration(page, company, tax_id=company.tax_id)
    submit(page, "#register-form")

    expect(page).to_have_url(home(base_url))
    expect(page.locator("main h1")).to_have_text(company.trade_name)
    expect(page.locator("main hgroup")).to_contain_text(company.legal_name)
    expect(page.locator("main hgroup")).to_contain_text(nit.format(company.tax_id))
    expect(page.get_by_test_id("active-company")).to_have_text(company.trade_name)


def test_can_a_new_company_confirm_its_email_and_bring_in_a_colleague(page, new_context, base_url):
    """Can the new owner confirm the e-mail, invite a colleague, and the colleague join
    through the e-mailed link with a new account?"""
    company = new_company()
    colleague = f"colega-{secrets.token_hex(4)}@example.com"
    register(page, base_url, company)
    expect(page.locator('form[action$="/auth/confirm/resend"]')).to_have_count(1)
    confirm_email(page, base_url, company.user_email)

    page.goto("/team/")
    invite = page.locator("#invite-form")
    invite.locator('[name="email"]').fill(colleague)
    invite.locator('[name="role"]').select_option("payables")
    submit(page, "#invite-form")
    expect(page.locator(f'li[data-invitation="{colleague}"]')).to_be_visible()

    href = mail_link(page, colleague, "/auth/invitations/")
    newcomer = new_context().new_page()
    newcomer.goto(href)
    expect(newcomer.locator("main h1")).to_contain_text(company.trade_name)
    newcomer.locator("main form #name").fill("Carla Colega")
    newcomer.locator("main form #password").fill(COLLEAGUE_PASSWORD)
    newcomer.locator('main form button[type="submit"]').click()

    expect(newcomer).to_have_url(home(base_url))
    expect(newcomer.get_by_test_id("active-company")).to_have_text(company.trade_name)
    expect(newcomer.get_by_test_id("user-menu")).to_have_text("Carla Colega")
    expect(newcomer.locator("main h1")).to_have_text(company.trade_name)

    page.goto("/team/")
    expect(page.locator(f'tr[data-member="{colleague}"]')).to_be_visible()
    expect(page.locator(f'li[data-invitation="{colleague}"]')).to_have_count(0)


def test_can_a_new_company_connect_with_a_demo_supplier_who_accepts(page, new_context, base_url):
    """Can a new company find El Tornillo in the directory, ask to connect as its customer,
    and see it connected once El Tornillo accepts?"""
    company = new_company()
    register(page, base_url, company)
    confirm_email(page, base_url, company.user_email)

    page.goto("/network/directory")
    page.locator("#q").fill("Tornillo")
    row = page.locator(f'#directory-results tr[data-company="{TORNILLO}"]')
    expect(row).to_be_visible()
    expect(page.locator("#directory-results tr[data-company]")).to_have_count(1)
    row.locator('select[name="relation"]').select_option("supplier")
    row.locator('button[type="submit"]').click()
    expect(page).to_have_url(re.compile(r"/network/?$"))
    suppliers = page.get_by_test_id("suppliers")
    expect(
        suppliers.locator("tr", has_text=TORNILLO_TRADE_NAME).locator(".status-pending")
    ).to_be_visible()

    supplier = new_context().new_page()
    sign_in(supplier, "supplier@demo.test", DEMO_PASSWORD)
    expect(supplier).to_have_url(home(base_url))
    supplier.goto("/network/")
    request = supplier.locator(f'#requests [data-request="{company.trade_name}"]')
    expect(request).to_be_visible()
    request.locator('form[action*="/accept"] button[type="submit"]').click()
    expect(supplier.locator(f'#requests [data-request="{company.trade_name}"]')).to_have_count(0)
    customers = supplier.get_by_test_id("customers")
    expect(
        customers.locator("tr", has_text=company.trade_name).locator(".status-active")
    ).to_be_visible()

    page.reload()
    connected = suppliers.locator("tr", has_text=TORNILLO_TRADE_NAME)
    expect(connected.locator(".status-active")).to_be_visible()
    expect(connected.locator(".status-pending")).to_have_count(0)


def test_does_the_language_switch_change_the_page_language(page, base_url):
    """Does the language button switch the whole page between Spanish and English?"""
    company = new_company()
    register(page, base_url, company)
    html = page.locator("html")
    directory_link = page.locator('header nav a[href="/network/directory"]')
    switch = page.get_by_test_id("switch-language")
    spanish_directory = Translations.load(str(TRANSLATIONS), ["es"]).gettext("Directory")

    expect(html).to_have_attribute("lang", "es")
    expect(switch).to_have_attribute("lang", "en")  # the button offers the other language
    if spanish_directory != "Directory":
        expect(directory_link).to_have_text(spanish_directory)

    switch.click()
    expect(html).to_have_attribute("lang", "en")
    expect(switch).to_have_attribute("lang", "es")
    expect(directory_link).to_have_text("Directory")

    # The choice is remembered for the user, and switching back works too.
    page.reload()
    expect(html).to_have_attribute("lang", "en")
    switch.click()
    expect(html).to_have_attribute("lang", "es")
    if spanish_directory != "Directory":
        expect(directory_link).to_have_text(spanish_directory)
