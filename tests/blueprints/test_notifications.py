"""The bell, the notification list, marking read and the preferences page."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Notification, NotificationPreference
from app.tenancy import unscoped
from tests.conftest import login, make_user
from tests.services.inbox_helpers import make_document


def notify(company, user, document=None, kind="received") -> Notification:
    row = Notification(
        company_id=company.id,
        user_id=user.id,
        kind=kind,
        document_id=document.id if document else None,
        params={"number": "FE-77", "supplier": "Proveedora", "customer": "Yo"},
    )
    db.session.add(row)
    db.session.commit()
    return row


def read_at(row: Notification):
    return db.session.scalars(
        unscoped(select(Notification.read_at).where(Notification.id == row.id))
    ).one()


def test_does_the_bell_fragment_show_the_unread_count_and_the_latest(
    client, company, owner, other_company
):
    document = make_document(other_company, company, number="FE-77")
    for _ in range(3):
        notify(company, owner, document)
    login(client, owner, company)

    response = client.get("/notifications/bell", headers={"HX-Request": "true"})

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'data-unread="3"' in html
    assert "Proveedora" in html and "FE-77" in html
    assert f"/documents/{document.id}" in html
    assert "<html" not in html  # a fragment


def test_does_the_layout_carry_the_bell_the_socket_client_and_the_polling(client, company, owner):
    login(client, owner, company)
    html = client.get("/").get_data(as_text=True)
    assert 'data-testid="bell"' in html
    assert "vendor/socket.io-4.8.4.min.js" in html
    assert 'hx-trigger="every 30s"' in html


def test_does_an_anonymous_visitor_get_no_socket_client(client):
    assert "socket.io" not in client.get("/").get_data(as_text=True)


def test_can_a_user_mark_one_and_then_all_notifications_read(client, company, owner):
    first, second = notify(company, owner), notify(company, owner)
    login(client, owner, company)

    response = client.post(f"/notifications/{first.id}/read")
    assert response.status_code == 303
    assert read_at(first) is not None
    assert 'data-unread="1"' in client.get("/notifications/bell").get_data(as_text=True)

    client.post("/notifications/read-all")
    assert read_at(second) is not None
    page = client.get("/notifications").get_data(as_text=True)
    assert f'data-notification="{first.id}"' in page


def test_is_a_colleagues_notification_not_found(client, company, owner):
    colleague = make_user(company, role="payables")
    theirs = notify(company, colleague)
    login(client, owner, company)

    assert client.post(f"/notifications/{theirs.id}/read").status_code == 404
    assert read_at(theirs) is None
    assert 'data-unread="0"' in client.get("/notifications/bell").get_data(as_text=True)


def test_can_a_user_switch_off_an_email_in_the_preferences(client, company, owner):
    login(client, owner, company)
    page = client.get("/notifications/preferences").get_data(as_text=True)
    assert 'name="received-email"' in page and 'name="overdue-in_app"' in page

    form = {"received-in_app": "on"}  # every other box unticked
    form |= {f"{k}-{c}": "on" for k in ("claimed", "accepted") for c in ("in_app", "email")}
    response = client.post("/notifications/preferences", data=form)

    assert response.status_code == 303
    stored = {
        p.kind: (p.in_app, p.email)
        for p in db.session.scalars(
            unscoped(
                select(NotificationPreference).where(NotificationPreference.user_id == owner.id)
            )
        )
    }
    assert stored["received"] == (True, False)
    assert stored["claimed"] == (True, True)
    assert stored["overdue"] == (False, False)
