"""A supplier with a published catalog, a connected buyer, and people on each side."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from app.extensions import db
from app.models import Partnership
from app.models.catalog import CatalogItem
from app.models.network import ACTIVE
from app.services.orders import cart, placing
from app.tenancy import acting_as
from tests.conftest import give_fiscal_profile, make_company, make_user

TODAY = dt.date(2026, 12, 7)


@dataclass
class Parties:
    supplier: object
    buyer: object
    seller: object  # the supplier's sales person
    purchaser: object  # the buyer's payables person
    items: dict[str, int]


def item(supplier, code: str, name: str, price: str, **extra) -> CatalogItem:
    row = CatalogItem(company_id=supplier.id, seller_item_id=code, name=name,
                      price=Decimal(price), tax_percent=Decimal("19"), unit_code="94",
                      **extra)
    db.session.add(row)
    db.session.commit()
    return row


def parties() -> Parties:
    supplier = give_fiscal_profile(make_company("Ferretería Andina"))
    buyer = give_fiscal_profile(make_company("Constructora Bolívar"))
    db.session.add(Partnership(supplier_id=supplier.id, customer_id=buyer.id,
                               requested_by_id=buyer.id, status=ACTIVE))
    db.session.commit()
    seller = make_user(supplier, role="sales", name="Sara Ventas")
    purchaser = make_user(buyer, role="payables", name="Pedro Compras")
    items = {
        "TOR-38": item(supplier, "TOR-38", "Tornillo ñandú 3/8\"", "1250.50",
                       standard_item_id="7702004003508").id,
        "CEM-50": item(supplier, "CEM-50", "Cemento gris 50 kg", "32000").id,
        "GUA-01": item(supplier, "GUA-01", "Guantes de carnaza", "9000",
                       min_quantity=Decimal(2), pack_size=Decimal(2)).id,
    }
    return Parties(supplier, buyer, seller, purchaser, items)


def place(p: Parties, quantities: dict[str, str], **details) -> int:
    """The buyer orders these quantities from the supplier; return the order's id."""
    with acting_as(p.buyer.id, p.purchaser.id):
        for code, quantity in quantities.items():
            cart.add(p.buyer.id, p.items[code], Decimal(quantity))
        order = placing.place_from_cart(p.buyer.id, p.supplier.id,
                                        placing.OrderInput(**details), actor=p.purchaser,
                                        today=TODAY)
        db.session.commit()
        return order.id
