"""Can an ERP reach the API only with a valid token of its company, and is every error JSON?"""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from app import tenancy
from app.blueprints.api import errors as api_errors
from app.extensions import db
from app.models import ApiToken, AuditEvent, Partnership
from app.models.api import DOCUMENTS_READ, DOCUMENTS_WRITE, EVENTS_WRITE
from app.models.network import ACTIVE, DECLINED, PENDING
from app.services import api_tokens, network
from tests.conftest import bearer, login, make_api_token, make_company, make_user


def _token_row(token_id: int) -> ApiToken:
    return db.session.scalars(
        tenancy.unscoped(select(ApiToken).where(ApiToken.id == token_id)).execution_options(
            populate_existing=True
        )
    ).one()


def _events(company_id: int, action: str) -> list[AuditEvent]:
    return db.session.scalars(
        tenancy.unscoped(
            select(AuditEvent).where(
                AuditEvent.company_id == company_id, AuditEvent.action == action
            )
        )
    ).all()


def _assert_json_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["message"] and isinstance(error["details"], dict)
    if code:
        assert error["code"] == code
    return error


def _connect(supplier, customer, status=ACTIVE) -> Partnership:
    partnership = Partnership(
        supplier_id=supplier.id, customer_id=customer.id, requested_by_id=supplier.id, status=status
    )
    db.session.add(partnership)
    db.session.commit()
    return partnership


# The service


def test_is_only_the_hash_of_a_new_token_stored(company, owner):
    """The plaintext is handed out once; the database keeps its SHA-256 and a short prefix."""
    with tenancy.acting_as(company.id, owner.id):
        token, plaintext = api_tokens.create_token(
            company.id, name=" SAP ", scopes=[EVENTS_WRITE, DOCUMENTS_READ], actor=owner
        )
        db.session.commit()
    stored = _token_row(token.id)
    assert stored.token_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    assert stored.prefix == plaintext[:8] and len(plaintext) >= 40
    assert stored.name == "SAP" and stored.scopes == [DOCUMENTS_READ, EVENTS_WRITE]
    assert stored.created_by_id == owner.id and stored.last_used_at is None
    columns = {c.name: getattr(stored, c.name) for c in ApiToken.__table__.columns}
    assert not any(plaintext in str(value) for value in columns.values())
    (event,) = _events(company.id, "api.token_created")
    assert plaintext not in str(event.details) and event.target_id == str(token.id)


@pytest.mark.parametrize(
    ("name", "scopes", "field"),
    [
        ("", [DOCUMENTS_READ], "name"),
        ("ERP", [], "scopes"),
        ("ERP", ["admin:all"], "scopes"),
        ("x" * 101, [DOCUMENTS_READ], "name"),
    ],
)
def test_is_a_token_without_a_name_or_with_unknown_scopes_refused(
    company, owner, name, scopes, field
):
    from app.services.errors import FieldErrors

    with tenancy.acting_as(company.id, owner.id), pytest.raises(FieldErrors) as refused:
        api_tokens.create_token(company.id, name=name, scopes=scopes, actor=owner)
    assert field in refused.value.errors


def test_does_authenticate_accept_only_an_active_token(company, owner):
    token, plaintext = make_api_token(company)
    assert api_tokens.authenticate(plaintext).id == token.id
    assert api_tokens.authenticate(plaintext + "x") is None
    assert api_tokens.authenticate("") is None
    assert api_tokens.authenticate("x" * 10_000) is None
    with tenancy.acting_as(company.id, owner.id):
        api_tokens.revoke_token(company.id, token_id=token.id, actor=owner)
        db.session.commit()
    assert api_tokens.authenticate(plaintext) is None
    assert len(_events(company.id, "api.token_revoked")) == 1


# Authentication and scopes over HTTP


def test_is_a_request_without_a_token_refused_with_a_json_401(client):
    response = client.get("/api/v1/partners")
    error = _assert_json_error(response, 401, "missing_token")
    assert "Bearer" in error["message"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Bearer not-a-token", "Basic dXNlcjpwYXNz", "Bearer "])
def test_is_a_wrong_token_refused_with_a_json_401(client, company, header):
    make_api_token(company)
    response = client.get("/api/v1/partners", headers={"Authorization": header})
    assert _assert_json_error(response, 401)["code"] in {"invalid_token", "missing_token"}


def test_is_a_revoked_token_refused(client, company, owner):
    token, plaintext = make_api_token(company)
    assert client.get("/api/v1/partners", headers=bearer(plaintext)).status_code == 200
    with tenancy.acting_as(company.id, owner.id):
        api_tokens.revoke_token(company.id, token_id=token.id, actor=owner)
        db.session.commit()
    response = client.get("/api/v1/partners", headers=bearer(plaintext))
    _assert_json_error(response, 401, "invalid_token")


def test_does_a_token_without_the_scope_get_a_json_403(client, company):
    token, plaintext = make_api_token(company, scopes=(DOCUMENTS_WRITE, EVENTS_WRITE))
    response = client.get("/api/v1/partners", headers=bearer(plaintext))
    error = _assert_json_error(response, 403, "insufficient_scope")
    assert error["details"] == {"required_scope": DOCUMENTS_READ}
    (event,) = _events(company.id, "api.call")
    assert event.details["refused_scope"] == DOCUMENTS_READ


def test_is_the_last_use_recorded_and_the_call_audited(client, company):
    token, plaintext = make_api_token(company)
    assert _token_row(token.id).last_used_at is None
    client.get("/api/v1/partners", headers=bearer(plaintext))
    assert _token_row(token.id).last_used_at is not None
    (event,) = _events(company.id, "api.call")
    assert event.actor == f"api-token:{token.id}" and event.target_id == str(token.id)
    assert event.details == {"method": "GET", "path": "/api/v1/partners"}


def test_does_a_signed_in_browser_session_not_open_the_api(client, company, owner):
    """The API is exempt from CSRF, so it must never act through the session cookie."""
    login(client, owner, company)
    _assert_json_error(client.get("/api/v1/partners"), 401, "missing_token")


# Partners


def test_does_a_token_of_company_a_see_only_as_partners(client, company, other_company):
    supplier, customer, stranger = (make_company(n) for n in ("Prov", "Cli", "Extraño"))
    _connect(supplier, company)
    _connect(company, customer, status=PENDING)
    _connect(stranger, other_company)
    _connect(company, stranger, status=DECLINED)
    _token, plaintext = make_api_token(company)
    response = client.get("/api/v1/partners", headers=bearer(plaintext))
    assert response.status_code == 200
    rows = {p["company_id"]: p for p in response.get_json()["data"]}
    assert set(rows) == {supplier.id, customer.id}
    assert rows[supplier.id]["relation"] == "supplier" and rows[supplier.id]["status"] == "active"
    assert rows[customer.id]["relation"] == "customer" and rows[customer.id]["status"] == "pending"
    assert rows[supplier.id]["tax_id"] == supplier.tax_id and rows[supplier.id]["on_network"]
    suppliers = client.get("/api/v1/partners?relation=supplier", headers=bearer(plaintext))
    assert [p["company_id"] for p in suppliers.get_json()["data"]] == [supplier.id]
    # The other company's token sees its own partner only.
    _token, theirs = make_api_token(other_company)
    response = client.get("/api/v1/partners", headers=bearer(theirs))
    assert [p["company_id"] for p in response.get_json()["data"]] == [stranger.id]


def test_is_an_invited_partner_not_on_the_network_listed(client, company):
    db.session.add(
        Partnership(
            supplier_id=None,
            customer_id=company.id,
            requested_by_id=company.id,
            invited_name="Nueva S.A.S.",
            invited_country="CO",
            invited_tax_id="900123456",
        )
    )
    db.session.commit()
    _token, plaintext = make_api_token(company)
    (row,) = client.get("/api/v1/partners", headers=bearer(plaintext)).get_json()["data"]
    assert row["on_network"] is False and row["company_id"] is None
    assert (row["name"], row["tax_id"], row["relation"]) == (
        "Nueva S.A.S.",
        "900123456",
        "supplier",
    )


def test_is_an_unknown_relation_refused_with_a_json_422(client, company):
    _token, plaintext = make_api_token(company)
    response = client.get("/api/v1/partners?relation=rival", headers=bearer(plaintext))
    error = _assert_json_error(response, 422, "validation")
    assert list(error["details"]["fields"]) == ["relation"]


# Errors: JSON under /api/v1, HTML elsewhere


def test_is_an_unknown_api_path_a_json_404_and_an_unknown_page_html(client):
    _assert_json_error(client.get("/api/v1/nothing-here"), 404, "not_found")
    page = client.get("/nothing-here")
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert "<html" in page.get_data(as_text=True)


def test_is_a_wrong_method_a_json_405_naming_the_allowed_ones(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)  # the API is exempt from CSRF
    response = client.post("/api/v1/partners", json={})
    _assert_json_error(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]


def test_is_a_rate_limit_per_token_answered_with_a_json_429(app, client, company, monkeypatch):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "2 per minute")
    _token, plaintext = make_api_token(company)
    _token, other = make_api_token(company, name="Otro")
    for _ in range(2):
        assert client.get("/api/v1/partners", headers=bearer(plaintext)).status_code == 200
    error = _assert_json_error(
        client.get("/api/v1/partners", headers=bearer(plaintext)), 429, "rate_limited"
    )
    assert error["details"]["limit"]
    # Another token has its own allowance.
    assert client.get("/api/v1/partners", headers=bearer(other)).status_code == 200


def test_is_a_server_error_in_the_api_a_json_500(app, client, company, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    monkeypatch.setattr(network, "partnerships", broken)
    _token, plaintext = make_api_token(company)
    error = _assert_json_error(
        client.get("/api/v1/partners", headers=bearer(plaintext)), 500, "server_error"
    )
    assert "boom" not in error["message"]


def test_is_a_too_large_body_a_json_413(app):
    from werkzeug.exceptions import RequestEntityTooLarge

    with app.test_request_context("/api/v1/documents", method="POST"):
        response = api_errors.http_error(RequestEntityTooLarge())
    _assert_json_error(response, 413, "payload_too_large")


def test_does_the_api_answer_in_json_with_an_html_error_page_elsewhere(client, company):
    viewer = make_user(company, role="viewer")
    login(client, viewer, company)
    page = client.get("/company/api-tokens")
    assert page.status_code == 403 and page.mimetype == "text/html"
