"""/api/v1/catalog as ERPs use it: a supplier keeps its items (add, read, change, delete, import
a spreadsheet) and a buyer searches the catalogs it may order from, at its prices; scopes,
other companies' items and bad input."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.api import CATALOG_READ, CATALOG_WRITE, ORDERS_READ
from app.models.catalog import CatalogItem, CustomerPrice
from app.tenancy import unscoped
from tests.conftest import bearer, make_api_token, make_company
from tests.services.orders.helpers import item, parties

API = "/api/v1"
EN = {"Accept-Language": "en"}


@pytest.fixture
def world(app, monkeypatch):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "100000 per minute")
    p = parties()
    stranger = make_company("Ajena Catálogo")
    full = (CATALOG_READ, CATALOG_WRITE)
    return {
        "p": p,
        "stranger": stranger,
        "supplier": bearer(make_api_token(p.supplier, scopes=full)[1]) | EN,
        "buyer": bearer(make_api_token(p.buyer, scopes=(CATALOG_READ,))[1]) | EN,
        "orders_only": bearer(make_api_token(p.supplier, scopes=(ORDERS_READ,))[1]) | EN,
        "stranger_h": bearer(make_api_token(stranger, scopes=full)[1]) | EN,
    }


def new_item(**extra) -> dict:
    return {
        "seller_item_id": "BRO-10",
        "name": "Broca para concreto 10 mm",
        "price": "15900.50",
        "tax_percent": "19",
        "min_quantity": "5",
        "pack_size": "5",
        "categories": ["Ferretería", "Brocas"],
        "visibility": "network",
        "standard_item_id": "7702004003508",
        "lead_time_days": 3,
        **extra,
    }


def error_of(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"} and body["error"]["message"]
    return body["error"]


def row(item_id: int) -> CatalogItem | None:
    return db.session.scalars(
        unscoped(select(CatalogItem).where(CatalogItem.id == item_id)).execution_options(
            populate_existing=True
        )
    ).first()


# ------------------------------------------------------------------------------ the supplier


def test_a_supplier_adds_reads_changes_and_deletes_an_item(client, world):
    h = world["supplier"]
    created = client.post(f"{API}/catalog/items", headers=h, json=new_item())
    assert created.status_code == 201, created.json
    body = created.json
    assert created.headers["Location"].endswith(f"/api/v1/catalog/items/{body['id']}")
    assert (body["price"], body["tax_percent"], body["min_quantity"], body["pack_size"]) == (
        "15900.5", "19", "5", "5")
    assert body["categories"] == ["Ferretería", "Brocas"] and body["lead_time_days"] == 3
    assert (body["unit_code"], body["currency"], body["published"]) == ("94", "COP", True)
    assert client.get(f"{API}/catalog/items/{body['id']}", headers=h).json == body

    changed = client.put(f"{API}/catalog/items/{body['id']}", headers=h,
                         json=new_item(price="16000", published=False, categories=[]))
    assert changed.status_code == 200, changed.json
    assert (changed.json["price"], changed.json["published"], changed.json["categories"]) == (
        "16000", False, [])
    assert row(body["id"]).price == Decimal("16000")

    deleted = client.delete(f"{API}/catalog/items/{body['id']}", headers=h)
    assert deleted.status_code == 204 and deleted.data == b""
    assert row(body["id"]) is None
    error_of(client.get(f"{API}/catalog/items/{body['id']}", headers=h), 404)


def test_the_list_is_the_companys_own_paged_and_searched(client, world):
    h = world["supplier"]
    listed = client.get(f"{API}/catalog/items", headers=h).json
    assert [i["seller_item_id"] for i in listed["data"]] == ["CEM-50", "GUA-01", "TOR-38"]
    assert listed["next_offset"] is None
    page = client.get(f"{API}/catalog/items?limit=2", headers=h).json
    assert len(page["data"]) == 2 and page["next_offset"] == 2
    rest = client.get(f"{API}/catalog/items?limit=2&offset=2", headers=h).json
    assert [i["seller_item_id"] for i in rest["data"]] == ["TOR-38"]
    found = client.get(f"{API}/catalog/items?q=cemento", headers=h).json["data"]
    assert [i["seller_item_id"] for i in found] == ["CEM-50"]
    item(world["p"].supplier, "RET-1", "Retirado", "5", published=False)
    hidden = client.get(f"{API}/catalog/items?published=false", headers=h).json["data"]
    assert [i["seller_item_id"] for i in hidden] == ["RET-1"]
    # The buyer's own catalog is empty; the stranger's too.
    assert client.get(f"{API}/catalog/items", headers=world["buyer"]).json["data"] == []
    for bad in ("limit=0", "offset=-1", "published=maybe", "colour=red"):
        error_of(client.get(f"{API}/catalog/items?{bad}", headers=h), 422)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"seller_item_id": "CEM-50"}, "seller_item_id"),  # another item's code
        ({"seller_item_id": ""}, "seller_item_id"),
        ({"name": ""}, "name"),
        ({"standard_item_id": "7702004003509"}, "standard_item_id"),  # check digit
        ({"unit_code": "PARSEC"}, "unit_code"),
        ({"currency": "XYZ"}, "currency"),
        ({"currency": "cop"}, "currency"),
        ({"price": 15900}, "price"),  # a number, not text
        ({"price": "-1"}, "price"),
        ({"tax_percent": "101"}, "tax_percent"),
        ({"min_quantity": "0"}, "min_quantity"),
        ({"availability": "soon"}, "availability"),
        ({"visibility": "chosen"}, "customers"),  # nobody chosen
        ({"visibility": "chosen", "customers": [999999]}, "customers"),
        ({"lead_time_days": "3"}, "lead_time_days"),
        ({"categories": "Brocas"}, "categories"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_bad_item_is_refused_naming_its_field(client, world, change, field):
    error = error_of(client.post(f"{API}/catalog/items", headers=world["supplier"],
                                 json=new_item(**change)), 422)
    assert field in error["details"]["fields"], error


def test_a_chosen_customer_sees_the_item(client, world):
    p = world["p"]
    created = client.post(f"{API}/catalog/items", headers=world["supplier"],
                          json=new_item(visibility="chosen", customers=[p.buyer.id]))
    assert created.status_code == 201, created.json
    assert created.json["customers"] == [p.buyer.id]
    hits = client.get(f"{API}/catalog/search?q=broca", headers=world["buyer"]).json["data"]
    assert [h["item_code"] for h in hits] == ["BRO-10"]
    assert client.get(f"{API}/catalog/search?q=broca",
                      headers=world["stranger_h"]).json["data"] == []


def test_another_companys_item_is_not_found(client, world):
    p = world["p"]
    theirs = p.items["CEM-50"]
    h = world["stranger_h"]
    error_of(client.get(f"{API}/catalog/items/{theirs}", headers=h), 404)
    error_of(client.put(f"{API}/catalog/items/{theirs}", headers=h, json={}), 404)
    error_of(client.put(f"{API}/catalog/items/{theirs}", headers=h, json=new_item()), 404)
    error_of(client.delete(f"{API}/catalog/items/{theirs}", headers=h), 404)
    # Not even the buyer it is shown to may change it.
    error_of(client.get(f"{API}/catalog/items/{theirs}", headers=world["buyer"]), 404)
    assert row(theirs) is not None and row(theirs).name == "Cemento gris 50 kg"


def test_an_import_reports_each_row(client, world):
    content = (
        "código,nombre,precio,iva %,cantidad mínima\n"
        "CEM-50,Cemento gris 50 kg,33000,19,1\n"
        "NEW-1,Nuevo,1000,0,1\n"
        "BAD-1,,abc,,\n"
    ).encode()
    response = client.post(f"{API}/catalog/items/import", headers=world["supplier"],
                           data={"file": (io.BytesIO(content), "catalogo.csv")})
    assert response.status_code == 200, response.json
    report = response.json
    assert (report["accepted"], report["refused"]) == (2, 1)
    assert [(r["line"], r["code"], r["accepted"], r["created"]) for r in report["rows"]] == [
        (2, "CEM-50", True, False), (3, "NEW-1", True, True), (4, "BAD-1", False, False)]
    assert "name" in report["rows"][2]["message"] and report["skipped"][0]["line"] == 1
    assert row(world["p"].items["CEM-50"]).price == Decimal("33000")


def test_an_import_that_is_not_a_table_is_refused(client, world):
    h = world["supplier"]
    error = error_of(client.post(f"{API}/catalog/items/import", headers=h,
                                 data={"file": (io.BytesIO(b""), "x.csv")}), 422)
    assert "file" in error["details"]["fields"]
    error = error_of(client.post(f"{API}/catalog/items/import", headers=h,
                                 data={"other": (io.BytesIO(b"a,b"), "x.csv")}), 422)
    assert "file" in error["details"]["fields"]
    error_of(client.post(f"{API}/catalog/items/import", headers=h, json={}), 415)


# ---------------------------------------------------------------------------------- the buyer


def test_a_buyer_searches_at_its_own_prices(client, world):
    p = world["p"]
    db.session.add(CustomerPrice(company_id=p.supplier.id, item_id=p.items["CEM-50"],
                                 customer_company_id=p.buyer.id, price=Decimal("30000")))
    db.session.commit()
    h = world["buyer"]
    hits = client.get(f"{API}/catalog/search", headers=h).json
    assert [x["item_code"] for x in hits["data"]] == ["CEM-50", "GUA-01", "TOR-38"]
    cement = hits["data"][0]
    assert (cement["price"], cement["list_price"], cement["customer_price"]) == (
        "30000", "32000", True)
    assert cement["supplier_id"] == p.supplier.id and cement["own"] is False
    found = client.get(f"{API}/catalog/search?q=tornillo%20nandu", headers=h).json["data"]
    assert [x["item_code"] for x in found] == ["TOR-38"]
    cheap = client.get(f"{API}/catalog/search?price_max=10000", headers=h).json["data"]
    assert {x["item_code"] for x in cheap} == {"GUA-01", "TOR-38"}
    dear = client.get(f"{API}/catalog/search?price_min=30000.01", headers=h).json["data"]
    assert dear == []
    assert client.get(f"{API}/catalog/search?supplier_id={p.buyer.id}",
                      headers=h).json["data"] == []
    page = client.get(f"{API}/catalog/search?limit=2", headers=h).json
    assert page["next_offset"] == 2
    rest = client.get(f"{API}/catalog/search?limit=2&offset=2", headers=h).json
    assert [x["item_code"] for x in rest["data"]] == ["TOR-38"] and rest["next_offset"] is None
    # Words that look like operators are plain words.
    assert client.get(f"{API}/catalog/search?q=%22%28OR%20*", headers=h).status_code == 200
    for bad in ("price_min=cheap", "supplier_id=x", "limit=101", "sort=price"):
        error_of(client.get(f"{API}/catalog/search?{bad}", headers=h), 422)
    # The stranger is no customer of this supplier: its connected items are hidden.
    assert client.get(f"{API}/catalog/search", headers=world["stranger_h"]).json["data"] == []


def test_scopes_are_required(client, world):
    p = world["p"]
    theirs = p.items["CEM-50"]
    for method, url, kwargs in (
        ("POST", "/catalog/items", {"json": new_item()}),
        ("PUT", f"/catalog/items/{theirs}", {"json": new_item()}),
        ("DELETE", f"/catalog/items/{theirs}", {}),
        ("POST", "/catalog/items/import", {"data": {"file": (io.BytesIO(b"a"), "a.csv")}}),
    ):
        error = error_of(client.open(API + url, method=method, headers=world["buyer"], **kwargs),
                         403)
        assert error["details"]["required_scope"] == "catalog:write"
    for url in ("/catalog/items", f"/catalog/items/{theirs}", "/catalog/search"):
        error = error_of(client.get(API + url, headers=world["orders_only"]), 403)
        assert error["details"]["required_scope"] == "catalog:read"
    error_of(client.get(f"{API}/catalog/search"), 401)
    assert row(theirs) is not None
