"""Can a company keep its profile up to date, and only those allowed?"""

import html

import pytest
from sqlalchemy import select

from app import tenancy
from app.extensions import db
from app.models import AuditEvent, Company
from tests.conftest import login, make_user, shared_data


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


# --- Fiscal data ------------------------------------------------------------------------------

FISCAL = {
    "person_type": "1",
    "tax_responsibilities": ["O-13", "O-23"],
    "tax_scheme": "01",
    "address_line": "Calle 100 # 19-54",
    "municipality": "05001 — Medellín",
    "postal_code": "050021",
}


def test_can_an_owner_fill_in_the_fiscal_data(client, company, owner):
    """Are the fiscal data stored as DIAN writes them, the names taken from DIAN's list?"""
    shared_data()
    login(client, owner, company)
    page = client.get("/company/").get_data(as_text=True)
    assert 'id="fiscal-form"' in page and '<option value="11001 — Bogotá, D.c.">' in page
    response = client.post("/company/fiscal", data=FISCAL | {"municipality": "11001"})
    assert response.status_code == 303
    db.session.expire_all()
    saved = db.session.get(Company, company.id)
    assert (saved.person_type, saved.tax_responsibilities, saved.tax_scheme) == (
        "1", "O-13;O-23", "01")
    assert (saved.address_line, saved.municipality_code, saved.municipality_name) == (
        "Calle 100 # 19-54", "11001", "Bogotá, D.c.")
    assert (saved.department_code, saved.postal_code) == ("11", "050021")
    with tenancy.acting_as(company.id):
        actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "company.fiscal_updated" in actions
    assert 'value="11001 — Bogotá, D.c."' in client.get("/company/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"municipality": "12345"}, "municipality", "12345 is not a municipality in DIAN"),
        ({"municipality": "Medellín"}, "municipality", "5-digit DIVIPOLA code"),
        ({"tax_responsibilities": ["O-13", "O-99"]}, "tax_responsibilities",
         "O-99 is not one of DIAN"),
        ({"tax_responsibilities": []}, "tax_responsibilities", "at least one"),
        ({"person_type": "7"}, "person_type", "persona natural"),
        ({"tax_scheme": "99"}, "tax_scheme", "tax schemes offered"),
        ({"address_line": ""}, "address_line", "address"),
        ({"postal_code": "12ab"}, "postal_code", "6 digits"),
    ],
)
def test_are_bad_fiscal_data_refused_next_to_the_field(client, company, owner, changes, field,
                                                        message):
    shared_data()
    login(client, owner, company)
    with client.session_transaction() as session:
        session["locale"] = "en"
    response = client.post("/company/fiscal", data=FISCAL | changes)
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert f'data-field-error="{field}"' in text
    assert html.escape(message, quote=True) in text or message in text
    db.session.expire_all()
    assert db.session.get(Company, company.id).municipality_code is None


def test_can_a_viewer_change_the_fiscal_data(client, company):
    viewer = make_user(company, role="viewer")
    login(client, viewer, company)
    page = client.get("/company/").get_data(as_text=True)
    assert 'id="fiscal-form"' not in page
    assert client.post("/company/fiscal", data=FISCAL).status_code == 403
    db.session.expire_all()
    assert db.session.get(Company, company.id).address_line is None


def test_does_another_company_only_ever_edit_its_own_fiscal_data(client, company, outsider,
                                                                 other_company):
    """The route has no company id: the acting company is the only one it can change."""
    login(client, outsider, other_company)
    response = client.post("/company/fiscal", data=FISCAL | {"company_id": str(company.id)})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Company, company.id).address_line is None
    assert db.session.get(Company, other_company.id).address_line == "Calle 100 # 19-54"
