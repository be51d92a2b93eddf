"""Can an administrator create API tokens, see each only once, and revoke them — and no one else?"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app import tenancy
from app.extensions import db
from app.models import ApiToken
from app.security import hash_secret_token
from tests.conftest import bearer, login, make_api_token, make_user

TOKEN_VALUE = re.compile(r'id="new-token-value"[^>]*value="([^"]+)"')


def _tokens(company_id: int) -> list[ApiToken]:
    return db.session.scalars(
        tenancy.unscoped(
            select(ApiToken).where(ApiToken.company_id == company_id)
        ).execution_options(populate_existing=True)
    ).all()


def _create(client, name="SAP producción", scopes=("documents:read", "documents:write")):
    return client.post("/company/api-tokens", data={"name": name, "scopes": list(scopes)})


def test_is_a_new_token_shown_once_and_only_its_hash_kept(client, company, owner):
    login(client, owner, company)
    response = _create(client)
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    plaintext = TOKEN_VALUE.search(page).group(1)
    (stored,) = _tokens(company.id)
    assert stored.token_hash == hash_secret_token(plaintext)
    assert stored.scopes == ["documents:read", "documents:write"]
    assert stored.name == "SAP producción" and stored.prefix == plaintext[:8]
    # The list shows its name and prefix from now on, never the token again.
    listing = client.get("/company/api-tokens").get_data(as_text=True)
    assert plaintext not in listing and 'data-testid="new-token"' not in listing
    assert "SAP producción" in listing and f"{stored.prefix}…" in listing
    # And the token works.
    assert client.get("/api/v1/partners", headers=bearer(plaintext)).status_code == 200


@pytest.mark.parametrize(
    ("name", "scopes", "field"),
    [
        ("", ("documents:read",), "name"),
        ("ERP", (), "scopes"),
        ("ERP", ("documents:delete",), "scopes"),
    ],
)
def test_is_a_token_without_a_name_or_a_permission_refused_next_to_the_field(
    client, company, owner, name, scopes, field
):
    login(client, owner, company)
    response = _create(client, name=name, scopes=scopes)
    assert response.status_code == 422
    assert f'data-field-error="{field}"' in response.get_data(as_text=True)
    assert _tokens(company.id) == []


def test_can_an_admin_revoke_a_token_that_then_stops_working(client, company, owner):
    admin = make_user(company, role="admin")
    token, plaintext = make_api_token(company, name="Viejo ERP")
    login(client, admin, company)
    response = client.post(f"/company/api-tokens/{token.id}/revoke")
    assert response.status_code == 303
    (stored,) = _tokens(company.id)
    assert stored.revoked_at is not None
    page = client.get("/company/api-tokens").get_data(as_text=True)
    assert f'action="/company/api-tokens/{token.id}/revoke"' not in page
    assert client.get("/api/v1/partners", headers=bearer(plaintext)).status_code == 401
    # Revoking again changes nothing.
    assert client.post(f"/company/api-tokens/{token.id}/revoke").status_code == 303


def test_is_another_companys_token_out_of_reach(client, company, owner, other_company):
    theirs, plaintext = make_api_token(other_company, name="ERP ajeno")
    login(client, owner, company)
    assert client.post(f"/company/api-tokens/{theirs.id}/revoke").status_code == 404
    assert "ERP ajeno" not in client.get("/company/api-tokens").get_data(as_text=True)
    assert _tokens(other_company.id)[0].revoked_at is None


@pytest.mark.parametrize("role", ["viewer", "payables", "receivables", "sales"])
def test_can_a_member_who_is_not_an_admin_manage_tokens(client, company, role):
    member = make_user(company, role=role)
    token, _plaintext = make_api_token(company)
    login(client, member, company)
    assert client.get("/company/api-tokens").status_code == 403
    assert _create(client).status_code == 403
    assert client.post(f"/company/api-tokens/{token.id}/revoke").status_code == 403
    assert len(_tokens(company.id)) == 1 and _tokens(company.id)[0].revoked_at is None
    # And the company page does not offer the link.
    assert "/company/api-tokens" not in client.get("/company/").get_data(as_text=True)


def test_does_the_company_page_lead_an_admin_to_the_tokens(client, company, owner):
    login(client, owner, company)
    assert 'href="/company/api-tokens"' in client.get("/company/").get_data(as_text=True)
    page = client.get("/company/api-tokens").get_data(as_text=True)
    assert 'id="api-token-form"' in page


def test_is_an_anonymous_visitor_sent_to_sign_in(client):
    response = client.get("/company/api-tokens")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
