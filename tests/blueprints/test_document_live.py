"""The document page follows its status live: the lifecycle fragment, re-fetched when the socket
says a document changed, brings the header's status badge (out of band) and the buttons the new
status allows, on both parties' pages."""

from __future__ import annotations

import re

import pytest

from app.extensions import db
from app.services.lifecycle import transitions
from app.tenancy import acting_as
from tests.conftest import login, make_company, make_user
from tests.services.inbox_helpers import give_certificate, signed_invoice, submit

pytestmark = pytest.mark.usefixtures("no_official_rules")
HTMX = {"HX-Request": "true"}


@pytest.fixture
def parties():
    supplier, customer = make_company("Proveedora Viva"), make_company("Compradora Viva")
    give_certificate(supplier)
    give_certificate(customer)
    seller = make_user(supplier, role="owner", locale="en")
    buyer = make_user(customer, role="owner", locale="en")
    result = submit(supplier, seller, signed_invoice(supplier, customer.tax_id))
    assert result.accepted, result.findings
    return supplier, seller, customer, buyer, result.document


def record(company, user, document, code):
    with acting_as(company.id, user.id):
        transitions.record_event(company.id, document_id=document.id, code=code, actor=user)
        db.session.commit()


def header_status(body: str) -> str:
    line = re.search(r'<p id="document-status-line"[^>]*>.*?</p>', body, re.S)
    assert line, body[:2000]
    return re.search(r'data-status="(\w+)"', line.group(0)).group(1)


@pytest.mark.parametrize("side", ["supplier", "customer"])
def test_does_the_header_badge_follow_an_event_recorded_elsewhere(client, parties, side):
    supplier, seller, customer, buyer, document = parties
    login(client, *((seller, supplier) if side == "supplier" else (buyer, customer)))
    page = client.get(f"/documents/{document.id}").get_data(as_text=True)
    assert header_status(page) == "received" and page.count('<p id="document-status-line"') == 1
    assert "hx-swap-oob" not in page  # the page itself has the badge once, in its header
    lifecycle_tag = re.search(r'<article id="lifecycle"[^>]*>', page).group(0)
    assert f'hx-get="/documents/{document.id}"' in lifecycle_tag
    assert 'hx-trigger="document-changed from:body"' in lifecycle_tag

    colleague = make_user(customer, role="payables")
    for code, status in (("030", "acknowledged"), ("032", "goods_received"), ("033", "accepted")):
        record(customer, colleague, document, code)
        fragment = client.get(f"/documents/{document.id}", headers=HTMX).get_data(as_text=True)
        assert "<html" not in fragment and 'id="lifecycle"' in fragment
        oob = re.search(r'<p id="document-status-line"[^>]*>', fragment).group(0)
        assert 'hx-swap-oob="true"' in oob
        assert header_status(fragment) == status
        assert f'data-event="{code}"' in fragment


def test_do_the_buyers_buttons_follow_the_status(client, parties):
    supplier, seller, customer, buyer, document = parties
    login(client, buyer, customer)
    fragment = client.get(f"/documents/{document.id}", headers=HTMX).get_data(as_text=True)
    assert 'data-event-button="030"' in fragment
    colleague = make_user(customer, role="payables")
    record(customer, colleague, document, "030")
    record(customer, colleague, document, "032")
    fragment = client.get(f"/documents/{document.id}", headers=HTMX).get_data(as_text=True)
    assert 'data-event-button="030"' not in fragment
    assert 'data-event-button="033"' in fragment and 'data-event-button="031"' in fragment
    record(customer, colleague, document, "033")
    fragment = client.get(f"/documents/{document.id}", headers=HTMX).get_data(as_text=True)
    assert "data-event-button" not in fragment


def test_is_a_live_refresh_not_an_audited_view(client, parties):
    from sqlalchemy import func, select

    from app.models import AuditEvent
    from app.tenancy import unscoped

    supplier, seller, customer, buyer, document = parties
    login(client, buyer, customer)

    def views():
        return db.session.scalar(
            unscoped(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "document.viewed")
            )
        )

    before = views()
    client.get(f"/documents/{document.id}", headers=HTMX)
    assert views() == before
