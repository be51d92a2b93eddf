"""Can a company upload its signing certificate, kept encrypted, and only it sign with it?"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app import tenancy
from app.einvoice import signature
from app.extensions import db
from app.models import SigningCertificate
from app.services import certificates
from app.services.errors import DomainError
from tests.conftest import login, make_user


def _upload(client, data: bytes, password: str):
    return client.post(
        "/company/certificate",
        data={"file": (io.BytesIO(data), "firma.p12"), "password": password},
        content_type="multipart/form-data",
    )


def _stored(company_id: int) -> list[SigningCertificate]:
    return db.session.scalars(
        tenancy.unscoped(
            select(SigningCertificate).where(SigningCertificate.company_id == company_id)
        ).execution_options(populate_existing=True)
    ).all()


def test_can_an_owner_upload_a_certificate_that_is_stored_encrypted(client, company, owner):
    data, password = signature.make_test_certificate(company.legal_name, company.tax_id)
    login(client, owner, company)
    response = _upload(client, data, password)
    assert response.status_code == 303
    page = client.get("/company/certificate").get_data(as_text=True)
    assert 'data-testid="certificate"' in page
    (stored,) = _stored(company.id)
    assert stored.active
    # Neither the file nor its password is kept in the clear.
    assert data not in stored.pkcs12_encrypted
    assert password.encode() not in stored.password_encrypted
    with tenancy.acting_as(company.id):
        material = certificates.signing_material(company.id)
    assert material.certificate.serial_number == int(stored.serial_number)
    assert company.tax_id[:-1] in (signature.signer_tax_id(material.certificate) or "")


def test_does_a_new_certificate_replace_the_old_one(client, company, owner):
    login(client, owner, company)
    for _ in range(2):
        data, password = signature.make_test_certificate(company.legal_name, company.tax_id)
        assert _upload(client, data, password).status_code == 303
    active = [c for c in _stored(company.id) if c.active]
    assert len(_stored(company.id)) == 2 and len(active) == 1


def test_is_a_wrong_password_refused_next_to_the_field(client, company, owner):
    data, _password = signature.make_test_certificate(company.legal_name, company.tax_id)
    login(client, owner, company)
    response = _upload(client, data, "not-the-password")
    assert response.status_code == 422
    assert 'data-field-error="password"' in response.get_data(as_text=True)
    assert _stored(company.id) == []


def test_is_a_file_that_is_not_a_certificate_refused(client, company, owner):
    login(client, owner, company)
    response = _upload(client, b"%PDF-1.4 not a certificate", "x")
    assert response.status_code == 422
    assert 'data-field-error="file"' in response.get_data(as_text=True)
    assert _stored(company.id) == []


def test_is_an_expired_certificate_refused(client, company, owner):
    data, password = signature.make_test_certificate(
        company.legal_name, company.tax_id,
        not_before=datetime.now(UTC) - timedelta(days=800), days=30,
    )
    login(client, owner, company)
    response = _upload(client, data, password)
    assert response.status_code == 422
    assert _stored(company.id) == []


def test_can_a_viewer_upload_a_certificate(client, company):
    viewer = make_user(company, role="viewer")
    data, password = signature.make_test_certificate(company.legal_name, company.tax_id)
    login(client, viewer, company)
    page = client.get("/company/certificate")
    assert page.status_code == 200 and 'id="certificate-form"' not in page.get_data(as_text=True)
    assert _upload(client, data, password).status_code == 403
    assert _stored(company.id) == []


def test_can_a_server_with_another_secret_key_open_the_stored_certificate(app, company, owner):
    data, password = signature.make_test_certificate(company.legal_name, company.tax_id)
    with app.test_request_context(), tenancy.acting_as(company.id):
        certificates.upload_certificate(company.id, data=data, password=password, actor=owner)
        db.session.commit()
        original = app.secret_key
        app.secret_key = "another-secret"
        try:
            with pytest.raises(DomainError):
                certificates.signing_material(company.id)
        finally:
            app.secret_key = original
        assert certificates.signing_material(company.id).certificate is not None


def test_does_the_demo_give_every_demo_company_a_certificate(app):
    from pathlib import Path

    from app.models import Company
    from app.services import demo

    demo.load_demo(Path(__file__).resolve().parents[2] / "fixtures" / "demo.json")
    companies = db.session.scalars(tenancy.unscoped(select(Company))).all()
    assert len(companies) == 3
    for company in companies:
        with tenancy.acting_as(company.id):
            material = certificates.signing_material(company.id)
        assert company.tax_id[:-1] in (signature.signer_tax_id(material.certificate) or "")
