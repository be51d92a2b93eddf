"""A buyer's cart: one per supplier (the lines of that supplier's items), kept until ordered.

An item goes in only when the buyer may see it (the catalog's tenancy rule), in a quantity the
supplier sells: at least its minimum, in whole packs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select

from app.extensions import db
from app.models import CartLine, Company
from app.models.catalog import OUT_OF_STOCK, CatalogItem
from app.services.catalogs import items as catalog
from app.services.errors import DomainError, NotFound
from app.services.inputs import shown_number

MAX_QUANTITY = Decimal("1e9")
MAX_LINES = 500


@dataclass
class CartRow:
    line: CartLine
    item: CatalogItem
    price: Decimal  # what this buyer pays today

    @property
    def amount(self) -> Decimal:
        return self.price * self.line.quantity


@dataclass
class Cart:
    supplier: Company
    rows: list[CartRow]

    @property
    def currency(self) -> str:
        return self.rows[0].item.currency if self.rows else "COP"

    @property
    def total(self) -> Decimal:
        return sum((row.amount for row in self.rows), Decimal(0))


def visible_item(buyer_company_id: int, item_id: int) -> CatalogItem:
    """An item the buyer may order (published and shown to it, not its own), or NotFound."""
    item = db.session.scalars(select(CatalogItem).where(CatalogItem.id == item_id)).first()
    if item is None or item.company_id == buyer_company_id or not item.published:
        raise NotFound(_l("This item is not in a catalog you can order from."))
    return item


def check_quantity(item: CatalogItem, quantity: Decimal) -> None:
    """Raise a DomainError saying why the quantity cannot be ordered."""
    if not quantity.is_finite() or quantity <= 0 or quantity > MAX_QUANTITY:
        raise DomainError(_l("Order a quantity above 0."), field="quantity")
    if quantity < item.min_quantity:
        raise DomainError(
            _l("%(name)s is sold from %(min)s.", name=item.name,
               min=shown_number(item.min_quantity)), field="quantity")
    if item.pack_size and item.pack_size != 1 and (quantity % item.pack_size) != 0:
        raise DomainError(
            _l("%(name)s is sold in packs of %(pack)s: order a multiple of it.",
               name=item.name, pack=shown_number(item.pack_size)), field="quantity")
    if item.availability == OUT_OF_STOCK:
        raise DomainError(_l("%(name)s is out of stock.", name=item.name), field="quantity")


def add(buyer_company_id: int, item_id: int, quantity: Decimal, *, replace: bool = False
        ) -> CartLine:
    """Put an item in the buyer's cart (adding to what is there, or replacing it)."""
    item = visible_item(buyer_company_id, item_id)
    line = db.session.scalars(
        select(CartLine).where(CartLine.company_id == buyer_company_id,
                               CartLine.item_id == item.id)
    ).first()
    total = quantity if replace or line is None else line.quantity + quantity
    check_quantity(item, total)
    if line is None:
        count = db.session.scalar(
            select(func.count()).select_from(CartLine)
            .where(CartLine.company_id == buyer_company_id)
        ) or 0
        if count >= MAX_LINES:
            raise DomainError(_l("The cart holds at most %(n)d items.", n=MAX_LINES),
                              field="quantity")
        line = CartLine(company_id=buyer_company_id, supplier_company_id=item.company_id,
                        item_id=item.id, quantity=total)
        db.session.add(line)
    else:
        line.quantity = total
    db.session.flush()
    return line


def remove(buyer_company_id: int, item_id: int) -> None:
    db.session.execute(delete(CartLine).where(CartLine.company_id == buyer_company_id,
                                              CartLine.item_id == item_id))


def carts(buyer_company_id: int, *, today: dt.date) -> list[Cart]:
    """The buyer's carts, one per supplier, with today's prices; items no longer shown to the
    buyer drop out."""
    rows = db.session.execute(
        select(CartLine, CatalogItem, Company)
        .join(CatalogItem, CatalogItem.id == CartLine.item_id)
        .join(Company, Company.id == CatalogItem.company_id)
        .where(CartLine.company_id == buyer_company_id, CatalogItem.published.is_(True))
        .order_by(Company.legal_name, CartLine.id)
    ).all()
    out: dict[int, Cart] = {}
    for line, item, supplier in rows:
        cart = out.setdefault(supplier.id, Cart(supplier, []))
        cart.rows.append(CartRow(line, item, catalog.price_for(item, buyer_company_id, today)))
    return list(out.values())


def cart_of(buyer_company_id: int, supplier_company_id: int, *, today: dt.date) -> Cart:
    for cart in carts(buyer_company_id, today=today):
        if cart.supplier.id == supplier_company_id:
            return cart
    raise NotFound(_l("Your cart has nothing from this supplier."))


def count(buyer_company_id: int) -> int:
    return db.session.scalar(
        select(func.count()).select_from(CartLine)
        .where(CartLine.company_id == buyer_company_id)
    ) or 0
