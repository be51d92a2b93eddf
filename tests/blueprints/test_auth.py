"""Accounts over HTTP: registering, confirming, signing in and out, passwords, sessions, headers.

Messages are checked in English (the source language, chosen through the session) so the tests
do not depend on the Spanish catalog being translated; where only the language matters the
``<html lang>`` attribute is checked.
"""

from __future__ import annotations

import base64
import html
import io
import json
import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select
from stdnum.cl import rut
from stdnum.mx import rfc

from app.extensions import db
from app.models import Company, Membership, User
from app.tenancy import unscoped
from tests.conftest import PASSWORD, link_in, login, make_company, make_user, unique_nit

NEW_PASSWORD = "Violet-Tractor-Sunrise-42"
OTHER_PASSWORD = "Granite-Pelican-Orbit-77"


# ---------------------------------------------------------------------------------------------
# Helpers


def english(client) -> None:
    """Make the client's session ask for English."""
    with client.session_transaction() as session:
        session["locale"] = "en"


def registration(**overrides) -> dict[str, str]:
    """Return a valid registration form for a Colombian company."""
    data = {
        "legal_name": "Café del Valle S.A.S.",
        "trade_name": "Café del Valle",
        "country": "CO",
        "tax_id": unique_nit(),
        "contact_email": "contacto@cafedelvalle.com.co",
        "user_name": "Lucía Gómez",
        "user_email": "lucia@cafedelvalle.com.co",
        "password": PASSWORD,
    }
    data.update(overrides)
    return data


def counts() -> tuple[int, int, int]:
    """Return how many companies, users and memberships exist."""
    return (
        db.session.scalar(select(func.count()).select_from(Company)),
        db.session.scalar(select(func.count()).select_from(User)),
        db.session.scalar(unscoped(select(func.count()).select_from(Membership))),
    )


def user_by_email(email: str) -> User | None:
    db.session.expire_all()
    return db.session.scalars(select(User).where(User.email == email)).first()


def sign_in(client, email: str, password: str = PASSWORD, *, remember: bool = False, **kwargs):
    data = {"email": email, "password": password}
    if remember:
        data["remember"] = "y"
    return client.post("/auth/login", data=data, **kwargs)


def signed_in(client) -> bool:
    """Tell whether the client can open a page that needs a signed-in member."""
    response = client.get("/team/")
    if response.status_code == 200:
        return True
    assert response.status_code == 302, response.status_code
    assert urlsplit(response.location).path == "/auth/login"
    return False


def field_errors(response, field: str) -> list[str]:
    """Return the messages shown next to a form field."""
    body = response.get_data(as_text=True)
    pattern = rf'<small[^>]*data-field-error="{re.escape(field)}"[^>]*>(.*?)</small>'
    return [html.unescape(m).strip() for m in re.findall(pattern, body, re.S)]


def form_errors(response) -> list[str]:
    body = response.get_data(as_text=True)
    return [
        html.unescape(m).strip()
        for m in re.findall(r'<p class="form-error" role="alert">(.*?)</p>', body, re.S)
    ]


def toasts(response) -> list[tuple[str, str]]:
    """Return the (category, message) flash toasts shown on a page."""
    body = response.get_data(as_text=True)
    pattern = r'<div class="toast toast-(\w+)"[^>]*>\s*<span>(.*?)</span>'
    return [(c, html.unescape(m).strip()) for c, m in re.findall(pattern, body, re.S)]


def error_page_message(response) -> str:
    body = response.get_data(as_text=True)
    match = re.search(r'<article class="error-page"[^>]*>.*?<p>(.*?)</p>', body, re.S)
    assert match, body
    return html.unescape(match.group(1)).strip()


def html_lang(response) -> str:
    match = re.search(r'<html[^>]*\blang="([^"]+)"', response.get_data(as_text=True))
    assert match
    return match.group(1)


def set_cookies(response) -> dict[str, dict[str, str]]:
    """Return the cookies a response sets: name -> {"value": ..., attribute (lower): value}."""
    cookies = {}
    for header in response.headers.getlist("Set-Cookie"):
        first, *attributes = [part.strip() for part in header.split(";")]
        name, _, value = first.partition("=")
        cookie = {"value": value}
        for attribute in attributes:
            key, _, val = attribute.partition("=")
            cookie[key.lower()] = val
        cookies[name] = cookie
    return cookies


def membership_of(user: User, company: Company) -> Membership:
    return db.session.scalars(
        unscoped(
            select(Membership).where(
                Membership.user_id == user.id, Membership.company_id == company.id
            )
        )
    ).one()


def valid_rut() -> str:
    return "76.086.428-" + rut.calc_check_digit("76086428")


def valid_rfc() -> str:
    base = "ABC680524P7"  # a company: 3 letters, founding date, homoclave
    return base + rfc.calc_check_digit(base)


def wrong_check_digit(tax_id: str) -> str:
    return tax_id[:-1] + str((int(tax_id[-1]) + 1) % 10)


@pytest.fixture
def olga(company):
    """The owner of company, with an address the e-mail validator accepts (not .test)."""
    return make_user(company, role="owner", name="Olga Dueña", email="olga@andina.com.co")


# ---------------------------------------------------------------------------------------------
# Registration


@pytest.mark.parametrize(
    ("country", "typed", "stored"),
    [
        ("CO", "NIT", None),
        ("CL", valid_rut(), valid_rut().replace(".", "").replace("-", "")),
        ("MX", valid_rfc().lower(), valid_rfc()),
    ],
    ids=["colombia-nit", "chile-rut", "mexico-rfc"],
)
def test_can_a_company_register_with_its_tax_id_and_start_working(
    client, outbox, country, typed, stored
):
    """Does registering create the company, make me its owner, sign me in and e-mail a link?"""
    if typed == "NIT":
        compact = unique_nit()
        typed, stored = f"{compact[:-1]}-{compact[-1]}", compact
    response = client.post("/auth/register", data=registration(country=country, tax_id=typed))

    assert response.status_code == 303
    assert urlsplit(response.location).path == "/"
    company = db.session.scalars(select(Company)).one()
    assert (company.country, company.tax_id) == (country, stored)
    assert company.trade_name == "Café del Valle"
    user = user_by_email("lucia@cafedelvalle.com.co")
    assert user is not None and user.email_confirmed_at is None
    assert membership_of(user, company).role == "owner"

    dashboard = client.get("/")
    assert dashboard.status_code == 200
    assert "Café del Valle" in dashboard.get_data(as_text=True)
    assert signed_in(client)

    mails = outbox()
    assert [m["to"] for m in mails] == ["lucia@cafedelvalle.com.co"]
    assert link_in(mails[0]["body"], "/auth/confirm/").startswith("/auth/confirm/")


def _assert_refused(response, field: str, before) -> None:
    assert response.status_code == 422
    assert field_errors(response, field), f"no message next to {field}"
    assert counts() == before


def test_is_a_wrong_nit_check_digit_refused_with_a_message_next_to_the_field(client, outbox):
    """Is a wrong NIT check digit refused with a message next to the field, and nothing made?"""
    before = counts()
    response = client.post(
        "/auth/register", data=registration(tax_id=wrong_check_digit(unique_nit()))
    )
    _assert_refused(response, "tax_id", before)
    assert outbox() == []


def test_is_a_wrong_rut_digit_refused(client):
    """Is a Chilean RUT with the wrong verification digit refused next to the tax id?"""
    before = counts()
    good = valid_rut()
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    response = client.post("/auth/register", data=registration(country="CL", tax_id=bad))
    _assert_refused(response, "tax_id", before)


@pytest.mark.parametrize("bad_rfc", ["ABC-12", "1234567890123", "ABC680524P7Z"])
def test_is_a_malformed_rfc_refused(client, bad_rfc):
    """Is a Mexican RFC that is not shaped like one (or fails its check digit) refused?"""
    before = counts()
    response = client.post("/auth/register", data=registration(country="MX", tax_id=bad_rfc))
    _assert_refused(response, "tax_id", before)


def test_is_a_tax_id_already_on_the_network_refused(client):
    """Can a second company register with a NIT already registered, even typed differently?"""
    existing = make_company("Primera", tax_id=unique_nit())
    before = counts()
    nit = existing.tax_id
    typed = f"{nit[:3]}.{nit[3:6]}.{nit[6:-1]}-{nit[-1]}"
    english(client)
    response = client.post("/auth/register", data=registration(tax_id=typed))
    _assert_refused(response, "tax_id", before)
    assert "already on the network" in field_errors(response, "tax_id")[0]


@pytest.mark.parametrize(
    "weak",
    ["password123", "aaaaaaaaaa", "Xy7#qL9", "LucíaGómez"],
    ids=["common", "repeated", "too-short", "my-name"],
)
def test_is_a_weak_password_refused(client, weak):
    """Is an easy-to-guess or too-short password refused next to the password field?"""
    before = counts()
    response = client.post("/auth/register", data=registration(password=weak))
    _assert_refused(response, "password", before)


def test_is_an_email_already_in_use_refused(client):
    """Can I register with an e-mail that already has an account (in other capitals)?"""
    make_user(make_company("Ya Registrada"), email="lucia@cafedelvalle.com.co")
    before = counts()
    response = client.post(
        "/auth/register", data=registration(user_email="Lucia@CafeDelValle.com.co")
    )
    _assert_refused(response, "user_email", before)


@pytest.mark.parametrize("field", ["user_email", "contact_email"])
def test_is_an_invalid_email_refused(client, field):
    """Is an address that is not an e-mail refused next to its field?"""
    before = counts()
    response = client.post("/auth/register", data=registration(**{field: "lucia-at-example"}))
    _assert_refused(response, field, before)


@pytest.mark.parametrize(
    "field", ["legal_name", "tax_id", "contact_email", "user_name", "user_email", "password"]
)
def test_is_a_missing_field_refused(client, field):
    """Is a registration without a required field refused with a message next to it?"""
    before = counts()
    response = client.post("/auth/register", data=registration(**{field: ""}))
    _assert_refused(response, field, before)


def test_are_several_mistakes_shown_together(client):
    """Does a registration with several mistakes show each one next to its own field?"""
    before = counts()
    response = client.post(
        "/auth/register",
        data=registration(
            tax_id=wrong_check_digit(unique_nit()), user_email="nope", password="aaaaaaaaaa"
        ),
    )
    assert response.status_code == 422
    for field in ("tax_id", "user_email", "password"):
        assert field_errors(response, field), field
    assert counts() == before


def test_does_a_failed_registration_keep_what_i_typed_except_the_password(client):
    """After a mistake, is the form filled with my data again (but not my password)?"""
    response = client.post(
        "/auth/register", data=registration(tax_id=wrong_check_digit(unique_nit()))
    )
    body = response.get_data(as_text=True)
    assert 'value="lucia@cafedelvalle.com.co"' in body
    assert PASSWORD not in body


def test_does_the_registration_page_answer_in_spanish_by_default_and_english_on_request(client):
    """Is the page in Spanish for a first visit, and in English once I chose English?"""
    first = client.get("/auth/register")
    assert first.status_code == 200
    assert html_lang(first) == "es"

    english(client)
    assert html_lang(client.get("/auth/register")) == "en"


# ---------------------------------------------------------------------------------------------
# E-mail confirmation


def _register_and_get_confirm_link(client, outbox) -> str:
    response = client.post("/auth/register", data=registration())
    assert response.status_code == 303
    return link_in(outbox()[-1]["body"], "/auth/confirm/")


def test_does_the_link_in_the_email_confirm_my_address(app, client, outbox):
    """Does opening the link from the confirmation e-mail (in any browser) confirm my address?"""
    link = _register_and_get_confirm_link(client, outbox)
    browser = app.test_client()
    english(browser)

    response = browser.get(link, follow_redirects=True)

    assert response.status_code == 200
    assert user_by_email("lucia@cafedelvalle.com.co").email_confirmed_at is not None
    assert [c for c, _ in toasts(response)] == ["success"]


def _forged(token: str, user_id: int, email: str) -> str:
    payload = base64.urlsafe_b64encode(json.dumps({"u": user_id, "e": email}).encode())
    _, timestamp, signature = token.split(".")
    return ".".join([payload.decode().rstrip("="), timestamp, signature])


@pytest.mark.parametrize("how", ["forged-payload", "garbage"])
def test_is_a_tampered_confirmation_link_refused(app, client, outbox, how):
    """Is a tampered confirmation link refused with a message (and no error page)?"""
    victim = make_user(make_company("Víctima"), email="victima@otra.com.co", confirmed=False)
    link = _register_and_get_confirm_link(client, outbox)
    token = link.rsplit("/", 1)[-1]
    bad = _forged(token, victim.id, victim.email) if how == "forged-payload" else "not-a-token"
    browser = app.test_client()
    english(browser)

    response = browser.get(f"/auth/confirm/{bad}", follow_redirects=True)

    assert response.status_code == 200
    assert ("error", "This confirmation link is not valid.") in toasts(response)
    assert user_by_email("victima@otra.com.co").email_confirmed_at is None
    assert user_by_email("lucia@cafedelvalle.com.co").email_confirmed_at is None


def test_is_an_expired_confirmation_link_refused(app, client, outbox, monkeypatch):
    """Is a confirmation link older than its lifetime refused with a message that says so?"""
    link = _register_and_get_confirm_link(client, outbox)
    monkeypatch.setitem(app.config, "EMAIL_TOKEN_MAX_AGE", -1)
    browser = app.test_client()
    english(browser)

    response = browser.get(link, follow_redirects=True)

    assert response.status_code == 200
    messages = [m for c, m in toasts(response) if c == "error"]
    assert messages and "expired" in messages[0]
    assert user_by_email("lucia@cafedelvalle.com.co").email_confirmed_at is None


# ---------------------------------------------------------------------------------------------
# Signing in and out


def test_can_i_sign_in_with_the_right_password(client, company, owner):
    """Does the right password sign me in and take me to the start page?"""
    assert not signed_in(client)
    response = sign_in(client, owner.email.upper())
    assert response.status_code == 303
    assert urlsplit(response.location).path == "/"
    assert signed_in(client)
    assert company.trade_name in client.get("/").get_data(as_text=True)


def test_do_an_unknown_email_and_a_wrong_password_get_the_same_answer(app, company, owner):
    """Can someone tell from the answer whether an e-mail has an account?"""
    unknown, wrong = app.test_client(), app.test_client()
    english(unknown)
    english(wrong)

    r_unknown = sign_in(unknown, "nadie@andina.com.co", PASSWORD)
    r_wrong = sign_in(wrong, owner.email, "Not-The-Password-123")

    assert r_unknown.status_code == r_wrong.status_code == 422
    assert form_errors(r_unknown) == form_errors(r_wrong) == ["E-mail or password is incorrect."]
    assert not signed_in(unknown) and not signed_in(wrong)


def test_can_a_deactivated_user_sign_in(client, company, owner):
    """Is a user whose account was deactivated kept out, even with the right password?"""
    owner.active = False
    db.session.commit()
    response = sign_in(client, owner.email)
    assert response.status_code == 422
    assert form_errors(response)
    assert not signed_in(client)


def test_does_remember_me_keep_me_signed_in_for_14_days(client, company, owner):
    """Does "remember me" set an HttpOnly cookie that lasts about 14 days?"""
    response = sign_in(client, owner.email, remember=True)
    assert response.status_code == 303
    cookie = set_cookies(response).get("remember_token")
    assert cookie is not None, response.headers.getlist("Set-Cookie")
    assert "httponly" in cookie
    expires = parsedate_to_datetime(cookie["expires"])
    left = expires - datetime.now(UTC)
    assert timedelta(days=13, hours=23) < left <= timedelta(days=14, minutes=1)


def test_does_a_remembered_browser_survive_a_restart(client, company, owner):
    """After closing the browser (session cookie gone), am I still signed in if I was remembered?"""
    sign_in(client, owner.email, remember=True)
    client.delete_cookie("session", domain="portal.test")
    assert client.get_cookie("session", domain="portal.test") is None
    assert signed_in(client)


def test_is_there_no_remember_cookie_without_remember_me(client, company, owner):
    """Without "remember me", is no long-lived cookie left behind?"""
    response = sign_in(client, owner.email)
    assert response.status_code == 303
    assert "remember_token" not in set_cookies(response)
    client.delete_cookie("session", domain="portal.test")
    assert not signed_in(client)


def test_is_the_session_cookie_out_of_reach_of_scripts_and_other_sites(client, company, owner):
    """Is the session cookie HttpOnly and SameSite=Lax?"""
    response = sign_in(client, owner.email)
    cookie = set_cookies(response)["session"]
    assert "httponly" in cookie
    assert cookie.get("samesite", "").lower() == "lax"


def test_are_cookies_secure_over_https(client, company, owner):
    """Over HTTPS, do the session and remember cookies carry Secure (and HSTS is sent)?"""
    response = sign_in(client, owner.email, remember=True, base_url="https://portal.test")
    assert response.status_code == 303
    cookies = set_cookies(response)
    assert {"session", "remember_token"} <= set(cookies)
    for name in ("session", "remember_token"):
        assert "secure" in cookies[name], name
    assert "max-age" in response.headers.get("Strict-Transport-Security", "")


def test_is_signing_in_slowed_down_after_five_tries_a_minute(client, company, owner):
    """Is the sixth sign-in attempt in a minute refused with a clear message, even if right?"""
    english(client)
    for _ in range(5):
        assert sign_in(client, owner.email, "Not-The-Password-123").status_code == 422

    response = sign_in(client, owner.email, PASSWORD)

    assert response.status_code == 429
    assert "Too many attempts" in error_page_message(response)
    assert not signed_in(client)


@pytest.mark.parametrize(
    "target", ["//evil.example", "https://evil.example/x", "/\\evil.example", "///evil.example"]
)
def test_does_signing_in_refuse_to_send_me_to_another_site(client, company, owner, target):
    """Can a link to the sign-in page send me to another site after I sign in?"""
    response = client.post(
        "/auth/login",
        query_string={"next": target},
        data={"email": owner.email, "password": PASSWORD},
    )
    assert response.status_code == 303
    location = urlsplit(response.location)
    assert location.netloc in ("", "portal.test")
    assert "evil" not in response.location
    assert location.path == "/"


def test_does_signing_in_take_me_back_to_the_page_i_wanted(client, company, owner):
    """After being sent to sign in from the team page, do I land on the team page?"""
    first = client.get("/team/")
    assert urlsplit(first.location).path == "/auth/login"
    response = client.post(first.location, data={"email": owner.email, "password": PASSWORD})
    assert response.status_code == 303
    assert urlsplit(response.location).path == "/team/"


def test_does_signing_out_end_my_session(client, company, owner):
    """After I sign out, are protected pages closed to this browser?"""
    sign_in(client, owner.email)
    response = client.post("/auth/logout")
    assert response.status_code == 303
    assert urlsplit(response.location).path == "/auth/login"
    assert not signed_in(client)


# ---------------------------------------------------------------------------------------------
# Ending sessions elsewhere


def test_does_signing_out_in_one_browser_end_the_other(app, company, owner):
    """If I sign out on my laptop, is my phone signed out too?"""
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop, owner.email)
    sign_in(phone, owner.email)
    assert signed_in(laptop) and signed_in(phone)

    laptop.post("/auth/logout")

    assert not signed_in(phone)


def test_does_changing_my_password_end_my_other_sessions_but_keep_this_one(app, company, owner):
    """When I change my password, are my other sessions (also remembered ones) closed?"""
    here, there, remembered = app.test_client(), app.test_client(), app.test_client()
    login(here, owner, company)
    sign_in(there, owner.email)
    sign_in(remembered, owner.email, remember=True)
    remembered.delete_cookie("session", domain="portal.test")
    assert signed_in(there) and signed_in(remembered)

    response = here.post(
        "/auth/password",
        data={"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )

    assert response.status_code == 303
    assert signed_in(here)
    assert not signed_in(there)
    assert not signed_in(remembered)
    assert sign_in(app.test_client(), owner.email, NEW_PASSWORD).status_code == 303


def test_does_a_deactivated_member_lose_their_session(app, company, owner):
    """When the owner deactivates a colleague, is the colleague signed out at once?"""
    colleague = make_user(company, role="viewer", name="Carlos Colega")
    colleague_browser, owner_browser = app.test_client(), app.test_client()
    sign_in(colleague_browser, colleague.email)
    assert signed_in(colleague_browser)
    login(owner_browser, owner, company)

    response = owner_browser.post(
        f"/team/members/{membership_of(colleague, company).id}/deactivate", data={"confirm": "1"}
    )

    assert response.status_code == 303
    assert not signed_in(colleague_browser)
    assert signed_in(owner_browser)


# ---------------------------------------------------------------------------------------------
# Password reset


def _ask_reset(client, email: str):
    return client.post("/auth/forgot", data={"email": email})


def test_does_forgot_password_email_me_a_reset_link(client, olga, outbox):
    """If I forgot my password, do I get an e-mail with a link to choose a new one?"""
    response = _ask_reset(client, olga.email)
    assert response.status_code == 303
    mails = outbox()
    assert [m["to"] for m in mails] == [olga.email]
    assert link_in(mails[0]["body"], "/auth/reset/")


def test_does_forgot_password_say_the_same_for_unknown_emails(app, olga, outbox):
    """Can someone find out whether an address has an account through forgot-password?"""
    known, unknown = app.test_client(), app.test_client()
    english(known)
    english(unknown)

    r_known = _ask_reset(known, olga.email)
    r_unknown = _ask_reset(unknown, "nadie@andina.com.co")

    assert r_known.status_code == r_unknown.status_code == 303
    assert r_known.location == r_unknown.location
    assert toasts(known.get(r_known.location)) == toasts(unknown.get(r_unknown.location))
    assert [m["to"] for m in outbox()] == [olga.email]


def _reset_link(client, outbox, email: str) -> str:
    assert _ask_reset(client, email).status_code == 303
    return link_in(outbox()[-1]["body"], "/auth/reset/")


def test_does_a_reset_link_work_once(app, client, olga, outbox):
    """Can I set a new password with the link, and is the link useless afterwards?"""
    link = _reset_link(client, outbox, olga.email)
    assert client.get(link).status_code == 200

    english(client)
    response = client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 303
    assert urlsplit(response.location).path == "/auth/login"
    assert [c for c, _ in toasts(client.get(response.location))] == ["success"]

    again = client.get(link)
    assert again.status_code == 302
    assert urlsplit(again.location).path == "/auth/forgot"
    assert [c for c, _ in toasts(client.get(again.location))] == ["error"]
    replay = client.post(link, data={"password": OTHER_PASSWORD, "confirm": OTHER_PASSWORD})
    assert replay.status_code == 302
    assert sign_in(app.test_client(), olga.email, OTHER_PASSWORD).status_code == 422


def test_after_a_reset_does_only_the_new_password_work(app, client, olga, outbox):
    """After a reset, is the old password refused and the new one accepted?"""
    link = _reset_link(client, outbox, olga.email)
    client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})

    assert sign_in(app.test_client(), olga.email, PASSWORD).status_code == 422
    assert sign_in(app.test_client(), olga.email, NEW_PASSWORD).status_code == 303


def test_is_a_weak_new_password_refused_on_reset(app, client, olga, outbox):
    """Is a weak new password refused next to the field, leaving the link usable?"""
    link = _reset_link(client, outbox, olga.email)

    response = client.post(link, data={"password": "password123", "confirm": "password123"})

    assert response.status_code == 422
    assert field_errors(response, "password")
    assert sign_in(app.test_client(), olga.email, PASSWORD).status_code == 303
    assert (
        client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code
        == 303
    )


def test_is_a_mismatched_confirmation_refused_on_reset(app, client, olga, outbox):
    """If I mistype the repeated password, is it refused next to that field?"""
    link = _reset_link(client, outbox, olga.email)

    response = client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x"})

    assert response.status_code == 422
    assert field_errors(response, "confirm")
    assert sign_in(app.test_client(), olga.email, NEW_PASSWORD).status_code == 422


def test_is_an_expired_reset_link_refused(app, client, olga, outbox, monkeypatch):
    """Is a reset link older than its lifetime refused, with a message, and no change made?"""
    link = _reset_link(client, outbox, olga.email)
    monkeypatch.setitem(app.config, "RESET_TOKEN_MAX_AGE", -1)
    english(client)

    response = client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})

    assert response.status_code == 302
    assert urlsplit(response.location).path == "/auth/forgot"
    messages = [m for c, m in toasts(client.get(response.location)) if c == "error"]
    assert messages and "expired" in messages[0]
    assert sign_in(app.test_client(), olga.email, PASSWORD).status_code == 303


# ---------------------------------------------------------------------------------------------
# Changing the password


def test_is_a_wrong_current_password_refused_when_changing_it(app, client, company, owner):
    """When I change my password with a wrong current one, am I told next to that field?"""
    login(client, owner, company)

    response = client.post(
        "/auth/password",
        data={
            "current_password": "Not-The-Password-1",
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )

    assert response.status_code == 422
    assert field_errors(response, "current_password")
    assert sign_in(app.test_client(), owner.email, PASSWORD).status_code == 303


def test_is_a_weak_password_refused_when_changing_it(app, client, company, owner):
    """Can I change my password to an easy one?"""
    login(client, owner, company)
    response = client.post(
        "/auth/password",
        data={"current_password": PASSWORD, "password": "aaaaaaaaaa", "confirm": "aaaaaaaaaa"},
    )
    assert response.status_code == 422
    assert field_errors(response, "password")
    assert sign_in(app.test_client(), owner.email, PASSWORD).status_code == 303


def test_does_changing_the_password_need_a_signed_in_user(client):
    """Is the change-password page closed to someone not signed in?"""
    response = client.get("/auth/password")
    assert response.status_code == 302
    assert urlsplit(response.location).path == "/auth/login"


# ---------------------------------------------------------------------------------------------
# Security headers, CSRF and upload size


def _csp(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy", "")
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    return directives


@pytest.mark.parametrize("path", ["/auth/login", "/auth/register", "/", "/no-such-page"])
def test_do_pages_send_the_security_headers(client, path):
    """Do pages (error pages too) forbid inline scripts, framing and MIME sniffing?"""
    response = client.get(path)
    csp = _csp(response)
    script_src = csp.get("script-src", csp.get("default-src"))
    assert script_src, response.headers.get("Content-Security-Policy")
    assert "'unsafe-inline'" not in script_src
    assert csp.get("frame-ancestors") == ["'none'"]
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert response.headers.get("Referrer-Policy") in {
        "no-referrer",
        "same-origin",
        "strict-origin",
        "strict-origin-when-cross-origin",
    }


@pytest.mark.parametrize(
    ("path", "signed"),
    [
        ("/auth/login", False),
        ("/auth/register", False),
        ("/", False),
        ("/", True),
        ("/auth/password", True),
    ],
)
def test_do_pages_work_under_the_content_security_policy(client, company, owner, path, signed):
    """Do the pages avoid inline scripts, handlers and styles the CSP would block?"""
    if signed:
        login(client, owner, company)
    response = client.get(path)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body), "inline <script>"
    assert not re.search(r"\son[a-z]+\s*=", body), "inline event handler"
    assert not re.search(r"\sstyle\s*=", body), "inline style attribute"


@pytest.fixture
def csrf_on(app, monkeypatch):
    """Turn CSRF protection on for this test (the test profile has it off)."""
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)


def _csrf_token(response) -> str:
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', response.get_data(as_text=True))
    assert match
    return match.group(1)


def test_is_a_form_posted_without_csrf_token_refused(client, company, owner, csrf_on):
    """Is a sign-in posted without the CSRF token (e.g. from another site) refused kindly?"""
    english(client)
    response = sign_in(client, owner.email)
    assert response.status_code == 400
    assert "Reload the page" in error_page_message(response)
    assert not signed_in(client)


def test_can_another_site_sign_me_out(client, company, owner, csrf_on):
    """Can a forged form from another site sign me out?"""
    login(client, owner, company)
    assert client.post("/auth/logout").status_code == 400
    assert signed_in(client)


def test_is_the_csrf_token_accepted_from_the_htmx_header(client, company, owner, csrf_on):
    """Does a request carrying the token in X-CSRFToken (the htmx way) go through?"""
    token = _csrf_token(client.get("/auth/login"))
    response = sign_in(client, owner.email, headers={"X-CSRFToken": token, "HX-Request": "true"})
    assert response.status_code == 303
    assert signed_in(client)


def test_is_an_oversized_upload_refused_with_a_message(app, client, company, owner, monkeypatch):
    """Is a file over the size limit refused with 413 and a message, not an error?"""
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024)
    login(client, owner, company)
    english(client)

    response = client.post(
        "/network/invite/csv",
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(b"name,tax_id\n" + b"x" * 4096), "partners.csv")},
    )

    assert response.status_code == 413
    assert "too large" in error_page_message(response)


# ---------------------------------------------------------------------------------------------
# Where signing in (and other redirects a user can steer) may send me: only a page of this site

# ?next= as an attacker writes it in the link (already percent-encoded where shown).
HOSTILE_NEXT = [
    "%2F%09%2Fevil.example",  # /\t/ — Werkzeug drops the tab when it writes Location
    "/%09/evil.example",
    "%2F%0A%2Fevil.example",
    "%2F%0D%2Fevil.example",
    "/%0d%0aLocation:%20https://evil.example",  # header injection
    "%0d%0aSet-Cookie:%20session=evil",
    "/team/%0d%0aSet-Cookie:%20session=evil",
    "//evil.example",
    "%2F%2Fevil.example",
    "///evil.example",
    "////evil.example",
    "/%5Cevil.example",  # /\evil
    "%5C%5Cevil.example",
    "/%5C/evil.example",
    "%2F%5C%2Fevil.example",
    "/%2F/evil.example",  # decoded by us: ///evil
    "/%252F/evil.example",  # encoded twice
    "%252F%252Fevil.example",
    "%25252F%25252Fevil.example",  # three times
    "/%25%30%39/evil.example",  # %09 spelled with encoded digits
    "https://evil.example/x",
    "https:evil.example",
    "http:/evil.example",
    "HTTPS:%2F%2Fevil.example",
    "javascript:alert(1)",
    "JaVaScRiPt%3Aalert(document.domain)",
    "data:text/html,%3Cscript%3Ealert(1)%3C/script%3E",
    "%EF%BC%8F%EF%BC%8Fevil.example",  # full-width ／／
    "/%EF%BC%8Fevil.example",
    "%EF%BC%BC%EF%BC%BCevil.example",  # full-width ＼＼
    "/.//evil.example",
    "/./evil.example",
    "/../evil.example",
    "/%2e%2e/%2e%2e/evil.example",
    "/%20/evil.example",
    "%20//evil.example",
    "/%E2%80%8B/evil.example",  # zero-width space
    "/%C2%A0/evil.example",  # no-break space
    "/%00/evil.example",
    "http://127.0.0.1:5000/team/",  # absolute URL, even of this site
    "http://portal.test/team/",
    "//portal.test@evil.example/",
    "/@evil.example",
    "evil.example",
    "team/",
    "/" + "a" * 5000,
    "/team/?" + "x=" + "a" * 5000,
    "/auth/logout",  # a route, but not one a GET can land on
    "/no-such-page",
]


def assert_same_site(location: str) -> None:
    """Fail unless location is a path of this site that no browser could read as a host."""
    assert location, "no Location"
    assert not re.search(r"[\x00-\x20\x7f-\x9f\\]", location), repr(location)
    parts = urlsplit(location)
    assert (parts.scheme, parts.netloc) == ("", ""), repr(location)
    assert location.startswith("/") and not location.startswith("//"), repr(location)
    assert "evil" not in parts.path, repr(location)
    assert location.isascii(), repr(location)


@pytest.mark.parametrize("raw", HOSTILE_NEXT)
def test_does_signing_in_stay_on_this_site_whatever_next_says(client, company, owner, raw):
    """However ?next= is spelt or encoded, do I land on a page of this portal after signing in?"""
    response = client.post(
        f"/auth/login?next={raw}", data={"email": owner.email, "password": PASSWORD}
    )
    assert response.status_code == 303
    location = response.headers["Location"]
    assert_same_site(location)
    assert location == "/", f"{raw!r} → {location!r}"


@pytest.mark.parametrize(
    "target",
    ["/\t/evil.example", "/\\\\evil.example", "／／evil.example", "/\u2028/evil.example",
     "\t/team/", "/team/\n", "/team/\r\nSet-Cookie: a=b", "/team/\\"],
)
def test_are_raw_control_characters_and_backslashes_in_next_refused(client, company, owner,
                                                                     target):
    """Sent as characters (the client encodes them), are these refused too?"""
    response = client.post(
        "/auth/login", query_string={"next": target},
        data={"email": owner.email, "password": PASSWORD},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/inbox/received?status=x", "/inbox/received?status=x"),
        ("/inbox/received?q=caf%C3%A9&sort=-date", "/inbox/received?q=caf%C3%A9&sort=-date"),
        ("/inbox/received?q=a+b", "/inbox/received?q=a+b"),
        ("/team", "/team/"),  # the route's own spelling
        ("/team/#members", "/team/"),
        ("/team/?x=%0d%0aSet-Cookie:%20a=b", "/team/"),  # a path of ours, its unsafe query dropped
        ("/team/?next=//evil.example", "/team/?next=%2F%2Fevil.example"),  # only ever a value
        ("/no/such/route?x=1", "/"),
    ],
)
def test_does_next_keep_a_page_of_this_site_and_its_query(client, company, owner, target,
                                                          expected):
    """Does a legitimate ?next= survive (with its query when safe), and an unknown path not?"""
    response = client.post(
        "/auth/login", query_string={"next": target},
        data={"email": owner.email, "password": PASSWORD},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == expected
    assert_same_site(response.headers["Location"])


@pytest.mark.parametrize(
    ("referrer", "expected"),
    [
        ("https://evil.example/team/", "/"),
        ("http://portal.test.evil.example/team/", "/"),
        ("http://portal.test//evil.example", "/"),
        ("http://portal.test/%2F%09%2Fevil.example", "/"),
        ("http://portal.test/%5C%5Cevil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("http://portal.test/team/", "/team/"),
        ("http://portal.test/inbox/received?status=x", "/inbox/received?status=x"),
    ],
)
def test_does_changing_the_language_send_me_back_only_to_a_page_of_this_site(
    client, company, owner, referrer, expected
):
    """The language switch goes back where I came from (Referer): never to another site."""
    login(client, owner, company)
    response = client.post("/locale", data={"locale": "en"}, headers={"Referer": referrer})
    assert response.status_code == 303
    assert response.headers["Location"] == expected
