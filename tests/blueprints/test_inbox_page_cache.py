"""The Inbox keeps rendered tray pages while nothing they show changed: every change shows at once.

Each test loads a tray (so it is kept), changes something the way the portal or a hand-written
SQL statement would, and loads it again: the change must be there. The tray version behind the
keys is kept by database triggers, so these run on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select, text, update

from app.blueprints.inbox import routes
from app.extensions import db
from app.models import Company, Document, Partnership, SavedFilter, TrayVersion, utcnow
from app.models.network import ACTIVE
from app.services.documents import trays
from app.tenancy import unscoped
from app.web.fragments import CSRF_PLACEHOLDER
from tests.conftest import login, make_company, make_user
from tests.services.inbox_helpers import make_document


def page(client, path="/inbox/received", **headers):
    response = client.get(path, headers=headers)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def numbers(body: str) -> list[str]:
    return re.findall(r'data-document="([^"]+)"', body)


def without_tokens(body: str) -> str:
    """The page without its CSRF tokens (signed with the time, so they change every second)."""
    return re.sub(r'(csrf_token" value="|csrf-token" content=")[^"]+', r"\1", body)


def version(company) -> int:
    return trays.version(company.id)


def test_is_a_kept_page_served_again_while_nothing_changed(client, supplier, customer, buyer):
    make_document(supplier, customer, number="FV1")
    login(client, buyer, customer)
    first = page(client)
    assert len(routes.PAGES) == 1
    assert without_tokens(page(client)) == without_tokens(first)
    assert len(routes.PAGES) == 1  # served, not rendered again


def test_does_a_new_document_appear_on_a_kept_page(client, supplier, customer, buyer):
    make_document(supplier, customer, number="FV1")
    login(client, buyer, customer)
    assert numbers(page(client)) == ["FV1"]
    make_document(supplier, customer, number="FV2", issue_date=dt.date(2024, 3, 16))
    assert numbers(page(client)) == ["FV2", "FV1"]
    assert numbers(page(client, HX_Request="true")) == ["FV2", "FV1"]


def test_does_a_status_changed_by_a_bulk_update_show(client, supplier, customer, buyer):
    document = make_document(supplier, customer, number="FV1")
    login(client, buyer, customer)
    assert 'data-status="pending"' in page(client)
    # A statement that bypasses the ORM's objects, as bulk events and jobs do.
    db.session.execute(
        unscoped(update(Document).where(Document.id == document.id).values(status="accepted"))
    )
    db.session.commit()
    body = page(client)
    assert 'data-status="accepted"' in body and 'data-status="pending"' not in body


def test_does_a_hand_written_sql_change_show(client, supplier, customer, buyer):
    document = make_document(supplier, customer, number="FV1", payable="100.00")
    login(client, buyer, customer)
    assert "100,00" in page(client)
    db.session.execute(
        text("UPDATE documents SET payable = 250 WHERE id = :id"), {"id": document.id}
    )
    db.session.commit()
    assert "250,00" in page(client)


def test_does_the_supplier_see_in_sent_a_document_the_buyer_changed(
    client, supplier, customer, buyer
):
    document = make_document(supplier, customer, number="FV1")
    seller = make_user(supplier, role="owner")
    login(client, seller, supplier)
    assert 'data-status="pending"' in page(client, "/inbox/sent")
    before = version(supplier)
    db.session.execute(
        unscoped(update(Document).where(Document.id == document.id).values(status="claimed"))
    )
    db.session.commit()
    assert version(supplier) > before
    assert 'data-status="claimed"' in page(client, "/inbox/sent")


def test_does_a_new_partner_and_a_renamed_one_show_in_the_counterparty_filter(
    client, supplier, customer, buyer
):
    login(client, buyer, customer)
    assert "Proveedora" not in page(client)
    db.session.add(Partnership(supplier_id=supplier.id, customer_id=customer.id,
                               requested_by_id=customer.id, status=ACTIVE,
                               responded_at=utcnow()))
    db.session.commit()
    assert "Proveedora" in page(client)
    company = db.session.get(Company, supplier.id)
    company.trade_name = "Proveedora Renombrada"
    db.session.commit()
    body = page(client)
    assert "Proveedora Renombrada" in body


def test_does_a_saved_filter_appear_and_go_on_a_kept_page(client, customer, buyer):
    login(client, buyer, customer)
    assert "data-saved-filter" not in page(client)
    response = client.post("/inbox/filters", data={"tray": "received", "name": "Vencidas",
                                                   "query": "overdue=y"})
    assert response.status_code == 303
    assert 'data-saved-filter="Vencidas"' in page(client)
    saved = db.session.scalars(unscoped(select(SavedFilter))).one()
    assert client.post(f"/inbox/filters/{saved.id}/delete").status_code == 303
    assert 'data-saved-filter="Vencidas"' not in page(client)


def test_does_each_user_get_their_own_saved_filters(client, app, customer, buyer):
    colleague = make_user(customer, role="payables")
    db.session.add(SavedFilter(company_id=customer.id, user_id=buyer.id, tray="received",
                               name="Mías", query=""))
    db.session.commit()
    login(client, buyer, customer)
    assert 'data-saved-filter="Mías"' in page(client)
    other = app.test_client()
    login(other, colleague, customer)
    assert 'data-saved-filter="Mías"' not in page(other)


def test_does_a_viewer_not_get_the_payables_clerks_buttons(
    client, app, supplier, customer, buyer
):
    make_document(supplier, customer, number="FV1")
    viewer = make_user(customer, role="viewer")
    login(client, buyer, customer)
    assert 'value="acknowledge"' in page(client)
    other = app.test_client()
    login(other, viewer, customer)
    body = page(other)
    assert 'value="acknowledge"' not in body


def test_does_another_company_never_get_a_kept_page(
    client, app, supplier, customer, buyer, outsider, other_company
):
    make_document(supplier, customer, number="PRIV1")
    login(client, buyer, customer)
    assert numbers(page(client)) == ["PRIV1"]
    other = app.test_client()
    login(other, outsider, other_company)
    assert numbers(page(other)) == []


def test_does_overdue_follow_the_day_on_a_kept_page(
    client, supplier, customer, buyer, monkeypatch
):
    today = utcnow().date()
    make_document(supplier, customer, number="FV1", due_date=today + dt.timedelta(days=1))
    login(client, buyer, customer)
    assert "status-claimed" not in page(client)  # not overdue yet
    later = utcnow() + dt.timedelta(days=3)
    monkeypatch.setattr(routes, "utcnow", lambda: later)
    assert "status-claimed" in page(client)


def test_does_each_session_get_its_own_csrf_token_and_can_post_with_it(
    app, client, supplier, customer, buyer, monkeypatch
):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    document = make_document(supplier, customer, number="FV1")
    second = app.test_client()
    login(client, buyer, customer)
    login(second, buyer, customer)
    tokens = []
    for c in (client, second):
        body = page(c)
        assert CSRF_PLACEHOLDER not in body
        token = re.search(r'name="csrf_token" value="([^"]+)"', body).group(1)
        meta = re.search(r'<meta name="csrf-token" content="([^"]+)"', body).group(1)
        assert token.split(".")[0] == meta.split(".")[0]  # the session's own token
        tokens.append(token)
    assert len(routes.PAGES) == 1  # one rendering served to both sessions
    assert tokens[0].split(".")[0] != tokens[1].split(".")[0]
    response = second.post("/inbox/bulk", data={
        "csrf_token": tokens[1], "tray": "received", "action": "download",
        "document_ids": str(document.id),
    })
    assert response.status_code == 200 and response.mimetype == "application/zip"
    refused = second.post("/inbox/bulk", data={
        "csrf_token": tokens[0], "tray": "received", "action": "download",
        "document_ids": str(document.id),
    })
    assert refused.status_code == 400  # the other session's token is not this one's


def test_does_a_page_render_every_time_with_the_cache_off(
    app, client, supplier, customer, buyer, monkeypatch
):
    monkeypatch.setitem(app.config, "INBOX_PAGE_CACHE_SIZE", 0)
    make_document(supplier, customer, number="FV1")
    login(client, buyer, customer)
    assert numbers(page(client)) == ["FV1"]
    assert len(routes.PAGES) == 0


def test_does_every_kind_of_change_raise_the_tray_version(supplier, customer, buyer):
    stranger = make_company("Ajena")
    assert version(customer) == 0
    document = make_document(supplier, customer)
    after_insert = (version(supplier), version(customer))
    assert after_insert[0] >= 1 and after_insert[1] >= 1
    document.status = "acknowledged"
    db.session.commit()
    assert version(customer) > after_insert[1]
    assert version(stranger) == 0  # a change elsewhere leaves a company's pages kept
    waiting = make_document(supplier, None, number="W1")
    before = version(customer)
    waiting.receiver_company_id = customer.id  # the customer registered
    db.session.commit()
    assert version(customer) > before
    before = version(customer)
    db.session.delete(db.session.get(Document, waiting.id))
    db.session.commit()
    assert version(customer) > before
    assert db.session.scalars(select(TrayVersion.company_id)).all().count(stranger.id) == 0


# ------------------------------------------------------------------ the layout around a tray


def test_does_the_header_follow_the_users_name_companies_and_language(
    client, supplier, customer, buyer
):
    login(client, buyer, customer)
    body = page(client)
    assert "Ana María Gómez" in body and 'lang="es"' in body
    assert 'id="company-switch"' not in body  # one company: no switcher
    user = db.session.get(type(buyer), buyer.id)
    user.name = "Ana M. Gómez Restrepo"
    db.session.commit()
    assert "Ana M. Gómez Restrepo" in page(client)
    make_user_member_of_another(user, supplier)
    body = page(client)
    assert 'id="company-switch"' in body and "Proveedora" in body
    client.post("/locale", data={"locale": "en"})
    body = page(client)
    assert 'lang="en"' in body and ">Received<" in body


def make_user_member_of_another(user, company):
    from app.models import Membership

    db.session.add(Membership(company_id=company.id, user_id=user.id, role="viewer"))
    db.session.commit()


def test_is_a_flashed_message_shown_once_on_a_kept_page(client, customer, buyer):
    login(client, buyer, customer)
    page(client)
    response = client.post("/inbox/filters", data={"tray": "received", "name": "Abiertas",
                                                   "query": "status=accepted"},
                           follow_redirects=True)
    assert "Abiertas" in response.get_data(as_text=True)
    assert 'class="toast toast-success"' in response.get_data(as_text=True)
    assert "toast toast-" not in page(client, "/inbox/received?status=accepted")


def test_does_an_unconfirmed_user_see_the_notice_and_not_once_confirmed(
    client, customer
):
    person = make_user(customer, role="payables", confirmed=False)
    login(client, person, customer)
    body = page(client)
    assert person.email in body and "/confirm/resend" in body
    user = db.session.get(type(person), person.id)
    user.email_confirmed_at = utcnow()
    db.session.commit()
    assert "/confirm/resend" not in page(client)
