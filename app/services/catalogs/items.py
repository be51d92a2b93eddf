"""A supplier's catalog items: reading, checking and saving them, who sees them, their images and
per-customer prices.

The supplier's own rows are read with its company id named (``own_item``), never through the
tenancy rule that also shows buyers the items published to them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, delete, func, or_, select

from app.einvoice.codelists import UNITS
from app.extensions import db
from app.gateways.currencies import ISO_DECIMALS
from app.models import Company, Partnership, User, utcnow
from app.models.catalog import (
    AVAILABILITIES,
    CHOSEN,
    IN_STOCK,
    VISIBILITIES,
    CatalogAudience,
    CatalogItem,
    CustomerPrice,
)
from app.models.network import ACTIVE
from app.numbers import parse_number
from app.services import audit
from app.services.documents.reading import sniff_content_type
from app.services.errors import DomainError, FieldErrors, NotFound
from app.services.inputs import shown_number
from app.tenancy import unscoped

MAX_IMAGE_BYTES = 2 * 1024 * 1024
IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp")
MAX_PRICE = Decimal("1e13")
MAX_QUANTITY = Decimal("1e12")
PAGE = 50

# What a form or an imported row gives for an item (strings, as typed).
FIELDS = (
    "seller_item_id", "standard_item_id", "name", "description", "unit_code", "price",
    "currency", "tax_percent", "min_quantity", "pack_size", "availability", "lead_time_days",
    "categories", "visibility",
)


@dataclass
class ItemInput:
    """An item's fields as checked values."""

    seller_item_id: str
    name: str
    price: Decimal
    currency: str = "COP"
    standard_item_id: str = ""
    description: str = ""
    unit_code: str = "94"
    tax_percent: Decimal | None = None
    min_quantity: Decimal = Decimal("1")
    pack_size: Decimal = Decimal("1")
    availability: str = IN_STOCK
    lead_time_days: int | None = None
    categories: str = ""
    visibility: str = "connected"
    published: bool = True
    customers: list[int] = field(default_factory=list)  # chosen customers (visibility chosen)


# ------------------------------------------------------------------------------------ reading


def own_items(
    company_id: int, *, query: str = "", category: str = "", published: bool | None = None
) -> Select[tuple[CatalogItem]]:
    """The supplier's items, by name; ``query`` looks in item ids, GTIN, name and description."""
    stmt = select(CatalogItem).where(CatalogItem.company_id == company_id)
    if query.strip():
        like = f"%{_escape_like(query.strip().lower())}%"
        stmt = stmt.where(
            or_(
                func.lower(CatalogItem.seller_item_id).like(like, escape="\\"),
                func.lower(CatalogItem.standard_item_id).like(like, escape="\\"),
                func.lower(CatalogItem.name).like(like, escape="\\"),
                func.lower(CatalogItem.description).like(like, escape="\\"),
            )
        )
    if category.strip():
        like = f"%{_escape_like(category.strip().lower())}%"
        stmt = stmt.where(func.lower(CatalogItem.categories).like(like, escape="\\"))
    if published is not None:
        stmt = stmt.where(CatalogItem.published.is_(published))
    return stmt.order_by(CatalogItem.name, CatalogItem.id)


def own_item(company_id: int, item_id: int) -> CatalogItem:
    """One of the supplier's items, or NotFound (another company's item is not found either)."""
    item = db.session.scalars(
        select(CatalogItem).where(CatalogItem.id == item_id, CatalogItem.company_id == company_id)
    ).first()
    if item is None:
        raise NotFound(_l("This item is not in your catalog."))
    return item


def categories_of(company_id: int) -> list[str]:
    """The categories the supplier's items name, sorted, each once."""
    found: set[str] = set()
    for text in db.session.scalars(
        select(CatalogItem.categories).where(CatalogItem.company_id == company_id).distinct()
    ):
        found.update(c.strip() for c in (text or "").split(",") if c.strip())
    return sorted(found, key=str.lower)


def audience_of(item: CatalogItem) -> list[int]:
    return list(
        db.session.scalars(
            select(CatalogAudience.customer_company_id).where(CatalogAudience.item_id == item.id)
        )
    )


def customers_of(company_id: int) -> list[tuple[int, str]]:
    """The supplier's connected customers (id, name), for audiences and price lists."""
    rows = db.session.execute(
        select(Company.id, Company.legal_name, Company.trade_name)
        .join(Partnership, Partnership.customer_id == Company.id)
        .where(Partnership.supplier_id == company_id, Partnership.status == ACTIVE)
        .order_by(Company.legal_name)
    )
    return [(cid, trade or legal) for cid, legal, trade in rows]


def prices_of(company_id: int, item_id: int) -> list[tuple[CustomerPrice, str]]:
    """The item's customer prices with each customer's name, newest validity first."""
    item = own_item(company_id, item_id)
    rows = db.session.execute(
        select(CustomerPrice, Company.legal_name, Company.trade_name)
        .join(Company, Company.id == CustomerPrice.customer_company_id)
        .where(CustomerPrice.item_id == item.id)
        .order_by(Company.legal_name, CustomerPrice.valid_from.desc(), CustomerPrice.id.desc())
    )
    return [(price, trade or legal) for price, legal, trade in rows]


def price_for(item: CatalogItem, customer_company_id: int | None, on: date) -> Decimal:
    """What ``customer_company_id`` pays for ``item`` on ``on``: its own price valid that day
    (the one that started last), else the item's price."""
    if customer_company_id is None:
        return item.price
    # The supplier's row, read for its customer (a buyer acting): named by item and customer.
    price = db.session.scalars(unscoped(
        select(CustomerPrice.price)
        .where(
            CustomerPrice.item_id == item.id,
            CustomerPrice.customer_company_id == customer_company_id,
            or_(CustomerPrice.valid_from.is_(None), CustomerPrice.valid_from <= on),
            or_(CustomerPrice.valid_to.is_(None), CustomerPrice.valid_to >= on),
        )
        .order_by(CustomerPrice.valid_from.desc().nulls_last(), CustomerPrice.id.desc())
    )).first()
    return price if price is not None else item.price


# ----------------------------------------------------------------------------------- checking


#: ``CodeIndex.find``'s answer when several items' codes differ from one only in capitals.
AMBIGUOUS = -1


@dataclass
class CodeIndex:
    """A catalog's item codes as a code typed in a file or a form names them: the item written
    exactly so, else the one item whose code differs only in capitals (the item form takes
    "abc" and "ABC" as two items)."""

    exact: dict[str, int] = field(default_factory=dict)
    folded: dict[str, list[int]] = field(default_factory=dict)

    def add(self, code: str, item_id: int) -> None:
        self.exact[code] = item_id
        self.folded.setdefault(code.upper(), []).append(item_id)

    def find(self, code: str) -> int | None:
        """The item ``code`` names; AMBIGUOUS when several differ from it in capitals only."""
        code = code.strip()
        if code in self.exact:
            return self.exact[code]
        folded = self.folded.get(code.upper(), [])
        if len(folded) > 1:
            return AMBIGUOUS
        return folded[0] if folded else None


def check_item(
    values: dict[str, Any], *, company_id: int, decimal_mark: str | None = ".",
    customers_kept: bool = False,
) -> ItemInput:
    """Turn typed values (a form's or an imported row's) into an ``ItemInput``, or raise
    ``FieldErrors`` naming each wrong field in words; numbers are read with ``decimal_mark``
    (see ``app.numbers.parse_number``). ``customers_kept``: the item keeps the customers it
    was shown to (an imported row names none), so ``chosen`` needs none in ``values``."""
    errors: dict[str, list[Any]] = {}

    def text(name: str, limit: int, *, required: bool = False, what: Any = None) -> str:
        value = str(values.get(name) or "").strip()
        if required and not value:
            errors.setdefault(name, []).append(what)
        elif len(value) > limit:
            errors.setdefault(name, []).append(
                _l("At most %(n)d characters.", n=limit)
            )
        return value

    seller_item_id = text("seller_item_id", 100, required=True,
                          what=_l("Give the item's code (your own item id)."))
    name = text("name", 300, required=True, what=_l("Give the item's name."))
    description = text("description", 4000)
    standard = "".join(text("standard_item_id", 100).split())
    if standard and not valid_gtin(standard):
        errors.setdefault("standard_item_id", []).append(
            _l("A GTIN has 8, 12, 13 or 14 digits and a valid check digit.")
        )
    unit = (text("unit_code", 10) or "94").upper()
    if unit not in UNITS:
        errors.setdefault("unit_code", []).append(_l("Choose a unit from the list."))
    currency = (text("currency", 3) or "COP").upper()
    if currency not in ISO_DECIMALS:
        errors.setdefault("currency", []).append(
            _l("Currency must be one of %(list)s.", list=", ".join(sorted(ISO_DECIMALS)))
        )
    def number(name: str, most: Decimal, **rules: bool) -> Decimal | None:
        return _decimal(values.get(name), name, errors=errors, most=most,
                        decimal_mark=decimal_mark, **rules)

    price = number("price", MAX_PRICE, required=True, zero=True)
    if price is not None and currency in ISO_DECIMALS and price != price.quantize(
        Decimal(1).scaleb(-6)
    ):
        errors.setdefault("price", []).append(_l("At most six decimals."))
    tax = number("tax_percent", Decimal(100), zero=True)
    min_quantity = number("min_quantity", MAX_QUANTITY) or Decimal(1)
    pack_size = number("pack_size", MAX_QUANTITY) or Decimal(1)
    availability = text("availability", 20) or IN_STOCK
    if availability not in AVAILABILITIES:
        errors.setdefault("availability", []).append(_l("Choose an availability from the list."))
    lead = text("lead_time_days", 5)
    lead_time: int | None = None
    if lead:
        if not lead.isdigit() or int(lead) > 3650:
            errors.setdefault("lead_time_days", []).append(
                _l("Lead time is a whole number of days, 0 to 3650.")
            )
        else:
            lead_time = int(lead)
    categories = ", ".join(
        c.strip() for c in text("categories", 300).replace(";", ",").split(",") if c.strip()
    )
    visibility = text("visibility", 12) or "connected"
    if visibility not in VISIBILITIES:
        errors.setdefault("visibility", []).append(_l("Choose who sees the item."))
    customers = [int(c) for c in values.get("customers") or [] if str(c).isdigit()]
    if customers:
        allowed = {cid for cid, _ in customers_of(company_id)}
        if not set(customers) <= allowed:
            errors.setdefault("customers", []).append(
                _l("Only your connected customers can be chosen.")
            )
    if (visibility == CHOSEN and not customers and not customers_kept
            and "customers" not in errors):
        errors.setdefault("customers", []).append(
            _l("Choose at least one customer, or show the item to all your customers.")
        )
    if errors:
        raise FieldErrors(errors)
    assert price is not None
    return ItemInput(
        seller_item_id=seller_item_id, name=name, price=price, currency=currency,
        standard_item_id=standard, description=description, unit_code=unit, tax_percent=tax,
        min_quantity=min_quantity, pack_size=pack_size, availability=availability,
        lead_time_days=lead_time, categories=categories, visibility=visibility,
        published=bool(values.get("published", True)), customers=customers,
    )


def _decimal(
    raw: Any, name: str, *, errors: dict[str, list[Any]], required: bool = False,
    most: Decimal, zero: bool = False, decimal_mark: str | None = ".",
) -> Decimal | None:
    try:
        value = parse_number(raw, decimal_mark=decimal_mark)
    except ValueError:
        errors.setdefault(name, []).append(_l("Give a number, like 1250.50."))
        return None
    if value is None:
        if required:
            errors.setdefault(name, []).append(_l("Give a number."))
        return None
    if value < 0 or (value == 0 and not zero) or value > most:
        errors.setdefault(name, []).append(
            _l("Give a number from 0 to %(most)s.", most=shown_number(most)) if zero
            else _l("Give a number above 0.")
        )
        return None
    return value


def valid_gtin(code: str) -> bool:
    if not code.isdigit() or len(code) not in (8, 12, 13, 14):
        return False
    digits = [int(c) for c in code]
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits[:-1])))
    return (10 - total % 10) % 10 == digits[-1]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# ------------------------------------------------------------------------------------- saving


def save_item(
    company_id: int, values: ItemInput, *, actor: User, item_id: int | None = None
) -> CatalogItem:
    """Create an item, or change one of the supplier's; an item code is the supplier's once."""
    item = own_item(company_id, item_id) if item_id is not None else None
    clash = db.session.scalars(
        select(CatalogItem.id).where(
            CatalogItem.company_id == company_id,
            CatalogItem.seller_item_id == values.seller_item_id,
        )
    ).first()
    if clash is not None and (item is None or clash != item.id):
        raise FieldErrors(
            {"seller_item_id": [_l("Another item of your catalog has this code.")]}
        )
    created = item is None
    if item is None:
        item = CatalogItem(company_id=company_id)
        db.session.add(item)
    before = None if created else (item.price, item.currency)
    _apply(item, values)
    db.session.flush()
    _set_audience(company_id, item, values.customers if values.visibility == CHOSEN else [])
    details: dict[str, Any] = {"code": item.seller_item_id}
    if before is not None and before != (item.price, item.currency):
        details["price"] = {"from": str(before[0]), "to": str(item.price)}
    audit.record_event(actor, company_id, "catalog.item_created" if created
                       else "catalog.item_changed", item, details)
    return item


# The columns an ``ItemInput`` sets on an item.
SAVED = (
    "seller_item_id", "standard_item_id", "name", "description", "unit_code", "price",
    "currency", "tax_percent", "min_quantity", "pack_size", "availability", "lead_time_days",
    "categories", "visibility", "published",
)


def item_columns(values: ItemInput) -> dict[str, Any]:
    """The item's columns as ``values`` sets them (an import writes many rows at once)."""
    columns = {name: getattr(values, name) for name in SAVED}
    columns["updated_at"] = utcnow()
    return columns


def _apply(item: CatalogItem, values: ItemInput) -> None:
    for name, value in item_columns(values).items():
        setattr(item, name, value)


def _set_audience(company_id: int, item: CatalogItem, customers: list[int]) -> None:
    db.session.execute(delete(CatalogAudience).where(CatalogAudience.item_id == item.id))
    for customer in sorted(set(customers)):
        db.session.add(
            CatalogAudience(company_id=company_id, item_id=item.id, customer_company_id=customer)
        )


def delete_item(company_id: int, item_id: int, *, actor: User) -> None:
    item = own_item(company_id, item_id)
    audit.record_event(actor, company_id, "catalog.item_deleted", item,
                       {"code": item.seller_item_id})
    db.session.delete(item)


def set_published(company_id: int, item_ids: list[int], *, published: bool, actor: User) -> int:
    """Publish or withdraw several of the supplier's items at once; return how many changed."""
    items = db.session.scalars(
        select(CatalogItem).where(
            CatalogItem.company_id == company_id, CatalogItem.id.in_(item_ids or [-1])
        )
    ).all()
    changed = [item for item in items if item.published != published]
    for item in changed:
        item.published = published
        item.updated_at = utcnow()
    if changed:
        audit.record_event(actor, company_id, "catalog.published" if published
                           else "catalog.withdrawn", None, {"items": len(changed)})
    return len(changed)


def set_image(company_id: int, item_id: int, data: bytes, *, actor: User) -> CatalogItem:
    """Keep the item's picture: PNG, JPEG or WebP as its bytes say, at most 2 MB."""
    item = own_item(company_id, item_id)
    if not data:
        raise DomainError(_l("The file is empty."), field="image")
    if len(data) > MAX_IMAGE_BYTES:
        raise DomainError(_l("The picture is larger than 2 MB."), field="image")
    kind = sniff_content_type(data)
    if kind not in IMAGE_TYPES:
        raise DomainError(_l("The picture must be a PNG, JPEG or WebP image."), field="image")
    item.image, item.image_type = data, kind
    item.updated_at = utcnow()
    audit.record_event(actor, company_id, "catalog.item_changed", item,
                       {"code": item.seller_item_id, "image": kind})
    return item


def remove_image(company_id: int, item_id: int, *, actor: User) -> None:
    item = own_item(company_id, item_id)
    item.image, item.image_type = None, None
    audit.record_event(actor, company_id, "catalog.item_changed", item,
                       {"code": item.seller_item_id, "image": None})


# ------------------------------------------------------------------------ customer price lists


def add_customer_price(
    company_id: int, item_id: int, *, customer_company_id: int, price: str,
    valid_from: date | None, valid_to: date | None, actor: User, decimal_mark: str = ".",
) -> CustomerPrice:
    """A connected customer's own price for the item, from/to a date (either open); the price
    is text read with ``decimal_mark``."""
    item = own_item(company_id, item_id)
    errors: dict[str, list[Any]] = {}
    if customer_company_id not in {cid for cid, _ in customers_of(company_id)}:
        errors["customer"] = [_l("Only your connected customers can have their own price.")]
    value = _decimal(price, "price", errors=errors, required=True, most=MAX_PRICE, zero=True,
                     decimal_mark=decimal_mark)
    if valid_from and valid_to and valid_to < valid_from:
        errors["valid_to"] = [_l("The price must end on or after the day it starts.")]
    if errors:
        raise FieldErrors(errors)
    assert value is not None
    row = CustomerPrice(company_id=company_id, item_id=item.id,
                        customer_company_id=customer_company_id, price=value,
                        valid_from=valid_from, valid_to=valid_to)
    db.session.add(row)
    db.session.flush()
    audit.record_event(actor, company_id, "catalog.customer_price_set", item,
                       {"code": item.seller_item_id, "customer": customer_company_id,
                        "price": str(value)})
    return row


def remove_customer_price(company_id: int, price_id: int, *, actor: User) -> None:
    row = db.session.scalars(
        select(CustomerPrice).where(CustomerPrice.id == price_id,
                                    CustomerPrice.company_id == company_id)
    ).first()
    if row is None:
        raise NotFound(_l("This price is not in your catalog."))
    audit.record_event(actor, company_id, "catalog.customer_price_removed", None,
                       {"item": row.item_id, "customer": row.customer_company_id})
    db.session.delete(row)
