"""Can a company keep its profile up to date, and only those allowed?"""

from sqlalchemy import select

from app import tenancy
from app.extensions import db
from app.models import AuditEvent, Company
from tests.conftest import login, make_user


def test_can_an_owner_change_the_trade_name_and_language(client, company, owner):
    login(client, owner, company)
    response = client.post("/company/", data={"trade_name": "Andina Nueva",
                                              "contact_email": "pagos@andina.test",
                                              "locale": "en"})
    assert response.status_code == 303
    db.session.expire_all()
    saved = db.session.get(Company, company.id)
    assert (saved.trade_name, saved.contact_email, saved.locale) == (
        "Andina Nueva", "pagos@andina.test", "en")
    with tenancy.acting_as(company.id):
        actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "company.updated" in actions


def test_is_a_bad_contact_email_refused_next_to_the_field(client, company, owner):
    login(client, owner, company)
    response = client.post("/company/", data={"trade_name": "X", "contact_email": "no-at-sign",
                                              "locale": "es"})
    assert response.status_code == 422
    assert 'data-field-error="contact_email"' in response.get_data(as_text=True)


def test_can_a_viewer_see_but_not_change_the_profile(client, company):
    viewer = make_user(company, role="viewer")
    login(client, viewer, company)
    page = client.get("/company/")
    assert page.status_code == 200
    assert 'id="company-form"' not in page.get_data(as_text=True)
    response = client.post("/company/", data={"trade_name": "Hack", "contact_email": "a@b.co",
                                              "locale": "es"})
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(Company, company.id).trade_name == company.trade_name
