"""Irreversible actions ask first (app/web/confirm.py): a POST without confirm=1 answers a page
naming what will happen and records nothing; the form on that page (CSRF token included) does it.
With JavaScript the same question comes as a <dialog> fragment."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from app.extensions import db
from app.models import Document, DocumentEvent, Membership
from app.services.lifecycle import transitions
from app.tenancy import acting_as, unscoped
from tests.blueprints.test_issuing import configure, invoice_data
from tests.conftest import give_fiscal_profile, login, make_company, make_user
from tests.services.inbox_helpers import give_certificate, signed_invoice, submit

pytestmark = pytest.mark.usefixtures("no_official_rules")


@pytest.fixture
def supplier():
    company = make_company("Proveedora Andina")
    give_certificate(company)
    return give_fiscal_profile(company)


@pytest.fixture
def customer():
    company = make_company("Compradora Confirma")
    give_certificate(company)
    return company


@pytest.fixture
def buyer(customer):
    return make_user(customer, role="owner", name="Bea Compras", locale="en")


def delivered(supplier, customer, number, *codes):
    seller = make_user(supplier, role="owner")
    result = submit(supplier, seller, signed_invoice(supplier, customer.tax_id, number=number))
    assert result.accepted, result.findings
    document = result.document
    clerk = make_user(customer, role="payables")
    with acting_as(customer.id, clerk.id):
        for code in codes:
            transitions.record_event(customer.id, document_id=document.id, code=code, actor=clerk)
        db.session.commit()
    return document


def status_of(document_id) -> str:
    return db.session.scalars(
        unscoped(select(Document.status).where(Document.id == document_id))
    ).one()


def event_count() -> int:
    return len(db.session.scalars(unscoped(select(DocumentEvent.id))).all())


@dataclass
class Action:
    """One irreversible action as a browser posts it, and how to tell it was done."""

    client: Any
    url: str
    data: dict
    consequence: str
    done: Any  # () -> bool


def accept(client, supplier, customer):
    document = delivered(supplier, customer, "SETP1", "030", "032")
    login(client, make_user(customer, role="payables", locale="en"), customer)
    return Action(
        client,
        f"/documents/{document.id}/events",
        {"code": "033"},
        "Acceptance is final and is sent to the supplier.",
        lambda: status_of(document.id) == "accepted",
    )


def claim(client, supplier, customer):
    document = delivered(supplier, customer, "SETP2", "030", "032")
    login(client, make_user(customer, role="payables", locale="en"), customer)
    return Action(
        client,
        f"/documents/{document.id}/events",
        {"code": "031", "claim_reason": "02", "note": "Faltan 3 cajas <b>hoy</b>"},
        "A claim is sent to the supplier and opens a dispute.",
        lambda: status_of(document.id) == "claimed",
    )


def bulk_accept(client, supplier, customer):
    first = delivered(supplier, customer, "SETP3")
    second = delivered(supplier, customer, "SETP4", "030")
    login(client, make_user(customer, role="payables", locale="en"), customer)
    return Action(
        client,
        "/inbox/bulk",
        {"action": "accept", "tray": "received", "document_ids": [first.id, second.id]},
        "Acceptance is final and is sent to the supplier.",
        lambda: {status_of(first.id), status_of(second.id)} == {"accepted"},
    )


def deactivate(client, supplier, customer):
    owner = make_user(customer, role="owner", locale="en")
    colleague = make_user(customer, role="payables", name="Dora Despachos")
    membership = db.session.scalars(
        unscoped(select(Membership).where(Membership.user_id == colleague.id))
    ).one()
    login(client, owner, customer)
    return Action(
        client,
        f"/team/members/{membership.id}/deactivate",
        {},
        "Dora Despachos loses access at once.",
        lambda: (
            not db.session.scalars(
                unscoped(select(Membership.active).where(Membership.id == membership.id))
            ).one()
        ),
    )


def sign_and_send(client, supplier, customer):
    clerk = make_user(supplier, role="receivables", locale="en")
    login(client, clerk, supplier)
    configure(client)
    data = {k: v for k, v in invoice_data(customer).items() if k != "confirm"}
    return Action(
        client,
        "/issue/invoice",
        data,
        f"The invoice is signed and sent to {customer.legal_name} "
        f"({customer.tax_id}); it cannot be edited afterwards.",
        lambda: (
            db.session.scalars(unscoped(select(Document).where(Document.number == "FE1"))).first()
            is not None
        ),
    )


ACTIONS = {
    "express acceptance (033)": accept,
    "claim (031)": claim,
    "bulk accept": bulk_accept,
    "deactivate a member": deactivate,
    "sign and send": sign_and_send,
}


def csrf_of(client) -> str:
    page = client.get("/team/").get_data(as_text=True)
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)


def hidden_fields(body: str) -> list[tuple[str, str]]:
    form = re.search(
        r'<form method="post" action="([^"]+)" data-testid="confirm-form".*?</form>', body, re.S
    )
    assert form, body[-2000:]
    return [
        (html.unescape(n), html.unescape(v))
        for n, v in re.findall(
            r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form.group(0)
        )
    ]


@pytest.mark.parametrize("name", ACTIONS)
def test_does_the_action_ask_first_and_do_it_only_when_confirmed(
    app, client, supplier, customer, monkeypatch, name
):
    action = ACTIONS[name](client, supplier, customer)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    token = csrf_of(client)
    events_before = event_count()

    asked = client.post(action.url, data={**action.data, "csrf_token": token})
    body = asked.get_data(as_text=True)
    assert asked.status_code == 200, body[-2000:]
    assert "data-confirm-page" in body and html.escape(action.consequence, quote=False) in body
    assert not action.done() and event_count() == events_before

    # The page's form posts the same fields again, with the CSRF token and confirm=1.
    fields = hidden_fields(body)
    assert ("confirm", "1") in fields
    tokens = [v for k, v in fields if k == "csrf_token"]
    assert len(tokens) == 1 and tokens[0].split(".")[0] == token.split(".")[0]  # this session's
    posted = [
        (k, str(v))
        for k, values in action.data.items()
        for v in (values if isinstance(values, list) else [values])
    ]
    assert sorted(f for f in fields if f[0] not in ("confirm", "csrf_token")) == sorted(posted)

    without_token = client.post(
        action.url, data=MultiDict([f for f in fields if f[0] != "csrf_token"])
    )
    assert without_token.status_code == 400 and not action.done()

    done = client.post(action.url, data=MultiDict(fields))
    assert done.status_code in (200, 302, 303), done.get_data(as_text=True)[-2000:]
    assert action.done()


@pytest.mark.parametrize("name", ACTIONS)
def test_does_javascript_get_the_question_as_an_accessible_dialog(client, supplier, customer, name):
    action = ACTIONS[name](client, supplier, customer)
    asked = client.post(
        action.url, data=action.data, headers={"HX-Request": "true", "X-Confirm": "ask"}
    )
    body = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "<html" not in body
    assert body.count("<dialog") == 1 and "data-confirm-dialog" in body
    assert 'aria-labelledby="confirm-title"' in body and 'id="confirm-title"' in body
    assert 'aria-describedby="confirm-consequence"' in body
    assert re.search(r"<button type=\"button\"[^>]*data-confirm-cancel[^>]*autofocus", body)
    assert html.escape(action.consequence, quote=False) in body
    assert not action.done()


def test_is_markup_in_what_is_re_posted_escaped(client, supplier, customer):
    action = claim(client, supplier, customer)
    body = client.post(action.url, data=action.data).get_data(as_text=True)
    assert "<b>hoy</b>" not in body and "&lt;b&gt;hoy&lt;/b&gt;" in body


def test_does_a_bulk_acknowledgement_need_no_question(client, supplier, customer):
    """Nothing final nor unchosen: the dialog probe answers 204 and nothing is recorded."""
    document = delivered(supplier, customer, "SETP9")
    login(client, make_user(customer, role="payables", locale="en"), customer)
    data = {"action": "acknowledge", "tray": "received", "document_ids": [document.id]}
    probe = client.post("/inbox/bulk", data=data, headers={"X-Confirm": "ask"})
    assert probe.status_code == 204 and status_of(document.id) == "received"
    done = client.post("/inbox/bulk", data=data)
    assert done.status_code == 200 and status_of(document.id) == "acknowledged"


def test_is_nothing_asked_for_an_action_that_would_be_refused(client, supplier, customer):
    """An event the lifecycle refuses says why at once, rather than asking first."""
    document = delivered(supplier, customer, "SETP10")
    login(client, make_user(customer, role="payables", locale="en"), customer)
    refused = client.post(f"/documents/{document.id}/events", data={"code": "033"})
    assert refused.status_code == 422 and "data-confirm-page" not in refused.get_data(as_text=True)
    missing = client.post(
        f"/documents/{document.id}/events", data={"code": "031", "claim_reason": "", "note": ""}
    )
    assert missing.status_code == 422 and status_of(document.id) == "received"


def test_are_the_buttons_marked_to_ask_in_the_browser(client, supplier, customer):
    document = delivered(supplier, customer, "SETP11", "030", "032")
    owner = make_user(customer, role="owner", locale="en")
    make_user(customer, role="viewer", name="Vic Vista")
    login(client, owner, customer)
    page = client.get(f"/documents/{document.id}").get_data(as_text=True)
    assert re.search(
        r'<form [^>]*data-confirm>\s*<input[^>]*>\s*<input type="hidden" '
        r'name="code" value="033">',
        page,
    )
    assert re.search(
        r'<form [^>]*data-confirm>\s*<input[^>]*>\s*<input type="hidden" '
        r'name="code" value="031">',
        page,
    )
    team = client.get("/team/").get_data(as_text=True)
    assert re.search(
        r'action="/team/members/\d+/deactivate" class="inline-form" data-confirm', team
    )
    tray = client.get("/inbox/received").get_data(as_text=True)
    assert re.search(r'value="accept"[^>]*data-confirm', tray)
    seller = make_user(supplier, role="receivables", locale="en")
    give_fiscal_profile(supplier)  # the form is shown to a company that can issue
    login(client, seller, supplier)
    configure(client)
    issue = client.get("/issue/invoice").get_data(as_text=True)
    assert re.search(r'<button type="submit" data-confirm data-testid="sign-and-send"', issue)


def test_does_app_js_drive_the_dialog(app):
    """The dialog is shown modally, Escape (the dialog's cancel) closes it, focus returns."""
    with app.open_resource("static/js/app.js") as f:
        script = f.read().decode()
    for needle in (
        "showModal()",
        '"X-Confirm": "ask"',
        "data-confirm-cancel",
        "returnTo.focus()",
        "stopImmediatePropagation",
        'addEventListener("close"',
    ):
        assert needle in script, needle
