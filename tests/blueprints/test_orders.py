"""The ordering pages: searching the catalogs, the cart, placing an order, the supplier's tray and
answer, the buyer's confirmation, deliveries, the documents, the invoice made from an order and
the match tolerances; and who may open what."""

from __future__ import annotations

import html
import io
import re
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.extensions import db
from app.models import Document, Order, OrderLine
from app.tenancy import unscoped
from tests.blueprints.test_issuing import numbering_data
from tests.conftest import login, make_company, make_user
from tests.services.inbox_helpers import give_certificate
from tests.services.orders.helpers import parties


@pytest.fixture
def p():
    return parties()


def browser(app, user, company, locale: str = "en"):
    client = app.test_client()
    with client.session_transaction() as session:
        session["locale"] = locale
    login(client, user, company)
    return client


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True)).replace("\xa0", " ")


def csrf(client, url: str) -> str:
    page = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def orders():
    return db.session.scalars(unscoped(select(Order)).execution_options(
        populate_existing=True)).all()


def test_a_buyer_finds_items_fills_its_cart_and_orders(app, p):
    buyer = browser(app, p.purchaser, p.buyer)
    page = text(buyer.get("/orders/shop?q=tornillo"))
    assert "Tornillo ñandú" in page and "Ferretería Andina" in page
    assert "Cemento" not in page
    token = csrf(buyer, "/orders/shop")
    for code, quantity in (("TOR-38", "100"), ("CEM-50", "10"), ("GUA-01", "3")):
        buyer.post("/orders/cart/add", data={"csrf_token": token, "item": p.items[code],
                                              "quantity": quantity, "back": "/orders/shop"})
    cart = text(buyer.get("/orders/cart"))
    assert "Tornillo ñandú" in cart and "Cemento gris" in cart
    # 3 is not a whole pack of 2: refused with a message, not in the cart.
    assert f'data-item="{p.items["GUA-01"]}"' not in cart and "packs of 2" in cart
    response = buyer.post("/orders/cart/place", data={
        "csrf_token": token, "supplier": p.supplier.id, "delivery_date": "2099-01-31",
        "delivery_address": "Obra Calle 80", "buyer_reference": "CC-OBRA-12"})
    assert response.status_code == 303
    (order,) = orders()
    assert order.buyer_reference == "CC-OBRA-12" and order.status == "sent"
    page = text(buyer.get(f"/orders/{order.id}"))
    assert order.number in page and "Sent" in page
    xml = buyer.get(f"/orders/{order.id}/document?kind=order")
    assert xml.status_code == 200 and b"<cbc:ID>" in xml.data and b"OC-000001" in xml.data
    assert "cart-empty" in buyer.get("/orders/cart").get_data(as_text=True)


def test_a_past_delivery_date_comes_back_with_words_and_the_cart_stays(app, p):
    buyer = browser(app, p.purchaser, p.buyer)
    token = csrf(buyer, "/orders/shop")
    buyer.post("/orders/cart/add", data={"csrf_token": token, "item": p.items["CEM-50"],
                                          "quantity": "1"})
    response = buyer.post("/orders/cart/place", data={
        "csrf_token": token, "supplier": p.supplier.id, "delivery_date": "2001-01-01"})
    assert response.status_code == 422 and "before today" in text(response)
    assert orders() == [] and "Cemento gris" in text(buyer.get("/orders/cart"))


def place_through_pages(app, p) -> int:
    buyer = browser(app, p.purchaser, p.buyer)
    token = csrf(buyer, "/orders/shop")
    for code, quantity in (("TOR-38", "100"), ("CEM-50", "10"), ("GUA-01", "4")):
        buyer.post("/orders/cart/add", data={"csrf_token": token, "item": p.items[code],
                                              "quantity": quantity})
    buyer.post("/orders/cart/place", data={"csrf_token": token, "supplier": p.supplier.id})
    return orders()[0].id


def test_the_supplier_changes_a_line_and_the_buyer_confirms(app, p):
    order_id = place_through_pages(app, p)
    seller = browser(app, p.seller, p.supplier)
    tray = text(seller.get("/orders/received"))
    assert "OC-000001" in tray and "Constructora Bolívar" in tray
    token = csrf(seller, f"/orders/{order_id}")
    response = seller.post(f"/orders/{order_id}/respond", data={
        "csrf_token": token, "line-1-status": "accepted", "line-2-status": "accepted",
        "line-3-status": "changed", "line-3-quantity": "2", "note": "Solo 2 pares"},
        follow_redirects=True)
    assert "changed by the supplier" in text(response).lower()
    buyer = browser(app, p.purchaser, p.buyer)
    page = text(buyer.get(f"/orders/{order_id}"))
    assert "confirm the changes" in page.lower() and "Solo 2 pares" in page
    token = csrf(buyer, f"/orders/{order_id}")
    buyer.post(f"/orders/{order_id}/confirm", data={"csrf_token": token})
    assert orders()[0].status == "confirmed"
    response = buyer.get(f"/orders/{order_id}/document?kind=response")
    assert response.status_code == 200 and b"OrderResponse" in response.data


def test_a_wrong_answer_is_said_and_the_order_stays_sent(app, p):
    order_id = place_through_pages(app, p)
    seller = browser(app, p.seller, p.supplier)
    token = csrf(seller, f"/orders/{order_id}")
    response = seller.post(f"/orders/{order_id}/respond", data={
        "csrf_token": token, "line-1-status": "changed", "line-1-quantity": "muchos"},
        follow_redirects=True)
    assert "must be numbers" in text(response)
    assert orders()[0].status == "sent"


def test_deliveries_and_the_invoice_made_from_the_order(app, p):
    order_id = place_through_pages(app, p)
    seller = browser(app, p.seller, p.supplier)
    token = csrf(seller, f"/orders/{order_id}")
    seller.post(f"/orders/{order_id}/respond", data={"csrf_token": token})
    response = seller.post(f"/orders/{order_id}/deliveries", data={
        "csrf_token": token, "kind": "despatch", "qty-1": "60", "qty-2": "10", "qty-3": "4"},
        follow_redirects=True)
    assert "was recorded" in text(response)
    too_much = seller.post(f"/orders/{order_id}/deliveries", data={
        "csrf_token": token, "kind": "despatch", "qty-2": "1"}, follow_redirects=True)
    assert "too much" in text(too_much)
    # The supplier may not record the buyer's receipt.
    assert seller.post(f"/orders/{order_id}/deliveries", data={
        "csrf_token": token, "kind": "receipt", "qty-1": "1"}).status_code in (403, 404)
    buyer = browser(app, p.purchaser, p.buyer)
    btoken = csrf(buyer, f"/orders/{order_id}")
    buyer.post(f"/orders/{order_id}/deliveries", data={
        "csrf_token": btoken, "kind": "receipt", "qty-1": "60", "qty-2": "10"})
    lines = db.session.scalars(unscoped(select(OrderLine).order_by(OrderLine.position))
                               .execution_options(populate_existing=True)).all()
    assert [line.received_quantity for line in lines] == [60, 10, 0]
    # The supplier's owner opens the invoice form filled from what was received, and sends it.
    give_certificate(p.supplier)
    owner = browser(app, make_user(p.supplier, role="owner"), p.supplier)
    assert owner.post("/issue/numbering", data=numbering_data()).status_code == 302
    form = owner.get(f"/issue/invoice?order={order_id}")
    page = text(form)
    assert "from-order" in form.get_data(as_text=True) and "OC-000001" in page
    assert "Tornillo ñandú" in page and 'value="60"' in page and 'value="TOR-38"' in page
    assert "Guantes" not in page  # nothing of it was received
    response = owner.post("/issue/invoice", data={
        "csrf_token": csrf(owner, "/issue/invoice"), "customer_id": str(p.buyer.id),
        "order_reference": "OC-000001", "payment_means": "10", "confirm": "1",
        "lines-0-description": "Tornillo ñandú 3/8\"", "lines-0-quantity": "60",
        "lines-0-unit_price": "1250.50", "lines-0-tax": "IVA19",
        "lines-0-item_code": "TOR-38", "lines-0-unit_code": "94",
        "lines-1-description": "Cemento gris 50 kg", "lines-1-quantity": "10",
        "lines-1-unit_price": "32000", "lines-1-tax": "IVA19",
        "lines-1-item_code": "CEM-50", "lines-1-unit_code": "94"})
    assert response.status_code == 302, text(response)[:3000]
    document = db.session.scalars(unscoped(select(Document))).one()
    assert document.order_reference == "OC-000001"
    # The buyer's invoice page and tray say it matches the order and what was received.
    page = text(buyer.get(f"/documents/{document.id}"))
    assert 'data-match="matched"' in page
    assert "Order OC-000001: matched" in text(buyer.get("/inbox/received"))
    # Everything received is invoiced now: nothing is left to invoice.
    again = owner.get(f"/issue/invoice?order={order_id}", follow_redirects=True)
    assert "invoiced already" in text(again)


def test_the_tray_exports_and_bulk_accepts(app, p):
    place_through_pages(app, p)
    seller = browser(app, p.seller, p.supplier)
    book = load_workbook(io.BytesIO(seller.get("/orders/received?format=xlsx").data)).active
    rows = [[c.value for c in row] for row in book.iter_rows()]
    assert rows[0][0] == "Number" and rows[1][0] == "OC-000001"
    assert seller.get("/orders/received?format=pdf").status_code == 404
    token = csrf(seller, "/orders/received")
    seller.post("/orders/received/accept", data={"csrf_token": token,
                                                 "order": [str(orders()[0].id), "999999"]})
    assert orders()[0].status == "accepted"
    assert "OC-000001" not in text(seller.get("/orders/received?status=sent"))


def test_cancelling_asks_first(app, p):
    order_id = place_through_pages(app, p)
    buyer = browser(app, p.purchaser, p.buyer)
    token = csrf(buyer, f"/orders/{order_id}")
    question = buyer.post(f"/orders/{order_id}/cancel", data={"csrf_token": token})
    assert question.status_code == 200 and "Cancel order" in text(question)
    assert orders()[0].status == "sent"
    buyer.post(f"/orders/{order_id}/cancel", data={"csrf_token": token, "confirm": "1"})
    assert orders()[0].status == "cancelled"


def test_a_third_company_sees_none_of_it(app, p):
    order_id = place_through_pages(app, p)
    other = make_company("Otra")
    stranger = browser(app, make_user(other, role="owner"), other)
    for url in (f"/orders/{order_id}", f"/orders/{order_id}/document?kind=order"):
        assert stranger.get(url).status_code == 404
    token = csrf(stranger, "/orders/shop")
    assert "Tornillo" not in text(stranger.get("/orders/shop?q=tornillo"))
    assert stranger.post("/orders/cart/add", data={"csrf_token": token,
                                                   "item": p.items["CEM-50"],
                                                   "quantity": "1"}).status_code == 404


@pytest.mark.parametrize(("role", "url", "allowed"), [
    ("sales", "/orders/shop", False), ("sales", "/orders/received", True),
    ("payables", "/orders/received", False), ("payables", "/orders/", True),
    ("viewer", "/orders/cart", False), ("viewer", "/orders/tolerances", False),
])
def test_roles(app, p, role, url, allowed):
    client = browser(app, make_user(p.supplier if role == "sales" else p.buyer, role=role),
                     p.supplier if role == "sales" else p.buyer)
    assert (client.get(url).status_code == 200) == allowed


def test_tolerances_are_saved_and_wrong_ones_named(app, p):
    buyer = browser(app, p.purchaser, p.buyer)
    token = csrf(buyer, "/orders/tolerances")
    response = buyer.post("/orders/tolerances", data={
        "csrf_token": token, "supplier": "", "quantity_percent": "5", "price_percent": "1,5",
        "price_amount": "0"}, follow_redirects=True)
    assert "are saved" in text(response)
    bad = buyer.post("/orders/tolerances", data={
        "csrf_token": token, "quantity_percent": "mucho", "price_percent": "0",
        "price_amount": "0"})
    assert bad.status_code == 422 and "Give a number" in text(bad)
    from app.models import MatchTolerance

    (row,) = db.session.scalars(unscoped(select(MatchTolerance))).all()
    assert row.price_percent == Decimal("1.5")


def test_a_cart_from_a_spreadsheet_reports_each_row(app, p):
    buyer = browser(app, p.purchaser, p.buyer)
    token = csrf(buyer, "/orders/cart")
    response = buyer.post("/orders/cart/file", data={
        "csrf_token": token, "supplier": str(p.supplier.id),
        "file": (io.BytesIO(b"code,quantity\nTOR-38,10\nNOPE,1\n"), "pedido.csv")},
        content_type="multipart/form-data")
    page = text(response)
    assert response.status_code == 200 and "In the cart." in page and "No item" in page


def test_accepting_invoices_that_do_not_match_their_order_asks_first_and_says_why(app, p):
    from app.models import DocumentLine
    from tests.services.inbox_helpers import make_document
    from tests.services.orders.test_three_way import agreed

    _order_id, number = agreed(p, {"CEM-50": "10"})
    document = make_document(p.supplier, p.buyer, number="FE-77")
    document.order_reference = number
    db.session.add(DocumentLine(
        document_id=document.id, sender_company_id=p.supplier.id, receiver_company_id=p.buyer.id,
        position=1, line_id="1", seller_item_id="CEM-50", name="Cemento", quantity=Decimal(10),
        unit_code="94", price=Decimal("35000"), line_extension=Decimal("350000")))
    db.session.commit()
    clerk = browser(app, make_user(p.buyer, role="owner"), p.buyer)
    token = csrf(clerk, "/inbox/received")
    question = clerk.post("/inbox/bulk", data={"csrf_token": token, "action": "accept",
                                               "tray": "received",
                                               "document_ids": [document.id]})
    page = text(question)
    assert question.status_code == 200 and "FE-77 does not match order" in page
    assert "price 35,000" in page and "32,000" in page
    page = text(clerk.get(f"/documents/{document.id}"))
    assert 'data-match="exception"' in page and "the order says" in page
