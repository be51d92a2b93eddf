"""Hostile or mistyped query strings on every page: a clear answer (200 with the filter ignored
or refused, 400, 404, 422), never a 500. Each page without an id in its path is asked with every
filter name the portal's pages read, each given values of the wrong type, out of range, overlong,
repeated, or with control characters."""

from __future__ import annotations

from urllib.parse import urlencode

from app.extensions import db
from tests.conftest import login, make_company, make_user

NAMES = (
    "q", "page", "cursor", "sort", "order", "status", "state", "date_from", "date_to", "due_from",
    "due_to", "since", "until", "amount", "amount_min", "amount_max", "min", "max", "supplier",
    "customer", "customer_id", "customer_q", "partner", "counterparty", "tax_id", "document_type",
    "type", "method", "currency", "category", "account", "bank_account_id", "user", "action",
    "document", "kind", "compare", "item", "tray", "overdue", "reconciliation", "direction", "side",
    "number", "reference", "age", "canceled", "delivery", "reviewed", "show", "shown", "format",
    "next", "relation", "range_from", "range_to", "payment", "outcome", "low", "query",
)
VALUES = (
    "-1", "0", "abc", "1e999", "NaN", "9" * 40, "2026-02-30", "0001-01-01", "1.000,00", "%_\\",
    "'\"<script>", "a\x7fb", " ", "ñ" * 3000, "\x00",
)


def _pages(app):
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or "<" in rule.rule:
            continue
        if rule.rule.startswith(("/api/", "/static", "/dev", "/socket.io")):
            continue
        if rule.endpoint in ("auth.logout", "auth.sign_out"):
            continue
        yield rule.rule


def test_junk_in_any_query_string_is_never_a_500(app, client):
    company = make_company("Andina")
    login(client, make_user(company, role="owner"), company)
    db.session.commit()
    pages = sorted(set(_pages(app)))
    assert len(pages) > 20
    failures = []

    def ask(page: str, query: str, value: str) -> None:
        try:
            status = client.get(f"{page}?{query}").status_code
        except Exception as error:  # noqa: BLE001 - the test client raises what a 500 hides
            status = f"{type(error).__name__}: {str(error)[:120]}"
        if not isinstance(status, int) or status >= 500:
            failures.append((page, value, status))
            db.session.rollback()

    for page in pages:
        for value in VALUES:
            ask(page, urlencode([(name, value) for name in NAMES]), value)
        # Each name repeated with two different values.
        ask(page, urlencode([(name, v) for name in NAMES for v in ("1", "x")]), "repeated")
    assert not failures, failures[:30]


def test_a_nul_character_is_refused_in_queries_forms_and_json_alike(app, client):
    """PostgreSQL refuses a NUL in any text; the portal refuses it first, on both databases,
    with a message: in a page's query, a posted form (any field, any position of a repeated
    one), an API's query and JSON body (escaped, as JSON writes it) once its token is valid
    (without one: 401). Nothing is stored."""
    from sqlalchemy import func, select

    from app.models.catalog import CatalogItem
    from app.tenancy import unscoped
    from tests.conftest import bearer, make_api_token

    company = make_company("Andina")
    owner = make_user(company, role="owner", locale="en")
    login(client, owner, company)
    db.session.commit()
    page = client.get("/orders/shop?q=torn%00illo")
    assert page.status_code == 400
    assert "character that is not allowed" in page.get_data(as_text=True)
    form = client.post("/catalog/items/new", data={"name": ["Tornillo", "a\x00b"],
                                                   "seller_item_id": "T-1", "price": "1"})
    assert form.status_code == 400 and "not allowed" in form.get_data(as_text=True)
    _token, plaintext = make_api_token(company)
    item = {"seller_item_id": "API-1", "name": "Tornillo\u0000", "price": "100.50"}
    answer = client.post("/api/v1/catalog/items", json=item, headers=bearer(plaintext))
    assert answer.status_code == 400
    assert "not allowed" in answer.get_json()["error"]["message"]
    listed = client.get("/api/v1/catalog/items?q=a%00b", headers=bearer(plaintext))
    assert listed.status_code == 400 and "not allowed" in listed.get_json()["error"]["message"]
    # Without a valid token the call is told to sign in first, whatever it holds.
    for headers in ({}, bearer("not-a-token")):
        refused = client.post("/api/v1/catalog/items", json=item, headers=headers)
        assert refused.status_code == 401, refused.get_data(as_text=True)
    item["name"] = "Tornillo"
    assert client.post("/api/v1/catalog/items", json=item,
                       headers=bearer(plaintext)).status_code == 201  # the same, without it
    assert db.session.scalar(unscoped(select(func.count()).select_from(CatalogItem))) == 1
