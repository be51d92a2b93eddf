"""My profile: the name and the identity document DIAN's 030 and 032 events name a person by."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, User
from app.tenancy import unscoped
from tests.conftest import login, make_company, make_user


@pytest.fixture
def person():
    company = make_company("Compradora")
    return make_user(company, name="Ana Gómez", identity=False), company


def reload(user) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


def test_can_a_user_record_a_cedula_written_with_dots(client, person):
    user, company = person
    login(client, user, company)
    page = client.get("/auth/profile")
    assert page.status_code == 200 and 'name="id_document_number"' in page.get_data(as_text=True)
    response = client.post("/auth/profile", data={
        "name": "Ana  María Gómez", "id_document_type": "13",
        "id_document_number": "52.123.456", "job_title": "Auxiliar", "department": "Compras",
    })
    assert response.status_code == 303
    saved = reload(user)
    assert (saved.name, saved.id_document_type, saved.id_document_number) == (
        "Ana María Gómez", "13", "52123456")
    assert (saved.job_title, saved.department) == ("Auxiliar", "Compras")
    actions = db.session.scalars(unscoped(select(AuditEvent.action))).all()
    assert "user.profile_changed" in actions


@pytest.mark.parametrize(
    ("kind", "number", "field", "message"),
    [
        ("13", "", "id_document_number", "Ingrese el número del documento."),
        ("", "52123456", "id_document_type", "Elija el tipo de este documento."),
        ("13", "52A123", "id_document_number", "3 a 15 dígitos"),
        ("13", "12", "id_document_number", "3 a 15 dígitos"),
        ("41", "AB-12*34", "id_document_number", "3 a 20 letras y dígitos"),
        ("31", "900123456", "id_document_type", ""),  # a NIT is a company's, not a person's
    ],
)
def test_is_a_bad_identity_document_refused_with_its_message_and_nothing_saved(
    client, person, kind, number, field, message
):
    user, company = person
    login(client, user, company)
    response = client.post("/auth/profile", data={
        "name": "Ana Gómez", "id_document_type": kind, "id_document_number": number,
    })
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    saved = reload(user)
    assert saved.id_document_type is None and saved.id_document_number is None


def test_does_a_passport_keep_its_letters_upper_cased(client, person):
    user, company = person
    login(client, user, company)
    response = client.post("/auth/profile", data={
        "name": "Ana Gómez", "id_document_type": "41", "id_document_number": "ab 123456",
    })
    assert response.status_code == 303
    assert reload(user).id_document_number == "AB123456"


def test_must_a_visitor_sign_in_to_see_a_profile(client):
    response = client.get("/auth/profile")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_does_the_document_page_say_what_is_missing_before_a_030(client, app):
    from tests.services.inbox_helpers import give_certificate, signed_invoice, submit

    supplier, customer = make_company("Proveedora"), make_company("Compradora")
    give_certificate(supplier)
    give_certificate(customer)
    seller = make_user(supplier, role="receivables")
    clerk = make_user(customer, role="payables", identity=False)
    document = submit(supplier, seller, signed_invoice(supplier, customer.tax_id)).document
    login(client, clerk, customer)
    body = client.get(f"/documents/{document.id}").get_data(as_text=True)
    assert 'data-testid="identity-needed"' in body and "/auth/profile" in body
    refused = client.post(f"/documents/{document.id}/events", data={"code": "030"},
                          headers={"HX-Request": "true"})
    assert refused.status_code in (409, 422)
    assert "perfil" in refused.get_data(as_text=True)
