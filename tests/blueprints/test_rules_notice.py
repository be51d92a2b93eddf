"""RULES-SKIPPED: users read in words that the official DIAN rules were not checked on this
server; the operator (a company admin, the log) reads which setting to fix (issue 10, item 15)."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from app.extensions import db
from app.models import Document
from app.models.api import DOCUMENTS_READ
from tests.conftest import bearer, login, make_api_token, make_user

pytestmark = pytest.mark.usefixtures("no_official_rules")

USER_ES = "Las reglas oficiales de la DIAN no se verificaron en este servidor"
USER_EN = "The official DIAN rules were not checked on this server"
OPERATOR_TEXTS = ("EINVOICE_RULES_DIR", "/srv/rules", "faltan en", "not found in")
# What documents stored before this change carry in their findings
OLD_FINDING = {
    "severity": "warning",
    "code": "RULES-SKIPPED",
    "message_es": "No se ejecutaron las validaciones oficiales (XSD DIAN (Invoice)): faltan en "
    "EINVOICE_RULES_DIR.",
    "message_en": "The official checks were skipped (XSD DIAN (Invoice)): not found in /srv/rules.",
    "path": "",
}


def _page(client, user, company, url, language):
    login(client, user, company)
    client.post("/locale", data={"locale": language})
    response = client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.mark.parametrize("language", ["es", "en"])
@pytest.mark.parametrize("stored", ["new", "old"])
def test_document_page_says_in_words_that_official_rules_were_not_checked(
    app, client, invoice, supplier, seller, customer, buyer, language, stored
):
    """Do both parties read, in their language, that the official DIAN rules were not checked
    on this server, with no setting name or server path, for new and previously stored
    documents alike?"""
    if stored == "old":
        db.session.execute(
            update(Document).where(Document.id == invoice.id).values(findings=[OLD_FINDING])
        )
        db.session.commit()
    for user, company in ((seller, supplier), (buyer, customer)):
        html = _page(client, user, company, f"/documents/{invoice.id}", language)
        assert 'data-code="RULES-SKIPPED"' in html
        assert (USER_EN if language == "en" else USER_ES) in html
        for text in OPERATOR_TEXTS:
            assert text not in html


@pytest.mark.parametrize("stored", ["new", "old"])
def test_api_document_keeps_the_code_with_the_users_message(client, invoice, supplier, stored):
    """Does the API's document keep the RULES-SKIPPED code with the user-facing message?"""
    if stored == "old":
        db.session.execute(
            update(Document).where(Document.id == invoice.id).values(findings=[OLD_FINDING])
        )
        db.session.commit()
    headers = bearer(make_api_token(supplier, scopes=[DOCUMENTS_READ])[1])
    response = client.get(
        f"/api/v1/documents/{invoice.id}", headers={**headers, "Accept-Language": "en"}
    )
    assert response.status_code == 200
    [finding] = [f for f in response.get_json()["findings"] if f["code"] == "RULES-SKIPPED"]
    assert USER_EN in finding["message"]
    for text in OPERATOR_TEXTS:
        assert text not in response.get_data(as_text=True)


def test_company_admin_page_tells_the_operator_which_setting_to_fix(
    app, client, supplier, seller, monkeypatch
):
    """Does a company admin's page name EINVOICE_RULES_DIR and what is missing, while other
    members (a viewer, a receivables clerk) see none of it?"""
    monkeypatch.setitem(app.config, "EINVOICE_RULES_DIR", "/srv/rules-that-do-not-exist")
    admin = make_user(supplier, role="owner")
    html = _page(client, admin, supplier, "/company/", "en")
    assert 'data-testid="server-status"' in html
    assert "EINVOICE_RULES_DIR" in html and "/srv/rules-that-do-not-exist" in html
    assert "the folder does not exist" in html and "DIAN UBL 2.1" in html

    for member in (make_user(supplier, role="viewer"), seller):
        html = _page(client, member, supplier, "/company/", "en")
        assert 'data-testid="server-status"' not in html and "EINVOICE_RULES_DIR" not in html


def test_company_admin_page_with_unset_rules_folder_in_spanish(app, client, supplier):
    """Is the operator section there, in Spanish, when the setting is not set at all?"""
    html = _page(client, make_user(supplier, role="owner"), supplier, "/company/", "es")
    assert "Reglas oficiales en este servidor" in html
    assert "EINVOICE_RULES_DIR" in html and "(sin configurar)" in html
