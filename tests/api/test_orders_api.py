"""/api/v1/orders as ERPs use it: a buyer places orders (JSON or a UBL Order), the supplier
answers line by line, the buyer confirms or cancels; lists, one order, its UBL documents, the
order webhooks; scopes, other companies' ids, bad input and hostile XML."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import jsonschema_rs
import pytest
from flask_babel import force_locale
from lxml import etree
from sqlalchemy import select

from app.einvoice.ordering import read_ordering
from app.extensions import db
from app.models import Order, WebhookDelivery, WebhookEndpoint
from app.models.api import CATALOG_READ, ORDERS_READ, ORDERS_WRITE
from app.tenancy import unscoped
from tests.conftest import bearer, make_api_token, make_company
from tests.services.orders.helpers import item, parties, place

API = "/api/v1"
EN = {"Accept-Language": "en"}
XML = {"Content-Type": "application/xml"}
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


@pytest.fixture
def world(app, monkeypatch):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "100000 per minute")
    p = parties()
    stranger = make_company("Ajena Pedidos")
    orders = (ORDERS_READ, ORDERS_WRITE)
    return {
        "p": p,
        "stranger": stranger,
        "buyer": bearer(make_api_token(p.buyer, scopes=orders)[1]) | EN,
        "supplier": bearer(make_api_token(p.supplier, scopes=orders)[1]) | EN,
        "reader": bearer(make_api_token(p.buyer, scopes=(ORDERS_READ,))[1]) | EN,
        "catalog_only": bearer(make_api_token(p.buyer, scopes=(CATALOG_READ,))[1]) | EN,
        "stranger_h": bearer(make_api_token(stranger, scopes=orders)[1]) | EN,
    }


def order_body(p, **extra) -> dict:
    return {
        "supplier_id": p.supplier.id,
        "lines": [
            {"item_code": "TOR-38", "quantity": "10"},
            {"item_code": "gua-01", "quantity": "4"},
        ],
        **extra,
    }


def error_of(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"} and body["error"]["message"]
    return body["error"]


def stored(order_id: int) -> Order:
    return db.session.scalars(
        unscoped(select(Order).where(Order.id == order_id)).execution_options(
            populate_existing=True
        )
    ).one()


def webhook_schema(client, event: str) -> dict:
    spec = client.get(f"{API}/openapi.json").json
    hook = spec["webhooks"][event]["post"]
    schema = hook["requestBody"]["content"]["application/json"]["schema"]
    return {**schema, "components": spec["components"]}


# ------------------------------------------------------------------------------------ placing


def test_a_buyer_places_an_order_as_json_and_the_supplier_hears_of_it(client, world):
    p = world["p"]
    db.session.add(WebhookEndpoint(company_id=p.supplier.id, url="http://127.0.0.1:9/hooks",
                                   secret="whsec_x", events=["order.received"]))
    db.session.commit()
    wanted = (today() + dt.timedelta(days=10)).isoformat()
    response = client.post(f"{API}/orders", headers=world["buyer"], json=order_body(
        p, number="ERP-0001", delivery_date=wanted, buyer_reference="CC-7",
        delivery_address="Calle 1 # 2-3\nBodega 4", note="Por la puerta de atrás"))
    assert response.status_code == 201, response.json
    body = response.json
    assert response.headers["Location"].endswith(f"/api/v1/orders/{body['id']}")
    assert (body["number"], body["status"], body["side"], body["origin"]) == (
        "ERP-0001", "sent", "buyer", "api")
    assert body["delivery_date"] == wanted and body["buyer_reference"] == "CC-7"
    assert body["supplier"]["company_id"] == p.supplier.id
    assert [(li["position"], li["item_code"], li["quantity"], li["price"]) for li in
            body["lines"]] == [(1, "TOR-38", "10", "1250.5"), (2, "GUA-01", "4", "9000")]
    # 12505 + 36000, 19 % tax on each
    assert (body["line_extension"], body["tax_amount"], body["payable"]) == (
        "48505.00", "9215.95", "57720.95")
    assert stored(body["id"]).origin == "api"

    (delivery,) = db.session.scalars(unscoped(select(WebhookDelivery).where(
        WebhookDelivery.company_id == p.supplier.id))).all()
    assert delivery.event_type == "order.received"
    assert delivery.payload["data"]["id"] == body["id"]
    jsonschema_rs.validate(webhook_schema(client, "order.received"), delivery.payload)

    # The supplier reads it too, from its side.
    seen = client.get(f"{API}/orders/{body['id']}", headers=world["supplier"]).json
    assert seen["side"] == "supplier" and seen["lines"] == body["lines"]


def test_a_supplier_is_named_by_its_tax_id(client, world):
    p = world["p"]
    body = order_body(p)
    del body["supplier_id"]
    body["supplier_tax_id"] = p.supplier.tax_id
    response = client.post(f"{API}/orders", headers=world["buyer"], json=body)
    assert response.status_code == 201, response.json
    assert response.json["supplier"]["company_id"] == p.supplier.id


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"lines": [{"item_code": "NOPE", "quantity": "1"}]}, "lines[0].item_code"),
        ({"lines": [{"item_code": "CEM-50", "quantity": "1"},
                    {"item_code": "GUA-01", "quantity": "3"}]}, "lines[1].quantity"),  # a pack of 2
        ({"lines": [{"item_code": "GUA-01", "quantity": "0"}]}, "lines[0].quantity"),
        ({"lines": [{"item_code": "CEM-50", "quantity": 5}]}, "lines.0.quantity"),  # a number
        ({"lines": [{"item_code": "CEM-50", "quantity": "1e3"}]}, "lines.0.quantity"),
        ({"lines": []}, "lines"),
        ({"lines": [{"item_code": "CEM-50", "quantity": "1", "price": "1"}]}, "lines.0.price"),
        ({"delivery_date": "2020-01-01"}, "delivery_date"),  # past
        ({"delivery_date": "tomorrow"}, "delivery_date"),
        ({"supplier_id": "1"}, "supplier_id"),
        ({"colour": "red"}, "colour"),
        ({"number": "X" * 41}, "number"),
    ],
)
def test_a_bad_order_is_refused_naming_its_input(client, world, change, path):
    error = error_of(client.post(f"{API}/orders", headers=world["buyer"],
                                 json=order_body(world["p"]) | change), 422)
    assert path in error["details"]["fields"], error
    assert db.session.scalars(unscoped(select(Order))).all() == []


def test_a_number_used_already_is_refused(client, world):
    p = world["p"]
    assert client.post(f"{API}/orders", headers=world["buyer"],
                       json=order_body(p, number="N-1")).status_code == 201
    error = error_of(client.post(f"{API}/orders", headers=world["buyer"],
                                 json=order_body(p, number="N-1")), 422)
    assert "number" in error["details"]["fields"]


def test_a_supplier_the_buyer_cannot_order_from_is_refused(client, world):
    p = world["p"]
    # Connected only to its customers: the stranger sees none of its items.
    error = error_of(client.post(f"{API}/orders", headers=world["stranger_h"],
                                 json=order_body(p)), 422)
    assert "supplier_id" in error["details"]["fields"]
    for supplier_id in (999999, p.buyer.id):  # nobody, itself
        error = error_of(client.post(f"{API}/orders", headers=world["buyer"],
                                     json=order_body(p, supplier_id=supplier_id)), 422)
        assert "supplier_id" in error["details"]["fields"]
    body = order_body(p)
    del body["supplier_id"]
    error = error_of(client.post(f"{API}/orders", headers=world["buyer"],
                                 json=body | {"supplier_tax_id": "900000001"}), 422)
    assert "supplier_tax_id" in error["details"]["fields"]


def test_an_unpublished_item_is_not_orderable_by_code(client, world):
    p = world["p"]
    item(p.supplier, "OCULTO-1", "Oculto", "10", published=False)
    error = error_of(client.post(f"{API}/orders", headers=world["buyer"], json=order_body(
        p, lines=[{"item_code": "OCULTO-1", "quantity": "1"}])), 422)
    assert list(error["details"]["fields"]) == ["lines[0].item_code"]


def test_an_idempotency_key_answers_the_first_order_again(client, world):
    p = world["p"]
    keyed = world["buyer"] | {"Idempotency-Key": "erp-42"}
    first = client.post(f"{API}/orders", headers=keyed, json=order_body(p))
    again = client.post(f"{API}/orders", headers=keyed, json=order_body(p))
    assert first.status_code == again.status_code == 201
    assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == first.headers["Location"]
    assert len(db.session.scalars(unscoped(select(Order))).all()) == 1
    other = client.post(f"{API}/orders", headers=keyed, json=order_body(p, note="otra"))
    assert other.status_code in (409, 422)


# ----------------------------------------------------------------------------------- the XML


def test_a_ubl_order_the_portal_wrote_is_placed_again_under_a_new_number(client, world):
    p = world["p"]
    first = place(p, {"CEM-50": "3", "GUA-01": "6"}, buyer_reference="REF-9")
    xml = client.get(f"{API}/orders/{first}/xml", headers=world["buyer"])
    assert xml.status_code == 200 and xml.mimetype == "application/xml"
    root = etree.fromstring(xml.data)
    root.find(f"{{{CBC}}}ID").text = "ERP-XML-1"
    sent = client.post(f"{API}/orders", headers=world["buyer"] | XML,
                       data=etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    assert sent.status_code == 201, sent.json
    body = sent.json
    assert (body["number"], body["origin"], body["buyer_reference"]) == (
        "ERP-XML-1", "api", "REF-9")
    assert body["supplier"]["company_id"] == p.supplier.id
    assert [(li["item_code"], li["quantity"]) for li in body["lines"]] == [
        ("CEM-50", "3"), ("GUA-01", "6")]
    # The same document again: its number is taken.
    again = client.post(f"{API}/orders", headers=world["buyer"] | XML,
                        data=etree.tostring(root))
    assert "number" in error_of(again, 422)["details"]["fields"]


def _portal_order(client, world, **quantities) -> etree._Element:
    p = world["p"]
    first = place(p, quantities or {"CEM-50": "1"})
    return etree.fromstring(client.get(f"{API}/orders/{first}/xml", headers=world["buyer"]).data)


def test_a_ubl_order_names_the_line_it_refuses(client, world):
    root = _portal_order(client, world, **{"CEM-50": "1", "GUA-01": "2"})
    root.find(f"{{{CBC}}}ID").text = "ERP-XML-2"
    ids = root.findall(".//{*}SellersItemIdentification/{*}ID")
    ids[1].text = "NO-SUCH"
    quantities = root.findall(".//{*}LineItem/{*}Quantity")
    quantities[0].text = "0"
    error = error_of(client.post(f"{API}/orders", headers=world["buyer"] | XML,
                                 data=etree.tostring(root)), 422)
    assert set(error["details"]["fields"]) == {"lines[0].quantity", "lines[1].item_code"}


def test_a_ubl_order_of_another_buyer_or_seller_is_refused(client, world):
    root = _portal_order(client, world)
    root.find(f"{{{CBC}}}ID").text = "ERP-XML-3"
    # Posted by a company that is not its buyer.
    error = error_of(client.post(f"{API}/orders", headers=world["stranger_h"] | XML,
                                 data=etree.tostring(root)), 422)
    assert "Order.BuyerCustomerParty" in error["details"]["fields"]
    seller = root.find("{*}SellerSupplierParty/{*}Party/{*}EndpointID")
    seller.text = "CO900000001"
    error = error_of(client.post(f"{API}/orders", headers=world["buyer"] | XML,
                                 data=etree.tostring(root)), 422)
    assert "Order.SellerSupplierParty" in error["details"]["fields"]


HOSTILE = [
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>',
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><r>&b;</r>',
    b"<Order><unclosed>",
    b"",
    b"<" + b"a>" * 0 + b"<a>" * 5000 + b"</a>" * 5000,
    b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"/>',
    b'<OrderResponse xmlns="urn:oasis:names:specification:ubl:schema:xsd:OrderResponse-2"/>',
    b"\xff\xfe\x00\x00<",
]


@pytest.mark.parametrize("data", HOSTILE)
def test_hostile_or_foreign_xml_is_refused_without_a_server_error(client, world, data):
    response = client.post(f"{API}/orders", headers=world["buyer"] | XML, data=data)
    assert response.status_code in (400, 413, 422), response.get_data(as_text=True)
    assert "body" in error_of(response, response.status_code)["details"].get("fields", {})
    assert db.session.scalars(unscoped(select(Order))).all() == []


def test_an_order_body_that_is_neither_json_nor_xml_is_refused(client, world):
    response = client.post(f"{API}/orders", headers=world["buyer"] | {
        "Content-Type": "text/plain"}, data=b"TOR-38;10")
    error_of(response, 415)
    error_of(client.post(f"{API}/orders", headers=world["buyer"] | {
        "Content-Type": "application/json"}, data=b"{"), 400)


# ------------------------------------------------------------------------------------ reading


def test_the_lists_show_each_side_its_orders_with_filters_and_pages(client, world):
    p = world["p"]
    ids = [place(p, {"CEM-50": "1"}) for _ in range(3)]
    for order_id in ids:  # placed earlier in the year
        stored(order_id).issue_date = dt.date(2026, 3, 1)
    db.session.commit()
    client.post(f"{API}/orders", headers=world["buyer"], json=order_body(p))
    listed = client.get(f"{API}/orders", headers=world["reader"]).json["data"]
    assert len(listed) == 4 and listed[-1]["id"] == ids[0]
    assert listed[0]["partner_name"] == p.supplier.trade_name
    received = client.get(f"{API}/orders?side=supplier", headers=world["supplier"]).json
    assert {o["id"] for o in received["data"]} == {o["id"] for o in listed}
    assert client.get(f"{API}/orders?side=supplier", headers=world["buyer"]).json["data"] == []
    assert client.get(f"{API}/orders", headers=world["stranger_h"]).json["data"] == []
    # Pages
    page = client.get(f"{API}/orders?limit=3", headers=world["buyer"]).json
    rest = client.get(f"{API}/orders?limit=3&cursor={page['next_cursor']}",
                      headers=world["buyer"]).json
    assert [o["id"] for o in page["data"] + rest["data"]] == [o["id"] for o in listed]
    assert rest["next_cursor"] is None
    # Status and days
    client.post(f"{API}/orders/{ids[1]}/cancel", headers=world["buyer"])
    cancelled = client.get(f"{API}/orders?status=cancelled", headers=world["buyer"]).json
    assert [o["id"] for o in cancelled["data"]] == [ids[1]]
    march = client.get(f"{API}/orders?since=2026-02-01&until=2026-03-01",
                       headers=world["buyer"]).json
    assert {o["id"] for o in march["data"]} == set(ids)
    later = client.get(f"{API}/orders?since=2026-03-02", headers=world["buyer"]).json
    assert [o["id"] for o in later["data"]] == [listed[0]["id"]]
    for bad in ("side=both", "status=lost", "since=ayer", "limit=0", "cursor=x", "page=2"):
        error_of(client.get(f"{API}/orders?{bad}", headers=world["buyer"]), 422)


def test_another_companys_order_is_not_found(client, world):
    order_id = place(world["p"], {"CEM-50": "1"})
    h = world["stranger_h"]
    for method, url in (("GET", ""), ("GET", "/xml"), ("POST", "/confirm"), ("POST", "/cancel")):
        error = error_of(client.open(f"{API}/orders/{order_id}{url}", method=method, headers=h),
                         404)
        assert error["code"] == "not_found"
    error_of(client.post(f"{API}/orders/{order_id}/response", headers=h, json={}), 404)
    error_of(client.get(f"{API}/orders/999999", headers=world["buyer"]), 404)
    assert stored(order_id).status == "sent"


def test_the_response_document_is_not_found_before_the_answer(client, world):
    order_id = place(world["p"], {"CEM-50": "1"})
    error_of(client.get(f"{API}/orders/{order_id}/xml?kind=response", headers=world["buyer"]),
             404)
    error_of(client.get(f"{API}/orders/{order_id}/xml?kind=despatch", headers=world["buyer"]),
             422)


# ---------------------------------------------------------------------------------- answering


def test_the_supplier_answers_with_changes_and_the_buyer_confirms(client, world):
    p = world["p"]
    db.session.add(WebhookEndpoint(company_id=p.buyer.id, url="http://127.0.0.1:9/hooks",
                                   secret="whsec_x", events=["order.responded"]))
    db.session.commit()
    order_id = place(p, {"TOR-38": "10", "CEM-50": "2", "GUA-01": "2"})
    later = (today() + dt.timedelta(days=5)).isoformat()
    answered = client.post(f"{API}/orders/{order_id}/response", headers=world["supplier"], json={
        "lines": [
            {"position": 1, "status": "changed", "quantity": "8", "price": "1200",
             "delivery_date": later},
            {"position": 2, "status": "rejected"},
        ],
        "note": "Sin más tornillos",
    })
    assert answered.status_code == 200, answered.json
    body = answered.json
    assert body["status"] == "changed" and body["response_note"] == "Sin más tornillos"
    assert [(li["status"], li["agreed_quantity"], li["agreed_price"]) for li in body["lines"]] == [
        ("changed", "8", "1200"), ("rejected", None, None), ("accepted", None, None)]
    assert body["lines"][0]["agreed_delivery_date"] == later
    response_xml = client.get(f"{API}/orders/{order_id}/xml?kind=response",
                              headers=world["buyer"])
    document, _findings = read_ordering(response_xml.data)
    assert document is not None and document.response_code == "CA"

    # Answered once.
    again = client.post(f"{API}/orders/{order_id}/response", headers=world["supplier"],
                        json={"lines": []})
    assert error_of(again, 409)["code"] == "conflict"
    # The supplier does not confirm for the buyer.
    assert error_of(client.post(f"{API}/orders/{order_id}/confirm",
                                headers=world["supplier"]), 403)["code"] == "forbidden"
    confirmed = client.post(f"{API}/orders/{order_id}/confirm", headers=world["buyer"])
    assert confirmed.status_code == 200 and confirmed.json["status"] == "confirmed"
    error_of(client.post(f"{API}/orders/{order_id}/confirm", headers=world["buyer"]), 409)
    error_of(client.post(f"{API}/orders/{order_id}/cancel", headers=world["buyer"]), 409)

    hooks = db.session.scalars(unscoped(select(WebhookDelivery).where(
        WebhookDelivery.company_id == p.buyer.id).order_by(WebhookDelivery.id))).all()
    assert [h.payload["data"]["status"] for h in hooks] == ["changed", "confirmed"]
    schema = webhook_schema(client, "order.responded")
    for hook in hooks:
        jsonschema_rs.validate(schema, hook.payload)


def test_lines_left_out_are_accepted(client, world):
    order_id = place(world["p"], {"CEM-50": "2"})
    answered = client.post(f"{API}/orders/{order_id}/response", headers=world["supplier"],
                           json={})
    assert answered.status_code == 200 and answered.json["status"] == "accepted"


@pytest.mark.parametrize(
    ("lines", "path"),
    [
        ([{"position": 9, "status": "accepted"}], "lines[0].position"),
        ([{"position": 1, "status": "accepted"}, {"position": 1, "status": "rejected"}],
         "lines[1].position"),
        ([{"position": 1, "status": "changed"}], "lines[0]"),  # nothing changes
        ([{"position": 1, "status": "changed", "quantity": "0"}], "lines[0]"),
        ([{"position": 1, "status": "changed", "delivery_date": "2020-01-01"}], "lines[0]"),
        ([{"position": 1, "status": "changed", "substitute_item_code": "NOPE"}], "lines[0]"),
        ([{"position": 1, "status": "maybe"}], "lines.0.status"),
        ([{"position": "1", "status": "accepted"}], "lines.0.position"),
        ([{"position": 1, "status": "changed", "price": 10}], "lines.0.price"),
    ],
)
def test_a_bad_answer_is_refused_naming_its_line(client, world, lines, path):
    order_id = place(world["p"], {"CEM-50": "2"})
    error = error_of(client.post(f"{API}/orders/{order_id}/response", headers=world["supplier"],
                                 json={"lines": lines}), 422)
    assert path in error["details"]["fields"], error
    assert stored(order_id).status == "sent"


def test_a_substitute_is_named_by_its_code(client, world):
    p = world["p"]
    order_id = place(p, {"CEM-50": "2"})
    answered = client.post(f"{API}/orders/{order_id}/response", headers=world["supplier"],
                           json={"lines": [{"position": 1, "status": "changed",
                                            "substitute_item_code": "tor-38"}]})
    assert answered.status_code == 200, answered.json
    assert answered.json["lines"][0]["substitute_item_code"] == "TOR-38"


def test_only_the_supplier_answers_and_the_buyer_cancels(client, world):
    order_id = place(world["p"], {"CEM-50": "2"})
    error = error_of(client.post(f"{API}/orders/{order_id}/response", headers=world["buyer"],
                                 json={}), 403)
    assert error["code"] == "forbidden"
    error_of(client.post(f"{API}/orders/{order_id}/cancel", headers=world["supplier"]), 403)
    cancelled = client.post(f"{API}/orders/{order_id}/cancel", headers=world["buyer"])
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    error_of(client.post(f"{API}/orders/{order_id}/response", headers=world["supplier"],
                         json={}), 409)


def test_scopes_are_required(client, world):
    order_id = place(world["p"], {"CEM-50": "2"})
    for method, url, kwargs in (
        ("POST", "/orders", {"json": order_body(world["p"])}),
        ("POST", f"/orders/{order_id}/cancel", {}),
        ("POST", f"/orders/{order_id}/confirm", {}),
        ("POST", f"/orders/{order_id}/response", {"json": {}}),
    ):
        error = error_of(client.open(API + url, method=method, headers=world["reader"], **kwargs),
                         403)
        assert error["details"]["required_scope"] == "orders:write"
    for url in ("/orders", f"/orders/{order_id}", f"/orders/{order_id}/xml"):
        error = error_of(client.get(API + url, headers=world["catalog_only"]), 403)
        assert error["details"]["required_scope"] == "orders:read"
    error_of(client.get(f"{API}/orders"), 401)
    assert stored(order_id).status == "sent"
    assert Decimal(stored(order_id).payable) > 0


# --------------------------------------------------------------------------------- cancelling


def test_the_buyer_says_why_it_cancels_and_the_supplier_reads_it(client, world):
    p = world["p"]
    db.session.add(WebhookEndpoint(company_id=p.supplier.id, url="http://127.0.0.1:9/hooks",
                                   secret="whsec_x", events=["order.responded"]))
    db.session.commit()
    order_id = place(p, {"CEM-50": "2"})
    assert client.get(f"{API}/orders/{order_id}", headers=world["buyer"]).json[
        "cancel_reason"] == ""
    cancelled = client.post(f"{API}/orders/{order_id}/cancel", headers=world["buyer"],
                            json={"reason": "  Pedido duplicado: use OC-9  "})
    assert cancelled.status_code == 200, cancelled.json
    assert cancelled.json["cancel_reason"] == "Pedido duplicado: use OC-9"
    seen = client.get(f"{API}/orders/{order_id}", headers=world["supplier"]).json
    assert (seen["status"], seen["cancel_reason"]) == ("cancelled", "Pedido duplicado: use OC-9")
    (hook,) = db.session.scalars(unscoped(select(WebhookDelivery).where(
        WebhookDelivery.company_id == p.supplier.id))).all()
    assert hook.payload["data"]["cancel_reason"] == "Pedido duplicado: use OC-9"
    jsonschema_rs.validate(webhook_schema(client, "order.responded"), hook.payload)


def test_a_cancellation_without_a_body_or_with_an_empty_one_gives_no_reason(client, world):
    first, second = place(world["p"], {"CEM-50": "1"}), place(world["p"], {"CEM-50": "1"})
    assert client.post(f"{API}/orders/{first}/cancel", headers=world["buyer"]).json[
        "cancel_reason"] == ""
    assert client.post(f"{API}/orders/{second}/cancel", headers=world["buyer"],
                       json={}).json["cancel_reason"] == ""


@pytest.mark.parametrize(
    ("body", "status", "path"),
    [
        ({"reason": "x" * 501}, 422, "reason"),
        ({"reason": 12}, 422, "reason"),
        ({"reason": None}, 422, "reason"),
        ({"why": "no"}, 422, "why"),
        (["no"], 422, "body"),
    ],
)
def test_a_bad_cancellation_is_refused_and_changes_nothing(client, world, body, status, path):
    order_id = place(world["p"], {"CEM-50": "1"})
    error = error_of(client.post(f"{API}/orders/{order_id}/cancel", headers=world["buyer"],
                                 json=body), status)
    assert path in error["details"]["fields"], error
    error_of(client.post(f"{API}/orders/{order_id}/cancel", headers=world["buyer"] | {
        "Content-Type": "text/plain"}, data=b"no"), 415)
    assert stored(order_id).status == "sent" and stored(order_id).cancel_reason == ""


def test_a_reason_of_500_characters_is_kept_whole(client, world):
    order_id = place(world["p"], {"CEM-50": "1"})
    reason = "ñ" * 500
    cancelled = client.post(f"{API}/orders/{order_id}/cancel", headers=world["buyer"],
                            json={"reason": reason})
    assert cancelled.status_code == 200 and cancelled.json["cancel_reason"] == reason
    assert stored(order_id).cancel_reason == reason


# --------------------------------------------------------------------------------- deliveries


def agreed_order(client, world, quantities: dict[str, str]) -> int:
    order_id = place(world["p"], quantities)
    answered = client.post(f"{API}/orders/{order_id}/response", headers=world["supplier"],
                           json={})
    assert answered.json["status"] == "accepted"
    return order_id


def deliver(client, world, order_id, side, body):
    return client.post(f"{API}/orders/{order_id}/deliveries", headers=world[side], json=body)


def test_the_supplier_despatches_and_the_buyer_receives_through_the_api(client, world):
    order_id = agreed_order(client, world, {"TOR-38": "100", "CEM-50": "10"})
    day = today().isoformat()
    sent = deliver(client, world, order_id, "supplier", {
        "kind": "despatch", "note": "Camión 2", "day": day,
        "lines": [{"position": 1, "quantity": "60"}, {"position": 2, "quantity": "10"}]})
    assert sent.status_code == 201, sent.json
    body = sent.json
    assert (body["kind"], body["number"], body["day"], body["note"], body["has_document"]) == (
        "despatch", f"{stored(order_id).number}-D1", day, "Camión 2", True)
    assert [(li["position"], li["item_code"], li["quantity"]) for li in body["lines"]] == [
        (1, "TOR-38", "60"), (2, "CEM-50", "10")]
    # The DespatchAdvice, as the portal writes it.
    xml = client.get(f"{API}/orders/{order_id}/deliveries/{body['id']}/xml",
                     headers=world["buyer"])
    assert xml.status_code == 200 and xml.mimetype == "application/xml"
    document, _findings = read_ordering(xml.data)
    assert document.document_type == "DespatchAdvice"
    assert document.order_reference == stored(order_id).number
    assert [line.delivered_quantity for line in document.lines] == [Decimal(60), Decimal(10)]

    got = deliver(client, world, order_id, "buyer", {
        "kind": "receipt", "lines": [{"position": 1, "quantity": "59.5"}]})
    assert got.status_code == 201, got.json
    assert (got.json["kind"], got.json["has_document"]) == ("receipt", False)
    error_of(client.get(f"{API}/orders/{order_id}/deliveries/{got.json['id']}/xml",
                        headers=world["buyer"]), 404)  # a receipt has no document

    for side in ("buyer", "supplier"):
        listed = client.get(f"{API}/orders/{order_id}/deliveries", headers=world[side]).json
        assert [(d["kind"], d["number"]) for d in listed["data"]] == [
            ("despatch", body["number"]), ("receipt", f"{stored(order_id).number}-E1")]
    lines = client.get(f"{API}/orders/{order_id}", headers=world["reader"]).json["lines"]
    assert [(li["despatched_quantity"], li["received_quantity"]) for li in lines] == [
        ("60", "59.5"), ("10", "0")]


def test_deliveries_never_go_past_what_was_agreed(client, world):
    order_id = agreed_order(client, world, {"TOR-38": "100", "CEM-50": "10"})
    first = deliver(client, world, order_id, "supplier", {
        "kind": "despatch", "lines": [{"position": 1, "quantity": "60"}]})
    assert first.status_code == 201
    too_much = deliver(client, world, order_id, "supplier", {
        "kind": "despatch", "lines": [{"position": 2, "quantity": "1"},
                                      {"position": 1, "quantity": "40.000001"}]})
    with force_locale("en"):
        error = error_of(too_much, 422)
    assert list(error["details"]["fields"]) == ["lines[1]"]
    assert "60 of 100 already recorded" in error["details"]["fields"]["lines[1]"][0]
    # A receipt counts against the agreed quantity too (not against what was despatched).
    error_of(deliver(client, world, order_id, "buyer", {
        "kind": "receipt", "lines": [{"position": 2, "quantity": "11"}]}), 422)
    rest = deliver(client, world, order_id, "supplier", {
        "kind": "despatch", "lines": [{"position": 1, "quantity": "40"}]})
    assert rest.status_code == 201
    error_of(deliver(client, world, order_id, "supplier", {
        "kind": "despatch", "lines": [{"position": 1, "quantity": "0.000001"}]}), 422)
    assert [(line["despatched_quantity"]) for line in client.get(
        f"{API}/orders/{order_id}", headers=world["buyer"]).json["lines"]] == ["100", "0"]


@pytest.mark.parametrize(
    ("lines", "path"),
    [
        ([{"position": 9, "quantity": "1"}], "lines[0].position"),
        ([{"position": 1, "quantity": "1"}, {"position": 1, "quantity": "2"}],
         "lines[1].position"),
        ([{"position": 1, "quantity": "0"}], "lines"),  # nothing delivered
        ([{"position": 1, "quantity": "-1"}], "lines.0.quantity"),
        ([{"position": 1, "quantity": "1e3"}], "lines.0.quantity"),
        ([{"position": 1, "quantity": "1,5"}], "lines.0.quantity"),
        ([{"position": 1, "quantity": "1.0000001"}], "lines.0.quantity"),
        ([{"position": 1, "quantity": "9999999999999"}], "lines.0.quantity"),  # 13 digits
        ([{"position": 1, "quantity": "999999999999"}], "lines[0]"),  # more than agreed
        ([{"position": 1, "quantity": 5}], "lines.0.quantity"),
        ([{"position": "1", "quantity": "5"}], "lines.0.position"),
        ([{"position": 0, "quantity": "5"}], "lines.0.position"),
        ([{"position": 1}], "lines.0.quantity"),
        ([], "lines"),
    ],
)
def test_a_bad_delivery_is_refused_naming_its_line(client, world, lines, path):
    order_id = agreed_order(client, world, {"TOR-38": "10"})
    error = error_of(deliver(client, world, order_id, "supplier", {
        "kind": "despatch", "lines": lines}), 422)
    assert path in error["details"]["fields"], error
    assert client.get(f"{API}/orders/{order_id}/deliveries",
                      headers=world["buyer"]).json["data"] == []


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "gift", "lines": [{"position": 1, "quantity": "1"}]},
        {"kind": "despatch", "day": "mañana", "lines": [{"position": 1, "quantity": "1"}]},
        {"kind": "despatch", "note": "x" * 2001, "lines": [{"position": 1, "quantity": "1"}]},
        {"kind": "despatch", "lines": [{"position": 1, "quantity": "1"}], "extra": True},
        {"kind": "despatch", "lines": [{"position": 1, "quantity": "1"}] * 501},
    ],
)
def test_a_delivery_of_the_wrong_shape_is_refused(client, world, body):
    order_id = agreed_order(client, world, {"TOR-38": "10"})
    error_of(deliver(client, world, order_id, "supplier", body), 422)


def test_a_delivery_dated_in_the_future_is_refused(client, world):
    order_id = agreed_order(client, world, {"TOR-38": "10"})
    later = (today() + dt.timedelta(days=3)).isoformat()
    error = error_of(deliver(client, world, order_id, "supplier", {
        "kind": "despatch", "day": later, "lines": [{"position": 1, "quantity": "1"}]}), 422)
    assert "day" in error["details"]["fields"]


def test_each_side_records_only_its_own_deliveries_and_only_on_agreed_orders(client, world):
    waiting = place(world["p"], {"TOR-38": "10"})
    one = [{"position": 1, "quantity": "1"}]
    error_of(deliver(client, world, waiting, "supplier", {"kind": "despatch", "lines": one}),
             409)
    order_id = agreed_order(client, world, {"TOR-38": "10"})
    with force_locale("en"):
        forbidden = error_of(deliver(client, world, order_id, "buyer", {
            "kind": "despatch", "lines": one}), 403)
    assert forbidden["code"] == "forbidden" and "despatch" in forbidden["message"]
    error_of(deliver(client, world, order_id, "supplier", {"kind": "receipt", "lines": one}),
             403)
    assert client.get(f"{API}/orders/{order_id}/deliveries",
                      headers=world["buyer"]).json["data"] == []


def test_another_companys_order_and_deliveries_are_not_found(client, world):
    order_id = agreed_order(client, world, {"TOR-38": "10"})
    despatch = deliver(client, world, order_id, "supplier", {
        "kind": "despatch", "lines": [{"position": 1, "quantity": "1"}]}).json
    h = world["stranger_h"]
    for method, url, kwargs in (
        ("GET", "/deliveries", {}),
        ("GET", f"/deliveries/{despatch['id']}/xml", {}),
        ("POST", "/deliveries", {"json": {"kind": "receipt",
                                          "lines": [{"position": 1, "quantity": "1"}]}}),
        ("POST", "/deliveries", {"json": {"wrong": "shape"}}),  # 404 before the body is read
        ("POST", "/cancel", {"json": {"reason": "x"}}),
    ):
        error = error_of(client.open(f"{API}/orders/{order_id}{url}", method=method, headers=h,
                                     **kwargs), 404)
        assert error["code"] == "not_found"
    # Another order's delivery is not this order's.
    other = agreed_order(client, world, {"CEM-50": "1"})
    error_of(client.get(f"{API}/orders/{other}/deliveries/{despatch['id']}/xml",
                        headers=world["buyer"]), 404)
    error_of(client.get(f"{API}/orders/{order_id}/deliveries/999999/xml",
                        headers=world["buyer"]), 404)
    assert stored(order_id).status == "accepted"


def test_a_despatch_sent_twice_with_one_idempotency_key_is_recorded_once(client, world):
    order_id = agreed_order(client, world, {"TOR-38": "10"})
    headers = world["supplier"] | {"Idempotency-Key": "despatch-1"}
    body = {"kind": "despatch", "lines": [{"position": 1, "quantity": "4"}]}
    first = client.post(f"{API}/orders/{order_id}/deliveries", headers=headers, json=body)
    again = client.post(f"{API}/orders/{order_id}/deliveries", headers=headers, json=body)
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true" and again.json == first.json
    assert len(client.get(f"{API}/orders/{order_id}/deliveries",
                          headers=world["buyer"]).json["data"]) == 1


def test_delivery_scopes_are_required(client, world):
    order_id = agreed_order(client, world, {"TOR-38": "10"})
    body = {"kind": "receipt", "lines": [{"position": 1, "quantity": "1"}]}
    error = error_of(client.post(f"{API}/orders/{order_id}/deliveries", headers=world["reader"],
                                 json=body), 403)
    assert error["details"]["required_scope"] == "orders:write"
    for url in (f"/orders/{order_id}/deliveries", f"/orders/{order_id}/deliveries/1/xml"):
        error = error_of(client.get(API + url, headers=world["catalog_only"]), 403)
        assert error["details"]["required_scope"] == "orders:read"
    error_of(client.get(f"{API}/orders/{order_id}/deliveries"), 401)
