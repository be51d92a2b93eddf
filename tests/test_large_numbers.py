"""An id or a number beyond what the database stores is a 404 (in a URL) or a 400 (in a query
or a form), never a 500 — on every page route with an id and on a few filters."""

from __future__ import annotations

import re

from app.extensions import db
from tests.conftest import login, make_company, make_user

BIG = "9" * 30


def test_huge_ids_and_numbers_answer_404_or_400(app, client):
    company = make_company("Andina")
    login(client, make_user(company, role="owner"), company)
    db.session.commit()
    walked = 0
    for rule in app.url_map.iter_rules():
        if "int" not in rule.rule or rule.rule.startswith("/api/") or "GET" not in rule.methods:
            continue
        url = re.sub(r"<int:\w+>", BIG, rule.rule)
        if "<" in url:
            continue
        assert client.get(url).status_code in (404, 405), url
        walked += 1
    assert walked > 10
    for url in (f"/inbox/received?counterparty={BIG}", f"/orders/?partner={BIG}",
                f"/orders/shop?supplier={BIG}", f"/orders/shop?compare={BIG}",
                f"/issue/invoice?order={BIG}"):
        assert client.get(url).status_code in (200, 400, 403, 404, 422), url


def test_huge_ids_in_forms_answer_400_not_500(app):
    from tests.blueprints.test_orders import browser, csrf
    from tests.services.orders.helpers import parties

    p = parties()
    client = browser(app, p.purchaser, p.buyer)
    token = csrf(client, "/orders/shop")
    for url, data in (("/orders/cart/add", {"item": BIG, "quantity": "1"}),
                      ("/orders/cart/update", {"item": BIG, "quantity": "1"}),
                      ("/orders/cart/remove", {"item": BIG}),
                      ("/orders/cart/place", {"supplier": BIG}),
                      ("/orders/tolerances", {"supplier": BIG, "quantity_percent": "1",
                                              "price_percent": "0", "price_amount": "0"})):
        response = client.post(url, data={"csrf_token": token, **data})
        assert response.status_code < 500, (url, response.status_code)
