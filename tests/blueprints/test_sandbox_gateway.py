"""Can a payer, with or without an account, decide a test payment on the sandbox gateway's
hosted page — on a phone, with a keyboard — and go back to the portal, once and only once?"""

from __future__ import annotations

import re

import pytest

from app.jobs import tasks
from tests.services.sandbox_helpers import Receiver, charge, new_charge, open_account

ENGLISH = {"Accept-Language": "en"}
DONE = "https://portal.test/payments/1/done"
CANCELED = "https://portal.test/payments/1/canceled"


@pytest.fixture
def portal(monkeypatch):
    """The portal's receiver, as the job layer hands it to the sandbox."""
    receiver = Receiver()
    monkeypatch.setattr(tasks, "send_to_portal", receiver)
    return receiver


@pytest.fixture
def opened(portal):
    return new_charge(open_account())


def url(opened, suffix: str = "") -> str:
    return f"/sandbox-gateway/checkout/{opened.charge_id}{suffix}"


def page(client, opened, *, headers=ENGLISH):
    response = client.get(url(opened), headers=headers)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def decide(client, opened, outcome, **form):
    return client.post(url(opened), data={"outcome": outcome, **form}, headers=ENGLISH)


# ---------------------------------------------------------------------------------- the page


def test_does_the_payer_see_a_test_payment_with_its_amount_and_lines(client, opened):
    body = page(client, opened)
    assert "Sandbox gateway" in body and "Test payments, no real money" in body
    assert "Payment to Proveedora Andina" in body
    assert "COP\xa0150,000.00" in body
    assert body.count("COP\xa075,000.00") == 2
    assert "Invoice FE-101" in body and "Invoice FE-102" in body


def test_does_the_page_speak_spanish_to_a_spanish_browser(client, opened):
    body = page(client, opened, headers={"Accept-Language": "es"})
    assert "Pruebas sin dinero real" in body
    assert "$\xa0150.000,00" in body
    assert ">Aprobar</button>" in body


def test_is_the_page_plain_html_that_fits_a_phone_and_a_keyboard(client, opened):
    """At 390 px: the viewport is the device's, nothing but a form of real buttons (Tab and
    Enter), no scripts or inline styles (CSP)."""
    body = page(client, opened)
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in body
    assert "<script" not in body
    assert not re.search(r"\sstyle\s*=|<style", body)
    assert not re.search(r"\son[a-z]+\s*=", body)
    assert re.search(r'<form method="post" action="/sandbox-gateway/checkout/[^"]+">', body)
    buttons = re.findall(
        r'<button type="submit" name="outcome" value="([a-z_]+)"[^>]*>([^<]+)<', body
    )
    assert buttons == [
        ("approve", "Approve"),
        ("decline", "Decline"),
        ("pending", "Pending (approved later)"),
        ("pending_decline", "Pending (declined later)"),
        ("challenge", "3-D Secure challenge"),
        ("cancel", "Cancel and go back"),
    ]
    assert 'name="csrf_token"' in body
    assert re.findall(r'type="radio" name="method" value="(\w+)"', body) == ["card", "pse"]
    assert "<legend>Pay with</legend>" in body


def test_does_the_page_need_no_sign_in(client, opened):
    response = client.get(url(opened))
    assert response.status_code == 200 and "/auth/login" not in response.headers.get("Location", "")


def test_is_an_unknown_checkout_not_found(client, opened):
    for method in ("get", "post"):
        response = getattr(client, method)(
            "/sandbox-gateway/checkout/ch_forged", data={"outcome": "approve"}, headers=ENGLISH
        )
        assert response.status_code == 404
    assert client.post("/sandbox-gateway/checkout/ch_forged/challenge").status_code == 404


# -------------------------------------------------------------------------------- deciding


@pytest.mark.parametrize(
    ("outcome", "status", "back_to", "event"),
    [
        ("approve", "succeeded", DONE, "charge.succeeded"),
        ("decline", "failed", CANCELED, "charge.failed"),
        ("pending", "pending", DONE, "charge.pending"),
        ("pending_decline", "pending", DONE, "charge.pending"),
        ("cancel", "canceled", CANCELED, "charge.canceled"),
    ],
)
def test_does_the_payers_choice_decide_and_send_them_back(
    client, opened, portal, outcome, status, back_to, event
):
    response = decide(client, opened, outcome)
    assert response.status_code == 303
    assert response.headers["Location"] == back_to  # nothing appended
    assert charge(opened.charge_id).status == status
    assert portal.types() == [event]


def test_is_the_method_the_payer_chose_kept(client, opened, portal):
    decide(client, opened, "approve", method="pse")
    assert charge(opened.charge_id).method == "pse"
    assert portal.events()[0]["data"]["charge"]["method"] == "pse"


def test_is_a_double_submission_decided_once(client, opened, portal):
    first = decide(client, opened, "approve")
    second = decide(client, opened, "decline")
    assert first.headers["Location"] == DONE
    assert second.status_code == 303 and second.headers["Location"].endswith(url(opened))
    assert charge(opened.charge_id).status == "succeeded"
    assert portal.types() == ["charge.succeeded"]
    body = page(client, opened)
    assert "Payment approved" in body and "cannot be decided again" in body
    assert 'name="outcome"' not in body
    assert f'href="{DONE}"' in body


def test_does_a_declined_payment_show_its_result(client, opened):
    decide(client, opened, "decline")
    body = page(client, opened)
    assert "Payment declined" in body and f'href="{CANCELED}"' in body


def test_does_a_pending_payment_say_the_bank_will_confirm(client, opened):
    decide(client, opened, "pending")
    assert "Payment pending" in page(client, opened)


@pytest.mark.parametrize("outcome", ["", "steal", "approve'; DROP", "APPROVE"])
def test_is_an_outcome_not_offered_refused_with_a_message(client, opened, portal, outcome):
    response = decide(client, opened, outcome)
    assert response.status_code == 400
    assert "Choose one of the outcomes offered." in response.get_data(as_text=True)
    assert charge(opened.charge_id).status == "open"
    assert portal.received == []


def test_is_a_method_not_offered_refused_with_a_message(client, opened):
    response = decide(client, opened, "approve", method="cash")
    assert response.status_code == 400
    assert "Choose one of the payment methods offered." in response.get_data(as_text=True)
    assert charge(opened.charge_id).status == "open"


# ------------------------------------------------------------------------------ 3-D Secure


def test_does_a_challenge_ask_for_the_code_and_pass_with_it(client, opened, portal):
    response = decide(client, opened, "challenge")
    assert response.status_code == 303 and response.headers["Location"].endswith(url(opened))
    body = page(client, opened)
    assert "3-D Secure verification" in body
    assert f'action="{url(opened, "/challenge")}"' in body
    assert '<label for="code">Verification code</label>' in body
    assert 'name="outcome"' not in body
    assert portal.types() == ["charge.pending"]
    response = client.post(url(opened, "/challenge"), data={"code": "123456"}, headers=ENGLISH)
    assert (response.status_code, response.headers["Location"]) == (303, DONE)
    assert charge(opened.charge_id).status == "succeeded"
    assert portal.types() == ["charge.pending", "charge.succeeded"]


def test_does_a_wrong_code_fail_the_payment(client, opened, portal):
    decide(client, opened, "challenge")
    response = client.post(url(opened, "/challenge"), data={"code": "000000"}, headers=ENGLISH)
    assert (response.status_code, response.headers["Location"]) == (303, CANCELED)
    assert charge(opened.charge_id).status == "failed"
    again = client.post(url(opened, "/challenge"), data={"code": "123456"}, headers=ENGLISH)
    assert again.status_code == 303 and again.headers["Location"].endswith(url(opened))
    assert charge(opened.charge_id).status == "failed"
    assert portal.types() == ["charge.pending", "charge.failed"]


def test_is_an_empty_code_asked_again(client, opened):
    decide(client, opened, "challenge")
    response = client.post(url(opened, "/challenge"), data={"code": ""}, headers=ENGLISH)
    assert response.status_code == 400
    assert "Type the code." in response.get_data(as_text=True)
    assert charge(opened.charge_id).status == "challenge"


# ------------------------------------------------------------------------------------- CSRF


def test_is_a_decision_posted_from_another_site_refused(app, client, opened, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    assert decide(client, opened, "approve").status_code == 400
    assert charge(opened.charge_id).status == "open"
    token = re.search(r'name="csrf_token" value="([^"]+)"', page(client, opened)).group(1)
    response = decide(client, opened, "approve", csrf_token=token)
    assert response.status_code == 303
    assert charge(opened.charge_id).status == "succeeded"


def test_is_the_page_kept_out_of_caches_and_frames(client, opened):
    response = client.get(url(opened))
    assert "no-store" in response.headers["Cache-Control"]
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
