"""Catalog items: checking what a supplier types, saving, who sees an item, pictures and
customer prices."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Partnership
from app.models.catalog import CatalogItem
from app.models.network import ACTIVE
from app.services.catalogs import items
from app.services.errors import DomainError, FieldErrors, NotFound
from app.tenancy import acting_as
from tests.conftest import make_company, make_user

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def connect(supplier, customer) -> None:
    db.session.add(Partnership(supplier_id=supplier.id, customer_id=customer.id,
                               requested_by_id=supplier.id, status=ACTIVE))
    db.session.commit()


def values(**overrides):
    base = {"seller_item_id": "TOR-38", "name": "Tornillo ñandú 3/8\"", "price": "1250,50",
            "currency": "cop", "unit_code": "94", "tax_percent": "19"}
    base.update(overrides)
    return base


@pytest.fixture
def supplier():
    return make_company("Ferretería")


@pytest.fixture
def seller(supplier):
    return make_user(supplier, role="sales", name="Sara Ventas")


def save(supplier, seller, **overrides) -> CatalogItem:
    with acting_as(supplier.id, seller.id):
        item = items.save_item(supplier.id, items.check_item(values(**overrides),
                                                              company_id=supplier.id),
                               actor=seller)
        db.session.commit()
        return item


def test_a_typed_item_is_checked_into_exact_values(supplier):
    checked = items.check_item(values(), company_id=supplier.id)
    assert checked.price == Decimal("1250.50")  # a decimal comma, as Spanish writes it
    assert checked.currency == "COP"
    assert checked.tax_percent == Decimal("19")
    assert checked.min_quantity == Decimal(1) and checked.pack_size == Decimal(1)


@pytest.mark.parametrize(("field", "value"), [
    ("price", "abc"), ("price", "-1"), ("price", "NaN"), ("price", "1e400"), ("price", ""),
    ("currency", "XXX"), ("unit_code", "ZZZ"), ("tax_percent", "101"),
    ("standard_item_id", "7701234567890"),  # a wrong GTIN check digit
    ("min_quantity", "0"), ("pack_size", "-2"), ("lead_time_days", "-3"),
    ("lead_time_days", "1.5"), ("availability", "maybe"), ("visibility", "everyone"),
    ("name", ""), ("seller_item_id", " "), ("name", "x" * 301),
])
def test_each_wrong_field_is_named_in_words(supplier, field, value):
    with pytest.raises(FieldErrors) as raised:
        items.check_item(values(**{field: value}), company_id=supplier.id)
    assert field in raised.value.errors
    assert all(str(m) for m in raised.value.errors[field])


def test_a_valid_gtin_is_kept_without_spaces(supplier):
    checked = items.check_item(values(standard_item_id="7 702 004 003 508"),
                               company_id=supplier.id)
    assert checked.standard_item_id == "7702004003508"


def test_an_item_code_is_the_suppliers_once(supplier, seller):
    save(supplier, seller)
    with acting_as(supplier.id, seller.id), pytest.raises(FieldErrors) as raised:
        items.save_item(supplier.id, items.check_item(values(name="Otro"),
                                                       company_id=supplier.id), actor=seller)
    assert "seller_item_id" in raised.value.errors
    # Another supplier may use the same code.
    other = make_company("Otra ferretería")
    save(other, make_user(other), name="Suyo")


def test_who_sees_a_published_item(supplier, seller):
    customer, stranger, chosen = (make_company(n) for n in ("Cliente", "Extraño", "Elegido"))
    connect(supplier, customer)
    connect(supplier, chosen)
    connected = save(supplier, seller, seller_item_id="A", visibility="connected")
    network = save(supplier, seller, seller_item_id="B", visibility="network")
    only = save(supplier, seller, seller_item_id="C", visibility="chosen",
                customers=[str(chosen.id)])
    hidden = save(supplier, seller, seller_item_id="D", visibility="network", published=False)

    def seen_by(company):
        with acting_as(company.id):
            return {i.seller_item_id for i in db.session.scalars(select(CatalogItem))}

    assert seen_by(supplier) == {"A", "B", "C", "D"}
    assert seen_by(customer) == {"A", "B"}
    assert seen_by(chosen) == {"A", "B", "C"}
    assert seen_by(stranger) == {"B"}
    assert {connected.id, network.id, only.id, hidden.id}


def test_chosen_customers_must_be_connected_ones(supplier, seller):
    stranger = make_company("Extraño")
    with pytest.raises(FieldErrors) as raised:
        items.check_item(values(visibility="chosen", customers=[str(stranger.id)]),
                         company_id=supplier.id)
    assert "customers" in raised.value.errors
    with pytest.raises(FieldErrors):
        items.check_item(values(visibility="chosen"), company_id=supplier.id)


def test_another_suppliers_item_cannot_be_changed(supplier, seller):
    item = save(supplier, seller)
    other = make_company("Otra")
    intruder = make_user(other)
    with acting_as(other.id, intruder.id):
        with pytest.raises(NotFound):
            items.own_item(other.id, item.id)
        with pytest.raises(NotFound):
            items.delete_item(other.id, item.id, actor=intruder)
        with pytest.raises(NotFound):
            items.set_image(other.id, item.id, PNG, actor=intruder)
    assert db.session.get(CatalogItem, item.id) is not None


@pytest.mark.parametrize(("data", "ok"), [
    (PNG, True),
    (b"\xff\xd8\xff\xe0" + b"\x00" * 20, True),
    (b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 20, True),
    (b"<svg onload='alert(1)'/>", False),
    (b"GIF89a" + b"\x00" * 20, False),
    (b"%PDF-1.4", False),
    (b"", False),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * (2 * 1024 * 1024), False),  # over 2 MB
])
def test_a_picture_is_taken_by_what_its_bytes_are(supplier, seller, data, ok):
    item = save(supplier, seller)
    with acting_as(supplier.id, seller.id):
        if ok:
            items.set_image(supplier.id, item.id, data, actor=seller)
            assert item.image_type.startswith("image/")
        else:
            with pytest.raises(DomainError):
                items.set_image(supplier.id, item.id, data, actor=seller)
            assert item.image is None


def test_a_customer_price_applies_while_valid(supplier, seller):
    customer = make_company("Cliente")
    connect(supplier, customer)
    item = save(supplier, seller, price="1000")
    with acting_as(supplier.id, seller.id):
        items.add_customer_price(supplier.id, item.id, customer_company_id=customer.id,
                                 price="900", valid_from=dt.date(2026, 1, 1),
                                 valid_to=dt.date(2026, 6, 30), actor=seller)
        items.add_customer_price(supplier.id, item.id, customer_company_id=customer.id,
                                 price="950", valid_from=dt.date(2026, 7, 1), valid_to=None,
                                 actor=seller)
        db.session.commit()
        assert items.price_for(item, customer.id, dt.date(2026, 3, 1)) == Decimal("900")
        assert items.price_for(item, customer.id, dt.date(2026, 8, 1)) == Decimal("950")
        assert items.price_for(item, customer.id, dt.date(2025, 12, 31)) == Decimal("1000")
        assert items.price_for(item, None, dt.date(2026, 3, 1)) == Decimal("1000")
        with pytest.raises(FieldErrors) as raised:
            items.add_customer_price(supplier.id, item.id, customer_company_id=customer.id,
                                     price="800", valid_from=dt.date(2026, 5, 1),
                                     valid_to=dt.date(2026, 4, 1), actor=seller)
        assert "valid_to" in raised.value.errors
        stranger = make_company("Extraño")
        with pytest.raises(FieldErrors) as raised:
            items.add_customer_price(supplier.id, item.id, customer_company_id=stranger.id,
                                     price="800", valid_from=None, valid_to=None, actor=seller)
        assert "customer" in raised.value.errors
