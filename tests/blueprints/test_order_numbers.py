"""Numbers typed in the ordering pages are read as the person's language writes them (a Spanish
"1.000" is a thousand, "1,5" one and a half; in English "1,000" and "1.5"), the values a form
is filled with are written that way too, and a number that is not one is said, never a 500.
And the buyer's reason for cancelling: asked for, kept, and shown to both sides."""

from __future__ import annotations

import html
import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import CartLine, MatchTolerance, Order, OrderDelivery, OrderLine
from app.tenancy import unscoped
from tests.blueprints.test_orders import browser, csrf, text
from tests.services.orders.helpers import TODAY, item, parties, place

# (what a person types, what it means) in each language.
TYPED = {
    "es": [("1.000", Decimal(1000)), ("1,5", Decimal("1.5"))],
    "en": [("1,000", Decimal(1000)), ("1.5", Decimal("1.5"))],
}
CASES = [(locale, typed, meant) for locale, pairs in TYPED.items() for typed, meant in pairs]


@pytest.fixture
def p():
    return parties()


def fresh(model, *where):
    return db.session.scalars(unscoped(select(model).where(*where)).execution_options(
        populate_existing=True)).all()


def input_value(page: str, name: str) -> str:
    tag = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', page).group(0)
    return re.search(r'value="([^"]*)"', tag).group(1)


# ------------------------------------------------------------------------------- the cart


@pytest.mark.parametrize(("locale", "typed", "meant"), CASES)
def test_a_quantity_put_in_the_cart_is_read_as_the_buyer_writes_it(app, p, locale, typed,
                                                                    meant):
    buyer = browser(app, p.purchaser, p.buyer, locale)
    token = csrf(buyer, "/orders/shop")
    cement = p.items["CEM-50"]
    buyer.post("/orders/cart/add", data={"csrf_token": token, "item": cement,
                                          "quantity": typed})
    assert [line.quantity for line in fresh(CartLine)] == [meant]
    # Changing it on the cart page reads it the same way.
    buyer.post("/orders/cart/update", data={"csrf_token": token, "item": cement,
                                            "quantity": "2"})
    buyer.post("/orders/cart/update", data={"csrf_token": token, "item": cement,
                                            "quantity": typed})
    assert [line.quantity for line in fresh(CartLine)] == [meant]


@pytest.mark.parametrize(("locale", "shown"), [("es", "1,5"), ("en", "1.5")])
def test_the_cart_writes_its_quantities_as_the_buyer_types_them(app, p, locale, shown):
    buyer = browser(app, p.purchaser, p.buyer, locale)
    token = csrf(buyer, "/orders/shop")
    buyer.post("/orders/cart/add", data={"csrf_token": token, "item": p.items["CEM-50"],
                                          "quantity": shown})
    buyer.post("/orders/cart/add", data={"csrf_token": token, "item": p.items["TOR-38"],
                                          "quantity": "12500"})
    page = buyer.get("/orders/cart").get_data(as_text=True)
    values = re.findall(r'name="quantity" value="([^"]*)"', page)
    assert sorted(values) == sorted([shown, "12500"])  # never "1.5E+4" nor "12.500"
    # Sent back as it was written, the quantity stays what it was.
    buyer.post("/orders/cart/update", data={"csrf_token": token, "item": p.items["CEM-50"],
                                            "quantity": shown})
    assert {line.quantity for line in fresh(CartLine)} == {Decimal("1.5"), Decimal(12500)}


@pytest.mark.parametrize("locale", ["es", "en"])
def test_the_shop_fills_the_quantity_to_add_in_the_buyers_language(app, p, locale):
    with_half = item(
        p.supplier, "ARE-01", "Arena de río", "50000", min_quantity=Decimal("2.5"),
        pack_size=Decimal("0.5"))
    buyer = browser(app, p.purchaser, p.buyer, locale)
    page = buyer.get("/orders/shop?q=arena").get_data(as_text=True)
    tag = re.search(rf'<input[^>]*id="qty-{with_half.id}"[^>]*>', page).group(0)
    assert 'value="2,5"' in tag if locale == "es" else 'value="2.5"' in tag


@pytest.mark.parametrize("locale", ["es", "en"])
def test_a_quantity_that_is_not_a_number_is_said_not_a_500(app, p, locale):
    buyer = browser(app, p.purchaser, p.buyer, locale)
    token = csrf(buyer, "/orders/shop")
    for url in ("/orders/cart/add", "/orders/cart/update"):
        response = buyer.post(url, data={"csrf_token": token, "item": p.items["CEM-50"],
                                         "quantity": "1.2.3"})
        assert response.status_code == 303
    assert fresh(CartLine) == []
    page = text(buyer.get("/orders/cart"))
    assert "toast-error" in page
    if locale == "en":
        assert "Give a quantity, like 10." in page


# ------------------------------------------------------------------------- the shop filter


@pytest.mark.parametrize(("locale", "typed", "meant"), CASES)
def test_the_shop_filters_prices_as_the_buyer_writes_them(app, p, locale, typed, meant):
    # Items at 1,250.50, 9,000 and 32,000: "from 1.000" (es) keeps all three; "to 1,5" none.
    buyer = browser(app, p.purchaser, p.buyer, locale)
    page = text(buyer.get(f"/orders/shop?q=&min={typed}"))
    names = ("Tornillo", "Guantes", "Cemento")
    if meant == 1000:
        assert all(name in page for name in names)
        assert "Tornillo" not in text(buyer.get(f"/orders/shop?q=&min=2{typed}"))  # 21000
    else:
        assert not any(name in text(buyer.get(f"/orders/shop?q=&max={typed}"))
                       for name in names)
    assert 'data-testid="wrong-price"' not in page


def test_a_price_filter_that_is_not_a_number_is_left_out_and_said(app, p):
    buyer = browser(app, p.purchaser, p.buyer, "en")
    response = buyer.get("/orders/shop?q=&min=barato")
    page = text(response)
    assert response.status_code == 200 and "Tornillo" in page
    assert "is not a number, so it was left out" in page and "like 1250.5" in page
    spanish = browser(app, p.purchaser, p.buyer, "es")
    fragment = spanish.get("/orders/shop?q=&max=-5", headers={"HX-Request": "true"})
    assert 'data-testid="wrong-price"' in fragment.get_data(as_text=True)
    assert "1250,5" in text(fragment)


# ------------------------------------------------------------------ the supplier's answer


@pytest.mark.parametrize(("locale", "typed", "meant"), CASES)
def test_a_changed_quantity_and_price_are_read_as_the_supplier_writes_them(app, p, locale,
                                                                          typed, meant):
    order_id = place(p, {"CEM-50": "5000"})
    seller = browser(app, p.seller, p.supplier, locale)
    token = csrf(seller, f"/orders/{order_id}")
    response = seller.post(f"/orders/{order_id}/respond", data={
        "csrf_token": token, "line-1-status": "changed", "line-1-quantity": typed,
        "line-1-price": typed})
    assert response.status_code == 303
    (line,) = fresh(OrderLine)
    assert (line.agreed_quantity, line.agreed_price) == (meant, meant)


@pytest.mark.parametrize("locale", ["es", "en"])
def test_an_answer_that_is_not_a_number_is_said_and_the_order_stays_sent(app, p, locale):
    order_id = place(p, {"CEM-50": "10"})
    seller = browser(app, p.seller, p.supplier, locale)
    token = csrf(seller, f"/orders/{order_id}")
    response = seller.post(f"/orders/{order_id}/respond", data={
        "csrf_token": token, "line-1-status": "changed", "line-1-price": "1e3"},
        follow_redirects=True)
    assert response.status_code == 200
    if locale == "en":
        assert "must be numbers" in text(response)
    assert fresh(Order)[0].status == "sent"


# ------------------------------------------------------------------------------ deliveries


def agreed_order(p, quantity: str) -> int:
    from app.services.orders import responding
    from app.tenancy import acting_as

    order_id = place(p, {"CEM-50": quantity})
    with acting_as(p.supplier.id, p.seller.id):
        responding.respond(p.supplier.id, order_id, {}, actor=p.seller, today=TODAY)
        db.session.commit()
    return order_id


@pytest.mark.parametrize(("locale", "typed", "meant"), CASES)
def test_a_delivered_quantity_is_read_as_the_person_writes_it(app, p, locale, typed, meant):
    order_id = agreed_order(p, "5000")
    seller = browser(app, p.seller, p.supplier, locale)
    token = csrf(seller, f"/orders/{order_id}")
    response = seller.post(f"/orders/{order_id}/deliveries", data={
        "csrf_token": token, "kind": "despatch", "qty-1": typed, "day": TODAY.isoformat()})
    assert response.status_code == 303
    (line,) = fresh(OrderLine)
    assert line.despatched_quantity == meant


def test_too_much_delivered_is_said_with_the_readers_numbers(app, p):
    order_id = agreed_order(p, "5000")
    seller = browser(app, p.seller, p.supplier, "en")
    token = csrf(seller, f"/orders/{order_id}")
    response = seller.post(f"/orders/{order_id}/deliveries", data={
        "csrf_token": token, "kind": "despatch", "qty-1": "5,000.5"}, follow_redirects=True)
    assert "0 of 5,000 already recorded; 5,000.5 more is too much" in text(response)
    garbage = seller.post(f"/orders/{order_id}/deliveries", data={
        "csrf_token": token, "kind": "despatch", "qty-1": "mucho"}, follow_redirects=True)
    assert garbage.status_code == 200 and "is not a number" in text(garbage)
    assert fresh(OrderDelivery) == []


# ------------------------------------------------------------------------------ tolerances


@pytest.mark.parametrize(("locale", "typed", "meant"), CASES)
def test_a_tolerance_is_read_as_the_buyer_writes_it(app, p, locale, typed, meant):
    buyer = browser(app, p.purchaser, p.buyer, locale)
    token = csrf(buyer, "/orders/tolerances")
    response = buyer.post("/orders/tolerances", data={
        "csrf_token": token, "supplier": "", "quantity_percent": "0", "price_percent": "0",
        "price_amount": typed})
    assert response.status_code == 303
    (row,) = fresh(MatchTolerance)
    assert row.price_amount == meant


def test_a_tolerance_out_of_range_names_the_limit_in_the_readers_numbers(app, p):
    buyer = browser(app, p.purchaser, p.buyer, "en")
    token = csrf(buyer, "/orders/tolerances")
    response = buyer.post("/orders/tolerances", data={
        "csrf_token": token, "quantity_percent": "0", "price_percent": "0",
        "price_amount": "2,000,000,000,000"})
    assert response.status_code == 422
    assert "Give a number from 0 to 1,000,000,000,000" in text(response)
    assert 'inputmode="decimal"' in response.get_data(as_text=True)


# ---------------------------------------------------------------- the reason for cancelling


def test_the_buyers_reason_for_cancelling_is_shown_to_both_sides(app, p):
    order_id = place(p, {"CEM-50": "10"})
    buyer = browser(app, p.purchaser, p.buyer, "en")
    page = buyer.get(f"/orders/{order_id}").get_data(as_text=True)
    assert re.search(r'<label for="cancel-reason">[^<]*<textarea id="cancel-reason" '
                     r'name="reason"[^>]*maxlength="500"', page)
    token = csrf(buyer, f"/orders/{order_id}")
    reason = "Pedido duplicado <b>OC-9</b> & más"
    question = buyer.post(f"/orders/{order_id}/cancel", data={"csrf_token": token,
                                                              "reason": reason})
    assert question.status_code == 200 and "Your reason: " + reason in text(question)
    assert fresh(Order)[0].status == "sent"
    # The confirmation posts the reason again with confirm=1.
    assert 'name="reason" value="Pedido duplicado &lt;b&gt;OC-9&lt;/b&gt; &amp; más"' in (
        question.get_data(as_text=True))
    buyer.post(f"/orders/{order_id}/cancel", data={"csrf_token": token, "reason": reason,
                                                   "confirm": "1"})
    (order,) = fresh(Order)
    assert (order.status, order.cancel_reason) == ("cancelled", reason)
    seller = browser(app, p.seller, p.supplier, "en")
    for client in (buyer, seller):
        raw = client.get(f"/orders/{order_id}").get_data(as_text=True)
        assert "<b>OC-9</b>" not in raw  # escaped
        shown = re.search(r'data-testid="cancel-reason">([^<]*)<', raw).group(1)
        assert html.unescape(shown) == reason
        assert "Why the buyer cancelled" in raw
    # A cancelled order offers no cancel form any more.
    page = buyer.get(f"/orders/{order_id}").get_data(as_text=True)
    assert '<textarea id="cancel-reason"' not in page


def test_an_order_cancelled_without_a_reason_shows_none(app, p):
    order_id = place(p, {"CEM-50": "10"})
    buyer = browser(app, p.purchaser, p.buyer, "en")
    token = csrf(buyer, f"/orders/{order_id}")
    buyer.post(f"/orders/{order_id}/cancel", data={"csrf_token": token, "reason": "   ",
                                                   "confirm": "1"})
    (order,) = fresh(Order)
    assert (order.status, order.cancel_reason) == ("cancelled", "")
    assert 'data-testid="cancel-reason"' not in buyer.get(f"/orders/{order_id}").get_data(
        as_text=True)


def test_a_reason_too_long_is_refused_with_words_and_kept_on_the_form(app, p):
    order_id = place(p, {"CEM-50": "10"})
    buyer = browser(app, p.purchaser, p.buyer, "en")
    token = csrf(buyer, f"/orders/{order_id}")
    reason = "x" * 501
    response = buyer.post(f"/orders/{order_id}/cancel", data={
        "csrf_token": token, "reason": reason, "confirm": "1"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'data-field-error="reason"' in page and "At most 500 characters." in page
    assert f">{reason}</textarea>" in page and 'aria-invalid="true"' in page
    assert fresh(Order)[0].status == "sent" and fresh(Order)[0].cancel_reason == ""
    # Through htmx (the boosted confirmation), the same page swaps in.
    boosted = buyer.post(f"/orders/{order_id}/cancel", data={
        "csrf_token": token, "reason": reason, "confirm": "1"},
        headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert boosted.status_code == 422 and "At most 500 characters." in text(boosted)
