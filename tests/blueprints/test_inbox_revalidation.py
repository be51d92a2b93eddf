"""A repeat view of an unchanged tray is answered 304 Not Modified; any change shows at once.

The browser keeps a tray privately (``Cache-Control: private, no-cache``) with its ETag and asks
again with ``If-None-Match``; the portal answers 304 only while nothing the page shows changed
for that user, company, role, language and URL. Each test takes a page's ETag, changes something
the way the portal or a hand-written SQL statement would, and asks again: it must get the new
page (200 with another ETag). The tray version behind the ETag is kept by database triggers, so
these run on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select, text, update

from app.blueprints.inbox import routes
from app.extensions import db
from app.models import Company, Document, Membership, Partnership, SavedFilter, User, utcnow
from app.models.network import ACTIVE
from app.tenancy import unscoped
from tests.conftest import login, make_user
from tests.services.inbox_helpers import make_document

RECEIVED = "/inbox/received"


def get(client, path=RECEIVED, etag=None, **headers):
    if etag:
        headers["If-None-Match"] = etag
    return client.get(path, headers=headers)


def etag_of(client, path=RECEIVED, **headers) -> str:
    response = get(client, path, **headers)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-cache"
    return response.headers["ETag"]


def changed(client, etag, path=RECEIVED, **headers):
    """Ask again with etag: the page must come back whole, with another ETag."""
    response = get(client, path, etag, **headers)
    assert response.status_code == 200, "a 304 would show the browser's stale copy"
    assert response.headers["ETag"] != etag
    return response.get_data(as_text=True)


def numbers(body: str) -> list[str]:
    return re.findall(r'data-document="([^"]+)"', body)


# ---------------------------------------------------------------------------- the 304 itself


def test_is_a_repeat_view_of_an_unchanged_tray_answered_304(client, supplier, customer, buyer):
    make_document(supplier, customer, number="FV1")
    login(client, buyer, customer)
    etag = etag_of(client)
    assert etag.startswith('W/"')
    again = get(client, etag=etag)
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag
    assert again.headers["Cache-Control"] == "private, no-cache"
    assert "Cookie" in again.headers["Vary"] and "HX-Request" in again.headers["Vary"]


def test_do_other_pages_stay_no_store(client, customer, buyer):
    login(client, buyer, customer)
    response = client.get("/inbox/sent.csv")
    assert response.headers["Cache-Control"] == "no-store" and "ETag" not in response.headers
    response = client.get("/company/")
    assert response.headers["Cache-Control"] == "no-store" and "ETag" not in response.headers


def test_is_the_htmx_fragment_a_variant_of_its_own(client, supplier, customer, buyer):
    make_document(supplier, customer, number="FV1")
    login(client, buyer, customer)
    page = etag_of(client)
    fragment = etag_of(client, HX_Request="true")
    assert fragment != page
    body = changed(client, page, HX_Request="true")
    assert "<html" not in body and numbers(body) == ["FV1"]
    assert get(client, etag=fragment, HX_Request="true").status_code == 304


def test_does_each_url_have_its_own_etag(client, supplier, customer, buyer):
    make_document(supplier, customer, number="FV1")
    login(client, buyer, customer)
    plain = etag_of(client)
    assert changed(client, plain, RECEIVED + "?status=accepted")
    assert changed(client, plain, RECEIVED + "?sort=amount")
    assert changed(client, plain, "/inbox/sent")


def test_is_a_refused_filter_not_kept(client, customer, buyer):
    login(client, buyer, customer)
    response = client.get(RECEIVED + "?amount_min=abc")
    assert response.status_code == 422
    assert "ETag" not in response.headers and response.headers["Cache-Control"] == "no-store"


# ------------------------------------------------------------ every change shows at once


def test_does_a_new_document_show_instead_of_a_304(client, supplier, customer, buyer):
    make_document(supplier, customer, number="FV1")
    login(client, buyer, customer)
    etag = etag_of(client)
    make_document(supplier, customer, number="FV2", issue_date=dt.date(2024, 3, 16))
    assert numbers(changed(client, etag)) == ["FV2", "FV1"]


def test_does_a_status_changed_by_a_bulk_update_show(client, supplier, customer, buyer):
    document = make_document(supplier, customer, number="FV1")
    login(client, buyer, customer)
    etag = etag_of(client)
    # A statement that bypasses the ORM's objects, as bulk events and jobs do.
    db.session.execute(
        unscoped(update(Document).where(Document.id == document.id).values(status="accepted"))
    )
    db.session.commit()
    assert 'data-status="accepted"' in changed(client, etag)


def test_does_a_hand_written_sql_change_show(client, supplier, customer, buyer):
    document = make_document(supplier, customer, number="FV1", payable="100.00")
    login(client, buyer, customer)
    etag = etag_of(client)
    db.session.execute(
        text("UPDATE documents SET payable = 250 WHERE id = :id"), {"id": document.id}
    )
    db.session.commit()
    assert "250,00" in changed(client, etag)


def test_does_the_supplier_see_a_change_the_buyer_made_in_sent(client, supplier, customer):
    document = make_document(supplier, customer, number="FV1")
    seller = make_user(supplier, role="owner")
    login(client, seller, supplier)
    etag = etag_of(client, "/inbox/sent")
    db.session.execute(
        unscoped(update(Document).where(Document.id == document.id).values(status="claimed"))
    )
    db.session.commit()
    assert 'data-status="claimed"' in changed(client, etag, "/inbox/sent")


def test_does_a_new_or_renamed_partner_show_in_the_counterparty_filter(
    client, supplier, customer, buyer
):
    login(client, buyer, customer)
    etag = etag_of(client)
    db.session.add(
        Partnership(
            supplier_id=supplier.id,
            customer_id=customer.id,
            requested_by_id=customer.id,
            status=ACTIVE,
            responded_at=utcnow(),
        )
    )
    db.session.commit()
    assert "Proveedora" in changed(client, etag)
    etag = etag_of(client)
    db.session.get(Company, supplier.id).trade_name = "Proveedora Renombrada"
    db.session.commit()
    assert "Proveedora Renombrada" in changed(client, etag)


def test_does_a_saved_filter_show_when_added_and_go_when_deleted(client, customer, buyer):
    login(client, buyer, customer)
    etag = etag_of(client)
    response = client.post(
        "/inbox/filters", data={"tray": "received", "name": "Vencidas", "query": "overdue=y"}
    )
    assert response.status_code == 303
    client.get(RECEIVED)  # the page that shows (and so consumes) "Filter saved"
    assert 'data-saved-filter="Vencidas"' in changed(client, etag)
    etag = etag_of(client)
    saved = db.session.scalars(unscoped(select(SavedFilter))).one()
    assert client.post(f"/inbox/filters/{saved.id}/delete").status_code == 303
    client.get(RECEIVED)
    assert 'data-saved-filter="Vencidas"' not in changed(client, etag)


def test_does_overdue_follow_the_day(client, supplier, customer, buyer, monkeypatch):
    today = utcnow().date()
    make_document(supplier, customer, number="FV1", due_date=today + dt.timedelta(days=1))
    login(client, buyer, customer)
    etag = etag_of(client)
    later = utcnow() + dt.timedelta(days=3)
    monkeypatch.setattr(routes, "utcnow", lambda: later)
    assert "status-claimed" in changed(client, etag)  # now overdue


def test_does_the_header_follow_the_users_name_companies_and_confirmation(
    client, supplier, customer, buyer
):
    login(client, buyer, customer)
    etag = etag_of(client)
    db.session.get(User, buyer.id).name = "Ana M. Gómez Restrepo"
    db.session.commit()
    assert "Ana M. Gómez Restrepo" in changed(client, etag)
    etag = etag_of(client)
    db.session.add(Membership(company_id=supplier.id, user_id=buyer.id, role="viewer"))
    db.session.commit()
    assert 'id="company-switch"' in changed(client, etag)  # a second company: the switcher
    etag = etag_of(client)
    db.session.get(User, buyer.id).email_confirmed_at = None
    db.session.commit()
    assert "/confirm/resend" in changed(client, etag)


def test_is_a_flashed_message_never_kept(client, customer, buyer):
    login(client, buyer, customer)
    response = client.post(
        "/inbox/filters", data={"tray": "received", "name": "Abiertas", "query": ""}
    )
    assert response.status_code == 303
    shown = client.get(RECEIVED)
    assert 'class="toast toast-success"' in shown.get_data(as_text=True)
    assert "ETag" not in shown.headers and shown.headers["Cache-Control"] == "no-store"
    assert "toast toast-" not in client.get(RECEIVED).get_data(as_text=True)


# ------------------------------------------------- per user, role, language, session, company


def test_does_each_user_get_their_own_etag(client, app, customer, buyer):
    colleague = make_user(customer, role="payables")
    db.session.add(
        SavedFilter(
            company_id=customer.id, user_id=buyer.id, tray="received", name="Mías", query=""
        )
    )
    db.session.commit()
    login(client, buyer, customer)
    etag = etag_of(client)
    other = app.test_client()
    login(other, colleague, customer)
    body = changed(other, etag)  # the same company and role: still not the buyer's page
    assert 'data-saved-filter="Mías"' not in body


def test_does_a_viewer_not_get_the_clerks_page(client, app, supplier, customer, buyer):
    make_document(supplier, customer, number="FV1")
    login(client, buyer, customer)
    etag = etag_of(client)
    viewer = make_user(customer, role="viewer")
    other = app.test_client()
    login(other, viewer, customer)
    assert 'value="acknowledge"' not in changed(other, etag)


def test_does_a_new_role_change_the_etag_of_the_same_session(client, supplier, customer, buyer):
    make_document(supplier, customer, number="FV1")
    login(client, buyer, customer)
    etag = etag_of(client)
    membership = db.session.scalars(
        unscoped(select(Membership).where(Membership.user_id == buyer.id))
    ).one()
    membership.role = "viewer"
    db.session.commit()
    assert 'value="acknowledge"' not in changed(client, etag)


def test_does_the_language_change_the_etag(client, customer, buyer):
    login(client, buyer, customer)
    etag = etag_of(client)
    client.post("/locale", data={"locale": "en"})
    body = changed(client, etag)
    assert 'lang="en"' in body and ">Received<" in body


def test_does_a_new_session_get_the_page_with_its_own_csrf_token(
    app, client, supplier, customer, buyer, monkeypatch
):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    document = make_document(supplier, customer, number="FV1")
    login(client, buyer, customer)
    etag = etag_of(client)
    second = app.test_client()
    login(second, buyer, customer)  # the same user, another session (another browser)
    body = changed(second, etag)
    token = re.search(r'name="csrf_token" value="([^"]+)"', body).group(1)
    response = second.post(
        "/inbox/bulk",
        data={
            "csrf_token": token,
            "tray": "received",
            "action": "download",
            "document_ids": str(document.id),
        },
    )
    assert response.status_code == 200 and response.mimetype == "application/zip"


@pytest.mark.parametrize("path", [RECEIVED, "/inbox/sent"])
def test_is_a_304_never_given_to_another_company(
    client, app, supplier, customer, buyer, outsider, other_company, path
):
    make_document(supplier, customer, number="PRIV1")
    login(client, buyer, customer)
    etag = etag_of(client, path)
    other = app.test_client()
    login(other, outsider, other_company)
    body = changed(other, etag, path)  # the buyer's ETag, presented by another company
    assert "PRIV1" not in body
    assert get(other, path, etag=etag, HX_Request="true").status_code == 200


def test_does_switching_company_change_the_etag(client, supplier, customer, buyer):
    make_document(supplier, customer, number="FV1")
    db.session.add(Membership(company_id=supplier.id, user_id=buyer.id, role="owner"))
    db.session.commit()
    login(client, buyer, customer)
    etag = etag_of(client)
    assert client.post("/switch-company", data={"company_id": supplier.id}).status_code == 303
    client.get("/")  # the page that shows "You are now working as …"
    assert numbers(changed(client, etag)) == []  # the supplier received nothing


def test_does_signing_out_clear_the_browsers_copies(client, customer, buyer):
    login(client, buyer, customer)
    etag_of(client)
    response = client.post("/auth/logout")
    assert response.headers["Clear-Site-Data"] == '"cache"'
